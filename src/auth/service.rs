//! The auth core: the one place that decides who someone is and what they may do.
//! `POST /token`, the protected JSON routes and the browser's server functions all
//! go through [`AuthService`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::accounts::{AccountError, Accounts, CredentialChange};
use super::binding::Fingerprint;
use super::credentials::Credentials;
use super::devices::{DeviceCookie, Devices, IssuedDeviceCookie};
use super::error::AuthError;
use super::hashing_pool::Hashing;
use super::password_check::{CheckedLogin, PasswordCheck};
use super::rate_limit::{RateLimit, RatePolicy};
use super::scope::{Scope, ScopeSet};
use super::sessions::{SessionTokens, Sessions, refresh_family};
use super::throttle::{Subject, Throttle, ThrottlePolicy, network_of};
use crate::model::NewAccount;
use crate::store::{Store, StoreError, UserRecord};

/// What an action needs from its caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirement {
    /// Scopes the credential must grant, in the order the challenge names them.
    pub scopes: &'static [Scope],
    /// Whether a disabled user is refused (`400 Inactive user`).
    pub active_user: bool,
}

impl Requirement {
    /// An active user with scope `me` (FastAPI's `get_current_active_user`).
    pub(crate) const READ_PROFILE: Requirement = Requirement {
        scopes: &[Scope::Me],
        active_user: true,
    };

    /// An active user with scopes `items` and `me`.
    pub(crate) const USE_ITEMS: Requirement = Requirement {
        scopes: &[Scope::Items, Scope::Me],
        active_user: true,
    };

    /// Any valid credential (FastAPI's `get_current_user` without scopes).
    pub(crate) const ANY_USER: Requirement = Requirement {
        scopes: &[],
        active_user: false,
    };

    /// Whether `scopes` grant every scope this requirement names.
    pub(crate) fn granted_by(&self, scopes: &ScopeSet) -> bool {
        self.scopes.iter().all(|s| scopes.contains(*s))
    }

    /// The scopes, space-separated, as FastAPI's `SecurityScopes.scope_str`.
    pub(crate) fn scope_str(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How logins are throttled and how long browsers are trusted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoginPolicy {
    /// The login throttle.
    pub throttle: ThrottlePolicy,
    /// How long a device cookie stays good.
    pub device_cookie_lifetime: Duration,
}

/// Someone the auth core let in, and the scopes their credential grants.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// The user, as they are now.
    pub user: Arc<UserRecord>,
    /// What the credential grants.
    pub scopes: ScopeSet,
    /// The session of a bearer token; `None` for HTTP Basic.
    pub session_id: Option<String>,
}

/// Password checks, sign-up, token issue and request authorization over one store.
#[derive(Clone)]
pub(crate) struct AuthService {
    accounts: Accounts,
    registration_open: bool,
    sessions: Sessions,
    throttle: Throttle,
    hashing: Hashing,
    rates: Rates,
    passwords: PasswordCheck,
}

impl AuthService {
    /// An auth core over `store`; sign-up is allowed if `registration_open`.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        accounts: Accounts,
        registration_open: bool,
        sessions: Sessions,
        login: LoginPolicy,
        hashing: Hashing,
        rates: RatePolicy,
    ) -> Self {
        let devices = Devices::new(store.clone(), login.device_cookie_lifetime);
        let throttle = Throttle::new(store, login.throttle);
        Self {
            passwords: PasswordCheck::new(
                accounts.clone(),
                throttle.clone(),
                hashing.logins.clone(),
                devices,
            ),
            throttle,
            accounts,
            registration_open,
            sessions,
            hashing,
            rates: Rates::new(rates),
        }
    }

    /// Reads the kinds of hash the store holds and times password checks against
    /// the new ones in the background, failed logins waiting until that is done,
    /// so they take the same time from the first one on (see `failure_pace`).
    /// The server calls this before it listens, and now and then.
    pub(crate) async fn learn_hash_kinds(&self) -> Result<(), StoreError> {
        self.passwords.learn_hash_kinds().await
    }

