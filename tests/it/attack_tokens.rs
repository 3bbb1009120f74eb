//! Forged access tokens, sent over HTTP to the real server: whatever an attacker
//! changes in a token the server issued, and whatever they sign themselves, every
//! protected route answers FastAPI's `401 {"detail": "Could not validate
//! credentials"}` with its `WWW-Authenticate: Bearer` challenge, never a 5xx.
//!
//! Tokens are built from one the server issued (its header and claims kept, one
//! thing changed), so they keep whatever the server adds to its tokens. Where a
//! case needs a valid signature to mean anything (a header parameter, `typ`,
//! `kid`), it is signed again with the server's own key by `GenuineToken`, which
//! first sees the unchanged token signed again accepted: the refusal must come
//! from the one thing changed. The claims are `attack_token_claims`'s.

use std::io::ErrorKind;
use std::net::TcpListener;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::forge::*;
use crate::support::*;

/// An attack server and a token it issued to johndoe with scope `me` only.
fn server_and_token() -> (TestServer, GenuineToken) {
    let server = attack_server();
    let token = GenuineToken::of_attack_server(&server, Some("me"));
    (server, token)
}

/// The header of `token` with `alg` replaced.
fn header_with_alg(token: &GenuineToken, alg: &str) -> Value {
    with_member(&token.header(), "alg", Some(json!(alg)))
}

/// The header of `token` with extra fields merged in.
fn header_with(token: &GenuineToken, extra: &Value) -> Value {
    let mut header = token.header();
    for (name, value) in extra.as_object().expect("header fields") {
        header[name] = value.clone();
    }
    header
}

// ----- the payload and the signature -----

#[test]
fn payload_changed_under_the_original_signature_is_refused() {
    let (server, token) = server_and_token();
    let [header, _, signature] = segments(token.token());
    let claims = token.claims();
    let exp = claims["exp"].as_u64().expect("numeric exp");
    let iat = claims["iat"].as_u64().expect("numeric iat");
    // Claims a holder of the key could sign: each one, signed again with the real
    // key, is accepted; under the issued token's signature it must not be.
    let signable = [
        ("scopes widened", "scopes", Some(json!(["me", "items"]))),
        ("scopes emptied", "scopes", Some(json!([]))),
        ("exp a year later", "exp", Some(json!(exp + 365 * 86400))),
        ("exp a minute earlier", "exp", Some(json!(exp - 60))),
        ("iat a minute earlier", "iat", Some(json!(iat - 60))),
        ("another jti", "jti", Some(json!("another-token-id"))),
        ("an admin claim added", "admin", Some(json!(true))),
    ];
    for (case, name, value) in signable {
        let edited = with_member(&claims, name, value);
        assert_token_accepted(&server, &token.sign(&token.header(), &edited), case);
        let forged = format!("{header}.{}.{signature}", segment(&edited));
        assert_token_refused(&server, &forged, case);
    }
    // Claims refused whatever signs them: under the original signature as well.
    for (case, name, value) in [
        ("sub of another user", "sub", Some(json!("alice"))),
        ("sub of an unknown user", "sub", Some(json!("nobody"))),
        ("sub with a trailing space", "sub", Some(json!("johndoe "))),
        ("exp removed", "exp", None),
    ] {
        let edited = with_member(&claims, name, value);
        let forged = format!("{header}.{}.{signature}", segment(&edited));
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, token.token(), "johndoe");
}

