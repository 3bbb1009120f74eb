//! Sessions and refresh tokens in SQLite.

use async_trait::async_trait;
use sqlx::FromRow;

use super::{SqliteStore, run_detached, write_transaction};
use crate::auth::ScopeSet;
use crate::clock::unix_now;
use crate::store::StoreError;
use crate::store::sessions::{
    NewRefreshToken, NewSession, RefreshOutcome, SessionRecord, SessionStore,
};

/// How long ended sessions are kept after their end, in seconds, before they are
/// deleted (long enough to recognise a reused refresh token of a recent session).
const KEEP_ENDED_SECONDS: i64 = 7 * 24 * 3600;

#[derive(FromRow)]
struct SessionRow {
    id: String,
    username: String,
    scopes: String,
    expires_at: i64,
    revoked_at: Option<i64>,
    binding_hash: Option<String>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(SessionRecord {
            scopes: ScopeSet::parse(&row.scopes)
                .map_err(|e| StoreError::Corrupt(format!("session scopes: {e}")))?,
            id: row.id,
            username: row.username,
            expires_at: row.expires_at,
            revoked: row.revoked_at.is_some(),
            binding: row.binding_hash,
        })
    }
}

const SESSION_SELECT: &str = "SELECT sessions.id, users.username, sessions.scopes,
        sessions.expires_at, sessions.revoked_at, sessions.binding_hash
     FROM sessions JOIN users ON users.id = sessions.user_id";

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: NewSession<'_>,
        refresh: NewRefreshToken<'_>,
    ) -> Result<bool, StoreError> {
        let (id, username, scopes) = (
            session.id.to_owned(),
            session.username.to_owned(),
            session.scopes.to_string(),
        );
        let (created_at, expires_at) = (session.created_at, session.expires_at);
        let binding = session.binding.map(str::to_owned);
        let refresh = OwnedRefreshToken::from(refresh);
        run_detached(&self.pool, move |pool| async move {
            let mut tx = write_transaction(&pool).await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
                .bind(created_at - KEEP_ENDED_SECONDS)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, user_id, scopes, created_at, expires_at, binding_hash)
                 SELECT ?, id, ?, ?, ?, ? FROM users WHERE username = ?",
            )
            .bind(&id)
            .bind(scopes)
            .bind(created_at)
            .bind(expires_at)
            .bind(binding)
            .bind(username)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }
            insert_refresh_token(&mut tx, &id, &refresh).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} WHERE sessions.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn rotate_refresh_token(
        &self,
        hash: &str,
        now: i64,
        next: NewRefreshToken<'_>,
    ) -> Result<RefreshOutcome, StoreError> {
        let (hash, next) = (hash.to_owned(), OwnedRefreshToken::from(next));
        run_detached(&self.pool, move |pool| async move {
            let mut tx = write_transaction(&pool).await?;
            let token: Option<(String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE token_hash = ?",
            )
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((session_id, token_end, used_at)) = token else {
                return Ok(RefreshOutcome::Invalid);
            };
            // Marking it spent only if it is not: of two concurrent uses, one wins.
            let spent_now = used_at.is_none()
                && sqlx::query(
                    "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                )
                .bind(now)
                .bind(&hash)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
            if !spent_now {
                revoke(&mut tx, &session_id, now, "refresh token reused").await?;
                tx.commit().await?;
                return Ok(RefreshOutcome::Reused);
            }
            let session = sqlx::query_as::<_, SessionRow>(&format!(
                "{SESSION_SELECT} WHERE sessions.id = ?"
            ))
            .bind(&session_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(SessionRecord::try_from)
            .transpose()?;
            let live = session.filter(|s| !s.revoked && s.expires_at > now && token_end > now);
            let Some(session) = live else {
                tx.commit().await?;
                return Ok(RefreshOutcome::Invalid);
            };
            insert_refresh_token(&mut tx, &session.id, &next).await?;
            // Spent tokens are kept to recognise their reuse, until they would have
            // expired anyway.
            sqlx::query("DELETE FROM refresh_tokens WHERE session_id = ? AND expires_at < ?")
                .bind(&session.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(RefreshOutcome::Rotated(session))
        })
        .await
    }

    async fn session_of_refresh_token(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = ?")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn revoke_session(&self, id: &str, reason: &str) -> Result<bool, StoreError> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        run_detached(&self.pool, move |pool| async move {
            let mut tx = write_transaction(&pool).await?;
            let revoked = revoke(&mut tx, &id, unix_now(), &reason).await?;
            tx.commit().await?;
            Ok(revoked)
        })
        .await
    }

    async fn revoke_user_sessions(&self, username: &str, reason: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at = ?, revoked_reason = ?
             WHERE revoked_at IS NULL
               AND user_id = (SELECT id FROM users WHERE username = ?)",
        )
        .bind(unix_now())
        .bind(reason)
        .bind(username)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}

/// A refresh token to store, owned, for a detached transaction.
struct OwnedRefreshToken {
    hash: String,
    expires_at: i64,
}

impl From<NewRefreshToken<'_>> for OwnedRefreshToken {
    fn from(token: NewRefreshToken<'_>) -> Self {
        Self {
            hash: token.hash.to_owned(),
            expires_at: token.expires_at,
        }
    }
}

async fn insert_refresh_token(
    tx: &mut sqlx::SqliteConnection,
    session_id: &str,
    token: &OwnedRefreshToken,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)")
        .bind(&token.hash)
        .bind(session_id)
        .bind(token.expires_at)
        .execute(tx)
        .await?;
    Ok(())
}

async fn revoke(
    tx: &mut sqlx::SqliteConnection,
    session_id: &str,
    now: i64,
    reason: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() > 0)
}
