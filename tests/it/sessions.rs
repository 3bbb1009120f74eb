//! What ends every session of a user, for good: a new password (`user
//! set-password`, or a re-import with another hash), disabling them (`user
//! disable`, or a re-import), deleting them. Their tokens stay refused when the
//! user is enabled again or the name is taken again; other users' sessions and a
//! re-import that changes nothing leave the sessions live.

use crate::support::*;
use serde_json::json;

/// Re-imports nina with her current hash and `fields`; the import must succeed.
#[track_caller]
fn reimport_nina(server: &TestServer, fields: serde_json::Value) -> CliOutput {
    let mut entry = json!({
        "username": "nina",
        "hashed_password": server.stored_password_hash("nina"),
    });
    for (name, value) in fields.as_object().expect("fields") {
        entry[name] = value.clone();
    }
    let output = server.import("users.json", &json!([entry]));
    assert!(output.status.success(), "{output:?}");
    output
}

// ----- a new password -----

#[test]
fn a_new_password_ends_every_session_of_the_user() {
    let server = two_user_server();
    let first = session_of(&server, "nina");
    let second = session_of(&server, "nina");
    let omar = session_of(&server, "omar");
    server.cli_ok(&["user", "set-password", "nina"], Some("pw-nina-newer\n"));
    assert_session_ended(&server, &first);
    assert_session_ended(&server, &second);
    assert_session_live(&server, &omar, "omar");
    server.login("nina", "pw-nina-newer", None);
}

#[test]
fn a_new_password_from_a_reimport_ends_every_session_of_the_user() {
    let server = two_user_server();
    let nina = session_of(&server, "nina");
    let omar = session_of(&server, "omar");
    let new_hash = server.stored_password_hash("omar").unwrap();
    let output = reimport_nina(&server, json!({"hashed_password": new_hash}));
    assert!(output.stdout.contains("1 session(s) ended"), "{output:?}");

    assert_session_ended(&server, &nina);
    assert_session_live(&server, &omar, "omar");
    // Her new password is omar's now.
    server.login("nina", "pw-omar", None);
}

#[test]
fn a_reimport_that_keeps_the_password_keeps_the_sessions() {
    let server = two_user_server();
    let nina = session_of(&server, "nina");
    reimport_nina(&server, json!({"full_name": "Nina"}));
    assert_session_live(&server, &nina, "nina");
}

// ----- disabling -----

#[test]
fn disabling_ends_every_session_and_enabling_does_not_revive_them() {
    let server = two_user_server();
    let nina = session_of(&server, "nina");
    let omar = session_of(&server, "omar");
    server.cli_ok(&["user", "disable", "nina"], None);
    assert_session_ended(&server, &nina);
    server.cli_ok(&["user", "enable", "nina"], None);
    assert_session_ended(&server, &nina);
    assert_session_live(&server, &omar, "omar");
    assert_access_works(&server, &session_of(&server, "nina").access, "nina");
}

#[test]
fn disabling_a_user_by_reimport_ends_their_sessions_for_good() {
    let server = two_user_server();
    let nina = session_of(&server, "nina");
    reimport_nina(&server, json!({"disabled": true}));
    reimport_nina(&server, json!({"disabled": false}));
    assert_session_ended(&server, &nina);
    session_of(&server, "nina");
}

// ----- deleting -----

#[test]
fn a_deleted_users_tokens_stay_dead_when_the_name_is_taken_again() {
    let server = two_user_server();
    let nina = session_of(&server, "nina");
    assert_access_works(&server, &nina.access, "nina");
    server.cli_ok(&["user", "delete", "nina"], None);
    assert_session_ended(&server, &nina);

    server.add_user("nina", "pw-nina", &[]);
    assert_session_ended(&server, &nina);
}
