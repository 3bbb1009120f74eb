//! Secrets never reach the log: with the most verbose logging, a session's worth of
//! logins, refreshes, failures, sign-ups and revocations leaves no password, token,
//! refresh token, browser fingerprint, signing key, password hash or device cookie
//! in what the server printed. The access log is on, in text and in JSON: a
//! password or token in `/token`'s query string, its form, the `Authorization`
//! header or a cookie never reaches it either.

use std::net::{IpAddr, Ipv4Addr};

use crate::support::{
    Auth, Browser, FINGERPRINT_COOKIE, SHARED_KEY, TestServer, cookie_value, parts,
    set_cookie_header,
};
use reqwest::StatusCode;
use serde_json::json;

#[test]
fn the_debug_log_holds_no_secret() {
    leaves_no_secret_in_the_log("text");
}

#[test]
fn the_json_log_holds_no_secret() {
    leaves_no_secret_in_the_log("json");
}

fn leaves_no_secret_in_the_log(format: &str) {
    let mut server = TestServer::start_with(&[
        ("RUST_LOG", "trace"),
        ("LATCHKEY_SECRET_KEY", SHARED_KEY),
        ("LATCHKEY_LOG_FORMAT", format),
        ("LATCHKEY_ACCESS_LOG_SKIP_PATHS", "[]"),
    ]);
    let password = "correct horse battery staple";
    server.add_user("nina", password, &[]);

    let (status, _, tokens) =
        parts(server.token_request(&[("username", "nina"), ("password", password)]));
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.get("/users/me/", Auth::Bearer(&access)).status(),
        StatusCode::OK
    );
    assert_eq!(
        server
            .get("/users/me/", Auth::Basic("nina", password))
            .status(),
        StatusCode::OK
    );
    let wrong = "a wrong but memorable guess";
    assert_eq!(
        server
            .token_request(&[("username", "nina"), ("password", wrong)])
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, _, renewed) = parts(
        server.token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]),
    );
    assert_eq!(status, StatusCode::OK);
    let renewed_refresh = renewed["refresh_token"].as_str().unwrap().to_owned();
    // Reuse of the spent token is logged as an event, without the token.
    assert_eq!(
        server
            .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .status(),
        StatusCode::BAD_REQUEST
    );
    let signup_password = "violet harbor lantern 7731";
    let response = server
        .client()
        .post(server.url("/users/"))
        .json(&json!({"username": "omar", "password": signup_password}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server
        .client()
        .post(server.url("/revoke"))
        .form(&[("token", renewed_refresh.as_str())])
        .send()
        .unwrap();
    // A browser signs in twice: with no device cookie, then with the one it got.
    let mut browser = Browser::at(&server, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(browser.sign_in("nina", password), StatusCode::OK);
    let first_cookie = browser.cookie.clone().expect("a device cookie");
    assert_eq!(browser.sign_in("nina", password), StatusCode::OK);
    let second_cookie = browser.cookie.clone().expect("a device cookie");
    // The browser app's sign-in, its bound token used with and without the cookie.
    let signed_in = server
        .server_fn("login", &[("username", "nina"), ("password", password)])
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let fingerprint =
        cookie_value(&set_cookie_header(&signed_in, FINGERPRINT_COOKIE).expect("a fingerprint"));
    let cookie = format!("{FINGERPRINT_COOKIE}={fingerprint}");
    let (_, _, bound) = parts(signed_in);
    let bound_access = bound["access_token"].as_str().unwrap();
    let with_cookie = server
        .request(
            reqwest::Method::GET,
            "/users/me/",
            Auth::Bearer(bound_access),
        )
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);
    let bound_refresh = bound["refresh_token"].as_str().unwrap();
    assert_eq!(
        server
            .token_request(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", bound_refresh)
            ])
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Secrets where no client should put them: in /token's query string, and
    // in another route's query, with cookies.
    let in_query = "a password sent in the query";
    let response = server
        .client()
        .post(server.url(&format!(
            "/token?username=nina&password={}&refresh_token={refresh}",
            in_query.replace(' ', "+")
        )))
        .header(
            reqwest::header::COOKIE,
            format!("{cookie}; session={refresh}"),
        )
        .form(&[("username", "nina"), ("password", wrong)])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server
        .client()
        .get(server.url(&format!("/users/me/?access_token={access}")))
        .bearer_auth(bound_access)
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let hash = server.stored_password_hash("nina").expect("nina's hash");
    server.stop();

    let log = server.logs();
    assert!(!log.is_empty(), "the server logged nothing at all");
    assert!(
        log.lines()
            .any(|line| line.contains("latchkey::access") && line.contains("/token")),
        "the access log is not on"
    );
    let signature = access.rsplit('.').next().unwrap();
    for (name, secret) in [
        ("the password", password),
        ("the password in the query", "a+password+sent"),
        ("the password in the query, decoded", in_query),
        ("the wrong password", wrong),
        ("the sign-up password", signup_password),
        ("the access token's signature", signature),
        ("the refresh token", refresh.as_str()),
        ("the renewed refresh token", renewed_refresh.as_str()),
        ("the browser's fingerprint", fingerprint.as_str()),
        ("the bound refresh token", bound_refresh),
        ("the signing key", SHARED_KEY),
        ("the password hash", hash.as_str()),
        ("the device cookie", first_cookie.as_str()),
        ("the renewed device cookie", second_cookie.as_str()),
    ] {
        assert!(!log.contains(secret), "{name} is in the log");
    }
}
