//! A limit on concurrent password hashing: each Argon2 computation takes 64 MiB
//! and a core, so at most a fixed number run at once and a bounded number wait.
//! Beyond that, logins are turned away at once instead of piling up.
//!
//! Each pool reports its queue (`latchkey_password_hash_queue_depth`), how long
//! hashes waited for a slot (`latchkey_password_hash_wait_seconds`) and how many
//! were refused (`latchkey_password_hash_refused_total`), labelled with its name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::Semaphore;

use super::password::run_blocking;

/// Hashing was refused: every slot is taken and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is at capacity")]
pub(crate) struct Busy;

/// Slots for password hashing, with a bounded queue.
#[derive(Clone)]
pub(crate) struct HashingPool {
    name: &'static str,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
}

impl HashingPool {
    /// `concurrency` computations at once (0: one per CPU core), `queue` waiting;
    /// `name` labels its metrics.
    pub(crate) fn new(name: &'static str, concurrency: usize, queue: usize) -> Self {
        let concurrency = match concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Self {
            name,
            slots: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue,
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, or refuses at once if
    /// the queue is full.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let arrived = Instant::now();
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
                let _leave = LeaveQueue::new(&self.waiting, self.name);
                if ahead >= self.queue {
                    metrics::counter!("latchkey_password_hash_refused_total", "pool" => self.name)
                        .increment(1);
                    return Err(Busy);
                }
                self.slots.clone().acquire_owned().await.map_err(|_| Busy)?
            }
        };
        metrics::histogram!("latchkey_password_hash_wait_seconds", "pool" => self.name)
            .record(arrived.elapsed().as_secs_f64());
        // The slot goes with the computation, not with this future: a request
        // cancelled while its hash runs keeps the slot taken until the hash is done,
        // so cancelled requests cannot start more hashes than there are slots.
        Ok(run_blocking(move || {
            let _slot = permit;
            work()
        })
        .await)
    }
}

/// The hashing slots of logins and those of sign-ups, apart: a flood of sign-ups
/// fills its own slots and queue, never the logins'.
#[derive(Clone)]
pub(crate) struct Hashing {
    /// For password checks (logins, HTTP Basic) and hash upgrades.
    pub logins: HashingPool,
    /// For sign-ups: the password strength estimate and the new hash.
    pub sign_ups: HashingPool,
}

/// A place in the queue (counted in the queue-depth gauge): left when dropped,
/// also when the waiting request is cancelled.
struct LeaveQueue<'a> {
    waiting: &'a AtomicUsize,
    depth: metrics::Gauge,
}

impl<'a> LeaveQueue<'a> {
    fn new(waiting: &'a AtomicUsize, pool: &'static str) -> Self {
        let depth = metrics::gauge!("latchkey_password_hash_queue_depth", "pool" => pool);
        depth.increment(1.0);
        Self { waiting, depth }
    }
}

impl Drop for LeaveQueue<'_> {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        self.depth.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_when_slots_and_queue_are_full() {
        let pool = HashingPool::new("test", 1, 1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || wait.recv().ok()).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.run(|| 3).await, Err(Busy));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(Some(())));
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_request_keeps_its_slot_until_its_hash_is_done() {
        let pool = HashingPool::new("test", 1, 0);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let request = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started.send(()).unwrap();
                    wait.recv().ok()
                })
                .await
            }
        });
        running.recv().unwrap();
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(pool.run(|| 2).await, Err(Busy), "the slot was freed early");
        release.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.run(|| 3).await, Ok(3));
    }
}
