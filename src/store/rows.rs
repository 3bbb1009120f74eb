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

/// One stored password hash of each kind (algorithm and costs), in the SQL both
/// databases understand: the users grouped by what precedes the salt. That is
/// the first 7 characters of a bcrypt hash (`$2b$12$`); of an Argon2 PHC string
/// (`$argon2id$v=19$m=65536,t=3,p=4$salt$hash`), what is left once the hash, a
/// `$` and the salt are trimmed off its end (salt and hash are written in the
/// characters trimmed, `$` is not among them). A grouping finer than the kind
/// would only give more rows; it is never coarser.
pub(super) const ONE_HASH_OF_EACH_KIND: &str = "SELECT MIN(password_hash) FROM users
     GROUP BY CASE WHEN password_hash LIKE '$2%' THEN substr(password_hash, 1, 7)
         ELSE rtrim(rtrim(rtrim(password_hash, \
             'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/.-'), '$'), \
             'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/.-') END";

/// Stored password hashes, as [`ONE_HASH_OF_EACH_KIND`] selects them.
pub(super) fn parse_hashes(texts: Vec<String>) -> Result<Vec<PasswordHash>, StoreError> {
    texts
        .iter()
        .map(|text| {
            PasswordHash::parse(text)
                .map_err(|_| StoreError::Corrupt("a user's password hash".into()))
        })
        .collect()
}

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

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeSet;

    use crate::auth::ScopeSet;
    use crate::auth::password::{PasswordHash, PasswordHasher};
    use crate::store::{NewUser, Store};

    /// Users with hashes of five kinds, three of them twice, in `store`: it
    /// answers one hash of each kind.
    pub(crate) async fn answers_one_hash_of_each_kind(store: &dyn Store) {
        let argon2 = |m, t, p| PasswordHasher::new(m, t, p).unwrap().hash("pw").unwrap();
        let bcrypt = |cost| PasswordHash::parse(&bcrypt::hash("pw", cost).unwrap()).unwrap();
        let hashes = [
            argon2(1024, 1, 1),
            argon2(1024, 1, 1),
            argon2(1024, 1, 2),
            argon2(1024, 2, 1),
            argon2(2048, 1, 1),
            argon2(2048, 1, 1),
            bcrypt(4),
            bcrypt(4),
            bcrypt(5),
        ];
        for (n, hash) in hashes.iter().enumerate() {
            let user = NewUser {
                username: format!("user{n}"),
                email: None,
                full_name: None,
                disabled: false,
                password_hash: hash.clone(),
                scopes: ScopeSet::all(),
            };
            store.create_user(&user).await.unwrap();
        }
        let stored: BTreeSet<_> = hashes.iter().map(PasswordHash::kind).collect();
        let answered: Vec<_> = store
            .one_hash_of_each_kind()
            .await
            .unwrap()
            .iter()
            .map(PasswordHash::kind)
            .collect();
        assert_eq!(answered.len(), stored.len(), "{answered:?}");
        assert_eq!(answered.into_iter().collect::<BTreeSet<_>>(), stored);
    }

    #[tokio::test]
    async fn sqlite_answers_one_hash_of_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open_file(&dir.path().join("test.db"))
            .await
            .unwrap();
        answers_one_hash_of_each_kind(&store).await;
    }
}
