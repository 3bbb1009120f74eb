//! Where a store tells this process's caches what changed, at once: the writes
//! this process commits (before the write returns), and what other writers
//! changed, as soon as it is known (PostgreSQL's notifications; on SQLite, the
//! [`ChangeCounter`] beside the file, read before anything cached is trusted).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::StoreChange;
use super::change_counter::ChangeCounter;

/// Told of every change, synchronously; it must be quick.
pub(crate) type ChangeHook = Arc<dyn Fn(&StoreChange) + Send + Sync>;

/// The changes of one store, for the caches of this process.
pub(crate) struct ChangeHub {
    hooks: RwLock<Vec<ChangeHook>>,
    /// SQLite's counter shared with the other processes on the file, if any.
    counter: Option<ChangeCounter>,
    /// The count this process last accounted for.
    seen: AtomicU64,
    /// False while other writers' changes could go unheard (PostgreSQL's feed is
    /// reconnecting): nothing cached may be trusted then.
    hearing: AtomicBool,
}

impl ChangeHub {
    /// A hub for a database only this process can open (SQLite in memory).
    pub(crate) fn new() -> Self {
        Self::with(None)
    }

    /// A hub that hears of other writers' changes only once a listener says
    /// [`Self::set_hearing`] (PostgreSQL's feed).
    pub(crate) fn deaf() -> Self {
        let hub = Self::with(None);
        hub.hearing.store(false, Ordering::Release);
        hub
    }

    /// A hub that learns of other processes' writes through `counter`.
    pub(crate) fn with_counter(counter: ChangeCounter) -> Self {
        Self::with(Some(counter))
    }

    fn with(counter: Option<ChangeCounter>) -> Self {
        let seen = counter
            .as_ref()
            .and_then(|c| c.read().ok())
            .unwrap_or_default();
        Self {
            hooks: RwLock::new(Vec::new()),
            counter,
            seen: AtomicU64::new(seen),
            hearing: AtomicBool::new(true),
        }
    }

    /// Calls `hook` with every change from now on.
    pub(crate) fn watch(&self, hook: ChangeHook) {
        self.hooks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(hook);
    }

    /// Whether other writers' changes are being heard: what is cached may be
    /// trusted only then. Call [`Self::catch_up`] first.
    pub(crate) fn is_hearing(&self) -> bool {
        self.hearing.load(Ordering::Acquire)
    }

    /// Learns whether another process changed anything since this one last
    /// looked (SQLite's counter): if so, the hooks are told that changes were
    /// missed. Call it before trusting anything cached, and after caching a read.
    pub(crate) fn catch_up(&self) {
        let Some(counter) = &self.counter else {
            return;
        };
        let now = counter.read().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the change counter");
            // Unreadable: never equal to what was seen, so nothing stays cached.
            self.seen.load(Ordering::Acquire).wrapping_add(1)
        });
        if self.seen.swap(now, Ordering::AcqRel) != now {
            self.tell(&StoreChange::Missed);
        }
    }

    /// This process committed `change`: tells the hooks, and the other processes
    /// on the same database file.
    pub(crate) fn wrote(&self, change: StoreChange) {
        self.tell(&change);
        let Some(counter) = &self.counter else {
            return;
        };
        match counter.increment() {
            // Unless the count was the one this process had seen, someone else
            // changed something since it last looked.
            Ok(before) => {
                let after = before.wrapping_add(1);
                if self
                    .seen
                    .compare_exchange(before, after, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    self.tell(&StoreChange::Missed);
                    self.seen.store(after, Ordering::Release);
                }
            }
            Err(e) => tracing::warn!(
                error = %e,
                "cannot bump the change counter: other processes on this database may answer from stale caches until their entries expire"
            ),
        }
    }

    /// Another writer changed something (a notification).
    pub(crate) fn heard(&self, change: &StoreChange) {
        self.tell(change);
    }

    /// Whether other writers' changes are heard from now on. Turning it on tells
    /// the hooks that changes may have been missed meanwhile.
    pub(crate) fn set_hearing(&self, hearing: bool) {
        self.hearing.store(hearing, Ordering::Release);
        self.tell(&StoreChange::Missed);
    }

    fn tell(&self, change: &StoreChange) {
        let hooks = self
            .hooks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for hook in hooks.iter() {
            hook(change);
        }
    }
}

impl Default for ChangeHub {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn recorded(hub: &ChangeHub) -> Arc<Mutex<Vec<StoreChange>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        hub.watch(Arc::new(move |change| {
            sink.lock().unwrap().push(change.clone())
        }));
        seen
    }

    #[test]
    fn a_process_learns_of_another_processes_write_but_not_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("latchkey.db");
        std::fs::write(&database, b"").unwrap();
        let one = ChangeHub::with_counter(ChangeCounter::open(&database).unwrap());
        let other = ChangeHub::with_counter(ChangeCounter::open(&database).unwrap());
        let (told_one, told_other) = (recorded(&one), recorded(&other));

        one.wrote(StoreChange::SessionEnded("s".into()));
        one.catch_up();
        assert_eq!(
            *told_one.lock().unwrap(),
            [StoreChange::SessionEnded("s".into())]
        );

        other.catch_up();
        assert_eq!(*told_other.lock().unwrap(), [StoreChange::Missed]);
        other.catch_up();
        assert_eq!(told_other.lock().unwrap().len(), 1, "told once");

        // A write after another process's unseen one: told of both.
        one.wrote(StoreChange::UserChanged("a".into()));
        other.wrote(StoreChange::UserChanged("b".into()));
        assert_eq!(
            told_other.lock().unwrap()[1..],
            [StoreChange::UserChanged("b".into()), StoreChange::Missed]
        );
    }
}
