//! Abuse of the `Authorization` header and of the places a credential might be
//! looked for: whatever is sent, a request is let in only by one well-formed
//! `Bearer` token or `Basic` pair, and is refused with FastAPI's 401 bodies and
//! challenges otherwise, never a 5xx.

use crate::support::forge::*;
use crate::support::*;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};

const NOT_AUTHENTICATED: &str = "Not authenticated";
const INCORRECT: &str = "Incorrect username or password";
const BASIC_CHALLENGE: &str = "Basic realm=\"latchkey\"";

/// A server and a valid token of johndoe with every scope.
fn server_and_token() -> (TestServer, String) {
    let server = attack_server();
    let token = server.login("johndoe", "secret", None);
    (server, token)
}

/// `GET path` with these `Authorization` header values, in order, as raw bytes.
fn get_with_authorizations(server: &TestServer, path: &str, values: &[&[u8]]) -> Response {
    let mut request = server.client().get(server.url(path));
    for value in values {
        let value = HeaderValue::from_bytes(value).expect("a sendable header value");
        request = request.header(AUTHORIZATION, value);
    }
    request.send().expect("GET")
}

/// `Basic` with these raw bytes base64-encoded.
fn basic(raw: &[u8]) -> String {
    format!("Basic {}", STANDARD.encode(raw))
}

/// Asserts a request with these `Authorization` values is refused on every
/// protected route with the detail and the route's challenge of `expected`.
#[track_caller]
fn assert_refused_everywhere(server: &TestServer, values: &[&[u8]], expected: Refusal, case: &str) {
    for (path, token_challenge) in ROUTES {
        let response = get_with_authorizations(server, path, values);
        let (detail, challenge) = match expected {
            Refusal::NotAuthenticated => (NOT_AUTHENTICATED, "Bearer"),
            Refusal::InvalidToken => (INVALID_TOKEN, token_challenge),
            Refusal::BadBasic => (INCORRECT, BASIC_CHALLENGE),
        };
        assert_answer(
            response,
            401,
            detail,
            Some(challenge),
            &format!("{case} on {path}"),
        );
    }
}

/// How FastAPI answers a credential that does not let the request in.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// No usable credential: `Not authenticated`, `Bearer`.
    NotAuthenticated,
    /// A bearer token that is not valid: `Could not validate credentials`.
    InvalidToken,
    /// A Basic credential that is wrong or unreadable.
    BadBasic,
}

// ----- two headers -----

