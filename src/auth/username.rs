//! What a username may be.

/// Longest username accepted, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A username that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidUsername(pub String);

/// Checks a new username: 1 to 64 characters, no spaces, control characters or `:`
/// (which HTTP Basic uses as its separator).
pub fn validate_username(username: &str) -> Result<(), InvalidUsername> {
    if username.is_empty() {
        return Err(InvalidUsername("username must not be empty".into()));
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err(InvalidUsername(format!(
            "username must be at most {MAX_USERNAME_CHARS} characters"
        )));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(InvalidUsername(
            "username must not contain spaces, control characters or ':'".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names_and_refuses_odd_ones() {
        assert!(validate_username("johndoe").is_ok());
        assert!(validate_username("jöhn.doe@example.com").is_ok());
        for bad in ["", "john doe", "john:doe", "a\u{0}b", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }
}
