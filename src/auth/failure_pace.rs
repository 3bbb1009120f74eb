//! Failed password checks take the same time whichever hash they were checked
//! against, so the answer time does not tell which usernames exist, nor which
//! accounts still have an imported (bcrypt, older Argon2) hash.
//!
//! Every password check is timed, per [`HashKind`] (algorithm and costs). A failed
//! check is held back until the typical time of the slowest kind in use has passed
//! since it started: the 90th percentile of that kind's recent checks. An unknown
//! username (checked against a dummy hash of the current policy) and a wrong
//! password for any kind of hash thus answer after the same time. The wait runs
//! after the hash is done, outside the hashing pool, so it holds no hashing slot;
//! the attempt was counted by the throttle before its check, so holding back its
//! answer frees nothing for the client either.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::password::HashKind;

/// Checks of each kind that the figure is taken over.
const WINDOW: usize = 32;

/// The recent check times of every kind of hash met so far.
#[derive(Clone, Default)]
pub(crate) struct FailurePace {
    checks: Arc<Mutex<HashMap<HashKind, VecDeque<Duration>>>>,
}

impl FailurePace {
    /// Whether checks of `kind` were timed already.
    pub(crate) fn knows(&self, kind: &HashKind) -> bool {
        self.lock().contains_key(kind)
    }

    /// Notes that a check against a hash of `kind` took `took`.
    pub(crate) fn record(&self, kind: HashKind, took: Duration) {
        let mut checks = self.lock();
        let times = checks.entry(kind).or_default();
        if times.len() == WINDOW {
            times.pop_front();
        }
        times.push_back(took);
    }

    /// How long every failed check takes: the slowest kind's 90th percentile.
    pub(crate) fn target(&self) -> Duration {
        self.lock()
            .values()
            .map(|times| {
                let mut sorted: Vec<Duration> = times.iter().copied().collect();
                sorted.sort_unstable();
                let index = (sorted.len() * 9 / 10).min(sorted.len().saturating_sub(1));
                sorted.get(index).copied().unwrap_or_default()
            })
            .max()
            .unwrap_or_default()
    }

    /// Waits until [`Self::target`] has passed since a failed check `started`.
    pub(crate) async fn hold_back(&self, started: Instant) {
        tokio::time::sleep_until((started + self.target()).into()).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<HashKind, VecDeque<Duration>>> {
        // The map holds only timings: one left half-updated by a panic is still usable.
        self.checks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::password::PasswordHasher;

    fn kinds() -> (HashKind, HashKind) {
        let cheap = PasswordHasher::new(1024, 1, 1).unwrap().hash("a").kind();
        let dear = PasswordHasher::new(2048, 2, 1).unwrap().hash("a").kind();
        (cheap, dear)
    }

    #[test]
    fn the_target_is_the_slowest_kinds_90th_percentile() {
        let pace = FailurePace::default();
        assert_eq!(pace.target(), Duration::ZERO);
        let (cheap, dear) = kinds();
        for ms in 1..=10 {
            pace.record(cheap.clone(), Duration::from_millis(ms));
            pace.record(dear.clone(), Duration::from_millis(100 + ms));
        }
        assert!(pace.knows(&cheap) && pace.knows(&dear));
        assert_eq!(pace.target(), Duration::from_millis(110));
    }

    #[test]
    fn old_checks_leave_the_window() {
        let pace = FailurePace::default();
        let (cheap, _) = kinds();
        pace.record(cheap.clone(), Duration::from_secs(9));
        for _ in 0..WINDOW {
            pace.record(cheap.clone(), Duration::from_millis(5));
        }
        assert_eq!(pace.target(), Duration::from_millis(5));
    }
}
