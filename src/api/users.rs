//! `GET /users/me/` and `GET /status/`.

use axum::Json;
use serde::Serialize;

use super::authorized::{ActiveUser, AnyUser, Authorized};
use super::error::ErrorBody;
use crate::model::User;

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
pub async fn read_users_me(caller: Authorized<ActiveUser>) -> Json<User> {
    Json(caller.principal.user.public())
}

/// The answer of `GET /status/`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
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
pub async fn read_system_status(_caller: Authorized<AnyUser>) -> Json<Status> {
    Json(Status { status: "ok" })
}
