//! Rows as both databases return them, and what they become: the SQL that reads
//! them is each database's own, the shape of their rows is shared.

use sqlx::FromRow;

use super::{SessionRecord, StoreError, UserRecord};
use crate::auth::ScopeSet;
use crate::auth::password::PasswordHash;
use crate::model::Item;

/// The columns of a [`UserRow`], in a `SELECT` from `users`.
pub(super) const USER_COLUMNS: &str =
    "username, email, full_name, disabled, password_hash, scopes, credentials_version";

/// A user, as [`USER_COLUMNS`] selects it.
#[derive(FromRow)]
pub(super) struct UserRow {
    username: String,
    email: Option<String>,
    full_name: Option<String>,
    disabled: bool,
    password_hash: String,
    scopes: String,
    credentials_version: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("user {}: {what}", row.username));
        Ok(UserRecord {
            password_hash: PasswordHash::parse(&row.password_hash)
                .map_err(|_| corrupt("password hash"))?,
            scopes: ScopeSet::parse(&row.scopes).map_err(|e| corrupt(&e.to_string()))?,
            username: row.username,
            email: row.email,
            full_name: row.full_name,
            disabled: row.disabled,
            credentials_version: row.credentials_version,
        })
    }
}

/// An item with its owner's name.
#[derive(FromRow)]
pub(super) struct ItemRow {
    item_id: String,
    owner: String,
    description: Option<String>,
}

impl From<ItemRow> for Item {
    fn from(row: ItemRow) -> Self {
        Item {
            item_id: row.item_id,
            owner: row.owner,
            description: row.description,
        }
    }
}

/// The `SELECT … FROM` of a [`SessionRow`]; the caller adds its `WHERE`.
pub(super) const SESSION_SELECT: &str = "SELECT sessions.id, users.username, sessions.scopes,
        sessions.expires_at, sessions.revoked_at, sessions.binding_hash
     FROM sessions JOIN users ON users.id = sessions.user_id";

/// A session with its user's name, as [`SESSION_SELECT`] selects it.
#[derive(FromRow)]
pub(super) struct SessionRow {
    id: String,
    username: String,
    scopes: String,
    expires_at: i64,
    revoked_at: Option<i64>,
    binding_hash: Option<String>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            scopes: ScopeSet::parse(&row.scopes)
                .map_err(|e| StoreError::Corrupt(format!("session scopes: {e}")))?,
            id: row.id,
            username: row.username,
            expires_at: row.expires_at,
            revoked: row.revoked_at.is_some(),
            binding: row.binding_hash,
        })
    }
}
