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
    /// The user's credentials version the password check saw: the session is
    /// created only if it is still current and the user is not disabled.
    pub credentials_version: i64,
    pub scopes: &'a ScopeSet,
    pub created_at: i64,
    pub expires_at: i64,
    /// The SHA-256 (hex) of the browser fingerprint to bind it to, if any.
    pub binding: Option<&'a str>,
}

/// A session's next refresh token: its hash and its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRefreshToken<'a> {
    /// SHA-256 of the token, hex.
    pub hash: &'a str,
    pub expires_at: i64,
}

/// How a presented refresh token is found: by its family (the session it
/// names), or, for a token issued before families existed, by its hash alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefreshKey {
    /// The family the token names; `None` for a token without one.
    pub family: Option<String>,
    /// SHA-256 of the whole token, hex.
    pub hash: String,
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
    /// Stores a session of refresh family `family` and its first refresh token;
    /// false if the user is gone, disabled, or their credentials changed.
    async fn create_session(
        &self,
        session: NewSession<'_>,
        family: &str,
        refresh: NewRefreshToken<'_>,
    ) -> Result<bool, StoreError>;
    /// The session with this id.
    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Spends the presented refresh token at `now` and makes `next` its session's
    /// current one (of family `family`), all at once; a spent token (of a known
    /// family, not the current one) revokes its session instead.
    async fn rotate_refresh_token(
        &self,
        presented: &RefreshKey,
        now: i64,
        family: &str,
        next: NewRefreshToken<'_>,
    ) -> Result<RefreshOutcome, StoreError>;
    /// The id of the session a refresh token belongs to, spent or not.
    async fn session_of_refresh_token(
        &self,
        presented: &RefreshKey,
    ) -> Result<Option<String>, StoreError>;
    /// Ends a session; false if there was no live one.
    async fn revoke_session(&self, id: &str, reason: &str) -> Result<bool, StoreError>;
    /// Ends every live session of a user; returns how many.
    async fn revoke_user_sessions(&self, username: &str, reason: &str) -> Result<u64, StoreError>;
    /// How many sessions a refresh could still renew at `now` (not ended, not
    /// expired): the active sessions of the metrics.
    async fn count_live_sessions(&self, now: i64) -> Result<u64, StoreError>;
    /// Deletes what can no longer matter: sessions that ended or expired (and
    /// with them their refresh tokens), and sessions whose refresh token expired
    /// before `refresh_ended_before`, by when their access tokens have too.
    /// Returns how many sessions it deleted.
    async fn delete_ended_sessions(
        &self,
        now: i64,
        refresh_ended_before: i64,
    ) -> Result<u64, StoreError>;
}
