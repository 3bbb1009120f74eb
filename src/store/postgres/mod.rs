//! PostgreSQL, for several instances sharing one database.
//!
//! Same behaviour as [`SqliteStore`](super::SqliteStore), with PostgreSQL's own
//! means for what must be atomic under concurrency: row locks (`FOR UPDATE`,
//! `FOR SHARE`) where one row decides, transaction-scoped advisory locks where
//! rows may not exist yet (the throttle's counts). Every multi-statement write runs
//! detached ([`run_detached`]), so a request that is cancelled cannot stop it
//! half-way, and a decided write (a counted attempt) is made.

mod changes;
mod copy;
mod device_cookies;
mod login_failures;
mod sessions;
mod signing_keys;
#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::OnceCell;

use self::changes::Listener;
use super::migrations::{APPLIED_VERSIONS, all_applied};
use super::{
    ChangeFeed, ChangeHub, ImportedUsers, NewUser, Progress, Store, StoreChange, StoreError,
    UserRecord,
};
use crate::auth::password::PasswordHash;
use crate::clock::unix_now;
use crate::model::{Item, NewItem};
use crate::store::rows::{ItemRow, ONE_HASH_OF_EACH_KIND, USER_COLUMNS, UserRow, parse_hashes};

/// The migrations of the PostgreSQL schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Users and items in a PostgreSQL database.
#[derive(Clone)]
pub(crate) struct PostgresStore {
    pool: PgPool,
    /// How to connect: the change feed opens its own connection.
    options: PgConnectOptions,
    /// The change feed's listener, started by the first [`Store::changes`].
    listener: Arc<OnceCell<Listener>>,
    /// Told of this process's writes that end a session or change a user, and
    /// (by the listener) of everyone's.
    hub: Arc<ChangeHub>,
}

impl PostgresStore {
    /// Connects to the database of a `postgres:` URL, with at most
    /// `max_connections` connections, and migrates it. sqlx's migrator holds an
    /// advisory lock while it works, so instances starting at once on an empty
    /// database migrate it one after the other.
    pub(crate) async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("latchkey");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            options,
            listener: Arc::new(OnceCell::new()),
            // Nothing is heard of other instances until the listener listens.
            hub: Arc::new(ChangeHub::deaf()),
        })
    }

    /// Tells the hub that `username` changed if `written`; returns `written`.
    /// (Should the request be cancelled before, the notification the write's
    /// trigger sent reaches this instance's own listener.)
    fn user_written(&self, username: &str, written: bool) -> bool {
        if written {
            self.hub
                .wrote(StoreChange::UserChanged(username.to_owned()));
        }
        written
    }
}

/// Runs the transaction `work` on a task of its own, to its end: a request
/// cancelled (its client gone) cannot stop it half-way, and a write that was
/// decided (a counted login attempt) is made even if nobody waits for it. (sqlx
/// rolls back a dropped PostgreSQL transaction, but only once its connection is
/// used again; detached, none is dropped.)
pub(super) async fn run_detached<T, F>(
    pool: &PgPool,
    work: impl FnOnce(PgPool) -> F,
) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    match tokio::spawn(work(pool.clone())).await {
        Ok(result) => result,
        Err(failed) => std::panic::resume_unwind(failed.into_panic()),
    }
}

async fn insert_user<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    user: &NewUser,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (username, email, full_name, disabled, password_hash, scopes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&user.username)
    .bind(&user.email)
    .bind(&user.full_name)
    .bind(user.disabled)
    .bind(user.password_hash.as_str())
    .bind(user.scopes.to_string())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Whether all `texts` can be stored at all: PostgreSQL's text holds no NUL
