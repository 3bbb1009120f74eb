//! The one place that decides which database a test server uses, from
//! [`DATABASE_VARIABLE`] (see the module documentation of `support`), and the
//! helpers that read that database behind the server's back.

use std::path::{Path, PathBuf};

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
        if !template.starts_with("sqlite:") {
            panic!(
                "{DATABASE_VARIABLE}={template:?}: not supported yet (leave it unset, or give a \
                 `sqlite:` URL template with {DIR_PLACEHOLDER})"
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
        Self::SqliteUrl {
            url: self.url(),
            file: self.sqlite_file().to_owned(),
        }
    }

    /// The `DATABASE_URL` the server and the CLI get, if any.
    pub fn server_url(&self) -> Option<&str> {
        match self {
            Self::DataDir { .. } => None,
            Self::SqliteUrl { url, .. } => Some(url),
        }
    }

    /// A URL of this database.
    pub fn url(&self) -> String {
        match self {
            Self::DataDir { file } => format!("sqlite://{}", file.display()),
            Self::SqliteUrl { url, .. } => url.clone(),
        }
    }

    /// The SQLite file behind the database.
    pub fn sqlite_file(&self) -> &Path {
        match self {
            Self::DataDir { file } | Self::SqliteUrl { file, .. } => file,
        }
    }

    /// The one text column `sql` selects, over every row, read from the SQLite file
    /// (read-only), with `binds` for its `?` parameters.
    pub fn query_texts(&self, sql: &str, binds: &[&str]) -> Vec<String> {
        use sqlx::ConnectOptions as _;
        use sqlx::sqlite::SqliteConnectOptions;
        let path = self.sqlite_file();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
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

    /// Runs one SQL statement on the SQLite file behind the server's back (to
    /// put the database in a state the server must notice).
    pub fn execute(&self, sql: &str) {
        use sqlx::ConnectOptions as _;
        use sqlx::sqlite::SqliteConnectOptions;
        let path = self.sqlite_file();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
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
    pub fn sqlite_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let file = self.sqlite_file();
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
