//! `latchkey db backup FILE`: which database file to back up, and how.

use std::path::Path;

pub(crate) use super::sqlite::BackupReport;
use super::{StoreError, sqlite};

/// Backs up the SQLite database that `database_url` (or, without one, the default
/// file in `data_dir`) names into `file`, consistent even while a server writes.
/// Other databases have their own tools (PostgreSQL: `pg_dump`).
pub(crate) async fn backup(
    database_url: Option<&str>,
    data_dir: &Path,
    file: &Path,
) -> Result<BackupReport, StoreError> {
    let source = match database_url {
        None => data_dir.join(super::DEFAULT_SQLITE_FILE),
        Some(url) => super::sqlite_file_of(url)?.ok_or_else(|| {
            let scheme = url.split(':').next().unwrap_or_default();
            StoreError::Unsupported(format!(
                "`db backup` backs up SQLite; for `{scheme}:` use the database's own tool \
                 (PostgreSQL: pg_dump)"
            ))
        })?,
    };
    let file = file.to_owned();
    tokio::task::spawn_blocking(move || sqlite::backup(&source, &file))
        .await
        .map_err(|e| StoreError::File(format!("the backup stopped: {e}")))?
}
