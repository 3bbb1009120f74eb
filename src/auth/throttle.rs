//! The login throttle: failed logins per account and per client address, kept in
//! the store so every instance and every restart sees them.
//!
//! Once a subject has had its allowed number of failures, each failure blocks it
//! for a while that doubles with every further failure, up to a ceiling; a quiet
//! period forgets the failures. While a subject is blocked, every login for it is
//! refused, a right password included, without the password being checked.
//!
//! An attempt is counted as a failure before its password is checked, in the same
//! atomic step as the check ([`Throttle::reserve`]), and taken back once it turns
//! out right: a burst of concurrent attempts cannot all pass the check before any
//! is counted, and a client that hangs up before its answer still made its
//! attempt.

use std::net::IpAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::clock::unix_now;
use crate::store::{FailureCount, Store, StoreError};

/// How hard the throttle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ThrottlePolicy {
    /// Failures after which an account is blocked (at least 1).
    pub account_failures: u32,
    /// Failures after which a client address is blocked (at least 1).
    pub address_failures: u32,
    /// Failures after which a trusted device (its device cookie) is blocked (at
    /// least 1).
    pub device_failures: u32,
    /// The first block, in seconds.
    pub base_seconds: u64,
    /// The longest block, in seconds.
    pub max_seconds: u64,
    /// Seconds without a failure after which a subject's failures are forgotten.
    pub reset_seconds: u64,
}

impl ThrottlePolicy {
    /// How long a subject with `failures` failures is blocked after its latest one,
    /// in seconds, when `allowed` failures block it.
    pub(crate) fn block_seconds(&self, failures: u32, allowed: u32) -> u64 {
        let Some(doublings) = failures.checked_sub(allowed.max(1)) else {
            return 0;
        };
        let factor = 1u64.checked_shl(doublings).unwrap_or(u64::MAX);
        self.base_seconds
            .saturating_mul(factor)
            .min(self.max_seconds)
    }
}

/// Someone the throttle counts failures of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// The account a login names (known or not: unknown ones are counted alike).
    Account(&'a str),
    /// The client's address; IPv6 clients are counted per /64 network, as one host
    /// usually has the whole network.
    Address(IpAddr),
    /// A browser the account trusts, by the stored hash of its device cookie: its
    /// logins for that account are counted here instead of against the account, so
    /// failures from elsewhere cannot lock it out (see [`super::devices`]).
    Device(&'a str),
}

impl Subject<'_> {
    /// The store key: a hash, so the store holds neither usernames nor addresses.
    fn key(&self) -> String {
        let text = match self {
            Subject::Account(name) => format!("account\0{name}"),
            Subject::Address(ip) => format!("address\0{}", network_of(*ip)),
            Subject::Device(hash) => format!("device\0{hash}"),
        };
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    fn allowed_failures(&self, policy: &ThrottlePolicy) -> u32 {
        match self {
            Subject::Account(_) => policy.account_failures,
            Subject::Address(_) => policy.address_failures,
            Subject::Device(_) => policy.device_failures,
        }
    }
}

/// The address itself for IPv4 (also when IPv4-mapped), the /64 network for IPv6:
/// how clients are told apart, as one host usually has a whole IPv6 /64.
pub(crate) fn network_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// A refusal because a subject is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked {
    /// Seconds until the block ends (at least 1).
    pub retry_after: u64,
}

/// Outcome of asking the throttle.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ThrottleError {
    /// A subject is blocked.
    #[error("blocked for {} s", .0.retry_after)]
    Blocked(Blocked),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The throttle over a store.
#[derive(Clone)]
pub(crate) struct Throttle {
    store: Arc<dyn Store>,
    policy: ThrottlePolicy,
}

impl Throttle {
    /// A throttle keeping its counts in `store`.
    pub(crate) fn new(store: Arc<dyn Store>, policy: ThrottlePolicy) -> Self {
        Self { store, policy }
    }

    fn forget_before(&self, now: i64) -> i64 {
        now.saturating_sub(i64::try_from(self.policy.reset_seconds).unwrap_or(i64::MAX))
    }

    /// Counts an attempt against every one of `subjects` before it is made, in one
    /// atomic step with the check: refused, and counted against none, if any of
    /// them is blocked now. A client that drops its request after this has still
    /// made its attempt; of concurrent attempts, each is checked against the ones
    /// counted before it.
    pub(crate) async fn reserve(&self, subjects: &[Subject<'_>]) -> Result<(), ThrottleError> {
        let now = unix_now();
        let keys: Vec<String> = subjects.iter().map(Subject::key).collect();
        let policy = self.policy;
        let allowed: Vec<u32> = subjects
            .iter()
            .map(|subject| subject.allowed_failures(&policy))
            .collect();
        let blocked = move |index: usize, count: FailureCount| {
            let block = policy.block_seconds(count.failures, allowed[index]);
            // Under its allowance a subject is never blocked, even when the latest
            // failure was counted a moment "after" `now` (by a request that read the
            // clock later, or another instance's clock).
            if block == 0 {
                return None;
            }
            let until = count
                .last_failure_at
                .saturating_add(i64::try_from(block).unwrap_or(i64::MAX));
            (until > now).then(|| u64::try_from(until - now).unwrap_or(u64::MAX))
        };
        match self
            .store
            .count_attempt(keys, now, self.forget_before(now), Box::new(blocked))
            .await?
        {
            Some(retry_after) => Err(ThrottleError::Blocked(Blocked { retry_after })),
            None => Ok(()),
        }
    }

    /// Takes back the reserved attempt of `subject`: it was not a failure.
    pub(crate) async fn release(&self, subject: Subject<'_>) -> Result<(), StoreError> {
        self.store.uncount_attempt(&subject.key()).await
    }

    /// Deletes the counts that are forgotten already (no failure for the reset
    /// period); returns how many.
    pub(crate) async fn delete_forgotten(&self) -> Result<u64, StoreError> {
        self.store
            .forget_failures_before(self.forget_before(unix_now()))
            .await
    }

    /// Forgets every failure of `subject` (an account whose password was right).
    pub(crate) async fn forget(&self, subject: Subject<'_>) -> Result<(), StoreError> {
        self.store.clear_failures(&subject.key()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        account_failures: 5,
        address_failures: 20,
        device_failures: 3,
        base_seconds: 30,
        max_seconds: 900,
        reset_seconds: 43_200,
    };

    #[test]
    fn failures_below_the_limit_do_not_block() {
        for failures in 0..5 {
            assert_eq!(POLICY.block_seconds(failures, 5), 0, "{failures}");
        }
    }

    #[test]
    fn blocks_double_up_to_the_ceiling() {
        let blocks: Vec<u64> = (5..=12).map(|n| POLICY.block_seconds(n, 5)).collect();
        assert_eq!(blocks, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(POLICY.block_seconds(u32::MAX, 5), 900);
    }

    #[test]
    fn ipv6_clients_are_counted_per_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(
            Subject::Address(a).key(),
            Subject::Address(b).key(),
            "same /64"
        );
        assert_ne!(Subject::Address(a).key(), Subject::Address(other).key());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(Subject::Address(mapped).key(), Subject::Address(v4).key());
    }

    #[test]
    fn accounts_addresses_and_devices_never_share_a_key() {
        assert_ne!(
            Subject::Account("127.0.0.1").key(),
            Subject::Address("127.0.0.1".parse().unwrap()).key()
        );
        assert_ne!(Subject::Account("ab").key(), Subject::Device("ab").key());
    }
}
