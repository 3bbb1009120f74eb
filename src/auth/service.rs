//! The auth core: the one place that decides who someone is and what they may do.
//! `POST /token`, the protected JSON routes and the browser's server functions all
//! go through [`AuthService`].

use std::net::IpAddr;
use std::sync::Arc;

use super::credentials::Credentials;
use super::error::AuthError;
use super::hashing_pool::HashingPool;
use super::password::{PasswordHash, PasswordHasher, Verdict, run_blocking};
use super::registration::{NewAccount, RegistrationError};
use super::scope::{Scope, ScopeSet};
use super::sessions::{SessionTokens, Sessions};
use super::throttle::{Subject, Throttle, ThrottlePolicy};
use crate::store::{NewUser, Store, StoreError, UserRecord};

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// Scopes the credential must grant, in the order the challenge names them.
    pub scopes: &'static [Scope],
    /// Whether a disabled user is refused (`400 Inactive user`).
    pub active_user: bool,
}

impl Requirement {
    /// The scopes, space-separated, as FastAPI's `SecurityScopes.scope_str`.
    pub fn scope_str(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Someone the auth core let in, and the scopes their credential grants.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: UserRecord,
    /// What the credential grants.
    pub scopes: ScopeSet,
    /// The session of a bearer token; `None` for HTTP Basic.
    pub session_id: Option<String>,
}

/// Password checks, token issue and request authorization over one store.
#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    sessions: Sessions,
    throttle: Throttle,
    hashing: HashingPool,
    /// Checked when the username is unknown, so that costs the same as a wrong password.
    dummy_hash: PasswordHash,
}

impl AuthService {
    /// An auth core over `store`. Computes one hash of the current policy.
    pub fn new(
        store: Arc<dyn Store>,
        hasher: PasswordHasher,
        sessions: Sessions,
        throttle: ThrottlePolicy,
        hashing: HashingPool,
    ) -> Self {
        let dummy_hash = hasher.hash("latchkey-dummy-password");
        Self {
            throttle: Throttle::new(store.clone(), throttle),
            store,
            hasher,
            sessions,
            hashing,
            dummy_hash,
        }
    }

