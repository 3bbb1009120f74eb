//! Forged access tokens, sent over HTTP to the real server: whatever an attacker
//! changes in a token the server issued, and whatever they sign themselves, every
//! protected route answers FastAPI's `401 {"detail": "Could not validate
//! credentials"}` with its `WWW-Authenticate: Bearer` challenge, never a 5xx.
//!
//! Tokens are built from one the server issued (its header and claims kept, one
//! thing changed), so they keep whatever the server adds to its tokens. Where a
//! case needs a valid signature to mean anything (odd `exp`, `crit`, scopes), it is
//! re-signed with the server's own key: refusal must come from the claim itself.
#![cfg(feature = "ssr")]

mod common;

use std::io::ErrorKind;
use std::net::TcpListener;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::forge::*;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// The FastAPI docs' example `SECRET_KEY`, published for everyone to copy.
const FASTAPI_DOCS_KEY: &str = SHARED_KEY;

/// A server and a token it issued to johndoe with scope `me` only.
fn server_and_token() -> (TestServer, String) {
    let server = attack_server();
    let token = server.login("johndoe", "secret", Some("me"));
    (server, token)
}

/// The three segments of a compact JWT.
fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().expect("a JWT of three segments")
}

/// The header of `token` with `alg` replaced.
fn header_with_alg(token: &str, alg: &str) -> Value {
    let mut header = jwt_segment(token, 0);
    header["alg"] = json!(alg);
    header
}

/// The header of `token` with extra fields merged in.
fn header_with(token: &str, extra: &Value) -> Value {
    let mut header = jwt_segment(token, 0);
    for (name, value) in extra.as_object().expect("header fields") {
        header[name] = value.clone();
    }
    header
}

/// The claims of `token` as JSON text with `name` set to `raw` exactly as written
/// (numbers out of any Rust type's range, duplicate keys), or removed when `None`.
fn raw_claims(token: &str, name: &str, raw: Option<&str>) -> String {
    let claims = claims_with(token, name, None).to_string();
    match raw {
        None => claims,
        Some(raw) => {
            let body = claims.strip_suffix('}').expect("a JSON object");
            let separator = if body.len() > 1 { "," } else { "" };
            format!("{body}{separator}\"{name}\":{raw}}}")
        }
    }
}

/// `token`'s payload replaced by `payload` and signed with the server's own key.
fn resigned_payload(token: &str, payload: &[u8]) -> String {
    let [header, _, _] = segments(token);
    sign_segments(header, &b64(payload), Algorithm::HS256, &server_key())
}

/// Whether the server takes a token it issued once re-signed with its own key
/// (claims unchanged). When it does, a re-signed token it refuses is refused for
/// the one thing changed; when not, every re-signed token is simply invalid.
fn takes_resigned_tokens(server: &TestServer, token: &str) -> bool {
    let control = resigned(token, |_, _| {});
    server.get("/users/me/", Auth::Bearer(&control)).status() == 200
}

// ----- the payload and the signature -----

