//! The one place that decides which database a test server uses, from
//! [`DATABASE_VARIABLE`] (see the module documentation of `support`), and the
//! helpers that read that database behind the server's back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that chooses the tests' database.
pub const DATABASE_VARIABLE: &str = "LATCHKEY_TEST_DATABASE_URL";

/// What `{dir}` in a `sqlite:` template of [`DATABASE_VARIABLE`] stands for.
const DIR_PLACEHOLDER: &str = "{dir}";

/// The database of one test server (and of every instance sharing it).
#[derive(Debug, Clone)]
pub enum TestDatabase {
    /// No `DATABASE_URL`: the server's default, `latchkey.db` in its data directory.
    DataDir { file: PathBuf },
    /// A `sqlite:` URL, handed to the server and the CLI as `DATABASE_URL`.
    SqliteUrl { url: String, file: PathBuf },
    /// A fresh database on the PostgreSQL server of [`DATABASE_VARIABLE`], handed
    /// to the server and the CLI as `DATABASE_URL`; dropped when the last test
    /// server using it is dropped.
    Postgres(Arc<PostgresDatabase>),
}

impl TestDatabase {
    /// The database of a new test server whose temporary directory is `root` and
    /// whose data directory is `data_dir`, as [`DATABASE_VARIABLE`] says.
    pub fn for_new_server(root: &Path, data_dir: &Path) -> Self {
        let template = std::env::var(DATABASE_VARIABLE).unwrap_or_default();
        if template.is_empty() {
            return Self::DataDir {
                file: data_dir.join("latchkey.db"),
            };
        }
        if template.starts_with("postgres:") || template.starts_with("postgresql:") {
            return Self::Postgres(Arc::new(PostgresDatabase::create(&template)));
        }
        if !template.starts_with("sqlite:") {
            panic!(
                "{DATABASE_VARIABLE}: not supported (leave it unset, give a `sqlite:` URL \
                 template with {DIR_PLACEHOLDER}, or a `postgres:` server URL)"
            );
        }
        if !template.contains(DIR_PLACEHOLDER) {
            panic!(
                "{DATABASE_VARIABLE}={template:?}: a `sqlite:` template needs {DIR_PLACEHOLDER}, \
                 or every test server would share one database"
            );
        }
        let root = root.to_str().expect("a UTF-8 temporary directory");
        let url = template.replace(DIR_PLACEHOLDER, root);
        Self::SqliteUrl {
            file: sqlite_file_of(&url),
            url,
        }
    }

    /// The same database, for another instance to share: always by URL.
    pub fn shared(&self) -> Self {
        match self {
            Self::Postgres(database) => Self::Postgres(database.clone()),
            Self::DataDir { file } | Self::SqliteUrl { file, .. } => Self::SqliteUrl {
                url: self.url(),
                file: file.clone(),
            },
        }
    }

    /// The `DATABASE_URL` the server and the CLI get, if any.
    pub fn server_url(&self) -> Option<&str> {
        match self {
            Self::DataDir { .. } => None,
            Self::SqliteUrl { url, .. } => Some(url),
            Self::Postgres(database) => Some(&database.url),
        }
    }

    /// A URL of this database.
    pub fn url(&self) -> String {
        match self {
            Self::DataDir { file } => format!("sqlite://{}", file.display()),
            Self::SqliteUrl { url, .. } => url.clone(),
            Self::Postgres(database) => database.url.clone(),
        }
    }

    /// Whether this is a PostgreSQL database (tests about the SQLite file skip
    /// themselves, or check their PostgreSQL counterpart).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The SQLite file behind the database; `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            Self::DataDir { file } | Self::SqliteUrl { file, .. } => Some(file),
            Self::Postgres(_) => None,
        }
    }

    /// Whether the database is SQLite (a file the tests can read and copy).
    pub fn is_sqlite(&self) -> bool {
        !self.is_postgres()
    }

    /// The names of the database's tables (latchkey's and the migrator's).
    pub fn table_names(&self) -> Vec<String> {
        let sql = if self.is_postgres() {
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        };
        self.query_texts(sql, &[])
    }

    /// Everything the database stores, as bytes to search: the SQLite file and
    /// its write-ahead log; on PostgreSQL, every row of every table as text.
    pub fn stored_bytes(&self) -> Vec<(String, Vec<u8>)> {
        if !self.is_postgres() {
            return self.sqlite_bytes();
        }
        self.table_names()
            .into_iter()
            .map(|table| {
                let rows = self.query_texts(&format!("SELECT t::text FROM \"{table}\" AS t"), &[]);
                (format!("table {table}"), rows.join("\n").into_bytes())
            })
            .collect()
    }

    /// The one column `sql` selects, as text, over every row, with `binds` for its
    /// `?` parameters: read from the SQLite file (read-only), or from PostgreSQL
    /// (the parameters become `$1`, `$2`, … and the column is cast to text).
    pub fn query_texts(&self, sql: &str, binds: &[&str]) -> Vec<String> {
        if let Self::Postgres(database) = self {
            return database.query_texts(sql, binds);
        }
        sqlite_query_texts(self.sqlite_file().expect("a SQLite database"), sql, binds)
    }

    /// Runs one SQL statement (without parameters) on the database behind the
    /// server's back, to put it in a state the server must notice.
    pub fn execute(&self, sql: &str) {
        use sqlx::ConnectOptions as _;
        use sqlx::sqlite::SqliteConnectOptions;
        if let Self::Postgres(database) = self {
            return database.execute(sql);
        }
        let path = self.sqlite_file().expect("a SQLite database");
        block_on(async {
            let mut connection = SqliteConnectOptions::new()
                .filename(path)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            sqlx::query(sql)
                .execute(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = sqlx::Connection::close(connection).await;
        });
    }

    /// The bytes of the SQLite file and of its write-ahead log, named.
    fn sqlite_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let file = self.sqlite_file().expect("a SQLite database");
        let wal = PathBuf::from(format!("{}-wal", file.display()));
        [file.to_owned(), wal]
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap_or_default();
                (path.display().to_string(), bytes)
            })
            .collect()
    }
}

