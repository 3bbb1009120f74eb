//! What the login throttle keeps: recent failures per subject.

use async_trait::async_trait;

use super::StoreError;

/// Recent failed logins of one throttled subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FailureCount {
    /// Failures since the count was last reset.
    pub failures: u32,
    /// When the latest one happened, seconds since the Unix epoch.
    pub last_failure_at: i64,
}

/// Failure counts keyed by an opaque subject key, shared by every instance.
#[async_trait]
pub(crate) trait LoginFailureStore: Send + Sync {
    /// The count of `key`, unless its latest failure is older than `forget_before`.
    async fn failure_count(
        &self,
        key: &str,
        forget_before: i64,
    ) -> Result<Option<FailureCount>, StoreError>;
    /// Adds a failure at `now` (starting over if the latest is older than
    /// `forget_before`) and returns the new count. Forgets stale subjects.
    async fn record_failure(
        &self,
        key: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<u32, StoreError>;
    /// Forgets the failures of `key`.
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;
}
