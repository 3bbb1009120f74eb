//! The operator's database commands: `latchkey db copy` moves a whole deployment
//! (its tokens keep working), `db backup` takes a consistent SQLite snapshot while
//! the server writes, `db migrate` is safe to run at once from several places, and
//! long commands draw progress only on a terminal.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// The items of the holder of `token`, sorted by id.
fn items_of(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, _, body) = parts(server.get("/users/me/items/", Auth::Bearer(token)));
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut items = body.as_array().expect("a list").clone();
    items.sort_by_key(|item| item["item_id"].as_str().unwrap_or_default().to_owned());
    items
}

fn add_item(server: &TestServer, token: &str, item_id: &str) -> StatusCode {
    server
        .request(
            reqwest::Method::POST,
            "/users/me/items/",
            Auth::Bearer(token),
        )
        .json(&json!({"item_id": item_id, "description": format!("about {item_id}")}))
        .send()
        .expect("POST /users/me/items/")
        .status()
}

/// `latchkey db copy` from `from`'s database into `to`'s.
fn copy(from: &TestServer, to: &TestServer) -> CliOutput {
    from.cli(
        &[
            "db",
            "copy",
            "--from",
            &from.database().url(),
            "--to",
            &to.database().url(),
        ],
        None,
    )
}

#[test]
fn db_copy_carries_a_deployment_over_and_its_tokens_keep_working() {
    let mut old = two_user_server();
    old.add_user("dora", "pw-dora", &["--disabled"]);
    let before_rotation = session_of(&old, "nina");
    old.cli_ok(&["key", "rotate"], None);
    // A restarted server signs with the new key at once (a running one within the
    // keyring's re-read interval).
    old.restart();
    let nina = session_of(&old, "nina");
    assert_ne!(kid(&nina.access), kid(&before_rotation.access));
    for item in ["lamp", "kettle"] {
        assert_eq!(add_item(&old, &nina.access, item), StatusCode::CREATED);
    }
    // omar's account is blocked by failed logins.
    while old.login_status("omar", "wrong") != StatusCode::TOO_MANY_REQUESTS {}
    assert_access_works(&old, &before_rotation.access, "nina");
    let keys = old.cli_ok(&["key", "list"], None);
    let items = items_of(&old, &nina.access);
    old.stop();

    let mut new = TestServer::stopped_with(&[]);
    let output = copy(&old, &new);
    assert!(output.status.success(), "{output:?}");
    assert!(
        output.stdout.contains("3 users") && output.stdout.contains("2 items"),
        "{}",
        output.stdout
    );
    new.launch();

    // Sessions and both keys came along: tokens issued before the move work.
    assert_access_works(&new, &before_rotation.access, "nina");
    let renewed = assert_session_live(&new, &nina, "nina");
    assert_eq!(kid(&renewed.access), kid(&nina.access), "the active key");
    assert_eq!(items_of(&new, &renewed.access), items);
    assert_eq!(new.cli_ok(&["key", "list"], None), keys);
    // Hashes, the disabled flag and the throttle's counts came along.
    assert_eq!(new.login_status("nina", "pw-nina"), StatusCode::OK);
    assert_eq!(new.login_status("nina", "wrong"), StatusCode::UNAUTHORIZED);
    assert_eq!(new.login_status("dora", "pw-dora"), StatusCode::BAD_REQUEST);
    assert_eq!(
        new.login_status("omar", "pw-omar"),
        StatusCode::TOO_MANY_REQUESTS
    );
    // New rows get ids of their own after the copied ones.
    new.add_user("nell", "pw-nell", &[]);
    let nell = session_of(&new, "nell");
    assert_eq!(add_item(&new, &nell.access, "lamp"), StatusCode::CREATED);
    assert_eq!(items_of(&new, &nina.access.clone()).len(), 2);
}

