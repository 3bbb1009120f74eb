//! The browser's front door over HTTP: the server functions answer only this
//! site's pages, take tokens and never HTTP Basic, and their token answers are
//! never cached.

use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, ORIGIN};
use serde_json::Value;

use crate::support::*;

fn johndoe_server() -> TestServer {
    let server = TestServer::start();
    server.add_user("johndoe", "secret", &[]);
    server
}

const JOHNDOE: [(&str, &str); 2] = [("username", "johndoe"), ("password", "secret")];

#[test]
fn a_login_from_this_sites_page_is_answered_and_never_cached() {
    let server = johndoe_server();
    let answer = server
        .server_fn("login", &JOHNDOE)
        .header("sec-fetch-site", "same-origin")
        .header(ORIGIN, format!("http://{}", server.addr()))
        .send()
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()[CACHE_CONTROL], "no-store");
    let body: Value = answer.json().unwrap();
    assert!(body["access_token"].is_string(), "{body}");
    // A client that is no browser says neither, and is not refused for it.
    let plain = server.server_fn("login", &JOHNDOE).send().unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
}

#[test]
fn calls_from_another_sites_page_are_refused() {
    let server = johndoe_server();
    let refused = |request: RequestBuilder, case: &str| {
        let answer = request.send().unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{case}");
        let body = answer.text().unwrap();
        assert!(body.contains("CrossSite"), "{case}: {body}");
    };
    for site in ["cross-site", "same-site"] {
        refused(
            server
                .server_fn("login", &JOHNDOE)
                .header("sec-fetch-site", site),
            site,
        );
    }
    refused(
        server
            .server_fn("login", &JOHNDOE)
            .header(ORIGIN, "https://evil.example"),
        "an Origin of another site",
    );
    refused(
        server
            .server_fn("registration_open", &[])
            .header("sec-fetch-site", "cross-site"),
        "a call that needs no credential",
    );
    // The same call from this site is answered.
    let same = server
        .server_fn("login", &JOHNDOE)
        .header(ORIGIN, format!("http://{}", server.addr()))
        .send()
        .unwrap();
    assert_eq!(same.status(), StatusCode::OK);
}

#[test]
fn http_basic_is_refused_where_a_token_is_taken() {
    let server = johndoe_server();
    let basic = server
        .server_fn("profile", &[])
        .basic_auth("johndoe", Some("secret"))
        .send()
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let token = server.login("johndoe", "secret", None);
    let bearer = server
        .server_fn("profile", &[])
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let body: Value = bearer.json().unwrap();
    assert_eq!(body["user"]["username"], "johndoe");
}
