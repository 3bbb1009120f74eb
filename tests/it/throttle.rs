//! The login throttle, over HTTP: failed logins block the account and the client
//! address for a while that grows, a right password is refused while blocked, the
//! counts survive a restart, spoofed forwarding headers change nothing, and the
//! password-hashing queue answers 503 when full.

use std::thread;
use std::time::Duration;

use crate::support::{Auth, TestServer, parts};
use reqwest::StatusCode;
use serde_json::json;

const THROTTLED: &str = "Too many login attempts, retry later";

fn server(env: &[(&str, &str)]) -> TestServer {
    let mut settings = vec![
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "3"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_BASE_SECONDS", "60"),
    ];
    settings.extend_from_slice(env);
    let server = TestServer::start_with(&settings);
    server.add_user("johndoe", "correct horse battery", &[]);
    server.add_user("janedoe", "staple gun yellow", &[]);
    server
}

/// Asserts a 429 with the throttle's body and a `Retry-After` of at most
/// `max_seconds`; returns the `Retry-After` value.
#[track_caller]
fn assert_throttled(response: reqwest::blocking::Response, max_seconds: u64) -> u64 {
    let (status, headers, body) = parts(response);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "body: {body}");
    assert_eq!(body, json!({ "detail": THROTTLED }));
    let retry_after: u64 = headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=max_seconds).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    retry_after
}

