//! Device cookies in PostgreSQL.

use async_trait::async_trait;

use super::{PostgresStore, run_detached, storable};
use crate::store::StoreError;
use crate::store::device_cookies::{DeviceCookieStore, NewDeviceCookie};

/// The most device cookies kept per account (as on SQLite): a new one beyond
/// makes the oldest one untrusted, so a loop of sign-ins cannot grow the table.
const MAX_PER_ACCOUNT: i64 = 20;

#[async_trait]
impl DeviceCookieStore for PostgresStore {
    async fn add_device_cookie(
        &self,
        cookie: NewDeviceCookie<'_>,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError> {
        if !storable(&[cookie.hash, cookie.username]) {
            return Ok(false);
        }
        let (hash, username) = (cookie.hash.to_owned(), cookie.username.to_owned());
        let (created_at, expires_at) = (cookie.created_at, cookie.expires_at);
        let replacing = replacing.map(str::to_owned);
        run_detached(&self.pool, move |pool| async move {
            let mut tx = pool.begin().await?;
            // The account's row, locked: its cookies are added and trimmed one
            // sign-in at a time, and it cannot be deleted meanwhile.
            let user_id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1 FOR NO KEY UPDATE")
                    .bind(&username)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(user_id) = user_id else {
                return Ok(false);
            };
            sqlx::query("DELETE FROM device_cookies WHERE expires_at <= $1")
                .bind(created_at)
                .execute(&mut *tx)
                .await?;
            if let Some(old) = replacing {
                sqlx::query("DELETE FROM device_cookies WHERE token_hash = $1")
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO device_cookies (token_hash, user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(hash)
            .bind(user_id)
            .bind(created_at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM device_cookies
                 WHERE user_id = $1 AND token_hash NOT IN (
                     SELECT token_hash FROM device_cookies WHERE user_id = $1
                     ORDER BY created_at DESC, position DESC LIMIT $2)",
            )
            .bind(user_id)
            .bind(MAX_PER_ACCOUNT)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn device_cookie_owner(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        if !storable(&[hash]) {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(
            "SELECT users.username FROM device_cookies
             JOIN users ON users.id = device_cookies.user_id
             WHERE device_cookies.token_hash = $1 AND device_cookies.expires_at > $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }
}
