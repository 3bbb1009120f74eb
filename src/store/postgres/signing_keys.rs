//! Token signing keys in PostgreSQL.

use async_trait::async_trait;

use super::PostgresStore;
use crate::auth::keyring::{KeyAlgorithm, KeyMaterial};
use crate::store::StoreError;
use crate::store::signing_keys::{SigningKeyStore, StoredKey};

#[async_trait]
impl SigningKeyStore for PostgresStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows: Vec<(String, String, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT kid, algorithm, secret, created_at, retire_after FROM signing_keys
             ORDER BY created_at DESC, retire_after IS NULL DESC, kid COLLATE \"C\"",
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
        let result = sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_at, retire_after)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING",
        )
        .bind(&key.kid)
        .bind(key.material.algorithm.as_str())
        .bind(&key.material.secret)
        .bind(key.created_at)
        .bind(key.retire_after)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn retire_signing_keys_except(&self, kid: &str, at: i64) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE signing_keys SET retire_after = $1 WHERE kid <> $2 AND retire_after IS NULL",
        )
        .bind(at)
        .bind(kid)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