#[test]
fn payload_changed_under_the_original_signature_is_refused() {
    let (server, token) = server_and_token();
    let [header, _, signature] = segments(&token);
    let exp = jwt_segment(&token, 1)["exp"].as_u64().expect("numeric exp");
    let cases = [
        (
            "sub of another user",
            claims_with(&token, "sub", Some(json!("alice"))),
        ),
        (
            "sub of an unknown user",
            claims_with(&token, "sub", Some(json!("nobody"))),
        ),
        (
            "sub with a trailing space",
            claims_with(&token, "sub", Some(json!("johndoe "))),
        ),
        (
            "scopes widened",
            claims_with(&token, "scopes", Some(json!(["me", "items"]))),
        ),
        (
            "exp a year later",
            claims_with(&token, "exp", Some(json!(exp + 365 * 86400))),
        ),
        ("exp removed", claims_with(&token, "exp", None)),
        (
            "an admin claim added",
            claims_with(&token, "admin", Some(json!(true))),
        ),
    ];
    for (case, claims) in cases {
        let forged = format!("{header}.{}.{signature}", segment(&claims));
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn alg_none_in_any_spelling_is_refused() {
    let (server, token) = server_and_token();
    let [_, payload, signature] = segments(&token);
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
    for raw in [
        r#"{"alg":"HS256","alg":"none","typ":"JWT"}"#,
        r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#,
    ] {
        let forged = format!("{}.{payload}.", b64(raw.as_bytes()));
        assert_token_refused(&server, &forged, &format!("header {raw} unsigned"));
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn header_without_a_plain_algorithm_name_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(&token);
    let mut missing = jwt_segment(&token, 0);
    missing
        .as_object_mut()
        .expect("header object")
        .remove("alg");
    let cases = [
        ("alg missing", missing),
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
        let forged = sign_segments(&segment(&header), payload, Algorithm::HS256, &server_key());
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn empty_truncated_and_borrowed_signatures_are_refused() {
    let (server, token) = server_and_token();
    let other = server.login("johndoe", "secret", Some("me"));
    let [header, payload, signature] = segments(&token);
    let bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
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
    assert_token_works(&server, &token, "the token as issued");
}

// ----- keys and algorithms -----

#[test]
fn tokens_signed_with_weak_or_published_keys_are_refused() {
    let (server, token) = server_and_token();
    let [header, payload, _] = segments(&token);
    let capitals = SERVER_KEY.to_uppercase();
    let hex_decoded = hex::decode(SERVER_KEY).expect("a hex key");
    let with_newline = format!("{SERVER_KEY}\n");
    let keys: [(&str, &[u8]); 12] = [
        ("the FastAPI docs' example key", FASTAPI_DOCS_KEY.as_bytes()),
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
    for (case, key) in keys {
        let forged = sign_segments(header, payload, Algorithm::HS256, &hmac(key));
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn other_algorithms_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(&token);
    let cases = [
        (
            "HS384 with the server key",
            "HS384",
            Algorithm::HS384,
            server_key(),
        ),
        (
            "HS512 with the server key",
            "HS512",
            Algorithm::HS512,
            server_key(),
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
            server_key(),
        ),
        (
            "ES256 header over an HS256 MAC",
            "ES256",
            Algorithm::HS256,
            server_key(),
        ),
        (
            "HS512 header over an HS256 MAC",
            "HS512",
            Algorithm::HS256,
            server_key(),
        ),
    ];
    for (case, alg_name, alg, key) in cases {
        let header = segment(&header_with_alg(&token, alg_name));
        let forged = sign_segments(&header, payload, alg, &key);
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn public_key_used_as_an_hmac_secret_is_refused() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(&token);
    let pem = ATTACKER_RSA_PUBLIC_PEM;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("public key DER");
    let jwk = public_jwk(&attacker_rsa(), Algorithm::RS256).to_string();
    let secrets: [(&str, &[u8]); 4] = [
        ("the PEM", pem.as_bytes()),
        (
            "the PEM without its final newline",
            pem.trim_end().as_bytes(),
        ),
        ("the DER", &der),
        ("the JWK", jwk.as_bytes()),
    ];
    for (what, secret) in secrets {
        for alg_name in ["HS256", "RS256"] {
            let header = segment(&header_with_alg(&token, alg_name));
            let forged = sign_segments(&header, payload, Algorithm::HS256, &hmac(secret));
            assert_token_refused(
                &server,
                &forged,
                &format!("{alg_name} header, HMAC by {what}"),
            );
        }
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn kid_path_and_sql_injection_is_refused() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(&token);
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
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn keys_named_or_embedded_in_the_header_are_neither_trusted_nor_fetched() {
    let (server, token) = server_and_token();
    let [_, payload, _] = segments(&token);
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
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn crit_header_is_refused_even_with_the_real_key() {
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
    ];
    for (case, extra) in cases {
        let forged = resigned(&token, |header, _| {
            for (name, value) in extra.as_object().expect("fields") {
                header[name] = value.clone();
            }
        });
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

// ----- claims, re-signed with the real key -----

#[test]
fn expired_missing_and_odd_typed_exp_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let now = now();
    let future = now + 600;
    let cases: Vec<(&str, Option<String>)> = vec![
        ("expired a second ago", Some((now - 1).to_string())),
        ("expired an hour ago", Some((now - 3600).to_string())),
        ("zero", Some("0".into())),
        ("negative", Some("-1".into())),
        ("most negative i64", Some(i64::MIN.to_string())),
        ("a string of a future time", Some(format!("\"{future}\""))),
        ("a word", Some("\"never\"".into())),
        ("a float in the future", Some(format!("{future}.5"))),
        ("a float with no fraction", Some(format!("{future}.0"))),
        ("exponent notation", Some("1e12".into())),
        ("one past u64", Some("18446744073709551616".into())),
        ("1e20 written out", Some("100000000000000000000".into())),
        ("1e400", Some("1e400".into())),
        ("null", Some("null".into())),
        ("an array", Some(format!("[{future}]"))),
        ("an object", Some(format!("{{\"value\":{future}}}"))),
        ("true", Some("true".into())),
        ("missing", None),
    ];
    for (case, raw) in cases {
        let payload = raw_claims(&token, "exp", raw.as_deref());
        let forged = resigned_payload(&token, payload.as_bytes());
        assert_token_refused(&server, &forged, &format!("exp {case}"));
    }
    // Two `exp` keys, the first expired: a parser keeping the last sees a valid one.
    let claims = raw_claims(&token, "exp", Some(&(now - 3600).to_string()));
    let body = claims.strip_suffix('}').expect("object");
    let duplicated = format!("{body},\"exp\":{future}}}");
    let forged = resigned_payload(&token, duplicated.as_bytes());
    assert_token_refused(&server, &forged, "exp expired then valid");
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn exp_at_the_largest_integer_is_no_server_error() {
    let (server, token) = server_and_token();
    let payload = raw_claims(&token, "exp", Some(&u64::MAX.to_string()));
    let forged = resigned_payload(&token, payload.as_bytes());
    for (path, _) in ROUTES {
        let status = server.get(path, Auth::Bearer(&forged)).status();
        assert!(
            matches!(status.as_u16(), 200 | 401),
            "{path}: exp u64::MAX answered {status}"
        );
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn nbf_in_the_future_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let now = now();
    for (case, nbf) in [
        ("nbf a minute ahead", json!(now + 60)),
        ("nbf a year ahead", json!(now + 365 * 86400)),
        ("nbf a word", json!("tomorrow")),
    ] {
        let forged = resigned(&token, |_, claims| claims["nbf"] = nbf);
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn iat_in_the_future_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let now = now();
    for (case, iat) in [
        ("iat a minute ahead", now + 60),
        ("iat a year ahead", now + 365 * 86400),
    ] {
        let forged = resigned(&token, |_, claims| claims["iat"] = json!(iat));
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn odd_typed_sub_and_scopes_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let cases = [
        ("sub a number", "sub", Some(json!(7))),
        ("sub null", "sub", Some(json!(null))),
        ("sub a list", "sub", Some(json!(["johndoe"]))),
        ("sub empty", "sub", Some(json!(""))),
        ("sub missing", "sub", None),
        ("scopes one string", "scopes", Some(json!("me items"))),
        ("scopes null", "scopes", Some(json!(null))),
        (
            "scopes an object",
            "scopes",
            Some(json!({"me": true, "items": true})),
        ),
        (
            "scopes nested lists",
            "scopes",
            Some(json!([["me", "items"]])),
        ),
        ("scopes numbers", "scopes", Some(json!([1, 2]))),
    ];
    for (case, name, value) in cases {
        let forged = resigned(&token, |_, claims| {
            let claims = claims.as_object_mut().expect("claims object");
            match value {
                Some(value) => claims.insert(name.to_owned(), value),
                None => claims.remove(name),
            };
        });
        assert_token_refused(&server, &forged, case);
    }
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn substring_and_lookalike_scopes_do_not_grant_items() {
    let (server, token) = server_and_token();
    // If the server takes re-signed tokens at all, the scope check itself must
    // refuse; if not, each is refused as invalid. Either way: 401, never the items.
    let detail = if takes_resigned_tokens(&server, &token) {
        "Not enough permissions"
    } else {
        INVALID
    };
    let cases = [
        ("\"item\"", json!(["me", "item"])),
        ("\"ite\"", json!(["me", "ite"])),
        ("\"items \"", json!(["me", "items "])),
        ("\" items\"", json!(["me", " items"])),
        ("\"me items\" as one name", json!(["me items"])),
        ("\"ITEMS\"", json!(["me", "ITEMS"])),
        ("\"Items\"", json!(["me", "Items"])),
        ("\"itemsx\"", json!(["me", "itemsx"])),
        ("\"items\\u0000\"", json!(["me", "items\u{0}"])),
        ("fullwidth \"ｉｔｅｍｓ\"", json!(["me", "ｉｔｅｍｓ"])),
        ("Cyrillic \"іtems\"", json!(["me", "іtems"])),
    ];
    for (case, scopes) in cases {
        let forged = resigned(&token, |_, claims| claims["scopes"] = scopes);
        let response = server.get("/users/me/items/", Auth::Bearer(&forged));
        assert_answer(
            response,
            401,
            detail,
            Some("Bearer scope=\"items me\""),
            &format!("scopes {case}"),
        );
    }
    // OAuth2's own `scope` claim is not latchkey's `scopes`.
    let forged = resigned(&token, |_, claims| claims["scope"] = json!("me items"));
    let response = server.get("/users/me/items/", Auth::Bearer(&forged));
    assert_answer(
        response,
        401,
        detail,
        Some("Bearer scope=\"items me\""),
        "a `scope` claim of \"me items\"",
    );
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn non_json_payloads_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let claims = jwt_segment(&token, 1).to_string();
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let utf16: Vec<u8> = claims.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("null", b"null".to_vec()),
        ("a list", b"[]".to_vec()),
        ("a string", b"\"johndoe\"".to_vec()),
        ("a number", b"42".to_vec()),
        ("an open brace", b"{".to_vec()),
        ("plain text", b"sub=johndoe".to_vec()),
        ("the claims twice", format!("{claims}{claims}").into_bytes()),
        ("the claims and junk", format!("{claims}junk").into_bytes()),
        (
            "the claims with a BOM",
            [b"\xef\xbb\xbf", claims.as_bytes()].concat(),
        ),
        ("the claims in UTF-16", utf16),
        (
            "the claims with a comment",
            format!("/*x*/{claims}").into_bytes(),
        ),
        ("invalid UTF-8", b"{\"sub\":\"\xff\xfe\"}".to_vec()),
        ("5000 nested lists", deep.into_bytes()),
        ("the claims as a list", format!("[{claims}]").into_bytes()),
    ];
    for (case, payload) in cases {
        let forged = resigned_payload(&token, &payload);
        assert_token_refused(&server, &forged, &format!("payload {case}"));
    }
    assert_token_works(&server, &token, "the token as issued");
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
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn extra_missing_and_empty_segments_are_refused() {
    let (server, token) = server_and_token();
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
    assert_token_works(&server, &token, "the token as issued");
}

#[test]
fn huge_tokens_are_refused_without_a_server_error() {
    let (server, token) = server_and_token();
    let attacker = hmac(b"attacker-key");
    let header = jwt_segment(&token, 0);
    let padded = |size: usize| claims_with(&token, "pad", Some(json!("x".repeat(size))));
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
                    INVALID,
                    Some(expected),
                    &format!("{size} on {path}"),
                );
            }
        }
    }
    assert_token_works(&server, &token, "the token as issued");
}
