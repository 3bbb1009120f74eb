//! What operators run latchkey with: health and readiness checks, request ids,
//! and the access log (its filter, its JSON form).

use std::net::{IpAddr, Ipv4Addr};

use crate::support::{Auth, TestServer, header_value, http_client_from, parts};
use reqwest::StatusCode;
use serde_json::Value;

/// The harness's log filter with the access log on.
const ACCESS_LOG: (&str, &str) = (
    "RUST_LOG",
    "warn,latchkey::server=info,latchkey::access=info",
);

/// The access-log lines of the server's log so far.
fn access_lines(server: &TestServer) -> Vec<String> {
    server
        .logs()
        .lines()
        .filter(|line| line.contains("latchkey::access"))
        .map(str::to_owned)
        .collect()
}

fn request_id(response: &reqwest::blocking::Response) -> String {
    header_value(response.headers(), "x-request-id")
        .expect("an X-Request-Id")
        .to_owned()
}

#[test]
fn health_and_readiness_answer_without_credentials() {
    let server = TestServer::start();
    for path in ["/healthz", "/readyz"] {
        let (status, _, body) = parts(server.get(path, Auth::None));
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, serde_json::json!({"status": "ok"}), "{path}");
    }
}

#[test]
fn readiness_fails_when_a_migration_is_missing_and_liveness_does_not() {
    let server = TestServer::start();
    // What a database migrated by an older build looks like to this one.
    server.database().execute(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    );
    let (status, _, body) = parts(server.get("/readyz", Auth::None));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["detail"], "Database schema is not up to date");
    assert_eq!(server.get("/healthz", Auth::None).status(), StatusCode::OK);
}

#[test]
fn the_health_checks_are_in_the_openapi_document_without_security() {
    let server = TestServer::start();
    let (_, _, document) = parts(server.get("/openapi.json", Auth::None));
    for path in ["/healthz", "/readyz"] {
        let operation = &document["paths"][path]["get"];
        assert!(operation.is_object(), "{path} is not documented");
        assert!(
            operation.get("security").is_none(),
            "{path} asks for a credential"
        );
    }
    assert!(document.get("security").is_none());
}

#[test]
fn every_request_gets_an_access_line_with_the_id_it_was_answered_with() {
    let server = TestServer::start_with(&[ACCESS_LOG]);
    let response = server.get("/users/me/?probe=1", Auth::Bearer("not-a-token"));
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let id = request_id(&response);
    let other = request_id(&server.get("/status/", Auth::None));
    assert_ne!(id, other, "two requests share an id");
    let lines = access_lines(&server);
    let line = lines
        .iter()
        .find(|line| line.contains(&id))
        .unwrap_or_else(|| panic!("no access line with {id}: {lines:?}"));
    for field in [
        "method=GET",
        "path=/users/me/ ",
        "status=401",
        "latency_ms=",
        "client=127.0.0.1",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(!line.contains("probe"), "a query string is logged: {line}");
}

#[test]
fn health_checks_are_left_out_of_the_access_log_unless_the_skip_list_is_emptied() {
    let quiet = TestServer::start_with(&[ACCESS_LOG]);
    let probes: Vec<String> = ["/healthz", "/readyz", "/metrics", "/status/"]
        .iter()
        .map(|path| request_id(&quiet.get(path, Auth::None)))
        .collect();
    let lines = access_lines(&quiet).join("\n");
    for id in &probes[..3] {
        assert!(
            !lines.contains(id.as_str()),
            "a health check is logged: {lines}"
        );
    }
    assert!(lines.contains(probes[3].as_str()), "/status/ is not logged");

    let verbose = TestServer::start_with(&[ACCESS_LOG, ("LATCHKEY_ACCESS_LOG_SKIP_PATHS", "[]")]);
    let id = request_id(&verbose.get("/healthz", Auth::None));
    assert!(access_lines(&verbose).join("\n").contains(&id));
}

#[test]
fn the_log_filter_setting_applies_when_rust_log_is_unset() {
    let server = TestServer::start_with(&[
        ("RUST_LOG", ""),
        (
            "LATCHKEY_LOG_FILTER",
            "warn,latchkey::server=info,latchkey::access=warn",
        ),
    ]);
    let id = request_id(&server.get("/status/", Auth::None));
    assert!(!server.logs().contains(&id), "the access log is not quiet");
    let mut loud = TestServer::stopped_with(&[
        ("RUST_LOG", ""),
        (
            "LATCHKEY_LOG_FILTER",
            "warn,latchkey::server=info,latchkey::access=info",
        ),
    ]);
    loud.launch();
    let id = request_id(&loud.get("/status/", Auth::None));
    assert!(loud.logs().contains(&id), "the access log is silent");
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_fields() {
    let server = TestServer::start_with(&[ACCESS_LOG, ("LATCHKEY_LOG_FORMAT", "json")]);
    let id = request_id(&server.get("/users/me/", Auth::None));
    let log = server.logs();
    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|line| line["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no JSON access line with {id}: {log}"));
    assert_eq!(access["target"], "latchkey::access");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/users/me/");
    assert_eq!(access["status"], 401);
    assert_eq!(access["client"], "127.0.0.1");
    assert!(access["latency_ms"].is_number(), "{access}");
    assert!(access["timestamp"].is_string(), "{access}");
}

#[test]
fn a_trusted_proxys_request_id_is_kept_and_anyone_elses_replaced() {
    let proxy = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let server = TestServer::start_with(&[
        ACCESS_LOG,
        ("LATCHKEY_TRUSTED_PROXIES", r#"["127.0.0.2/32"]"#),
    ]);
    let send = |client: &reqwest::blocking::Client, id: &str| {
        client
            .get(server.url("/status/"))
            .header("X-Request-Id", id)
            .header("X-Forwarded-For", "198.51.100.7")
            .send()
            .expect("GET /status/")
    };
    let from_proxy = http_client_from(proxy);
    let kept = "nginx-0f3c2e8e9b1d4a7c";
    assert_eq!(request_id(&send(&from_proxy, kept)), kept);
    let line = access_lines(&server)
        .into_iter()
        .find(|line| line.contains(kept))
        .expect("the proxy's id in the access log");
    assert!(line.contains("client=198.51.100.7"), "{line}");

    let from_anyone = http_client_from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let spoofed = "spoofed-by-a-client";
    let replaced = request_id(&send(&from_anyone, spoofed));
    assert_ne!(replaced, spoofed);
    assert_eq!(replaced.len(), 36, "not a fresh UUID: {replaced}");
    // Even a trusted proxy's id is replaced when it is not fit to log.
    let unfit = "x".repeat(129);
    assert_ne!(request_id(&send(&from_proxy, &unfit)), unfit);
    assert!(!server.logs().contains(spoofed));
}
