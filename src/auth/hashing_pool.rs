//! A limit on concurrent password hashing: each Argon2 computation takes 64 MiB
//! and a core, so at most a fixed number run at once and a bounded number wait.
//! Beyond that, logins are turned away at once instead of piling up.
//!
//! The slots keep their Argon2 memory between hashes (at most one memory a slot,
//! so the bound stays concurrency × 64 MiB), and give it back to the system once
//! no hash has run for [`MEMORY_KEPT_IDLE`].
//!
//! Each pool reports its queue (`latchkey_password_hash_queue_depth`), how long
//! hashes waited for a slot (`latchkey_password_hash_wait_seconds`) and how many
//! were refused (`latchkey_password_hash_refused_total`) and the memory its idle
//! slots keep (`latchkey_password_hash_memory_kept_bytes`), labelled with its name.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::password::{HashMemory, on_hashing_thread};

/// How long the slots keep their memory after the last hash.
pub(crate) const MEMORY_KEPT_IDLE: Duration = Duration::from_secs(5);

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
    memory: Arc<KeptMemory>,
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
            memory: Arc::new(KeptMemory::new(name)),
        }
    }

    /// Runs `work` on the blocking pool once a slot is free, or refuses at once if
    /// the queue is full. `work` is lent the slot's Argon2 memory.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
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
        let kept = self.memory.clone();
        on_hashing_thread(move || {
            let _slot = permit;
            let mut memory = kept.take();
            let value = work(&mut memory);
            kept.give_back(memory);
            value
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, pool = self.name, "password hashing refused");
            Busy
        })
    }

    /// How many bytes of Argon2 memory the idle slots keep.
    #[cfg(test)]
    fn memory_kept(&self) -> usize {
        self.memory.lock().free.iter().map(HashMemory::bytes).sum()
    }
}

/// The Argon2 memory of the slots that are not hashing. There is never more of
/// it than slots: a memory is taken with a slot and given back with it.
struct KeptMemory {
    state: Mutex<Kept>,
    pool: &'static str,
}

struct Kept {
    free: Vec<HashMemory>,
    last_used: tokio::time::Instant,
    /// Whether a task is on its way to give the memory back once idle.
    trimming: bool,
}

impl KeptMemory {
    fn new(pool: &'static str) -> Self {
        Self {
            state: Mutex::new(Kept {
                free: Vec::new(),
                last_used: tokio::time::Instant::now(),
                trimming: false,
            }),
            pool,
        }
    }

    /// The gauge of the memory kept (looked up when used: the metrics recorder
    /// may be installed after the pools are made).
    fn gauge(&self) -> metrics::Gauge {
        metrics::gauge!("latchkey_password_hash_memory_kept_bytes", "pool" => self.pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // Only memory is kept there: a panic cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A kept memory, or a new empty one (it grows on first use).
    fn take(&self) -> HashMemory {
        let mut kept = self.lock();
        let memory = kept.free.pop().unwrap_or_default();
        self.gauge().decrement(memory.bytes() as f64);
        memory
    }

    /// Keeps `memory` for the next hash, and makes sure it is given back to the
    /// system once idle. (Called from a hashing thread, inside the runtime.)
    fn give_back(self: &Arc<Self>, memory: HashMemory) {
        let mut kept = self.lock();
        self.gauge().increment(memory.bytes() as f64);
        kept.free.push(memory);
        kept.last_used = tokio::time::Instant::now();
        if !kept.trimming
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            kept.trimming = true;
            runtime.spawn(self.clone().trim_when_idle());
        }
    }

    /// Frees the kept memory once no hash has run for [`MEMORY_KEPT_IDLE`].
    async fn trim_when_idle(self: Arc<Self>) {
        let mut wait = MEMORY_KEPT_IDLE;
        loop {
            tokio::time::sleep(wait).await;
            let freed = {
                let mut kept = self.lock();
                let idle = kept.last_used.elapsed();
                if idle < MEMORY_KEPT_IDLE {
                    wait = MEMORY_KEPT_IDLE - idle;
                    continue;
                }
                kept.trimming = false;
                std::mem::take(&mut kept.free)
            };
            for memory in &freed {
                self.gauge().decrement(memory.bytes() as f64);
            }
            // Dropped here, outside the lock.
            return;
        }
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
    use crate::auth::password::PasswordHasher;

    /// The memory of one hash of `hasher`'s (1 MiB).
    const ONE_MEMORY: usize = 1024 * 1024;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(1024, 1, 1).unwrap()
    }

    /// Hashes in a slot of `pool`; returns how much memory the slot lent it.
    async fn hash_in_slot(pool: &HashingPool) -> usize {
        let hasher = hasher();
        pool.run(move |memory| {
            let lent = memory.bytes();
            hasher.hash_in("pw", memory).unwrap();
            lent
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slot_keeps_its_memory_for_the_next_hash() {
        let pool = HashingPool::new("test", 1, 4);
        assert_eq!(hash_in_slot(&pool).await, 0, "the first hash allocates");
        assert_eq!(pool.memory_kept(), ONE_MEMORY);
        assert_eq!(hash_in_slot(&pool).await, ONE_MEMORY, "the next reuses it");
        assert_eq!(pool.memory_kept(), ONE_MEMORY);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_memory_is_kept_than_there_are_slots() {
        let pool = HashingPool::new("test", 2, 16);
        let hashes: Vec<_> = (0..12)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { hash_in_slot(&pool).await })
            })
            .collect();
        let mut allocated = 0;
        for hash in hashes {
            if hash.await.unwrap() == 0 {
                allocated += 1;
            }
        }
        assert!(allocated <= 2, "{allocated} hashes allocated their memory");
        assert!(pool.memory_kept() <= 2 * ONE_MEMORY);
    }

    #[tokio::test(start_paused = true)]
    async fn the_memory_is_given_back_once_no_hash_ran_for_a_while() {
        let pool = HashingPool::new("test", 1, 4);
        hash_in_slot(&pool).await;
        tokio::time::sleep(MEMORY_KEPT_IDLE / 2).await;
        hash_in_slot(&pool).await;
        tokio::time::sleep(MEMORY_KEPT_IDLE * 3 / 4).await;
        assert_eq!(
            pool.memory_kept(),
            ONE_MEMORY,
            "idle for less than the period"
        );
        tokio::time::sleep(MEMORY_KEPT_IDLE / 2).await;
        assert_eq!(pool.memory_kept(), 0);
        // And the next hash allocates again, then keeps its memory again.
        assert_eq!(hash_in_slot(&pool).await, 0);
        tokio::time::sleep(MEMORY_KEPT_IDLE * 2).await;
        assert_eq!(pool.memory_kept(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_when_slots_and_queue_are_full() {
        let pool = HashingPool::new("test", 1, 1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move |_| wait.recv().ok()).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|_| 2).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.run(|_| 3).await, Err(Busy));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(Some(())));
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(pool.run(|_| 4).await, Ok(4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_request_keeps_its_slot_until_its_hash_is_done() {
        let pool = HashingPool::new("test", 1, 0);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let request = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move |_| {
                    started.send(()).unwrap();
                    wait.recv().ok()
                })
                .await
            }
        });
        running.recv().unwrap();
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(pool.run(|_| 2).await, Err(Busy), "the slot was freed early");
        release.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.run(|_| 3).await, Ok(3));
    }
}
