//! Hostile or broken requests get a 4xx, never a 5xx, and leave the server serving.

use crate::support::*;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{CONNECTION, CONTENT_TYPE};
use serde_json::json;

/// The API's request body limit.
const BODY_LIMIT: usize = 64 * 1024;

/// A server with one user, `vic` / `pw-vic`.
fn server() -> TestServer {
    let server = TestServer::start();
    server.add_user("vic", "pw-vic", &[]);
    server
}

#[track_caller]
fn assert_client_error(response: Response, what: &str) -> StatusCode {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: {status}");
    status
}

fn post_token_body(server: &TestServer, body: Vec<u8>) -> Response {
    server
        .client()
        .post(server.url("/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("POST /token")
}

fn post_item_body(
    server: &TestServer,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> Response {
    let mut request = server
        .request(
            reqwest::Method::POST,
            "/users/me/items/",
            Auth::Bearer(token),
        )
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request.send().expect("POST /users/me/items/")
}

// ----- body size -----

#[test]
fn a_megabyte_password_is_refused_as_too_large() {
    let server = server();
    let password = "x".repeat(1024 * 1024);
    let response = server.token_request(&[("username", "vic"), ("password", &password)]);
    let (status, headers, body) = parts(response);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, json!({"detail": "Request body too large"}));
    // The rest of the body is never read, so the connection cannot carry another
    // request: the answer must say so, or clients reuse it and fail.
    assert_eq!(
        headers.get(CONNECTION).map(|v| v.to_str().unwrap()),
        Some("close")
    );
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn a_form_just_under_the_limit_is_read_and_one_just_over_is_not() {
    let server = server();
    let prefix = "username=vic&password=";
    let under = format!("{prefix}{}", "x".repeat(BODY_LIMIT - prefix.len()));
    assert_eq!(under.len(), BODY_LIMIT);
    assert_error(
        post_token_body(&server, under.into_bytes()),
        401,
        "Incorrect username or password",
        Some("Bearer"),
    );
    let over = format!("{prefix}{}", "x".repeat(BODY_LIMIT + 1 - prefix.len()));
    assert_eq!(
        post_token_body(&server, over.into_bytes()).status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn a_megabyte_item_is_refused_as_too_large() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    let body = json!({"item_id": "big", "description": "d".repeat(1024 * 1024)}).to_string();
    let response = post_item_body(&server, &token, Some("application/json"), &body);
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        response
            .headers()
            .get(CONNECTION)
            .map(|v| v.to_str().unwrap()),
        Some("close")
    );
    let (_, _, items) = parts(server.get("/users/me/items/", Auth::Bearer(&token)));
    assert_eq!(items, json!([]));
    server.assert_still_logs_in("vic", "pw-vic");
}

// ----- malformed forms -----

#[test]
fn malformed_percent_encoding_in_the_form_is_a_client_error() {
    let server = server();
    for body in [
        "username=%zz&password=%",
        "username=vic&password=%zz",
        "%zz=%zz",
        "username=v%ic&password=pw-v%ic%",
    ] {
        assert_client_error(post_token_body(&server, body.as_bytes().to_vec()), body);
    }
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn form_of_separators_only_is_missing_both_fields() {
    let server = server();
    let (status, _, body) = parts(post_token_body(&server, b"&&==&=&".to_vec()));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"][1].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    server.assert_still_logs_in("vic", "pw-vic");
}

// ----- malformed items -----

#[test]
fn item_body_that_is_not_an_object_is_a_422() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    for body in ["[1, 2]", "\"plumbus\"", "42", "null", "true"] {
        let response = post_item_body(&server, &token, Some("application/json"), body);
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn item_fields_of_the_wrong_type_are_a_422() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    for body in [
        json!({"item_id": 5}),
        json!({"item_id": ["a"]}),
        json!({"item_id": null}),
        json!({"item_id": "ok", "description": 7}),
        json!({"item_id": "ok", "description": {"text": "nested"}}),
    ] {
        let response = post_item_body(&server, &token, Some("application/json"), &body.to_string());
        let (status, _, answer) = parts(response);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(answer["detail"].is_array(), "{body}: {answer}");
    }
    let (_, _, items) = parts(server.get("/users/me/items/", Auth::Bearer(&token)));
    assert_eq!(items, json!([]));
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn item_without_a_json_content_type_is_a_client_error() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    let body = json!({"item_id": "x"}).to_string();
    assert_client_error(post_item_body(&server, &token, None, &body), "no type");
    assert_client_error(
        post_item_body(&server, &token, Some("text/plain"), &body),
        "text/plain",
    );
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn item_ids_too_long_or_with_control_characters_are_a_422() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    for id in ["x".repeat(129), "line\nbreak".into(), "nul\u{0}".into()] {
        let body = json!({"item_id": id}).to_string();
        let response = post_item_body(&server, &token, Some("application/json"), &body);
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{id:?}"
        );
    }
    let body = json!({"item_id": "x".repeat(128)}).to_string();
    let response = post_item_body(&server, &token, Some("application/json"), &body);
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json!({"item_id": "long-description", "description": "d".repeat(2001)}).to_string();
    let response = post_item_body(&server, &token, Some("application/json"), &body);
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn deleting_an_item_id_of_invalid_utf8_is_a_client_error() {
    let server = server();
    let token = server.login("vic", "pw-vic", None);
    let response = server
        .request(
            reqwest::Method::DELETE,
            "/users/me/items/%ff%fe",
            Auth::Bearer(&token),
        )
        .send()
        .unwrap();
    assert_client_error(response, "DELETE /users/me/items/%ff%fe");
    server.assert_still_logs_in("vic", "pw-vic");
}

// ----- garbage Authorization headers -----

#[test]
fn bearer_without_a_token_is_not_authenticated() {
    let server = server();
    for value in ["Bearer", "Bearer ", "Basic", ""] {
        assert_error(
            server.get("/users/me/", Auth::Raw(value)),
            401,
            "Not authenticated",
            Some("Bearer"),
        );
    }
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn huge_authorization_headers_are_client_errors() {
    let server = server();
    for size in [16 * 1024, 1024 * 1024] {
        let bearer = format!("Bearer {}", "a".repeat(size));
        assert_client_error(
            server.get("/users/me/", Auth::Raw(&bearer)),
            &format!("{size}-byte Bearer"),
        );
        let basic = format!("Basic {}", "QUFB".repeat(size / 4));
        assert_client_error(
            server.get("/users/me/", Auth::Raw(&basic)),
            &format!("{size}-byte Basic"),
        );
    }
    server.assert_still_logs_in("vic", "pw-vic");
}

#[test]
fn a_long_basic_password_is_refused_without_harm() {
    // The credential (about 43 KiB) fits in a request head only with a raised limit.
    let server = TestServer::start_with(&[("LATCHKEY_MAX_HEADER_KIB", "64")]);
    server.add_user("vic", "pw-vic", &[]);
    let password = "p".repeat(32 * 1024);
    let (status, headers, _) = parts(server.get("/users/me/", Auth::Basic("vic", &password)));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&headers), Some("Basic realm=\"latchkey\""));
    server.assert_still_logs_in("vic", "pw-vic");
}

/// Clients that hang up as soon as a page starts to arrive leave no panic in the
/// log. The profile is read in the browser only (the server never waits for it),
/// and the pages that wait for the server are rendered whole before their first
/// byte: leptos can finish a streamed page after its request is gone, and then
/// panics on what went with it (leptos-rs/leptos#3595).
#[test]
fn pages_whose_clients_hang_up_early_panic_nowhere() {
    use std::io::{Read as _, Write as _};
    let server = TestServer::start();
    let addr = server.addr();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(move || {
                for path in ["/signup", "/profile", "/login"].repeat(150) {
                    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
                    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
                    stream.write_all(request.as_bytes()).expect("send");
                    let _ = stream.read(&mut [0; 16]);
                    // A reset, not a FIN: the server's next write fails at once.
                    let _ =
                        socket2::SockRef::from(&stream).set_linger(Some(std::time::Duration::ZERO));
                }
            });
        }
    });
    assert_eq!(
        server
            .client()
            .get(server.url("/profile"))
            .send()
            .unwrap()
            .status(),
        200
    );
    let logs = server.logs();
    assert!(!logs.contains("panicked"), "{logs}");
}
