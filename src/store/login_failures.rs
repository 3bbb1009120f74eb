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

/// Decides from the count of the `i`-th key whether it is blocked now: the seconds
/// until the block ends, or `None`.
pub(crate) type BlockRule = Box<dyn Fn(usize, FailureCount) -> Option<u64> + Send + Sync>;

/// Failure counts keyed by an opaque subject key, shared by every instance.
#[async_trait]
pub(crate) trait LoginFailureStore: Send + Sync {
    /// In one atomic step: forgets counts whose latest failure is older than
    /// `forget_before`; if `blocked` finds any of `keys` blocked by its count,
    /// returns the longest wait and counts nothing; else counts an attempt at `now`
    /// against every key. Of concurrent attempts, each sees the ones before it.
    async fn count_attempt(
        &self,
        keys: Vec<String>,
        now: i64,
        forget_before: i64,
        blocked: BlockRule,
    ) -> Result<Option<u64>, StoreError>;
    /// Takes back one counted attempt of `key` (it was not a failure after all).
    async fn uncount_attempt(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets the failures of `key`.
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets every count whose latest failure is older than `before`; returns
    /// how many.
    async fn forget_failures_before(&self, before: i64) -> Result<u64, StoreError>;
}
