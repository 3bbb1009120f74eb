//! The keyring in the store: set up at start-up, read again, and rotated.
//!
//! Keys live in the store, so every instance signs and verifies with the same ones.
//! On first start the keyring gets `LATCHKEY_SECRET_KEY` (an HS256 secret) if set,
//! else the key file an older latchkey generated in the data directory, else a new
//! key of the configured algorithm. A `LATCHKEY_SECRET_KEY` the keyring does not
//! have yet replaces every other key at once: changing it is how an operator
//! withdraws a leaked key. `latchkey key rotate` adds a key that signs from
//! then on; the keys it replaces keep verifying until the tokens they signed expire.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use super::{BadKey, KeyAlgorithm, KeyMaterial, Keyring, SigningKey};
use crate::clock::{seconds, unix_now};
use crate::store::{Store, StoreError, StoredKey};

/// Name of the key file older versions generated inside the data directory.
pub(crate) const LEGACY_KEY_FILE: &str = "secret.key";
/// Shortest HMAC secret accepted, in bytes (256 bits).
pub(crate) const MIN_KEY_BYTES: usize = 32;

/// A keyring that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
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
    /// `LATCHKEY_SECRET_KEY` is an HMAC secret but another algorithm is configured.
    #[error(
        "LATCHKEY_SECRET_KEY is an HS256 secret, but signing_algorithm is {0}: unset one of them"
    )]
    SecretForOtherAlgorithm(&'static str),
    /// The key file could not be read.
    #[error("signing key file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
    /// Stored key material is unusable.
    #[error(transparent)]
    Bad(#[from] BadKey),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes sure the store has a signing key (see the module documentation) and
/// returns the keyring. `token_lifetime` is the access token lifetime, for how
/// long a replaced key keeps verifying.
pub(crate) async fn prepare_keyring(
    store: &dyn Store,
    env_key: Option<String>,
    data_dir: &Path,
    algorithm: KeyAlgorithm,
    token_lifetime: Duration,
) -> Result<Keyring, KeyError> {
    if let Some(key) = env_key {
        if algorithm != KeyAlgorithm::HS256 {
            return Err(KeyError::SecretForOtherAlgorithm(algorithm.as_str()));
        }
        let secret = checked(key.into_bytes(), "LATCHKEY_SECRET_KEY")?;
        let (key, added) = add(store, KeyMaterial { algorithm, secret }).await?;
        if added {
            store
                .retire_signing_keys_except(&key.kid, unix_now())
                .await?;
        }
    } else if store.signing_keys().await?.is_empty() {
        let material = match legacy_key(data_dir)? {
            Some(secret) => KeyMaterial {
                algorithm: KeyAlgorithm::HS256,
                secret,
            },
            None => KeyMaterial::generate(algorithm)?,
        };
        add(store, material).await?;
    }
    let keyring = load_keyring(store).await?;
    if keyring.active().algorithm != algorithm {
        tracing::info!(
            from = keyring.active().algorithm.as_str(),
            to = algorithm.as_str(),
            "signing_algorithm changed: rotating to a new key"
        );
        rotate(store, algorithm, token_lifetime).await?;
        return load_keyring(store).await;
    }
    Ok(keyring)
}

/// What a stored key does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyState {
    /// It signs new tokens (and verifies).
    Signing,
    /// It verifies tokens, without an end.
    Verifying,
    /// It verifies tokens until this Unix time.
    VerifyingUntil(i64),
    /// It does nothing any more.
    Retired,
}

/// Every stored key, newest first, with what it does now, for `latchkey key list`.
pub(crate) async fn key_states(store: &dyn Store) -> Result<Vec<(StoredKey, KeyState)>, KeyError> {
    let now = unix_now();
    let mut signing_seen = false;
    Ok(store
        .signing_keys()
        .await?
        .into_iter()
        .map(|key| {
            let state = match key.retire_after {
                None if !signing_seen => {
                    signing_seen = true;
                    KeyState::Signing
                }
                None => KeyState::Verifying,
                Some(end) if end > now => KeyState::VerifyingUntil(end),
                Some(_) => KeyState::Retired,
            };
            (key, state)
        })
        .collect())
}

/// The keys that verify now, newest first; the first unretired one signs.
pub(crate) async fn load_keyring(store: &dyn Store) -> Result<Keyring, KeyError> {
    reload_keyring(store, None).await
}

/// [`load_keyring`], reusing the parsed keys of `previous` (parsing an RSA key
/// takes a while).
pub(crate) async fn reload_keyring(
    store: &dyn Store,
    previous: Option<&Keyring>,
) -> Result<Keyring, KeyError> {
    let now = unix_now();
    let mut stored = store.signing_keys().await?;
    stored.retain(|key| key.retire_after.is_none_or(|end| end > now));
    // The signing key first: the newest that is not retiring.
    stored.sort_by_key(|key| (key.retire_after.is_some(), -key.created_at));
    let keys = stored
        .iter()
        .map(|key| match previous.and_then(|ring| ring.find(&key.kid)) {
            Some(parsed) => Ok(parsed.clone()),
            None => SigningKey::new(&key.material),
        })
        .collect::<Result<Vec<_>, _>>()?;
    match Keyring::new(keys) {
        Some(keyring) if stored[0].retire_after.is_none() => Ok(keyring),
        _ => Err(KeyError::Store(StoreError::Corrupt(
            "no signing key may sign: run `latchkey key rotate`".into(),
        ))),
    }
}

/// Adds a new key of `algorithm` that signs from now on; the others keep verifying
/// for `token_lifetime` (and a minute of leeway), then retire.
pub(crate) async fn rotate(
    store: &dyn Store,
    algorithm: KeyAlgorithm,
    token_lifetime: Duration,
) -> Result<SigningKey, KeyError> {
    let material = KeyMaterial::generate(algorithm)?;
    let (key, _) = add(store, material).await?;
    store
        .retire_signing_keys_except(
            &key.kid,
            unix_now()
                .saturating_add(seconds(token_lifetime))
                .saturating_add(60),
        )
        .await?;
    Ok(key)
}

/// Adds `material` to the keyring unless it is there; true if it was added.
async fn add(store: &dyn Store, material: KeyMaterial) -> Result<(SigningKey, bool), KeyError> {
    let key = SigningKey::new(&material)?;
    let added = store
        .add_signing_key(&StoredKey {
            kid: key.kid.clone(),
            material,
            created_at: unix_now(),
            retire_after: None,
        })
        .await?;
    Ok((key, added))
}

/// The key file of an older latchkey, if there is one.
fn legacy_key(data_dir: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    let path = data_dir.join(LEGACY_KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(checked(
            trim_newline(bytes),
            &path.display().to_string(),
        )?)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(KeyError::Io {
            path: path.display().to_string(),
            error,
        }),
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