/// The file a `sqlite:` URL names: the text between the scheme and the query.
fn sqlite_file_of(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite:").expect("a sqlite: URL");
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    assert!(
        path.starts_with('/'),
        "{DATABASE_VARIABLE}: {url:?} does not name an absolute file"
    );
    PathBuf::from(path)
}

/// The one text column `sql` selects, over every row of the SQLite file at `path`
/// (opened read-only), with `binds` for its `?` parameters.
pub fn sqlite_query_texts(path: &Path, sql: &str, binds: &[&str]) -> Vec<String> {
    use sqlx::ConnectOptions as _;
    use sqlx::sqlite::SqliteConnectOptions;
    block_on(async {
        let mut connection = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("open {} read-only: {e}", path.display()));
        let mut query = sqlx::query_scalar(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query
            .fetch_all(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = sqlx::Connection::close(connection).await;
        rows
    })
}

/// One fresh database on a PostgreSQL server, made for one test server (and the
/// instances sharing it), dropped with it.
#[derive(Debug)]
pub struct PostgresDatabase {
    /// The server URL of [`DATABASE_VARIABLE`] (its own database, to create and
    /// drop others from).
    server_url: String,
    /// The database's name.
    name: String,
    /// The URL of the database.
    url: String,
}

impl PostgresDatabase {
    /// Creates a database with a name no other test server of any test process
    /// uses, on the server of `server_url`.
    fn create(server_url: &str) -> Self {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_nanos();
        let name = format!(
            "latchkey_test_{}_{}_{nanos}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        let mut url = reqwest::Url::parse(server_url)
            .unwrap_or_else(|_| panic!("{DATABASE_VARIABLE}: not a URL"));
        url.set_path(&format!("/{name}"));
        let database = Self {
            server_url: server_url.to_owned(),
            url: url.to_string(),
            name,
        };
        database.on_server(&format!("CREATE DATABASE \"{}\"", database.name));
        database
    }

    /// Runs `statement` on the server's own database.
    fn on_server(&self, statement: &str) {
        pg_execute(&self.server_url, DATABASE_VARIABLE, statement);
    }

    fn execute(&self, sql: &str) {
        pg_execute(&self.url, "the test database", sql);
    }

    fn query_texts(&self, sql: &str, binds: &[&str]) -> Vec<String> {
        use sqlx::Connection as _;
        let sql = format!(
            "SELECT CAST(selected AS text) FROM ({}) AS query (selected)",
            numbered_parameters(sql)
        );
        block_on(async {
            let mut connection = sqlx::PgConnection::connect(&self.url)
                .await
                .unwrap_or_else(|e| panic!("connect to the test database: {e}"));
            let mut query = sqlx::query_scalar::<_, Option<String>>(&sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            let rows = query
                .fetch_all(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = connection.close().await;
            rows.into_iter().map(Option::unwrap_or_default).collect()
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // FORCE: servers killed a moment ago may still hold connections.
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        if std::thread::panicking() {
            // Dropping during a failed test's unwinding must not panic again.
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.on_server(&drop)));
        } else {
            self.on_server(&drop);
        }
    }
}

/// SQLite's `?` parameters as PostgreSQL's `$1`, `$2`, … (the tests' SQL has no
/// `?` inside literals).
fn numbered_parameters(sql: &str) -> String {
    let mut numbered = String::with_capacity(sql.len());
    let mut next = 0;
    for c in sql.chars() {
        if c == '?' {
            next += 1;
            numbered.push_str(&format!("${next}"));
        } else {
            numbered.push(c);
        }
    }
    numbered
}

/// Runs one statement on the PostgreSQL database at `url` (named `what` when it
/// cannot be reached).
fn pg_execute(url: &str, what: &str, statement: &str) {
    use sqlx::Connection as _;
    block_on(async {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("connect to {what}: {e}"));
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        let _ = connection.close().await;
    });
}

fn block_on<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(work)
}
