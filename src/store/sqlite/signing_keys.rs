//! Token signing keys in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::auth::keyring::{KeyAlgorithm, KeyMaterial};
use crate::store::signing_keys::{SigningKeyStore, StoredKey};
use crate::store::{StoreChange, StoreError};

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows: Vec<(String, String, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT kid, algorithm, secret, created_at, retire_after FROM signing_keys
             ORDER BY created_at DESC, retire_after IS NULL DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kid, algorithm, secret, created_at, retire_after)| {
                let algorithm = algorithm.parse::<KeyAlgorithm>().map_err(|_| {
                    StoreError::Corrupt(format!("signing key {kid}: algorithm {algorithm}"))
                })?;
                Ok(StoredKey {
                    kid,
                    material: KeyMaterial { algorithm, secret },
                    created_at,
                    retire_after,
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let key = key.clone();
        self.write_announced(
            move |pool| async move {
                let result = sqlx::query(
                    "INSERT INTO signing_keys (kid, algorithm, secret, created_at, retire_after)
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (kid) DO NOTHING",
                )
                .bind(&key.kid)
                .bind(key.material.algorithm.as_str())
                .bind(&key.material.secret)
                .bind(key.created_at)
                .bind(key.retire_after)
                .execute(&pool)
                .await?;
                Ok(result.rows_affected() > 0)
            },
            |added| added.then_some(StoreChange::KeysChanged),
        )
        .await
    }

    async fn retire_signing_keys_except(&self, kid: &str, at: i64) -> Result<u64, StoreError> {
        let kid = kid.to_owned();
        self.write_announced(
            move |pool| async move {
                let result = sqlx::query(
                    "UPDATE signing_keys SET retire_after = ? WHERE kid <> ? AND retire_after IS NULL",
                )
                .bind(at)
                .bind(&kid)
                .execute(&pool)
                .await?;
                Ok(result.rows_affected())
            },
            |retired| (*retired > 0).then_some(StoreChange::KeysChanged),
        )
        .await
    }
}
