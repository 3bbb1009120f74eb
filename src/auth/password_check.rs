//! The password check of a login: throttled, paced, and aware of trusted devices.
//!
//! An attempt is counted before its password is checked, in one atomic step with
//! the throttle's decision, against the client's address and against either the
//! account or, when the browser presents a device cookie issued to that account,
//! that device ([`super::devices`]): failures from elsewhere block the account, not
//! a browser the account has signed in with before. A right password takes the
//! attempt back (and forgets the failures of the account or device); a wrong one
//! is answered only after the time every failed check takes
//! ([`super::failure_pace`]).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::accounts::Accounts;
use super::devices::{DeviceCookie, Devices, TrustedDevice};
use super::error::AuthError;
use super::failure_pace::FailurePace;
use super::hashing_pool::{Busy, HashingPool};
use super::password::{HashMemory, PasswordHash, Verdict, on_hashing_thread};
use super::throttle::{Subject, Throttle};
use crate::store::{StoreError, UserRecord};

/// Checks of each kind of stored hash timed when the server starts (and when an
/// import added a kind), so the pace knows every kind in use: failed logins wait
/// until they are done.
const CALIBRATION_CHECKS: usize = 3;

/// A login whose password was right.
#[derive(Debug)]
pub(crate) struct CheckedLogin {
    /// The user.
    pub user: UserRecord,
    /// The device it was made from, if the account trusts it.
    pub device: Option<TrustedDevice>,
}

/// Password checks of logins.
#[derive(Clone)]
pub(crate) struct PasswordCheck {
    accounts: Accounts,
    throttle: Throttle,
    hashing: HashingPool,
    devices: Devices,
    pace: FailurePace,
    /// Checked when the username is unknown, so that costs the same as a wrong password.
    dummy_hash: PasswordHash,
}

impl PasswordCheck {
    /// Password checks of `accounts`' users.
    pub(crate) fn new(
        accounts: Accounts,
        throttle: Throttle,
        hashing: HashingPool,
        devices: Devices,
    ) -> Self {
        let dummy_hash = accounts.hasher().unmatchable_hash();
        Self {
            accounts,
            throttle,
            hashing,
            devices,
            pace: FailurePace::default(),
            dummy_hash,
        }
    }

    /// The device cookies.
    pub(crate) fn devices(&self) -> &Devices {
        &self.devices
    }

    /// The user if `password` is theirs. Refused while the account (or, with a
    /// device cookie issued to this account, that device) or `client` is
    /// throttled; otherwise costs one hash check whether or not the user exists,
    /// counts a failure, and moves a hash of other parameters to the current one.
    pub(crate) async fn check(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
        device: Option<&DeviceCookie>,
    ) -> Result<Option<CheckedLogin>, AuthError> {
        let device = self.devices.trusted_for(device, username).await?;
        let guard = match &device {
            Some(device) => Subject::Device(device.hash()),
            None => Subject::Account(username),
        };
        let address = Subject::Address(client);
        if let Err(refusal) = self.throttle.reserve(&[guard, address]).await {
            let trusted = device.is_some();
            tracing::info!(username, %client, trusted, "login refused by the throttle");
            return Err(refusal.into());
        }
        let user = self.accounts.find(username).await?;
        let hash = user
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let (verdict, started) = match self.timed_check(password, hash).await {
            Ok(checked) => checked,
            Err(busy) => {
                // No password was checked: the attempt reserved is given back, or
                // an overloaded server would lock its users out.
                self.throttle.release(guard).await?;
                self.throttle.release(address).await?;
                return Err(busy.into());
            }
        };
        let Some(user) = user.filter(|_| verdict.is_match()) else {
            // Counted already, by the reservation; the answer waits like every failure's.
            tracing::info!(username, %client, "failed login");
            self.pace.hold_back(started).await;
            return Ok(None);
        };
        // A trusted device forgets its own failures only: the victim signing in
        // does not lift the block that an attacker elsewhere earned the account.
        self.throttle.forget(guard).await?;
        self.throttle.release(address).await?;
        if verdict == Verdict::MatchNeedsRehash && !user.disabled {
            self.rehash(&user, password).await;
        }
        Ok(Some(CheckedLogin { user, device }))
    }

