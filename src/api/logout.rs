//! Ending sessions: `POST /logout` with the session's access token, and
//! `POST /revoke` (RFC 7009) with an access or refresh token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use super::authorized::{AnyUser, Authorized};
use super::error::{ApiError, ErrorBody, FieldError, ValidationErrorBody};
use super::token_form::form_fields;
use crate::auth::AuthService;

/// End the session of the bearer token: its access tokens and its refresh token
/// stop working, on every instance.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []))
)]
pub(crate) async fn logout(
    State(auth): State<Arc<AuthService>>,
    caller: Authorized<AnyUser>,
) -> Result<StatusCode, ApiError> {
    if let Some(session) = &caller.principal.session_id {
        auth.sessions().end(session, "logout").await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Form fields of `/revoke`, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct RevokeRequest {
    /// An access token or a refresh token.
    #[schema(format = Password, min_length = 1)]
    token: String,
    /// `access_token` or `refresh_token`; optional, both are recognised anyway.
    token_type_hint: Option<String>,
}

/// Revoke a token (RFC 7009): the session it belongs to ends. Unknown or invalid
/// tokens are answered the same, so the answer tells nothing about the token.
#[utoipa::path(
    post,
    path = "/revoke",
    tag = "auth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token is no longer valid (or never was)"),
        (status = 422, description = "No token", body = ValidationErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(auth): State<Arc<AuthService>>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let fields = form_fields(&body)?;
    let token = fields
        .iter()
        .rev()
        .find(|(name, value)| name == "token" && !value.is_empty())
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| ApiError::Validation(vec![FieldError::missing("token")]))?;
    auth.sessions().revoke_token(token).await?;
    Ok(StatusCode::OK)
}