#[test]
fn a_second_authorization_header_never_rescues_a_refused_first() {
    let (server, token) = server_and_token();
    let valid_bearer = format!("Bearer {token}");
    let valid_basic = basic(b"johndoe:secret");
    let wrong_basic = basic(b"johndoe:wrong");
    let cases: [(&str, &str, &str, Refusal); 5] = [
        (
            "junk token, then a valid one",
            "Bearer junk",
            &valid_bearer,
            Refusal::NotAuthenticated,
        ),
        (
            "other scheme, then a valid token",
            "Token x",
            &valid_bearer,
            Refusal::NotAuthenticated,
        ),
        (
            "wrong Basic, then a valid token",
            &wrong_basic,
            &valid_bearer,
            Refusal::NotAuthenticated,
        ),
        (
            "junk token, then valid Basic",
            "Bearer junk",
            &valid_basic,
            Refusal::NotAuthenticated,
        ),
        (
            "empty, then a valid token",
            "Bearer",
            &valid_bearer,
            Refusal::NotAuthenticated,
        ),
    ];
    for (case, first, second, refusal) in cases {
        let values = [first.as_bytes(), second.as_bytes()];
        assert_refused_everywhere(&server, &values, refusal, case);
    }
    // Both in one header, comma-joined, is one junk token.
    let joined = format!("Bearer junk, {valid_bearer}");
    assert_refused_everywhere(
        &server,
        &[joined.as_bytes()],
        Refusal::InvalidToken,
        "comma-joined",
    );
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn two_authorization_headers_are_refused_even_when_the_first_is_valid() {
    let (server, token) = server_and_token();
    let valid_bearer = format!("Bearer {token}");
    let other = server.login("johndoe", "secret", Some("me"));
    let other_bearer = format!("Bearer {other}");
    let valid_basic = basic(b"johndoe:secret");
    for (case, second) in [
        ("a junk token", "Bearer junk"),
        ("another valid token", other_bearer.as_str()),
        ("valid Basic", valid_basic.as_str()),
        ("the same header again", valid_bearer.as_str()),
    ] {
        let response = get_with_authorizations(
            &server,
            "/users/me/",
            &[valid_bearer.as_bytes(), second.as_bytes()],
        );
        let status = response.status();
        assert!(
            matches!(status.as_u16(), 400 | 401),
            "a valid token, then {case}: {status}"
        );
    }
}

// ----- Bearer -----

#[test]
fn bearer_scheme_in_any_case_opens_the_routes() {
    let (server, token) = server_and_token();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {token}");
        let response = get_with_authorizations(&server, "/users/me/", &[value.as_bytes()]);
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
}

#[test]
fn malformed_bearer_values_are_refused() {
    let (server, token) = server_and_token();
    let basic_as_token = format!("Bearer {}", STANDARD.encode("johndoe:secret"));
    let quoted = format!("Bearer \"{token}\"");
    let with_junk = format!("Bearer {token} junk");
    let cases: Vec<(&str, String, Refusal)> = vec![
        (
            "double space before junk",
            "Bearer  x".into(),
            Refusal::InvalidToken,
        ),
        ("a dot", "Bearer .".into(), Refusal::InvalidToken),
        ("null", "Bearer null".into(), Refusal::InvalidToken),
        (
            "undefined",
            "Bearer undefined".into(),
            Refusal::InvalidToken,
        ),
        ("empty quotes", "Bearer \"\"".into(), Refusal::InvalidToken),
        ("a quoted valid token", quoted, Refusal::InvalidToken),
        ("a valid token and junk", with_junk, Refusal::InvalidToken),
        (
            "Basic credentials as a token",
            basic_as_token,
            Refusal::InvalidToken,
        ),
        (
            "only a tab after the scheme",
            "Bearer \t".into(),
            Refusal::NotAuthenticated,
        ),
        (
            "a tab instead of the space",
            format!("Bearer\t{token}"),
            Refusal::NotAuthenticated,
        ),
        (
            "a colon instead of the space",
            format!("Bearer:{token}"),
            Refusal::NotAuthenticated,
        ),
        (
            "an equals sign instead",
            format!("Bearer={token}"),
            Refusal::NotAuthenticated,
        ),
        (
            "a comma instead",
            format!("Bearer,{token}"),
            Refusal::NotAuthenticated,
        ),
        (
            "no separator",
            format!("Bearer{token}"),
            Refusal::NotAuthenticated,
        ),
        ("the token alone", token.clone(), Refusal::NotAuthenticated),
    ];
    for (case, value, refusal) in cases {
        assert_refused_everywhere(&server, &[value.as_bytes()], refusal, case);
    }
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn other_schemes_carrying_valid_credentials_are_not_authenticated() {
    let (server, token) = server_and_token();
    let credentials = STANDARD.encode("johndoe:secret");
    for scheme in [
        "Token",
        "JWT",
        "OAuth",
        "MAC",
        "Negotiate",
        "NTLM",
        "X-Bearer",
        "Bearers",
        "Basics",
    ] {
        for credential in [&token, &credentials] {
            let value = format!("{scheme} {credential}");
            assert_refused_everywhere(
                &server,
                &[value.as_bytes()],
                Refusal::NotAuthenticated,
                &value,
            );
        }
    }
    let digest = r#"Digest username="johndoe", realm="latchkey", response="secret""#;
    assert_refused_everywhere(
        &server,
        &[digest.as_bytes()],
        Refusal::NotAuthenticated,
        "Digest",
    );
    assert_access_works(&server, &token, "johndoe");
}

// ----- Basic -----

#[test]
fn malformed_or_wrong_basic_credentials_are_refused() {
    let server = attack_server();
    let unpadded = format!("Basic {}", STANDARD_NO_PAD.encode("johndoe:secret"));
    let overpadded = format!("{}=", basic(b"johndoe:secret"));
    let encoded = STANDARD.encode("johndoe:secret");
    let split = format!("Basic {} {}", &encoded[..8], &encoded[8..]);
    let cases: Vec<(&str, String)> = vec![
        ("not base64 at all", "Basic !!!not-base64!!!".into()),
        ("base64 of bytes of no text", "Basic //79/Q==".into()),
        ("unpadded base64", unpadded),
        ("one '=' too many", overpadded),
        ("a space inside the base64", split),
        ("base64 of the name only", basic(b"johndoe")),
        ("NUL after the name", basic(b"johndoe\0:secret")),
        ("NUL after the password", basic(b"johndoe:secret\0")),
        ("NUL instead of the colon", basic(b"johndoe\0secret")),
        ("empty name", basic(b":secret")),
        ("empty password", basic(b"johndoe:")),
        ("a colon only", basic(b":")),
        ("the colon moved into the name", basic(b"john:doe:secret")),
        ("the name in Latin-1", basic(b"j\xf6hndoe:secret")),
        ("the password in Latin-1", basic(b"johndoe:s\xe9cret")),
        (
            "a valid token as Basic",
            format!("Basic {}", server.login("johndoe", "secret", None)),
        ),
        (
            "a Cyrillic look-alike name",
            basic("j\u{43e}hndoe:secret".as_bytes()),
        ),
        (
            // As long as the header limit (16 KiB) lets through; longer headers
            // (431): `bad_input` and `http_limits`.
            "an 8 KiB password",
            basic(format!("johndoe:{}", "s".repeat(8 * 1024)).as_bytes()),
        ),
    ];
    for (case, value) in cases {
        assert_refused_everywhere(&server, &[value.as_bytes()], Refusal::BadBasic, case);
    }
    // Without a credential after the scheme there is nothing to check.
    for value in ["Basic ", "Basic\t", "Basic:am9obmRvZTpzZWNyZXQ="] {
        assert_refused_everywhere(
            &server,
            &[value.as_bytes()],
            Refusal::NotAuthenticated,
            value,
        );
    }
    let response = server.get("/users/me/", Auth::Basic("johndoe", "secret"));
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the right Basic credentials"
    );
}

// ----- bytes and places -----

#[test]
fn non_ascii_authorization_bytes_are_not_authenticated() {
    let (server, token) = server_and_token();
    let token_then_latin1 = [format!("Bearer {token}").as_bytes(), b"\xe9"].concat();
    let cases: [(&str, &[u8]); 6] = [
        ("Latin-1 token", b"Bearer caf\xe9"),
        ("UTF-8 token", "Bearer t\u{f6}k\u{e9}n".as_bytes()),
        ("a valid token and a Latin-1 byte", &token_then_latin1),
        ("Latin-1 Basic", b"Basic \xff\xfe"),
        ("Latin-1 scheme", b"B\xe9arer abc"),
        ("bytes of no text at all", b"Bearer \xff\xfe\xfd"),
    ];
    for (case, value) in cases {
        assert_refused_everywhere(&server, &[value], Refusal::NotAuthenticated, case);
    }
    assert_access_works(&server, &token, "johndoe");
}

#[test]
fn credentials_anywhere_but_the_authorization_header_are_ignored() {
    let (server, token) = server_and_token();
    let bearer = format!("Bearer {token}");
    let basic = basic(b"johndoe:secret");
    let headers: [(&str, &str); 7] = [
        ("cookie", &format!("access_token={token}")),
        ("cookie", &format!("Authorization={bearer}")),
        ("x-access-token", &token),
        ("x-authorization", &bearer),
        ("x-forwarded-authorization", &bearer),
        ("proxy-authorization", &bearer),
        ("proxy-authorization", &basic),
    ];
    for (name, value) in headers {
        for (path, _) in ROUTES {
            let response = server
                .client()
                .get(server.url(path))
                .header(HeaderName::from_static(name), value)
                .send()
                .expect("GET");
            assert_answer(
                response,
                401,
                NOT_AUTHENTICATED,
                Some("Bearer"),
                &format!("{name} on {path}"),
            );
        }
    }
    for query in ["access_token", "token", "authorization", "jwt"] {
        for (path, _) in ROUTES {
            let url = format!("{}?{query}={token}", server.url(path));
            let response = server.client().get(url).send().expect("GET");
            assert_answer(
                response,
                401,
                NOT_AUTHENTICATED,
                Some("Bearer"),
                &format!("?{query} on {path}"),
            );
        }
    }
}

#[test]
fn junk_in_other_headers_of_a_login_is_no_server_error() {
    let server = attack_server();
    let cases: [(&str, &[u8]); 5] = [
        ("content-type", b"multipart/form-data; boundary=\xff"),
        (
            "content-type",
            b"application/x-www-form-urlencoded; charset=\xe9",
        ),
        ("content-type", b"\xff\xfe"),
        ("authorization", b"Basic \xff"),
        ("x-forwarded-for", b"\xff, 127.0.0.1"),
    ];
    for (name, value) in cases {
        let response = server
            .client()
            .post(server.url("/token"))
            .header(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value).expect("a sendable value"),
            )
            .body("username=johndoe&password=secret")
            .send()
            .expect("POST /token");
        let status = response.status();
        assert!(!status.is_server_error(), "{name}: {value:?}: {status}");
    }
    server.login("johndoe", "secret", None);
}
