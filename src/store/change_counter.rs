//! A change counter beside a SQLite database file, for the processes of one host
//! that share the file (instances, the command line): each bumps it after a write
//! that others may hold in memory, and each reads it before it trusts what it
//! holds. One 8-byte read per look, no database round trip.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The counter file of one database file.
#[derive(Debug)]
pub(crate) struct ChangeCounter {
    file: File,
    /// False when only a read-only descriptor could be had: this process sees
    /// others' changes but cannot announce its own.
    writable: bool,
}

impl ChangeCounter {
    /// The counter beside `database` (`<database>-changes`), created if needed
    /// with the database file's owner, so that the service's user can bump a
    /// counter the operator's command (run as root) created.
    pub(crate) fn open(database: &Path) -> io::Result<Self> {
        let path = counter_file(database);
        let opened = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path);
        let (file, writable) = match opened {
            Ok(file) => (file, true),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => (File::open(&path)?, false),
            Err(e) => return Err(e),
        };
        if writable {
            let (db, own) = (std::fs::metadata(database)?, file.metadata()?);
            if (db.uid(), db.gid()) != (own.uid(), own.gid()) {
                // Only root may give a file away; anyone else keeps it.
                let _ = std::os::unix::fs::fchown(&file, Some(db.uid()), Some(db.gid()));
            }
        }
        Ok(Self { file, writable })
    }

    /// The current count (0 for a new file).
    pub(crate) fn read(&self) -> io::Result<u64> {
        let mut bytes = [0u8; 8];
        let mut filled = 0;
        while filled < bytes.len() {
            match self.file.read_at(&mut bytes[filled..], filled as u64)? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(u64::from_le_bytes(bytes))
    }

    /// Adds one, under a lock that other processes take too; returns the count
    /// before.
    pub(crate) fn increment(&self) -> io::Result<u64> {
        if !self.writable {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        self.file.lock()?;
        let bumped = self.read().and_then(|before| {
            self.file
                .write_all_at(&before.wrapping_add(1).to_le_bytes(), 0)
                .map(|()| before)
        });
        self.file.unlock()?;
        bumped
    }
}

/// The counter file of the database file `database`.
fn counter_file(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-changes");
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_sharing_a_file_see_each_others_bumps() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("latchkey.db");
        std::fs::write(&database, b"").unwrap();
        let (one, other) = (
            ChangeCounter::open(&database).unwrap(),
            ChangeCounter::open(&database).unwrap(),
        );
        assert_eq!(one.read().unwrap(), 0);
        assert_eq!(one.increment().unwrap(), 0);
        assert_eq!(other.increment().unwrap(), 1);
        assert_eq!(one.read().unwrap(), 2);
    }
}
