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

/// Least estimated strength of an HMAC secret, as log10 of the guesses zxcvbn
/// estimates. zxcvbn counts guesses in 64 bits, so its estimates stop near 10^19:
/// a key must reach that ceiling, i.e. zxcvbn finds no word, pattern or repeat
/// that makes it cheaper, and its length (at least 32 bytes) does the rest.
const MIN_KEY_GUESSES_LOG10: f64 = 18.0;

/// Signing keys published in tutorials and tools, which anyone can sign tokens
/// with, known by the SHA-256 of their bytes (hex): no key is kept in the code.
const PUBLISHED_KEYS: [(&str, &str); 3] = [
    (
        "570dad43de1af4c925f92c16a68a50936da42b7dd6fdeb24850507a1199aac89",
        "the example key of FastAPI's OAuth2 JWT tutorial",
    ),
    (
        "465d9ad5d5528ebe287b5dce4fb51620833d09b290e49ddcc70ca6c4a0aea01b",
        "jwt.io's sample HS256 secret",
    ),
    (
        "f7d838701b86c5dfb57bf95fbc5ce6df204cfc9f15ad6cdb39fd22f8776e47b6",
        "jwt.io's former sample HS256 secret",
    ),
];

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
    /// The key is one published for everyone to copy.
    #[error(
        "{source_name} is {what}, published for everyone to copy: anyone could sign tokens with it (generate one with `openssl rand -hex 32`)"
    )]
    Published {
        /// Where the key came from.
        source_name: String,
        /// Which published key it is.
        what: &'static str,
    },
    /// The key is long enough but easy to guess (a word, a pattern, a repeat).
    #[error(
        "{source_name} is too easy to guess (about 10^{guesses_log10:.0} guesses; a signing key needs 10^18): generate one with `openssl rand -hex 32`"
    )]
    Guessable {
        /// Where the key came from.
        source_name: String,
        /// zxcvbn's estimate, log10 of the guesses.
        guesses_log10: f64,
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

/// `key` if it is long, unpublished and hard to guess enough to be an HMAC secret.
fn checked(key: Vec<u8>, source_name: &str) -> Result<Vec<u8>, KeyError> {
    let source_name = source_name.to_owned();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&key));
    if let Some((_, what)) = PUBLISHED_KEYS
        .iter()
        .find(|(published, _)| *published == digest)
    {
        return Err(KeyError::Published { source_name, what });
    }
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            source_name,
            len: key.len(),
        });
    }
    // Raw bytes that are not text cannot be estimated as words or patterns.
    if let Ok(text) = std::str::from_utf8(&key) {
        let guesses_log10 = zxcvbn::zxcvbn(text, &[]).guesses_log10();
        if guesses_log10 < MIN_KEY_GUESSES_LOG10 {
            return Err(KeyError::Guessable {
                source_name,
                guesses_log10,
            });
        }
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

    fn check(key: &str) -> Result<Vec<u8>, KeyError> {
        checked(key.as_bytes().to_vec(), "LATCHKEY_SECRET_KEY")
    }

    #[test]
    fn published_keys_are_refused_by_name() {
        // jwt.io's samples are phrases shown on its page; the FastAPI tutorial's key
        // is tested against the FastAPI app itself (tests/it/restart_and_keys.rs).
        for (key, what) in [
            (
                "a-string-secret-at-least-256-bits-long",
                PUBLISHED_KEYS[1].1,
            ),
            ("your-256-bit-secret", PUBLISHED_KEYS[2].1),
        ] {
            let message = check(key).unwrap_err().to_string();
            assert!(message.contains(what), "{message}");
        }
    }

    #[test]
    fn long_keys_that_are_easy_to_guess_are_refused() {
        for key in [
            "k".repeat(64),
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop".to_owned(),
            "passwordpasswordpasswordpassword".to_owned(),
            "qwertyuiopasdfghjklzxcvbnm123456".to_owned(),
            "0123456789".repeat(4),
        ] {
            let error = check(&key).unwrap_err();
            assert!(
                matches!(error, KeyError::Guessable { .. }),
                "{key}: {error}"
            );
        }
    }

    #[test]
    fn random_keys_are_accepted() {
        // What `openssl rand -hex 32` and `openssl rand -base64 32` print.
        for key in [
            "3f7a9c1e5b2d8f604a1c9e7b3d5f2a8c6e0b4d9f1a3c5e7b9d2f4a6c8e0b1d3f",
            "q8Vn2Lr7Xc0Tz5Wm9Kp3Hs6Jd1Fg4Ba8Ye2Ui7Oo0Pa=",
        ] {
            assert!(
                check(key).is_ok(),
                "{key}: {:?}",
                check(key).err().map(|e| e.to_string())
            );
        }
        let raw: Vec<u8> = (0..32u8).map(|b| b.wrapping_mul(97) ^ 0xA5).collect();
        assert!(
            checked(raw, "a key file").is_ok(),
            "bytes that are not text"
        );
    }
}
