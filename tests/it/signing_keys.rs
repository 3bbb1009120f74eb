//! Signing keys over HTTP and the command line: every token names its key, key
//! rotation keeps older tokens valid, EdDSA and RS256 keys are published as a JWKS
//! that verifies tokens without any secret, and issuer/audience are enforced.

use std::time::{Duration, Instant};

use crate::support::*;

fn server_with(env: &[(&str, &str)]) -> TestServer {
    let server = TestServer::start_with(env);
    server.add_user("nina", "pw-nina-long", &[]);
    server
}

fn login(server: &TestServer) -> String {
    server.login("nina", "pw-nina-long", None)
}

#[test]
fn every_token_names_its_key_and_hs256_publishes_nothing() {
    let server = server_with(&[]);
    let token = login(&server);
    assert_eq!(jwt_segment(&token, 0)["alg"], "HS256");
    assert_eq!(jwt_segment(&token, 0)["typ"], "at+jwt");
    assert_eq!(kid(&token).len(), 16);
    assert_eq!(jwks(&server), serde_json::json!({"keys": []}));
}

#[test]
fn rotation_adds_a_signing_key_and_older_tokens_keep_working() {
    let mut server = server_with(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    let before = login(&server);
    let output = server.cli_ok(&["key", "rotate"], None);
    assert!(output.starts_with("new HS256 signing key "), "{output}");
    let new_kid = output.trim().rsplit(' ').next().unwrap().to_owned();
    assert_ne!(new_kid, kid(&before));
    // The running server keeps verifying the old key's tokens.
    assert_access_works(&server, &before, "nina");

    server.restart();
    let after = login(&server);
    assert_eq!(kid(&after), new_kid, "new tokens use the new key");
    assert_access_works(&server, &before, "nina");
    assert_access_works(&server, &after, "nina");

    let list = server.cli_ok(&["key", "list"], None);
    assert!(
        list.lines()
            .any(|l| l.starts_with(&new_kid) && l.ends_with("signing")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with(&kid(&before)) && l.contains("verifying until")),
        "{list}"
    );
    assert!(!list.contains(SHARED_KEY), "the key is listed: {list}");
}

#[test]
fn a_running_server_meets_a_rotated_key_on_another_instance() {
    let one = server_with(&[]);
    let two = TestServer::start_sharing_database(&one, &[]);
    let rotated = one.cli_ok(&["key", "rotate"], None);
    let new_kid = rotated.trim().rsplit(' ').next().unwrap().to_owned();
    // A server started after the rotation signs with the new key ...
    let three = TestServer::start_sharing_database(&one, &[]);
    let token = three.login("nina", "pw-nina-long", None);
    assert_eq!(kid(&token), new_kid);
    // ... and the ones started before accept it at once (an unknown kid makes them
    // read the keyring again).
    assert_access_works(&one, &token, "nina");
    assert_access_works(&two, &token, "nina");
}

#[test]
fn tokens_with_unknown_key_ids_make_the_keyring_be_read_at_most_once_a_second() {
    const METRICS: &str = "5d2b8e1f7a3c9046e2b8f1a7";
    let server = server_with(&[
        ("LATCHKEY_SECRET_KEY", forge::SERVER_KEY),
        ("LATCHKEY_METRICS_TOKEN", METRICS),
    ]);
    let token = forge::GenuineToken::new(&server, login(&server), forge::SERVER_KEY.as_bytes());
    let reads = || {
        metric_sample(
            &scrape_metrics(&server, METRICS),
            "latchkey_keyring_reads_total",
        )
        .unwrap_or(0.0)
    };
    let before = reads();
    let started = Instant::now();
    // Each differs from the issued token in its key id alone (signed again with
    // the real key); four clients at once.
    std::thread::scope(|scope| {
        for client in 0..4 {
            let (server, token) = (&server, &token);
            scope.spawn(move || {
                for n in 0..50 {
                    let kid = format!("{client:08x}{n:08x}");
                    let forged = token.with_header("kid", Some(serde_json::json!(kid)));
                    let response = server.get("/users/me/", Auth::Bearer(&forged));
                    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let read = reads() - before;
    // One read a second started, and the periodic re-read besides.
    assert!(
        read <= seconds.ceil() + 2.0,
        "{read} keyring reads for 200 unknown key ids in {seconds:.1} s"
    );
    // The issued token still works, and a real rotation elsewhere is still met
    // at once (`a_running_server_meets_a_rotated_key_on_another_instance`).
    assert_access_works(&server, token.token(), "nina");
}

#[test]
fn eddsa_and_rs256_tokens_verify_with_the_published_keys_alone() {
    for algorithm in ["EdDSA", "RS256"] {
        let server = server_with(&[("LATCHKEY_SIGNING_ALGORITHM", algorithm)]);
        let token = login(&server);
        assert_eq!(jwt_segment(&token, 0)["alg"], algorithm);
        assert_access_works(&server, &token, "nina");
        let published = jwks(&server);
        let keys = published["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{published}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                keys[0].get(private).is_none(),
                "{algorithm}: {private} is published"
            );
        }
        assert_eq!(keys[0]["alg"], algorithm);
        let claims = verify_with_jwks(&published, &token);
        assert_eq!(claims["sub"], "nina");
    }
}

#[test]
fn changing_the_algorithm_rotates_and_keeps_older_tokens() {
    let mut server = server_with(&[]);
    let hs256 = login(&server);
    server.stop();
    server.set_env("LATCHKEY_SIGNING_ALGORITHM", "EdDSA");
    server.launch();
    let eddsa = login(&server);
    assert_eq!(jwt_segment(&eddsa, 0)["alg"], "EdDSA");
    assert_access_works(&server, &hs256, "nina");
    assert_access_works(&server, &eddsa, "nina");
    verify_with_jwks(&jwks(&server), &eddsa);
}

#[test]
fn a_secret_key_with_an_asymmetric_algorithm_stops_the_server() {
    let server = TestServer::stopped_with(&[
        ("LATCHKEY_SECRET_KEY", SHARED_KEY),
        ("LATCHKEY_SIGNING_ALGORITHM", "EdDSA"),
    ]);
    let output = server.serve_expecting_exit();
    assert!(!output.status.success(), "{output:?}");
    assert!(
        output.stderr.contains("signing_algorithm"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains(SHARED_KEY), "the key is printed");
    let unknown = TestServer::stopped_with(&[("LATCHKEY_SIGNING_ALGORITHM", "none")]);
    let output = unknown.serve_expecting_exit();
    assert!(!output.status.success(), "{output:?}");
    assert!(
        output.stderr.contains("HS256, EdDSA or RS256"),
        "{}",
        output.stderr
    );
}

#[test]
fn issuer_and_audience_are_carried_and_required() {
    let configured = [
        ("LATCHKEY_TOKEN_ISSUER", "https://login.example"),
        ("LATCHKEY_TOKEN_AUDIENCE", "items-api"),
    ];
    let one = server_with(&configured);
    let token = login(&one);
    let claims = jwt_segment(&token, 1);
    assert_eq!(claims["iss"], "https://login.example");
    assert_eq!(claims["aud"], "items-api");
    assert_access_works(&one, &token, "nina");
    // Another instance of the same settings takes it: it shares keys and sessions.
    let same = TestServer::start_sharing_database(&one, &configured);
    assert_access_works(&same, &token, "nina");
    // One setting changed: refused.
    for (setting, value) in [
        ("LATCHKEY_TOKEN_ISSUER", "https://other.example"),
        ("LATCHKEY_TOKEN_AUDIENCE", "other-api"),
    ] {
        let mut env = configured.to_vec();
        env.retain(|(k, _)| *k != setting);
        env.push((setting, value));
        let other = TestServer::start_sharing_database(&one, &env);
        assert_token_refused(&other, &token, &format!("{setting}={value}"));
    }
}

/// How long the verifying instance may go without reading the keyring again (its
/// `keyring_refresh_seconds`), and the test's margin on top of it.
const KEYRING_REFRESH: Duration = Duration::from_secs(2);
const REFRESH_MARGIN: Duration = Duration::from_secs(5);

/// A verifier instance over `one`'s database (with `verifier_env`), a token `one`
/// signed with [`SHARED_KEY`] that it accepts, then `one` restarted with a new
/// `LATCHKEY_SECRET_KEY`, which withdraws that key: the verifier, the token,
/// a token of the new key, and when the new key was in place.
fn withdraw_the_shared_key(verifier_env: &[(&str, &str)]) -> (TestServer, String, String, Instant) {
    let mut one = server_with(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    let verifier = TestServer::start_sharing_database(&one, verifier_env);
    let token = one.login("nina", "pw-nina-long", None);
    assert_access_works(&verifier, &token, "nina");
    // The operator withdraws the leaked key: a new LATCHKEY_SECRET_KEY replaces it.
    one.stop();
    one.set_env(
        "LATCHKEY_SECRET_KEY",
        "4c2f0a9e7d1b3c5e8f6a2d4b9c1e3f5a7b9d2c4e6f8a1b3d5c7e9f2a4b6c8d0e",
    );
    one.launch();
    let withdrawn = Instant::now();
    let fresh = one.login("nina", "pw-nina-long", None);
    assert_ne!(jwt_segment(&fresh, 0)["kid"], jwt_segment(&token, 0)["kid"]);
    (verifier, token, fresh, withdrawn)
}

#[test]
fn a_withdrawn_key_stops_verifying_on_an_instance_that_only_verifies() {
    let (verifier, token, fresh, withdrawn) =
        withdraw_the_shared_key(&[("LATCHKEY_KEYRING_REFRESH_SECONDS", "2")]);
    // The verifier is only ever asked to verify the old token.
    while verifier.get("/users/me/", Auth::Bearer(&token)).status() == 200 {
        assert!(
            withdrawn.elapsed() < KEYRING_REFRESH + REFRESH_MARGIN,
            "the withdrawn key still verifies after {:?}",
            withdrawn.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "the withdrawn key stopped verifying after {:?}",
        withdrawn.elapsed()
    );
    assert_token_refused(&verifier, &token, "a token of the withdrawn key");
    assert_access_works(&verifier, &fresh, "nina");
}

#[test]
fn a_withdrawn_key_stops_verifying_at_once_on_a_running_instance() {
    // The periodic re-read an hour away: the change itself must reach it (SQLite's
    // change counter, PostgreSQL's notifications).
    let (verifier, token, fresh, withdrawn) =
        withdraw_the_shared_key(&[("LATCHKEY_KEYRING_REFRESH_SECONDS", "3600")]);
    assert_at_once(
        &verifier,
        "/users/me/",
        &token,
        withdrawn,
        reqwest::StatusCode::UNAUTHORIZED,
    );
    assert_token_refused(&verifier, &token, "a token of the withdrawn key");
    assert_access_works(&verifier, &fresh, "nina");
}