    /// Reads which kinds of hash the store holds that the pace has not timed yet
    /// (the dummy hash's among them), and times checks of them in the
    /// background: failed logins wait until that is done. Returns once the kinds
    /// are read. The server calls this before it listens, and now and then.
    pub(crate) async fn learn_hash_kinds(&self) -> Result<(), StoreError> {
        let learning = self.pace.learning();
        let mut hashes = vec![self.dummy_hash.clone()];
        hashes.extend(self.accounts.one_hash_of_each_kind().await?);
        let mut kinds = BTreeSet::new();
        hashes.retain(|hash| {
            let kind = hash.kind();
            !self.pace.knows(&kind) && kinds.insert(kind)
        });
        if hashes.is_empty() {
            return Ok(());
        }
        let check = self.clone();
        tokio::spawn(async move {
            let _learning = learning;
            // Kept from one check to the next, as a hashing slot keeps its own.
            let mut memory = HashMemory::default();
            for hash in hashes {
                for _ in 0..CALIBRATION_CHECKS {
                    let kind = hash.kind();
                    let verify = timed_verify(&check, "latchkey-calibration", hash.clone());
                    // Beside the hashing pool, one at a time: logins that arrive
                    // meanwhile neither wait for these nor are turned away busy.
                    let timed = on_hashing_thread(move || {
                        let timed = verify(&mut memory);
                        (timed, memory)
                    })
                    .await;
                    let ((_, _, took), used) = match timed {
                        Ok(timed) => timed,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot time the stored password hashes");
                            return;
                        }
                    };
                    memory = used;
                    check.pace.record(kind, took);
                }
            }
        });
        Ok(())
    }

    /// Checks `password` against `hash` in the hashing pool and notes how long the
    /// check took; returns the verdict and when the check started.
    async fn timed_check(
        &self,
        password: &str,
        hash: PasswordHash,
    ) -> Result<(Verdict, Instant), Busy> {
        let kind = hash.kind();
        let verify = timed_verify(self, password, hash);
        let (verdict, started, took) = self.hashing.run(verify).await?;
        self.pace.record(kind, took);
        Ok((verdict, started))
    }

    /// Stores a hash of `user`'s password with the current parameters, unless the
    /// password changed since `user` was read.
    async fn rehash(&self, user: &UserRecord, password: &str) {
        let username = user.username.as_str();
        let (hasher, password) = (self.accounts.hasher().clone(), password.to_owned());
        let hash = match self
            .hashing
            .run(move |memory| hasher.hash_in(&password, memory))
            .await
        {
            Ok(Ok(hash)) => hash,
            // Busy: the old hash still verifies; the upgrade waits for the next login.
            Err(_) => return,
            Ok(Err(e)) => {
                tracing::warn!(username, error = %e, "could not upgrade the password hash");
                return;
            }
        };
        match self.accounts.upgrade_hash(user, &hash).await {
            Ok(true) => {
                tracing::info!(username, "password hash upgraded to the current parameters")
            }
            Ok(false) => tracing::info!(username, "password changed meanwhile: no hash upgrade"),
            Err(e) => {
                tracing::warn!(username, error = %e, "could not store the upgraded password hash")
            }
        }
    }
}

/// A check of `password` against `hash`, to run in a hashing slot: its verdict,
/// when it started and how long it took.
fn timed_verify(
    check: &PasswordCheck,
    password: &str,
    hash: PasswordHash,
) -> impl FnOnce(&mut HashMemory) -> (Verdict, Instant, Duration) + Send + 'static {
    let (hasher, password) = (check.accounts.hasher().clone(), password.to_owned());
    move |memory| {
        let started = Instant::now();
        let verdict = hasher.verify_in(&password, &hash, memory);
        (verdict, started, started.elapsed())
    }
}
