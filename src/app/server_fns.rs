//! The server functions the pages call. Each runs the same auth core and store as
//! the JSON API: `login` is `POST /token`, the others pass the same
//! [`Authorized`](crate::api::Authorized) gate as the JSON routes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::session::BearerClient;
use crate::model::{Item, TokenResponse, User};

/// What the profile page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The signed-in user.
    pub user: User,
    /// The scopes the session's token grants.
    pub scopes: Vec<String>,
    /// Whether the token grants what reading and changing items needs.
    pub items_allowed: bool,
}

/// What a sign-up form sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password: String,
}

/// Checks the password like `POST /token` and returns a token for all the
/// user's allowed scopes.
#[server(prefix = "/api", endpoint = "login", client = BearerClient)]
pub async fn login(username: String, password: String) -> Result<TokenResponse, AppError> {
    use self::ssr::*;
    let state = app_state()?;
    let client = client_address(&state).await?;
    let tokens = state
        .auth
        .login(&username, &password, "", client)
        .await
        .map_err(reply)?;
    Ok(crate::api::token_response(tokens))
}

/// Swaps the refresh token for new tokens, as `POST /token` with
/// `grant_type=refresh_token` does.
#[server(prefix = "/api", endpoint = "refresh", client = BearerClient)]
pub async fn refresh(refresh_token: String) -> Result<TokenResponse, AppError> {
    use self::ssr::*;
    let state = app_state()?;
    let tokens = state
        .auth
        .refresh(&refresh_token, "")
        .await
        .map_err(reply)?;
    Ok(crate::api::token_response(tokens))
}

/// Ends the session of this refresh token, as `POST /revoke` does.
#[server(prefix = "/api", endpoint = "logout", client = BearerClient)]
pub async fn logout(refresh_token: String) -> Result<(), AppError> {
    use self::ssr::*;
    let state = app_state()?;
    state
        .auth
        .sessions()
        .revoke_token(&refresh_token)
        .await
        .map_err(reply)?;
    Ok(())
}

/// The signed-in user and their granted scopes.
#[server(prefix = "/api", endpoint = "profile", client = BearerClient)]
pub async fn load_profile() -> Result<Profile, AppError> {
    use self::ssr::*;
    use crate::api::{ActiveUser, ItemsReader, RouteRequirement as _};
    let state = app_state()?;
    let principal = authorize::<ActiveUser>(&state).await?.principal;
    let items_allowed = ItemsReader::REQUIREMENT
        .scopes
        .iter()
        .all(|s| principal.scopes.contains(*s));
    Ok(Profile {
        user: principal.user.public(),
        scopes: principal.scopes.names(),
        items_allowed,
    })
}

/// The signed-in user's items, as `GET /users/me/items/`.
#[server(prefix = "/api", endpoint = "items", client = BearerClient)]
pub async fn list_items() -> Result<Vec<Item>, AppError> {
    use self::ssr::*;
    use crate::api::ItemsReader;
    let state = app_state()?;
    let caller = authorize::<ItemsReader>(&state).await?;
    state
        .store
        .list_items(&caller.principal.user.username)
        .await
        .map_err(reply)
}

/// Adds an item for the signed-in user.
#[server(prefix = "/api", endpoint = "add_item", client = BearerClient)]
pub async fn add_item(item_id: String, description: Option<String>) -> Result<Item, AppError> {
    use self::ssr::*;
    use crate::api::ItemsReader;
    use crate::model::NewItem;
    let state = app_state()?;
    let caller = authorize::<ItemsReader>(&state).await?;
    let item = NewItem {
        item_id,
        description: description.filter(|d| !d.trim().is_empty()),
    };
    crate::api::add_item(state.store.as_ref(), &caller.principal.user.username, &item)
        .await
        .map_err(reply)
}

/// Removes one of the signed-in user's items.
#[server(prefix = "/api", endpoint = "delete_item", client = BearerClient)]
pub async fn delete_item(item_id: String) -> Result<(), AppError> {
    use self::ssr::*;
    use crate::api::ItemsReader;
    let state = app_state()?;
    let caller = authorize::<ItemsReader>(&state).await?;
    crate::api::remove_item(
        state.store.as_ref(),
        &caller.principal.user.username,
        &item_id,
    )
    .await
    .map_err(reply)
}

