//! The embedded default store: SQLite in WAL mode.

mod backup;
mod copy;
mod device_cookies;
mod login_failures;
mod sessions;
mod signing_keys;

use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub(crate) use self::backup::{BackupReport, backup};
use super::change_counter::ChangeCounter;
use super::migrations::{APPLIED_VERSIONS, all_applied};
use super::{
    ChangeFeed, ChangeHub, ImportedUsers, NewUser, Progress, Store, StoreChange, StoreError,
    UserRecord,
};
use crate::auth::password::PasswordHash;
use crate::clock::unix_now;
use crate::model::{Item, NewItem};
use crate::store::rows::{ItemRow, ONE_HASH_OF_EACH_KIND, USER_COLUMNS, UserRow, parse_hashes};

/// The migrations of the SQLite schema.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Users and items in one SQLite database.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    /// Told of every write that ends a session or changes a user, and, through
    /// the change counter beside the file, of other processes' writes.
    hub: Arc<ChangeHub>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub(crate) async fn open_file(path: &Path) -> Result<Self, StoreError> {
        create_private(path)?;
        Self::open_with(SqliteConnectOptions::new().filename(path), Some(path)).await
    }

    /// Opens the database of a `sqlite:` URL and migrates it.
    pub(crate) async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?;
        let path = options.get_filename().to_owned();
        let file = (path != Path::new(":memory:")).then_some(path.as_path());
        if let Some(file) = file {
            create_private(file)?;
        }
        Self::open_with(options, file).await
    }

    /// Opens the pool and migrates the database; `file`, when there is one, is
    /// locked meanwhile.
    async fn open_with(
        options: SqliteConnectOptions,
        file: Option<&Path>,
    ) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // sqlx takes no lock to migrate SQLite, and switching a new file to WAL can
        // fail while another process does the same: instances starting at once on
        // a new database would collide. An exclusive lock makes them take turns;
        // the later ones find the file in WAL mode and the migrations applied. The
        // lock is on a file of its own: closing any descriptor of the database file
        // would drop SQLite's own locks on it.
        let _starting = match file {
            Some(file) => Some(lock_exclusively(&migration_lock_file(file)).await?),
            None => None,
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let hub = match file {
            Some(file) => ChangeHub::with_counter(
                ChangeCounter::open(file).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?,
            ),
            // In memory: no other process can open it.
            None => ChangeHub::new(),
        };
        Ok(Self {
            pool,
            hub: Arc::new(hub),
        })
    }

    /// Runs the write `work` detached (see [`run_detached`]) and then tells the
    /// hub what `changed` says it changed, within the same task: a request
    /// cancelled after the commit cannot leave a cache stale.
    async fn write_announced<T, F>(
        &self,
        work: impl FnOnce(SqlitePool) -> F,
        changed: impl FnOnce(&T) -> Option<StoreChange> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (hub, written) = (self.hub.clone(), work(self.pool.clone()));
        run_detached(&self.pool, move |_| async move {
            let value = written.await?;
            if let Some(change) = changed(&value) {
                hub.wrote(change);
            }
            Ok(value)
        })
        .await
    }

    /// Runs the one-statement write `work` of user `username` (see
    /// [`Self::write_announced`]); true if it changed a row, and then the hub is
    /// told the user changed.
    async fn write_user<F>(
        &self,
        username: String,
        work: impl FnOnce(SqlitePool, String) -> F + Send + 'static,
    ) -> Result<bool, StoreError>
    where
        F: std::future::Future<Output = Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>>
            + Send
            + 'static,
    {
        let changed = StoreChange::UserChanged(username.clone());
        self.write_announced(
            move |pool| async move { Ok(work(pool, username).await?.rows_affected() > 0) },
            move |written| written.then_some(changed),
        )
        .await
    }

    async fn user_id(&self, username: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// A transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`). A
/// transaction that reads before it writes would otherwise fail with "database is
/// locked" whenever another writer commits in between: SQLite cannot upgrade its
/// read lock then, and the busy timeout does not apply. Taken up front, the lock
/// makes concurrent writers wait their turn (up to the busy timeout).
pub(super) async fn write_transaction(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Runs the write transaction `work` on a task of its own, to its end. sqlx's
/// SQLite transactions are not cancel-safe: a request cancelled (its client gone)
/// while its transaction begins leaves the connection inside that transaction,
/// and every later transaction on it fails. Detached, a transaction is never
/// cancelled half-way, and a write that was decided (a counted login attempt) is
/// made even if nobody waits for it.
pub(super) async fn run_detached<T, F>(
    pool: &SqlitePool,
    work: impl FnOnce(SqlitePool) -> F,
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

/// The file whose lock serialises migrations of the database at `database`.
fn migration_lock_file(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-migrate.lock");
    name.into()
}

/// Holds an exclusive lock on `path` (created if needed) until dropped, waiting
/// for it off the async runtime.
async fn lock_exclusively(path: &Path) -> Result<std::fs::File, StoreError> {
    let path = path.to_owned();
    let locked = tokio::task::spawn_blocking(move || {
        // The lock file holds nothing, so others may read it: a lock file made by
        // another user (the operator's command run as root) must not keep the
        // service from starting. A read-only descriptor takes the lock as well.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o644)
            .open(&path)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::PermissionDenied => std::fs::File::open(&path),
                _ => Err(e),
            })?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| StoreError::File(format!("cannot lock the database file: {e}")))?;
    locked.map_err(|e| StoreError::Database(sqlx::Error::Io(e)))
}

/// Makes sure the database file at `path` exists and only its owner can read it:
/// it holds password hashes and signing keys. SQLite gives its -wal and -shm files
/// the same mode.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Database(sqlx::Error::Io(e));
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        // A folder latchkey creates is its owner's only; an existing one is left as
        // the operator made it.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)
}

async fn insert_user<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    user: &NewUser,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (username, email, full_name, disabled, password_hash, scopes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&user.username)
    .bind(&user.email)
    .bind(&user.full_name)
    .bind(user.disabled)
    .bind(user.password_hash.as_str())
    .bind(user.scopes.to_string())
    .bind(now)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[async_trait]
impl Store for SqliteStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query_as::<_, UserRow>(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = ?"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(UserRecord::try_from)
        .transpose()
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        sqlx::query_as::<_, UserRow>(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
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
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("user {}", user.username))
                } else {
                    e.into()
                }
            })
    }

    async fn import_users(
        &self,
        users: &[NewUser],
        progress: Progress,
    ) -> Result<ImportedUsers, StoreError> {
        let users = users.to_vec();
        self.write_announced(move |pool| async move {
            let now = unix_now();
            let mut imported = ImportedUsers::default();
            let mut tx = write_transaction(&pool).await?;
            for user in &users {
                let before: Option<(String, bool)> =
                    sqlx::query_as("SELECT password_hash, disabled FROM users WHERE username = ?")
                        .bind(&user.username)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some((old_hash, _)) = before else {
                    insert_user(&mut *tx, user, now).await?;
                    imported.created += 1;
                    progress(1);
                    continue;
                };
                let change = user.change_from(&old_hash);
                sqlx::query(
                    "UPDATE users SET email = ?, full_name = ?, disabled = ?, password_hash = ?, scopes = ?, updated_at = ?,
                         credentials_version = credentials_version + ?
                     WHERE username = ?",
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
        }, |imported: &ImportedUsers| (imported.updated > 0).then_some(StoreChange::Missed))
        .await
    }

    async fn set_password_hash(
        &self,
        username: &str,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let (username, hash) = (username.to_owned(), hash.as_str().to_owned());
        self.write_user(username, move |pool, username| async move {
            sqlx::query(
                "UPDATE users SET password_hash = ?, updated_at = ?,
                     credentials_version = credentials_version + 1
                 WHERE username = ?",
            )
            .bind(hash)
            .bind(unix_now())
            .bind(username)
            .execute(&pool)
            .await
        })
        .await
    }

    async fn upgrade_password_hash(
        &self,
        username: &str,
        credentials_version: i64,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let (username, hash) = (username.to_owned(), hash.as_str().to_owned());
        self.write_user(username, move |pool, username| async move {
            sqlx::query(
                "UPDATE users SET password_hash = ?, updated_at = ?
                 WHERE username = ? AND credentials_version = ?",
            )
            .bind(hash)
            .bind(unix_now())
            .bind(username)
            .bind(credentials_version)
            .execute(&pool)
            .await
        })
        .await
    }

    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        self.write_user(username.to_owned(), move |pool, username| async move {
            sqlx::query(
                "UPDATE users SET disabled = ?, updated_at = ?,
                     credentials_version = credentials_version + ?
                 WHERE username = ?",
            )
            .bind(disabled)
            .bind(unix_now())
            .bind(i64::from(disabled))
            .bind(username)
            .execute(&pool)
            .await
        })
        .await
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        self.write_user(username.to_owned(), |pool, username| async move {
            sqlx::query("DELETE FROM users WHERE username = ?")
                .bind(username)
                .execute(&pool)
                .await
        })
        .await
    }

    async fn list_items(&self, owner: &str) -> Result<Vec<Item>, StoreError> {
        let rows = sqlx::query_as::<_, ItemRow>(
            "SELECT items.item_id, users.username AS owner, items.description
             FROM items JOIN users ON users.id = items.owner_id
             WHERE users.username = ? ORDER BY items.item_id",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Item::from).collect())
    }

    async fn add_item(&self, owner: &str, item: &NewItem) -> Result<Item, StoreError> {
        let Some(owner_id) = self.user_id(owner).await? else {
            return Err(StoreError::Corrupt(format!("no user {owner}")));
        };
        sqlx::query(
            "INSERT INTO items (owner_id, item_id, description, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(owner_id)
        .bind(&item.item_id)
        .bind(&item.description)
        .bind(unix_now())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("item {}", item.item_id))
            } else {
                e.into()
            }
        })?;
        Ok(Item {
            item_id: item.item_id.clone(),
            owner: owner.to_owned(),
            description: item.description.clone(),
        })
    }

    async fn delete_item(&self, owner: &str, item_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM items WHERE item_id = ? AND owner_id = (SELECT id FROM users WHERE username = ?)",
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
        // Other processes on the file are learnt of through the hub's counter.
        Ok(None)
    }

    fn change_hub(&self) -> &ChangeHub {
        &self.hub
    }
}
