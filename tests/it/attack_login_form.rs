//! Abuse of the login form of `POST /token` (and of the same check behind HTTP
//! Basic): look-alike names and passwords never log in as someone else, broken or
//! oversized bodies are refused with a 4xx, never a 5xx, and the server keeps
//! serving.

use crate::support::forge::*;
use crate::support::raw_http::{assert_too_large, post_big_body};
use crate::support::*;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::CONTENT_TYPE;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";
const INCORRECT: &str = "Incorrect username or password";
const BASIC_CHALLENGE: &str = "Basic realm=\"latchkey\"";

/// 10 MB: far over the API's body limit.
const TEN_MB: usize = 10 * 1024 * 1024;

fn post_token(server: &TestServer, content_type: Option<&str>, body: Vec<u8>) -> Response {
    let mut request = server.client().post(server.url("/token")).body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request.send().expect("POST /token")
}

fn post_form(server: &TestServer, body: &str) -> Response {
    post_token(server, Some(FORM), body.as_bytes().to_vec())
}

// ----- look-alikes -----

#[test]
fn lookalike_usernames_do_not_log_in_as_johndoe() {
    let server = attack_server();
    let cases = [
        ("Cyrillic o", "j\u{43e}hndoe"),
        ("Cyrillic e", "johnd\u{43e}\u{435}"),
        (
            "fullwidth",
            "\u{ff4a}\u{ff4f}\u{ff48}\u{ff4e}\u{ff44}\u{ff4f}\u{ff45}",
        ),
        ("one fullwidth letter", "\u{ff4a}ohndoe"),
        ("trailing space", "johndoe "),
        ("leading space", " johndoe"),
        ("trailing tab", "johndoe\t"),
        ("trailing newline", "johndoe\n"),
        ("capitals", "JOHNDOE"),
        ("capital initial", "Johndoe"),
        ("zero-width space", "john\u{200b}doe"),
        ("soft hyphen", "john\u{ad}doe"),
        ("combining accent", "jo\u{301}hndoe"),
        ("trailing NUL", "johndoe\0"),
        ("inner NUL", "john\0doe"),
        ("SQL comment", "johndoe'--"),
        ("SQL tautology", "' OR '1'='1"),
        ("LIKE wildcard", "john%"),
        ("LIKE single wildcard", "johnd_e"),
        ("glob", "john*"),
    ];
    for (case, username) in cases {
        let response = server.login_attempt(username, "secret");
        assert_answer(
            response,
            401,
            INCORRECT,
            Some("Bearer"),
            &format!("/token {case}"),
        );
        let response = server.get("/users/me/", Auth::Basic(username, "secret"));
        assert_answer(
            response,
            401,
            INCORRECT,
            Some(BASIC_CHALLENGE),
            &format!("Basic {case}"),
        );
    }
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn lookalike_passwords_do_not_log_in() {
    let server = attack_server();
    let cases = [
        ("capital initial", "Secret"),
        ("capitals", "SECRET"),
        ("trailing space", "secret "),
        ("leading space", " secret"),
        ("trailing newline", "secret\n"),
        ("trailing NUL", "secret\0"),
        ("inner NUL", "sec\0ret"),
        ("one letter short", "secre"),
        ("one letter long", "secrets"),
        (
            "fullwidth",
            "\u{ff53}\u{ff45}\u{ff43}\u{ff52}\u{ff45}\u{ff54}",
        ),
        ("Cyrillic s", "\u{455}ecret"),
        ("zero-width space", "sec\u{200b}ret"),
        ("another user's password", "secretalice"),
        ("the username", "johndoe"),
        ("the stored hash", JOHNDOE_HASH),
    ];
    for (case, password) in cases {
        let response = server.login_attempt("johndoe", password);
        assert_answer(
            response,
            401,
            INCORRECT,
            Some("Bearer"),
            &format!("/token {case}"),
        );
        let response = server.get("/users/me/", Auth::Basic("johndoe", password));
        assert_answer(
            response,
            401,
            INCORRECT,
            Some(BASIC_CHALLENGE),
            &format!("Basic {case}"),
        );
    }
    server.assert_still_logs_in("johndoe", "secret");
}

/// A server with `legacy`, imported with a bcrypt hash of `password`.
fn server_with_bcrypt_user(password: &str) -> TestServer {
    let server = attack_server();
    let hash = bcrypt::hash(password, 4).expect("bcrypt hash");
    let output = server.import(
        "legacy.json",
        &json!([{"username": "legacy", "hashed_password": hash}]),
    );
    assert!(output.status.success(), "{output:?}");
    server
}

#[test]
fn a_nul_inside_a_bcrypt_password_does_not_end_it() {
    let server = server_with_bcrypt_user("legacy-pw");
    for password in ["legacy-pw\0", "legacy-pw\0anything", "legacy-p\0"] {
        let response = server.login_attempt("legacy", password);
        assert_answer(
            response,
            401,
            INCORRECT,
            Some("Bearer"),
            &format!("{password:?}"),
        );
    }
    server.login("legacy", "legacy-pw", None);
}

#[test]
fn a_bcrypt_password_repeated_after_a_nul_does_not_log_in() {
    let server = server_with_bcrypt_user("legacy-pw");
    let response =
        server.token_request(&[("username", "legacy"), ("password", "legacy-pw\0legacy-pw")]);
    assert_answer(response, 401, INCORRECT, Some("Bearer"), "P\\0P");
    server.login("legacy", "legacy-pw", None);
}

#[test]
fn a_long_bcrypt_password_is_not_matched_by_its_first_72_bytes() {
    // A bcrypt hash holds only the first 72 bytes, so it cannot tell the real long
    // password from an impostor sharing them: both are refused (the operator sets
    // a new password), and the hash is never replaced by one of the impostor's.
    let password = format!("{}-the-rest-matters", "p".repeat(72));
    let server = server_with_bcrypt_user(&password);
    let impostor = format!("{}-something-else", &password[..72]);
    for (case, attempt) in [("impostor", &impostor), ("the long original", &password)] {
        let response = server.login_attempt("legacy", attempt);
        assert_answer(response, 401, INCORRECT, Some("Bearer"), case);
    }
    let stored = server.stored_password_hash("legacy").unwrap();
    assert!(stored.starts_with("$2"), "rehashed: {stored}");
}

// ----- missing, misnamed and repeated fields -----

#[test]
fn misnamed_fields_are_missing() {
    let server = attack_server();
    let both = json!({"detail": [missing_field("username"), missing_field("password")]});
    let cases = [
        (
            "capitalised names",
            "Username=johndoe&Password=secret",
            both.clone(),
        ),
        ("short names", "user=johndoe&pass=secret", both.clone()),
        (
            "PHP-style lists",
            "username[]=johndoe&password[]=secret",
            both.clone(),
        ),
        (
            "names with a space",
            "username%20=johndoe&password%20=secret",
            both.clone(),
        ),
        (
            "names with a NUL",
            "username%00=johndoe&password%00=secret",
            both.clone(),
        ),
        (
            "dotted names",
            "form.username=johndoe&form.password=secret",
            both.clone(),
        ),
        ("only grant_type", "grant_type=password", both.clone()),
        (
            "only a password",
            "password=secret",
            json!({"detail": [missing_field("username")]}),
        ),
        (
            "only a username",
            "username=johndoe",
            json!({"detail": [missing_field("password")]}),
        ),
    ];
    for (case, body, expected) in cases {
        let (status, _, answer) = parts(post_form(&server, body));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {answer}");
        assert_eq!(answer, expected, "{case}");
    }
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn credentials_in_the_query_string_do_not_log_in() {
    let server = attack_server();
    let response = server
        .client()
        .post(server.url("/token?username=johndoe&password=secret&grant_type=password"))
        .header(CONTENT_TYPE, FORM)
        .body("")
        .send()
        .expect("POST /token?...");
    let (status, _, body) = parts(response);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body,
        json!({"detail": [missing_field("username"), missing_field("password")]})
    );
}

#[test]
fn json_bodies_never_log_in() {
    let server = attack_server();
    let credentials = json!({"username": "johndoe", "password": "secret"}).to_string();
    let nested = json!({"username": ["johndoe"], "password": {"value": "secret"}}).to_string();
    let both = json!({"detail": [missing_field("username"), missing_field("password")]});
    for (case, content_type, body) in [
        ("as JSON", Some("application/json"), &credentials),
        (
            "as JSON with a charset",
            Some("application/json; charset=utf-8"),
            &credentials,
        ),
        ("labelled a form", Some(FORM), &credentials),
        ("without a content type", None, &credentials),
        ("as text", Some("text/plain"), &credentials),
        ("nested values", Some("application/json"), &nested),
    ] {
        let (status, _, answer) =
            parts(post_token(&server, content_type, body.clone().into_bytes()));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {answer}");
        assert_eq!(answer, both, "{case}");
    }
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn repeated_fields_take_the_last_value_as_fastapi_does() {
    let server = attack_server();
    // The last username wins, whatever came first.
    let response = post_form(&server, "username=johndoe&username=nobody&password=secret");
    assert_answer(
        response,
        401,
        INCORRECT,
        Some("Bearer"),
        "johndoe then nobody",
    );
    let (status, _, body) = parts(post_form(
        &server,
        "username=alice&username=johndoe&password=secret",
    ));
    assert_eq!(status, StatusCode::OK, "alice then johndoe: {body}");
    let token = body["access_token"].as_str().expect("a token");
    assert_eq!(server.me(token)["username"], "johndoe");
    // So does the last password.
    let response = post_form(&server, "username=johndoe&password=secret&password=wrong");
    assert_answer(
        response,
        401,
        INCORRECT,
        Some("Bearer"),
        "secret then wrong",
    );
    // An empty last value is a missing field, not a fallback to an earlier one.
    let (status, _, body) = parts(post_form(
        &server,
        "username=johndoe&username=&password=secret",
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body, json!({"detail": [missing_field("username")]}));
    // And the last scope: asking `me` last grants only `me`.
    let (status, _, body) = parts(post_form(
        &server,
        "username=johndoe&password=secret&scope=me+items&scope=me",
    ));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");
    // Multipart reads the same way.
    let (content_type, multipart_body) = multipart(&[
        ("username", b"johndoe"),
        ("password", b"secret"),
        ("username", b"nobody"),
    ]);
    let response = post_token(&server, Some(&content_type), multipart_body);
    assert_answer(
        response,
        401,
        INCORRECT,
        Some("Bearer"),
        "multipart johndoe then nobody",
    );
}

#[test]
fn unknown_or_lookalike_scope_names_are_refused_at_login() {
    let server = attack_server();
    for scope in [
        "item",
        "ite",
        "ITEMS",
        "Me",
        "me,items",
        "me+items",
        "items\0",
        "\u{ff49}tems",
        "admin",
        "me items admin",
    ] {
        let (status, headers, body) = parts(server.token_request(&[
            ("username", "johndoe"),
            ("password", "secret"),
            ("scope", scope),
        ]));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope:?}: {body}");
        assert!(body.get("access_token").is_none(), "{scope:?}: {body}");
        let detail = body["detail"].as_str().expect("a string detail");
        assert!(detail.starts_with("Unknown scope: "), "{scope:?}: {detail}");
        assert_eq!(challenge(&headers), None, "{scope:?}");
    }
    // Whitespace only separates names.
    for (scope, granted) in [
        ("items ", "items"),
        ("  me", "me"),
        ("me\titems", "me items"),
        ("me  items", "me items"),
        ("items me items", "me items"),
    ] {
        let body = server.login_response("johndoe", "secret", Some(scope));
        assert_eq!(body["scope"], granted, "{scope:?}");
    }
}

#[test]
fn grant_types_other_than_password_are_refused() {
    let server = attack_server();
    for grant_type in [
        "Password",
        "PASSWORD",
        "password ",
        " password",
        "password\0",
        "passwords",
        "client_credentials",
        // (refresh_token is a grant latchkey takes: see `refresh_and_revocation`)
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let (status, _, body) = parts(server.token_request(&[
            ("grant_type", grant_type),
            ("username", "johndoe"),
            ("password", "secret"),
        ]));
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{grant_type:?}: {body}"
        );
        assert_eq!(
            body["detail"][0]["type"], "string_pattern_mismatch",
            "{grant_type:?}"
        );
        assert_eq!(body["detail"][0]["input"], grant_type, "{grant_type:?}");
    }
}

// ----- bytes that are not text -----

#[test]
fn nul_bytes_anywhere_in_the_form_do_not_log_in() {
    let server = attack_server();
    let cases: [(&str, &[u8]); 4] = [
        (
            "encoded after the username",
            b"username=johndoe%00&password=secret",
        ),
        (
            "raw after the username",
            b"username=johndoe\0&password=secret",
        ),
        (
            "raw after the password",
            b"username=johndoe&password=secret\0",
        ),
        (
            "encoded inside the password",
            b"username=johndoe&password=sec%00ret",
        ),
    ];
    for (case, body) in cases {
        let response = post_token(&server, Some(FORM), body.to_vec());
        assert_answer(response, 401, INCORRECT, Some("Bearer"), case);
    }
    // A NUL in place of `&` leaves one field holding the rest.
    let (status, _, body) = parts(post_token(
        &server,
        Some(FORM),
        b"username=johndoe\0password=secret".to_vec(),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body, json!({"detail": [missing_field("password")]}));
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn invalid_utf8_is_a_client_error_in_every_encoding() {
    let server = attack_server();
    let form_cases: [(&str, &[u8]); 7] = [
        (
            "raw bytes of no text after the password",
            b"username=johndoe&password=secret\xff\xfe\x80",
        ),
        (
            "encoded bytes of no text after the password",
            b"username=johndoe&password=secret%ff%fe",
        ),
        ("overlong 'o'", b"username=j%C1%AFhndoe&password=secret"),
        ("overlong NUL", b"username=johndoe%C0%80&password=secret"),
        (
            "lone surrogate",
            b"username=johndoe%ED%A0%80&password=secret",
        ),
        (
            "beyond U+10FFFF",
            b"username=johndoe%F4%90%80%80&password=secret",
        ),
        (
            "truncated sequence",
            b"username=johndoe%E2%82&password=secret",
        ),
    ];
    for (case, body) in form_cases {
        let status = post_token(&server, Some(FORM), body.to_vec()).status();
        assert!(status.is_client_error(), "form {case}: {status}");
    }
    let bad_username: [(&str, &[u8]); 2] = [("username", b"john\xffdoe"), ("password", b"secret")];
    let bad_password: [(&str, &[u8]); 2] =
        [("username", b"johndoe"), ("password", b"secr\xc3\x28t")];
    let mut bad_name = multipart(&[("password", b"secret")]);
    let mut named =
        format!("--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"user")
            .into_bytes();
    named.extend_from_slice(b"\xc0name\"\r\n\r\njohndoe\r\n");
    named.append(&mut bad_name.1);
    bad_name.1 = named;
    for (case, (content_type, body)) in [
        ("username", multipart(&bad_username)),
        ("password", multipart(&bad_password)),
        ("field name", bad_name),
    ] {
        let status = post_token(&server, Some(&content_type), body).status();
        assert!(status.is_client_error(), "multipart {case}: {status}");
    }
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn broken_multipart_bodies_are_client_errors() {
    let server = attack_server();
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "no boundary",
            "multipart/form-data".into(),
            b"--x\r\n\r\n".to_vec(),
        ),
        (
            "empty boundary",
            "multipart/form-data; boundary=".into(),
            b"--\r\n".to_vec(),
        ),
        (
            "empty body",
            "multipart/form-data; boundary=x".into(),
            Vec::new(),
        ),
        (
            "wrong boundary",
            "multipart/form-data; boundary=y".into(),
            multipart(&[("username", b"johndoe")]).1,
        ),
        (
            "part without a name",
            "multipart/form-data; boundary=x".into(),
            b"--x\r\nContent-Disposition: form-data\r\n\r\njohndoe\r\n--x--\r\n".to_vec(),
        ),
        (
            "body cut short",
            "multipart/form-data; boundary=x".into(),
            b"--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\njohn".to_vec(),
        ),
        (
            "part without headers",
            "multipart/form-data; boundary=x".into(),
            b"--x\r\n\r\njohndoe\r\n--x--\r\n".to_vec(),
        ),
    ];
    for (case, content_type, body) in cases {
        let status = post_token(&server, Some(&content_type), body).status();
        assert!(status.is_client_error(), "{case}: {status}");
    }
    // Just under the body limit: 900 parts of no use, then no credentials.
    let many_parts: Vec<(&str, &[u8])> = (0..900).map(|_| ("x", &b""[..])).collect();
    let (content_type, body) = multipart(&many_parts);
    let (status, _, answer) = parts(post_token(&server, Some(&content_type), body));
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "900 parts: {answer}"
    );
    assert_eq!(
        answer,
        json!({"detail": [missing_field("username"), missing_field("password")]})
    );
    server.assert_still_logs_in("johndoe", "secret");
}

// ----- size -----

#[test]
fn megabyte_fields_of_every_name_are_refused_as_too_large() {
    let server = attack_server();
    let big = "x".repeat(1024 * 1024);
    let big = big.as_str();
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        ("username", vec![("username", big), ("password", "secret")]),
        (
            "scope",
            vec![
                ("username", "johndoe"),
                ("password", "secret"),
                ("scope", big),
            ],
        ),
        (
            "grant_type",
            vec![
                ("grant_type", big),
                ("username", "johndoe"),
                ("password", "secret"),
            ],
        ),
        (
            "client_secret",
            vec![
                ("username", "johndoe"),
                ("password", "secret"),
                ("client_secret", big),
            ],
        ),
        (
            "field name",
            vec![(big, "x"), ("username", "johndoe"), ("password", "secret")],
        ),
    ];
    for (case, form) in cases {
        let response = server.token_request(&form);
        assert_answer(response, 413, "Request body too large", None, case);
    }
    let (content_type, body) = multipart(&[("username", big.as_bytes()), ("password", b"secret")]);
    let response = post_token(&server, Some(&content_type), body);
    assert_answer(
        response,
        413,
        "Request body too large",
        None,
        "multipart username",
    );
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn a_form_of_twenty_thousand_empty_fields_still_reads_the_credentials() {
    let server = attack_server();
    // Just under the body limit: 21,000 empty fields, then the real ones.
    let mut body = "a=&".repeat(21_000);
    body.push_str("username=johndoe&password=secret");
    let (status, _, answer) = parts(post_form(&server, &body));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "bearer");
}

#[test]
fn a_ten_megabyte_multipart_body_to_token_is_refused_as_too_large() {
    // (Forms of any size and encoding: `http_limits`.)
    let server = attack_server();
    let (content_type, head) = multipart(&[("username", b"johndoe")]);
    let mut prefix = head
        .strip_suffix(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes())
        .expect("closing boundary")
        .to_vec();
    prefix.extend_from_slice(
        format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n"
        )
        .as_bytes(),
    );
    let multipart_type = [("Content-Type", content_type.as_str())];
    let answer = post_big_body(&server, "/token", &multipart_type, &prefix, TEN_MB, false);
    assert_too_large(&answer.expect("an answer"), "multipart");
    server.assert_still_logs_in("johndoe", "secret");
}

#[test]
fn ten_megabyte_items_are_refused_and_not_stored() {
    let server = attack_server();
    let token = server.login("johndoe", "secret", None);
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", bearer.as_str()),
    ];
    let prefix = br#"{"item_id":"big","description":""#;
    for chunked in [false, true] {
        let answer = post_big_body(
            &server,
            "/users/me/items/",
            &headers,
            prefix,
            TEN_MB,
            chunked,
        );
        let case = format!("item, chunked: {chunked}");
        assert_too_large(&answer.expect("an answer"), &case);
    }
    // Without credentials the body is refused as well, and nothing is stored.
    let anonymous = [("Content-Type", "application/json")];
    let answer = post_big_body(
        &server,
        "/users/me/items/",
        &anonymous,
        prefix,
        TEN_MB,
        false,
    );
    let answer = answer.expect("an answer");
    assert!(matches!(answer.status, 401 | 413), "anonymous: {answer:?}");
    let (status, _, items) = parts(server.get("/users/me/items/", Auth::Bearer(&token)));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items, json!([]));
    server.assert_still_logs_in("johndoe", "secret");
}