/// Whether self-registration is open on this server.
#[server(prefix = "/api", endpoint = "registration_open", client = BearerClient)]
pub async fn registration_open() -> Result<bool, AppError> {
    use self::ssr::*;
    Ok(app_state()?.settings.self_registration)
}

/// Creates an account, as `POST /users/` does.
#[server(prefix = "/api", endpoint = "signup", client = BearerClient)]
pub async fn signup(registration: Registration) -> Result<User, AppError> {
    use self::ssr::*;
    let state = app_state()?;
    let client = client_address(&state).await?;
    crate::api::register(&state, registration.into(), client)
        .await
        .map_err(reply)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::api::error::ApiError;
    use crate::api::{Authorized, ClientAddress, RouteRequirement};
    use crate::auth::AuthError;
    use crate::auth::registration::NewAccount;
    use crate::server::AppState;
    use axum::extract::FromRequestParts as _;
    use leptos::prelude::*;

    use super::AppError;

    /// The server's state, provided to every server function by `leptos_routes`.
    pub fn app_state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or(AppError::Server)
    }

    /// Runs the JSON API's gate on this request's headers.
    pub async fn authorize<R: RouteRequirement>(
        state: &AppState,
    ) -> Result<Authorized<R>, AppError> {
        let mut parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Server)?;
        Authorized::<R>::from_request_parts(&mut parts, state)
            .await
            .map_err(reply)
    }

    /// The caller's address, as the JSON API's throttle sees it.
    pub async fn client_address(state: &AppState) -> Result<std::net::IpAddr, AppError> {
        let mut parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Server)?;
        let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(&mut parts, state).await;
        Ok(client)
    }

    impl From<super::Registration> for NewAccount {
        fn from(form: super::Registration) -> Self {
            NewAccount {
                username: form.username,
                email: form.email,
                full_name: form.full_name,
                password: form.password,
            }
        }
    }

    /// Sets the HTTP status the JSON API would answer `error` with, and tells the
    /// page what went wrong.
    pub fn reply(error: impl Into<ApiError>) -> AppError {
        let error = error.into();
        error.log_cause();
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(error.status());
        }
        match error {
            ApiError::Auth(AuthError::IncorrectLogin | AuthError::BadBasic) => {
                AppError::IncorrectLogin
            }
            ApiError::Auth(AuthError::InactiveUser) => AppError::InactiveUser,
            ApiError::Auth(
                AuthError::NotAuthenticated
                | AuthError::InvalidToken { .. }
                | AuthError::InvalidGrant,
            ) => AppError::SessionRejected,
            ApiError::Auth(AuthError::NotEnoughPermissions { .. }) => AppError::NotPermitted,
            ApiError::Auth(AuthError::UnknownScope(e)) => AppError::invalid("scope", e.to_string()),
            ApiError::Auth(AuthError::TooManyAttempts { retry_after }) => {
                AppError::TooManyAttempts { retry_after }
            }
            ApiError::Auth(AuthError::Busy) => AppError::Busy,
            ApiError::Auth(AuthError::Store(_)) | ApiError::Internal(_) => AppError::Server,
            ApiError::Validation(errors) => match errors.into_iter().next() {
                Some(first) => AppError::Invalid {
                    field: first.loc.last().cloned(),
                    message: first.msg,
                },
                None => AppError::Invalid {
                    field: None,
                    message: "Invalid input".into(),
                },
            },
            ApiError::NotFound(message) => AppError::NotFound(message),
            ApiError::Conflict(message) => AppError::Conflict(message),
            ApiError::Forbidden(message) => AppError::Invalid {
                field: None,
                message,
            },
            ApiError::PayloadTooLarge => AppError::Invalid {
                field: None,
                message: "Too much data".into(),
            },
            ApiError::RequestTimeout => AppError::Invalid {
                field: None,
                message: "The request took too long".into(),
            },
            ApiError::BadRequest(message) => AppError::Invalid {
                field: None,
                message,
            },
        }
    }
}
