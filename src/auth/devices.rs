//! Device cookies, after OWASP's "Slow Down Online Guessing Attacks with Device
//! Cookies": a browser that signed in to an account gets a cookie bound to that
//! account, and its later logins for it are not refused by the block that failed
//! logins from anywhere else put on the account. The cookie has a small failure
//! allowance of its own instead (see [`super::throttle::Subject::Device`]).
//!
//! The cookie's value is 256 random bits; the store keeps only its SHA-256 and the
//! account it was issued to, so every instance recognises it, nobody can make one
//! up, and one issued to one account is worth nothing for another.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::sessions::{hash_token, random_value};
use crate::clock::{seconds, unix_now};
use crate::store::{NewDeviceCookie, Store, StoreError};

/// The cookie's name. `__Host-` makes browsers accept it only with `Secure`,
/// `Path=/` and no `Domain`, so no other host (a subdomain) can plant or
/// overwrite it.
pub(crate) const DEVICE_COOKIE_NAME: &str = "__Host-latchkey-device";

/// Length of a value latchkey issues: 32 bytes, base64url without padding.
const VALUE_LENGTH: usize = 43;

/// A device cookie's value, as a client presented it or as latchkey issued it.
/// Never printed: it is a credential (of a weak kind).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DeviceCookie(String);

impl DeviceCookie {
    /// The value a client presented; `None` if latchkey could not have issued it
    /// (then there is nothing to look up).
    pub(crate) fn presented(value: &str) -> Option<Self> {
        let well_formed = value.len() == VALUE_LENGTH
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(value.to_owned()))
    }

    /// The value, for the `Set-Cookie` header only.
    pub(crate) fn value(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceCookie([redacted])")
    }
}

/// A device the core trusts for the account of one login: the hash of its cookie,
/// which is also what the throttle counts its failures under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrustedDevice {
    hash: String,
}

impl TrustedDevice {
    /// The stored hash of the device's cookie.
    pub(crate) fn hash(&self) -> &str {
        &self.hash
    }
}

/// A new device cookie for the browser, and how long it should keep it.
#[derive(Debug, Clone)]
pub(crate) struct IssuedDeviceCookie {
    /// The value to set.
    pub cookie: DeviceCookie,
    /// Its lifetime (the cookie's `Max-Age`).
    pub lifetime: Duration,
}

/// Device cookies over a store.
#[derive(Clone)]
pub(crate) struct Devices {
    store: Arc<dyn Store>,
    lifetime: Duration,
}

impl Devices {
    /// Device cookies kept in `store`, each good for `lifetime`.
    pub(crate) fn new(store: Arc<dyn Store>, lifetime: Duration) -> Self {
        Self { store, lifetime }
    }

    /// The device of `cookie` if it is a cookie issued to `username` and still
    /// good; `None` for no cookie, a made-up or expired one, or one of another
    /// account.
    pub(crate) async fn trusted_for(
        &self,
        cookie: Option<&DeviceCookie>,
        username: &str,
    ) -> Result<Option<TrustedDevice>, StoreError> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        let hash = hash_token(cookie.value());
        let owner = self.store.device_cookie_owner(&hash, unix_now()).await?;
        Ok((owner.as_deref() == Some(username)).then_some(TrustedDevice { hash }))
    }

    /// A new cookie for a browser that just signed in to `username`, replacing the
    /// cookie of `replacing` (the device it signed in with, if it was trusted);
    /// `None` if the account is gone.
    pub(crate) async fn issue(
        &self,
        username: &str,
        replacing: Option<&TrustedDevice>,
    ) -> Result<Option<IssuedDeviceCookie>, StoreError> {
        let value = random_value(32);
        let now = unix_now();
        let stored = self
            .store
            .add_device_cookie(
                NewDeviceCookie {
                    hash: &hash_token(&value),
                    username,
                    created_at: now,
                    expires_at: now.saturating_add(seconds(self.lifetime)),
                },
                replacing.map(TrustedDevice::hash),
            )
            .await?;
        Ok(stored.then_some(IssuedDeviceCookie {
            cookie: DeviceCookie(value),
            lifetime: self.lifetime,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_latchkey_could_have_issued_are_looked_up() {
        let issued = random_value(32);
        assert!(DeviceCookie::presented(&issued).is_some());
        for bad in [
            "",
            "short",
            &issued[1..],
            &format!("{issued}A"),
            &format!("{}=", &issued[1..]),
            &format!("{}%", &issued[1..]),
        ] {
            assert!(DeviceCookie::presented(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let cookie = DeviceCookie::presented(&random_value(32)).unwrap();
        assert_eq!(format!("{cookie:?}"), "DeviceCookie([redacted])");
    }
}