#[test]
fn alg_none_in_any_spelling_is_refused() {
    let (server, token) = server_and_token();
    let [_, payload, signature] = segments(token.token());
    for alg in ["none", "None", "NONE", "nOnE", "none ", ""] {
        let header = segment(&header_with_alg(&token, alg));
        for (shape, forged) in [
            ("a trailing dot", format!("{header}.{payload}.")),
            ("no trailing dot", format!("{header}.{payload}")),
            (
                "the original signature",
                format!("{header}.{payload}.{signature}"),
            ),
            ("a junk signature", format!("{header}.{payload}.AAAA")),
        ] {
            assert_token_refused(&server, &forged, &format!("alg {alg:?} with {shape}"));
        }
    }
    // Duplicate `alg` keys: a parser that keeps the last sees `none`.
    let kid = kid(token.token());
    for raw in [
        format!(r#"{{"alg":"HS256","alg":"none","typ":"at+jwt","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"none","alg":"HS256","typ":"at+jwt","kid":"{kid}"}}"#),
    ] {
        let forged = format!("{}.{payload}.", b64(raw.as_bytes()));
        assert_token_refused(&server, &forged, &format!("header {raw} unsigned"));
    }
    assert_access_works(&server, token.token(), "johndoe");
}

#[test]
fn header_without_a_plain_algorithm_name_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let cases = [
        ("alg missing", with_member(&token.header(), "alg", None)),
        ("alg null", header_with(&token, &json!({"alg": null}))),
        (
            "alg a list",
            header_with(&token, &json!({"alg": ["HS256"]})),
        ),
        ("alg a number", header_with(&token, &json!({"alg": 256}))),
        (
            "alg an object",
            header_with(&token, &json!({"alg": {"name": "HS256"}})),
        ),
        ("alg lowercase", header_with_alg(&token, "hs256")),
        ("alg with a space", header_with_alg(&token, "HS256 ")),
        ("alg unknown", header_with_alg(&token, "HS1")),
        ("header a list", json!(["HS256"])),
        ("header a string", json!("HS256")),
    ];
    for (case, header) in cases {
        let forged = token.sign(&header, &token.claims());
        assert_token_refused(&server, &forged, case);
    }
}

#[test]
fn empty_truncated_altered_and_borrowed_signatures_are_refused() {
    let (server, token) = server_and_token();
    let other = server.login("johndoe", "secret", Some("me"));
    let [header, payload, signature] = segments(token.token());
    let bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    let mut first_changed = bytes.clone();
    first_changed[0] ^= 0x80;
    let mut last_changed = bytes.clone();
    *last_changed.last_mut().expect("a MAC") ^= 0x01;
    let cases = [
        ("empty signature", String::new()),
        (
            "last character dropped",
            signature[..signature.len() - 1].to_owned(),
        ),
        (
            "half the signature",
            signature[..signature.len() / 2].to_owned(),
        ),
        ("one character", signature[..1].to_owned()),
        ("first 16 bytes of the MAC", b64(&bytes[..16])),
        ("first byte of the MAC", b64(&bytes[..1])),
        ("all zero MAC", b64(&[0u8; 32])),
        ("first bit of the MAC flipped", b64(&first_changed)),
        ("last bit of the MAC flipped", b64(&last_changed)),
        (
            "MAC with a byte appended",
            b64(&[bytes.as_slice(), &[0]].concat()),
        ),
        ("another token's signature", segments(&other)[2].to_owned()),
    ];
    for (case, forged_signature) in cases {
        let forged = format!("{header}.{payload}.{forged_signature}");
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, token.token(), "johndoe");
}

// ----- the header, with the real key -----

#[test]
fn typ_other_than_at_jwt_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    for (case, typ) in [
        ("missing", None),
        ("JWT, as PyJWT writes", Some(json!("JWT"))),
        ("a refresh token's", Some(json!("refresh+jwt"))),
        ("empty", Some(json!(""))),
        ("null", Some(json!(null))),
        ("a list", Some(json!(["at+jwt"]))),
    ] {
        let forged = token.with_header("typ", typ);
        assert_token_refused(&server, &forged, &format!("typ {case}"));
    }
}

