//! Prometheus metrics at `GET /metrics`: off by default, behind the operator's
//! token or on the operator's address, and counting what they say they count.

use std::net::TcpListener;

use crate::support::{Auth, TestServer, http_client, metric_sample as sample, scrape_metrics};
use reqwest::StatusCode;

const TOKEN: &str = "3f9c1e7a5b2d8046c1e7a5b2";

fn scrape(server: &TestServer) -> String {
    scrape_metrics(server, TOKEN)
}

#[test]
fn metrics_are_off_by_default() {
    let server = TestServer::start();
    assert_eq!(
        server.get("/metrics", Auth::None).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/metrics", Auth::Bearer(TOKEN)).status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_token_is_needed_and_must_be_exact() {
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_TOKEN", TOKEN)]);
    for auth in [
        Auth::None,
        Auth::Bearer("3f9c1e7a5b2d8046c1e7a5b3"),
        Auth::Bearer(&TOKEN[..TOKEN.len() - 1]),
        Auth::Basic("metrics", TOKEN),
    ] {
        let response = server.get("/metrics", auth);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(!response.text().unwrap().contains("latchkey_"));
    }
    assert!(scrape(&server).contains("latchkey_http_requests_total"));
    assert!(!server.logs().contains(TOKEN), "the token is in the log");
}

#[test]
fn on_an_address_of_their_own_they_are_not_on_the_public_port() {
    let metrics_addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_ADDR", &metrics_addr.to_string())]);
    assert_eq!(
        server.get("/metrics", Auth::None).status(),
        StatusCode::NOT_FOUND
    );
    let response = http_client(reqwest::redirect::Policy::none())
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .expect("GET the metrics address");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .unwrap()
            .contains("latchkey_active_sessions")
    );
}

