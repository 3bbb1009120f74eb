//! `POST /token`: the OAuth2 password grant, its errors, the scopes it grants, the
//! token it issues, and the rehash of old password hashes at login.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[test]
fn issues_a_bearer_token_with_scope_and_no_store() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let response = server.token_request(&[
        ("grant_type", "password"),
        ("username", "johndoe"),
        ("password", "secret"),
        ("scope", "me items"),
        ("client_id", "some-client"),
        ("client_secret", "some-secret"),
    ]);
    let (status, headers, body) = parts(response);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let object = body.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "me items");
    assert_eq!(body["expires_in"], 15 * 60);
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);
}

#[test]
fn missing_username_is_a_fastapi_422() {
    let server = TestServer::start();
    let (status, _, body) = parts(server.token_request(&[("password", "secret")]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, json!({"detail": [missing_field("username")]}));
}

#[test]
fn empty_password_counts_as_missing() {
    let server = TestServer::start();
    let (status, _, body) = parts(server.login_attempt("johndoe", ""));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, json!({"detail": [missing_field("password")]}));
}

#[test]
fn both_fields_missing_list_username_then_password() {
    let server = TestServer::start();
    for form in [
        &[("scope", "me")][..],
        &[("password", ""), ("username", "")][..],
    ] {
        let (status, _, body) = parts(server.token_request(form));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert_eq!(
            body,
            json!({"detail": [missing_field("username"), missing_field("password")]}),
            "{form:?}"
        );
    }
}

#[test]
fn grant_type_other_than_password_is_a_pattern_mismatch() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let (status, _, body) = parts(server.token_request(&[
        ("grant_type", "foo"),
        ("username", "johndoe"),
        ("password", "secret"),
    ]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"detail": [{
            "type": "string_pattern_mismatch",
            "loc": ["body", "grant_type"],
            "msg": "String should match pattern '^(password|refresh_token)$'",
            "input": "foo",
            "ctx": {"pattern": "^(password|refresh_token)$"},
        }]})
    );
}

#[test]
fn disabled_user_with_the_right_password_is_inactive() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let response = server.login_attempt("alice", "secretalice");
    assert_error(response, 400, "Inactive user", None);
}

#[test]
fn disabled_user_with_a_wrong_password_gets_the_usual_401() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let response = server.login_attempt("alice", "wrong");
    assert_error(
        response,
        401,
        "Incorrect username or password",
        Some("Bearer"),
    );
}

#[test]
fn no_scope_asked_grants_all_the_user_may_have() {
    let server = TestServer::start_with_fastapi_users(&[]);
    server.add_user("meonly", "pw-meonly", &["--scopes", "me"]);
    assert_eq!(
        server.login_response("johndoe", "secret", None)["scope"],
        "me items"
    );
    assert_eq!(
        server.login_response("meonly", "pw-meonly", None)["scope"],
        "me"
    );
}

#[test]
fn asked_scopes_the_user_lacks_are_not_granted() {
    let server = TestServer::start();
    server.add_user("meonly", "pw-meonly", &["--scopes", "me"]);
    let body = server.login_response("meonly", "pw-meonly", Some("me items"));
    assert_eq!(body["scope"], "me");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(jwt_segment(token, 1)["scopes"], json!(["me"]));
    // The token really lacks `items`.
    let response = server.get("/users/me/items/", Auth::Bearer(token));
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn asking_a_subset_grants_only_that_subset() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let body = server.login_response("johndoe", "secret", Some("items"));
    assert_eq!(body["scope"], "items");
}

#[test]
fn unknown_scope_name_is_a_400_naming_it() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let (status, _, body) = parts(server.token_request(&[
        ("username", "johndoe"),
        ("password", "secret"),
        ("scope", "me admin"),
    ]));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let detail = body["detail"].as_str().expect("a string detail");
    assert!(detail.contains("admin"), "{detail}");
}

#[test]
fn issued_token_is_hs256_with_sub_exp_iat_jti_and_scopes() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let before = now();
    let token = server.login("johndoe", "secret", Some("me"));
    let after = now();
    let header = jwt_segment(&token, 0);
    assert_eq!(header["alg"], "HS256");
    let claims = jwt_segment(&token, 1);
    assert_eq!(claims["sub"], "johndoe");
    assert_eq!(claims["scopes"], json!(["me"]));
    let iat = claims["iat"].as_u64().expect("numeric iat");
    let exp = claims["exp"].as_u64().expect("numeric exp");
    assert!((before..=after).contains(&iat), "iat {iat}");
    assert_eq!(exp - iat, 15 * 60);
    let jti = claims["jti"].as_str().expect("string jti");
    assert!(!jti.is_empty());
    // Every token is unique.
    let again = server.login("johndoe", "secret", Some("me"));
    assert_ne!(jwt_segment(&again, 1)["jti"], claims["jti"]);
}