#[test]
fn header_parameters_that_point_elsewhere_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let cases = [
        (
            "crit naming an unknown extension",
            json!({"crit": ["x-latchkey-unknown"], "x-latchkey-unknown": true}),
        ),
        (
            "crit b64 false (unencoded payload)",
            json!({"crit": ["b64"], "b64": false}),
        ),
        ("crit naming a claim", json!({"crit": ["exp"]})),
        ("crit empty", json!({"crit": []})),
        ("crit not a list", json!({"crit": "x-latchkey-unknown"})),
        ("a jku", json!({"jku": "http://127.0.0.1:9/jwks.json"})),
        ("an x5u", json!({"x5u": "http://127.0.0.1:9/cert.pem"})),
        (
            "an x5c",
            json!({"x5c": [STANDARD.encode(b"not a certificate")]}),
        ),
        (
            "an embedded jwk",
            json!({"jwk": {"kty": "oct", "k": b64(SERVER_KEY.as_bytes())}}),
        ),
    ];
    for (case, extra) in cases {
        let forged = token.sign(&header_with(&token, &extra), &token.claims());
        assert_token_refused(&server, &forged, case);
    }
    // A header parameter the server does not know, and nothing marks critical, is
    // ignored: the refusals above are for the parameters themselves.
    let unknown = header_with(&token, &json!({"x-latchkey-unknown": true}));
    assert_token_accepted(
        &server,
        &token.sign(&unknown, &token.claims()),
        "x-… header",
    );
}

#[test]
fn a_kid_not_in_the_keyring_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let kid = kid(token.token());
    let mut near = kid.clone();
    let last = near.pop().expect("a kid of some length");
    near.push(if last == '0' { '1' } else { '0' });
    for (case, value) in [
        ("missing", None),
        ("one digit changed", Some(json!(near))),
        ("upper case", Some(json!(kid.to_uppercase()))),
        ("with a space", Some(json!(format!("{kid} ")))),
        ("empty", Some(json!(""))),
        ("null", Some(json!(null))),
        ("a number", Some(json!(0))),
        ("a list of the kid", Some(json!([kid]))),
        ("a path", Some(json!("../../dev/null"))),
    ] {
        if value.as_ref().is_some_and(|v| *v == json!(kid)) {
            continue;
        }
        let forged = token.with_header("kid", value);
        assert_token_refused(&server, &forged, &format!("kid {case}"));
    }
}

// ----- keys and algorithms -----

#[test]
fn tokens_signed_with_weak_or_published_keys_are_refused() {
    let (server, token) = server_and_token();
    let [header, payload, _] = segments(token.token());
    // The same segments signed with the real key are the issued token itself: the
    // cases below differ from it in the key alone.
    assert_eq!(
        sign_segments(header, payload, Algorithm::HS256, &token.key()),
        token.token()
    );
    let capitals = SERVER_KEY.to_uppercase();
    let hex_decoded = hex::decode(SERVER_KEY).expect("a hex key");
    let with_newline = format!("{SERVER_KEY}\n");
    let fastapi_key = fastapi_example_key();
    let mut keys: Vec<(&str, &[u8])> = vec![
        ("another 64-byte key", &[b'z'; 64]),
        ("an empty key", b""),
        ("\"secret\"", b"secret"),
        ("jwt.io's example key", b"your-256-bit-secret"),
        ("\"changeme\"", b"changeme"),
        ("\"password\"", b"password"),
        ("\"latchkey\"", b"latchkey"),
        ("a single zero byte", b"\0"),
        ("the server key in capitals", capitals.as_bytes()),
        ("the server key hex-decoded", &hex_decoded),
        (
            "the server key less its last character",
            &SERVER_KEY.as_bytes()[..63],
        ),
        ("the server key with a newline", with_newline.as_bytes()),
    ];
    if let Some(key) = &fastapi_key {
        keys.push(("the FastAPI docs' example key", key.as_bytes()));
    }
    for (case, key) in keys {
        let forged = sign_segments(header, payload, Algorithm::HS256, &hmac(key));
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, token.token(), "johndoe");
}

