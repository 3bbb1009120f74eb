//! The JSON API: FastAPI's OAuth2 + JWT app, route for route, over the auth core
//! and the items module. Its errors become FastAPI's answers in [`error`].

mod authorized;
mod error;
mod health;
mod items;
mod jwks;
mod logout;
mod openapi;
mod token;
mod token_form;
mod users;

use axum::Router;
use axum::routing::{delete, get, post};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::{Config, SwaggerUi};

use self::error::ApiError;
use self::openapi::ApiDoc;
use crate::state::AppState;

/// A JSON body whose rejections are answered as API errors.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct JsonBody<T>(pub T);

/// The API's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/token", post(token::login_for_access_token))
        .route("/logout", post(logout::logout))
        .route("/revoke", post(logout::revoke))
        .route("/.well-known/jwks.json", get(jwks::jwks))
        .route("/users/", post(users::create_user))
        .route("/users", post(users::create_user))
        .route("/users/me/", get(users::read_users_me))
        .route("/users/me", get(users::read_users_me))
        .route(
            "/users/me/items/",
            get(items::read_own_items).post(items::create_own_item),
        )
        .route(
            "/users/me/items",
            get(items::read_own_items).post(items::create_own_item),
        )
        .route("/users/me/items/{item_id}", delete(items::delete_own_item))
        .route("/status/", get(users::read_system_status))
        .route("/status", get(users::read_system_status))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
}

/// Swagger UI at `/docs` and the OpenAPI document at `/openapi.json`.
pub(crate) fn docs() -> Router<AppState> {
    // Swagger UI's default validator badge would make browsers send the document's
    // URL to validator.swagger.io: the docs must not reach another host.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .config(Config::default().validator_url("none"));
    Router::from(docs)
}

/// The answer of the request limits (413, 408), in the API's shape: the limits
/// guard every route, pages included.
pub(crate) use self::error::{BrokenLimit, limit_response};
