//! The claims of an access token, checked even when the signature is good: every
//! token here is one the server issued with exactly one claim changed, signed
//! again with the server's own key (see `GenuineToken`, which first sees the
//! unchanged token signed again accepted). So each refusal comes from the claim
//! itself, and each test fails if the check it names is taken out of the server.
//! Refused tokens get FastAPI's `401 {"detail": "Could not validate
//! credentials"}` with the route's challenge on every protected route.

use crate::support::forge::*;
use crate::support::*;
use serde_json::json;

/// How far ahead of the server's clock `iat` and `nbf` may be (its leeway).
const LEEWAY_SECONDS: u64 = 30;

/// Seconds kept clear of the leeway's edge on either side, for the time between
/// reading the clock here and the server reading its own.
const CLOCK_MARGIN_SECONDS: u64 = 10;

/// An attack server and a token it issued to johndoe with scope `me` only.
fn server_and_token() -> (TestServer, GenuineToken) {
    let server = attack_server();
    let token = GenuineToken::of_attack_server(&server, Some("me"));
    (server, token)
}

// ----- exp -----

#[test]
fn expired_missing_and_odd_typed_exp_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let now = now();
    let future = now + 600;
    let cases: Vec<(&str, Option<String>)> = vec![
        ("expired a second ago", Some((now - 1).to_string())),
        ("expired a minute ago", Some((now - 60).to_string())),
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
        let forged = token.with_raw_claim("exp", raw.as_deref());
        assert_token_refused(&server, &forged, &format!("exp {case}"));
    }
    // Two `exp` keys, the first expired: a parser keeping the last sees a valid one.
    let claims = with_member(&token.claims(), "exp", Some(json!(now - 3600))).to_string();
    let body = claims.strip_suffix('}').expect("object");
    let duplicated = format!("{body},\"exp\":{future}}}");
    let forged = token.with_payload(duplicated.as_bytes());
    assert_token_refused(&server, &forged, "exp expired then valid");
    // The same claim, still in the future, is accepted: only its value was wrong.
    let later = token.with_raw_claim("exp", Some(&future.to_string()));
    assert_token_accepted(&server, &later, "exp ten minutes ahead");
}

#[test]
fn exp_at_the_largest_integer_is_no_server_error() {
    let (server, token) = server_and_token();
    let forged = token.with_raw_claim("exp", Some(&u64::MAX.to_string()));
    for (path, _) in ROUTES {
        let status = server.get(path, Auth::Bearer(&forged)).status();
        assert!(
            matches!(status.as_u16(), 200 | 401),
            "{path}: exp u64::MAX answered {status}"
        );
    }
    assert_access_works(&server, token.token(), "johndoe");
}

// ----- iat and nbf: the leeway -----

/// Asserts the server takes `claim` (`iat` or `nbf`) up to its leeway ahead of
/// now and refuses it beyond, a year ahead, and as a string.
#[track_caller]
fn assert_allowed_the_leeway_ahead_and_no_more(claim: &str) {
    let (server, token) = server_and_token();
    let within = now() + LEEWAY_SECONDS - CLOCK_MARGIN_SECONDS;
    let accepted = token.with_claim(claim, Some(json!(within)));
    assert_token_accepted(
        &server,
        &accepted,
        &format!("{claim} just inside the leeway"),
    );
    let beyond = now() + LEEWAY_SECONDS + CLOCK_MARGIN_SECONDS;
    let refused = token.with_claim(claim, Some(json!(beyond)));
    assert_token_refused(&server, &refused, &format!("{claim} just past the leeway"));
    for (case, value) in [
        ("a year ahead", json!(now() + 365 * 86400)),
        ("a string of now", json!(now().to_string())),
        ("a word", json!("tomorrow")),
    ] {
        let forged = token.with_claim(claim, Some(value));
        assert_token_refused(&server, &forged, &format!("{claim} {case}"));
    }
}

#[test]
fn iat_is_allowed_the_leeway_ahead_and_no_more_even_with_the_real_key() {
    assert_allowed_the_leeway_ahead_and_no_more("iat");
}

#[test]
fn iat_missing_or_null_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    assert_token_refused(&server, &token.with_claim("iat", None), "iat missing");
    let null = token.with_claim("iat", Some(json!(null)));
    assert_token_refused(&server, &null, "iat null");
}

#[test]
fn nbf_is_allowed_the_leeway_ahead_and_no_more_even_with_the_real_key() {
    assert_allowed_the_leeway_ahead_and_no_more("nbf");
}

// ----- sub and sid: a token speaks for one live session of one user -----

#[test]
fn sid_missing_or_of_the_wrong_type_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let sid = token.claims()["sid"].clone();
    assert!(sid.is_string(), "the issued sid: {sid}");
    for (case, value) in [
        ("missing", None),
        ("null", Some(json!(null))),
        ("a number", Some(json!(7))),
        ("a list of the sid", Some(json!([sid]))),
        ("an object holding the sid", Some(json!({"id": sid}))),
    ] {
        let forged = token.with_claim("sid", value);
        assert_token_refused(&server, &forged, &format!("sid {case}"));
    }
}

