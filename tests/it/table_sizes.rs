//! No table grows without bound: a loop of refreshes stores nothing per refresh
//! (reuse is still recognised, of the oldest token too), the periodic cleanup
//! deletes sessions that ended, and a loop of failed logins stores no more than
//! the address's allowance. (Failure counts are deleted once forgotten, after
//! `throttle_reset_minutes`: too long to wait for here.)

use std::thread;
use std::time::Duration;

use crate::support::*;

const REFRESHES: usize = 200;
const LOGIN_LOGOUT_CYCLES: usize = 30;

fn session_rows(server: &TestServer) -> usize {
    server
        .database()
        .query_texts("SELECT id FROM sessions", &[])
        .len()
}

#[test]
fn sessions_and_refresh_tokens_stay_bounded_under_loops_of_refreshes_and_logins() {
    let server = TestServer::start_with(&[
        ("LATCHKEY_SESSION_CLEANUP_SECONDS", "1"),
        ("LATCHKEY_REFRESH_SESSION_PER_MINUTE", "100000"),
        ("LATCHKEY_REFRESH_ADDRESS_PER_MINUTE", "100000"),
    ]);
    server.add_user("nina", "pw-nina", &[]);
    let first = session_of(&server, "nina");
    let mut tokens = server.refresh(&first.refresh);
    for _ in 1..REFRESHES {
        tokens = server.refresh(&tokens.refresh);
    }
    let tables = server.database().table_names();
    println!(
        "tables: {tables:?}; sessions after {REFRESHES} refreshes: {}",
        session_rows(&server)
    );
    assert_eq!(session_rows(&server), 1, "a refresh stored a row");

    for _ in 0..LOGIN_LOGOUT_CYCLES {
        let ended = session_of(&server, "nina");
        assert!(server.logout(&ended.access).status().is_success());
    }
    let before_cleanup = session_rows(&server);
    thread::sleep(Duration::from_millis(2500));
    let after_cleanup = session_rows(&server);
    println!(
        "sessions after {LOGIN_LOGOUT_CYCLES} logins and logouts: {before_cleanup}, after the cleanup: {after_cleanup}"
    );
    assert_eq!(after_cleanup, 1, "only the live session is left");
    assert_access_works(&server, &tokens.access, "nina");

    // Nothing was kept of the spent tokens, yet the first one, spent 200 rotations
    // ago, is still recognised as reuse: the session ends.
    assert_refresh_refused(&server, &first.refresh);
    assert_session_ended(&server, &tokens);
}

#[test]
fn a_loop_of_failed_logins_for_ever_new_usernames_stores_no_more_than_the_allowance() {
    const ALLOWANCE: usize = 20;
    let server =
        TestServer::start_with(&[("LATCHKEY_THROTTLE_ADDRESS_FAILURES", &ALLOWANCE.to_string())]);
    for n in 0..10 * ALLOWANCE {
        let status = server.login_status(&format!("nobody{n}"), "wrong");
        assert!(status == 401 || status == 429, "{status}");
    }
    let rows = server
        .database()
        .query_texts("SELECT subject_key FROM login_failures", &[])
        .len();
    println!(
        "login_failures rows after {} failed logins: {rows}",
        10 * ALLOWANCE
    );
    // One per account tried before the address was blocked, and the address: a
    // blocked address's attempts are refused without being counted.
    assert_eq!(rows, ALLOWANCE + 1);
}
