//! Security headers: each page's Content-Security-Policy allows only its own
//! nonce's inline scripts, Swagger UI and the API get policies of their own, and
//! every response forbids sniffing, framing and referrers.

use crate::support::*;
use reqwest::StatusCode;
use reqwest::blocking::Response;

/// The header `name` of `response`, which must have it.
#[track_caller]
fn header(response: &Response, name: &str) -> String {
    header_value(response.headers(), name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_owned()
}

fn get(server: &TestServer, path: &str) -> Response {
    server.client().get(server.url(path)).send().expect("GET")
}

/// The nonce in a page's `script-src`.
fn csp_nonce(csp: &str) -> String {
    let start = csp.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    csp[start..].split('\'').next().unwrap().to_owned()
}

#[test]
fn pages_allow_only_scripts_carrying_this_responses_nonce() {
    let server = TestServer::start();
    let response = get(&server, "/login");
    assert_eq!(response.status(), StatusCode::OK);
    let csp = header(&response, "content-security-policy");
    let html = response.text().unwrap();
    let nonce = csp_nonce(&csp);
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0);
    assert_eq!(
        html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
            .count()
            + html.matches(&format!("<script nonce=\"{nonce}\"")).count(),
        inline_scripts,
        "every script carries the nonce: {html}"
    );
    let again = header(&get(&server, "/login"), "content-security-policy");
    assert_ne!(
        csp_nonce(&again),
        nonce,
        "the nonce is fresh for every response"
    );
}

#[test]
fn the_not_found_page_has_a_page_policy_too() {
    let server = TestServer::start();
    let response = get(&server, "/no/such/page");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(header(&response, "content-security-policy").contains("'nonce-"));
}

#[test]
fn api_responses_may_run_nothing() {
    let server = TestServer::start();
    for response in [get(&server, "/status/"), get(&server, "/users/me/")] {
        assert_eq!(
            header(&response, "content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'"
        );
    }
}

#[test]
fn swagger_ui_loads_only_from_latchkey() {
    let server = TestServer::start();
    let csp = header(&get(&server, "/docs/"), "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("http"), "no other origin is allowed: {csp}");
}

#[test]
fn every_response_forbids_sniffing_framing_and_referrers() {
    let server = TestServer::start();
    for path in ["/login", "/status/", "/docs/", "/openapi.json", "/nope"] {
        let response = get(&server, path);
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{path}");
        assert_eq!(
            header(&response, "referrer-policy"),
            "no-referrer",
            "{path}"
        );
    }
}