#[test]
fn access_token_minutes_sets_the_lifetime_at_login_and_at_refresh() {
    let server = TestServer::start_with(&[("LATCHKEY_ACCESS_TOKEN_MINUTES", "5")]);
    server.import_fastapi_users();
    let login = server.login_response("johndoe", "secret", None);
    let refresh_token = login["refresh_token"].as_str().expect("a refresh token");
    let (status, _, refreshed) = parts(server.refresh_request(refresh_token, None));
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    for (grant, body) in [("password", login.clone()), ("refresh_token", refreshed)] {
        assert_eq!(body["expires_in"], 300, "{grant}");
        let claims = jwt_segment(body["access_token"].as_str().unwrap(), 1);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            300,
            "{grant}"
        );
    }
}

/// Imports `legacy` (bcrypt, password `legacy-pw`) and `johndoe` (the FastAPI
/// seed's Argon2 hash of another policy); returns the bcrypt hash.
fn import_bcrypt_and_old_argon2_users(server: &TestServer) -> String {
    let bcrypt_hash = bcrypt::hash("legacy-pw", 4).unwrap();
    let output = server.import(
        "users.json",
        &json!([
            {"username": "legacy", "hashed_password": bcrypt_hash},
            {"username": "johndoe", "hashed_password": JOHNDOE_HASH},
        ]),
    );
    assert!(output.status.success(), "{output:?}");
    bcrypt_hash
}

#[test]
fn login_rehashes_bcrypt_and_old_argon2_to_the_current_policy() {
    let server = TestServer::start();
    let bcrypt_hash = import_bcrypt_and_old_argon2_users(&server);
    assert_eq!(
        server.stored_password_hash("legacy").as_deref(),
        Some(bcrypt_hash.as_str())
    );
    assert_eq!(
        server.stored_password_hash("johndoe").as_deref(),
        Some(JOHNDOE_HASH)
    );

    server.login("legacy", "legacy-pw", None);
    server.login("johndoe", "secret", None);

    for user in ["legacy", "johndoe"] {
        let stored = server.stored_password_hash(user).unwrap();
        assert!(
            stored.starts_with(CHEAP_HASH_PREFIX),
            "{user}'s hash was not upgraded: {stored}"
        );
    }
    // The upgraded hashes still hold the same passwords, and only those.
    server.login("legacy", "legacy-pw", None);
    server.login("johndoe", "secret", None);
    let response = server.login_attempt("legacy", "legacy-pw!");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn a_hash_of_the_current_policy_is_not_rewritten_at_login() {
    let server = TestServer::start();
    server.add_user("carol", "carol-pw", &[]);
    let stored = server.stored_password_hash("carol").unwrap();
    assert!(stored.starts_with(CHEAP_HASH_PREFIX), "{stored}");
    server.login("carol", "carol-pw", None);
    assert_eq!(server.stored_password_hash("carol").unwrap(), stored);
}

#[test]
fn failed_login_does_not_rehash() {
    let server = TestServer::start();
    let bcrypt_hash = import_bcrypt_and_old_argon2_users(&server);
    for (user, wrong) in [("legacy", "legacy"), ("johndoe", "Secret")] {
        let response = server.login_attempt(user, wrong);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        server.stored_password_hash("legacy").as_deref(),
        Some(bcrypt_hash.as_str())
    );
    assert_eq!(
        server.stored_password_hash("johndoe").as_deref(),
        Some(JOHNDOE_HASH)
    );
}

#[test]
fn accepts_the_form_as_multipart_like_fastapi() {
    let server = TestServer::start_with_fastapi_users(&[]);
    let post = |fields: &[(&str, &[u8])]| {
        let (content_type, body) = multipart(fields);
        parts(
            server
                .client()
                .post(server.url("/token"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .expect("POST /token"),
        )
    };
    let (status, _, body) = post(&[
        ("username", b"johndoe"),
        ("password", b"secret"),
        ("scope", b"me"),
    ]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "me");

    let (status, _, body) = post(&[("username", b"johndoe"), ("password", b"wrong")]);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"detail": "Incorrect username or password"}));

    let (status, _, body) = post(&[("username", b"johndoe")]);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, json!({"detail": [missing_field("password")]}));
}
