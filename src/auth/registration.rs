//! Self-registration: the rules a new account must meet, checked once for
//! `POST /users/` and the sign-up page alike.

use super::error::AuthError;
use crate::policy::{RuleViolation, check_password, check_username};
use crate::store::StoreError;

/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest full name accepted, in characters.
pub const MAX_FULL_NAME_CHARS: usize = 200;

/// An account someone asks for.
#[derive(Clone)]
pub struct NewAccount {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
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

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Self-registration is switched off.
    #[error("Self-registration is disabled")]
    Closed,
    /// A field breaks a rule.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// The rule it breaks.
        message: String,
    },
    /// The username is taken.
    #[error("Username already registered")]
    UsernameTaken,
    /// Turned away before the account was looked at: throttled or busy.
    #[error(transparent)]
    Refused(#[from] AuthError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NewAccount {
    /// Trims the optional fields and checks every rule but the username's
    /// availability; the first broken rule is the error.
    pub fn validate(mut self) -> Result<Self, RegistrationError> {
        let invalid = |field, e: RuleViolation| RegistrationError::Invalid {
            field,
            message: e.0,
        };
        check_username(&self.username).map_err(|e| invalid("username", e))?;
        self.email = non_empty(self.email);
        self.full_name = non_empty(self.full_name);
        if let Some(email) = &self.email
            && (email.chars().count() > MAX_EMAIL_CHARS
                || !email_address::EmailAddress::is_valid(email))
        {
            return Err(invalid(
                "email",
                RuleViolation("Enter a valid email address.".into()),
            ));
        }
        if self
            .full_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_FULL_NAME_CHARS)
        {
            let message = format!("Full name must be at most {MAX_FULL_NAME_CHARS} characters.");
            return Err(invalid("full_name", RuleViolation(message)));
        }
        check_password(&self.password, &self.username).map_err(|e| invalid("password", e))?;
        check_guessability(&self.password, &self.username, self.email.as_deref())
            .map_err(|e| invalid("password", e))?;
        Ok(self)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Refuses passwords that are common or easy to guess (zxcvbn score below 2, which
/// includes every password of the common-password lists).
fn check_guessability(
    password: &str,
    username: &str,
    email: Option<&str>,
) -> Result<(), RuleViolation> {
    let inputs: Vec<&str> = [Some(username), email, Some("latchkey")]
        .into_iter()
        .flatten()
        .collect();
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if u8::from(estimate.score()) >= 2 {
        return Ok(());
    }
    let reason = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    Err(RuleViolation(format!(
        "Password is too common or easy to guess{reason}. Try a longer phrase of unrelated words."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(username: &str, password: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            email: None,
            full_name: None,
            password: password.into(),
        }
    }

    fn failing_field(account: NewAccount) -> &'static str {
        match account.validate() {
            Err(RegistrationError::Invalid { field, .. }) => field,
            other => panic!("expected a rule violation, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_strong_password() {
        assert!(account("carol", "plum-orbit-lantern-42").validate().is_ok());
    }

    #[test]
    fn refuses_common_passwords() {
        for common in ["password", "12345678", "qwertyuiop", "iloveyou1"] {
            assert_eq!(
                failing_field(account("carol", common)),
                "password",
                "{common}"
            );
        }
    }

    #[test]
    fn names_the_field_at_fault() {
        assert_eq!(
            failing_field(account("a b", "plum-orbit-lantern-42")),
            "username"
        );
        let mut bad_email = account("carol", "plum-orbit-lantern-42");
        bad_email.email = Some("not an email".into());
        assert_eq!(failing_field(bad_email), "email");
        assert_eq!(
            failing_field(account("carol", "carol-plum-orbit")),
            "password"
        );
    }

    #[test]
    fn blank_optional_fields_become_none() {
        let mut blank = account("carol", "plum-orbit-lantern-42");
        blank.email = Some("  ".into());
        let valid = blank.validate().unwrap();
        assert_eq!(valid.email, None);
    }
}
