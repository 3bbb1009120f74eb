//! Access tokens: HS256 JWTs compatible with the FastAPI app's (PyJWT) tokens.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::scope::ScopeSet;

/// The claims of an access token.
///
/// `iat` and `jti` are optional when reading so that tokens minted by the FastAPI app
/// (`sub`, `scopes`, `exp`) stay valid after a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The username.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Granted scope names.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl TokenClaims {
    /// The granted scopes that latchkey knows.
    pub fn scope_set(&self) -> ScopeSet {
        ScopeSet::from_names_lenient(self.scopes.iter().map(String::as_str))
    }
}

/// A freshly signed access token.
#[derive(Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The scopes it grants.
    pub scopes: ScopeSet,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Why a token was refused. Callers answer all of these the same way; the kinds
/// exist for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, wrong algorithm, malformed, expired, or a claim of the wrong type.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Signs and verifies access tokens with one HS256 key.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: Duration,
}

impl TokenSigner {
    /// A signer whose HMAC key is `secret` and whose tokens live `lifetime`.
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
        }
    }

    /// Signs a token for `username` granting `scopes`.
    pub fn issue(&self, username: &str, scopes: &ScopeSet) -> IssuedToken {
        let now = unix_now();
        let claims = TokenClaims {
            sub: username.to_owned(),
            exp: now + self.lifetime.as_secs(),
            iat: Some(now),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            scopes: scopes.names(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            // HS256 with an HMAC key and serialisable claims cannot fail.
            .expect("HS256 signing");
        IssuedToken {
            token,
            expires_in: self.lifetime.as_secs(),
            scopes: scopes.clone(),
        }
    }

    /// Verifies the signature (HS256 only, whatever the header says) and the expiry.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::scope::Scope;

    const KEY: &[u8] = b"a-test-key-that-is-at-least-32-bytes-long";

    fn signer() -> TokenSigner {
        TokenSigner::new(KEY, Duration::from_secs(600))
    }

    fn sign(claims: &serde_json::Value, key: &[u8]) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(key),
        )
        .unwrap()
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let scopes: ScopeSet = [Scope::Me].into_iter().collect();
        let issued = signer().issue("johndoe", &scopes);
        let claims = signer().verify(&issued.token).unwrap();
        assert_eq!(claims.sub, "johndoe");
        assert_eq!(claims.scopes, vec!["me"]);
        assert!(claims.jti.is_some());
        assert_eq!(claims.exp - claims.iat.unwrap(), 600);
        assert_eq!(issued.expires_in, 600);
    }

    #[test]
    fn accepts_a_fastapi_style_token() {
        let token = sign(
            &serde_json::json!({"sub": "johndoe", "scopes": ["me", "items"], "exp": unix_now() + 60}),
            KEY,
        );
        let claims = signer().verify(&token).unwrap();
        assert_eq!(claims.scope_set().to_string(), "me items");
    }

    #[test]
    fn rejects_token_signed_with_other_key() {
        let token = sign(
            &serde_json::json!({"sub": "johndoe", "exp": unix_now() + 60}),
            b"another-key-of-at-least-32-bytes!!",
        );
        assert!(signer().verify(&token).is_err());
    }

    #[test]
    fn rejects_expired_token_and_token_without_exp() {
        let expired = sign(
            &serde_json::json!({"sub": "johndoe", "exp": unix_now() - 1}),
            KEY,
        );
        assert!(signer().verify(&expired).is_err());
        let no_exp = sign(&serde_json::json!({"sub": "johndoe"}), KEY);
        assert!(signer().verify(&no_exp).is_err());
    }

    #[test]
    fn rejects_alg_none_and_tampered_payload() {
        let issued = signer().issue("johndoe", &ScopeSet::default());
        let parts: Vec<&str> = issued.token.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        assert!(
            signer()
                .verify(&format!("{none_header}.{}.", parts[1]))
                .is_err()
        );
        let other_payload = sign(
            &serde_json::json!({"sub": "alice", "exp": unix_now() + 60}),
            KEY,
        );
        let other_payload = other_payload.split('.').nth(1).unwrap();
        assert!(
            signer()
                .verify(&format!("{}.{other_payload}.{}", parts[0], parts[2]))
                .is_err()
        );
    }

    #[test]
    fn rejects_claims_of_the_wrong_type() {
        let token = sign(
            &serde_json::json!({"sub": "johndoe", "exp": unix_now() + 60, "scopes": "me items"}),
            KEY,
        );
        assert!(signer().verify(&token).is_err());
        let token = sign(&serde_json::json!({"sub": 7, "exp": unix_now() + 60}), KEY);
        assert!(signer().verify(&token).is_err());
    }
}
