//! The signing key (generated into the database, an older version's key file, or
//! `LATCHKEY_SECRET_KEY`), what survives a restart, and tokens across the move
//! from the FastAPI app: latchkey's verify with the shared key, the FastAPI app's
//! are refused. (Forged tokens: `attack_tokens` and `attack_token_claims`.)

use std::os::unix::fs::PermissionsExt as _;

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

fn key_file(server: &TestServer) -> std::path::PathBuf {
    server.data_dir().join("secret.key")
}

/// A server signing with [`SHARED_KEY`], with johndoe imported.
fn server_with_shared_key() -> TestServer {
    TestServer::start_with_fastapi_users(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)])
}

// ----- restart and the generated key -----

#[test]
fn users_and_tokens_survive_a_restart() {
    let mut server = TestServer::start();
    server.add_user("nina", "pw-nina", &["--full-name", "Nina"]);
    let token = server.login("nina", "pw-nina", None);
    server.stop();
    server.launch();
    server.login("nina", "pw-nina", None);
    let (status, _, body) = parts(server.get("/users/me/", Auth::Bearer(&token)));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["full_name"], "Nina");
}

#[test]
fn items_survive_a_restart() {
    let mut server = TestServer::start();
    server.add_user("nina", "pw-nina", &[]);
    let token = server.login("nina", "pw-nina", None);
    let response = server
        .request(
            reqwest::Method::POST,
            "/users/me/items/",
            Auth::Bearer(&token),
        )
        .json(&json!({"item_id": "kept", "description": "across restarts"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.restart();
    let (status, _, body) = parts(server.get("/users/me/items/", Auth::Bearer(&token)));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!([{"item_id": "kept", "owner": "nina", "description": "across restarts"}])
    );
}

#[test]
fn the_database_is_private_and_the_generated_key_survives_a_restart() {
    let mut server = TestServer::start();
    server.add_user("nina", "pw-nina", &[]);
    if let Some(file) = server.database().sqlite_file() {
        let mode = std::fs::metadata(file)
            .expect("the database exists after the first start")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    } else {
        eprintln!(
            "PostgreSQL: no database file whose mode to check (the server guards its own files)"
        );
    }
    if server.database().server_url().is_none() {
        // The data directory the server created is private too.
        let mode = std::fs::metadata(server.data_dir())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "data directory mode {mode:o}");
    }
    let kid = jwt_segment(&server.login("nina", "pw-nina", None), 0)["kid"].clone();
    assert!(kid.as_str().is_some_and(|k| k.len() == 16), "kid {kid}");
    server.restart();
    let again = jwt_segment(&server.login("nina", "pw-nina", None), 0)["kid"].clone();
    assert_eq!(again, kid, "the signing key changed");
    assert!(
        !key_file(&server).exists(),
        "the key is kept in the database"
    );
}

#[test]
fn a_key_file_of_an_older_version_becomes_the_signing_key() {
    let mut server = TestServer::stopped_with(&[]);
    std::fs::create_dir_all(server.data_dir()).unwrap();
    std::fs::write(key_file(&server), format!("{SHARED_KEY}\n")).unwrap();
    server.launch();
    server.import_fastapi_users();
    let token = server.login("johndoe", "secret", None);
    claims_verified_with_secret(&token, SHARED_KEY.as_bytes());
}

#[test]
fn each_data_dir_gets_its_own_key() {
    let one = TestServer::start();
    one.add_user("olga", "pw-olga", &[]);
    let token = one.login("olga", "pw-olga", None);
    let two = TestServer::start();
    two.add_user("olga", "pw-olga", &[]);
    let other = two.login("olga", "pw-olga", None);
    assert_ne!(jwt_segment(&token, 0)["kid"], jwt_segment(&other, 0)["kid"]);
    assert_token_refused(&two, &token, "a token of another data directory");
}

#[test]
fn environment_key_writes_no_key_file() {
    let server = TestServer::start_with(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    if let Some(file) = server.database().sqlite_file() {
        assert!(file.exists());
    }
    assert!(!key_file(&server).exists());
}

#[test]
fn tokens_are_refused_after_the_key_changes() {
    let mut server = server_with_shared_key();
    let token = server.login("johndoe", "secret", None);
    server.stop();
    server.set_env(
        "LATCHKEY_SECRET_KEY",
        "4d8b5828e2bbdaf3ccd80920ba233dda3548dbd358419728fdc2961b8aacacde",
    );
    server.launch();
    assert_token_refused(&server, &token, "a token of the old key");
    // A new login works with the new key.
    let fresh = server.login("johndoe", "secret", None);
    assert_eq!(
        server.get("/users/me/", Auth::Bearer(&fresh)).status(),
        StatusCode::OK
    );
}

#[test]
fn secret_key_shorter_than_32_bytes_stops_the_server() {
    let server = TestServer::stopped_with(&[("LATCHKEY_SECRET_KEY", &"k".repeat(31))]);
    let output = server.serve_expecting_exit();
    assert!(!output.status.success(), "{output:?}");
    assert!(
        output.stderr.contains("at least 32 bytes"),
        "stderr: {}",
        output.stderr
    );
    assert!(
        !output.stderr.contains(&"k".repeat(31)),
        "the key is printed: {}",
        output.stderr
    );
}

#[test]
fn published_and_guessable_secret_keys_stop_the_server() {
    let fastapi_key = fastapi_example_key();
    let repeated = "k".repeat(64);
    let mut cases = vec![
        ("a-string-secret-at-least-256-bits-long", "jwt.io's sample"),
        (repeated.as_str(), "too easy to guess"),
        ("passwordpasswordpasswordpassword", "too easy to guess"),
    ];
    if let Some(key) = &fastapi_key {
        cases.push((key.as_str(), "FastAPI's OAuth2 JWT tutorial"));
    }
    for (key, reason) in cases {
        let server = TestServer::stopped_with(&[("LATCHKEY_SECRET_KEY", key)]);
        let output = server.serve_expecting_exit();
        assert!(!output.status.success(), "{key}: {output:?}");
        assert!(output.stderr.contains(reason), "{key}: {}", output.stderr);
        assert!(
            !output.stderr.contains(key),
            "the key is printed: {}",
            output.stderr
        );
    }
}

#[test]
fn secret_key_of_exactly_32_bytes_is_accepted() {
    let key = "_uFTG07Z1RmwDYeMIRF3xcaAMqi-BMep";
    assert_eq!(key.len(), 32);
    let server = TestServer::start_with(&[("LATCHKEY_SECRET_KEY", key)]);
    server.add_user("pam", "pw-pam", &[]);
    let token = server.login("pam", "pw-pam", None);
    assert_eq!(
        server.get("/status/", Auth::Bearer(&token)).status(),
        StatusCode::OK
    );
}

#[test]
fn short_key_file_stops_the_server() {
    let server = TestServer::stopped_with(&[]);
    std::fs::create_dir_all(server.data_dir()).unwrap();
    std::fs::write(key_file(&server), "too-short\n").unwrap();
    let output = server.serve_expecting_exit();
    assert!(!output.status.success(), "{output:?}");
    assert!(
        output.stderr.contains("at least 32 bytes"),
        "stderr: {}",
        output.stderr
    );
}

// ----- tokens from elsewhere -----

#[test]
fn a_token_minted_like_the_fastapi_app_is_refused() {
    // PyJWT's jwt.encode({"sub", "scopes", "exp"}, SECRET_KEY, algorithm="HS256"):
    // right key, but no key id, no token type and no session that could be ended,
    // so it could never be revoked. Clients of the FastAPI app log in again. (Each
    // of these alone: `attack_tokens` and `attack_token_claims`.)
    let server = server_with_shared_key();
    let token = sign_hs256(
        &json!({"sub": "johndoe", "scopes": ["me", "items"], "exp": now() + 600}),
        SHARED_KEY.as_bytes(),
    );
    assert_token_refused(&server, &token, "a token minted like the FastAPI app's");
}

#[test]
fn issued_tokens_verify_with_the_shared_key() {
    // The other direction of the migration: the FastAPI app (PyJWT) can read
    // latchkey's tokens.
    let server = server_with_shared_key();
    let token = server.login("johndoe", "secret", None);
    let claims = claims_verified_with_secret(&token, SHARED_KEY.as_bytes());
    assert_eq!(claims["sub"], "johndoe");
    assert_eq!(claims["scopes"], json!(["me", "items"]));
}
