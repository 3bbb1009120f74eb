//! The harness of the integration tests: a real `latchkey serve` process on a free
//! port over a fresh data directory, the operator's CLI against the same directory
//! and database, and HTTP helpers.
//!
//! Nothing is written to the repository: the data directory, the server's log and
//! the files handed to `user import` all live in a temporary directory, and the
//! server runs with that directory as its working directory. Nothing of the
//! environment the tests run in reaches the server (`LATCHKEY_*`, `LEPTOS_*` and
//! `DATABASE_URL` are removed), but for the one choice below.
//!
//! # The database: `LATCHKEY_TEST_DATABASE_URL`
//!
//! Every test server takes its database from one place, [`TestDatabase`](database::TestDatabase), which
//! reads `LATCHKEY_TEST_DATABASE_URL` when the server is made:
//!
//! - unset or empty (the default): what users get by default. The server gets no
//!   `DATABASE_URL` and keeps SQLite in `latchkey.db` of its data directory.
//! - a `sqlite:` URL template with `{dir}`, e.g. `sqlite://{dir}/other.db`:
//!   `{dir}` becomes the test server's own temporary directory, and the URL is
//!   given to the server and its CLI as `DATABASE_URL`, so every test server still
//!   has a database of its own, opened by URL. A template without `{dir}` is
//!   refused (every server would share one database).
//! - a `postgres://` (or `postgresql://`) server URL, e.g.
//!   `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`: every test server
//!   gets a fresh database on that server (`CREATE DATABASE` with a name unique to
//!   the test process and server), given as `DATABASE_URL`, and dropped
//!   (`WITH (FORCE)`) when the last test server using it is dropped. `.ci/test`
//!   starts a throwaway cluster and runs the suite this way as well. The user of
//!   the URL must be allowed to create databases.
//! - anything else: refused (the harness panics saying so).
//!
//! Instances that share one database (several replicas) are made with
//! [`TestServer::start_sharing_database`]: they get the first one's database by
//! URL, in every mode. Tests never set `DATABASE_URL` themselves.
//!
//! The helpers that read the database behind the server's back
//! ([`TestDatabase::query_texts`](database::TestDatabase::query_texts), [`TestServer::stored_password_hash`],
//! [`TestDatabase::table_names`](database::TestDatabase::table_names),
//! [`TestDatabase::stored_bytes`](database::TestDatabase::stored_bytes)) read the same database through
//! [`TestServer::database`], on either database. Their SQL is written once, with
//! `?` parameters, in the SQL both databases understand; on PostgreSQL the
//! parameters are numbered and the selected column is cast to text. Tests about
//! the SQLite file itself (its mode) check it only on SQLite and say so on stderr.

pub mod browser;
mod database;
mod fastapi;
pub mod forge;
mod http;
mod jwt;
mod metrics;
pub mod nginx;
pub mod raw_http;
mod server;
mod sessions;
mod site;

pub use browser::*;
pub use database::{DATABASE_VARIABLE, sqlite_query_texts};
pub use fastapi::{
    CHEAP_HASH_PREFIX, JOHNDOE_HASH, SHARED_KEY, fastapi_example_key, fastapi_users,
};
pub use http::*;
pub use jwt::*;
pub use metrics::{metric_sample, scrape_metrics};
pub use server::{CliOutput, TestServer, assert_at_once};
pub use sessions::*;
pub use site::BuiltSite;
