//! The auth core, shared by the JSON API and the browser's server functions.

pub mod credentials;
pub mod error;
pub mod hashing_pool;
pub mod keyring;
pub mod keys;
pub mod password;
pub mod registration;
pub mod scope;
pub mod service;
pub mod sessions;
pub mod throttle;
pub mod token;

pub use self::credentials::Credentials;
pub use self::error::AuthError;
pub use self::scope::{Scope, ScopeSet};
pub use self::service::{AuthService, Principal, Requirement};
