//! The operator's command line: `latchkey user import|add|list|set-password|
//! disable|enable|delete`, observed through the CLI itself and the running server.

use crate::support::*;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An Argon2 PHC string of `password` with other parameters than the server's.
fn argon2_hash(algorithm: argon2::Algorithm, m: u32, t: u32, p: u32, password: &str) -> String {
    let params = argon2::Params::new(m, t, p, None).unwrap();
    let hasher = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params);
    let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
    hasher
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

fn user_entry(username: &str, hash: &str) -> Value {
    json!({"username": username, "hashed_password": hash})
}

/// The `user list` line of `username`, split into columns.
fn list_line(server: &TestServer, username: &str) -> Option<Vec<String>> {
    server
        .cli_ok(&["user", "list"], None)
        .lines()
        .skip(1)
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .find(|columns| columns.first().map(String::as_str) == Some(username))
}

// ----- user import -----

#[test]
fn imports_the_fastapi_user_table_keyed_by_username() {
    let server = TestServer::start();
    let output = server.import("users.json", &fastapi_users());
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.contains("2 new"), "{}", output.stdout);
    assert_eq!(server.listed_usernames(), ["alice", "johndoe"]);
    assert_eq!(list_line(&server, "alice").unwrap()[1], "disabled");
    assert_eq!(list_line(&server, "johndoe").unwrap()[1], "active");

    let token = server.login("johndoe", "secret", None);
    assert_eq!(
        server.me(&token),
        json!({"username": "johndoe", "email": "johndoe@example.com", "full_name": "John Doe", "disabled": false})
    );
    assert_eq!(
        server.login_status("alice", "secretalice"),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn imports_a_list_of_users_with_scopes() {
    let server = TestServer::start();
    let output = server.import(
        "users.json",
        &json!([
            {"username": "johndoe", "hashed_password": JOHNDOE_HASH, "scopes": ["me"]},
            {"username": "other", "hashed_password": JOHNDOE_HASH, "scopes": "items me",
             "full_name": "Other One", "email": "other@example.com"},
        ]),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(server.listed_usernames(), ["johndoe", "other"]);
    assert_eq!(
        server.login_response("johndoe", "secret", None)["scope"],
        "me"
    );
    let token = server.login("other", "secret", None);
    assert_eq!(server.me(&token)["full_name"], "Other One");
}

#[test]
fn imported_bcrypt_hashes_log_in() {
    let server = TestServer::start();
    let two_b = bcrypt::hash("bcrypt-2b-pw", 4).unwrap();
    assert!(two_b.starts_with("$2b$04$"), "{two_b}");
    let two_y = bcrypt::hash_with_result("bcrypt-2y-pw", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY);
    assert!(two_y.starts_with("$2y$04$"), "{two_y}");
    let output = server.import(
        "users.json",
        &json!([user_entry("twob", &two_b), user_entry("twoy", &two_y)]),
    );
    assert!(output.status.success(), "{output:?}");
    server.login("twob", "bcrypt-2b-pw", None);
    server.login("twoy", "bcrypt-2y-pw", None);
    assert_eq!(
        server.login_status("twob", "bcrypt-2y-pw"),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn imported_argon2_hashes_of_other_parameters_log_in() {
    let server = TestServer::start();
    let id = argon2_hash(argon2::Algorithm::Argon2id, 2048, 2, 2, "argon-id-pw");
    let i = argon2_hash(argon2::Algorithm::Argon2i, 4096, 1, 1, "argon-i-pw");
    assert!(id.starts_with("$argon2id$v=19$m=2048,t=2,p=2$"), "{id}");
    assert!(i.starts_with("$argon2i$v=19$m=4096,t=1,p=1$"), "{i}");
    let output = server.import(
        "users.json",
        &json!([user_entry("argonid", &id), user_entry("argoni", &i)]),
    );
    assert!(output.status.success(), "{output:?}");
    server.login("argonid", "argon-id-pw", None);
    server.login("argoni", "argon-i-pw", None);
    assert_eq!(
        server.login_status("argoni", "argon-id-pw"),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn reimport_updates_existing_users() {
    let server = TestServer::start();
    server.import_fastapi_users();
    let token = server.login("johndoe", "secret", None);
    assert_eq!(server.me(&token)["full_name"], "John Doe");

    let mut users = fastapi_users();
    // The login upgraded johndoe's hash: the file's old one would be a new password,
    // which ends his sessions (`sessions`). Only his profile changes here.
    users["johndoe"]["hashed_password"] = json!(server.stored_password_hash("johndoe"));
    users["johndoe"]["full_name"] = json!("Johnny Doe");
    users["johndoe"]["email"] = json!("johnny@example.com");
    users["alice"]["disabled"] = json!(false);
    let output = server.import("users-v2.json", &users);
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.contains("2 updated"), "{}", output.stdout);

    // The token issued before the re-import shows the new data.
    let body = server.me(&token);
    assert_eq!(body["full_name"], "Johnny Doe");
    assert_eq!(body["email"], "johnny@example.com");
    // Alice is enabled now.
    server.login("alice", "secretalice", None);
    assert_eq!(server.listed_usernames(), ["alice", "johndoe"]);
}

#[test]
fn reimport_replaces_the_password_hash() {
    let server = TestServer::start();
    server.import_fastapi_users();
    let new_hash = bcrypt::hash("new-secret", 4).unwrap();
    let output = server.import(
        "users-v2.json",
        &json!({"johndoe": {"hashed_password": new_hash}}),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        server.login_status("johndoe", "secret"),
        StatusCode::UNAUTHORIZED
    );
    server.login("johndoe", "new-secret", None);
}

/// Imports a file that must be refused; returns the one-line message and checks
/// that no user of the file was imported.
#[track_caller]
fn refused_import(text: &str) -> String {
    let server = TestServer::stopped_with(&[]);
    let output = server.import_text("bad-users.json", text);
    let line = output.one_line_failure().to_owned();
    assert!(line.contains("bad-users.json"), "names the file: {line}");
    assert_eq!(
        server.listed_usernames(),
        Vec::<String>::new(),
        "a refused file imported users"
    );
    line
}

#[test]
fn import_of_invalid_json_names_the_line_and_imports_nothing() {
    let text = format!(
        "[\n  {{\"username\": \"good\", \"hashed_password\": \"{JOHNDOE_HASH}\"}},\n  {{\"username\": \"bad\",\n]"
    );
    let line = refused_import(&text);
    assert!(line.contains("line 4"), "{line}");
}

#[test]
fn import_without_hashed_password_names_the_entry_and_imports_nothing() {
    let text = json!([
        user_entry("good", JOHNDOE_HASH),
        {"username": "nohash", "full_name": "No Hash"},
    ])
    .to_string();
    let line = refused_import(&text);
    assert!(line.contains("entry 1"), "{line}");
    assert!(line.contains("hashed_password"), "{line}");
}

#[test]
fn import_with_a_plaintext_password_as_hash_names_the_user_and_imports_nothing() {
    let text = json!({
        "aaa-good": {"hashed_password": JOHNDOE_HASH},
        "plain": {"hashed_password": "secret"},
        "zzz-good": {"hashed_password": JOHNDOE_HASH},
    })
    .to_string();
    let line = refused_import(&text);
    assert!(line.contains("\"plain\""), "{line}");
    assert!(line.contains("hashed_password"), "{line}");
    assert!(!line.contains(": secret"), "echoes the password: {line}");
}

#[test]
fn import_with_an_unknown_scope_names_it_and_imports_nothing() {
    let text = json!([
        user_entry("good", JOHNDOE_HASH),
        {"username": "admin", "hashed_password": JOHNDOE_HASH, "scopes": ["me", "admin"]},
    ])
    .to_string();
    let line = refused_import(&text);
    assert!(line.contains("entry 1"), "{line}");
    assert!(line.contains("admin"), "{line}");
}

#[test]
fn refused_import_leaves_existing_users_unchanged() {
    let server = TestServer::start();
    server.import_fastapi_users();
    let mut users = fastapi_users();
    users["johndoe"]["full_name"] = json!("Changed");
    users["alice"]["hashed_password"] = json!("plaintext");
    let output = server.import("users-v2.json", &users);
    output.one_line_failure();
    let token = server.login("johndoe", "secret", None);
    assert_eq!(server.me(&token)["full_name"], "John Doe");
}

#[test]
fn import_of_a_missing_file_fails_with_one_line() {
    let server = TestServer::stopped_with(&[]);
    let output = server.cli(&["user", "import", "no-such-file.json"], None);
    let line = output.one_line_failure();
    assert!(line.contains("no-such-file.json"), "{line}");
}

// ----- user add / list -----

#[test]
fn add_reads_the_password_from_stdin_and_sets_the_fields() {
    let server = TestServer::start();
    let stdout = server.cli_ok(
        &[
            "user",
            "add",
            "carol",
            "--email",
            "carol@example.com",
            "--full-name",
            "Carol Singer",
            "--scopes",
            "me",
        ],
        Some("carol's password\n"),
    );
    assert!(stdout.contains("carol"), "{stdout}");
    let body = server.login_response("carol", "carol's password", None);
    assert_eq!(body["scope"], "me");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        server.me(token),
        json!({"username": "carol", "email": "carol@example.com", "full_name": "Carol Singer", "disabled": false})
    );
}

#[test]
fn add_takes_only_the_first_line_of_stdin() {
    let server = TestServer::start();
    server.cli_ok(&["user", "add", "dave"], Some("first line\nsecond line\n"));
    server.login("dave", "first line", None);
    assert_eq!(
        server.login_status("dave", "first line\nsecond line"),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn add_disabled_creates_an_inactive_user() {
    let server = TestServer::start();
    server.add_user("erin", "pw-erin", &["--disabled"]);
    assert_eq!(list_line(&server, "erin").unwrap()[1], "disabled");
    assert_eq!(
        server.login_status("erin", "pw-erin"),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn list_shows_users_with_status_scopes_and_email() {
    let server = TestServer::stopped_with(&[]);
    server.add_user("zed", "pw-zed", &["--email", "zed@example.com"]);
    server.add_user("amy", "pw-amy", &["--scopes", "items", "--disabled"]);
    let stdout = server.cli_ok(&["user", "list"], None);
    let header = stdout.lines().next().unwrap();
    assert!(header.contains("USERNAME"), "{stdout}");
    assert_eq!(server.listed_usernames(), ["amy", "zed"]);
    assert_eq!(
        list_line(&server, "zed").unwrap(),
        ["zed", "active", "me", "items", "zed@example.com"]
    );
    assert_eq!(
        list_line(&server, "amy").unwrap(),
        ["amy", "disabled", "items"]
    );
    assert!(!stdout.contains("argon2"), "list shows hashes: {stdout}");
}

// ----- set-password / disable / enable / delete -----

#[test]
fn set_password_replaces_the_password() {
    let server = TestServer::start();
    server.add_user("frank", "old-password", &[]);
    server.cli_ok(&["user", "set-password", "frank"], Some("new-password\n"));
    assert_eq!(
        server.login_status("frank", "old-password"),
        StatusCode::UNAUTHORIZED
    );
    server.login("frank", "new-password", None);
}

#[test]
fn disable_and_enable_switch_login_on_and_off() {
    let server = TestServer::start();
    server.add_user("gina", "pw-gina", &[]);
    server.cli_ok(&["user", "disable", "gina"], None);
    assert_eq!(list_line(&server, "gina").unwrap()[1], "disabled");
    assert_error(
        server.login_attempt("gina", "pw-gina"),
        400,
        "Inactive user",
        None,
    );
    server.cli_ok(&["user", "enable", "gina"], None);
    assert_eq!(list_line(&server, "gina").unwrap()[1], "active");
    let token = server.login("gina", "pw-gina", None);
    assert_eq!(server.me(&token)["disabled"], false);
}

#[test]
fn delete_removes_the_user_and_invalidates_their_tokens() {
    let server = TestServer::start();
    server.add_user("hank", "pw-hank", &[]);
    server.add_user("ivy", "pw-ivy", &[]);
    let token = server.login("hank", "pw-hank", None);
    server.cli_ok(&["user", "delete", "hank"], None);
    assert_eq!(server.listed_usernames(), ["ivy"]);
    assert_error(
        server.get("/users/me/", Auth::Bearer(&token)),
        401,
        "Could not validate credentials",
        Some("Bearer scope=\"me\""),
    );
    assert_eq!(
        server.login_status("hank", "pw-hank"),
        StatusCode::UNAUTHORIZED
    );
    server.login("ivy", "pw-ivy", None);
}

// ----- refused commands -----

#[test]
fn commands_on_an_unknown_user_fail_with_one_line() {
    let server = TestServer::stopped_with(&[]);
    server.add_user("known", "pw-known", &[]);
    for (args, stdin) in [
        (vec!["user", "set-password", "ghost"], Some("pw\n")),
        (vec!["user", "disable", "ghost"], None),
        (vec!["user", "enable", "ghost"], None),
        (vec!["user", "delete", "ghost"], None),
    ] {
        let output = server.cli(&args, stdin);
        let line = output.one_line_failure();
        assert!(line.contains("ghost"), "{args:?}: {line}");
    }
    assert_eq!(server.listed_usernames(), ["known"]);
}

#[test]
fn adding_an_existing_user_fails_and_keeps_their_password() {
    let server = TestServer::start();
    server.add_user("jack", "first-password", &[]);
    let output = server.cli(&["user", "add", "jack"], Some("second-password\n"));
    let line = output.one_line_failure();
    assert!(line.contains("jack"), "{line}");
    server.login("jack", "first-password", None);
    assert_eq!(
        server.login_status("jack", "second-password"),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn adding_a_bad_username_fails_with_one_line() {
    let server = TestServer::stopped_with(&[]);
    for name in ["a b", "a:b", ""] {
        let output = server.cli(&["user", "add", name], Some("password\n"));
        let line = output.one_line_failure();
        assert!(line.to_lowercase().contains("username"), "{name:?}: {line}");
    }
    assert_eq!(server.listed_usernames(), Vec::<String>::new());
}

#[test]
fn adding_with_an_empty_password_fails_with_one_line() {
    let server = TestServer::stopped_with(&[]);
    for stdin in ["", "\n"] {
        let output = server.cli(&["user", "add", "kate"], Some(stdin));
        let line = output.one_line_failure();
        assert!(line.contains("password"), "{stdin:?}: {line}");
    }
    assert_eq!(server.listed_usernames(), Vec::<String>::new());
}

#[test]
fn setting_an_empty_password_fails_and_keeps_the_old_one() {
    let server = TestServer::start();
    server.add_user("liam", "pw-liam", &[]);
    let output = server.cli(&["user", "set-password", "liam"], Some("\n"));
    let line = output.one_line_failure();
    assert!(line.contains("password"), "{line}");
    server.login("liam", "pw-liam", None);
}

#[test]
fn adding_with_an_unknown_scope_fails_with_one_line() {
    let server = TestServer::stopped_with(&[]);
    let output = server.cli(
        &["user", "add", "mona", "--scopes", "me admin"],
        Some("pw-mona\n"),
    );
    let line = output.one_line_failure();
    assert!(line.contains("admin"), "{line}");
    assert_eq!(server.listed_usernames(), Vec::<String>::new());
}

#[test]
fn other_latchkey_variables_in_the_environment_are_not_settings() {
    // Test and CI helpers (LATCHKEY_BASE_URL for Playwright, LATCHKEY_CI_TARGET)
    // share the prefix; an operator's shell may export them.
    let mut server = TestServer::stopped_with(&[]);
    server.set_env("LATCHKEY_BASE_URL", "http://127.0.0.1:3000");
    server.set_env("LATCHKEY_CI_TARGET", "/tmp/elsewhere");
    let output = server.cli(&["user", "list"], None);
    assert!(output.status.success(), "{output:?}");
    // A misspelt value of a real setting is still refused with its name.
    server.set_env("LATCHKEY_ACCESS_TOKEN_MINUTES", "soon");
    let output = server.cli(&["user", "list"], None);
    assert!(!output.status.success());
    assert!(
        output
            .stderr
            .to_lowercase()
            .contains("access_token_minutes"),
        "{}",
        output.stderr
    );
}
