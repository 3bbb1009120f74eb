//! `/users/me/`, `/users/me/items/` and `/status/`: what each needs, and FastAPI's
//! answers when the credential falls short.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[test]
fn users_me_with_and_without_slash_shows_exactly_the_public_fields() {
    let server = TestServer::start_with_fastapi_users(&[]);
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
    let server = TestServer::start_with_fastapi_users(&[]);
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
    let server = TestServer::start_with_fastapi_users(&[]);
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
    let server = TestServer::start_with_fastapi_users(&[]);
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
    let server = TestServer::start_with_fastapi_users(&[]);
    let token = server.login("johndoe", "secret", None);
    let response = server.get("/users/me/", Auth::Raw(&format!("bearer {token}")));
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn garbage_tokens_cannot_be_validated_with_the_route_scope_challenge() {
    let server = TestServer::start();
    for token in [
        "not-a-jwt",
        "a.b.c",
        "...",
        "a b c",
        "eyJhbGciOiJIUzI1NiJ9..",
    ] {
        assert_token_refused(&server, token, token);
    }
}

#[test]
fn a_disabled_user_over_basic_is_inactive_on_users_me_but_passes_status() {
    // FastAPI's get_current_active_user refuses a disabled user; get_current_user
    // (behind /status/) does not look at `disabled`. Alice is disabled by the
    // import, bob by `user add --disabled`.
    let server = TestServer::start_with_fastapi_users(&[]);
    server.add_user("bob", "pw-bob", &["--disabled"]);
    for (username, password) in [("alice", "secretalice"), ("bob", "pw-bob")] {
        let basic = Auth::Basic(username, password);
        for path in ["/users/me/", "/users/me/items/"] {
            assert_answer(
                server.get(path, basic),
                400,
                "Inactive user",
                None,
                &format!("{username} on {path}"),
            );
        }
        let (status, _, body) = parts(server.get("/status/", basic));
        assert_eq!(status, StatusCode::OK, "{username}");
        assert_eq!(body, json!({"status": "ok"}), "{username}");
    }
}

#[test]
fn http_basic_opens_users_me_and_items() {
    let server = TestServer::start_with_fastapi_users(&[]);
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
    let server = TestServer::start_with_fastapi_users(&[]);
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
