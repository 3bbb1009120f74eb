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
//!
//! While kinds of hash found in the store are being timed (when the server
//! starts, which it does after it listens, and when an import added a kind), the
//! slowest kind is not known yet: every failed check then waits until they are
//! timed, then for the target as usual. A failure of an unknown user thus never
//! answers sooner than one of a known user, whichever kind of hash that user has.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::password::HashKind;

/// Checks of each kind that the figure is taken over.
const WINDOW: usize = 32;

/// The recent check times of every kind of hash met so far.
#[derive(Clone)]
pub(crate) struct FailurePace {
    checks: Arc<Mutex<HashMap<HashKind, VecDeque<Duration>>>>,
    /// How many timings of kinds found in the store are under way.
    learning: Arc<watch::Sender<usize>>,
}

impl Default for FailurePace {
    fn default() -> Self {
        Self {
            checks: Arc::default(),
            learning: Arc::new(watch::channel(0).0),
        }
    }
}

/// Kinds of hash are being timed while this lives: failed checks wait for it to
/// be dropped (also when the timing ends early, by a panic).
pub(crate) struct Learning(Arc<watch::Sender<usize>>);

impl Drop for Learning {
    fn drop(&mut self) {
        self.0.send_modify(|timings| *timings -= 1);
    }
}

impl FailurePace {
    /// Whether checks of `kind` were timed already.
    pub(crate) fn knows(&self, kind: &HashKind) -> bool {
        self.lock().contains_key(kind)
    }

    /// Holds back every failed check from now until the [`Learning`] returned is
    /// dropped: take it before reading the kinds to time, drop it once they are.
    pub(crate) fn learning(&self) -> Learning {
        self.learning.send_modify(|timings| *timings += 1);
        Learning(self.learning.clone())
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

    /// Waits until no kind of hash is being timed, then until [`Self::target`]
    /// has passed since a failed check `started`.
    pub(crate) async fn hold_back(&self, started: Instant) {
        let mut learning = self.learning.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = learning.wait_for(|timings| *timings == 0).await;
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
        let cheap = PasswordHasher::new(1024, 1, 1)
            .unwrap()
            .hash("a")
            .unwrap()
            .kind();
        let dear = PasswordHasher::new(2048, 2, 1)
            .unwrap()
            .hash("a")
            .unwrap()
            .kind();
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

    #[tokio::test(start_paused = true)]
    async fn failures_wait_while_kinds_are_being_timed() {
        let pace = FailurePace::default();
        let (cheap, dear) = kinds();
        pace.record(cheap, Duration::from_millis(1));
        let learning = pace.learning();
        let started = Instant::now();
        let held = tokio::spawn({
            let pace = pace.clone();
            async move { pace.hold_back(started).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !held.is_finished(),
            "a failure answered before the kinds were timed"
        );
        pace.record(dear, Duration::from_secs(100));
        drop(learning);
        tokio::time::sleep(Duration::from_secs(39)).await;
        assert!(
            !held.is_finished(),
            "answered before the slowest kind's time"
        );
        let answered = tokio::time::timeout(Duration::from_secs(2), held).await;
        assert!(answered.is_ok(), "held back past the slowest kind's time");
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
