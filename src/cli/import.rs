//! `latchkey user import FILE`: the FastAPI app's user table, as JSON.
//!
//! The file is checked whole before anything is written, and written in one
//! transaction: a bad file changes nothing.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::CliError;
use super::progress::Bar;
use crate::auth::ScopeSet;
use crate::auth::accounts::Accounts;
use crate::auth::password::PasswordHash;
use crate::rules::check_username;
use crate::store::NewUser;

/// One user as the FastAPI app's `fake_users_db` holds it.
#[derive(Debug, Deserialize)]
struct ImportedUser {
    username: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    hashed_password: String,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    scopes: Option<ScopeList>,
}

/// Scopes as a list of names or one space-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScopeList {
    Names(Vec<String>),
    Text(String),
}

pub(super) async fn run(file: &Path, accounts: &Accounts) -> Result<(), CliError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
    let users = parse(&text).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
    let bar = Bar::new(users.len() as u64, "importing");
    let counts = accounts.import(&users, bar.as_progress()).await;
    bar.finish();
    let counts = counts.map_err(CliError::from_display)?;
    println!(
        "imported {} users ({} new, {} updated); {} session(s) ended",
        users.len(),
        counts.created,
        counts.updated,
        counts.sessions_ended
    );
    Ok(())
}

/// Reads and checks every user of the file; the first problem refuses it whole.
fn parse(text: &str) -> Result<Vec<NewUser>, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let entries: Vec<(String, Value)> = match document {
        Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| (format!("user {key:?}"), value_with_key(key, value)))
            .collect(),
        Value::Array(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, value)| (format!("entry {i}"), value))
            .collect(),
        _ => return Err("expected an object keyed by username, or a list of users".into()),
    };
    let mut seen = HashSet::new();
    let mut users = Vec::with_capacity(entries.len());
    for (place, value) in entries {
        let user = convert(value).map_err(|e| format!("{place}: {e}"))?;
        if !seen.insert(user.username.clone()) {
            return Err(format!(
                "{place}: username {:?} appears twice",
                user.username
            ));
        }
        users.push(user);
    }
    Ok(users)
}

/// In an object keyed by username, the key is the username unless the entry names one.
fn value_with_key(key: String, mut value: Value) -> Value {
    if let Value::Object(fields) = &mut value {
        fields.entry("username").or_insert(Value::String(key));
    }
    value
}

fn convert(value: Value) -> Result<NewUser, String> {
    let user: ImportedUser = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let username = user.username.ok_or("missing field `username`")?;
    check_username(&username).map_err(|e| format!("username: {e}"))?;
    let password_hash =
        PasswordHash::parse(&user.hashed_password).map_err(|e| format!("hashed_password: {e}"))?;
    let scopes = match user.scopes {
        None => Ok(ScopeSet::all()),
        Some(ScopeList::Names(names)) => ScopeSet::parse_names(names.iter().map(String::as_str)),
        Some(ScopeList::Text(text)) => ScopeSet::parse(&text),
    }
    .map_err(|e| format!("scopes: {e}"))?;
    Ok(NewUser {
        username,
        email: user.email,
        full_name: user.full_name,
        disabled: user.disabled.unwrap_or(false),
        password_hash,
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGON2: &str = "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc";

    #[test]
    fn reads_the_fastapi_table_keyed_by_username() {
        let text = format!(
            r#"{{"johndoe": {{"username": "johndoe", "full_name": "John Doe", "email": "j@example.com", "hashed_password": "{ARGON2}", "disabled": false}}}}"#
        );
        let users = parse(&text).unwrap();
        assert_eq!(users[0].username, "johndoe");
        assert_eq!(users[0].scopes, ScopeSet::all());
    }

    #[test]
    fn reads_a_list_with_scopes_as_list_or_text() {
        let text = format!(
            r#"[{{"username": "a", "hashed_password": "{ARGON2}", "scopes": ["me"]}}, {{"username": "b", "hashed_password": "{ARGON2}", "scopes": "items me"}}]"#
        );
        let users = parse(&text).unwrap();
        assert_eq!(users[0].scopes.to_string(), "me");
        assert_eq!(users[1].scopes.to_string(), "me items");
    }

    #[test]
    fn names_the_place_at_fault() {
        let err = parse(r#"[{"username": "a", "hashed_password": "plain"}]"#).unwrap_err();
        assert!(err.starts_with("entry 0: hashed_password"), "{err}");
        let err = parse(r#"{"bob": {"full_name": "Bob"}}"#).unwrap_err();
        assert!(
            err.contains("user \"bob\"") && err.contains("hashed_password"),
            "{err}"
        );
        let err = parse("{\n  \"bob\": \n}").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        let err = parse(&format!(
            r#"[{{"username": "a", "hashed_password": "{ARGON2}", "scopes": ["admin"]}}]"#
        ))
        .unwrap_err();
        assert!(err.contains("unknown scope: admin"), "{err}");
    }

    #[test]
    fn refuses_duplicates() {
        let text = format!(
            r#"[{{"username": "a", "hashed_password": "{ARGON2}"}}, {{"username": "a", "hashed_password": "{ARGON2}"}}]"#
        );
        assert!(parse(&text).unwrap_err().contains("appears twice"));
    }
}
