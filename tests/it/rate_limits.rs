//! Request rates: refresh grants per session and per client address, sign-ups per
//! client address, and sign-ups hashing in slots of their own so that a flood of
//! them cannot keep logins waiting.

use std::net::{IpAddr, Ipv4Addr};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::json;

use crate::support::*;

const TOO_MANY_REQUESTS: &str = "Too many requests, retry later";

fn elsewhere() -> Client {
    http_client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
}

#[track_caller]
fn assert_over_rate(response: Response) {
    let (status, headers, body) = parts(response);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body, json!({"detail": TOO_MANY_REQUESTS}));
    let retry_after: u64 = header_value(&headers, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=3600).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
}

fn refresh_from(client: &Client, server: &TestServer, refresh_token: &str) -> Response {
    client
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .expect("POST /token")
}

#[test]
fn refresh_grants_are_limited_per_session() {
    let server = TestServer::start_with(&[("LATCHKEY_REFRESH_SESSION_PER_MINUTE", "3")]);
    server.add_user("nina", "pw-nina", &[]);
    let mut tokens = session_of(&server, "nina");
    for _ in 0..3 {
        tokens = server.refresh(&tokens.refresh);
    }
    assert_over_rate(server.refresh_request(&tokens.refresh, None));
    // Refused before anything was spent: the session and its tokens are intact.
    assert_access_works(&server, &tokens.access, "nina");
    // Another session of the same user, from the same address, has its own rate.
    let other = session_of(&server, "nina");
    server.refresh(&other.refresh);
}

#[test]
fn refresh_grants_are_limited_per_client_address() {
    let server = TestServer::start_with(&[("LATCHKEY_REFRESH_ADDRESS_PER_MINUTE", "3")]);
    server.add_user("nina", "pw-nina", &[]);
    for _ in 0..3 {
        server.refresh(&session_of(&server, "nina").refresh);
    }
    let fresh = session_of(&server, "nina");
    assert_over_rate(server.refresh_request(&fresh.refresh, None));
    // The same fresh session, from another address.
    let response = refresh_from(&elsewhere(), &server, &fresh.refresh);
    assert_eq!(response.status(), StatusCode::OK);
}

fn sign_up(client: &Client, server: &TestServer, username: &str) -> Response {
    client
        .post(server.url("/users/"))
        .json(&json!({"username": username, "password": "violet harbor lantern 7731"}))
        .send()
        .expect("POST /users/")
}

#[test]
fn sign_ups_are_limited_per_client_address() {
    let server = TestServer::start_with(&[("LATCHKEY_SIGNUP_ADDRESS_PER_HOUR", "2")]);
    let client = server.client();
    assert_eq!(
        sign_up(client, &server, "ann").status(),
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up(client, &server, "bob").status(),
        StatusCode::CREATED
    );
    assert_over_rate(sign_up(client, &server, "cai"));
    assert_eq!(
        sign_up(&elsewhere(), &server, "cai").status(),
        StatusCode::CREATED,
        "another address has its own allowance"
    );
    assert_eq!(server.listed_usernames(), ["ann", "bob", "cai"]);
}

/// Sign-ups in the flood.
const SIGN_UPS: usize = 24;

#[test]
fn a_flood_of_sign_ups_cannot_keep_logins_from_their_hashing_slot() {
    // The real Argon2 cost, one login slot and a queue of one: a sign-up that took
    // a login's slot or place in the queue would turn the login away (503).
    let server = TestServer::start_with(&[
        ("LATCHKEY_ARGON2_MEMORY_KIB", "65536"),
        ("LATCHKEY_ARGON2_ITERATIONS", "3"),
        ("LATCHKEY_ARGON2_PARALLELISM", "4"),
        ("LATCHKEY_PASSWORD_HASH_CONCURRENCY", "1"),
        ("LATCHKEY_PASSWORD_HASH_QUEUE", "1"),
        ("LATCHKEY_SIGNUP_HASH_QUEUE", "64"),
        // The flood comes from one address, as if from many clients.
        ("LATCHKEY_SIGNUP_ADDRESS_PER_HOUR", "1000"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
    ]);
    server.add_user("carol", "plum-orbit-lantern-42", &[]);
    let statuses: Vec<u16> = thread::scope(|scope| {
        let flood: Vec<_> = (0..SIGN_UPS)
            .map(|n| {
                let server = &server;
                scope.spawn(move || {
                    sign_up(server.client(), server, &format!("new{n}"))
                        .status()
                        .as_u16()
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let login = elsewhere()
            .post(server.url("/token"))
            .form(&[("username", "carol"), ("password", "plum-orbit-lantern-42")])
            .send()
            .expect("POST /token");
        assert_eq!(login.status(), StatusCode::OK, "{}", server.logs());
        println!(
            "a login during a flood of {SIGN_UPS} sign-ups took {:?}",
            started.elapsed()
        );
        flood.into_iter().map(|s| s.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().all(|s| *s == 201),
        "the sign-ups queue for their own slot: {statuses:?}"
    );
}
