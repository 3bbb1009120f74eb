//! Requests that race for the same rows wait their turn in the database: whatever
//! the interleaving, each gets the answer it would get alone, and none a 5xx.

use std::sync::Barrier;
use std::thread;

use serde_json::{Value, json};

use crate::support::*;

/// Racing refreshes of one refresh token, per trial.
const RACERS: usize = 16;
/// How many times the race is run.
const TRIALS: usize = 50;

/// Runs `RACERS` refreshes of one fresh session's refresh token at once, spread
/// over `servers`, `TRIALS` times. Each time exactly one wins (200, new tokens) and
/// the others are reuses of a spent token (400 `invalid_grant`), which end the
/// session: the winner's new tokens are refused afterwards.
fn assert_one_refresh_wins_each_race(servers: &[&TestServer]) {
    for trial in 0..TRIALS {
        let tokens = session_of(servers[0], "nina");
        let barrier = Barrier::new(RACERS);
        let answers: Vec<(u16, Value)> = thread::scope(|scope| {
            let racers: Vec<_> = (0..RACERS)
                .map(|n| {
                    let (server, barrier, refresh) =
                        (servers[n % servers.len()], &barrier, &tokens.refresh);
                    scope.spawn(move || {
                        barrier.wait();
                        let (status, _, body) = parts(server.refresh_request(refresh, None));
                        (status.as_u16(), body)
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        assert!(
            statuses.iter().all(|status| *status < 500),
            "trial {trial}: a server error among {statuses:?}"
        );
        let winners: Vec<&Value> = answers
            .iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .collect();
        assert_eq!(winners.len(), 1, "trial {trial}: {statuses:?}");
        for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
            assert_eq!(*status, 400, "trial {trial}: {body}");
            assert_eq!(body, &json!({"detail": INVALID_GRANT}), "trial {trial}");
        }
        for server in servers {
            assert_session_ended(server, &Tokens::of(winners[0]));
        }
    }
}

/// Refresh rates that every race stays under: these tests are about contention in
/// the database, not about the rate limits (tests/it/rate_limits.rs).
const UNLIMITED_REFRESHES: [(&str, &str); 2] = [
    ("LATCHKEY_REFRESH_SESSION_PER_MINUTE", "100000"),
    ("LATCHKEY_REFRESH_ADDRESS_PER_MINUTE", "100000"),
];

fn racing_server() -> TestServer {
    let server = TestServer::start_with(&UNLIMITED_REFRESHES);
    server.add_user("nina", "pw-nina", &[]);
    server
}

#[test]
fn concurrent_refreshes_of_one_token_have_one_winner_and_no_server_error() {
    let server = racing_server();
    assert_one_refresh_wins_each_race(&[&server]);
}

#[test]
fn concurrent_refreshes_across_two_instances_have_one_winner_and_no_server_error() {
    let one = racing_server();
    let two = TestServer::start_sharing_database(&one, &UNLIMITED_REFRESHES);
    assert_one_refresh_wins_each_race(&[&one, &two]);
}

/// Clients in the mixed load.
const CLIENTS: usize = 32;
/// Rounds of item writes and refreshes per client.
const ROUNDS: usize = 5;

#[test]
fn a_mixed_load_of_sign_ups_logins_refreshes_and_item_writes_gets_no_server_error() {
    // All 32 clients come from one address: its allowances are those of many.
    let server = TestServer::start_with(&[
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000000"),
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000000"),
        ("LATCHKEY_SIGNUP_ADDRESS_PER_HOUR", "1000"),
        ("LATCHKEY_REFRESH_ADDRESS_PER_MINUTE", "100000"),
    ]);
    let barrier = Barrier::new(CLIENTS);
    let answers: Vec<(String, u16)> = thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|n| {
                let (server, barrier) = (&server, &barrier);
                scope.spawn(move || mixed_client(server, barrier, n))
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().unwrap())
            .collect()
    });
    let errors: Vec<_> = answers
        .iter()
        .filter(|(_, status)| *status >= 500)
        .collect();
    assert!(
        errors.is_empty(),
        "{} server errors, the first: {:?}",
        errors.len(),
        errors.first()
    );
    // The load did what it says: every client signed up, logged in and refreshed.
    let count = |what: &str, status: u16| {
        answers
            .iter()
            .filter(|(name, s)| name == what && *s == status)
            .count()
    };
    assert_eq!(count("sign-up", 201), CLIENTS, "{answers:?}");
    assert_eq!(count("login", 200), CLIENTS, "{answers:?}");
    assert_eq!(count("refresh", 200), CLIENTS * ROUNDS, "{answers:?}");
    assert_eq!(count("add item", 201), CLIENTS * ROUNDS, "{answers:?}");
    assert_eq!(
        count("wrong password", 401),
        CLIENTS * ROUNDS,
        "{answers:?}"
    );
}

/// One client of the mixed load: signs up, logs in, then writes items, refreshes
/// and fails a login, round after round. Returns what it did and the statuses.
fn mixed_client(server: &TestServer, barrier: &Barrier, n: usize) -> Vec<(String, u16)> {
    let username = format!("load-{n}");
    let password = format!("plum-orbit-lantern-{n}-velvet");
    let mut answers = Vec::new();
    let mut note = |what: &str, status: reqwest::StatusCode| {
        answers.push((what.to_owned(), status.as_u16()));
        status
    };
    barrier.wait();
    let created = server
        .client()
        .post(server.url("/users/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .expect("POST /users/");
    note("sign-up", created.status());
    let (status, _, body) = parts(server.token_request(&[
        ("username", username.as_str()),
        ("password", password.as_str()),
    ]));
    if note("login", status) != 200 {
        return answers;
    }
    let mut tokens = Tokens::of(&body);
    for round in 0..ROUNDS {
        let added = server
            .request(
                reqwest::Method::POST,
                "/users/me/items/",
                Auth::Bearer(&tokens.access),
            )
            .json(&json!({"item_id": format!("item-{round}")}))
            .send()
            .expect("POST /users/me/items/");
        note("add item", added.status());
        let (status, _, body) = parts(server.refresh_request(&tokens.refresh, None));
        if note("refresh", status) == 200 {
            tokens = Tokens::of(&body);
        }
        let failed = server.token_request(&[
            ("username", username.as_str()),
            ("password", "not-the-password"),
        ]);
        note("wrong password", failed.status());
    }
    answers
}
