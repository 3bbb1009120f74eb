//! The sessions and users that authorizing a request reads, kept in memory so
//! that a request with a token needs no database round trip, while every check
//! is still made on every request (the session not ended, the user not
//! disabled, their scopes current).
//!
//! Nothing cached outlives a change: the store's [`ChangeHub`] tells this cache of
//! every write this process commits before the write returns, and of other
//! writers' changes as soon as they are known (PostgreSQL's notifications; the
//! change counter beside a SQLite file, read before every look). While other
//! writers cannot be heard (a PostgreSQL feed reconnecting), the cache is not
//! used. The cache is small and bounded (least used entries go first), and an
//! entry is read again after a short safety expiry whatever happens. Only what
//! exists is cached: a flood of unknown ids costs reads, never memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use crate::store::{ChangeHub, SessionRecord, Store, StoreChange, StoreError, UserRecord};

/// How much is cached, and for how long at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CachePolicy {
    /// Sessions (and, as many, users) kept at most; 0 turns the cache off.
    pub entries: usize,
    /// An entry is read again from the store once it is this old.
    pub max_age: Duration,
}

/// Recently read sessions and users.
#[derive(Clone)]
pub(crate) struct AuthorizationCache {
    store: Arc<dyn Store>,
    cached: Option<Arc<Entries>>,
}

struct Entries {
    sessions: Cache<String, Entry<SessionRecord>>,
    users: Cache<String, Entry<UserRecord>>,
    /// Goes up before anything is forgotten: a read that began before a change
    /// must not cache what it read.
    changes: AtomicU64,
    max_age: Duration,
}

struct Entry<T> {
    value: Arc<T>,
    read_at: Instant,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            read_at: self.read_at,
        }
    }
}

impl AuthorizationCache {
    /// A cache of `store`'s sessions and users, told of changes by its hub.
    pub(crate) fn new(store: Arc<dyn Store>, policy: CachePolicy) -> Self {
        let cached = (policy.entries > 0).then(|| {
            Arc::new(Entries {
                sessions: Cache::new(policy.entries),
                users: Cache::new(policy.entries),
                changes: AtomicU64::new(0),
                max_age: policy.max_age,
            })
        });
        if let Some(entries) = &cached {
            // The hub holds the entries weakly: a dropped cache is not kept alive.
            let entries = Arc::downgrade(entries);
            store
                .change_hub()
                .watch(Arc::new(move |change: &StoreChange| {
                    if let Some(entries) = entries.upgrade() {
                        entries.forget(change);
                    }
                }));
        }
        Self { store, cached }
    }

    /// The cache for one request's reads, once it has learnt of any change
    /// another process made (one read of SQLite's change counter): its hooks, the
    /// keyring's among them, have been told by the time this returns.
    pub(crate) fn caught_up(&self) -> CaughtUp<'_> {
        let hub = self.store.change_hub();
        hub.catch_up();
        CaughtUp {
            store: self.store.as_ref(),
            // Only if the cache is on and other writers' changes are heard.
            entries: self.cached.as_deref().filter(|_| hub.is_hearing()),
        }
    }
}

/// See [`AuthorizationCache::caught_up`].
pub(crate) struct CaughtUp<'a> {
    store: &'a dyn Store,
    entries: Option<&'a Entries>,
}

impl CaughtUp<'_> {
    /// The session with this id.
    pub(crate) async fn session(&self, id: &str) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let read = async { self.store.find_session(id).await };
        match self.entries {
            Some(entries) => {
                let hub = self.store.change_hub();
                entries.get_or_read(&entries.sessions, id, read, hub).await
            }
            None => Ok(read.await?.map(Arc::new)),
        }
    }

    /// The user with exactly this username.
    pub(crate) async fn user(&self, username: &str) -> Result<Option<Arc<UserRecord>>, StoreError> {
        let read = async { self.store.find_user(username).await };
        match self.entries {
            Some(entries) => {
                let hub = self.store.change_hub();
                entries
                    .get_or_read(&entries.users, username, read, hub)
                    .await
            }
            None => Ok(read.await?.map(Arc::new)),
        }
    }
}

