//! Several instances over one PostgreSQL database: they may start at the same moment on an
//! empty database (the migrations run once, under the migrator's lock), and on
//! PostgreSQL they learn of another instance's key rotation at once (LISTEN/NOTIFY),
//! not only at the next periodic re-read of the keyring.

use std::time::{Duration, Instant};

use crate::support::*;

fn kid(token: &str) -> String {
    jwt_segment(token, 0)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

#[test]
fn two_instances_starting_at_once_on_an_empty_database_both_serve() {
    for round in 0..3 {
        // Nothing has touched the database yet: the first start migrates it.
        let mut one = TestServer::stopped_with(&[]);
        if !one.database().is_postgres() {
            // Two processes creating one SQLite file at once can meet "database is
            // locked" while the file is switched to WAL; SQLite is one instance.
            eprintln!("skipped: several instances share a database on PostgreSQL only");
            return;
        }
        let mut two = TestServer::stopped_sharing_database(&one, &[]);
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for server in [&mut one, &mut two] {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    server.launch();
                });
            }
        });
        one.add_user("nina", "pw-nina-long", &[]);
        for server in [&one, &two] {
            let token = server.login("nina", "pw-nina-long", None);
            assert_access_works(server, &token, "nina");
        }
        let tables = one.database().table_names();
        assert!(
            tables.iter().any(|t| t == "users"),
            "round {round}: {tables:?}"
        );
    }
}

#[test]
fn a_key_rotated_on_the_command_line_signs_on_every_running_instance_within_two_seconds() {
    key_rotation_reaches_a_running_instance(false);
}

#[test]
fn the_change_feed_listens_again_after_losing_its_connection() {
    key_rotation_reaches_a_running_instance(true);
}

/// Rotates the key with the CLI while two instances run (their periodic re-read an
/// hour away), after cutting every database connection of theirs if `cut`, and
/// checks the second instance signs with the new key within two seconds.
fn key_rotation_reaches_a_running_instance(cut: bool) {
    let slow = [("LATCHKEY_KEYRING_REFRESH_SECONDS", "3600")];
    let one = TestServer::start_with(&slow);
    if cut && !one.database().is_postgres() {
        eprintln!("skipped: SQLite has no connection to cut (its change counter is a file)");
        return;
    }
    let two = TestServer::start_sharing_database(&one, &slow);
    one.add_user("nina", "pw-nina-long", &[]);
    let old_kid = kid(&two.login("nina", "pw-nina-long", None));
    if cut {
        let cut = one.database().query_texts(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        );
        assert!(!cut.is_empty(), "no connection to cut");
        // Let the listener notice and listen again.
        std::thread::sleep(Duration::from_millis(500));
    }
    let rotated = one.cli_ok(&["key", "rotate"], None);
    let new_kid = rotated.trim().rsplit(' ').next().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let rotated_at = Instant::now();
    loop {
        let signed_with = kid(&two.login("nina", "pw-nina-long", None));
        if signed_with == new_kid {
            break;
        }
        assert!(
            rotated_at.elapsed() < Duration::from_secs(2),
            "the other instance still signs with {signed_with} {:?} after the rotation",
            rotated_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "the other instance signed with the new key {:?} after the rotation",
        rotated_at.elapsed()
    );
}