#[test]
fn logins_requests_and_sessions_are_counted() {
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_TOKEN", TOKEN)]);
    server.add_user("mia", "a password for mia", &[]);
    assert_eq!(
        server.login_status("mia", "a password for mia"),
        StatusCode::OK
    );
    assert_eq!(
        server.login_status("mia", "not her password"),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login_status("nobody", "whatever it is"),
        StatusCode::UNAUTHORIZED
    );
    server.cli_ok(&["user", "disable", "mia"], None);
    assert_eq!(
        server.login_status("mia", "a password for mia"),
        StatusCode::BAD_REQUEST
    );
    for _ in 0..3 {
        server.get("/users/me/items/abc", Auth::None);
    }
    let text = scrape(&server);
    for (series, value) in [
        (r#"latchkey_logins_total{outcome="success"}"#, 1.0),
        (r#"latchkey_logins_total{outcome="wrong_password"}"#, 2.0),
        (r#"latchkey_logins_total{outcome="inactive"}"#, 1.0),
        (
            r#"latchkey_http_requests_total{method="POST",route="/token",status="401"}"#,
            2.0,
        ),
        // The route's template, never the path the client made up.
        (
            r#"latchkey_http_requests_total{method="GET",route="/users/me/items/{item_id}",status="405"}"#,
            3.0,
        ),
        // Disabling mia ended her one session.
        ("latchkey_active_sessions", 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(!text.contains("/users/me/items/abc"));
    assert!(text.contains("latchkey_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"latchkey_password_hash_wait_seconds_count{pool="logins"}"#));

    // A counter moves with each login.
    server.login_status("nobody", "whatever it is");
    assert_eq!(
        sample(
            &scrape(&server),
            r#"latchkey_logins_total{outcome="wrong_password"}"#
        ),
        Some(3.0)
    );
}

#[test]
fn http_basic_password_checks_are_counted_as_logins() {
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_TOKEN", TOKEN)]);
    server.add_user("omar", "a password for omar", &[]);
    server.add_user("lena", "a password for lena", &[]);
    server.cli_ok(&["user", "disable", "lena"], None);
    let logins = |outcome: &str| {
        sample(
            &scrape(&server),
            &format!(r#"latchkey_logins_total{{outcome="{outcome}"}}"#),
        )
        .unwrap_or(0.0)
    };
    for (username, password, status, outcome) in [
        ("omar", "a password for omar", StatusCode::OK, "success"),
        (
            "omar",
            "not omar's password",
            StatusCode::UNAUTHORIZED,
            "wrong_password",
        ),
        (
            "nobody",
            "whatever it is",
            StatusCode::UNAUTHORIZED,
            "wrong_password",
        ),
        (
            "lena",
            "a password for lena",
            StatusCode::BAD_REQUEST,
            "inactive",
        ),
    ] {
        let before = logins(outcome);
        let response = server.get("/users/me/", Auth::Basic(username, password));
        assert_eq!(response.status(), status, "{username}");
        assert_eq!(logins(outcome), before + 1.0, "{username}: {outcome}");
    }
}

#[test]
fn active_sessions_count_live_sessions() {
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_TOKEN", TOKEN)]);
    server.add_user("noor", "a password for noor", &[]);
    let first = server.login("noor", "a password for noor", None);
    server.login("noor", "a password for noor", None);
    assert_eq!(
        sample(&scrape(&server), "latchkey_active_sessions"),
        Some(2.0)
    );
    let response = server
        .request(reqwest::Method::POST, "/logout", Auth::Bearer(&first))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sample(&scrape(&server), "latchkey_active_sessions"),
        Some(1.0)
    );
}

#[test]
fn hashing_slots_keep_one_memory_for_the_next_login_and_give_it_back_when_idle() {
    let server = TestServer::start_with(&[("LATCHKEY_METRICS_TOKEN", TOKEN)]);
    server.add_user("ines", "a password for ines", &[]);
    let kept = |server: &TestServer| {
        sample(
            &scrape(server),
            r#"latchkey_password_hash_memory_kept_bytes{pool="logins"}"#,
        )
    };
    // Logins one after another share one slot's memory: the tests' Argon2 costs
    // take 1 MiB.
    for _ in 0..3 {
        assert_eq!(
            server.login_status("ines", "a password for ines"),
            StatusCode::OK
        );
        assert_eq!(kept(&server), Some(1024.0 * 1024.0));
    }
    let idle = std::time::Instant::now();
    while kept(&server) != Some(0.0) {
        assert!(
            idle.elapsed() < std::time::Duration::from_secs(15),
            "still kept 15 s after the last login"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        idle.elapsed() > std::time::Duration::from_secs(3),
        "given back before the slots were idle for long"
    );
}

#[test]
fn throttled_and_busy_logins_are_counted_as_such() {
    // One hashing slot and no queue: of logins arriving together, all but one are
    // turned away busy.
    let server = TestServer::start_with(&[
        ("LATCHKEY_METRICS_TOKEN", TOKEN),
        ("LATCHKEY_PASSWORD_HASH_CONCURRENCY", "1"),
        ("LATCHKEY_PASSWORD_HASH_QUEUE", "0"),
        ("LATCHKEY_ARGON2_MEMORY_KIB", "32768"),
        ("LATCHKEY_ARGON2_ITERATIONS", "2"),
    ]);
    server.add_user("mia", "a password for mia", &[]);
    let statuses: Vec<StatusCode> = std::thread::scope(|scope| {
        let logins: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| server.login_status("mia", "a password for mia")))
            .collect();
        logins.into_iter().map(|l| l.join().unwrap()).collect()
    });
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert!(busy > 0, "no login was turned away: {statuses:?}");
    // A login turned away busy checked no password: it is no failure, and a
    // storm of them must not block the account. (More attempts in flight at once
    // than the account's allowance may be answered 429: the throttle counts an
    // attempt from its start until it is known to be no failure.)
    assert!(
        statuses.iter().all(|s| [
            StatusCode::OK,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::TOO_MANY_REQUESTS
        ]
        .contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        server.login_status("mia", "a password for mia"),
        StatusCode::OK
    );

    // Failures until the account is blocked, then two more tries while it is.
    while server.login_status("mia", "not her password") != StatusCode::TOO_MANY_REQUESTS {}
    for _ in 0..2 {
        assert_eq!(
            server.login_status("mia", "a password for mia"),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let text = scrape(&server);
    assert_eq!(
        sample(&text, r#"latchkey_logins_total{outcome="busy"}"#),
        Some(busy as f64),
        "{text}"
    );
    // The storm's 429s, the failure that found the account blocked, and the two
    // tries after it.
    let throttled_in_storm = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        sample(&text, r#"latchkey_logins_total{outcome="throttled"}"#),
        Some((throttled_in_storm + 3) as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"latchkey_password_hash_queue_depth{pool="logins"}"#
        ),
        Some(0.0),
        "the queue is empty again: {text}"
    );
}
