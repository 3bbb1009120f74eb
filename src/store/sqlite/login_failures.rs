//! Login failure counts in SQLite.

use async_trait::async_trait;

use super::{SqliteStore, write_transaction};
use crate::store::StoreError;
use crate::store::login_failures::{FailureCount, LoginFailureStore};

#[async_trait]
impl LoginFailureStore for SqliteStore {
    async fn failure_count(
        &self,
        key: &str,
        forget_before: i64,
    ) -> Result<Option<FailureCount>, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT failures, last_failure_at FROM login_failures
             WHERE subject_key = ? AND last_failure_at >= ?",
        )
        .bind(key)
        .bind(forget_before)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(failures, last_failure_at)| FailureCount {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            last_failure_at,
        }))
    }

    async fn record_failure(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<u32, StoreError> {
        let mut tx = write_transaction(&self.pool).await?;
        sqlx::query("DELETE FROM login_failures WHERE last_failure_at < ?")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        // One statement, so that instances sharing the database count every failure.
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (subject_key, failures, last_failure_at) VALUES (?, 1, ?)
             ON CONFLICT (subject_key) DO UPDATE
             SET failures = failures + 1, last_failure_at = excluded.last_failure_at
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(u32::try_from(failures).unwrap_or(u32::MAX))
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE subject_key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
