//! Sessions: what a login starts and logout ends. Each session has one live
//! refresh token at a time, and its access tokens name it (`sid`), so ending it
//! refuses them everywhere.
//!
//! A refresh token reads `<family>.<secret>`, 128 and 256 random bits. The
//! family is the session's and stays the same from token to token; the store
//! keeps only the SHA-256 of the current token. A refresh token is spent when
//! used and replaced by a new one (rotation). Presenting a token of a known
//! family that is not the current one means it was copied: the whole session is
//! ended. So reuse is recognised for as long as the session lives, and nothing is
//! kept of spent tokens.
//!
//! A session the browser app starts is bound to that browser (see
//! [`binding`](super::binding)): its tokens work only with the browser's cookie.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::authorization_cache::AuthorizationCache;
use super::binding::{Fingerprint, binding_holds};
use super::error::AuthError;
use super::keyring::reload_keyring;
use super::scope::ScopeSet;
use super::token::{IssuedToken, TokenClaims, TokenError, TokenSigner};
use crate::clock::{seconds, unix_now};
use crate::model::TokenResponse;
use crate::store::{
    ChangeFeed, NewRefreshToken, NewSession, RefreshKey, RefreshOutcome, SessionRecord, Store,
    StoreChange, StoreError, UserRecord,
};

/// How often, at most, tokens whose key id the keyring does not hold make it be
/// read again (besides the periodic re-read and the store's change feed).
const UNKNOWN_KID_REREAD: Duration = Duration::from_secs(1);

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
    cache: AuthorizationCache,
    signer: TokenSigner,
    policy: SessionPolicy,
    keyring_read: Arc<Mutex<Instant>>,
    /// When a token with a key id not in the keyring last made it read again.
    unknown_kid_read: Arc<Mutex<Option<Instant>>>,
    /// Set when the store's change hub says the keys changed (or changes were
    /// missed): the keyring is read again before the next token is checked.
    keyring_stale: Arc<AtomicBool>,
}

