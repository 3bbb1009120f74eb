//! The JSON API: FastAPI's OAuth2 + JWT app, route for route.

mod authorized;
mod client_address;
mod cors;
pub mod error;
mod items;
mod jwks;
mod logout;
mod openapi;
mod token;
mod token_form;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::routing::{delete, get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi as _;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub use self::authorized::{ActiveUser, AnyUser, Authorized, ItemsReader, RouteRequirement};
pub use self::client_address::ClientAddress;
use self::error::ApiError;
pub use self::items::{add_item, remove_item};
pub use self::openapi::ApiDoc;
pub use self::token::token_response;
pub use self::users::register;
use crate::config::Settings;
use crate::server::AppState;

/// A JSON body whose rejections are answered as API errors.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// The API's routes, Swagger UI and OpenAPI document. The API reads bodies of up to
/// `max_body_kib` and answers the `cors_allowed_origins` (the docs are same-origin).
pub fn router(settings: &Settings) -> Router<AppState> {
    let api = Router::new()
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
        .layer(DefaultBodyLimit::max(settings.max_body_bytes()));
    let api = match cors::layer(&settings.cors_allowed_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    // Swagger UI's default validator badge would make browsers send the document's
    // URL to validator.swagger.io: the docs must not reach another host.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", ApiDoc::openapi())
        .config(Config::default().validator_url("none"));
    let docs = Router::from(docs).layer(SetResponseHeaderLayer::overriding(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::security_headers::DOCS_CSP),
    ));
    api.merge(docs)
}