    /// Deletes what has ended: sessions (with their refresh tokens), forgotten
    /// login failures, and the rate counts of idle clients. Every instance calls
    /// this now and then.
    pub(crate) async fn clean_up(&self) {
        match self.sessions.delete_ended().await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "ended sessions deleted"),
            Err(e) => tracing::warn!(error = %e, "could not delete ended sessions"),
        }
        match self.throttle.delete_forgotten().await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "forgotten login failures deleted"),
            Err(e) => tracing::warn!(error = %e, "could not delete forgotten login failures"),
        }
        self.rates.forget_idle();
    }

    /// The sessions.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Whether people may create their own accounts.
    pub(crate) fn registration_open(&self) -> bool {
        self.registration_open
    }

    /// The OAuth2 password grant: checks the password and issues a token with the
    /// requested scopes the user is allowed (all allowed ones if none are asked).
    /// `client` is the caller's address and `device` their device cookie, if
    /// any, for the throttle.
    pub(crate) async fn login(
        &self,
        username: &str,
        password: &str,
        requested_scope: &str,
        client: IpAddr,
        device: Option<&DeviceCookie>,
    ) -> Result<SessionTokens, AuthError> {
        let (tokens, _) = self
            .password_grant(username, password, requested_scope, client, device, None)
            .await?;
        Ok(tokens)
    }

    /// A browser's sign-in: [`Self::login`] with all the user's scopes, and a new
    /// device cookie for the browser, which replaces the one it signed in with.
    /// The cookie is `None` only if it could not be stored: the sign-in stands.
    /// The session is bound to the browser holding `binding` (its fingerprint).
    pub(crate) async fn browser_login(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
        device: Option<&DeviceCookie>,
        binding: &Fingerprint,
    ) -> Result<(SessionTokens, Option<IssuedDeviceCookie>), AuthError> {
        let (tokens, checked) = self
            .password_grant(username, password, "", client, device, Some(binding))
            .await?;
        let devices = self.passwords.devices();
        let cookie = match devices
            .issue(&checked.user.username, checked.device.as_ref())
            .await
        {
            Ok(cookie) => cookie,
            Err(e) => {
                tracing::warn!(error = %e, "could not store a device cookie");
                None
            }
        };
        Ok((tokens, cookie))
    }

    /// Every login, the JSON API's and the browser's, passes here and is counted
    /// by outcome (`latchkey_logins_total`), as HTTP Basic checks are in
    /// `authorize`.
    async fn password_grant(
        &self,
        username: &str,
        password: &str,
        requested_scope: &str,
        client: IpAddr,
        device: Option<&DeviceCookie>,
        binding: Option<&Fingerprint>,
    ) -> Result<(SessionTokens, CheckedLogin), AuthError> {
        let result = self
            .check_and_start_session(username, password, requested_scope, client, device, binding)
            .await;
        count_login(login_outcome(&result));
        result
    }

    async fn check_and_start_session(
        &self,
        username: &str,
        password: &str,
        requested_scope: &str,
        client: IpAddr,
        device: Option<&DeviceCookie>,
        binding: Option<&Fingerprint>,
    ) -> Result<(SessionTokens, CheckedLogin), AuthError> {
        let requested = ScopeSet::parse(requested_scope)?;
        let checked = self
            .passwords
            .check(username, password, client, device)
            .await?
            .ok_or(AuthError::IncorrectLogin)?;
        let user = &checked.user;
        if user.disabled {
            return Err(AuthError::InactiveUser);
        }
        let granted = if requested.is_empty() {
            user.scopes.clone()
        } else {
            requested.intersection(&user.scopes)
        };
        let tokens = self.sessions.start(user, &granted, binding).await?;
        Ok((tokens, checked))
    }

    /// The OAuth2 refresh grant: a new access token and a new refresh token. The
    /// access token grants the requested scopes (all if none are asked) of those
    /// the session was granted and the user is still allowed.
    /// Refused (429) beyond the refresh rates of `client` and of the session. The
    /// refresh token of a bound session needs its browser's fingerprint,
    /// `presented`; one presented without it does not count against the session's
    /// rate, so a thief cannot keep the browser from renewing that way either.
    pub(crate) async fn refresh(
        &self,
        refresh_token: &str,
        requested_scope: &str,
        client: IpAddr,
        presented: Option<&Fingerprint>,
    ) -> Result<SessionTokens, AuthError> {
        let requested = ScopeSet::parse(requested_scope)?;
        self.rates.refresh_by_address.check(&network_of(client))?;
        self.sessions
            .check_refresh_binding(refresh_token, presented)
            .await?;
        if let Some(family) = refresh_family(refresh_token) {
            self.rates.refresh_by_session.check(&family.to_owned())?;
        }
        let (session, refresh_token) = self.sessions.rotate(refresh_token).await?;
        let Some(user) = self.accounts.find(&session.username).await? else {
            return Err(AuthError::InvalidGrant);
        };
        if user.disabled {
            // Disabling ended the sessions already; this one was started in between.
            self.accounts
                .end_sessions(&session.username, CredentialChange::Disabled)
                .await?;
            return Err(AuthError::InvalidGrant);
        }
        let allowed = session.scopes.intersection(&user.scopes);
        let scopes = if requested.is_empty() {
            allowed
        } else {
            requested.intersection(&allowed)
        };
        Ok(SessionTokens {
            access: self.sessions.issue(&session, &scopes).await?,
            refresh_token,
        })
    }

    /// Self-registration: creates an account after checking every rule for it,
    /// granting it all scopes. A taken username counts as a failed login of
    /// `client`, so sign-up tells which usernames exist no faster than the
    /// throttle allows. Sign-ups are limited per client network, and their CPU
    /// work (strength estimate, hash) runs in slots of their own.
    pub(crate) async fn register(
        &self,
        account: NewAccount,
        client: IpAddr,
    ) -> Result<UserRecord, AccountError> {
        if !self.registration_open {
            return Err(AccountError::RegistrationClosed);
        }
        self.rates
            .sign_up_by_address
            .check(&network_of(client))
            .map_err(AuthError::from)?;
        let address = Subject::Address(client);
        self.throttle
            .reserve(&[address])
            .await
            .map_err(AuthError::from)?;
        // The strength estimate is CPU work like a hash: it waits for a sign-up slot.
        let checked = self
            .hashing
            .sign_ups
            .run(move |_| Accounts::check_sign_up(account))
            .await
            .map_err(|busy| AccountError::from(AuthError::from(busy)))
            .and_then(|checked| checked);
        let account = match checked {
            Ok(account) => account,
            Err(refused) => {
                self.throttle.release(address).await?;
                return Err(refused);
            }
        };
        if self.accounts.find(&account.username).await?.is_some() {
            // The attempt stays counted: it told whether a username exists.
            return Err(AccountError::UsernameTaken);
        }
        self.throttle.release(address).await?;
        let password_hash = {
            let (hasher, password) = (self.accounts.hasher().clone(), account.password.clone());
            self.hashing
                .sign_ups
                .run(move |memory| hasher.hash_in(&password, memory))
                .await
                .map_err(AuthError::from)?
                .map_err(AuthError::from)?
        };
        self.accounts
            .create(account, password_hash, ScopeSet::all(), false)
            .await
    }

    /// Decides whether `credentials`, sent from `client` with the browser
    /// fingerprint `presented` (if any), meet `requirement`.
    pub(crate) async fn authorize(
        &self,
        credentials: Credentials,
        presented: Option<&Fingerprint>,
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
                let (claims, user) = self
                    .sessions
                    .check_access_token(&token, presented)
                    .await?
                    .ok_or_else(invalid)?;
                Principal {
                    // A scope the user has lost since the token was issued is lost
                    // at once.
                    scopes: claims.scope_set().intersection(&user.scopes),
                    session_id: Some(claims.sid),
                    user,
                }
            }
            Credentials::Basic { username, password } => {
                // HTTP Basic is for API clients, which hold no device cookie.
                let checked = self
                    .passwords
                    .check(&username, &password, client, None)
                    .await
                    .and_then(|checked| checked.ok_or(AuthError::IncorrectLogin));
                // A disabled user is refused below, after the scopes, as FastAPI
                // does; the metrics count the login as inactive either way.
                count_login(match &checked {
                    Ok(checked) if checked.user.disabled => "inactive",
                    other => login_outcome(other),
                });
                let user = match checked {
                    Ok(checked) => checked.user,
                    Err(AuthError::IncorrectLogin) => return Err(AuthError::BadBasic),
                    Err(other) => return Err(other),
                };
                Principal {
                    scopes: user.scopes.clone(),
                    session_id: None,
                    user: Arc::new(user),
                }
            }
        };
        if !requirement.granted_by(&principal.scopes) {
            return Err(AuthError::NotEnoughPermissions {
                required: requirement.scope_str(),
            });
        }
        if requirement.active_user && principal.user.disabled {
            return Err(AuthError::InactiveUser);
        }
        Ok(principal)
    }
}

