//! Types shared by the server and the browser: what the JSON API and the pages show.

use serde::{Deserialize, Serialize};

/// A user as the API shows them: never with the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct User {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
}

/// An account to create: the body of `POST /users/`, the sign-up form, and
/// `latchkey user add`. Its `Debug` output hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct NewAccount {
    /// No spaces, control characters or `:`.
    pub username: String,
    /// A valid email address.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    /// Not containing the username, not common or easy to guess.
    #[cfg_attr(feature = "ssr", schema(format = Password))]
    pub password: String,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("full_name", &self.full_name)
            .field("password", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
impl NewAccount {
    /// An account of a username and a password only.
    pub(crate) fn of(username: &str, password: &str) -> Self {
        Self {
            username: username.into(),
            email: None,
            full_name: None,
            password: password.into(),
        }
    }
}

/// An item owned by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct Item {
    pub item_id: String,
    /// The owner's username.
    pub owner: String,
    pub description: Option<String>,
}

/// The body of `POST /users/me/items/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct NewItem {
    /// Printable characters, not all blank.
    pub item_id: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A successful answer of `POST /token`. Its `Debug` output hides the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub(crate) struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// Swapped at `/token` (`grant_type=refresh_token`) for new tokens; each works
    /// once.
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}
