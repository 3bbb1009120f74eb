//! Login failure counts in PostgreSQL.

use async_trait::async_trait;

use super::{PostgresStore, run_detached};
use crate::store::StoreError;
use crate::store::login_failures::{BlockRule, FailureCount, LoginFailureStore};

#[async_trait]
impl LoginFailureStore for PostgresStore {
    async fn count_attempt(
        &self,
        keys: Vec<String>,
        now: i64,
        forget_before: i64,
        blocked: BlockRule,
    ) -> Result<Option<u64>, StoreError> {
        run_detached(&self.pool, move |pool| async move {
            let mut tx = pool.begin().await?;
            // A subject's count may have no row yet, so row locks cannot order the
            // attempts: an advisory lock per key, held to the end of the
            // transaction, does. Taken in one fixed order (by lock id), two attempts
            // sharing keys cannot wait for each other.
            let lock_ids: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT hashtextextended('latchkey.login_failures:' || key, 0) AS id
                 FROM unnest($1::text[]) AS key ORDER BY id",
            )
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?;
            for id in lock_ids {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            // Forgotten counts of these keys go first (others are forgotten by
            // `forget_failures_before`): their rows are this attempt's to change.
            sqlx::query(
                "DELETE FROM login_failures
                 WHERE subject_key = ANY($1) AND last_failure_at < $2",
            )
            .bind(&keys)
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
            let mut longest = None;
            for (index, key) in keys.iter().enumerate() {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT failures, last_failure_at FROM login_failures WHERE subject_key = $1",
                )
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((failures, last_failure_at)) = row else {
                    continue;
                };
                let count = FailureCount {
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    last_failure_at,
                };
                longest = longest.max(blocked(index, count));
            }
            if longest.is_none() {
                for key in &keys {
                    sqlx::query(
                        "INSERT INTO login_failures (subject_key, failures, last_failure_at)
                         VALUES ($1, 1, $2)
                         ON CONFLICT (subject_key) DO UPDATE
                         SET failures = login_failures.failures + 1,
                             last_failure_at = excluded.last_failure_at",
                    )
                    .bind(key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(longest)
        })
        .await
    }

    async fn uncount_attempt(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_failures SET failures = failures - 1
             WHERE subject_key = $1 AND failures > 0",
        )
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE subject_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn forget_failures_before(&self, before: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected())
    }
}
