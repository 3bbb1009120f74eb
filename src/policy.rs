//! The rules for new usernames and passwords. Shared, so the sign-up form can say
//! which rule fails before it is sent; the server checks them again (and, in
//! [`crate::auth::password_strength`], whether the password is easy to guess).

/// Longest username accepted, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Shortest password accepted for a new account, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted for a new account, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A broken rule, with the message people see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleViolation(pub String);

/// Checks a new username: 1 to 64 characters, no spaces, control characters or `:`
/// (which HTTP Basic uses as its separator).
pub fn check_username(username: &str) -> Result<(), RuleViolation> {
    if username.is_empty() {
        return Err(RuleViolation("Username must not be empty.".into()));
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(RuleViolation(format!(
            "Username must be at most {MAX_USERNAME_CHARS} characters."
        )));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(RuleViolation(
            "Username must not contain spaces, control characters or ':'.".into(),
        ));
    }
    Ok(())
}

/// Checks a new password against the rules that need no word list: its length, and
/// that it is not the username.
pub fn check_password(password: &str, username: &str) -> Result<(), RuleViolation> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(RuleViolation(format!(
            "Password must be at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(RuleViolation(format!(
            "Password must be at most {MAX_PASSWORD_CHARS} characters."
        )));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(RuleViolation(
            "Password must not contain the username.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_usernames_and_refuses_odd_ones() {
        assert!(check_username("johndoe").is_ok());
        assert!(check_username("jöhn.doe@example.com").is_ok());
        for bad in ["", "john doe", "john:doe", "a\u{0}b", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_rules_name_the_rule_that_fails() {
        assert!(check_password("correct horse battery", "johndoe").is_ok());
        assert!(
            check_password("short", "johndoe")
                .unwrap_err()
                .0
                .contains("at least 8")
        );
        assert!(
            check_password(&"x".repeat(257), "johndoe")
                .unwrap_err()
                .0
                .contains("at most 256")
        );
        assert!(
            check_password("JohnDoe123", "johndoe")
                .unwrap_err()
                .0
                .contains("username")
        );
    }
}
