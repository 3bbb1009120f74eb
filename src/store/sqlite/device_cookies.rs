//! Device cookies in SQLite.

use async_trait::async_trait;

use super::{SqliteStore, run_detached, write_transaction};
use crate::store::StoreError;
use crate::store::device_cookies::{DeviceCookieStore, NewDeviceCookie};

/// The most device cookies kept per account: a new one beyond makes the oldest
/// one untrusted, so a loop of sign-ins cannot grow the table.
const MAX_PER_ACCOUNT: i64 = 20;

#[async_trait]
impl DeviceCookieStore for SqliteStore {
    async fn add_device_cookie(
        &self,
        cookie: NewDeviceCookie<'_>,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (hash, username) = (cookie.hash.to_owned(), cookie.username.to_owned());
        let (created_at, expires_at) = (cookie.created_at, cookie.expires_at);
        let replacing = replacing.map(str::to_owned);
        run_detached(&self.pool, move |pool| async move {
            let mut tx = write_transaction(&pool).await?;
            sqlx::query("DELETE FROM device_cookies WHERE expires_at <= ?")
                .bind(created_at)
                .execute(&mut *tx)
                .await?;
            if let Some(old) = replacing {
                sqlx::query("DELETE FROM device_cookies WHERE token_hash = ?")
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO device_cookies (token_hash, user_id, created_at, expires_at)
                 SELECT ?, id, ?, ? FROM users WHERE username = ?",
            )
            .bind(hash)
            .bind(created_at)
            .bind(expires_at)
            .bind(&username)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM device_cookies
                 WHERE user_id = (SELECT id FROM users WHERE username = ?1)
                   AND token_hash NOT IN (
                       SELECT token_hash FROM device_cookies
                       WHERE user_id = (SELECT id FROM users WHERE username = ?1)
                       ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
            )
            .bind(&username)
            .bind(MAX_PER_ACCOUNT)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn device_cookie_owner(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT users.username FROM device_cookies
             JOIN users ON users.id = device_cookies.user_id
             WHERE device_cookies.token_hash = ? AND device_cookies.expires_at > ?",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }
}