#[test]
fn db_copy_writes_only_into_an_empty_database_and_never_half() {
    let source = two_user_server();
    let target = TestServer::stopped_with(&[]);
    let output = copy(&source, &target);
    assert!(output.status.success(), "{output:?}");
    source.add_user("later", "pw-later", &[]);

    let again = copy(&source, &target);
    assert!(!again.status.success(), "copied over data: {again:?}");
    assert!(
        again.one_line_failure().contains("not an empty database"),
        "{again:?}"
    );
    assert_eq!(target.listed_usernames(), ["nina", "omar"]);

    let same = source.cli(
        &[
            "db",
            "copy",
            "--from",
            &source.database().url(),
            "--to",
            &source.database().url(),
        ],
        None,
    );
    assert!(!same.status.success(), "{same:?}");
    assert!(
        same.one_line_failure().contains("same database"),
        "{same:?}"
    );

    let missing = source.scratch("no-such.db");
    let absent = source.cli(
        &[
            "db",
            "copy",
            "--from",
            &format!("sqlite://{}", missing.display()),
            "--to",
            &format!("sqlite://{}", source.scratch("out.db").display()),
        ],
        None,
    );
    assert!(!absent.status.success(), "{absent:?}");
    assert!(
        absent.one_line_failure().contains("no database there"),
        "{absent:?}"
    );
    assert!(!missing.exists(), "the copy created its source");
}

#[test]
fn db_backup_is_a_consistent_snapshot_taken_while_the_server_writes() {
    let server = two_user_server();
    let backup = server.scratch("backup.db");
    let backup_arg = backup.to_str().expect("UTF-8 path").to_owned();
    if !server.database().is_sqlite() {
        let output = server.cli(&["db", "backup", &backup_arg], None);
        assert!(!output.status.success(), "{output:?}");
        assert!(output.one_line_failure().contains("pg_dump"), "{output:?}");
        eprintln!("db backup: this database is not SQLite; only the refusal was tested");
        return;
    }
    let nina = session_of(&server, "nina");

    // Sign-ups keep landing while the backups are taken.
    let acknowledged = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|writer| {
            let (client, url) = (
                http_client_from([127, 0, 0, 1].into()),
                server.url("/users/"),
            );
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let username = format!("w{writer}-{n}");
                    let response = client
                        .post(&url)
                        .json(&json!({"username": username, "password": "copper-violin-meadow-42"}))
                        .send()
                        .expect("POST /users/");
                    assert!(!response.status().is_server_error(), "{response:?}");
                    if response.status() == StatusCode::CREATED {
                        acknowledged
                            .lock()
                            .unwrap()
                            .push((Instant::now(), username));
                    }
                }
            })
        })
        .collect();
    let mut checked = 0;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let output = server.cli(&["db", "backup", &backup_arg], None);
        assert!(output.status.success(), "{output:?}");
        assert!(output.stderr.is_empty(), "{}", output.stderr);
        let in_backup = sqlite_query_texts(&backup, "SELECT username FROM users", &[]);
        let before: Vec<String> = acknowledged
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, _)| *at < started)
            .map(|(_, name)| name.clone())
            .collect();
        for name in &before {
            assert!(
                in_backup.contains(name),
                "{name} is missing from the backup"
            );
        }
        checked += before.len();
        assert_eq!(
            sqlite_query_texts(&backup, "PRAGMA integrity_check", &[]),
            ["ok"]
        );
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("a writer");
    }
    assert!(checked > 0, "no sign-up landed before a backup");
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "backup mode {mode:o}");

    // Restored, the backup serves the same users and sessions.
    let mut restored = TestServer::stopped_with(&[]);
    let file = restored
        .database()
        .sqlite_file()
        .expect("SQLite")
        .to_owned();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::copy(&backup, &file).unwrap();
    restored.launch();
    assert_access_works(&restored, &nina.access, "nina");
    assert_eq!(restored.login_status("omar", "pw-omar"), StatusCode::OK);
}

#[test]
fn db_backup_refuses_what_it_cannot_do_cleanly() {
    let server = two_user_server();
    if !server.database().is_sqlite() {
        eprintln!("db backup: this database is not SQLite; see the consistency test");
        return;
    }
    let folder = server.scratch("backups");
    std::fs::create_dir_all(&folder).unwrap();
    let output = server.cli(&["db", "backup", folder.to_str().unwrap()], None);
    assert!(!output.status.success(), "{output:?}");
    assert!(output.one_line_failure().contains("a folder"), "{output:?}");

    let database = server
        .database()
        .sqlite_file()
        .expect("SQLite")
        .to_str()
        .unwrap()
        .to_owned();
    let output = server.cli(&["db", "backup", &database], None);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        output.one_line_failure().contains("the database itself"),
        "{output:?}"
    );
    assert_eq!(server.login_status("nina", "pw-nina"), StatusCode::OK);
}

#[test]
fn db_migrate_run_at_once_from_several_places_leaves_one_working_schema() {
    let mut server = TestServer::stopped_with(&[]);
    let outputs: Vec<CliOutput> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| server.cli(&["db", "migrate"], None)))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    for output in outputs {
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout.trim(), "database schema is up to date");
    }
    server.launch();
    server.add_user("nina", "pw-nina", &[]);
    assert_eq!(server.login_status("nina", "pw-nina"), StatusCode::OK);
}