#[test]
fn a_session_speaks_only_for_its_own_user_even_with_the_real_key() {
    let (server, token) = server_and_token();
    server.add_user("nina", "pw-nina", &[]);
    let nina = server.login("nina", "pw-nina", Some("me"));
    let ninas_sid = jwt_segment(&nina, 1)["sid"].clone();
    let other_johndoe = server.login("johndoe", "secret", Some("me"));
    let johndoes_other_sid = jwt_segment(&other_johndoe, 1)["sid"].clone();
    // Positive controls: a key holder may name any live session of the user named.
    let other_session = token.with_claim("sid", Some(johndoes_other_sid));
    assert_access_works(&server, &other_session, "johndoe");
    let ninas = token.resigned(|_, claims| {
        claims["sub"] = json!("nina");
        claims["sid"] = ninas_sid.clone();
    });
    assert_access_works(&server, &ninas, "nina");
    // One of the two changed: the session is not the user's.
    let ninas_session = token.with_claim("sid", Some(ninas_sid.clone()));
    assert_token_refused(&server, &ninas_session, "johndoe with nina's live session");
    let as_nina = token.with_claim("sub", Some(json!("nina")));
    assert_token_refused(&server, &as_nina, "nina with johndoe's session");
    let as_nobody = token.with_claim("sub", Some(json!("nobody")));
    assert_token_refused(
        &server,
        &as_nobody,
        "an unknown user with johndoe's session",
    );
}

#[test]
fn an_unknown_or_ended_sid_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let other = server.login_tokens("johndoe", "secret", Some("me"));
    let other_sid = jwt_segment(&other.access, 1)["sid"].clone();
    let with_other_sid = token.with_claim("sid", Some(other_sid.clone()));
    assert_token_accepted(&server, &with_other_sid, "the other live session's sid");
    assert_eq!(server.logout(&other.access).status(), 204);
    assert_token_refused(&server, &with_other_sid, "the sid of a session logged out");

    let sid = token.claims()["sid"]
        .as_str()
        .expect("a string sid")
        .to_owned();
    let mut unknown = sid.clone();
    let last = unknown.pop().expect("a sid of some length");
    unknown.push(if last == '0' { '1' } else { '0' });
    for (case, value) in [
        ("one character changed", unknown),
        ("empty", String::new()),
        ("doubled", format!("{sid}{sid}")),
        ("upper case", sid.to_uppercase()),
    ] {
        if value == sid {
            continue;
        }
        let forged = token.with_claim("sid", Some(json!(value)));
        assert_token_refused(&server, &forged, &format!("sid {case}"));
    }
    assert_access_works(&server, token.token(), "johndoe");
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
        let forged = token.with_claim(name, value);
        assert_token_refused(&server, &forged, case);
    }
}

#[test]
fn substring_and_lookalike_scopes_do_not_grant_items() {
    let (server, token) = server_and_token();
    // The positive control: granted `items` by a key holder, the token opens them.
    let widened = token.with_claim("scopes", Some(json!(["me", "items"])));
    assert_eq!(
        server
            .get("/users/me/items/", Auth::Bearer(&widened))
            .status(),
        200
    );
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
        let forged = token.with_claim("scopes", Some(scopes));
        let response = server.get("/users/me/items/", Auth::Bearer(&forged));
        assert_answer(
            response,
            401,
            "Not enough permissions",
            Some(ITEMS_CHALLENGE),
            &format!("scopes {case}"),
        );
    }
    // OAuth2's own `scope` claim is not latchkey's `scopes`.
    let forged = token.with_claim("scope", Some(json!("me items")));
    let response = server.get("/users/me/items/", Auth::Bearer(&forged));
    assert_answer(
        response,
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
        "a `scope` claim of \"me items\"",
    );
}

// ----- iss and aud -----

#[test]
fn iss_or_aud_the_server_does_not_expect_is_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    for (claim, value) in [("iss", "https://login.example"), ("aud", "items-api")] {
        let forged = token.with_claim(claim, Some(json!(value)));
        assert_token_refused(&server, &forged, &format!("{claim} {value}"));
    }
}

#[test]
fn a_configured_issuer_and_audience_are_required_even_with_the_real_key() {
    let server = TestServer::start_with_fastapi_users(&[
        ("LATCHKEY_SECRET_KEY", SERVER_KEY),
        ("LATCHKEY_TOKEN_ISSUER", "https://login.example"),
        ("LATCHKEY_TOKEN_AUDIENCE", "items-api"),
    ]);
    let token = GenuineToken::of_attack_server(&server, Some("me"));
    for (case, claim, value) in [
        ("iss missing", "iss", None),
        (
            "iss of another issuer",
            "iss",
            Some(json!("https://other.example")),
        ),
        (
            "iss with a trailing slash",
            "iss",
            Some(json!("https://login.example/")),
        ),
        ("aud missing", "aud", None),
        ("aud of another audience", "aud", Some(json!("other-api"))),
        ("aud a list without it", "aud", Some(json!(["other-api"]))),
    ] {
        let forged = token.with_claim(claim, value);
        assert_token_refused(&server, &forged, case);
    }
}

// ----- the payload as a whole -----

#[test]
fn non_json_payloads_are_refused_even_with_the_real_key() {
    let (server, token) = server_and_token();
    let claims = token.claims().to_string();
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
        let forged = token.with_payload(&payload);
        assert_token_refused(&server, &forged, &format!("payload {case}"));
    }
}
