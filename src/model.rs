//! Types shared by the server and the browser: what the JSON API and the pages show.

use serde::{Deserialize, Serialize};

/// A user as the API shows them: never with the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
}

/// An item owned by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Item {
    pub item_id: String,
    /// The owner's username.
    pub owner: String,
    pub description: Option<String>,
}

/// The body of `POST /users/me/items/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewItem {
    pub item_id: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A successful answer of `POST /token`. Its `Debug` output hides the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
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
