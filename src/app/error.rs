//! The errors the browser app's server functions answer with.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function failed, as the browser needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
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
    /// The input breaks a rule; `field` names the form field at fault, if one is.
    #[error("{message}")]
    Invalid {
        /// The form field at fault.
        field: Option<String>,
        /// What is wrong, for people.
        message: String,
    },
    /// The thing to create exists already.
    #[error("{0}")]
    Conflict(String),
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
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

impl AppError {
    /// An input error about `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
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
