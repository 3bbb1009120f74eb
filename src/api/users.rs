//! `GET /users/me/` and `GET /status/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::JsonBody;
use super::authorized::{ActiveUser, AnyUser, Authorized};
use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::auth::AuthService;
use crate::caller::Caller;
use crate::model::{NewAccount, User};

/// The signed-in user.
#[utoipa::path(
    get,
    path = "/users/me/",
    tag = "users",
    security(("OAuth2PasswordBearer" = ["me"]), ("HTTPBasic" = [])),
    responses(
        (status = 200, description = "The current user", body = User),
        (status = 400, description = "Inactive user", body = ErrorBody),
        (status = 401, description = "Not authenticated, invalid token or missing scope", body = ErrorBody),
    )
)]
pub(crate) async fn read_users_me(caller: Authorized<ActiveUser>) -> Json<User> {
    Json(caller.principal.user.public())
}

/// The answer of `GET /status/`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Status {
    /// Always `ok`.
    pub status: &'static str,
}

/// Whether the service is up, for any valid credential.
#[utoipa::path(
    get,
    path = "/status/",
    tag = "status",
    security(("OAuth2PasswordBearer" = []), ("HTTPBasic" = [])),
    responses(
        (status = 200, description = "The service is up", body = Status),
        (status = 401, description = "Not authenticated or invalid token", body = ErrorBody),
    )
)]
pub(crate) async fn read_system_status(_caller: Authorized<AnyUser>) -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Create an account (self-registration, when enabled).
#[utoipa::path(
    post,
    path = "/users/",
    tag = "users",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 403, description = "Self-registration is disabled", body = ErrorBody),
        (status = 409, description = "Username already registered", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (e.g. the password is too easy to guess)", body = ValidationErrorBody),
        (status = 429, description = "Too many sign-ups or failed attempts from this client; see Retry-After", body = ErrorBody),
        (status = 503, description = "Too many sign-ups at once; see Retry-After", body = ErrorBody),
    )
)]
pub(crate) async fn create_user(
    State(auth): State<Arc<AuthService>>,
    caller: Caller,
    JsonBody(account): JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = auth.register(account, caller.client).await?;
    Ok((StatusCode::CREATED, Json(user.public())))
}