/// Counts a password login (a grant or HTTP Basic) of `outcome` in
/// `latchkey_logins_total`.
fn count_login(outcome: &'static str) {
    metrics::counter!("latchkey_logins_total", "outcome" => outcome).increment(1);
}

/// The `outcome` label of a login's result in the metrics.
fn login_outcome<T>(result: &Result<T, AuthError>) -> &'static str {
    match result {
        Ok(_) => "success",
        // An unknown user is a wrong password: the metrics tell no more than the
        // answer does.
        Err(AuthError::IncorrectLogin) => "wrong_password",
        Err(AuthError::InactiveUser) => "inactive",
        Err(AuthError::TooManyAttempts { .. }) => "throttled",
        Err(AuthError::Busy) => "busy",
        Err(AuthError::UnknownScope(_)) => "bad_request",
        Err(AuthError::Store(_)) => "error",
        Err(_) => "other",
    }
}

/// The request rates the auth core keeps, per instance.
#[derive(Clone)]
struct Rates {
    refresh_by_address: RateLimit<IpAddr>,
    refresh_by_session: RateLimit<String>,
    sign_up_by_address: RateLimit<IpAddr>,
}

impl Rates {
    fn new(policy: RatePolicy) -> Self {
        Self {
            refresh_by_address: RateLimit::per_minute(policy.refresh_per_address_minute),
            refresh_by_session: RateLimit::per_minute(policy.refresh_per_session_minute),
            sign_up_by_address: RateLimit::per_hour(policy.signup_per_address_hour),
        }
    }

    fn forget_idle(&self) {
        self.refresh_by_address.forget_idle();
        self.refresh_by_session.forget_idle();
        self.sign_up_by_address.forget_idle();
    }
}
