//! The token lifecycle over HTTP: refresh tokens are opaque, stored only as hashes
//! and rotate; a refresh may narrow the scopes but never widen them; a reused one
//! ends its session; `/logout` and `/revoke` end sessions, on every instance
//! sharing the database.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

// ----- refreshing -----

#[test]
fn a_refresh_token_is_opaque_unique_and_swapped_for_new_tokens() {
    let server = two_user_server();
    let first = session_of(&server, "nina");
    let token = &first.refresh;
    // `<family>.<secret>`: two random base64url values, not a JWT.
    let (family, secret) = token.split_once('.').expect("family.secret");
    assert!(
        family.len() >= 22,
        "family of only {} characters",
        family.len()
    );
    assert!(
        secret.len() >= 43,
        "secret of only {} characters",
        secret.len()
    );
    for part in [family, secret] {
        assert!(
            part.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "not base64url: {token}"
        );
    }
    let other = session_of(&server, "nina").refresh;
    assert_ne!(other, *token);
    assert!(
        !other.starts_with(family),
        "sessions share a family: {other}"
    );

    let response = server.refresh_request(token, None);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().unwrap();
    let second = Tokens::of(&body);
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(body["scope"], "me items");
    assert_eq!(body["expires_in"], 15 * 60);
    assert_access_works(&server, &second.access, "nina");
    // The old access token lives on until it expires: the session is the same.
    assert_access_works(&server, &first.access, "nina");
    // The session keeps its family; the secret is new.
    assert!(
        second.refresh.starts_with(&format!("{family}.")),
        "{}",
        second.refresh
    );
    // The next refresh works with the new refresh token.
    server.refresh(&second.refresh);
}

#[test]
fn refresh_tokens_are_stored_only_as_hashes() {
    let server = two_user_server();
    let tokens = [
        session_of(&server, "nina").refresh,
        session_of(&server, "omar").refresh,
    ];
    let rows = server.database().query_texts(
        "SELECT id || ' ' || refresh_family || ' ' || refresh_hash || ' ' || refresh_expires_at
         FROM sessions",
        &[],
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        for token in &tokens {
            let (_, secret) = token.split_once('.').unwrap();
            assert!(!row.contains(secret), "stored as is: {row}");
        }
    }
    // The SQLite file and its log, or every row of every PostgreSQL table.
    for (file, bytes) in server.database().stored_bytes() {
        for token in &tokens {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "a refresh token is in {file}"
            );
        }
    }
}

