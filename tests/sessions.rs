//! Sessions, past the basics of `tests/refresh_and_revocation.rs`: what a refresh
//! may and may not change, that the tokens of a rotated session share its fate,
//! that reuse and revocation reach spent tokens and other instances, and that every
//! way an operator changes a password or disables a user (the CLI's
//! `user import` included) ends the user's sessions for good.
#![cfg(feature = "ssr")]

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const INVALID_GRANT: &str = "Invalid or expired refresh token";
const INVALID_TOKEN: &str = "Could not validate credentials";

/// The two tokens a login or a refresh hands out.
#[derive(Debug, Clone)]
struct Tokens {
    access: String,
    refresh: String,
}

impl Tokens {
    fn of(body: &Value) -> Self {
        let text = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} is a string: {body}"))
                .to_owned()
        };
        Self {
            access: text("access_token"),
            refresh: text("refresh_token"),
        }
    }
}

/// A server with users nina and omar.
fn server() -> TestServer {
    server_with(&[])
}

fn server_with(env: &[(&str, &str)]) -> TestServer {
    let server = TestServer::start_with(env);
    server.add_user("nina", "pw-nina", &[]);
    server.add_user("omar", "pw-omar", &[]);
    server
}

/// A new session of `username` (whose password is `pw-<username>`).
fn login(server: &TestServer, username: &str) -> Tokens {
    Tokens::of(&server.login_response(username, &format!("pw-{username}"), None))
}

/// `POST /token` with `grant_type=refresh_token`.
fn refresh_request(server: &TestServer, refresh_token: &str, scope: Option<&str>) -> Response {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    form.extend(scope.map(|scope| ("scope", scope)));
    server.token_request(&form)
}

/// Swaps `refresh_token` for new tokens; the swap must succeed.
#[track_caller]
fn refresh(server: &TestServer, refresh_token: &str) -> Tokens {
    let (status, _, body) = parts(refresh_request(server, refresh_token, None));
    assert_eq!(status, StatusCode::OK, "refresh failed: {body}");
    Tokens::of(&body)
}

/// `POST /logout` with `access_token`.
fn logout(server: &TestServer, access_token: &str) -> Response {
    server
        .request(reqwest::Method::POST, "/logout", Auth::Bearer(access_token))
        .send()
        .expect("POST /logout")
}

/// `POST /revoke` with these form fields.
fn revoke(server: &TestServer, form: &[(&str, &str)]) -> Response {
    server
        .client()
        .post(server.url("/revoke"))
        .form(form)
        .send()
        .expect("POST /revoke")
}

#[track_caller]
fn assert_access_works(server: &TestServer, access_token: &str, username: &str) {
    let (status, _, body) = parts(server.get("/users/me/", Auth::Bearer(access_token)));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], username);
}

#[track_caller]
fn assert_access_refused(server: &TestServer, access_token: &str) {
    assert_error(
        server.get("/users/me/", Auth::Bearer(access_token)),
        401,
        INVALID_TOKEN,
        Some("Bearer scope=\"me\""),
    );
}

#[track_caller]
fn assert_refresh_refused(server: &TestServer, refresh_token: &str) {
    assert_error(
        refresh_request(server, refresh_token, None),
        400,
        INVALID_GRANT,
        None,
    );
}

/// Both tokens of a session are refused.
#[track_caller]
fn assert_session_ended(server: &TestServer, tokens: &Tokens) {
    assert_access_refused(server, &tokens.access);
    assert_refresh_refused(server, &tokens.refresh);
}

/// Both tokens of a session still work (the refresh token is spent doing so: the
/// session's new tokens are returned).
#[track_caller]
fn assert_session_live(server: &TestServer, tokens: &Tokens, username: &str) -> Tokens {
    assert_access_works(server, &tokens.access, username);
    let next = refresh(server, &tokens.refresh);
    assert_access_works(server, &next.access, username);
    next
}

/// A `sqlite:` URL of the database of `server`, for another instance to share.
fn database_url_of(server: &TestServer) -> String {
    format!(
        "sqlite://{}",
        server.data_dir().join("latchkey.db").display()
    )
}

/// Every column of every row of `refresh_tokens`, as text, read from the SQLite
/// file read-only.
fn stored_refresh_token_rows(server: &TestServer) -> Vec<String> {
    server.query_texts(
        "SELECT token_hash || ' ' || session_id || ' ' || expires_at || ' '
                || coalesce(used_at, '') FROM refresh_tokens",
        &[],
    )
}

// ----- refreshing -----

#[test]
fn every_login_gets_its_own_refresh_token_and_no_row_holds_it() {
    let server = server();
    let tokens = login(&server, "nina");
    let token = &tokens.refresh;
    assert!(token.len() >= 43, "only {} characters", token.len());
    assert!(!token.contains('.'), "looks like a JWT: {token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "not base64url: {token}"
    );
    let other = login(&server, "nina");
    assert_ne!(other.refresh, *token);

    let rows = stored_refresh_token_rows(&server);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert!(!row.contains(token.as_str()), "stored as is: {row}");
        assert!(!row.contains(&other.refresh), "stored as is: {row}");
    }
}

