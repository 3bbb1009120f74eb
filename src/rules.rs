//! The rules input must meet: usernames, passwords, the optional account fields and
//! items. Shared by the server and the browser, so a form can say which rule fails
//! before it is sent; the server checks them again, and also checks that a new
//! password is not easy to guess (`auth::accounts`, which needs a word list).

use serde::{Deserialize, Serialize};

use crate::model::{NewAccount, NewItem};

/// Longest username accepted, in characters.
pub(crate) const MAX_USERNAME_CHARS: usize = 64;
/// Shortest password accepted for a new account, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted for a new account, in characters.
pub(crate) const MAX_PASSWORD_CHARS: usize = 256;
/// Longest email address accepted (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_CHARS: usize = 254;
/// Longest full name accepted, in characters.
pub(crate) const MAX_FULL_NAME_CHARS: usize = 200;
/// Longest item id accepted, in characters.
pub(crate) const MAX_ITEM_ID_CHARS: usize = 128;
/// Longest item description accepted, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 2000;

/// [`check_username`]'s characters as a JSON Schema pattern, for the OpenAPI
/// document: no whitespace, no control character, no `:`.
#[cfg(feature = "ssr")]
pub(crate) const USERNAME_PATTERN: &str = r"^[^\s:\x00-\x1f\x7f-\x9f]+$";

/// [`NewItem::violations`]'s characters of an item id as a JSON Schema pattern:
/// no control character, and not only whitespace.
#[cfg(feature = "ssr")]
pub(crate) const ITEM_ID_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// A form field that a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Field {
    Username,
    Email,
    FullName,
    Password,
    ItemId,
    Description,
}

impl Field {
    /// The field's name in forms and JSON bodies (the server names fields in its
    /// answers; the browser knows them by their `Field`).
    #[cfg(feature = "ssr")]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Username => "username",
            Field::Email => "email",
            Field::FullName => "full_name",
            Field::Password => "password",
            Field::ItemId => "item_id",
            Field::Description => "description",
        }
    }
}

/// A broken rule: the field, a machine-readable kind (pydantic's names) and the
/// message people see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Violation {
    /// The field at fault.
    pub field: Field,
    /// What kind of rule, e.g. `string_too_long`.
    pub kind: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

impl Violation {
    fn new(field: Field, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            kind,
            message: message.into(),
        }
    }
}

/// Checks a new username: 1 to 64 characters, no spaces, control characters or `:`
/// (which HTTP Basic uses as its separator).
pub(crate) fn check_username(username: &str) -> Result<(), Violation> {
    let broken = |message: String| Err(Violation::new(Field::Username, "value_error", message));
    if username.is_empty() {
        return broken("Username must not be empty.".into());
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return broken(format!(
            "Username must be at most {MAX_USERNAME_CHARS} characters."
        ));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return broken("Username must not contain spaces, control characters or ':'.".into());
    }
    Ok(())
}

/// Checks a new password against the rules that need no word list: its length, and
/// that it does not contain the username.
pub(crate) fn check_password(password: &str, username: &str) -> Result<(), Violation> {
    let broken = |message: String| Err(Violation::new(Field::Password, "value_error", message));
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return broken(format!(
            "Password must be at least {MIN_PASSWORD_CHARS} characters."
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return broken(format!(
            "Password must be at most {MAX_PASSWORD_CHARS} characters."
        ));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return broken("Password must not contain the username.".into());
    }
    Ok(())
}

/// Checks an optional email address.
pub(crate) fn check_email(email: Option<&str>) -> Result<(), Violation> {
    match email {
        Some(email)
            if email.chars().count() > MAX_EMAIL_CHARS
                || !email_address::EmailAddress::is_valid(email) =>
        {
            Err(Violation::new(
                Field::Email,
                "value_error",
                "Enter a valid email address.",
            ))
        }
        _ => Ok(()),
    }
}

/// Checks an optional full name.
pub(crate) fn check_full_name(full_name: Option<&str>) -> Result<(), Violation> {
    match full_name {
        Some(name) if name.chars().count() > MAX_FULL_NAME_CHARS => Err(Violation::new(
            Field::FullName,
            "value_error",
            format!("Full name must be at most {MAX_FULL_NAME_CHARS} characters."),
        )),
        _ => Ok(()),
    }
}

impl NewAccount {
    /// The account with its optional fields trimmed, blank ones as `None`.
    pub(crate) fn normalized(mut self) -> Self {
        let non_empty =
            |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        self.email = non_empty(self.email);
        self.full_name = non_empty(self.full_name);
        self
    }

    /// The first rule of each field (of the rules needing no word list) that the
    /// account breaks, in form order. Call it on a
    /// [`normalized`](Self::normalized) account.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        [
            check_username(&self.username),
            check_email(self.email.as_deref()),
            check_full_name(self.full_name.as_deref()),
            check_password(&self.password, &self.username),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect()
    }
}

