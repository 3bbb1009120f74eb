//! Token signing keys: the algorithms latchkey signs with, new key material, and
//! the keyring — the newest key signs, every key in it verifies. Keys are found
//! by the token's `kid` in this keyring only; nothing in a token can point
//! elsewhere.

mod lifecycle;

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) use self::lifecycle::{
    KeyState, key_states, load_keyring, prepare_keyring, reload_keyring, rotate,
};

/// The algorithms a signing key can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) enum KeyAlgorithm {
    /// HMAC-SHA256 with a shared secret (the FastAPI app's algorithm).
    HS256,
    /// Ed25519 signatures; the public key is published in the JWKS.
    EdDSA,
    /// RSA PKCS#1 v1.5 with SHA-256 (2048-bit keys); published in the JWKS.
    RS256,
}

impl KeyAlgorithm {
    /// Every algorithm.
    pub(crate) const ALL: [KeyAlgorithm; 3] = [
        KeyAlgorithm::HS256,
        KeyAlgorithm::EdDSA,
        KeyAlgorithm::RS256,
    ];

    /// The JWT `alg`.
    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::HS256 => Algorithm::HS256,
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            KeyAlgorithm::RS256 => Algorithm::RS256,
        }
    }

    /// The name, as configured and stored.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::HS256 => "HS256",
            KeyAlgorithm::EdDSA => "EdDSA",
            KeyAlgorithm::RS256 => "RS256",
        }
    }
}

impl FromStr for KeyAlgorithm {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        [Self::HS256, Self::EdDSA, Self::RS256]
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| format!("unknown algorithm {name:?}: use HS256, EdDSA or RS256"))
    }
}

impl TryFrom<String> for KeyAlgorithm {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        name.parse()
    }
}

