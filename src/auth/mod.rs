//! The auth core, shared by the JSON API and the browser's server functions: who
//! someone is (passwords, tokens, credentials), what they may do (scopes), their
//! sessions, the login throttle, the signing keys, and the accounts themselves.

pub(crate) mod accounts;
pub(crate) mod authorization_cache;
mod binding;
mod credentials;
pub(crate) mod devices;
mod error;
mod failure_pace;
pub(crate) mod hashing_pool;
pub(crate) mod keyring;
pub(crate) mod password;
mod password_check;
pub(crate) mod rate_limit;
mod scope;
mod service;
pub(crate) mod sessions;
pub(crate) mod throttle;
pub(crate) mod token;

pub(crate) use self::binding::Fingerprint;
pub(crate) use self::credentials::Credentials;
pub(crate) use self::error::{AuthError, CoreError};
pub(crate) use self::scope::{Scope, ScopeSet};
pub(crate) use self::service::{AuthService, LoginPolicy, Principal, Requirement};
