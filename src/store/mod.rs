//! Where users and items live. Handlers and the command line see only the [`Store`]
//! trait: SQLite (the embedded default, [`SqliteStore`]) and PostgreSQL
//! ([`PostgresStore`], for several instances) behave the same behind it.

pub(crate) mod backup;
mod change_counter;
mod change_hub;
pub(crate) mod changes;
pub(crate) mod copy;
pub(crate) mod device_cookies;
pub(crate) mod login_failures;
mod migrations;
mod postgres;
mod rows;
pub(crate) mod sessions;
pub(crate) mod signing_keys;
mod sqlite;

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;

use async_trait::async_trait;

pub(crate) use self::change_hub::ChangeHub;
pub(crate) use self::changes::{ChangeFeed, StoreChange};
pub(crate) use self::copy::CopyStore;
pub(crate) use self::device_cookies::{DeviceCookieStore, NewDeviceCookie};
pub(crate) use self::login_failures::{FailureCount, LoginFailureStore};
pub(crate) use self::postgres::PostgresStore;
pub(crate) use self::sessions::{
    NewRefreshToken, NewSession, RefreshKey, RefreshOutcome, SessionRecord, SessionStore,
};
pub(crate) use self::signing_keys::{SigningKeyStore, StoredKey};
pub(crate) use self::sqlite::SqliteStore;
use crate::auth::ScopeSet;
use crate::auth::accounts::CredentialChange;
use crate::auth::password::PasswordHash;
use crate::model::{Item, NewItem, User};

/// A user as stored, hash included.
#[derive(Debug, Clone)]
pub(crate) struct UserRecord {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub password_hash: PasswordHash,
    /// The scopes this user may be granted.
    pub scopes: ScopeSet,
    /// Goes up whenever the password is replaced or the user is disabled.
    pub credentials_version: i64,
}

impl UserRecord {
    /// The user as the API shows them.
    pub(crate) fn public(&self) -> User {
        User {
            username: self.username.clone(),
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            disabled: self.disabled,
        }
    }
}

/// A user to create (or, on import, to update).
#[derive(Debug, Clone)]
pub(crate) struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub disabled: bool,
    pub password_hash: PasswordHash,
    pub scopes: ScopeSet,
}

impl NewUser {
    /// What importing this user over one whose password hash is `old_hash`
    /// changes of their credentials, if anything.
    pub(crate) fn change_from(&self, old_hash: &str) -> Option<CredentialChange> {
        if self.disabled {
            Some(CredentialChange::Disabled)
        } else if old_hash != self.password_hash.as_str() {
            Some(CredentialChange::PasswordChanged)
        } else {
            None
        }
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ImportedUsers {
    pub created: usize,
    pub updated: usize,
    /// Existing users whose password hash changed or who are disabled now.
    pub changed: Vec<(String, CredentialChange)>,
}

/// How many users an import created and updated, and how many sessions it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ImportCounts {
    pub created: usize,
    pub updated: usize,
    /// Sessions ended because a user's password changed or the user is disabled.
    pub sessions_ended: u64,
}

/// Told how many more rows a long store operation has written.
pub(crate) type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// A user or item with that key exists already.
    #[error("{0} already exists")]
    Conflict(String),
    /// The database could not be reached or refused the operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not hold what latchkey wrote.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database URL names a database latchkey cannot use.
    #[error("unsupported database URL: {0}")]
    Unsupported(String),
    /// A copy's destination holds data already.
    #[error("not an empty database: {0}")]
    NotEmpty(String),
    /// A file operation (a backup) failed.
    #[error("{0}")]
    File(String),
    /// The database lacks migrations this build knows (another instance of an
    /// older build, or one that has not finished migrating).
    #[error("database not migrated: {0}")]
    Unmigrated(String),
}

