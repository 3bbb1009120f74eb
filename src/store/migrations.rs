//! What both stores check to say they are ready: every migration this build knows
//! is applied.

use sqlx::migrate::Migrator;

use super::StoreError;

/// Which migrations sqlx recorded as applied (`_sqlx_migrations`), by version.
pub(super) const APPLIED_VERSIONS: &str =
    "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";

/// `Ok(())` if every migration of `migrator` is among `applied`; else names the
/// first one missing.
pub(super) fn all_applied(migrator: &Migrator, applied: &[i64]) -> Result<(), StoreError> {
    let missing = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .find(|m| !applied.contains(&m.version));
    match missing {
        None => Ok(()),
        Some(m) => Err(StoreError::Unmigrated(format!(
            "migration {} ({}) is not applied",
            m.version, m.description
        ))),
    }
}
