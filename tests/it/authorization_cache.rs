//! Instances keep the sessions and users they authorize with in memory, and every
//! change still takes effect at once on every instance: each test warms the
//! cache of instance B with the token first, changes something on instance A (or
//! with the command line, another process), and asks B again at once. On SQLite
//! the instances share the file and learn of each other's writes through the
//! change counter beside it, before they answer; on PostgreSQL through
//! LISTEN/NOTIFY, within milliseconds.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

/// Two instances over one database, the user `nina` (all scopes) on it.
fn two_instances(env: &[(&str, &str)]) -> (TestServer, TestServer) {
    let a = TestServer::start_with(env);
    let b = TestServer::start_sharing_database(&a, env);
    a.add_user("nina", "pw-nina-long", &[]);
    (a, b)
}

/// Uses `token` on `server` a few times, so whatever it caches, it has.
fn warm(server: &TestServer, token: &str) {
    for _ in 0..3 {
        assert_eq!(
            server.get("/users/me/", Auth::Bearer(token)).status(),
            StatusCode::OK
        );
    }
}

#[test]
fn a_token_revoked_on_one_instance_is_refused_by_the_other_within_50_ms() {
    let (a, b) = two_instances(&[]);
    let mut slowest = Duration::ZERO;
    for trial in 0..20 {
        let token = a.login("nina", "pw-nina-long", None);
        warm(&b, &token);
        let revoke = a
            .client()
            .post(a.url("/revoke"))
            .form(&[("token", token.as_str())])
            .send()
            .unwrap();
        assert_eq!(revoke.status(), StatusCode::OK, "trial {trial}");
        let revoked_at = Instant::now();
        let seen_after = assert_at_once(
            &b,
            "/users/me/",
            &token,
            revoked_at,
            StatusCode::UNAUTHORIZED,
        );
        slowest = slowest.max(seen_after);
    }
    println!(
        "the other instance refused the revoked token at most {slowest:?} after the revocation"
    );
}

#[test]
fn a_logout_is_refused_at_once_by_the_instance_that_logged_out_and_by_the_other() {
    let (a, b) = two_instances(&[]);
    let token = a.login("nina", "pw-nina-long", None);
    warm(&a, &token);
    warm(&b, &token);
    let logout = a
        .request(Method::POST, "/logout", Auth::Bearer(&token))
        .send()
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let at = Instant::now();
    assert_at_once(&a, "/users/me/", &token, at, StatusCode::UNAUTHORIZED);
    assert_at_once(&b, "/users/me/", &token, at, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_reused_refresh_token_ends_the_session_on_every_instance_at_once() {
    let (a, b) = two_instances(&[]);
    let first = a.login_response("nina", "pw-nina-long", None);
    let (access, refresh) = (
        first["access_token"].as_str().unwrap().to_owned(),
        first["refresh_token"].as_str().unwrap().to_owned(),
    );
    warm(&b, &access);
    let refresh_with = |token: &str| {
        a.token_request(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .status()
    };
    assert_eq!(refresh_with(&refresh), StatusCode::OK);
    // The spent token again: a copy was taken, the session ends.
    assert_eq!(refresh_with(&refresh), StatusCode::BAD_REQUEST);
    let at = Instant::now();
    assert_at_once(&b, "/users/me/", &access, at, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_user_disabled_or_given_a_new_password_on_the_command_line_is_refused_at_once() {
    let (a, b) = two_instances(&[]);
    let token = a.login("nina", "pw-nina-long", None);
    warm(&a, &token);
    warm(&b, &token);
    a.cli_ok(&["user", "disable", "nina"], None);
    let at = Instant::now();
    assert_at_once(&b, "/users/me/", &token, at, StatusCode::UNAUTHORIZED);
    assert_at_once(&a, "/users/me/", &token, at, StatusCode::UNAUTHORIZED);

    a.cli_ok(&["user", "enable", "nina"], None);
    let token = a.login("nina", "pw-nina-long", None);
    warm(&b, &token);
    a.cli_ok(
        &["user", "set-password", "nina"],
        Some("another-long-password\n"),
    );
    let at = Instant::now();
    assert_at_once(&b, "/users/me/", &token, at, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_scope_taken_away_and_a_new_name_show_on_every_instance_at_once() {
    let (a, b) = two_instances(&[]);
    let token = b.login("nina", "pw-nina-long", Some("me items"));
    for server in [&a, &b] {
        assert_eq!(server.me(&token)["full_name"], serde_json::Value::Null);
        assert_eq!(
            server
                .get("/users/me/items/", Auth::Bearer(&token))
                .status(),
            StatusCode::OK
        );
    }

    // The operator takes `items` away and names her; the password stays.
    let hash = a.stored_password_hash("nina").unwrap();
    let imported = a.import(
        "nina.json",
        &json!([{"username": "nina", "full_name": "Nina Petrova", "hashed_password": hash, "scopes": "me"}]),
    );
    assert!(imported.status.success(), "{imported:?}");
    let at = Instant::now();
    // FastAPI's answer to a missing scope: 401 "Not enough permissions".
    assert_at_once(&b, "/users/me/items/", &token, at, StatusCode::UNAUTHORIZED);
    for server in [&a, &b] {
        assert_eq!(server.me(&token)["full_name"], "Nina Petrova");
    }
}

#[test]
fn a_small_cache_serves_more_sessions_than_it_holds() {
    // Eight entries, forty sessions used in turn: entries come and go, answers
    // stay right (a revoked one among them stays refused).
    let (a, b) = two_instances(&[("LATCHKEY_AUTH_CACHE_ENTRIES", "8")]);
    let tokens: Vec<String> = (0..40)
        .map(|_| a.login("nina", "pw-nina-long", None))
        .collect();
    let revoked = &tokens[17];
    let revoke = a
        .request(Method::POST, "/logout", Auth::Bearer(revoked))
        .send()
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    for round in 0..2 {
        for (i, token) in tokens.iter().enumerate() {
            let expected = if token == revoked {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::OK
            };
            for server in [&a, &b] {
                assert_eq!(
                    server.get("/users/me/", Auth::Bearer(token)).status(),
                    expected,
                    "round {round}, token {i}"
                );
            }
        }
    }
}
