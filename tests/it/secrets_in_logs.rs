//! Secrets never reach the log: with the most verbose logging, a session's worth of
//! logins, refreshes, failures, sign-ups and revocations leaves no password, token,
//! refresh token, signing key or password hash in what the server printed.

use crate::support::{Auth, SHARED_KEY, TestServer, parts};
use reqwest::StatusCode;
use serde_json::json;

#[test]
fn the_debug_log_holds_no_secret() {
    let mut server =
        TestServer::start_with(&[("RUST_LOG", "trace"), ("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
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
    let hash = server.stored_password_hash("nina").expect("nina's hash");
    server.stop();

    let log = server.logs();
    assert!(!log.is_empty(), "the server logged nothing at all");
    let signature = access.rsplit('.').next().unwrap();
    for (name, secret) in [
        ("the password", password),
        ("the wrong password", wrong),
        ("the sign-up password", signup_password),
        ("the access token's signature", signature),
        ("the refresh token", refresh.as_str()),
        ("the renewed refresh token", renewed_refresh.as_str()),
        ("the signing key", SHARED_KEY),
        ("the password hash", hash.as_str()),
    ] {
        assert!(!log.contains(secret), "{name} is in the log");
    }
}