/// character (SQLite's does). A key with one names no row: lookups find nothing,
/// instead of failing on the database's refusal of the parameter.
pub(super) fn storable(texts: &[&str]) -> bool {
    texts.iter().all(|text| !text.contains('\0'))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// `error`, or [`StoreError::Conflict`] about `what` if it is a unique violation.
fn conflict_or(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Conflict(what())
    } else {
        error.into()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        if !storable(&[username]) {
            return Ok(None);
        }
        sqlx::query_as::<_, UserRow>(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(UserRecord::try_from)
        .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        // `COLLATE "C"`: by code point, as SQLite orders text.
        sqlx::query_as::<_, UserRow>(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username COLLATE \"C\""
        ))
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(UserRecord::try_from)
        .collect()
    }

    async fn one_hash_of_each_kind(&self) -> Result<Vec<PasswordHash>, StoreError> {
        parse_hashes(
            sqlx::query_scalar(ONE_HASH_OF_EACH_KIND)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError> {
        insert_user(&self.pool, user, unix_now())
            .await
            .map_err(|e| conflict_or(e, || format!("user {}", user.username)))
    }

    async fn import_users(
        &self,
        users: &[NewUser],
        progress: Progress,
    ) -> Result<ImportedUsers, StoreError> {
        let users = users.to_vec();
        run_detached(&self.pool, move |pool| async move {
            let now = unix_now();
            let mut imported = ImportedUsers::default();
            let mut tx = pool.begin().await?;
            for user in &users {
                // Locked: a password change meanwhile cannot slip between this read
                // and the update below.
                let before: Option<(String, bool)> = sqlx::query_as(
                    "SELECT password_hash, disabled FROM users WHERE username = $1 FOR UPDATE",
                )
                .bind(&user.username)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((old_hash, _)) = before else {
                    insert_user(&mut *tx, user, now)
                        .await
                        .map_err(|e| conflict_or(e, || format!("user {}", user.username)))?;
                    imported.created += 1;
                    progress(1);
                    continue;
                };
                let change = user.change_from(&old_hash);
                sqlx::query(
                    "UPDATE users SET email = $1, full_name = $2, disabled = $3, password_hash = $4,
                         scopes = $5, updated_at = $6, credentials_version = credentials_version + $7
                     WHERE username = $8",
                )
                .bind(&user.email)
                .bind(&user.full_name)
                .bind(user.disabled)
                .bind(user.password_hash.as_str())
                .bind(user.scopes.to_string())
                .bind(now)
                .bind(i64::from(change.is_some()))
                .bind(&user.username)
                .execute(&mut *tx)
                .await?;
                imported.updated += 1;
                if let Some(change) = change {
                    imported.changed.push((user.username.clone(), change));
                }
                progress(1);
            }
            tx.commit().await?;
            Ok(imported)
        })
        .await
        .inspect(|imported| {
            if imported.updated > 0 {
                self.hub.wrote(StoreChange::Missed);
            }
        })
    }

    async fn set_password_hash(
        &self,
        username: &str,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        if !storable(&[username]) {
            return Ok(false);
        }
        let result = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2,
                 credentials_version = credentials_version + 1
             WHERE username = $3",
        )
        .bind(hash.as_str())
        .bind(unix_now())
        .bind(username)
        .execute(&self.pool)
        .await?;
        Ok(self.user_written(username, result.rows_affected() > 0))
    }

    async fn upgrade_password_hash(
        &self,
        username: &str,
        credentials_version: i64,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        if !storable(&[username]) {
            return Ok(false);
        }
        // An UPDATE checks its condition again on the row as it is once any
        // concurrent writer of the row has committed.
        let result = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2
             WHERE username = $3 AND credentials_version = $4",
        )
        .bind(hash.as_str())
        .bind(unix_now())
        .bind(username)
        .bind(credentials_version)
        .execute(&self.pool)
        .await?;
        Ok(self.user_written(username, result.rows_affected() > 0))
    }

    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        if !storable(&[username]) {
            return Ok(false);
        }
        let result = sqlx::query(
            "UPDATE users SET disabled = $1, updated_at = $2,
                 credentials_version = credentials_version + $3
             WHERE username = $4",
        )
        .bind(disabled)
        .bind(unix_now())
        .bind(i64::from(disabled))
        .bind(username)
        .execute(&self.pool)
        .await?;
        Ok(self.user_written(username, result.rows_affected() > 0))
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        if !storable(&[username]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(self.user_written(username, result.rows_affected() > 0))
    }

    async fn list_items(&self, owner: &str) -> Result<Vec<Item>, StoreError> {
        if !storable(&[owner]) {
            return Ok(Vec::new());
        }
        let rows = sqlx::query_as::<_, ItemRow>(
            "SELECT items.item_id, users.username AS owner, items.description
             FROM items JOIN users ON users.id = items.owner_id
             WHERE users.username = $1 ORDER BY items.item_id COLLATE \"C\"",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Item::from).collect())
    }

    async fn add_item(&self, owner: &str, item: &NewItem) -> Result<Item, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO items (owner_id, item_id, description, created_at)
             SELECT id, $2, $3, $4 FROM users WHERE username = $1",
        )
        .bind(owner)
        .bind(&item.item_id)
        .bind(&item.description)
        .bind(unix_now())
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, || format!("item {}", item.item_id)))?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Corrupt(format!("no user {owner}")));
        }
        Ok(Item {
            item_id: item.item_id.clone(),
            owner: owner.to_owned(),
            description: item.description.clone(),
        })
    }

    async fn delete_item(&self, owner: &str, item_id: &str) -> Result<bool, StoreError> {
        if !storable(&[owner, item_id]) {
            return Ok(false);
        }
        let result = sqlx::query(
            "DELETE FROM items
             WHERE item_id = $1 AND owner_id = (SELECT id FROM users WHERE username = $2)",
        )
        .bind(item_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn ready(&self) -> Result<(), StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar(APPLIED_VERSIONS)
            .fetch_all(&self.pool)
            .await?;
        all_applied(&MIGRATOR, &applied)
    }

    async fn changes(&self) -> Result<Option<ChangeFeed>, StoreError> {
        let listener = self
            .listener
            .get_or_try_init(|| Listener::start(self.options.clone(), self.hub.clone()))
            .await?;
        Ok(Some(listener.subscribe()))
    }

    fn change_hub(&self) -> &ChangeHub {
        &self.hub
    }
}