#[test]
fn other_algorithms_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(token.token());
    let cases = [
        (
            "HS384 with the server key",
            "HS384",
            Algorithm::HS384,
            token.key(),
        ),
        (
            "HS512 with the server key",
            "HS512",
            Algorithm::HS512,
            token.key(),
        ),
        (
            "RS256 with the attacker's key",
            "RS256",
            Algorithm::RS256,
            attacker_rsa(),
        ),
        (
            "RS512 with the attacker's key",
            "RS512",
            Algorithm::RS512,
            attacker_rsa(),
        ),
        (
            "PS256 with the attacker's key",
            "PS256",
            Algorithm::PS256,
            attacker_rsa(),
        ),
        (
            "ES256 with the attacker's key",
            "ES256",
            Algorithm::ES256,
            attacker_ec(),
        ),
        (
            "EdDSA with the attacker's key",
            "EdDSA",
            Algorithm::EdDSA,
            attacker_ed(),
        ),
        // The header names one algorithm, the signature is made by another.
        (
            "RS256 header over an HS256 MAC",
            "RS256",
            Algorithm::HS256,
            token.key(),
        ),
        (
            "ES256 header over an HS256 MAC",
            "ES256",
            Algorithm::HS256,
            token.key(),
        ),
        (
            "HS512 header over an HS256 MAC",
            "HS512",
            Algorithm::HS256,
            token.key(),
        ),
    ];
    for (case, alg_name, alg, key) in cases {
        let header = segment(&header_with_alg(&token, alg_name));
        let forged = sign_segments(&header, payload, alg, &key);
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, token.token(), "johndoe");
}

/// Key confusion: a server signing with `algorithm` (a public-key algorithm)
/// publishes its public key; HS256 tokens whose HMAC secret is that key, in every
/// form an attacker would try, with the real `kid` and the issued claims, are
/// refused, while the server's own token verifies (with the JWKS, and with the
/// DER made from it, too).
fn assert_public_key_is_no_hmac_secret(algorithm: &str) {
    let server = TestServer::start_with_fastapi_users(&[("LATCHKEY_SIGNING_ALGORITHM", algorithm)]);
    let token = server.login("johndoe", "secret", Some("me"));
    assert_eq!(jwt_segment(&token, 0)["alg"], algorithm);
    let published = jwks(&server);
    verify_with_jwks(&published, &token);
    assert_access_works(&server, &token, "johndoe");
    let jwk = jwk_of(&published, &token);
    let claims = jwt_segment(&token, 1);
    let forms = public_key_as_secrets(jwk);
    // The forms are of the server's key: the issued token verifies with its DER.
    let (_, der) = forms
        .iter()
        .find(|(form, _)| *form == "the DER")
        .expect("a DER form");
    assert_verifies_with_public_key_der(&token, der);
    for (form, secret) in forms {
        for (alg_name, alg) in [
            ("HS256", Algorithm::HS256),
            ("HS384", Algorithm::HS384),
            ("HS512", Algorithm::HS512),
        ] {
            let header = with_member(&jwt_segment(&token, 0), "alg", Some(json!(alg_name)));
            let forged = forge(&header, &claims, alg, &hmac(&secret));
            assert_token_refused(
                &server,
                &forged,
                &format!("{algorithm} server, {alg_name} keyed with {form}"),
            );
        }
    }
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn an_eddsa_servers_public_key_is_no_hmac_secret() {
    assert_public_key_is_no_hmac_secret("EdDSA");
}

#[test]
fn an_rs256_servers_public_key_is_no_hmac_secret() {
    assert_public_key_is_no_hmac_secret("RS256");
}

#[test]
fn kid_path_and_sql_injection_is_refused() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(token.token());
    let kids = [
        json!("../../dev/null"),
        json!("../../../../../../../../dev/null"),
        json!("/dev/null"),
        json!("/proc/self/environ"),
        json!("../../../../etc/passwd"),
        json!("secret.key"),
        json!("' OR 1=1 --"),
        json!("x' UNION SELECT 'attacker-key' --"),
        json!(""),
        json!(0),
        json!(null),
        json!(["../../dev/null"]),
        json!({"$ne": null}),
    ];
    // What the file or query would yield: nothing, or the attacker's own string.
    let keys: [(&str, &[u8]); 2] = [("an empty key", b""), ("\"attacker-key\"", b"attacker-key")];
    for kid in kids {
        let header = segment(&header_with(&token, &json!({"kid": kid})));
        for (key_name, key) in keys {
            let forged = sign_segments(&header, payload, Algorithm::HS256, &hmac(key));
            assert_token_refused(
                &server,
                &forged,
                &format!("kid {kid} signed with {key_name}"),
            );
        }
    }
    assert_access_works(&server, token.token(), "johndoe");
}