#[test]
fn an_account_is_blocked_after_its_failures_even_for_the_right_password() {
    let server = server(&[]);
    for attempt in 1..=3 {
        assert_eq!(
            server.login_status("johndoe", "wrong"),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    assert_throttled(server.login_attempt("johndoe", "correct horse battery"), 60);
    // HTTP Basic is the same password check, so it is blocked too.
    assert_throttled(
        server.get(
            "/users/me/",
            Auth::Basic("johndoe", "correct horse battery"),
        ),
        60,
    );
    // Another account from the same client is not blocked.
    assert_eq!(
        server.login_status("janedoe", "staple gun yellow"),
        StatusCode::OK
    );
}

#[test]
fn blocks_grow_with_further_failures() {
    let server = server(&[("LATCHKEY_THROTTLE_BASE_SECONDS", "3")]);
    for _ in 0..3 {
        server.login_status("johndoe", "wrong");
    }
    let first = assert_throttled(server.login_attempt("johndoe", "wrong"), 3);
    thread::sleep(Duration::from_secs(first) + Duration::from_millis(100));
    // The block is over: the next failure is answered 401 and blocks twice as long.
    assert_eq!(
        server.login_status("johndoe", "wrong"),
        StatusCode::UNAUTHORIZED
    );
    let second = assert_throttled(server.login_attempt("johndoe", "wrong"), 6);
    assert!(second > 3, "blocked {first} s, then {second} s");
}

#[test]
fn a_block_ends_and_a_success_forgets_the_failures() {
    // Long enough that a loaded machine still asks within the block.
    let server = server(&[("LATCHKEY_THROTTLE_BASE_SECONDS", "3")]);
    for _ in 0..3 {
        server.login_status("johndoe", "wrong");
    }
    let retry_after = assert_throttled(server.login_attempt("johndoe", "correct horse battery"), 3);
    thread::sleep(Duration::from_secs(retry_after) + Duration::from_millis(100));
    assert_eq!(
        server.login_status("johndoe", "correct horse battery"),
        StatusCode::OK
    );
    // The count started over: two failures do not block.
    for _ in 0..2 {
        server.login_status("johndoe", "wrong");
    }
    assert_eq!(
        server.login_status("johndoe", "correct horse battery"),
        StatusCode::OK
    );
}

#[test]
fn unknown_usernames_are_throttled_exactly_like_real_ones() {
    let server = server(&[]);
    let mut answers = Vec::new();
    for username in ["johndoe", "nobody-here"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(server.login_status(username, "wrong").as_u16());
        }
        answers.push(statuses);
    }
    assert_eq!(answers[0], [401, 401, 401, 429]);
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn the_block_survives_a_restart() {
    let mut server = server(&[]);
    for _ in 0..3 {
        server.login_status("johndoe", "wrong");
    }
    server.restart();
    assert_throttled(server.login_attempt("johndoe", "correct horse battery"), 60);
}

#[test]
fn password_spraying_across_usernames_is_caught_per_address() {
    let server = server(&[
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "5"),
    ]);
    for n in 0..5 {
        let username = format!("user{n}");
        assert_eq!(
            server.login_status(&username, "Summer2026!"),
            StatusCode::UNAUTHORIZED
        );
    }
    // Every account is now refused from this client, the real one included.
    assert_throttled(server.login_attempt("johndoe", "correct horse battery"), 60);
}

#[test]
fn spoofed_forwarding_headers_are_ignored_from_untrusted_peers() {
    let server = server(&[
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "3"),
    ]);
    for n in 0..3 {
        let response = server
            .client()
            .post(server.url("/token"))
            .header("X-Forwarded-For", format!("198.51.100.{n}"))
            .header("X-Real-IP", format!("203.0.113.{n}"))
            .form(&[("username", format!("user{n}")), ("password", "x".into())])
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = server
        .client()
        .post(server.url("/token"))
        .header("X-Forwarded-For", "192.0.2.200")
        .form(&[
            ("username", "johndoe"),
            ("password", "correct horse battery"),
        ])
        .send()
        .unwrap();
    assert_throttled(response, 60);
}

#[test]
fn a_trusted_proxy_names_the_client_that_is_throttled() {
    let server = server(&[
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "2"),
        ("LATCHKEY_TRUSTED_PROXIES", "[\"127.0.0.0/8\"]"),
    ]);
    let from = |client: &str, username: &str, password: &str| {
        server
            .client()
            .post(server.url("/token"))
            .header("X-Forwarded-For", client)
            .form(&[("username", username), ("password", password)])
            .send()
            .unwrap()
    };
    for _ in 0..2 {
        assert_eq!(
            from("198.51.100.1", "nobody", "x").status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_throttled(from("198.51.100.1", "johndoe", "correct horse battery"), 60);
    // Another client behind the same proxy is not blocked.
    assert_eq!(
        from("198.51.100.2", "johndoe", "correct horse battery").status(),
        StatusCode::OK
    );
}

#[test]
fn sign_up_reveals_taken_usernames_no_faster_than_the_throttle() {
    let server = server(&[("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "2")]);
    let sign_up = |username: &str| {
        server
            .client()
            .post(server.url("/users/"))
            .json(&json!({"username": username, "password": "a rather long passphrase 42"}))
            .send()
            .unwrap()
    };
    assert_eq!(sign_up("johndoe").status(), StatusCode::CONFLICT);
    assert_eq!(sign_up("janedoe").status(), StatusCode::CONFLICT);
    assert_throttled(sign_up("someone-new"), 60);
}

#[test]
fn a_full_hashing_queue_answers_503_and_nothing_else_fails() {
    // Real Argon2 costs, one slot and no queue: concurrent logins cannot all wait.
    let server = TestServer::start_with(&[
        ("LATCHKEY_ARGON2_MEMORY_KIB", "65536"),
        ("LATCHKEY_ARGON2_ITERATIONS", "3"),
        ("LATCHKEY_ARGON2_PARALLELISM", "1"),
        ("LATCHKEY_PASSWORD_HASH_CONCURRENCY", "1"),
        ("LATCHKEY_PASSWORD_HASH_QUEUE", "0"),
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
    ]);
    let statuses: Vec<(u16, Option<String>, serde_json::Value)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|n| {
                let server = &server;
                scope.spawn(move || {
                    let (status, headers, body) = parts(server.token_request(&[
                        ("username", &format!("user{n}")),
                        ("password", "wrong"),
                    ]));
                    let retry_after = headers
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_owned());
                    (status.as_u16(), retry_after, body)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let busy: Vec<_> = statuses.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "no 503 among {statuses:?}");
    for (_, retry_after, body) in &busy {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(body, &json!({"detail": "Server busy, retry later"}));
    }
    assert!(
        statuses.iter().all(|(s, _, _)| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.iter().any(|(s, _, _)| *s == 401), "{statuses:?}");
}

/// Wrong-password logins for one account sent at once.
const BURST: usize = 50;

/// Sends `BURST` wrong-password logins for johndoe at once, spread over `servers`;
/// returns how many got a password check (401) and how many were throttled (429).
fn burst_of_wrong_passwords(servers: &[&TestServer]) -> (usize, usize) {
    let barrier = std::sync::Barrier::new(BURST);
    let statuses: Vec<u16> = thread::scope(|scope| {
        let logins: Vec<_> = (0..BURST)
            .map(|n| {
                let (server, barrier) = (servers[n % servers.len()], &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let form = [("username", "johndoe"), ("password", "wrong")];
                    server.token_request(&form).status().as_u16()
                })
            })
            .collect();
        logins.into_iter().map(|l| l.join().unwrap()).collect()
    });
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(401) + count(429), BURST, "{statuses:?}");
    (count(401), count(429))
}

#[test]
fn a_burst_of_concurrent_wrong_passwords_gets_only_the_accounts_allowance_of_checks() {
    // The module's server allows an account 3 failures.
    let server = server(&[]);
    assert_eq!(burst_of_wrong_passwords(&[&server]), (3, BURST - 3));
    assert_throttled(
        server.token_request(&[
            ("username", "johndoe"),
            ("password", "correct horse battery"),
        ]),
        60,
    );
}

#[test]
fn a_burst_spread_over_two_instances_gets_only_the_accounts_allowance_of_checks() {
    let one = server(&[]);
    let two = TestServer::start_sharing_database(
        &one,
        &[
            ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "3"),
            ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
            ("LATCHKEY_THROTTLE_BASE_SECONDS", "60"),
        ],
    );
    assert_eq!(burst_of_wrong_passwords(&[&one, &two]), (3, BURST - 3));
}
