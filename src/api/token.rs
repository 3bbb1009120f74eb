//! `POST /token`: the OAuth2 password grant.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::client_address::ClientAddress;
use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use super::token_form::TokenForm;
use crate::auth::AuthService;
use crate::model::TokenResponse;

/// Form fields of the password grant, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// Must be `password` when given.
    grant_type: Option<String>,
    username: String,
    #[schema(format = Password)]
    password: String,
    /// Space-separated scopes to ask for (`me`, `items`); none asks for all the user may have.
    scope: Option<String>,
    client_id: Option<String>,
    #[schema(format = Password)]
    client_secret: Option<String>,
}

/// Log in with a username and password; get a bearer token.
#[utoipa::path(
    post,
    path = "/token",
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Token issued", body = TokenResponse),
        (status = 400, description = "Unknown scope or inactive user", body = ErrorBody),
        (status = 401, description = "Incorrect username or password", body = ErrorBody),
        (status = 413, description = "Request body too large", body = ErrorBody),
        (status = 422, description = "Missing or invalid field", body = ValidationErrorBody),
        (status = 429, description = "Too many failed logins for this account or client; see Retry-After", body = ErrorBody),
        (status = 503, description = "Too many logins at once; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login_for_access_token(
    State(auth): State<Arc<AuthService>>,
    ClientAddress(client): ClientAddress,
    form: TokenForm,
) -> Result<Response, ApiError> {
    let issued = auth
        .login(&form.username, &form.password, &form.scope, client)
        .await?;
    let body = TokenResponse {
        access_token: issued.token,
        token_type: "bearer".into(),
        expires_in: issued.expires_in,
        scope: issued.scopes.to_string(),
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
