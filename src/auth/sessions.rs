//! Sessions: what a login starts and logout ends. Each session has one live
//! refresh token at a time — an opaque random value, stored only as its SHA-256 —
//! and its access tokens name it (`sid`), so ending it refuses them everywhere.
//!
//! A refresh token is spent when used and replaced by a new one (rotation).
//! Presenting a spent one means it was copied: the whole session is ended.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::error::AuthError;
use super::keyring::reload_keyring;
use super::scope::ScopeSet;
use super::token::{IssuedToken, TokenClaims, TokenError, TokenSigner};
use crate::clock::{seconds, unix_now};
use crate::model::TokenResponse;
use crate::store::{NewRefreshToken, NewSession, RefreshOutcome, SessionRecord, Store, StoreError};

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionPolicy {
    /// A refresh token unused this long expires (and with it, the session).
    pub refresh_lifetime: Duration,
    /// A session ends this long after its login, however it is used.
    pub max_lifetime: Duration,
    /// The keyring is read again from the store at least this often, so that keys
    /// rotated or withdrawn elsewhere take effect here too.
    pub keyring_refresh: Duration,
}

/// What a login or a refresh hands out.
#[derive(Clone)]
pub(crate) struct SessionTokens {
    /// The access token.
    pub access: IssuedToken,
    /// The refresh token: shown to the client once, never stored as is.
    pub refresh_token: String,
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionTokens")
            .field("access", &self.access)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

impl From<SessionTokens> for TokenResponse {
    /// The answer of `/token`, which the browser app's sign-in and renewal get too.
    fn from(tokens: SessionTokens) -> Self {
        TokenResponse {
            access_token: tokens.access.token,
            token_type: "bearer".into(),
            expires_in: tokens.access.expires_in,
            scope: tokens.access.scopes.to_string(),
            refresh_token: tokens.refresh_token,
        }
    }
}

/// Sessions over a store, with the signer of their access tokens.
#[derive(Clone)]
pub(crate) struct Sessions {
    store: Arc<dyn Store>,
    signer: TokenSigner,
    policy: SessionPolicy,
    keyring_read: Arc<Mutex<Instant>>,
}

impl Sessions {
    /// Sessions kept in `store`.
    pub(crate) fn new(store: Arc<dyn Store>, signer: TokenSigner, policy: SessionPolicy) -> Self {
        Self {
            store,
            signer,
            policy,
            keyring_read: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// The public keys of the keyring, as a JWKS.
    pub(crate) async fn jwks(&self) -> serde_json::Value {
        self.reload_keyring(self.policy.keyring_refresh).await;
        self.signer.keyring().jwks()
    }

    /// Starts a session for `username` granting `scopes`.
    pub(crate) async fn start(
        &self,
        username: &str,
        scopes: &ScopeSet,
    ) -> Result<SessionTokens, AuthError> {
        self.reload_keyring(self.policy.keyring_refresh).await;
        let now = unix_now();
        let id = random_token();
        let expires_at = now.saturating_add(seconds(self.policy.max_lifetime));
        let refresh_token = random_token();
        let hash = hash_token(&refresh_token);
        let created = self
            .store
            .create_session(
                NewSession {
                    id: &id,
                    username,
                    scopes,
                    created_at: now,
                    expires_at,
                },
                NewRefreshToken {
                    hash: &hash,
                    expires_at: self.refresh_end(now).min(expires_at),
                },
            )
            .await?;
        if !created {
            // The user was deleted while logging in.
            return Err(AuthError::IncorrectLogin);
        }
        Ok(SessionTokens {
            access: self.signer.issue(username, &id, scopes),
            refresh_token,
        })
    }

    /// Swaps a refresh token for a new access token and a new refresh token.
    /// Returns the session and the tokens; the caller checks the user.
    pub(crate) async fn refresh(
        &self,
        refresh_token: &str,
        requested: &ScopeSet,
    ) -> Result<(SessionRecord, SessionTokens), AuthError> {
        self.reload_keyring(self.policy.keyring_refresh).await;
        let now = unix_now();
        let next = random_token();
        let next_hash = hash_token(&next);
        let outcome = self
            .store
            .rotate_refresh_token(
                &hash_token(refresh_token),
                now,
                NewRefreshToken {
                    hash: &next_hash,
                    expires_at: self.refresh_end(now),
                },
            )
            .await?;
        let session = match outcome {
            RefreshOutcome::Rotated(session) => session,
            RefreshOutcome::Reused => {
                tracing::warn!("a spent refresh token was presented again: its session is ended");
                return Err(AuthError::InvalidGrant);
            }
            RefreshOutcome::Invalid => return Err(AuthError::InvalidGrant),
        };
        let scopes = if requested.is_empty() {
            session.scopes.clone()
        } else {
            requested.intersection(&session.scopes)
        };
        let access = self.signer.issue(&session.username, &session.id, &scopes);
        Ok((
            session,
            SessionTokens {
                access,
                refresh_token: next,
            },
        ))
    }

    /// The claims of an access token whose signature, claims and session are live;
    /// `None` if it is refused.
    pub(crate) async fn check_access_token(
        &self,
        token: &str,
    ) -> Result<Option<TokenClaims>, StoreError> {
        // An instance that only verifies must learn of withdrawn keys too.
        self.reload_keyring(self.policy.keyring_refresh).await;
        let verified = match self.signer.verify(token) {
            // Perhaps signed with a key rotated in since the keyring was read. (A
            // forged kid costs one small read, no more than a valid token's session
            // lookup.)
            Err(TokenError::UnknownKey) if self.reload_keyring(Duration::ZERO).await => {
                self.signer.verify(token)
            }
            other => other,
        };
        let claims = match verified {
            Ok(claims) => claims,
            Err(e) => {
                tracing::debug!(error = %e, "access token refused");
                return Ok(None);
            }
        };
        let live = self
            .store
            .find_session(&claims.sid)
            .await?
            .is_some_and(|s| !s.revoked && s.expires_at > unix_now() && s.username == claims.sub);
        Ok(live.then_some(claims))
    }

    /// Ends the session a token belongs to: a valid access token of ours, or a
    /// refresh token, spent or not. Other tokens are ignored, as RFC 7009 asks.
    /// Returns whether a session ended.
    pub(crate) async fn revoke_token(&self, token: &str) -> Result<bool, AuthError> {
        let session = match self.signer.verify(token) {
            Ok(claims) => Some(claims.sid),
            Err(_) => {
                self.store
                    .session_of_refresh_token(&hash_token(token))
                    .await?
            }
        };
        match session {
            Some(id) => self.end(&id, "revoked").await,
            None => Ok(false),
        }
    }

    /// Ends the session `id`.
    pub(crate) async fn end(&self, id: &str, reason: &str) -> Result<bool, AuthError> {
        Ok(self.store.revoke_session(id, reason).await?)
    }

    fn refresh_end(&self, now: i64) -> i64 {
        now.saturating_add(seconds(self.policy.refresh_lifetime))
    }

    /// Reads the keyring again if it was read more than `age` ago; true if it did.
    async fn reload_keyring(&self, age: Duration) -> bool {
        {
            let mut last = self
                .keyring_read
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() < age {
                return false;
            }
            *last = Instant::now();
        }
        let current = self.signer.keyring();
        match reload_keyring(self.store.as_ref(), Some(&current)).await {
            Ok(keyring) => {
                self.signer.replace_keyring(keyring);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the signing keys again");
                false
            }
        }
    }
}

/// 256 random bits, base64url.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a random token (a refresh token, a device cookie).
pub(super) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