#[test]
fn keys_named_or_embedded_in_the_header_are_neither_trusted_nor_fetched() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(token.token());
    // Where jku/x5u point: the server must never connect here.
    let attacker_host = TcpListener::bind("127.0.0.1:0").expect("bind the attacker's host");
    attacker_host.set_nonblocking(true).expect("non-blocking");
    let base = format!("http://{}", attacker_host.local_addr().expect("address"));
    let oct = json!({"kty": "oct", "k": b64(b"attacker-key"), "alg": "HS256"});
    let cases = [
        (
            "embedded RSA jwk",
            json!({"alg": "RS256", "jwk": public_jwk(&attacker_rsa(), Algorithm::RS256)}),
            Algorithm::RS256,
            attacker_rsa(),
        ),
        (
            "embedded EC jwk",
            json!({"alg": "ES256", "jwk": public_jwk(&attacker_ec(), Algorithm::ES256)}),
            Algorithm::ES256,
            attacker_ec(),
        ),
        (
            "embedded Ed25519 jwk",
            json!({"alg": "EdDSA", "jwk": public_jwk(&attacker_ed(), Algorithm::EdDSA)}),
            Algorithm::EdDSA,
            attacker_ed(),
        ),
        (
            "embedded symmetric jwk",
            json!({"alg": "HS256", "jwk": oct}),
            Algorithm::HS256,
            hmac(b"attacker-key"),
        ),
        (
            "jku to the attacker's key set",
            json!({"alg": "RS256", "jku": format!("{base}/jwks.json"), "kid": "attacker"}),
            Algorithm::RS256,
            attacker_rsa(),
        ),
        (
            "jku with an HMAC signature",
            json!({"alg": "HS256", "jku": format!("{base}/jwks.json"), "kid": "attacker"}),
            Algorithm::HS256,
            hmac(b"attacker-key"),
        ),
        (
            "x5u to the attacker's certificate",
            json!({"alg": "RS256", "x5u": format!("{base}/cert.pem")}),
            Algorithm::RS256,
            attacker_rsa(),
        ),
        (
            "x5c of a junk certificate",
            json!({"alg": "RS256", "x5c": [STANDARD.encode(b"not a certificate")]}),
            Algorithm::RS256,
            attacker_rsa(),
        ),
    ];
    for (case, extra, alg, key) in cases {
        let header = segment(&header_with(&token, &extra));
        let forged = sign_segments(&header, payload, alg, &key);
        assert_token_refused(&server, &forged, case);
    }
    match attacker_host.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the server fetched a key from the attacker's host ({peer})"),
        Err(e) => panic!("attacker's host: {e}"),
    }
    assert_access_works(&server, token.token(), "johndoe");
}

// ----- the compact form itself -----

/// Logs in until a token's signature holds `-` or `_`, the characters where
/// base64url and standard base64 differ.
fn token_with_url_safe_characters(server: &TestServer) -> String {
    for _ in 0..40 {
        let token = server.login("johndoe", "secret", Some("me"));
        if segments(&token)[2].contains(['-', '_']) {
            return token;
        }
    }
    panic!("no signature with '-' or '_' in 40 tokens");
}

/// The base64url character whose value differs from `c`'s in the lowest bit.
fn sibling(c: char) -> char {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = ALPHABET
        .iter()
        .position(|&a| a == c as u8)
        .expect("base64url");
    ALPHABET[index ^ 1] as char
}

