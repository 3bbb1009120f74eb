//! The OpenAPI 3.1 document (`/openapi.json`) and Swagger UI (`/docs`), served from
//! the binary so they work offline.

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{Components, RefOr, Schema};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, FieldError, ValidationErrorBody};
use super::{health, items, jwks, logout, token, users};
use crate::auth::Scope;
use crate::model::{Item, NewAccount, NewItem, TokenResponse, User};
use crate::rules::{
    ITEM_ID_PATTERN, MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_FULL_NAME_CHARS,
    MAX_ITEM_ID_CHARS, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS,
    USERNAME_PATTERN,
};

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
        health::healthz,
        health::readyz,
    ),
    components(schemas(User, Item, NewItem, NewAccount, TokenResponse, ErrorBody, FieldError, ValidationErrorBody, users::Status)),
    modifiers(&SecuritySchemes, &FieldRules),
)]
pub(crate) struct ApiDoc;

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

/// The length limits of `crate::rules`, written into the schemas of the bodies they
/// apply to, so the document states what the server enforces from the same numbers.
struct FieldRules;

impl Modify for FieldRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (schema, field, min, max) in [
            ("NewAccount", "username", 1, MAX_USERNAME_CHARS),
            ("NewAccount", "email", 0, MAX_EMAIL_CHARS),
            ("NewAccount", "full_name", 0, MAX_FULL_NAME_CHARS),
            (
                "NewAccount",
                "password",
                MIN_PASSWORD_CHARS,
                MAX_PASSWORD_CHARS,
            ),
            ("NewItem", "item_id", 1, MAX_ITEM_ID_CHARS),
            ("NewItem", "description", 0, MAX_DESCRIPTION_CHARS),
        ] {
            if let Some(Schema::Object(property)) = property_mut(components, schema, field) {
                property.min_length = (min > 0).then_some(min);
                property.max_length = Some(max);
            }
        }
        for (schema, field, pattern) in [
            ("NewAccount", "username", USERNAME_PATTERN),
            ("NewItem", "item_id", ITEM_ID_PATTERN),
        ] {
            if let Some(Schema::Object(property)) = property_mut(components, schema, field) {
                property.pattern = Some(pattern.into());
            }
        }
    }
}

/// The schema of property `field` of component `schema`.
fn property_mut<'a>(
    components: &'a mut Components,
    schema: &str,
    field: &str,
) -> Option<&'a mut Schema> {
    match components.schemas.get_mut(schema)? {
        RefOr::T(Schema::Object(object)) => match object.properties.get_mut(field)? {
            RefOr::T(property) => Some(property),
            RefOr::Ref(_) => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_states_the_limits_of_the_rules() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        let password = &schemas["NewAccount"]["properties"]["password"];
        assert_eq!(password["minLength"], MIN_PASSWORD_CHARS);
        assert_eq!(password["maxLength"], MAX_PASSWORD_CHARS);
        let item_id = &schemas["NewItem"]["properties"]["item_id"];
        assert_eq!(item_id["minLength"], 1);
        assert_eq!(item_id["maxLength"], MAX_ITEM_ID_CHARS);
        assert_eq!(item_id["pattern"], ITEM_ID_PATTERN);
        assert_eq!(
            schemas["NewAccount"]["properties"]["username"]["pattern"],
            USERNAME_PATTERN
        );
    }
}
