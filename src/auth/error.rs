//! Why the auth core refused a request, and what HTTP says about it.

use super::hashing_pool::Busy;
use super::password::HashingError;
use super::rate_limit::OverRate;
use super::scope::UnknownScope;
use super::throttle::ThrottleError;
use super::token::SigningError;
use crate::store::StoreError;

/// What both front doors need of an error of the core (auth, accounts, items): the
/// HTTP status to answer with, and the server-side failure to log behind a 500
/// (never shown to the client). Each front door renders the rest in its own way.
pub(crate) trait CoreError: std::error::Error {
    /// The HTTP status code.
    fn status(&self) -> u16;
    /// The server-side failure behind a 500: the store's, or the server's own.
    fn failure(&self) -> Option<&(dyn std::error::Error + 'static)>;
}

/// A refusal by the auth core. Each kind knows its status, its `detail` text and
/// its `WWW-Authenticate` challenge, so the JSON API and the server functions
/// answer alike.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
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
    /// A refresh token that is unknown, spent, expired or of an ended session.
    #[error("Invalid or expired refresh token")]
    InvalidGrant,
    /// The account or the client address is blocked after too many failed logins.
    #[error("Too many login attempts, retry later")]
    TooManyAttempts {
        /// Seconds until the block ends.
        retry_after: u64,
    },
    /// The client or the session makes requests faster than its allowance (refresh
    /// grants, sign-ups).
    #[error("Too many requests, retry later")]
    TooManyRequests {
        /// Seconds until a request is allowed again.
        retry_after: u64,
    },
    /// Every password-hashing slot is taken and the queue is full.
    #[error("Server busy, retry later")]
    Busy,
    /// The store failed; the request could not be decided.
    #[error("Internal Server Error")]
    Store(#[from] StoreError),
    /// A password could not be hashed.
    #[error("Internal Server Error")]
    Hashing(#[from] HashingError),
    /// A token could not be signed.
    #[error("Internal Server Error")]
    Signing(#[from] SigningError),
}

impl CoreError for AuthError {
    fn status(&self) -> u16 {
        match self {
            AuthError::IncorrectLogin
            | AuthError::NotAuthenticated
            | AuthError::InvalidToken { .. }
            | AuthError::NotEnoughPermissions { .. }
            | AuthError::BadBasic => 401,
            AuthError::InactiveUser | AuthError::UnknownScope(_) | AuthError::InvalidGrant => 400,
            AuthError::TooManyAttempts { .. } | AuthError::TooManyRequests { .. } => 429,
            AuthError::Busy => 503,
            AuthError::Store(_) | AuthError::Hashing(_) | AuthError::Signing(_) => 500,
        }
    }

    fn failure(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AuthError::Store(e) => Some(e),
            AuthError::Hashing(e) => Some(e),
            AuthError::Signing(e) => Some(e),
            _ => None,
        }
    }
}

impl AuthError {
    /// The `WWW-Authenticate` challenge, if the answer carries one.
    pub(crate) fn challenge(&self) -> Option<String> {
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
            AuthError::InactiveUser
            | AuthError::UnknownScope(_)
            | AuthError::InvalidGrant
            | AuthError::TooManyAttempts { .. }
            | AuthError::TooManyRequests { .. }
            | AuthError::Busy
            | AuthError::Store(_)
            | AuthError::Hashing(_)
            | AuthError::Signing(_) => None,
        }
    }

    /// Seconds the client should wait before trying again (`Retry-After`), if any.
    pub(crate) fn retry_after(&self) -> Option<u64> {
        match self {
            AuthError::TooManyAttempts { retry_after }
            | AuthError::TooManyRequests { retry_after } => Some(*retry_after),
            AuthError::Busy => Some(1),
            _ => None,
        }
    }
}

impl From<ThrottleError> for AuthError {
    fn from(error: ThrottleError) -> Self {
        match error {
            ThrottleError::Blocked(blocked) => AuthError::TooManyAttempts {
                retry_after: blocked.retry_after,
            },
            ThrottleError::Store(e) => AuthError::Store(e),
        }
    }
}

impl From<OverRate> for AuthError {
    fn from(over: OverRate) -> Self {
        AuthError::TooManyRequests {
            retry_after: over.retry_after,
        }
    }
}

impl From<Busy> for AuthError {
    fn from(_: Busy) -> Self {
        AuthError::Busy
    }
}