#[test]
fn base64_padding_alphabet_and_garbage_are_refused() {
    let server = attack_server();
    let token = token_with_url_safe_characters(&server);
    let [header, payload, signature] = segments(&token);
    let standard_signature = signature.replace('-', "+").replace('_', "/");
    let (head, last) = signature.split_at(signature.len() - 1);
    let last = last.chars().next().expect("a last character");
    let mut flipped_case = signature.to_owned();
    let position = flipped_case
        .find(|c: char| c.is_ascii_alphabetic())
        .expect("a letter in the signature");
    let letter = flipped_case.remove(position);
    let swapped = if letter.is_ascii_lowercase() {
        letter.to_ascii_uppercase()
    } else {
        letter.to_ascii_lowercase()
    };
    flipped_case.insert(position, swapped);
    let cases = [
        (
            "signature padded",
            format!("{header}.{payload}.{signature}="),
        ),
        (
            "signature padded twice",
            format!("{header}.{payload}.{signature}=="),
        ),
        ("header padded", format!("{header}=.{payload}.{signature}")),
        (
            "payload padded",
            format!("{header}.{payload}==.{signature}"),
        ),
        (
            "signature in standard base64",
            format!("{header}.{payload}.{standard_signature}"),
        ),
        (
            "signature with non-canonical last bits",
            format!("{header}.{payload}.{head}{}", sibling(last)),
        ),
        (
            "one letter's case flipped",
            format!("{header}.{payload}.{flipped_case}"),
        ),
        (
            "signature with a character appended",
            format!("{header}.{payload}.{signature}A"),
        ),
        (
            "signature with '!' inside",
            format!("{header}.{payload}.{head}!"),
        ),
        (
            "payload with '*' inside",
            format!("{header}.*{payload}.{signature}"),
        ),
        (
            "signature percent-encoded",
            format!(
                "{header}.{payload}.{}",
                signature.replace('-', "%2D").replace('_', "%5F")
            ),
        ),
        (
            "header with a space inside",
            format!("{} {}.{payload}.{signature}", &header[..4], &header[4..]),
        ),
    ];
    for (case, forged) in cases {
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn extra_missing_and_empty_segments_are_refused() {
    let server = attack_server();
    let token = server.login("johndoe", "secret", Some("me"));
    let [header, payload, signature] = segments(&token);
    let cases = [
        ("a fourth empty segment", format!("{token}.")),
        ("a fourth segment", format!("{token}.{signature}")),
        ("a leading segment", format!("{header}.{token}")),
        ("a leading dot", format!(".{token}")),
        (
            "five segments, JWE-shaped",
            format!("{header}.{payload}.{payload}.{payload}.{signature}"),
        ),
        ("header and payload only", format!("{header}.{payload}")),
        ("header only", header.to_owned()),
        ("signature only", signature.to_owned()),
        ("empty header", format!(".{payload}.{signature}")),
        ("empty payload", format!("{header}..{signature}")),
        ("two dots", "..".to_owned()),
        ("the token twice, dot-joined", format!("{token}.{token}")),
        ("the token twice, comma-joined", format!("{token},{token}")),
        ("the token twice, space-joined", format!("{token} {token}")),
    ];
    for (case, forged) in cases {
        assert_token_refused(&server, &forged, case);
    }
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn huge_tokens_are_refused_without_a_server_error() {
    let server = attack_server();
    let token = server.login("johndoe", "secret", Some("me"));
    let attacker = hmac(b"attacker-key");
    let header = jwt_segment(&token, 0);
    let padded = |size: usize| {
        with_member(
            &jwt_segment(&token, 1),
            "pad",
            Some(json!("x".repeat(size))),
        )
    };
    // Small enough for any header limit: the exact FastAPI refusal.
    let eight_kib = forge(&header, &padded(8 * 1024), Algorithm::HS256, &attacker);
    assert_token_refused(&server, &eight_kib, "an 8 KiB token");
    let many_dots = format!("{token}{}", ".".repeat(8 * 1024));
    assert_token_refused(&server, &many_dots, "a token followed by 8192 dots");
    // Larger ones may be refused by the header limit instead: any 4xx but a 5xx.
    for size in [64 * 1024, 512 * 1024] {
        let huge = forge(&header, &padded(size), Algorithm::HS256, &attacker);
        for (path, expected) in ROUTES {
            let response = server.get(path, Auth::Bearer(&huge));
            let status = response.status();
            assert!(
                status.is_client_error(),
                "{size}-byte token on {path}: {status}"
            );
            if status == 401 {
                assert_answer(
                    response,
                    401,
                    INVALID_TOKEN,
                    Some(expected),
                    &format!("{size} on {path}"),
                );
            }
        }
    }
    assert_access_works(&server, &token, "johndoe");
}