    /// The store this core reads users from.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The password policy.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The OAuth2 password grant: checks the password and issues a token with the
    /// requested scopes the user is allowed (all allowed ones if none are asked).
    /// `client` is the caller's address, for the throttle.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        requested_scope: &str,
        client: IpAddr,
    ) -> Result<SessionTokens, AuthError> {
        let requested = ScopeSet::parse(requested_scope)?;
        let user = self
            .check_password(username, password, client)
            .await?
            .ok_or(AuthError::IncorrectLogin)?;
        if user.disabled {
            return Err(AuthError::InactiveUser);
        }
        let granted = if requested.is_empty() {
            user.scopes.clone()
        } else {
            requested.intersection(&user.scopes)
        };
        self.sessions.start(&user.username, &granted).await
    }

    /// The OAuth2 refresh grant: a new access token (with the requested scopes of
    /// the session's, all of them if none are asked) and a new refresh token.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        requested_scope: &str,
    ) -> Result<SessionTokens, AuthError> {
        let requested = ScopeSet::parse(requested_scope)?;
        let (session, tokens) = self.sessions.refresh(refresh_token, &requested).await?;
        let user_active = self
            .store
            .find_user(&session.username)
            .await?
            .is_some_and(|user| !user.disabled);
        if !user_active {
            self.sessions.end(&session.id, "user disabled").await?;
            return Err(AuthError::InvalidGrant);
        }
        Ok(tokens)
    }

    /// Creates an account after checking every rule for it; it may be granted all
    /// scopes. A taken username counts as a failed login of `client`, so sign-up
    /// tells which usernames exist no faster than the throttle allows.
    pub async fn register(
        &self,
        account: NewAccount,
        client: IpAddr,
    ) -> Result<UserRecord, RegistrationError> {
        let subjects = [Subject::Address(client)];
        self.throttle
            .check(&subjects)
            .await
            .map_err(AuthError::from)?;
        // zxcvbn's estimate is CPU work like hashing: keep it off the executor too.
        let account = run_blocking(move || account.validate()).await?;
        if self.store.find_user(&account.username).await?.is_some() {
            self.throttle.failed(&subjects).await?;
            return Err(RegistrationError::UsernameTaken);
        }
        let password_hash = {
            let (hasher, password) = (self.hasher.clone(), account.password.clone());
            self.hashing
                .run(move || hasher.hash(&password))
                .await
                .map_err(AuthError::from)?
        };
        let user = NewUser {
            username: account.username,
            email: account.email,
            full_name: account.full_name,
            disabled: false,
            password_hash,
            scopes: ScopeSet::all(),
        };
        self.store.create_user(&user).await.map_err(|e| match e {
            StoreError::Conflict(_) => RegistrationError::UsernameTaken,
            other => other.into(),
        })?;
        self.store
            .find_user(&user.username)
            .await?
            .ok_or(RegistrationError::UsernameTaken)
    }

    /// Decides whether `credentials`, sent from `client`, meet `requirement`.
    pub async fn authorize(
        &self,
        credentials: Credentials,
        requirement: Requirement,
        client: IpAddr,
    ) -> Result<Principal, AuthError> {
        let invalid = || AuthError::InvalidToken {
            required: requirement.scope_str(),
        };
        let principal = match credentials {
            Credentials::Missing => return Err(AuthError::NotAuthenticated),
            Credentials::MalformedBasic => return Err(AuthError::BadBasic),
            Credentials::Bearer(token) => {
                let claims = self
                    .sessions
                    .check_access_token(&token)
                    .await?
                    .ok_or_else(invalid)?;
                let user = self
                    .store
                    .find_user(&claims.sub)
                    .await?
                    .ok_or_else(invalid)?;
                Principal {
                    scopes: claims.scope_set(),
                    session_id: Some(claims.sid),
                    user,
                }
            }
            Credentials::Basic { username, password } => {
                let user = self
                    .check_password(&username, &password, client)
                    .await?
                    .ok_or(AuthError::BadBasic)?;
                Principal {
                    scopes: user.scopes.clone(),
                    session_id: None,
                    user,
                }
            }
        };
        if requirement
            .scopes
            .iter()
            .any(|s| !principal.scopes.contains(*s))
        {
            return Err(AuthError::NotEnoughPermissions {
                required: requirement.scope_str(),
            });
        }
        if requirement.active_user && principal.user.disabled {
            return Err(AuthError::InactiveUser);
        }
        Ok(principal)
    }

    /// The user if `password` is theirs. Refused while the account or `client` is
    /// throttled; otherwise costs one Argon2 check whether or not the user exists,
    /// counts a failure against both, and moves a hash of an old policy to the
    /// current one.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Option<UserRecord>, AuthError> {
        let subjects = [Subject::Account(username), Subject::Address(client)];
        if let Err(refusal) = self.throttle.check(&subjects).await {
            tracing::info!(username, %client, "login refused by the throttle");
            return Err(refusal.into());
        }
        let user = self.store.find_user(username).await?;
        let hash = user
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let verdict = {
            let (hasher, password) = (self.hasher.clone(), password.to_owned());
            self.hashing
                .run(move || hasher.verify(&password, &hash))
                .await?
        };
        let Some(user) = user.filter(|_| verdict.is_match()) else {
            tracing::info!(username, %client, "failed login");
            self.throttle.failed(&subjects).await?;
            return Ok(None);
        };
        self.throttle.succeeded(Subject::Account(username)).await?;
        if verdict == Verdict::MatchNeedsRehash && !user.disabled {
            self.rehash(&user.username, password).await;
        }
        Ok(Some(user))
    }

    async fn rehash(&self, username: &str, password: &str) {
        let (hasher, password) = (self.hasher.clone(), password.to_owned());
        let Ok(hash) = self.hashing.run(move || hasher.hash(&password)).await else {
            // Busy: the old hash still verifies; the upgrade waits for the next login.
            return;
        };
        match self.store.set_password_hash(username, &hash).await {
            Ok(_) => tracing::info!(username, "password hash upgraded to the current policy"),
            Err(e) => {
                tracing::warn!(username, error = %e, "could not store the upgraded password hash")
            }
        }
    }
}
