//! The token signing key: `LATCHKEY_SECRET_KEY`, or a random key kept in the data
//! directory (created on first start with mode 0600 and reused after restarts).

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::RngCore;

/// Name of the generated key's file inside the data directory.
pub const KEY_FILE: &str = "secret.key";
/// Shortest key accepted, in bytes (256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// A signing key that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is shorter than [`MIN_KEY_BYTES`].
    #[error(
        "{source_name} is {len} bytes long; a signing key must be at least {MIN_KEY_BYTES} bytes (generate one with `openssl rand -hex 32`)"
    )]
    TooShort {
        /// Where the key came from.
        source_name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The key file could not be read or written.
    #[error("signing key file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// The HMAC key: `env_key` when given (its UTF-8 bytes, as PyJWT uses FastAPI's
/// `SECRET_KEY`), else the key file in `data_dir`, created if missing.
pub fn load_signing_key(env_key: Option<String>, data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    if let Some(key) = env_key {
        return checked(key.into_bytes(), "LATCHKEY_SECRET_KEY");
    }
    let path = data_dir.join(KEY_FILE);
    let io_error = |error| KeyError::Io {
        path: path.display().to_string(),
        error,
    };
    match fs::read(&path) {
        Ok(bytes) => checked(trim_newline(bytes), &path.display().to_string()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut raw = [0u8; MIN_KEY_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut raw);
            let key = hex::encode(raw);
            fs::create_dir_all(data_dir).map_err(io_error)?;
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io_error)?;
            file.write_all(key.as_bytes())
                .and_then(|_| file.sync_all())
                .map_err(io_error)?;
            Ok(key.into_bytes())
        }
        Err(e) => Err(io_error(e)),
    }
}

fn checked(key: Vec<u8>, source_name: &str) -> Result<Vec<u8>, KeyError> {
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            source_name: source_name.to_owned(),
            len: key.len(),
        });
    }
    Ok(key)
}

fn trim_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_a_private_key_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_signing_key(None, dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_signing_key(None, dir.path()).unwrap(), first);
    }

    #[test]
    fn environment_key_wins_and_short_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = "k".repeat(32);
        assert_eq!(
            load_signing_key(Some(key.clone()), dir.path()).unwrap(),
            key.as_bytes()
        );
        assert!(!dir.path().join(KEY_FILE).exists());
        let err = load_signing_key(Some("short".into()), dir.path()).unwrap_err();
        assert!(err.to_string().contains("at least 32 bytes"), "{err}");
    }
}