impl Entries {
    async fn get_or_read<T>(
        &self,
        cache: &Cache<String, Entry<T>>,
        key: &str,
        read: impl Future<Output = Result<Option<T>, StoreError>>,
        hub: &ChangeHub,
    ) -> Result<Option<Arc<T>>, StoreError> {
        if let Some(entry) = cache.get(key)
            && entry.read_at.elapsed() < self.max_age
        {
            return Ok(Some(entry.value));
        }
        let before = self.changes.load(Ordering::Acquire);
        let Some(value) = read.await?.map(Arc::new) else {
            return Ok(None);
        };
        cache.insert(
            key.to_owned(),
            Entry {
                value: value.clone(),
                read_at: Instant::now(),
            },
        );
        // A change made while this was read (here or, learnt now, elsewhere) was
        // forgotten before this entry went in: it goes too.
        hub.catch_up();
        if self.changes.load(Ordering::Acquire) != before {
            cache.remove(key);
        }
        Ok(Some(value))
    }

    fn forget(&self, change: &StoreChange) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        match change {
            StoreChange::SessionEnded(id) => {
                self.sessions.remove(id.as_str());
            }
            StoreChange::UserChanged(name) if !name.is_empty() => {
                self.users.remove(name.as_str());
                self.sessions
                    .retain(|_, entry| entry.value.username != *name);
            }
            StoreChange::KeysChanged => {}
            StoreChange::UserChanged(_) | StoreChange::Missed => {
                self.users.clear();
                self.sessions.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(capacity: usize, max_age: Duration) -> Entries {
        Entries {
            sessions: Cache::new(capacity),
            users: Cache::new(capacity),
            changes: AtomicU64::new(0),
            max_age,
        }
    }

    /// Reads `key` through the users' cache, the read answering `value` and
    /// doing `meanwhile` first; returns what was answered.
    async fn read_user(
        cached: &Entries,
        hub: &ChangeHub,
        key: &str,
        value: &str,
        meanwhile: impl FnOnce(),
    ) -> Option<String> {
        let read = async {
            meanwhile();
            Ok(Some(user(value)))
        };
        let found = cached.get_or_read(&cached.users, key, read, hub).await;
        found
            .unwrap()
            .map(|u| u.full_name.clone().unwrap_or_default())
    }

    fn user(full_name: &str) -> UserRecord {
        UserRecord {
            username: "nina".into(),
            email: None,
            full_name: Some(full_name.into()),
            disabled: false,
            // FastAPI's example hash of "secret".
            password_hash: crate::auth::password::PasswordHash::parse(
                "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
            )
            .unwrap(),
            scopes: crate::auth::ScopeSet::all(),
            credentials_version: 0,
        }
    }

    #[tokio::test]
    async fn a_change_made_while_a_read_was_in_flight_is_not_cached() {
        let (cached, hub) = (entries(16, Duration::from_secs(60)), ChangeHub::new());
        let stale = read_user(&cached, &hub, "nina", "old", || {
            cached.forget(&StoreChange::UserChanged("nina".into()));
        })
        .await;
        assert_eq!(stale.as_deref(), Some("old"), "the read itself answers");
        let next = read_user(&cached, &hub, "nina", "new", || {}).await;
        assert_eq!(next.as_deref(), Some("new"), "read again, not served stale");
    }

    #[tokio::test]
    async fn what_is_cached_is_served_until_it_changes_or_ages() {
        let (cached, hub) = (entries(16, Duration::from_secs(60)), ChangeHub::new());
        read_user(&cached, &hub, "nina", "first", || {}).await;
        let served = read_user(&cached, &hub, "nina", "second", || {}).await;
        assert_eq!(served.as_deref(), Some("first"), "from memory");
        cached.forget(&StoreChange::UserChanged("nina".into()));
        let served = read_user(&cached, &hub, "nina", "third", || {}).await;
        assert_eq!(served.as_deref(), Some("third"), "forgotten on a change");
        cached.forget(&StoreChange::Missed);
        let served = read_user(&cached, &hub, "nina", "fourth", || {}).await;
        assert_eq!(
            served.as_deref(),
            Some("fourth"),
            "forgotten on missed changes"
        );

        let ageing = entries(16, Duration::ZERO);
        read_user(&ageing, &hub, "nina", "first", || {}).await;
        let served = read_user(&ageing, &hub, "nina", "second", || {}).await;
        assert_eq!(served.as_deref(), Some("second"), "read again once aged");
    }

    #[tokio::test]
    async fn a_flood_of_keys_stays_within_the_bound() {
        let (cached, hub) = (entries(64, Duration::from_secs(60)), ChangeHub::new());
        for i in 0..10_000 {
            read_user(&cached, &hub, &format!("user{i}"), "x", || {}).await;
        }
        assert!(cached.users.len() <= 64, "{} entries", cached.users.len());
    }
}
