//! The OpenAPI 3.1 document (`/openapi.json`) and Swagger UI (`/docs`), served from
//! the binary so they work offline.

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, FieldError, ValidationErrorBody};
use super::{items, jwks, logout, token, users};
use crate::auth::Scope;
use crate::model::{Item, NewItem, TokenResponse, User};

/// The JSON API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "latchkey", description = "OAuth2 password flow with JWT bearer tokens: a drop-in for FastAPI's OAuth2 + JWT app."),
    paths(
        token::login_for_access_token,
        logout::logout,
        logout::revoke,
        jwks::jwks,
        users::create_user,
        users::read_users_me,
        items::read_own_items,
        items::create_own_item,
        items::delete_own_item,
        users::read_system_status,
    ),
    components(schemas(User, Item, NewItem, TokenResponse, ErrorBody, FieldError, ValidationErrorBody, users::Status, users::UserCreate)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = Scopes::from_iter(Scope::ALL.map(|s| (s.as_str(), s.description())));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "OAuth2PasswordBearer",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::with_refresh_url(
                "/token", scopes, "/token",
            ))])),
        );
        components.add_security_scheme(
            "HTTPBasic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}