#[test]
fn a_refresh_can_narrow_the_scopes_but_never_widen_them_past_the_login() {
    let server = two_user_server();
    let tokens = session_of(&server, "nina");
    let (status, _, body) = parts(server.refresh_request(&tokens.refresh, Some("me")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");
    assert_error(
        server.get("/users/me/items/", Auth::Bearer(&Tokens::of(&body).access)),
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
    );

    let me_only = server.login_tokens("nina", "pw-nina", Some("me"));
    let (status, _, body) = parts(server.refresh_request(&me_only.refresh, Some("me items")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");
    assert_eq!(
        jwt_segment(body["access_token"].as_str().unwrap(), 1)["scopes"],
        json!(["me"])
    );
}

#[test]
fn a_refresh_asking_an_unknown_scope_is_a_400_and_spends_nothing() {
    let server = two_user_server();
    let tokens = session_of(&server, "nina");
    assert_error(
        server.refresh_request(&tokens.refresh, Some("me admin")),
        400,
        "Unknown scope: admin",
        None,
    );
    assert_session_live(&server, &tokens, "nina");
}

#[test]
fn unknown_refresh_tokens_and_missing_fields_are_refused() {
    let server = two_user_server();
    let tokens = session_of(&server, "nina");
    for token in [
        "not-a-token",
        "x".repeat(43).as_str(),
        tokens.access.as_str(),
    ] {
        assert_refresh_refused(&server, token);
    }
    let (status, _, body) = parts(server.token_request(&[("grant_type", "refresh_token")]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "refresh_token"]));
}

// ----- reuse -----

#[test]
fn reusing_a_spent_refresh_token_ends_the_whole_session() {
    let server = two_user_server();
    let stolen = session_of(&server, "nina");
    let other = session_of(&server, "nina");
    let current = server.refresh(&stolen.refresh);

    // The copy is presented again: refused, and the session is over.
    assert_refresh_refused(&server, &stolen.refresh);
    assert_session_ended(&server, &current);
    assert_token_refused(&server, &stolen.access, "the first access token");
    // Another session of the same user goes on.
    assert_session_live(&server, &other, "nina");
}

#[test]
fn reuse_detected_on_one_instance_ends_the_session_on_the_other() {
    let one = two_user_server();
    let two = TestServer::start_sharing_database(&one, &[]);
    let first = session_of(&one, "nina");
    let second = one.refresh(&first.refresh);
    assert_refresh_refused(&two, &first.refresh);
    assert_session_ended(&one, &second);
}

// ----- logout -----

#[test]
fn logout_ends_the_session_of_its_access_token() {
    let server = two_user_server();
    let tokens = session_of(&server, "nina");
    let other = session_of(&server, "nina");
    assert_eq!(
        server.logout(&tokens.access).status(),
        StatusCode::NO_CONTENT
    );
    assert_session_ended(&server, &tokens);
    assert_access_works(&server, &other.access, "nina");
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
fn logout_ends_the_session_for_tokens_issued_by_a_refresh_too() {
    let server = two_user_server();
    let first = session_of(&server, "nina");
    let second = server.refresh(&first.refresh);
    assert_eq!(
        server.logout(&first.access).status(),
        StatusCode::NO_CONTENT
    );
    assert_session_ended(&server, &second);
    // A token of the ended session cannot log out again.
    assert_error(
        server.logout(&second.access),
        401,
        INVALID_TOKEN,
        Some("Bearer"),
    );
}

#[test]
fn logout_on_one_instance_is_seen_by_another_sharing_the_database() {
    let one = TestServer::start_with(&[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    one.add_user("nina", "pw-nina", &[]);
    let two = TestServer::start_sharing_database(&one, &[("LATCHKEY_SECRET_KEY", SHARED_KEY)]);
    let tokens = session_of(&one, "nina");
    assert_access_works(&two, &tokens.access, "nina");
    assert_eq!(two.logout(&tokens.access).status(), StatusCode::NO_CONTENT);
    assert_session_ended(&one, &tokens);
}

// ----- revocation (RFC 7009) -----

#[test]
fn revoking_either_token_ends_the_session() {
    let server = two_user_server();
    let tokens = session_of(&server, "nina");
    let hinted = [
        ("token", tokens.refresh.as_str()),
        ("token_type_hint", "refresh_token"),
    ];
    assert_eq!(server.revoke(&hinted).status(), StatusCode::OK);
    assert_session_ended(&server, &tokens);

    let tokens = session_of(&server, "nina");
    assert_eq!(
        server.revoke(&[("token", &tokens.access)]).status(),
        StatusCode::OK
    );
    assert_session_ended(&server, &tokens);
}

#[test]
fn revoking_a_spent_refresh_token_ends_the_session_it_belonged_to() {
    let server = two_user_server();
    let first = session_of(&server, "nina");
    let second = server.refresh(&first.refresh);
    assert_eq!(
        server.revoke(&[("token", &first.refresh)]).status(),
        StatusCode::OK
    );
    assert_session_ended(&server, &second);
}

#[test]
fn revoking_unknown_or_foreign_tokens_answers_200_and_changes_nothing() {
    let server = two_user_server();
    let mut tokens = session_of(&server, "nina");
    let elsewhere = TestServer::start();
    elsewhere.add_user("nina", "pw-nina", &[]);
    let foreign = session_of(&elsewhere, "nina");
    let unknown = "A".repeat(43);
    for token in [
        "garbage",
        "a.b.c",
        &unknown,
        &foreign.access,
        &foreign.refresh,
    ] {
        let response = server.revoke(&[("token", token)]);
        assert_eq!(response.status(), StatusCode::OK, "{token}");
        tokens = assert_session_live(&server, &tokens, "nina");
    }
    let (status, _, body) = parts(server.revoke(&[]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "token"]));
}
