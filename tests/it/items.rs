//! `/users/me/items/`: adding, listing and removing the signed-in user's items.

use crate::support::*;
use reqwest::Method;
use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::{Value, json};

/// A server with two users, each with a token granting `me items`.
struct ItemsFixture {
    server: TestServer,
    ann: String,
    ben: String,
}

fn fixture() -> ItemsFixture {
    let server = TestServer::start();
    server.add_user("ann", "pw-ann", &[]);
    server.add_user("ben", "pw-ben", &[]);
    let ann = server.login("ann", "pw-ann", Some("me items"));
    let ben = server.login("ben", "pw-ben", Some("me items"));
    ItemsFixture { server, ann, ben }
}

impl ItemsFixture {
    fn post(&self, token: &str, body: &Value) -> Response {
        self.server
            .request(Method::POST, "/users/me/items/", Auth::Bearer(token))
            .json(body)
            .send()
            .unwrap()
    }

    fn post_raw(&self, token: &str, body: &str) -> Response {
        self.server
            .request(Method::POST, "/users/me/items/", Auth::Bearer(token))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap()
    }

    fn list(&self, token: &str) -> Value {
        let (status, _, body) = parts(self.server.get("/users/me/items/", Auth::Bearer(token)));
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    fn delete(&self, token: &str, item_id: &str) -> Response {
        self.server
            .request(
                Method::DELETE,
                &format!("/users/me/items/{item_id}"),
                Auth::Bearer(token),
            )
            .send()
            .unwrap()
    }
}

/// Asserts a 422 whose detail names `loc` with error type `kind`.
#[track_caller]
fn assert_validation_error(response: Response, loc: &Value, kind: Option<&str>) {
    let (status, _, body) = parts(response);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let errors = body["detail"].as_array().expect("a list of errors");
    assert!(
        errors
            .iter()
            .any(|e| &e["loc"] == loc && kind.is_none_or(|k| e["type"] == k)),
        "no error at {loc} of type {kind:?}: {body}"
    );
}

#[test]
fn adding_an_item_answers_201_with_the_item_and_owner() {
    let f = fixture();
    let (status, _, body) = parts(f.post(
        &f.ann,
        &json!({"item_id": "plumbus", "description": "A regular plumbus"}),
    ));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"item_id": "plumbus", "owner": "ann", "description": "A regular plumbus"})
    );
    let (status, _, body) = parts(f.post(&f.ann, &json!({"item_id": "portal-gun"})));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"item_id": "portal-gun", "owner": "ann", "description": null})
    );
}

#[test]
fn listing_shows_the_items_added() {
    let f = fixture();
    for id in ["b-item", "a-item"] {
        assert_eq!(
            f.post(
                &f.ann,
                &json!({"item_id": id, "description": format!("about {id}")})
            )
            .status(),
            StatusCode::CREATED
        );
    }
    let listed = f.list(&f.ann);
    let mut items = listed.as_array().expect("a list").clone();
    items.sort_by_key(|item| item["item_id"].as_str().unwrap().to_owned());
    assert_eq!(
        items,
        vec![
            json!({"item_id": "a-item", "owner": "ann", "description": "about a-item"}),
            json!({"item_id": "b-item", "owner": "ann", "description": "about b-item"}),
        ]
    );
}

#[test]
fn adding_the_same_id_again_is_a_409() {
    let f = fixture();
    assert_eq!(
        f.post(&f.ann, &json!({"item_id": "plumbus"})).status(),
        StatusCode::CREATED
    );
    let (status, _, body) = parts(f.post(
        &f.ann,
        &json!({"item_id": "plumbus", "description": "another"}),
    ));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    // The first one is kept as it was.
    assert_eq!(
        f.list(&f.ann),
        json!([{"item_id": "plumbus", "owner": "ann", "description": null}])
    );
}

#[test]
fn deleting_answers_204_then_404() {
    let f = fixture();
    f.post(&f.ann, &json!({"item_id": "plumbus"}));
    f.post(&f.ann, &json!({"item_id": "keep-me"}));
    let response = f.delete(&f.ann, "plumbus");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.text().unwrap().is_empty());
    assert_eq!(
        f.list(&f.ann),
        json!([{"item_id": "keep-me", "owner": "ann", "description": null}])
    );
    let (status, _, body) = parts(f.delete(&f.ann, "plumbus"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].is_string(), "{body}");
}

#[test]
fn item_ids_with_reserved_characters_round_trip() {
    let f = fixture();
    let id = "a b/c?d";
    assert_eq!(
        f.post(&f.ann, &json!({"item_id": id})).status(),
        StatusCode::CREATED
    );
    assert_eq!(f.list(&f.ann)[0]["item_id"], id);
    assert_eq!(
        f.delete(&f.ann, "a%20b%2Fc%3Fd").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(f.list(&f.ann), json!([]));
}

#[test]
fn one_user_never_sees_or_touches_anothers_items() {
    let f = fixture();
    f.post(&f.ann, &json!({"item_id": "anns-secret"}));
    assert_eq!(f.list(&f.ben), json!([]));
    assert_eq!(
        f.delete(&f.ben, "anns-secret").status(),
        StatusCode::NOT_FOUND
    );
    // Ben may use the same id for his own item.
    let (status, _, body) = parts(f.post(&f.ben, &json!({"item_id": "anns-secret"})));
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["owner"], "ben");
    assert_eq!(
        f.list(&f.ann),
        json!([{"item_id": "anns-secret", "owner": "ann", "description": null}])
    );
    assert_eq!(
        f.list(&f.ben),
        json!([{"item_id": "anns-secret", "owner": "ben", "description": null}])
    );
}

#[test]
fn empty_item_id_is_a_422() {
    let f = fixture();
    for id in ["", "   "] {
        assert_validation_error(
            f.post(&f.ann, &json!({"item_id": id})),
            &json!(["body", "item_id"]),
            None,
        );
    }
    assert_eq!(f.list(&f.ann), json!([]));
}

#[test]
fn missing_item_id_is_a_422() {
    let f = fixture();
    let (status, _, body) = parts(f.post(&f.ann, &json!({"description": "no id"})));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].is_array(), "{body}");
}

#[test]
fn invalid_json_is_a_422() {
    let f = fixture();
    assert_validation_error(
        f.post_raw(&f.ann, "{\"item_id\": \"x\""),
        &json!(["body"]),
        Some("json_invalid"),
    );
    assert_eq!(f.list(&f.ann), json!([]));
}

#[test]
fn adding_and_removing_need_scopes_me_and_items() {
    let f = fixture();
    let me_only = f.server.login("ann", "pw-ann", Some("me"));
    assert_error(
        f.post(&me_only, &json!({"item_id": "x"})),
        401,
        "Not enough permissions",
        Some("Bearer scope=\"items me\""),
    );
    f.post(&f.ann, &json!({"item_id": "x"}));
    assert_error(
        f.delete(&me_only, "x"),
        401,
        "Not enough permissions",
        Some("Bearer scope=\"items me\""),
    );
    assert_eq!(f.list(&f.ann).as_array().unwrap().len(), 1);
}

#[test]
fn items_of_a_deleted_user_are_gone_with_them() {
    let f = fixture();
    f.post(&f.ben, &json!({"item_id": "bens-thing"}));
    f.server.cli_ok(&["user", "delete", "ben"], None);
    f.server.add_user("ben", "pw-ben-2", &[]);
    let token = f.server.login("ben", "pw-ben-2", None);
    assert_eq!(f.list(&token), json!([]));
}
