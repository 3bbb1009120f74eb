//! Why the auth core refused a request, and what HTTP says about it.

use super::scope::UnknownScope;
use crate::store::StoreError;

/// A refusal by the auth core. Each kind knows its status, its `detail` text and
/// its `WWW-Authenticate` challenge, so the JSON API and the server functions
/// answer alike.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// `POST /token` with a wrong username or password.
    #[error("Incorrect username or password")]
    IncorrectLogin,
    /// No credentials, or a scheme other than Bearer/Basic.
    #[error("Not authenticated")]
    NotAuthenticated,
    /// A bad, expired or tampered token, or one for a user that no longer exists.
    #[error("Could not validate credentials")]
    InvalidToken {
        /// The scopes the route needs, space-separated (for the challenge).
        required: String,
    },
    /// A valid token without a scope the route needs.
    #[error("Not enough permissions")]
    NotEnoughPermissions {
        /// The scopes the route needs, space-separated (for the challenge).
        required: String,
    },
    /// A wrong HTTP Basic credential.
    #[error("Incorrect username or password")]
    BadBasic,
    /// The user is disabled.
    #[error("Inactive user")]
    InactiveUser,
    /// A scope name latchkey does not know was asked for.
    #[error("Unknown scope: {}", .0.0)]
    UnknownScope(#[from] UnknownScope),
    /// The store failed; the request could not be decided.
    #[error("Internal Server Error")]
    Store(#[from] StoreError),
}

impl AuthError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::IncorrectLogin
            | AuthError::NotAuthenticated
            | AuthError::InvalidToken { .. }
            | AuthError::NotEnoughPermissions { .. }
            | AuthError::BadBasic => 401,
            AuthError::InactiveUser | AuthError::UnknownScope(_) => 400,
            AuthError::Store(_) => 500,
        }
    }

    /// The `WWW-Authenticate` challenge, if the answer carries one.
    pub fn challenge(&self) -> Option<String> {
        match self {
            AuthError::IncorrectLogin | AuthError::NotAuthenticated => Some("Bearer".into()),
            AuthError::InvalidToken { required } | AuthError::NotEnoughPermissions { required } => {
                Some(if required.is_empty() {
                    "Bearer".into()
                } else {
                    format!("Bearer scope=\"{required}\"")
                })
            }
            AuthError::BadBasic => Some("Basic realm=\"latchkey\"".into()),
            AuthError::InactiveUser | AuthError::UnknownScope(_) | AuthError::Store(_) => None,
        }
    }
}
