//! Accounts: creating, changing and removing users, for self-registration and for
//! the operator alike. Two rules live here and nowhere else: a new account meets
//! the rules of [`crate::rules`] (self-registration also a password that is hard
//! to guess), and a user whose password changes or who is disabled loses every
//! session at once.

use std::sync::Arc;

use super::error::CoreError;
use super::password::{PasswordHash, PasswordHasher};
use super::scope::ScopeSet;
use crate::model::NewAccount;
use crate::rules::{Field, Violation, check_email, check_full_name, check_username};
use crate::store::{ImportCounts, NewUser, Progress, Store, StoreError, UserRecord};

/// Why an account operation did nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccountError {
    /// Self-registration is switched off.
    #[error("Self-registration is disabled")]
    RegistrationClosed,
    /// A field breaks a rule.
    #[error(transparent)]
    Invalid(#[from] Violation),
    /// The username is taken.
    #[error("Username already registered")]
    UsernameTaken,
    /// There is no user of that name.
    #[error("no user named {0}")]
    NoSuchUser(String),
    /// Turned away before the account was looked at: throttled or busy.
    #[error(transparent)]
    Refused(#[from] super::AuthError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CoreError for AccountError {
    fn status(&self) -> u16 {
        match self {
            AccountError::RegistrationClosed => 403,
            AccountError::Invalid(_) => 422,
            AccountError::UsernameTaken => 409,
            AccountError::NoSuchUser(_) => 404,
            AccountError::Refused(e) => e.status(),
            AccountError::Store(_) => 500,
        }
    }

    fn failure(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AccountError::Store(e) => Some(e),
            AccountError::Refused(e) => e.failure(),
            _ => None,
        }
    }
}

/// Why the credentials of a user changed: said in the log of the sessions ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialChange {
    PasswordChanged,
    Disabled,
}

impl CredentialChange {
    fn reason(self) -> &'static str {
        match self {
            CredentialChange::PasswordChanged => "password changed",
            CredentialChange::Disabled => "user disabled",
        }
    }
}

/// The users of a store, and the password hasher of new hashes.
#[derive(Clone)]
pub(crate) struct Accounts {
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
}

impl Accounts {
    pub(crate) fn new(store: Arc<dyn Store>, hasher: PasswordHasher) -> Self {
        Self { store, hasher }
    }

    /// The hasher of new passwords.
    pub(crate) fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The user with exactly this username.
    pub(crate) async fn find(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.store.find_user(username).await
    }

    /// Every user, by username.
    pub(crate) async fn list(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.store.list_users().await
    }

    /// One of the users' password hashes of each kind (algorithm and costs).
    pub(crate) async fn one_hash_of_each_kind(&self) -> Result<Vec<PasswordHash>, StoreError> {
        self.store.one_hash_of_each_kind().await
    }

    /// `account`, normalised, if it meets every rule of self-registration: the
    /// shared rules, and a password that is not common or easy to guess. The
    /// username's availability is not checked. CPU work (zxcvbn's estimate): run
    /// it off the executor.
    pub(crate) fn check_sign_up(account: NewAccount) -> Result<NewAccount, AccountError> {
        let account = account.normalized();
        if let Some(broken) = account.violations().into_iter().next() {
            return Err(broken.into());
        }
        check_guessability(&account)?;
        Ok(account)
    }

    /// `account`, normalised, if its username, email and full name meet the rules
    /// of self-registration: what an operator's new account is held to (the
    /// password is the operator's choice).
    pub(crate) fn check_profile(account: NewAccount) -> Result<NewAccount, AccountError> {
        let account = account.normalized();
        check_username(&account.username)?;
        check_email(account.email.as_deref())?;
        check_full_name(account.full_name.as_deref())?;
        Ok(account)
    }

    /// Stores a checked `account` with its password hash; it may be granted
    /// `scopes`.
    pub(crate) async fn create(
        &self,
        account: NewAccount,
        password_hash: PasswordHash,
        scopes: ScopeSet,
        disabled: bool,
    ) -> Result<UserRecord, AccountError> {
        let user = NewUser {
            username: account.username,
            email: account.email,
            full_name: account.full_name,
            disabled,
            password_hash,
            scopes,
        };
        self.store.create_user(&user).await.map_err(|e| match e {
            StoreError::Conflict(_) => AccountError::UsernameTaken,
            other => other.into(),
        })?;
        self.store
            .find_user(&user.username)
            .await?
            .ok_or(AccountError::UsernameTaken)
    }

