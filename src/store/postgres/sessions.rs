//! Sessions and refresh tokens in PostgreSQL.

use async_trait::async_trait;

use super::{PostgresStore, run_detached, storable};
use crate::clock::unix_now;
use crate::store::rows::{SESSION_SELECT, SessionRow};
use crate::store::sessions::{
    NewRefreshToken, NewSession, RefreshKey, RefreshOutcome, SessionRecord, SessionStore,
};
use crate::store::{StoreChange, StoreError};

/// The session a presented refresh token names, its current token's hash and end.
type RefreshRow = (String, Option<String>, Option<i64>);

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(
        &self,
        session: NewSession<'_>,
        family: &str,
        refresh: NewRefreshToken<'_>,
    ) -> Result<bool, StoreError> {
        if !storable(&[session.username, family, refresh.hash]) {
            return Ok(false);
        }
        // `FOR SHARE` on the user's row: a password change or disabling in flight
        // either commits first (the version no longer matches: no session), or
        // waits for this session and then ends it with the others.
        let inserted = sqlx::query(
            "INSERT INTO sessions
                 (id, user_id, scopes, created_at, expires_at,
                  refresh_family, refresh_hash, refresh_expires_at, binding_hash)
             SELECT $1, id, $2, $3, $4, $5, $6, $7, $8 FROM users
             WHERE username = $9 AND credentials_version = $10 AND NOT disabled
             FOR SHARE",
        )
        .bind(session.id)
        .bind(session.scopes.to_string())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(family)
        .bind(refresh.hash)
        .bind(refresh.expires_at)
        .bind(session.binding)
        .bind(session.username)
        .bind(session.credentials_version)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        if !storable(&[id]) {
            return Ok(None);
        }
        sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} WHERE sessions.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(SessionRecord::try_from)
            .transpose()
    }

    async fn rotate_refresh_token(
        &self,
        presented: &RefreshKey,
        now: i64,
        family: &str,
        next: NewRefreshToken<'_>,
    ) -> Result<RefreshOutcome, StoreError> {
        if !storable(&[
            presented.family.as_deref().unwrap_or_default(),
            &presented.hash,
        ]) {
            return Ok(RefreshOutcome::Invalid);
        }
        let (presented, family) = (presented.clone(), family.to_owned());
        let (next_hash, next_end) = (next.hash.to_owned(), next.expires_at);
        let hub = self.hub.clone();
        run_detached(&self.pool, move |pool| async move {
            let mut tx = pool.begin().await?;
            // The session's row stays locked to the end: of two presentations of
            // one token at once, the second waits and then finds it spent.
            let current: Option<RefreshRow> = find_by_refresh_key(&presented, true)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((session_id, current_hash, token_end)) = current else {
                return Ok(RefreshOutcome::Invalid);
            };
            if current_hash.as_deref() != Some(presented.hash.as_str()) {
                // A token of this session, but not its current one: spent already.
                let ended = revoke(&mut tx, &session_id, now, "refresh token reused").await?;
                tx.commit().await?;
                if ended {
                    hub.wrote(StoreChange::SessionEnded(session_id));
                }
                return Ok(RefreshOutcome::Reused);
            }
            let session = sqlx::query_as::<_, SessionRow>(&format!(
                "{SESSION_SELECT} WHERE sessions.id = $1"
            ))
            .bind(&session_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(SessionRecord::try_from)
            .transpose()?;
            let live = session.filter(|s| {
                !s.revoked && s.expires_at > now && token_end.is_some_and(|end| end > now)
            });
            let Some(session) = live else {
                return Ok(RefreshOutcome::Invalid);
            };
            sqlx::query(
                "UPDATE sessions SET refresh_family = $1, refresh_hash = $2, refresh_expires_at = $3
                 WHERE id = $4",
            )
            .bind(&family)
            .bind(&next_hash)
            .bind(next_end.min(session.expires_at))
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(RefreshOutcome::Rotated(session))
        })
        .await
    }

    async fn session_of_refresh_token(
        &self,
        presented: &RefreshKey,
    ) -> Result<Option<String>, StoreError> {
        if !storable(&[
            presented.family.as_deref().unwrap_or_default(),
            &presented.hash,
        ]) {
            return Ok(None);
        }
        let found: Option<RefreshRow> = find_by_refresh_key(presented, false)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|(id, _, _)| id))
    }

    async fn revoke_session(&self, id: &str, reason: &str) -> Result<bool, StoreError> {
        if !storable(&[id]) {
            return Ok(false);
        }
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(unix_now())
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await?;
        let ended = result.rows_affected() > 0;
        if ended {
            self.hub.wrote(StoreChange::SessionEnded(id.to_owned()));
        }
        Ok(ended)
    }

    async fn revoke_user_sessions(&self, username: &str, reason: &str) -> Result<u64, StoreError> {
        if !storable(&[username]) {
            return Ok(0);
        }
        let result = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
             WHERE revoked_at IS NULL
               AND user_id = (SELECT id FROM users WHERE username = $3)",
        )
        .bind(unix_now())
        .bind(reason)
        .bind(username)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() > 0 {
            self.hub
                .wrote(StoreChange::UserChanged(username.to_owned()));
        }
        Ok(result.rows_affected())
    }

    async fn delete_ended_sessions(
        &self,
        now: i64,
        refresh_ended_before: i64,
    ) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM sessions
             WHERE revoked_at IS NOT NULL OR expires_at <= $1
                OR refresh_expires_at IS NULL OR refresh_expires_at < $2",
        )
        .bind(now)
        .bind(refresh_ended_before)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    async fn count_live_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions
             WHERE revoked_at IS NULL AND expires_at > $1 AND refresh_expires_at > $1",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(live).unwrap_or(0))
    }
}

/// The session a presented refresh token names, its current token's hash and
/// end: by family, or for a token without one, by its hash; with `lock`, its row
/// stays locked until the transaction ends.
fn find_by_refresh_key(
    presented: &RefreshKey,
    lock: bool,
) -> sqlx::query::QueryAs<'_, sqlx::Postgres, RefreshRow, sqlx::postgres::PgArguments> {
    const BY_FAMILY: &str =
        "SELECT id, refresh_hash, refresh_expires_at FROM sessions WHERE refresh_family = $1";
    const BY_FAMILY_LOCKED: &str = "SELECT id, refresh_hash, refresh_expires_at FROM sessions
         WHERE refresh_family = $1 FOR UPDATE";
    const BY_HASH: &str = "SELECT id, refresh_hash, refresh_expires_at FROM sessions
         WHERE refresh_family IS NULL AND refresh_hash = $1";
    const BY_HASH_LOCKED: &str = "SELECT id, refresh_hash, refresh_expires_at FROM sessions
         WHERE refresh_family IS NULL AND refresh_hash = $1 FOR UPDATE";
    match &presented.family {
        Some(family) => {
            sqlx::query_as(if lock { BY_FAMILY_LOCKED } else { BY_FAMILY }).bind(family)
        }
        None => sqlx::query_as(if lock { BY_HASH_LOCKED } else { BY_HASH }).bind(&presented.hash),
    }
}

async fn revoke(
    tx: &mut sqlx::PgConnection,
    session_id: &str,
    now: i64,
    reason: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(tx)
    .await?;
    Ok(result.rows_affected() > 0)
}