impl From<KeyAlgorithm> for String {
    fn from(algorithm: KeyAlgorithm) -> String {
        algorithm.as_str().to_owned()
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The secret part of a key, as stored: an HMAC secret, a PKCS#8 Ed25519 key or a
/// PKCS#1 RSA key (DER). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyMaterial {
    /// The algorithm.
    pub algorithm: KeyAlgorithm,
    /// The secret bytes.
    pub secret: Vec<u8>,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("algorithm", &self.algorithm)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Key material latchkey cannot use.
#[derive(Debug, thiserror::Error)]
#[error("unusable {algorithm} key: {reason}")]
pub(crate) struct BadKey {
    algorithm: &'static str,
    reason: String,
}

impl KeyMaterial {
    /// New random material for `algorithm`.
    pub(crate) fn generate(algorithm: KeyAlgorithm) -> Result<Self, BadKey> {
        let bad = |reason: String| BadKey {
            algorithm: algorithm.as_str(),
            reason,
        };
        let mut rng = rand::rngs::OsRng;
        let secret = match algorithm {
            KeyAlgorithm::HS256 => {
                use rand::RngCore as _;
                let mut raw = [0u8; 32];
                rng.fill_bytes(&mut raw);
                // Hex text, like the key files and `openssl rand -hex 32`.
                hex::encode(raw).into_bytes()
            }
            KeyAlgorithm::EdDSA => {
                use ed25519_dalek::pkcs8::EncodePrivateKey as _;
                let key = ed25519_dalek::SigningKey::generate(&mut rng);
                key.to_pkcs8_der()
                    .map_err(|e| bad(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            }
            KeyAlgorithm::RS256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey as _;
                let key =
                    rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| bad(e.to_string()))?;
                key.to_pkcs1_der()
                    .map_err(|e| bad(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            }
        };
        Ok(Self { algorithm, secret })
    }
}

/// One usable key: what signs, what verifies, and what may be published.
#[derive(Clone)]
pub(crate) struct SigningKey {
    /// Key id: the first 16 hex digits of the SHA-256 of the public key (of the
    /// secret, for HMAC), so the same key always has the same id.
    pub kid: String,
    /// The algorithm, the only one tokens of this key are checked with.
    pub algorithm: KeyAlgorithm,
    pub(crate) encoding: EncodingKey,
    pub(crate) decoding: DecodingKey,
    /// The public key as a JWK; none for HMAC keys.
    pub public_jwk: Option<serde_json::Value>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key of `material`.
    pub(crate) fn new(material: &KeyMaterial) -> Result<Self, BadKey> {
        let algorithm = material.algorithm;
        let bad = |reason: String| BadKey {
            algorithm: algorithm.as_str(),
            reason,
        };
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let (public_bytes, decoding, public_jwk) = match algorithm {
            KeyAlgorithm::HS256 => (
                material.secret.clone(),
                DecodingKey::from_secret(&material.secret),
                None,
            ),
            KeyAlgorithm::EdDSA => {
                use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(&material.secret)
                    .map_err(|e| bad(e.to_string()))?;
                let x = key.verifying_key().to_bytes();
                let decoding =
                    DecodingKey::from_ed_components(&b64(&x)).map_err(|e| bad(e.to_string()))?;
                let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&x)});
                (x.to_vec(), decoding, Some(jwk))
            }
            KeyAlgorithm::RS256 => {
                use rsa::pkcs1::DecodeRsaPrivateKey as _;
                use rsa::traits::PublicKeyParts as _;
                let key = rsa::RsaPrivateKey::from_pkcs1_der(&material.secret)
                    .map_err(|e| bad(e.to_string()))?;
                let (n, e) = (key.n().to_bytes_be(), key.e().to_bytes_be());
                let decoding = DecodingKey::from_rsa_components(&b64(&n), &b64(&e))
                    .map_err(|e| bad(e.to_string()))?;
                let jwk = serde_json::json!({"kty": "RSA", "n": b64(&n), "e": b64(&e)});
                ([n, e].concat(), decoding, Some(jwk))
            }
        };
        let encoding = match algorithm {
            KeyAlgorithm::HS256 => EncodingKey::from_secret(&material.secret),
            KeyAlgorithm::EdDSA => EncodingKey::from_ed_der(&material.secret),
            KeyAlgorithm::RS256 => EncodingKey::from_rsa_der(&material.secret),
        };
        let kid = hex::encode(&Sha256::digest(&public_bytes)[..8]);
        let public_jwk = public_jwk.map(|mut jwk| {
            jwk["kid"] = kid.clone().into();
            jwk["alg"] = algorithm.as_str().into();
            jwk["use"] = "sig".into();
            jwk
        });
        Ok(Self {
            kid,
            algorithm,
            encoding,
            decoding,
            public_jwk,
        })
    }
}

/// The keys tokens are signed and verified with: the first signs, all verify.
#[derive(Debug, Clone)]
pub(crate) struct Keyring {
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// A keyring of `keys`, newest first; `None` if there is none.
    pub(crate) fn new(keys: Vec<SigningKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// The key new tokens are signed with.
    pub(crate) fn active(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The key with id `kid`, if it is in the keyring.
    pub(crate) fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// The JSON Web Key Set of the public keys (asymmetric keys only).
    pub(crate) fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .filter_map(|key| key.public_jwk.clone())
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_a_usable_key_with_a_stable_kid() {
        for algorithm in [
            KeyAlgorithm::HS256,
            KeyAlgorithm::EdDSA,
            KeyAlgorithm::RS256,
        ] {
            let material = KeyMaterial::generate(algorithm).unwrap();
            let key = SigningKey::new(&material).unwrap();
            assert_eq!(key.kid.len(), 16);
            assert_eq!(SigningKey::new(&material).unwrap().kid, key.kid);
            assert_eq!(key.public_jwk.is_some(), algorithm != KeyAlgorithm::HS256);
            assert!(!format!("{material:?}").contains(&format!("{:?}", material.secret)));
        }
    }

    #[test]
    fn the_jwks_never_holds_secrets() {
        let keys = [KeyAlgorithm::HS256, KeyAlgorithm::EdDSA]
            .map(|a| SigningKey::new(&KeyMaterial::generate(a).unwrap()).unwrap());
        let ring = Keyring::new(keys.to_vec()).unwrap();
        let jwks = ring.jwks();
        let published = jwks["keys"].as_array().unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0]["kty"], "OKP");
        assert!(published[0].get("d").is_none());
    }
}
