//! Sessions and refresh tokens in SQLite.

use async_trait::async_trait;

use super::{SqliteStore, run_detached, write_transaction};
use crate::clock::unix_now;
use crate::store::rows::{SESSION_SELECT, SessionRow};
use crate::store::sessions::{
    NewRefreshToken, NewSession, RefreshKey, RefreshOutcome, SessionRecord, SessionStore,
};
use crate::store::{StoreChange, StoreError};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: NewSession<'_>,
        family: &str,
        refresh: NewRefreshToken<'_>,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO sessions
                 (id, user_id, scopes, created_at, expires_at,
                  refresh_family, refresh_hash, refresh_expires_at, binding_hash)
             SELECT ?, id, ?, ?, ?, ?, ?, ?, ? FROM users
             WHERE username = ? AND credentials_version = ? AND disabled = 0",
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
        sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} WHERE sessions.id = ?"))
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
        let (presented, family) = (presented.clone(), family.to_owned());
        let (next_hash, next_end) = (next.hash.to_owned(), next.expires_at);
        let hub = self.hub.clone();
        run_detached(&self.pool, move |pool| async move {
            let mut tx = write_transaction(&pool).await?;
            let current: Option<(String, Option<String>, Option<i64>)> =
                find_by_refresh_key(&presented)
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
            let session =
                sqlx::query_as::<_, SessionRow>(&format!("{SESSION_SELECT} WHERE sessions.id = ?"))
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
                "UPDATE sessions SET refresh_family = ?, refresh_hash = ?, refresh_expires_at = ?
                 WHERE id = ?",
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
        let found: Option<(String, Option<String>, Option<i64>)> = find_by_refresh_key(presented)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(|(id, _, _)| id))
    }

    async fn revoke_session(&self, id: &str, reason: &str) -> Result<bool, StoreError> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        let ended = StoreChange::SessionEnded(id.clone());
        self.write_announced(
            move |pool| async move {
                let mut tx = write_transaction(&pool).await?;
                let revoked = revoke(&mut tx, &id, unix_now(), &reason).await?;
                tx.commit().await?;
                Ok(revoked)
            },
            move |revoked| revoked.then_some(ended),
        )
        .await
    }

    async fn revoke_user_sessions(&self, username: &str, reason: &str) -> Result<u64, StoreError> {
        let (username, reason) = (username.to_owned(), reason.to_owned());
        let changed = StoreChange::UserChanged(username.clone());
        self.write_announced(
            move |pool| async move {
                let result = sqlx::query(
                    "UPDATE sessions SET revoked_at = ?, revoked_reason = ?
                     WHERE revoked_at IS NULL
                       AND user_id = (SELECT id FROM users WHERE username = ?)",
                )
                .bind(unix_now())
                .bind(reason)
                .bind(username)
                .execute(&pool)
                .await?;
                Ok(result.rows_affected())
            },
            move |ended| (*ended > 0).then_some(changed),
        )
        .await
    }

    async fn count_live_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions
             WHERE revoked_at IS NULL AND expires_at > ? AND refresh_expires_at > ?",
        )
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn delete_ended_sessions(
        &self,
        now: i64,
        refresh_ended_before: i64,
    ) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM sessions
             WHERE revoked_at IS NOT NULL OR expires_at <= ?
                OR refresh_expires_at IS NULL OR refresh_expires_at < ?",
        )
        .bind(now)
        .bind(refresh_ended_before)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }
}

/// The session a presented refresh token names, its current token's hash and
/// end: by family, or for a token without one, by its hash.
fn find_by_refresh_key(
    presented: &RefreshKey,
) -> sqlx::query::QueryAs<
    '_,
    sqlx::Sqlite,
    (String, Option<String>, Option<i64>),
    sqlx::sqlite::SqliteArguments<'_>,
> {
    match &presented.family {
        Some(family) => sqlx::query_as(
            "SELECT id, refresh_hash, refresh_expires_at FROM sessions WHERE refresh_family = ?",
        )
        .bind(family),
        None => sqlx::query_as(
            "SELECT id, refresh_hash, refresh_expires_at FROM sessions
             WHERE refresh_family IS NULL AND refresh_hash = ?",
        )
        .bind(&presented.hash),
    }
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sqlx::SqlitePool;
    use sqlx::sqlite::SqliteConnectOptions;

    use super::*;

    /// A database as latchkey left it before refresh families (migrations 1 to 4),
    /// with one session holding a spent and a live refresh token.
    async fn database_before_families(path: &std::path::Path) {
        let pool = SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.migrations = Cow::Owned(migrator.migrations[..4].to_vec());
        migrator.run(&pool).await.unwrap();
        for statement in [
            "INSERT INTO users (id, username, password_hash, scopes, created_at, updated_at)
             VALUES (1, 'nina', 'x', 'me items', 0, 0)",
            "INSERT INTO sessions (id, user_id, scopes, created_at, expires_at)
             VALUES ('s1', 1, 'me items', 0, 9999999999)",
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at)
             VALUES ('spent', 's1', 9999999999, 5)",
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
             VALUES ('live', 's1', 9999999999)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    #[tokio::test]
    async fn a_refresh_token_issued_before_families_still_renews_its_session() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latchkey.db");
        database_before_families(&path).await;
        let store = SqliteStore::open_file(&path).await.unwrap();
        let legacy = |hash: &str| RefreshKey {
            family: None,
            hash: hash.to_owned(),
        };
        let next = NewRefreshToken {
            hash: "next",
            expires_at: 9_999_999_999,
        };
        assert_eq!(
            store
                .rotate_refresh_token(&legacy("spent"), 10, "fam", next)
                .await
                .unwrap(),
            RefreshOutcome::Invalid,
            "spent tokens were not kept"
        );
        let RefreshOutcome::Rotated(session) = store
            .rotate_refresh_token(&legacy("live"), 10, "fam", next)
            .await
            .unwrap()
        else {
            panic!("the live token was not rotated");
        };
        assert_eq!(
            (session.id.as_str(), session.username.as_str()),
            ("s1", "nina")
        );
        // From now on the session is found by its family; the legacy token is spent.
        let of_family = RefreshKey {
            family: Some("fam".into()),
            hash: "next".into(),
        };
        assert_eq!(
            store.session_of_refresh_token(&of_family).await.unwrap(),
            Some("s1".to_owned())
        );
        assert_eq!(
            store
                .rotate_refresh_token(&legacy("live"), 11, "other", next)
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }
}
