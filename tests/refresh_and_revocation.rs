//! The token lifecycle over HTTP: refresh tokens rotate, a reused one ends its
//! session, `/logout` and `/revoke` end sessions on every instance, and changing a
//! password or disabling a user ends all of their sessions.

mod common;

use common::{Auth, SHARED_KEY, TestServer, assert_error, parts};
use reqwest::StatusCode;
use serde_json::{Value, json};

const INVALID_GRANT: &str = "Invalid or expired refresh token";

fn server() -> TestServer {
    let server = TestServer::start();
    server.add_user("nina", "pw-nina-long", &[]);
    server
}

/// Logs nina in: (access token, refresh token).
fn login(server: &TestServer) -> (String, String) {
    let body = server.login_response("nina", "pw-nina-long", None);
    (text(&body, "access_token"), text(&body, "refresh_token"))
}

fn text(body: &Value, field: &str) -> String {
    body[field].as_str().expect(field).to_owned()
}

fn refresh(server: &TestServer, token: &str, scope: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let (status, _, body) = parts(server.token_request(&form));
    (status, body)
}

#[track_caller]
fn assert_refresh_refused(server: &TestServer, token: &str) {
    let (status, body) = refresh(server, token, None);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body, json!({ "detail": INVALID_GRANT }));
}

#[track_caller]
fn assert_access_refused(server: &TestServer, token: &str) {
    assert_error(
        server.get("/users/me/", Auth::Bearer(token)),
        401,
        "Could not validate credentials",
        Some("Bearer scope=\"me\""),
    );
}

#[track_caller]
fn assert_access_works(server: &TestServer, token: &str) {
    let (status, _, body) = parts(server.get("/users/me/", Auth::Bearer(token)));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "nina");
}

fn revoke(server: &TestServer, form: &[(&str, &str)]) -> reqwest::blocking::Response {
    server
        .client()
        .post(server.url("/revoke"))
        .form(form)
        .send()
        .expect("POST /revoke")
}

#[test]
fn a_refresh_token_is_opaque_and_swapped_for_new_tokens() {
    let server = server();
    let (access, refresh_token) = login(&server);
    assert!(!refresh_token.contains('.'), "not a JWT: {refresh_token}");
    assert!(refresh_token.len() >= 43, "{refresh_token}");

    let response = server.token_request(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh_token),
    ]);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().unwrap();
    let (new_access, new_refresh) = (text(&body, "access_token"), text(&body, "refresh_token"));
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh_token);
    assert_eq!(body["scope"], "me items");
    assert_eq!(body["expires_in"], 15 * 60);
    assert_access_works(&server, &new_access);
    // The old access token lives on until it expires: the session is the same.
    assert_access_works(&server, &access);
    // The next refresh works with the new refresh token.
    assert_eq!(refresh(&server, &new_refresh, None).0, StatusCode::OK);
}

#[test]
fn a_refresh_can_narrow_the_scopes_but_not_name_unknown_ones() {
    let server = server();
    let (_, refresh_token) = login(&server);
    let (status, body) = refresh(&server, &refresh_token, Some("me"));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");
    assert_error(
        server.get(
            "/users/me/items/",
            Auth::Bearer(&text(&body, "access_token")),
        ),
        401,
        "Not enough permissions",
        Some("Bearer scope=\"items me\""),
    );
    let (status, body) = refresh(&server, &text(&body, "refresh_token"), Some("admin"));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[test]
fn reusing_a_spent_refresh_token_ends_the_whole_session() {
    let server = server();
    let (access, stolen) = login(&server);
    let (other_access, other_refresh) = login(&server);
    let (status, body) = refresh(&server, &stolen, None);
    assert_eq!(status, StatusCode::OK);
    let (current_access, current_refresh) =
        (text(&body, "access_token"), text(&body, "refresh_token"));

    // The copy is presented again: refused, and the session is over.
    assert_refresh_refused(&server, &stolen);
    assert_refresh_refused(&server, &current_refresh);
    assert_access_refused(&server, &current_access);
    assert_access_refused(&server, &access);
    // Another session of the same user goes on.
    assert_access_works(&server, &other_access);
    assert_eq!(refresh(&server, &other_refresh, None).0, StatusCode::OK);
}

#[test]
fn unknown_refresh_tokens_and_missing_fields_are_refused() {
    let server = server();
    let (access, _) = login(&server);
    for token in ["not-a-token", "x".repeat(43).as_str(), access.as_str()] {
        assert_refresh_refused(&server, token);
    }
    let (status, _, body) = parts(server.token_request(&[("grant_type", "refresh_token")]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "refresh_token"]));
}

