//! The errors the browser app's server functions answer with, and (on the server)
//! how the core's errors become them: the browser's renderer of the core's errors,
//! as `api::error` is the JSON API's.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::rules::Field;

/// Why a server function failed, as the browser needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub(crate) enum AppError {
    /// Wrong username or password (the same answer for both).
    #[error("Incorrect username or password.")]
    IncorrectLogin,
    /// The account is disabled.
    #[error("This account is disabled. Ask an administrator to enable it.")]
    InactiveUser,
    /// The stored token is missing, expired or was refused: sign in again.
    #[error("Your session has ended. Please sign in again.")]
    SessionRejected,
    /// The token does not grant what the action needs.
    #[error("Your session does not allow this.")]
    NotPermitted,
    /// Too many failed attempts; try again after `retry_after` seconds.
    #[error("Too many login attempts. Try again in {retry_after} seconds.")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Too many requests (sign-ups, renewals) from this browser or network.
    #[error("Too many requests. Try again in {retry_after} seconds.")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The input breaks a rule; `field` names the form field at fault, if one is.
    #[error("{message}")]
    Invalid {
        /// The form field at fault.
        field: Option<Field>,
        /// What is wrong, for people.
        message: String,
    },
    /// Self-registration is switched off on this server.
    #[error("Self-registration is disabled on this server.")]
    RegistrationClosed,
    /// The username is taken.
    #[error("That username is taken. Choose another.")]
    UsernameTaken,
    /// The user has an item with that id already.
    #[error("You already have an item with that id.")]
    ItemExists,
    /// The item does not exist (any more).
    #[error("That item does not exist.")]
    ItemNotFound,
    /// The request came from another site's page, not from this app.
    #[error("This request did not come from this site.")]
    CrossSite,
    /// The server has too many logins to check at once.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    /// The request never reached the server, or its answer never came back.
    #[error("Cannot reach the server. Check your connection and try again.")]
    Unreachable,
    /// The server failed.
    #[error("Something went wrong on the server. Please try again.")]
    Server,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unreachable,
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::Invalid {
                    field: None,
                    message,
                }
            }
            _ => AppError::Server,
        }
    }
}

#[cfg(feature = "ssr")]
mod from_core {
    use super::AppError;
    use crate::auth::AuthError;
    use crate::auth::accounts::AccountError;
    use crate::items::ItemError;
    use crate::rules::Violation;

    impl From<AuthError> for AppError {
        fn from(error: AuthError) -> Self {
            match error {
                AuthError::IncorrectLogin | AuthError::BadBasic => AppError::IncorrectLogin,
                AuthError::InactiveUser => AppError::InactiveUser,
                AuthError::NotAuthenticated
                | AuthError::InvalidToken { .. }
                | AuthError::InvalidGrant => AppError::SessionRejected,
                AuthError::NotEnoughPermissions { .. } => AppError::NotPermitted,
                AuthError::UnknownScope(e) => AppError::Invalid {
                    field: None,
                    message: e.to_string(),
                },
                AuthError::TooManyAttempts { retry_after } => {
                    AppError::TooManyAttempts { retry_after }
                }
                AuthError::TooManyRequests { retry_after } => {
                    AppError::TooManyRequests { retry_after }
                }
                AuthError::Busy => AppError::Busy,
                AuthError::Store(_) | AuthError::Hashing(_) | AuthError::Signing(_) => {
                    AppError::Server
                }
            }
        }
    }

    impl From<Violation> for AppError {
        fn from(violation: Violation) -> Self {
            AppError::Invalid {
                field: Some(violation.field),
                message: violation.message,
            }
        }
    }

    impl From<AccountError> for AppError {
        fn from(error: AccountError) -> Self {
            match error {
                AccountError::RegistrationClosed => AppError::RegistrationClosed,
                AccountError::Invalid(violation) => violation.into(),
                AccountError::UsernameTaken => AppError::UsernameTaken,
                AccountError::Refused(e) => e.into(),
                AccountError::NoSuchUser(_) | AccountError::Store(_) => AppError::Server,
            }
        }
    }

    impl From<ItemError> for AppError {
        fn from(error: ItemError) -> Self {
            match error {
                ItemError::Invalid(violations) => match violations.into_iter().next() {
                    Some(first) => first.into(),
                    None => AppError::Server,
                },
                ItemError::Exists(_) => AppError::ItemExists,
                ItemError::NotFound => AppError::ItemNotFound,
                ItemError::Store(_) => AppError::Server,
            }
        }
    }
}