    /// Gives `username` the password `password` (hashed on the blocking pool) and
    /// ends their sessions; returns how many ended. (Callers that ask for the
    /// password check first that the user exists.)
    pub(crate) async fn set_password(
        &self,
        username: &str,
        password: String,
    ) -> Result<u64, AccountError> {
        let hash = self
            .hasher
            .hash_blocking(password)
            .await
            .map_err(super::AuthError::from)?;
        if !self.store.set_password_hash(username, &hash).await? {
            return Err(AccountError::NoSuchUser(username.to_owned()));
        }
        Ok(self
            .end_sessions(username, CredentialChange::PasswordChanged)
            .await?)
    }

    /// Replaces the hash of `user`'s unchanged password by one with the current
    /// parameters (after a login): their sessions stay. Nothing is stored if the
    /// credentials changed since `user` was read: false then.
    pub(crate) async fn upgrade_hash(
        &self,
        user: &UserRecord,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        self.store
            .upgrade_password_hash(&user.username, user.credentials_version, hash)
            .await
    }

    /// Disables or enables `username`; disabling ends their sessions. Returns how
    /// many sessions ended.
    pub(crate) async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<u64, AccountError> {
        if !self.store.set_disabled(username, disabled).await? {
            return Err(AccountError::NoSuchUser(username.to_owned()));
        }
        if !disabled {
            return Ok(0);
        }
        Ok(self
            .end_sessions(username, CredentialChange::Disabled)
            .await?)
    }

    /// Deletes `username` and everything of theirs.
    pub(crate) async fn delete(&self, username: &str) -> Result<(), AccountError> {
        if self.store.delete_user(username).await? {
            Ok(())
        } else {
            Err(AccountError::NoSuchUser(username.to_owned()))
        }
    }

    /// Creates or updates `users` all at once, then ends the sessions of those whose
    /// password hash changed or who are disabled now.
    pub(crate) async fn import(
        &self,
        users: &[NewUser],
        progress: Progress,
    ) -> Result<ImportCounts, AccountError> {
        let imported = self.store.import_users(users, progress).await?;
        let mut sessions_ended = 0;
        for (username, change) in &imported.changed {
            sessions_ended += self.end_sessions(username, *change).await?;
        }
        Ok(ImportCounts {
            created: imported.created,
            updated: imported.updated,
            sessions_ended,
        })
    }

    /// Ends every live session of `username` after `change`: their refresh and
    /// access tokens stop working on every instance. Returns how many ended.
    pub(crate) async fn end_sessions(
        &self,
        username: &str,
        change: CredentialChange,
    ) -> Result<u64, StoreError> {
        let ended = self
            .store
            .revoke_user_sessions(username, change.reason())
            .await?;
        if ended > 0 {
            tracing::info!(username, ended, reason = change.reason(), "sessions ended");
        }
        Ok(ended)
    }
}

/// Refuses passwords that are common or easy to guess (zxcvbn score below 2, which
/// includes every password of the common-password lists).
fn check_guessability(account: &NewAccount) -> Result<(), Violation> {
    let inputs: Vec<&str> = [
        Some(account.username.as_str()),
        account.email.as_deref(),
        Some("latchkey"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let estimate = zxcvbn::zxcvbn(&account.password, &inputs);
    if u8::from(estimate.score()) >= 2 {
        return Ok(());
    }
    let reason = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    Err(Violation {
        field: Field::Password,
        kind: "value_error",
        message: format!(
            "Password is too common or easy to guess{reason}. Try a longer phrase of unrelated words."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(username: &str, password: &str) -> NewAccount {
        NewAccount::of(username, password)
    }

    fn sign_up_refusal(account: NewAccount) -> Field {
        match account.violations().into_iter().next() {
            Some(violation) => violation.field,
            None => {
                check_guessability(&account)
                    .expect_err("a weak password was accepted")
                    .field
            }
        }
    }

    #[test]
    fn accepts_a_strong_password() {
        let strong = account("carol", "plum-orbit-lantern-42");
        assert!(strong.violations().is_empty() && check_guessability(&strong).is_ok());
    }

    #[test]
    fn refuses_common_passwords() {
        for common in ["password", "12345678", "qwertyuiop", "iloveyou1"] {
            assert_eq!(
                sign_up_refusal(account("carol", common)),
                Field::Password,
                "{common}"
            );
        }
    }

    #[test]
    fn an_operator_account_meets_the_field_rules_of_sign_up_but_its_own_password() {
        let field = |account: NewAccount| match Accounts::check_profile(account) {
            Err(AccountError::Invalid(violation)) => Some(violation.field),
            _ => None,
        };
        let mut bad_email = account("carol", "pw");
        bad_email.email = Some("not an email".into());
        assert_eq!(field(bad_email), Some(Field::Email));
        let mut long_name = account("carol", "pw");
        long_name.full_name = Some("x".repeat(crate::rules::MAX_FULL_NAME_CHARS + 1));
        assert_eq!(field(long_name), Some(Field::FullName));
        assert_eq!(field(account("a b", "pw")), Some(Field::Username));
        assert_eq!(field(account("carol", "pw")), None);
    }
}
