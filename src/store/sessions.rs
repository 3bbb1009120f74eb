//! What the store keeps about sessions and their refresh tokens.

use async_trait::async_trait;

use super::StoreError;
use crate::auth::ScopeSet;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRecord {
    /// Random id, the `sid` claim of its access tokens.
    pub id: String,
    /// The user it belongs to.
    pub username: String,
    /// The scopes granted at login.
    pub scopes: ScopeSet,
    /// Its absolute end, seconds since the Unix epoch.
    pub expires_at: i64,
    /// Whether it was ended (logout, revocation, reuse, password change, …).
    pub revoked: bool,
    /// The SHA-256 (hex) of the browser fingerprint it is bound to; `None` if
    /// unbound.
    pub binding: Option<String>,
}

/// A session to create.
#[derive(Debug, Clone)]
pub(crate) struct NewSession<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub scopes: &'a ScopeSet,
    pub created_at: i64,
    pub expires_at: i64,
    /// The SHA-256 (hex) of the browser fingerprint to bind it to, if any.
    pub binding: Option<&'a str>,
}

/// A refresh token to store: its hash and its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRefreshToken<'a> {
    /// SHA-256 of the token, hex.
    pub hash: &'a str,
    pub expires_at: i64,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// It was live: it is spent now and the next one is stored.
    Rotated(SessionRecord),
    /// It was spent already: its session is revoked now.
    Reused,
    /// Unknown, expired, or its session has ended.
    Invalid,
}

/// Sessions and refresh tokens, shared by every instance.
#[async_trait]
pub(crate) trait SessionStore: Send + Sync {
    /// Stores a session and its first refresh token; false if the user is gone.
    async fn create_session(
        &self,
        session: NewSession<'_>,
        refresh: NewRefreshToken<'_>,
    ) -> Result<bool, StoreError>;
    /// The session with this id.
    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Spends the refresh token with hash `hash` at `now` and stores `next` in its
    /// place, all at once; a spent token revokes its session instead.
    async fn rotate_refresh_token(
        &self,
        hash: &str,
        now: i64,
        next: NewRefreshToken<'_>,
    ) -> Result<RefreshOutcome, StoreError>;
    /// The id of the session a refresh token (by hash) belongs to, spent or not.
    async fn session_of_refresh_token(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// Ends a session; false if there was no live one.
    async fn revoke_session(&self, id: &str, reason: &str) -> Result<bool, StoreError>;
    /// Ends every live session of a user; returns how many.
    async fn revoke_user_sessions(&self, username: &str, reason: &str) -> Result<u64, StoreError>;
}
