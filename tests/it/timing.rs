//! Failed logins that must not tell an attacker which usernames exist: an unknown
//! user, a wrong password and a disabled user's wrong password get byte-identical
//! answers, and they take the same time whatever hash the account has (the
//! server's current policy, an imported bcrypt hash, an imported Argon2 hash of
//! older costs) or whether it exists. The median times of each are printed side by
//! side with their spread, the figure the README quotes:
//!
//! ```sh
//! cargo test --test it -- timing:: --nocapture
//! ```
//!
//! Only a gap far wider than any noise fails the test (without the pacing, a
//! cheap-policy failure answers 50 times faster than a bcrypt one).

use std::time::{Duration, Instant};

use crate::support::forge::*;
use crate::support::*;
use reqwest::blocking::Response;

/// Requests of each kind in the timing figure.
const ROUNDS: usize = 20;

/// bcrypt's cost in the hashes imported from passlib (its default).
const BCRYPT_COST: u32 = 12;

/// A server without a practical throttle, with `vic` (a hash of the server's own
/// policy), `dora` (the same, disabled), the FastAPI app's users, whose hashes
/// were made with another Argon2 policy, and `bea`, imported with a bcrypt hash.
fn server() -> TestServer {
    let server = TestServer::start_with(&NO_THROTTLE);
    server.add_user("vic", "pw-vic", &[]);
    server.add_user("dora", "pw-dora", &[]);
    server.cli_ok(&["user", "disable", "dora"], None);
    server.import_fastapi_users();
    let bcrypt_hash = bcrypt::hash("pw-bea", BCRYPT_COST).expect("bcrypt hash");
    let imported = server.import(
        "bcrypt-users.json",
        &serde_json::json!([{"username": "bea", "hashed_password": bcrypt_hash}]),
    );
    assert!(imported.status.success(), "{imported:?}");
    server
}

/// Everything a client sees of an answer but its date: status, headers, body bytes.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn seen(response: Response) -> Seen {
    let status = response.status().as_u16();
    let headers = headers_but_date(response.headers());
    let body = response.bytes().expect("response body").to_vec();
    Seen {
        status,
        headers,
        body,
    }
}

#[test]
fn failed_logins_are_byte_identical_whoever_the_user() {
    let server = server();
    let reference = seen(server.login_attempt("nobody", "pw-vic"));
    assert_eq!(reference.status, 401);
    assert_eq!(
        reference.body,
        br#"{"detail":"Incorrect username or password"}"#
    );
    assert!(
        reference
            .headers
            .contains(&("www-authenticate".into(), b"Bearer".to_vec())),
        "{reference:?}"
    );
    let long_name = "n".repeat(300);
    let cases = [
        ("wrong password", "vic", "pw-dora"),
        ("disabled user, wrong password", "dora", "pw-vic"),
        ("imported user, wrong password", "johndoe", "pw-vic"),
        ("imported disabled user, wrong password", "alice", "pw-vic"),
        ("imported bcrypt user, wrong password", "bea", "pw-vic"),
        ("a name no account could have", long_name.as_str(), "pw-vic"),
        ("a name with a slash", "no/body", "pw-vic"),
        ("a name in another script", "\u{540d}\u{524d}", "pw-vic"),
    ];
    for (case, username, password) in cases {
        assert_eq!(
            seen(server.login_attempt(username, password)),
            reference,
            "{case}"
        );
    }
}

#[test]
fn failed_basic_credentials_are_byte_identical_whoever_the_user() {
    let server = server();
    let reference = seen(server.get("/users/me/", Auth::Basic("nobody", "pw-vic")));
    assert_eq!(reference.status, 401);
    assert_eq!(
        reference.body,
        br#"{"detail":"Incorrect username or password"}"#
    );
    for (case, username, password) in [
        ("wrong password", "vic", "pw-dora"),
        ("disabled user, wrong password", "dora", "pw-vic"),
        ("imported user, wrong password", "johndoe", "pw-vic"),
    ] {
        let response = server.get("/users/me/", Auth::Basic(username, password));
        assert_eq!(seen(response), reference, "{case}");
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Times a failed login, checking it is the usual 401.
fn timed_failure(server: &TestServer, username: &str, password: &str) -> (Duration, Seen) {
    let started = Instant::now();
    let answer = seen(server.login_attempt(username, password));
    (started.elapsed(), answer)
}

#[test]
fn failed_logins_take_the_same_time_whatever_the_hash_or_none() {
    let server = server();
    let kinds = [
        ("unknown user", "nobody"),
        ("current policy", "vic"),
        ("imported bcrypt", "bea"),
        ("imported older Argon2", "johndoe"),
    ];
    // Warm up: the first requests pay for connections and caches, and the server
    // meets the hashes imported after it started.
    let (_, reference) = timed_failure(&server, "nobody", "pw-vic");
    for (_, username) in kinds {
        timed_failure(&server, username, "warm-up");
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(ROUNDS); kinds.len()];
    // Alternate the kinds so drift in machine load falls on all of them alike.
    for round in 0..ROUNDS {
        for (index, (kind, username)) in kinds.iter().enumerate() {
            let (elapsed, answer) = timed_failure(&server, username, "not-the-password");
            assert_eq!(answer, reference, "{kind}, round {round}");
            samples[index].push(elapsed);
        }
    }
    // The pace follows the load, so compare the kinds within each round: the
    // slowest of the round over its fastest.
    let spreads: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let times = samples.iter().map(|kind| kind[round].as_secs_f64());
            let slowest = times.clone().fold(f64::MIN, f64::max);
            slowest / times.fold(f64::MAX, f64::min)
        })
        .collect();
    let mut sorted_spreads = spreads.clone();
    sorted_spreads.sort_by(f64::total_cmp);
    let spread = sorted_spreads[ROUNDS / 2];
    let figures: Vec<String> = kinds
        .iter()
        .zip(samples)
        .map(|((kind, _), times)| format!("{kind} {:.1?}", median(times)))
        .collect();
    eprintln!(
        "median failed-login time over {ROUNDS} each: {} | slowest/fastest within a round: \
         median {spread:.3}, worst {:.3}",
        figures.join(" | "),
        sorted_spreads[ROUNDS - 1]
    );
    assert!(
        spread < 2.0,
        "failed logins tell the hash kinds apart: {} (spreads {spreads:?})",
        figures.join(" | ")
    );
}

/// Argon2 passes of the server's current policy that make one check of it take
/// minutes (1 MiB a pass): far longer than the harness waits for a server to start.
const ENDLESS_ITERATIONS: &str = "100000";

#[test]
fn serves_while_the_kinds_of_hash_are_being_timed() {
    // The server times checks of its current policy when it starts (the dummy
    // hash of unknown users is of that kind). Timed before it listened, this
    // server would not answer for minutes and the harness would give up on it.
    let mut server = TestServer::start_with(&[("LATCHKEY_ARGON2_ITERATIONS", ENDLESS_ITERATIONS)]);
    assert_eq!(server.get("/healthz", Auth::None).status(), 200);
    assert_eq!(server.get("/readyz", Auth::None).status(), 200);
    assert_eq!(
        server.get("/.well-known/jwks.json", Auth::None).status(),
        200
    );
    // A graceful stop would wait for the check in progress.
    server.crash();
}