impl NewItem {
    /// The item with a blank description as `None`.
    pub(crate) fn normalized(mut self) -> Self {
        self.description = self.description.filter(|d| !d.trim().is_empty());
        self
    }

    /// Every rule the item breaks: a non-empty printable id of at most
    /// [`MAX_ITEM_ID_CHARS`], a description of at most [`MAX_DESCRIPTION_CHARS`].
    pub(crate) fn violations(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        if self.item_id.trim().is_empty() {
            found.push(Violation::new(
                Field::ItemId,
                "string_too_short",
                "Item id must not be empty",
            ));
        } else if self.item_id.chars().count() > MAX_ITEM_ID_CHARS
            || self.item_id.chars().any(char::is_control)
        {
            found.push(Violation::new(
                Field::ItemId,
                "string_invalid",
                format!("Item id must be at most {MAX_ITEM_ID_CHARS} printable characters"),
            ));
        }
        if self
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            found.push(Violation::new(
                Field::Description,
                "string_too_long",
                format!("Description must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(username: &str, password: &str) -> NewAccount {
        NewAccount::of(username, password)
    }

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
        let message = |password: &str| check_password(password, "johndoe").unwrap_err().message;
        assert!(message("short").contains("at least 8"));
        assert!(message(&"x".repeat(257)).contains("at most 256"));
        assert!(message("JohnDoe123").contains("username"));
    }

    #[test]
    fn an_account_names_the_first_field_at_fault() {
        let field = |account: NewAccount| account.normalized().violations()[0].field;
        assert_eq!(
            field(account("a b", "plum-orbit-lantern-42")),
            Field::Username
        );
        let mut bad_email = account("carol", "plum-orbit-lantern-42");
        bad_email.email = Some("not an email".into());
        assert_eq!(field(bad_email), Field::Email);
        let mut long_name = account("carol", "plum-orbit-lantern-42");
        long_name.full_name = Some("x".repeat(MAX_FULL_NAME_CHARS + 1));
        assert_eq!(field(long_name), Field::FullName);
        assert_eq!(field(account("carol", "carol-plum-orbit")), Field::Password);
    }

    #[test]
    fn blank_optional_fields_become_none() {
        let mut blank = account("carol", "plum-orbit-lantern-42");
        blank.email = Some("  ".into());
        blank.full_name = Some(" Carol ".into());
        let normalized = blank.normalized();
        assert_eq!(normalized.email, None);
        assert_eq!(normalized.full_name.as_deref(), Some("Carol"));
        assert!(normalized.violations().is_empty());
    }

    #[test]
    fn items_list_every_broken_rule() {
        let item = |id: &str, description: Option<String>| NewItem {
            item_id: id.into(),
            description,
        };
        assert!(
            item("plumbus", Some("A tool".into()))
                .violations()
                .is_empty()
        );
        let fields = |item: NewItem| -> Vec<Field> {
            item.violations().into_iter().map(|v| v.field).collect()
        };
        assert_eq!(
            fields(item(" ", Some("x".repeat(MAX_DESCRIPTION_CHARS + 1)))),
            vec![Field::ItemId, Field::Description]
        );
        assert_eq!(fields(item("a\nb", None)), vec![Field::ItemId]);
        assert_eq!(
            fields(item(&"x".repeat(MAX_ITEM_ID_CHARS + 1), None)),
            vec![Field::ItemId]
        );
        assert_eq!(item("x", Some("  ".into())).normalized().description, None);
    }
}
