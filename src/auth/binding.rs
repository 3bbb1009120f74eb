//! Binding a session to one browser (OWASP's token sidejacking defence). At
//! sign-in the browser gets a random fingerprint in an HttpOnly cookie, which no
//! script can read; the session keeps only its SHA-256, and so does every access
//! token of the session (claim `fgp`). A token or refresh token of a bound session
//! is accepted only with the cookie whose hash matches: copied out of LocalStorage,
//! it is useless anywhere else.
//!
//! Sessions that `POST /token` starts for API clients are unbound: no cookie, no
//! claim.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// The secret a browser proves it is the one a session was started in: the
/// value of its fingerprint cookie. Never logged, never stored as is.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint(String);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprint([redacted])")
    }
}

impl Fingerprint {
    /// A new fingerprint of 256 random bits, base64url.
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The fingerprint a request presents (its cookie's value).
    pub(crate) fn presented(value: &str) -> Self {
        Self(value.to_owned())
    }

    /// The value to put in the cookie.
    pub(crate) fn cookie_value(&self) -> &str {
        &self.0
    }

    /// What sessions and tokens keep of it: its SHA-256, hex.
    pub(crate) fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// Whether a token or refresh token of a session whose binding is `session`
/// (the fingerprint hash it keeps, `None` when unbound) may be used by a request
/// presenting `presented`. `claim` is the access token's `fgp` claim; a refresh
/// token has none, so the refresh grant passes the session's own.
///
/// An unbound session takes no cookie and no claim. A bound one needs both the
/// claim and the cookie's hash to equal its own: a token whose claim was stripped
/// (or added) does not match its session. Hashes are compared in constant time.
pub(crate) fn binding_holds(
    session: Option<&str>,
    claim: Option<&str>,
    presented: Option<&Fingerprint>,
) -> bool {
    match (session, claim) {
        (None, None) => true,
        (Some(expected), Some(claim)) => {
            let presented = presented.map(Fingerprint::hash).unwrap_or_default();
            let claim_matches = same(expected, claim);
            let cookie_matches = same(expected, &presented);
            claim_matches & cookie_matches
        }
        _ => false,
    }
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_random_and_hashed() {
        let (a, b) = (Fingerprint::generate(), Fingerprint::generate());
        assert_ne!(a, b);
        assert_eq!(a.cookie_value().len(), 43);
        assert_eq!(a.hash().len(), 64);
        assert_eq!(a.hash(), Fingerprint::presented(a.cookie_value()).hash());
        assert_eq!(format!("{a:?}"), "Fingerprint([redacted])");
    }

    #[test]
    fn a_bound_session_needs_its_claim_and_its_cookie() {
        let fingerprint = Fingerprint::generate();
        let hash = fingerprint.hash();
        let other = Fingerprint::generate();
        assert!(binding_holds(Some(&hash), Some(&hash), Some(&fingerprint)));
        assert!(!binding_holds(Some(&hash), Some(&hash), None));
        assert!(!binding_holds(Some(&hash), Some(&hash), Some(&other)));
        assert!(!binding_holds(Some(&hash), None, Some(&fingerprint)));
        assert!(!binding_holds(
            Some(&hash),
            Some(&other.hash()),
            Some(&fingerprint)
        ));
        // The cookie's hash sent as the cookie matches nothing.
        assert!(!binding_holds(
            Some(&hash),
            Some(&hash),
            Some(&Fingerprint::presented(&hash))
        ));
    }

    #[test]
    fn an_unbound_session_takes_no_claim_and_ignores_cookies() {
        let fingerprint = Fingerprint::generate();
        assert!(binding_holds(None, None, None));
        assert!(binding_holds(None, None, Some(&fingerprint)));
        assert!(!binding_holds(
            None,
            Some(&fingerprint.hash()),
            Some(&fingerprint)
        ));
    }
}