#[test]
fn refresh_tokens_are_stored_only_as_hashes() {
    let server = server();
    let (_, refresh_token) = login(&server);
    let database = std::fs::read(server.data_dir().join("latchkey.db")).unwrap();
    let wal = std::fs::read(server.data_dir().join("latchkey.db-wal")).unwrap_or_default();
    for (file, bytes) in [("latchkey.db", database), ("latchkey.db-wal", wal)] {
        assert!(
            !bytes
                .windows(refresh_token.len())
                .any(|w| w == refresh_token.as_bytes()),
            "the refresh token is in {file}"
        );
    }
}

#[test]
fn logout_ends_the_session_of_its_access_token() {
    let server = server();
    let (access, refresh_token) = login(&server);
    let (other_access, _) = login(&server);
    let response = server
        .request(reqwest::Method::POST, "/logout", Auth::Bearer(&access))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_access_refused(&server, &access);
    assert_refresh_refused(&server, &refresh_token);
    assert_access_works(&server, &other_access);
    assert_error(
        server
            .request(reqwest::Method::POST, "/logout", Auth::None)
            .send()
            .unwrap(),
        401,
        "Not authenticated",
        Some("Bearer"),
    );
}

#[test]
fn revoking_either_token_ends_the_session() {
    let server = server();
    let (access, refresh_token) = login(&server);
    assert_eq!(
        revoke(
            &server,
            &[
                ("token", &refresh_token),
                ("token_type_hint", "refresh_token")
            ]
        )
        .status(),
        StatusCode::OK
    );
    assert_access_refused(&server, &access);
    assert_refresh_refused(&server, &refresh_token);

    let (access, refresh_token) = login(&server);
    assert_eq!(
        revoke(&server, &[("token", &access)]).status(),
        StatusCode::OK
    );
    assert_access_refused(&server, &access);
    assert_refresh_refused(&server, &refresh_token);
}

#[test]
fn revoking_an_unknown_token_says_ok_and_changes_nothing() {
    let server = server();
    let (access, refresh_token) = login(&server);
    for token in ["garbage", "a.b.c"] {
        assert_eq!(
            revoke(&server, &[("token", token)]).status(),
            StatusCode::OK
        );
    }
    assert_access_works(&server, &access);
    assert_eq!(refresh(&server, &refresh_token, None).0, StatusCode::OK);
    let (status, _, body) = parts(revoke(&server, &[]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "token"]));
}

#[test]
fn logout_on_one_instance_is_seen_by_another_sharing_the_database() {
    let one = TestServer::start_with(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    one.add_user("nina", "pw-nina-long", &[]);
    let url = format!("sqlite://{}", one.data_dir().join("latchkey.db").display());
    let two = TestServer::start_with(&[
        ("LATCHKEY_SECRET_KEY", SHARED_KEY),
        ("DATABASE_URL", url.as_str()),
    ]);
    let (access, refresh_token) = login(&one);
    assert_access_works(&two, &access);
    let response = two
        .request(reqwest::Method::POST, "/logout", Auth::Bearer(&access))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_access_refused(&one, &access);
    assert_refresh_refused(&one, &refresh_token);
}

#[test]
fn a_new_password_ends_every_session_of_the_user() {
    let server = server();
    let (first, first_refresh) = login(&server);
    let (second, _) = login(&server);
    server.cli_ok(&["user", "set-password", "nina"], Some("pw-nina-newer\n"));
    assert_access_refused(&server, &first);
    assert_access_refused(&server, &second);
    assert_refresh_refused(&server, &first_refresh);
    server.login("nina", "pw-nina-newer", None);
}

#[test]
fn disabling_ends_every_session_and_enabling_does_not_revive_them() {
    let server = server();
    let (access, refresh_token) = login(&server);
    server.cli_ok(&["user", "disable", "nina"], None);
    assert_access_refused(&server, &access);
    assert_refresh_refused(&server, &refresh_token);
    server.cli_ok(&["user", "enable", "nina"], None);
    assert_access_refused(&server, &access);
    assert_refresh_refused(&server, &refresh_token);
    assert_access_works(&server, &login(&server).0);
}

#[test]
fn a_deleted_users_session_cannot_be_refreshed() {
    let server = server();
    let (access, refresh_token) = login(&server);
    server.cli_ok(&["user", "delete", "nina"], None);
    assert_refresh_refused(&server, &refresh_token);
    assert_access_refused(&server, &access);
}

#[test]
fn the_access_token_lifetime_follows_the_configuration() {
    let server = TestServer::start_with(&[("LATCHKEY_ACCESS_TOKEN_MINUTES", "5")]);
    server.add_user("nina", "pw-nina-long", &[]);
    let body = server.login_response("nina", "pw-nina-long", None);
    assert_eq!(body["expires_in"], 300);
    let claims = common::jwt_segment(&text(&body, "access_token"), 1);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
}
