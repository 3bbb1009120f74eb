//! What the store keeps about token signing keys.

use async_trait::async_trait;

use super::StoreError;
use crate::auth::keyring::KeyMaterial;

/// A signing key as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredKey {
    pub kid: String,
    pub material: KeyMaterial,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// When it stops verifying; `None` while it may sign.
    pub retire_after: Option<i64>,
}

/// The keyring's keys, shared by every instance.
#[async_trait]
pub(crate) trait SigningKeyStore: Send + Sync {
    /// Every key, newest first.
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Adds a key unless one with its `kid` exists; true if it was added.
    async fn add_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError>;
    /// Makes every key but `kid` stop signing, and stop verifying after `at`.
    async fn retire_signing_keys_except(&self, kid: &str, at: i64) -> Result<u64, StoreError>;
}
