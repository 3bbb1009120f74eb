//! `GET /users/me/` and `GET /status/`.

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::JsonBody;
use super::authorized::{ActiveUser, AnyUser, Authorized};
use super::client_address::ClientAddress;
use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::auth::registration::{NewAccount, RegistrationError};
use crate::model::User;
use crate::server::AppState;

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

/// What `POST /users/` takes.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserCreate {
    /// 1 to 64 characters, no spaces or `:`.
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    /// At least 8 characters, not the username, not common or easy to guess.
    #[schema(format = Password)]
    pub password: String,
}

impl From<UserCreate> for NewAccount {
    fn from(body: UserCreate) -> Self {
        NewAccount {
            username: body.username,
            email: body.email,
            full_name: body.full_name,
            password: body.password,
        }
    }
}

/// Create an account (self-registration, when enabled).
#[utoipa::path(
    post,
    path = "/users/",
    tag = "users",
    request_body = UserCreate,
    responses(
        (status = 201, description = "Account created", body = User),
        (status = 403, description = "Self-registration is disabled", body = ErrorBody),
        (status = 409, description = "Username already registered", body = ErrorBody),
        (status = 422, description = "A field breaks a rule (the password policy, …)", body = ValidationErrorBody),
        (status = 429, description = "Too many failed attempts from this client; see Retry-After", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    JsonBody(body): JsonBody<UserCreate>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = register(&state, body.into(), client).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Self-registration, shared by `POST /users/` and the sign-up page.
pub async fn register(
    state: &AppState,
    account: NewAccount,
    client: IpAddr,
) -> Result<User, ApiError> {
    if !state.settings.self_registration {
        return Err(RegistrationError::Closed.into());
    }
    Ok(state.auth.register(account, client).await?.public())
}
