//! Sessions really end when credentials change, and nothing in flight undoes it:
//! a login that checked the old password but finishes after a password change gets
//! no session; a hash upgrade that started before the change never writes the old
//! password back; a scope the user loses is lost at once by every token.

use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// Argon2 costs that make one hash take about a second: long enough for a
/// password change to land while it runs.
const SLOW_HASHING: [(&str, &str); 3] = [
    ("LATCHKEY_ARGON2_MEMORY_KIB", "65536"),
    ("LATCHKEY_ARGON2_ITERATIONS", "30"),
    ("LATCHKEY_ARGON2_PARALLELISM", "1"),
];

/// When the password change is made, after the login was sent.
const CHANGE_AFTER: Duration = Duration::from_millis(300);

/// Replaces `username`'s password by `password` the way an operator can without
/// hashing anything (so it is quick): `user import` with a bcrypt hash.
fn import_new_password(server: &TestServer, username: &str, password: &str) {
    let hash = bcrypt::hash(password, 4).expect("bcrypt");
    let output = server.import(
        "new-password.json",
        &json!([{"username": username, "hashed_password": hash}]),
    );
    assert!(output.status.success(), "import failed: {output:?}");
}

/// Sends a login for `username`, changes the password `CHANGE_AFTER` later, and
/// returns the login's status and how long it took.
fn login_racing_a_password_change(
    server: &TestServer,
    username: &str,
    old_password: &str,
) -> (StatusCode, Duration) {
    thread::scope(|scope| {
        let login = scope.spawn(|| {
            let started = Instant::now();
            let status = server.login_status(username, old_password);
            (status, started.elapsed())
        });
        thread::sleep(CHANGE_AFTER);
        let changing = Instant::now();
        import_new_password(server, username, "a-new-password");
        let (status, took) = login.join().unwrap();
        println!(
            "login took {took:?}; the change was made {CHANGE_AFTER:?} after it started and took {:?}",
            changing.elapsed()
        );
        (status, took)
    })
}

#[track_caller]
fn assert_only_the_new_password_works(server: &TestServer) {
    assert_eq!(
        server.login_status("nina", "pw-nina"),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login_status("nina", "a-new-password"),
        StatusCode::OK
    );
}

fn live_sessions(server: &TestServer, username: &str) -> usize {
    server
        .database()
        .query_texts(
            "SELECT sessions.id FROM sessions JOIN users ON users.id = sessions.user_id
             WHERE users.username = ? AND sessions.revoked_at IS NULL",
            &[username],
        )
        .len()
}

#[test]
fn a_login_that_checked_the_old_password_gets_no_session_after_a_password_change() {
    let server = TestServer::start_with(&SLOW_HASHING);
    server.add_user("nina", "pw-nina", &[]);
    // The control: unraced, the same slow login succeeds.
    let started = Instant::now();
    assert_eq!(server.login_status("nina", "pw-nina"), StatusCode::OK);
    let one_check = started.elapsed();
    println!("one password check takes {one_check:?}");
    assert!(
        one_check > CHANGE_AFTER * 2,
        "hashing too fast for the race to mean anything: {one_check:?}"
    );

    let (status, took) = login_racing_a_password_change(&server, "nina", "pw-nina");
    assert!(took > CHANGE_AFTER, "the login ended before the change");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", server.logs());
    assert_eq!(live_sessions(&server, "nina"), 0);
    assert_only_the_new_password_works(&server);
}

#[test]
fn a_hash_upgrade_in_flight_never_writes_the_old_password_back() {
    let server = TestServer::start_with(&SLOW_HASHING);
    // A legacy hash: quick to check, and upgraded (slowly) at the next login.
    import_new_password(&server, "nina", "pw-nina");
    let legacy = server.stored_password_hash("nina").unwrap();

    let (_, took) = login_racing_a_password_change(&server, "nina", "pw-nina");
    assert!(took > CHANGE_AFTER, "the login ended before the change");
    let stored = server.stored_password_hash("nina").unwrap();
    assert!(
        stored.starts_with("$2b$"),
        "the upgrade was stored: {stored}"
    );
    assert_ne!(stored, legacy, "the change was not made");
    assert_only_the_new_password_works(&server);
}

#[test]
fn a_scope_taken_from_a_user_is_refused_to_their_tokens_at_once() {
    let server = TestServer::start();
    server.add_user("nina", "pw-nina", &[]);
    let tokens = session_of(&server, "nina");
    let items = |access: &str| {
        server
            .get("/users/me/items/", Auth::Bearer(access))
            .status()
    };
    assert_eq!(items(&tokens.access), StatusCode::OK);

    // The operator takes `items` away; the password stays.
    let hash = server.stored_password_hash("nina").unwrap();
    let output = server.import(
        "me-only.json",
        &json!([{"username": "nina", "hashed_password": hash, "scopes": ["me"]}]),
    );
    assert!(output.status.success(), "import failed: {output:?}");

    assert_error(
        server.get("/users/me/items/", Auth::Bearer(&tokens.access)),
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
    );
    assert_access_works(&server, &tokens.access, "nina");
    let (status, _, body) = parts(server.refresh_request(&tokens.refresh, None));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"], "me",
        "the refresh grants what the user still has"
    );
    assert_eq!(
        jwt_segment(body["access_token"].as_str().unwrap(), 1)["scopes"],
        json!(["me"])
    );
}