/// A user table of `count` users, all with the same cheap hash.
fn many_users(count: usize) -> Value {
    let users: Vec<Value> = (0..count)
        .map(|n| json!({"username": format!("user{n}"), "hashed_password": JOHNDOE_HASH}))
        .collect();
    Value::Array(users)
}

#[test]
fn long_commands_draw_progress_on_a_terminal_and_stay_quiet_in_scripts() {
    let server = TestServer::stopped_with(&[]);
    // In a script (stdout and stderr are pipes): nothing but the summary.
    let output = server.import("users.json", &many_users(300));
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        output.stdout.trim(),
        "imported 300 users (300 new, 0 updated); 0 session(s) ended"
    );
    assert!(output.stderr.is_empty(), "{}", output.stderr);

    // On a terminal (`script` gives the command one): a bar that reaches the end.
    let file = server.scratch("more-users.json");
    std::fs::write(&file, many_users(400).to_string()).unwrap();
    let terminal = server.cli_on_terminal(&["user", "import", file.to_str().unwrap()]);
    assert!(terminal.status.success(), "{terminal:?}");
    assert!(
        terminal.stdout.contains("importing [") && terminal.stdout.contains("/400 ("),
        "no progress bar on the terminal: {:?}",
        terminal.stdout
    );
}

#[test]
fn db_copy_moves_a_deployment_from_postgresql_to_sqlite_and_back() {
    let mut source = two_user_server();
    if !source.database().is_postgres() {
        eprintln!("db copy between kinds: needs {DATABASE_VARIABLE}=postgres://…; skipped");
        return;
    }
    let nina = session_of(&source, "nina");
    assert_eq!(add_item(&source, &nina.access, "lamp"), StatusCode::CREATED);
    let items = items_of(&source, &nina.access);
    source.stop();

    let mut on_sqlite = TestServer::stopped_on_embedded_sqlite(&[]);
    let output = copy(&source, &on_sqlite);
    assert!(output.status.success(), "{output:?}");
    on_sqlite.launch();
    let nina = assert_session_live(&on_sqlite, &nina, "nina");
    assert_eq!(items_of(&on_sqlite, &nina.access), items);
    assert_eq!(on_sqlite.login_status("omar", "pw-omar"), StatusCode::OK);
    on_sqlite.stop();

    let mut back = TestServer::stopped_with(&[]);
    assert!(back.database().is_postgres());
    let output = copy(&on_sqlite, &back);
    assert!(output.status.success(), "{output:?}");
    back.launch();
    let nina = assert_session_live(&back, &nina, "nina");
    assert_eq!(items_of(&back, &nina.access), items);
    // Ids generated after the copy do not collide with the copied ones.
    back.add_user("nell", "pw-nell", &[]);
    let nell = session_of(&back, "nell");
    assert_eq!(add_item(&back, &nell.access, "lamp"), StatusCode::CREATED);
    assert_eq!(items_of(&back, &nina.access), items);
}

#[test]
fn a_migration_lock_made_by_root_does_not_keep_the_service_user_out() {
    // The service runs as its own user; an operator's command run as root may
    // have made the lock file beside the database. Opening the store (at start-up
    // and for every command) takes that lock.
    let server = TestServer::stopped_on_embedded_sqlite(&[]);
    if !running_as_root() {
        eprintln!("migration lock: needs root to act as two users; skipped");
        return;
    }
    let service = "nobody";
    std::fs::set_permissions(server.root(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let data = server.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let chown = std::process::Command::new("chown")
        .args([service, data.to_str().unwrap()])
        .status()
        .expect("chown");
    assert!(chown.success());
    let first = server.cli_as(service, &["db", "migrate"]);
    assert!(first.status.success(), "{first:?}");

    let lock = data.join("latchkey.db-migrate.lock");
    std::fs::remove_file(&lock).unwrap();
    // Made by root now (as `latchkey user add` run as root would make it).
    assert!(server.cli(&["db", "migrate"], None).status.success());
    assert!(lock.exists());
    let again = server.cli_as(service, &["db", "migrate"]);
    assert!(again.status.success(), "{again:?}");
}

/// Whether the tests run as root (they do in CI).
fn running_as_root() -> bool {
    let output = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id -u");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}