impl Sessions {
    /// Sessions kept in `store`, whose access tokens are checked against `cache`.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        cache: AuthorizationCache,
        signer: TokenSigner,
        policy: SessionPolicy,
    ) -> Self {
        let keyring_stale = Arc::new(AtomicBool::new(false));
        store.change_hub().watch({
            let stale = keyring_stale.clone();
            Arc::new(move |change: &StoreChange| {
                if matches!(change, StoreChange::KeysChanged | StoreChange::Missed) {
                    stale.store(true, Ordering::Release);
                }
            })
        });
        Self {
            store,
            cache,
            signer,
            policy,
            keyring_read: Arc::new(Mutex::new(Instant::now())),
            unknown_kid_read: Arc::default(),
            keyring_stale,
        }
    }

    /// Reads the keyring again if another process changed the keys (SQLite's
    /// change counter, PostgreSQL's notifications) or it was read more than
    /// `keyring_refresh` ago: a withdrawn key stops verifying at once.
    async fn keep_keyring_current(&self) {
        self.store.change_hub().catch_up();
        self.reload_keyring_if_due().await;
    }

    /// [`Self::keep_keyring_current`], once the store's hub has caught up.
    async fn reload_keyring_if_due(&self) {
        let age = if self.keyring_stale.swap(false, Ordering::AcqRel) {
            Duration::ZERO
        } else {
            self.policy.keyring_refresh
        };
        self.reload_keyring(age).await;
    }

    /// The public keys of the keyring, as a JWKS.
    pub(crate) async fn jwks(&self) -> serde_json::Value {
        self.keep_keyring_current().await;
        self.signer.keyring().jwks()
    }

    /// Starts a session for `user`, as read by the password check, granting
    /// `scopes`. Refused if the user's credentials changed since, or the user was
    /// disabled or deleted: a login in flight cannot outlive a password change.
    /// With `binding`, the session is bound to the browser holding it.
    pub(crate) async fn start(
        &self,
        user: &UserRecord,
        scopes: &ScopeSet,
        binding: Option<&Fingerprint>,
    ) -> Result<SessionTokens, AuthError> {
        self.keep_keyring_current().await;
        let now = unix_now();
        let id = random_value(32);
        let expires_at = now.saturating_add(seconds(self.policy.max_lifetime));
        let refresh = RefreshToken::new(random_value(16));
        let binding = binding.map(Fingerprint::hash);
        let created = self
            .store
            .create_session(
                NewSession {
                    id: &id,
                    username: &user.username,
                    credentials_version: user.credentials_version,
                    scopes,
                    created_at: now,
                    expires_at,
                    binding: binding.as_deref(),
                },
                &refresh.family,
                NewRefreshToken {
                    hash: &refresh.hash(),
                    expires_at: self.refresh_end(now).min(expires_at),
                },
            )
            .await?;
        if !created {
            return Err(AuthError::IncorrectLogin);
        }
        Ok(SessionTokens {
            access: self
                .signer
                .issue(&user.username, &id, scopes, binding.as_deref())?,
            refresh_token: refresh.token,
        })
    }

    /// Refuses the refresh token of a bound session unless `presented` is its
    /// browser's fingerprint, and then changes nothing: the token is not spent and
    /// its session goes on (a missing cookie proves no theft, and whoever copied
    /// the token cannot spend it to make the browser's next renewal look like a
    /// reuse). Tokens of unbound sessions, and unknown ones, pass: [`Self::rotate`]
    /// decides about them.
    pub(crate) async fn check_refresh_binding(
        &self,
        refresh_token: &str,
        presented: Option<&Fingerprint>,
    ) -> Result<(), AuthError> {
        // A session's binding never changes: checking it before the swap is safe.
        let key = RefreshToken::key_of(refresh_token);
        if let Some(id) = self.store.session_of_refresh_token(&key).await?
            && let Some(session) = self.store.find_session(&id).await?
        {
            let binding = session.binding.as_deref();
            if !binding_holds(binding, binding, presented) {
                tracing::info!("a bound refresh token was presented without its cookie");
                return Err(AuthError::InvalidGrant);
            }
        }
        Ok(())
    }

    /// Spends a refresh token: returns its session and the session's next refresh
    /// token. The caller checks the user, then [`Self::issue`]s the access token.
    pub(crate) async fn rotate(
        &self,
        refresh_token: &str,
    ) -> Result<(SessionRecord, String), AuthError> {
        let now = unix_now();
        let presented = RefreshToken::key_of(refresh_token);
        // A token without a family (issued before families existed) gets one now.
        let family = presented.family.clone().unwrap_or_else(|| random_value(16));
        let next = RefreshToken::new(family);
        let outcome = self
            .store
            .rotate_refresh_token(
                &presented,
                now,
                &next.family,
                NewRefreshToken {
                    hash: &next.hash(),
                    expires_at: self.refresh_end(now),
                },
            )
            .await?;
        match outcome {
            RefreshOutcome::Rotated(session) => Ok((session, next.token)),
            RefreshOutcome::Reused => {
                tracing::warn!("a spent refresh token was presented again: its session is ended");
                Err(AuthError::InvalidGrant)
            }
            RefreshOutcome::Invalid => Err(AuthError::InvalidGrant),
        }
    }

    /// An access token of `session` granting `scopes`, bound as the session is.
    pub(crate) async fn issue(
        &self,
        session: &SessionRecord,
        scopes: &ScopeSet,
    ) -> Result<IssuedToken, AuthError> {
        self.keep_keyring_current().await;
        Ok(self.signer.issue(
            &session.username,
            &session.id,
            scopes,
            session.binding.as_deref(),
        )?)
    }

    /// Deletes sessions that ended or expired, and what belongs to them; returns
    /// how many. (Access tokens outlive their refresh token by at most their own
    /// lifetime, so a session is kept that much longer.)
    pub(crate) async fn delete_ended(&self) -> Result<u64, StoreError> {
        let now = unix_now();
        let access_lifetime = seconds(self.signer.access_lifetime());
        self.store
            .delete_ended_sessions(now, now.saturating_sub(access_lifetime))
            .await
    }

    /// The claims of an access token whose signature, claims and session are live,
    /// and whose binding holds with the fingerprint the request `presented`, and
    /// the user it names as they are now; `None` if it is refused.
    pub(crate) async fn check_access_token(
        &self,
        token: &str,
        presented: Option<&Fingerprint>,
    ) -> Result<Option<(TokenClaims, Arc<UserRecord>)>, StoreError> {
        // One look at what other processes changed serves the keyring and the
        // cache alike; an instance that only verifies learns of withdrawn keys too.
        let cached = self.cache.caught_up();
        self.reload_keyring_if_due().await;
        let verified = match self.signer.verify(token) {
            // Perhaps signed with a key rotated in since the keyring was read.
            Err(TokenError::UnknownKey) if self.reload_keyring_for_unknown_kid().await => {
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
        let live = cached.session(&claims.sid).await?.is_some_and(|s| {
            !s.revoked
                && s.expires_at > unix_now()
                && s.username == claims.sub
                && binding_holds(s.binding.as_deref(), claims.fgp.as_deref(), presented)
        });
        if !live {
            return Ok(None);
        }
        Ok(cached.user(&claims.sub).await?.map(|user| (claims, user)))
    }

    /// Ends the session a token belongs to: a valid access token of ours, or a
    /// refresh token, spent or not. Other tokens are ignored, as RFC 7009 asks.
    /// Returns whether a session ended.
    pub(crate) async fn revoke_token(&self, token: &str) -> Result<bool, AuthError> {
        let session = match self.signer.verify(token) {
            Ok(claims) => Some(claims.sid),
            Err(_) => {
                self.store
                    .session_of_refresh_token(&RefreshToken::key_of(token))
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

    /// Follows the store's change feed until it ends: reads the keyring again as
    /// soon as another instance or the command line changed it (or changes may
    /// have been missed). The periodic re-read stays as the safety net.
    pub(crate) async fn follow_changes(self, mut feed: ChangeFeed) {
        while let Some(change) = feed.next().await {
            match change {
                StoreChange::KeysChanged | StoreChange::Missed => {
                    if self.reload_keyring(Duration::ZERO).await {
                        tracing::debug!("signing keys read again after a change elsewhere");
                    }
                }
                // The authorization cache hears of these through the store's
                // change hub.
                StoreChange::SessionEnded(_) | StoreChange::UserChanged(_) => {}
            }
        }
    }

    /// Reads the keyring again for a token whose key id it does not hold, unless
    /// another such token made it read in the last [`UNKNOWN_KID_REREAD`]: a
    /// flood of forged key ids costs a database read a second, not one each,
    /// while authorized requests are answered from memory. True if it read.
    async fn reload_keyring_for_unknown_kid(&self) -> bool {
        {
            let mut last = self
                .unknown_kid_read
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|last| last.elapsed() < UNKNOWN_KID_REREAD) {
                return false;
            }
            *last = Some(Instant::now());
        }
        self.reload_keyring(Duration::ZERO).await
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
        metrics::counter!("latchkey_keyring_reads_total").increment(1);
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

/// `bytes` random bytes, base64url.
pub(super) fn random_value(bytes: usize) -> String {
    let mut value = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut value);
    URL_SAFE_NO_PAD.encode(value)
}

/// A refresh token being issued: `<family>.<secret>`.
struct RefreshToken {
    family: String,
    token: String,
}

impl RefreshToken {
    /// A new token of `family`, with a fresh 256-bit secret.
    fn new(family: String) -> Self {
        let token = format!("{family}.{}", random_value(32));
        Self { family, token }
    }

    /// What the store keeps of it.
    fn hash(&self) -> String {
        hash_token(&self.token)
    }

    /// How the store finds a presented token. (Base64url has no `.`.)
    fn key_of(presented: &str) -> RefreshKey {
        RefreshKey {
            family: refresh_family(presented).map(str::to_owned),
            hash: hash_token(presented),
        }
    }
}

/// The family a presented refresh token names, if it names one.
pub(crate) fn refresh_family(presented: &str) -> Option<&str> {
    presented
        .split_once('.')
        .map(|(family, _)| family)
        .filter(|family| !family.is_empty())
}

/// What the store keeps of a random token (a refresh token, a device cookie).
pub(super) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
