//! `POST /token`: the OAuth2 password and refresh token grants.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use super::token_form::{Grant, TokenForm};
use crate::auth::AuthService;
use crate::caller::Caller;
use crate::model::TokenResponse;

/// Form fields of `/token`, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct TokenRequest {
    /// `password` (the default) or `refresh_token`.
    grant_type: Option<String>,
    /// For the password grant.
    username: Option<String>,
    /// For the password grant.
    #[schema(format = Password)]
    password: Option<String>,
    /// For the refresh token grant: the `refresh_token` of the previous answer.
    #[schema(format = Password)]
    refresh_token: Option<String>,
    /// Space-separated scopes to ask for (`me`, `items`); none asks for all the user
    /// (or, when refreshing, the session) may have.
    scope: Option<String>,
    client_id: Option<String>,
    #[schema(format = Password)]
    client_secret: Option<String>,
}

/// Log in with a username and password, or swap a refresh token; get a bearer
/// token and a new refresh token.
#[utoipa::path(
    post,
    path = "/token",
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued", body = TokenResponse),
        (status = 400, description = "Unknown scope, inactive user, or invalid refresh token", body = ErrorBody),
        (status = 401, description = "Incorrect username or password", body = ErrorBody),
        (status = 413, description = "Request body too large", body = ErrorBody),
        (status = 422, description = "Missing or invalid field", body = ValidationErrorBody),
        (status = 429, description = "Too many failed logins for this account or client, or too many refresh grants for this session or client; see Retry-After", body = ErrorBody),
        (status = 503, description = "Too many logins at once; see Retry-After", body = ErrorBody),
    )
)]
pub(crate) async fn login_for_access_token(
    State(auth): State<Arc<AuthService>>,
    caller: Caller,
    form: TokenForm,
) -> Result<Response, ApiError> {
    let tokens = match &form.grant {
        Grant::Password { username, password } => {
            // API clients get unbound sessions: no fingerprint cookie is involved.
            auth.login(
                username,
                password,
                &form.scope,
                caller.client,
                caller.device.as_ref(),
            )
            .await?
        }
        // The refresh token of a bound session (the browser app's) needs its cookie.
        Grant::RefreshToken(token) => {
            auth.refresh(
                token,
                &form.scope,
                caller.client,
                caller.fingerprint.as_ref(),
            )
            .await?
        }
    };
    let mut response = Json(TokenResponse::from(tokens)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
