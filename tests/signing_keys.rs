//! Signing keys over HTTP and the command line: every token names its key, key
//! rotation keeps older tokens valid, EdDSA and RS256 keys are published as a JWKS
//! that verifies tokens without any secret, and issuer/audience are enforced.

mod common;

use common::{Auth, SHARED_KEY, TestServer, jwt_segment, parts};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

fn server_with(env: &[(&str, &str)]) -> TestServer {
    let server = TestServer::start_with(env);
    server.add_user("nina", "pw-nina-long", &[]);
    server
}

fn login(server: &TestServer) -> String {
    server.login("nina", "pw-nina-long", None)
}

fn kid(token: &str) -> String {
    jwt_segment(token, 0)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

#[track_caller]
fn assert_works(server: &TestServer, token: &str, case: &str) {
    let status = server.get("/users/me/", Auth::Bearer(token)).status();
    assert_eq!(status, StatusCode::OK, "{case}");
}

fn jwks(server: &TestServer) -> Value {
    let (status, _, body) = parts(server.get("/.well-known/jwks.json", Auth::None));
    assert_eq!(status, StatusCode::OK);
    body
}

/// Verifies `token` with nothing but the published JWKS, as another service would.
fn verify_with_jwks(jwks: &Value, token: &str) -> Value {
    let kid = kid(token);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
    let (key, algorithm) = match jwk["kty"].as_str() {
        Some("OKP") => (
            DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap(),
            Algorithm::EdDSA,
        ),
        Some("RSA") => (
            DecodingKey::from_rsa_components(
                jwk["n"].as_str().unwrap(),
                jwk["e"].as_str().unwrap(),
            )
            .unwrap(),
            Algorithm::RS256,
        ),
        other => panic!("unexpected kty {other:?}"),
    };
    jsonwebtoken::decode::<Value>(token, &key, &Validation::new(algorithm))
        .expect("the token verifies with the published key")
        .claims
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
    assert_works(&server, &before, "old token, same process");

    server.restart();
    let after = login(&server);
    assert_eq!(kid(&after), new_kid, "new tokens use the new key");
    assert_works(&server, &before, "old token after a restart");
    assert_works(&server, &after, "new token");

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
    let url = format!("sqlite://{}", one.data_dir().join("latchkey.db").display());
    let two = TestServer::start_with(&[("DATABASE_URL", url.as_str())]);
    let rotated = one.cli_ok(&["key", "rotate"], None);
    let new_kid = rotated.trim().rsplit(' ').next().unwrap().to_owned();
    // A server started after the rotation signs with the new key ...
    let three = TestServer::start_with(&[("DATABASE_URL", url.as_str())]);
    let token = three.login("nina", "pw-nina-long", None);
    assert_eq!(kid(&token), new_kid);
    // ... and the ones started before accept it at once (an unknown kid makes them
    // read the keyring again).
    assert_works(&one, &token, "first instance");
    assert_works(&two, &token, "second instance");
}

#[test]
fn eddsa_and_rs256_tokens_verify_with_the_published_keys_alone() {
    for algorithm in ["EdDSA", "RS256"] {
        let server = server_with(&[("LATCHKEY_SIGNING_ALGORITHM", algorithm)]);
        let token = login(&server);
        assert_eq!(jwt_segment(&token, 0)["alg"], algorithm);
        assert_works(&server, &token, algorithm);
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
    assert_works(&server, &hs256, "the HS256 token of before");
    assert_works(&server, &eddsa, "the new EdDSA token");
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
    let one = server_with(&[
        ("LATCHKEY_TOKEN_ISSUER", "https://login.example"),
        ("LATCHKEY_TOKEN_AUDIENCE", "items-api"),
    ]);
    let token = login(&one);
    let claims = jwt_segment(&token, 1);
    assert_eq!(claims["iss"], "https://login.example");
    assert_eq!(claims["aud"], "items-api");
    assert_works(&one, &token, "its own issuer");
    let url = format!("sqlite://{}", one.data_dir().join("latchkey.db").display());
    for (setting, value) in [
        ("LATCHKEY_TOKEN_ISSUER", "https://other.example"),
        ("LATCHKEY_TOKEN_AUDIENCE", "other-api"),
    ] {
        let mut env = vec![
            ("DATABASE_URL", url.as_str()),
            ("LATCHKEY_TOKEN_ISSUER", "https://login.example"),
            ("LATCHKEY_TOKEN_AUDIENCE", "items-api"),
        ];
        env.retain(|(k, _)| *k != setting);
        env.push((setting, value));
        let other = TestServer::start_with(&env);
        let status = other.get("/users/me/", Auth::Bearer(&token)).status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{setting}={value}");
    }
}