#[test]
fn a_refresh_cannot_widen_the_scope_of_the_login() {
    let server = server();
    let tokens = Tokens::of(&server.login_response("nina", "pw-nina", Some("me")));
    let (status, _, body) = parts(refresh_request(&server, &tokens.refresh, Some("me items")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");
    assert_eq!(
        jwt_segment(body["access_token"].as_str().unwrap(), 1)["scopes"],
        json!(["me"])
    );
}

#[test]
fn a_refresh_asking_an_unknown_scope_is_a_400_and_spends_nothing() {
    let server = server();
    let tokens = login(&server, "nina");
    assert_error(
        refresh_request(&server, &tokens.refresh, Some("me admin")),
        400,
        "Unknown scope: admin",
        None,
    );
    assert_session_live(&server, &tokens, "nina");
}

#[test]
fn a_refresh_issues_access_tokens_of_the_configured_lifetime() {
    let server = server_with(&[("LATCHKEY_ACCESS_TOKEN_MINUTES", "20")]);
    let tokens = login(&server, "nina");
    let (status, _, body) = parts(refresh_request(&server, &tokens.refresh, None));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 20 * 60);
    let claims = jwt_segment(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        20 * 60
    );
}

// ----- logout -----

#[test]
fn logout_ends_the_session_for_tokens_issued_by_a_refresh_too() {
    let server = server();
    let first = login(&server, "nina");
    let second = refresh(&server, &first.refresh);
    assert_eq!(
        logout(&server, &first.access).status(),
        StatusCode::NO_CONTENT
    );
    assert_session_ended(&server, &second);
    // A token of the ended session cannot log out again.
    assert_error(
        logout(&server, &second.access),
        401,
        INVALID_TOKEN,
        Some("Bearer"),
    );
}

// ----- revocation (RFC 7009) -----

#[test]
fn revoking_a_spent_refresh_token_ends_the_session_it_belonged_to() {
    let server = server();
    let first = login(&server, "nina");
    let second = refresh(&server, &first.refresh);
    assert_eq!(
        revoke(&server, &[("token", &first.refresh)]).status(),
        StatusCode::OK
    );
    assert_session_ended(&server, &second);
}

#[test]
fn revoking_tokens_of_another_install_answers_200_and_changes_nothing() {
    let server = server();
    let mut tokens = login(&server, "nina");
    let elsewhere = TestServer::start();
    elsewhere.add_user("nina", "pw-nina", &[]);
    let foreign = login(&elsewhere, "nina");
    for token in [&"A".repeat(43), &foreign.access, &foreign.refresh] {
        let response = revoke(&server, &[("token", token)]);
        assert_eq!(response.status(), StatusCode::OK, "{token}");
        tokens = assert_session_live(&server, &tokens, "nina");
    }
}

// ----- reuse seen by every instance -----

#[test]
fn reuse_detected_on_one_instance_ends_the_session_on_the_other() {
    let one = server();
    let url = database_url_of(&one);
    let two = TestServer::start_with(&[("DATABASE_URL", &url)]);
    let first = login(&one, "nina");
    let second = refresh(&one, &first.refresh);
    assert_refresh_refused(&two, &first.refresh);
    assert_access_refused(&one, &second.access);
    assert_refresh_refused(&one, &second.refresh);
}

// ----- the operator's commands -----

#[test]
fn a_new_password_from_a_reimport_ends_every_session_of_the_user() {
    let server = server();
    let nina = login(&server, "nina");
    let omar = login(&server, "omar");
    let new_hash = server.stored_password_hash("omar").unwrap();
    let output = server.import(
        "users.json",
        &json!([{"username": "nina", "hashed_password": new_hash}]),
    );
    assert!(output.status.success(), "{output:?}");
    assert!(output.stdout.contains("1 session(s) ended"), "{output:?}");

    assert_session_ended(&server, &nina);
    assert_session_live(&server, &omar, "omar");
    // Her new password is omar's now.
    server.login("nina", "pw-omar", None);
}

#[test]
fn a_reimport_that_keeps_the_password_keeps_the_sessions() {
    let server = server();
    let nina = login(&server, "nina");
    let hash = server.stored_password_hash("nina").unwrap();
    let output = server.import(
        "users.json",
        &json!([{"username": "nina", "hashed_password": hash, "full_name": "Nina"}]),
    );
    assert!(output.status.success(), "{output:?}");
    assert_session_live(&server, &nina, "nina");
}

#[test]
fn disabling_a_user_by_reimport_ends_their_sessions_for_good() {
    let server = server();
    let nina = login(&server, "nina");
    let hash = server.stored_password_hash("nina").unwrap();
    let import = |disabled: bool| {
        let output = server.import(
            "users.json",
            &json!([{"username": "nina", "hashed_password": hash, "disabled": disabled}]),
        );
        assert!(output.status.success(), "{output:?}");
    };
    import(true);
    import(false);
    assert_session_ended(&server, &nina);
    login(&server, "nina");
}

#[test]
fn a_deleted_users_tokens_stay_dead_when_the_name_is_taken_again() {
    let server = server();
    let nina = login(&server, "nina");
    server.cli_ok(&["user", "delete", "nina"], None);
    assert_session_ended(&server, &nina);

    server.add_user("nina", "pw-nina", &[]);
    assert_session_ended(&server, &nina);
}
