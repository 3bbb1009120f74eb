//! `latchkey db backup FILE` for SQLite, through SQLite's online backup API: the
//! copy is one consistent snapshot even while the server writes (in WAL mode a
//! reader does not stop writers), written beside `FILE` and renamed into place
//! only once it is whole and checked.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::store::StoreError;

/// How long a backup waits for a database kept busy by other connections.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// What a backup wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BackupReport {
    /// Database pages copied.
    pub pages: u64,
    /// Size of the backup file.
    pub bytes: u64,
}

fn failed(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::File(format!("{context}: {e}"))
}

fn io_failed(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |e| StoreError::File(format!("{context}: {e}"))
}

/// Copies the SQLite database at `source` into `destination` (replacing it), in
/// one snapshot; blocks, so run it off the async runtime.
pub(crate) fn backup(source: &Path, destination: &Path) -> Result<BackupReport, StoreError> {
    if !source.is_file() {
        return Err(StoreError::File(format!(
            "{}: no database there",
            source.display()
        )));
    }
    if destination.is_dir() {
        return Err(StoreError::File(format!(
            "{}: a folder; name the backup file",
            destination.display()
        )));
    }
    if same_file(source, destination) {
        return Err(StoreError::File(format!(
            "{}: that is the database itself",
            destination.display()
        )));
    }
    // Opened for writing (never created), so it can join the WAL of a running
    // server; the backup only reads.
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(failed("cannot open the database"))?;
    from.busy_timeout(BUSY_WAIT)
        .map_err(failed("cannot open the database"))?;

    let partial = partial_path(destination);
    let result = write_snapshot(&from, &partial).and_then(|pages| {
        std::fs::rename(&partial, destination).map_err(io_failed(format!(
            "cannot move the backup into {}",
            destination.display()
        )))?;
        sync_parent(destination);
        let bytes = std::fs::metadata(destination).map_or(0, |m| m.len());
        Ok(BackupReport { pages, bytes })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Writes the snapshot into a fresh owner-only file at `path`, checks it, and
/// flushes it to disk; returns the pages copied.
fn write_snapshot(from: &Connection, path: &Path) -> Result<u64, StoreError> {
    let _ = std::fs::remove_file(path);
    // The backup holds password hashes and signing keys: owner only, from the start.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_failed(format!("cannot create {}", path.display())))?;
    let mut to = Connection::open(path).map_err(failed("cannot open the backup file"))?;
    let pages = {
        let backup = Backup::new(from, &mut to).map_err(failed("cannot start the backup"))?;
        let started = Instant::now();
        loop {
            // All pages in one step: one read snapshot, so writes made meanwhile
            // neither restart the copy nor make it inconsistent.
            match backup.step(-1).map_err(failed("backup failed"))? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(StoreError::File(
                        "the database stayed locked; try again".into(),
                    ));
                }
            }
        }
        u64::try_from(backup.progress().pagecount).unwrap_or_default()
    };
    let check: String = to
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(failed("cannot check the backup"))?;
    if check != "ok" {
        return Err(StoreError::File(format!(
            "the backup failed its integrity check: {check}"
        )));
    }
    // The backup is a standalone file: no WAL beside it.
    to.pragma_update(None, "journal_mode", "DELETE")
        .map_err(failed("cannot finish the backup"))?;
    to.close()
        .map_err(|(_, e)| failed("cannot close the backup")(e))?;
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io_failed(format!("cannot flush {}", path.display())))?;
    Ok(pages)
}

/// Where the backup is written before it is whole: beside its final name, so the
/// rename that publishes it stays on one file system.
fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    destination.with_file_name(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Flushes the directory entry of a renamed file (best effort).
fn sync_parent(path: &Path) {
    let parent = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}
