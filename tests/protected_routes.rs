//! `/users/me/`, `/users/me/items/` and `/status/`: what each needs, and FastAPI's
//! answers when the credential falls short.
#![cfg(feature = "ssr")]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const ME_CHALLENGE: &str = "Bearer scope=\"me\"";
const ITEMS_CHALLENGE: &str = "Bearer scope=\"items me\"";

/// A server with the FastAPI app's users imported.
fn server_with_fastapi_users() -> TestServer {
    let server = TestServer::start();
    server.import_fastapi_users();
    server
}

#[test]
fn users_me_with_and_without_slash_shows_exactly_the_public_fields() {
    let server = server_with_fastapi_users();
    let token = server.login("johndoe", "secret", Some("me"));
    let expected = json!({
        "username": "johndoe",
        "email": "johndoe@example.com",
        "full_name": "John Doe",
        "disabled": false,
    });
    for path in ["/users/me/", "/users/me"] {
        // The client follows no redirect: both paths answer themselves.
        let (status, _, body) = parts(server.get(path, Auth::Bearer(&token)));
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body, expected, "{path}");
    }
}

#[test]
fn users_me_items_needs_both_scopes() {
    let server = server_with_fastapi_users();
    let both = server.login("johndoe", "secret", Some("me items"));
    let (status, _, body) = parts(server.get("/users/me/items/", Auth::Bearer(&both)));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]));

    let me_only = server.login("johndoe", "secret", Some("me"));
    assert_error(
        server.get("/users/me/items/", Auth::Bearer(&me_only)),
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
    );
    let items_only = server.login("johndoe", "secret", Some("items"));
    assert_error(
        server.get("/users/me/items/", Auth::Bearer(&items_only)),
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
    );
}

#[test]
fn users_me_refuses_a_token_without_scope_me() {
    let server = server_with_fastapi_users();
    let items_only = server.login("johndoe", "secret", Some("items"));
    assert_error(
        server.get("/users/me/", Auth::Bearer(&items_only)),
        401,
        "Not enough permissions",
        Some(ME_CHALLENGE),
    );
}

#[test]
fn status_answers_ok_for_any_valid_token_even_without_scopes() {
    let server = TestServer::start();
    server.add_user("noscope", "pw-noscope", &["--scopes", ""]);
    let body = server.login_response("noscope", "pw-noscope", None);
    assert_eq!(body["scope"], "");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(jwt_segment(token, 1)["scopes"], json!([]));
    for path in ["/status/", "/status"] {
        let (status, _, body) = parts(server.get(path, Auth::Bearer(token)));
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, json!({"status": "ok"}));
    }
    // The same token opens nothing else.
    assert_error(
        server.get("/users/me/", Auth::Bearer(token)),
        401,
        "Not enough permissions",
        Some(ME_CHALLENGE),
    );
}

#[test]
fn no_authorization_header_is_not_authenticated() {
    let server = TestServer::start();
    for path in ["/users/me/", "/users/me/items/", "/status/"] {
        assert_error(
            server.get(path, Auth::None),
            401,
            "Not authenticated",
            Some("Bearer"),
        );
    }
}

#[test]
fn a_scheme_other_than_bearer_is_not_authenticated() {
    let server = server_with_fastapi_users();
    let token = server.login("johndoe", "secret", None);
    let header = format!("Token {token}");
    for path in ["/users/me/", "/users/me/items/", "/status/"] {
        assert_error(
            server.get(path, Auth::Raw(&header)),
            401,
            "Not authenticated",
            Some("Bearer"),
        );
    }
}

