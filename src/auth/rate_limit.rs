//! Request rates per key (a refresh family, a client network), counted in this
//! instance's memory by `governor`'s GCRA: cheap enough to check before any
//! database work. With several instances each counts on its own, so the
//! effective limit is the instance count times the configured one. Keys idle for
//! a whole period are dropped by [`RateLimit::forget_idle`].

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// How many requests of a kind a key may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RatePolicy {
    /// Refresh grants a minute per refresh family (session).
    pub refresh_per_session_minute: u32,
    /// Refresh grants a minute per client network.
    pub refresh_per_address_minute: u32,
    /// Sign-ups an hour per client network.
    pub signup_per_address_hour: u32,
}

/// At most a number of requests per period for each key, in bursts of up to that
/// number.
#[derive(Clone)]
pub(crate) struct RateLimit<K: Hash + Eq + Clone> {
    limiter: Arc<DefaultKeyedRateLimiter<K>>,
}

/// A request over its key's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverRate {
    /// Seconds until the key may make a request again (at least 1).
    pub retry_after: u64,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// `per_minute` requests a minute (at least 1) per key.
    pub(crate) fn per_minute(per_minute: u32) -> Self {
        Self::with(Quota::per_minute(at_least_one(per_minute)))
    }

    /// `per_hour` requests an hour (at least 1) per key.
    pub(crate) fn per_hour(per_hour: u32) -> Self {
        Self::with(Quota::per_hour(at_least_one(per_hour)))
    }

    fn with(quota: Quota) -> Self {
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
        }
    }

    /// Counts a request of `key`, or refuses it if the key is over its rate.
    pub(crate) fn check(&self, key: &K) -> Result<(), OverRate> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            OverRate {
                retry_after: wait.as_secs() + 1,
            }
        })
    }

    /// Drops the keys that are back to a full allowance, so memory follows the
    /// recently active keys only.
    pub(crate) fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_key_over_its_rate_and_counts_keys_apart() {
        let limit = RateLimit::per_minute(2);
        assert_eq!(limit.check(&"a"), Ok(()));
        assert_eq!(limit.check(&"a"), Ok(()));
        let refused = limit.check(&"a").unwrap_err();
        assert!((1..=31).contains(&refused.retry_after), "{refused:?}");
        assert_eq!(
            limit.check(&"b"),
            Ok(()),
            "another key has its own allowance"
        );
    }
}
