//! Strict-Transport-Security only when configured, and CORS closed unless the
//! configuration lists the origins allowed to call the JSON API.

use crate::support::*;
use reqwest::Method;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::HeaderMap;

const APP: &str = "https://app.example.com";
const OTHER: &str = "https://evil.example.net";

fn allowlisted() -> TestServer {
    TestServer::start_with(&[(
        "LATCHKEY_CORS_ALLOWED_ORIGINS",
        r#"["https://app.example.com", "http://localhost:5173"]"#,
    )])
}

/// A browser's preflight before `method` to `path` with an `Authorization` and a
/// `Content-Type` header.
fn preflight(server: &TestServer, path: &str, origin: &str, method: &str) -> Response {
    server
        .client()
        .request(Method::OPTIONS, server.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .expect("OPTIONS")
}

fn get_from(server: &TestServer, path: &str, origin: &str, auth: Auth<'_>) -> Response {
    server
        .request(Method::GET, path, auth)
        .header("Origin", origin)
        .send()
        .expect("GET")
}

/// Browsers let a page read an answer only if it names the page's origin in
/// `Access-Control-Allow-Origin`; the methods and headers of a preflight answer
/// alone allow nothing.
#[track_caller]
fn assert_origin_not_allowed(headers: &HeaderMap, what: &str) {
    assert_eq!(
        header_value(headers, "access-control-allow-origin"),
        None,
        "{what}"
    );
    assert_eq!(
        header_value(headers, "access-control-allow-credentials"),
        None,
        "{what}"
    );
}

#[track_caller]
fn assert_no_cors(headers: &HeaderMap, what: &str) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-allow"))
        .collect();
    assert!(cors.is_empty(), "{what}: {cors:?}");
}

// ----- HSTS -----

#[test]
fn no_strict_transport_security_by_default() {
    let server = TestServer::start();
    for path in ["/login", "/users/me/", "/openapi.json", "/docs/", "/nope"] {
        let response = server.get(path, Auth::None);
        assert_eq!(
            header_value(response.headers(), "strict-transport-security"),
            None,
            "{path}"
        );
    }
}

#[test]
fn strict_transport_security_on_every_response_when_configured() {
    let server = TestServer::start_with(&[("LATCHKEY_HSTS_MAX_AGE_SECONDS", "31536000")]);
    for path in ["/login", "/users/me/", "/openapi.json", "/docs/", "/nope"] {
        let response = server.get(path, Auth::None);
        assert_eq!(
            header_value(response.headers(), "strict-transport-security"),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
    }
}

// ----- CORS closed -----

#[test]
fn cors_is_closed_by_default() {
    let server = TestServer::start();
    for path in ["/token", "/users/me/"] {
        let response = preflight(&server, path, APP, "POST");
        assert_no_cors(response.headers(), &format!("preflight {path}"));
    }
    let response = get_from(&server, "/users/me/", APP, Auth::None);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_no_cors(response.headers(), "GET /users/me/");
}

// ----- CORS allowlist -----

#[test]
fn an_allowed_origin_passes_the_preflight() {
    let server = allowlisted();
    for (path, method) in [("/token", "POST"), ("/users/me/", "GET")] {
        let response = preflight(&server, path, APP, method);
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let headers = response.headers();
        assert_eq!(
            header_value(headers, "access-control-allow-origin"),
            Some(APP),
            "{path}"
        );
        let methods = header_value(headers, "access-control-allow-methods").unwrap_or_default();
        for method in ["GET", "POST", "DELETE"] {
            assert!(methods.contains(method), "{path}: {methods}");
        }
        let allowed = header_value(headers, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(allowed.contains("authorization"), "{path}: {allowed}");
        assert!(allowed.contains("content-type"), "{path}: {allowed}");
        assert_eq!(
            header_value(headers, "access-control-allow-credentials"),
            None,
            "Bearer tokens need no cookies"
        );
    }
}

#[test]
fn an_allowed_origin_can_read_the_answers() {
    let server = allowlisted();
    server.add_user("vic", "pw-vic", &[]);
    let token = server.login("vic", "pw-vic", None);
    let response = get_from(
        &server,
        "/users/me/",
        "http://localhost:5173",
        Auth::Bearer(&token),
    );
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_value(response.headers(), "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let response = server
        .client()
        .post(server.url("/token"))
        .header("Origin", APP)
        .form(&[("username", "vic"), ("password", "pw-vic")])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_value(response.headers(), "access-control-allow-origin"),
        Some(APP)
    );
}

#[test]
fn other_origins_are_not_allowed() {
    let server = allowlisted();
    for origin in [
        OTHER,
        "https://app.example.com.evil.net",
        "http://app.example.com",
        "null",
    ] {
        for path in ["/token", "/users/me/"] {
            let response = preflight(&server, path, origin, "POST");
            assert_origin_not_allowed(
                response.headers(),
                &format!("preflight {path} from {origin}"),
            );
        }
        let response = get_from(&server, "/users/me/", origin, Auth::None);
        assert_origin_not_allowed(response.headers(), &format!("GET /users/me/ from {origin}"));
    }
}

#[test]
fn pages_and_docs_stay_same_origin() {
    let server = allowlisted();
    for path in ["/login", "/docs/", "/nope"] {
        let response = get_from(&server, path, APP, Auth::None);
        assert_no_cors(response.headers(), path);
    }
}

// ----- configuration -----

#[test]
fn an_origin_that_is_not_one_stops_the_server_with_a_clear_message() {
    for (origins, problem) in [
        (r#"["*"]"#, "wildcard"),
        (r#"["https://app.example.com/"]"#, "path"),
        (r#"["https://app.example.com/login"]"#, "path"),
        (r#"["app.example.com"]"#, "https://"),
        (r#"["https://App.example.com"]"#, "capital"),
    ] {
        let server = TestServer::stopped_with(&[("LATCHKEY_CORS_ALLOWED_ORIGINS", origins)]);
        let output = server.serve_expecting_exit();
        let line = output.one_line_failure();
        assert!(line.contains("cors_allowed_origins"), "{origins}: {line}");
        assert!(line.contains(problem), "{origins}: {line}");
    }
}