#[test]
fn bearer_scheme_is_case_insensitive() {
    let server = server_with_fastapi_users();
    let token = server.login("johndoe", "secret", None);
    let response = server.get("/users/me/", Auth::Raw(&format!("bearer {token}")));
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn garbage_token_cannot_be_validated_with_the_route_scope_challenge() {
    let server = TestServer::start();
    for (path, expected) in [
        ("/users/me/", ME_CHALLENGE),
        ("/users/me/items/", ITEMS_CHALLENGE),
        ("/status/", "Bearer"),
    ] {
        assert_error(
            server.get(path, Auth::Bearer("not-a-jwt")),
            401,
            "Could not validate credentials",
            Some(expected),
        );
    }
}

#[test]
fn tampered_token_cannot_be_validated() {
    let server = server_with_fastapi_users();
    let token = server.login("johndoe", "secret", Some("me"));
    // Swap the payload for one claiming more scopes; keep header and signature.
    let segments: Vec<&str> = token.split('.').collect();
    let forged = sign_hs256(
        &json!({"sub": "johndoe", "scopes": ["me", "items"], "exp": now() + 600}),
        b"whatever-key-at-least-32-bytes-long!",
    );
    let forged_payload = forged.split('.').nth(1).unwrap();
    let tampered = format!("{}.{forged_payload}.{}", segments[0], segments[2]);
    for (path, expected) in [
        ("/users/me/", ME_CHALLENGE),
        ("/users/me/items/", ITEMS_CHALLENGE),
        ("/status/", "Bearer"),
    ] {
        assert_error(
            server.get(path, Auth::Bearer(&tampered)),
            401,
            "Could not validate credentials",
            Some(expected),
        );
    }
    // A flipped signature character is refused too.
    let mut signature: Vec<char> = segments[2].chars().collect();
    signature[0] = if signature[0] == 'A' { 'B' } else { 'A' };
    let bad_signature = format!(
        "{}.{}.{}",
        segments[0],
        segments[1],
        signature.into_iter().collect::<String>()
    );
    assert_error(
        server.get("/users/me/", Auth::Bearer(&bad_signature)),
        401,
        "Could not validate credentials",
        Some(ME_CHALLENGE),
    );
}

#[test]
fn token_of_a_user_deleted_since_cannot_be_validated() {
    let server = TestServer::start();
    server.add_user("bob", "pw-bob", &[]);
    let token = server.login("bob", "pw-bob", None);
    assert_eq!(
        server.get("/users/me/", Auth::Bearer(&token)).status(),
        StatusCode::OK
    );
    server.cli_ok(&["user", "delete", "bob"], None);
    for (path, expected) in [
        ("/users/me/", ME_CHALLENGE),
        ("/users/me/items/", ITEMS_CHALLENGE),
        ("/status/", "Bearer"),
    ] {
        assert_error(
            server.get(path, Auth::Bearer(&token)),
            401,
            "Could not validate credentials",
            Some(expected),
        );
    }
}

#[test]
fn disabling_a_user_ends_their_sessions() {
    let server = TestServer::start();
    server.add_user("bob", "pw-bob", &[]);
    let token = server.login("bob", "pw-bob", None);
    server.cli_ok(&["user", "disable", "bob"], None);
    assert_error(
        server.get("/users/me/", Auth::Bearer(&token)),
        401,
        "Could not validate credentials",
        Some(ME_CHALLENGE),
    );
    assert_error(
        server.get("/status/", Auth::Bearer(&token)),
        401,
        "Could not validate credentials",
        Some("Bearer"),
    );
}

#[test]
fn a_disabled_user_over_basic_is_inactive_on_users_me_but_passes_status() {
    // FastAPI's get_current_active_user refuses a disabled user; get_current_user
    // (behind /status/) does not look at `disabled`.
    let server = TestServer::start();
    server.add_user("bob", "pw-bob", &["--disabled"]);
    for path in ["/users/me/", "/users/me/items/"] {
        assert_error(
            server.get(path, Auth::Basic("bob", "pw-bob")),
            400,
            "Inactive user",
            None,
        );
    }
    let (status, _, body) = parts(server.get("/status/", Auth::Basic("bob", "pw-bob")));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[test]
fn http_basic_opens_users_me_and_items() {
    let server = server_with_fastapi_users();
    let (status, _, body) = parts(server.get("/users/me/", Auth::Basic("johndoe", "secret")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "johndoe");
    let (status, _, body) = parts(server.get("/users/me/items/", Auth::Basic("johndoe", "secret")));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]));
}

#[test]
fn http_basic_grants_only_the_users_scopes() {
    let server = TestServer::start();
    server.add_user("meonly", "pw-meonly", &["--scopes", "me"]);
    let basic = Auth::Basic("meonly", "pw-meonly");
    assert_eq!(server.get("/users/me/", basic).status(), StatusCode::OK);
    assert_error(
        server.get("/users/me/items/", basic),
        401,
        "Not enough permissions",
        Some(ITEMS_CHALLENGE),
    );
}

#[test]
fn wrong_basic_password_gets_a_basic_challenge() {
    let server = server_with_fastapi_users();
    for path in ["/users/me/", "/users/me/items/", "/status/"] {
        let response = server.get(path, Auth::Basic("johndoe", "wrong"));
        let (status, headers, body) = parts(response);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            challenge(&headers),
            Some("Basic realm=\"latchkey\""),
            "{path}"
        );
        assert_eq!(
            body,
            json!({"detail": "Incorrect username or password"}),
            "{path}"
        );
    }
    // An unknown user is answered alike.
    let (status, headers, _) = parts(server.get("/users/me/", Auth::Basic("nobody", "secret")));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&headers), Some("Basic realm=\"latchkey\""));
}

#[test]
fn disabled_user_over_basic_is_inactive() {
    let server = server_with_fastapi_users();
    assert_error(
        server.get("/users/me/", Auth::Basic("alice", "secretalice")),
        400,
        "Inactive user",
        None,
    );
}