/// Users and their items, and what the auth core keeps about them.
#[async_trait]
pub(crate) trait Store:
    LoginFailureStore + SessionStore + SigningKeyStore + DeviceCookieStore + CopyStore + Send + Sync
{
    /// The user with exactly this username.
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Every user, by username.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// One stored password hash of each kind (algorithm and costs) the users
    /// have, without reading every user's.
    async fn one_hash_of_each_kind(&self) -> Result<Vec<PasswordHash>, StoreError>;
    /// Creates a user; [`StoreError::Conflict`] if the username is taken.
    async fn create_user(&self, user: &NewUser) -> Result<(), StoreError>;
    /// Creates or updates all `users` in one transaction: all or nothing. Tells
    /// `progress` how many more users it has written as it goes.
    async fn import_users(
        &self,
        users: &[NewUser],
        progress: Progress,
    ) -> Result<ImportedUsers, StoreError>;
    /// Replaces a user's password by a new one (a credentials change); false if
    /// there is no such user.
    async fn set_password_hash(
        &self,
        username: &str,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError>;
    /// Stores a hash of the same password with other parameters, if the user's
    /// credentials version is still `credentials_version`; false if not.
    async fn upgrade_password_hash(
        &self,
        username: &str,
        credentials_version: i64,
        hash: &PasswordHash,
    ) -> Result<bool, StoreError>;
    /// Disables (a credentials change) or enables a user; false if there is no
    /// such user.
    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError>;
    /// Deletes a user and their items; false if there is no such user.
    async fn delete_user(&self, username: &str) -> Result<bool, StoreError>;
    /// A user's items, by id.
    async fn list_items(&self, owner: &str) -> Result<Vec<Item>, StoreError>;
    /// Adds an item; [`StoreError::Conflict`] if the owner has one with that id.
    async fn add_item(&self, owner: &str, item: &NewItem) -> Result<Item, StoreError>;
    /// Removes an item; false if the owner has none with that id.
    async fn delete_item(&self, owner: &str, item_id: &str) -> Result<bool, StoreError>;
    /// Whether the database is reachable and every migration this build knows is
    /// applied: `Ok(())`, or why not.
    async fn ready(&self) -> Result<(), StoreError>;
    /// The feed of changes other writers make, if this database has one (see
    /// [`changes`]); listening has begun when it returns.
    async fn changes(&self) -> Result<Option<ChangeFeed>, StoreError>;
    /// Where this process's caches hear of every change to sessions and users at
    /// once: this process's writes and, as soon as known, everyone else's.
    fn change_hub(&self) -> &ChangeHub;
}

/// The SQLite file in `data_dir` used when no `database_url` is set.
pub(crate) const DEFAULT_SQLITE_FILE: &str = "latchkey.db";

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreOptions {
    /// The most connections to a PostgreSQL server at once (SQLite keeps its own
    /// small pool).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
        }
    }
}

/// The store behind `database_url` (SQLite in `data_dir` when none), migrated,
/// with the default [`StoreOptions`].
pub(crate) async fn open(
    database_url: Option<&str>,
    data_dir: &std::path::Path,
) -> Result<Arc<dyn Store>, StoreError> {
    open_with(database_url, data_dir, StoreOptions::default()).await
}

/// The store behind `database_url` (SQLite in `data_dir` when none), migrated:
/// `sqlite:` URLs open SQLite, `postgres:` and `postgresql:` URLs PostgreSQL.
pub(crate) async fn open_with(
    database_url: Option<&str>,
    data_dir: &std::path::Path,
    options: StoreOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    let Some(database_url) = database_url else {
        return Ok(Arc::new(
            SqliteStore::open_file(&data_dir.join(DEFAULT_SQLITE_FILE)).await?,
        ));
    };
    if database_url.starts_with("sqlite:") {
        return Ok(Arc::new(SqliteStore::open_url(database_url).await?));
    }
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        return Ok(Arc::new(
            PostgresStore::open(database_url, options.max_connections).await?,
        ));
    }
    // Only the scheme: the rest may hold a password.
    let scheme = database_url.split(':').next().unwrap_or_default();
    Err(StoreError::Unsupported(format!(
        "`{scheme}:` (this build supports sqlite: and postgres:; leave DATABASE_URL unset for the embedded default)"
    )))
}

/// The file a `sqlite:` URL names; `None` for another database.
pub(crate) fn sqlite_file_of(database_url: &str) -> Result<Option<PathBuf>, StoreError> {
    if !database_url.starts_with("sqlite:") {
        return Ok(None);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url)?;
    let path = options.get_filename();
    if path == Path::new(":memory:") {
        return Err(StoreError::Unsupported(
            "an in-memory database has no file".into(),
        ));
    }
    Ok(Some(path.to_owned()))
}
