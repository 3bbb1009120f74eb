//! What the store keeps about device cookies: which account each one was issued
//! to, and until when it is good, by the SHA-256 of its value.

use async_trait::async_trait;

use super::StoreError;

/// A device cookie to store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewDeviceCookie<'a> {
    /// SHA-256 of the cookie's value, hex.
    pub hash: &'a str,
    /// The account it was issued to.
    pub username: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Device cookies, shared by every instance.
#[async_trait]
pub(crate) trait DeviceCookieStore: Send + Sync {
    /// Stores `cookie` (dropping expired ones, and the account's oldest beyond a
    /// fixed number) and forgets the cookie hashed `replacing`, if any, in one
    /// step; false if the account does not exist.
    async fn add_device_cookie(
        &self,
        cookie: NewDeviceCookie<'_>,
        replacing: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// The account the cookie hashed `hash` was issued to, if it is good at `now`.
    async fn device_cookie_owner(&self, hash: &str, now: i64)
    -> Result<Option<String>, StoreError>;
}
