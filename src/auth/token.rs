//! Access tokens: JWTs signed with the keyring's active key, checked strictly.
//!
//! A token is accepted only if its header says `typ: at+jwt` (RFC 9068, so no other
//! kind of token passes as an access token), names a `kid` of the keyring, carries
//! no `crit`, `jku`, `x5u`, `jwk` or `x5c`, and verifies with that key's own
//! algorithm; its claims must have the right types, an `exp` in the future, an
//! `iat`/`nbf` not in the future (small leeway), the session id `sid`, and the
//! configured `iss`/`aud`.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Header, Validation, decode, encode};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

use super::keyring::{KeyAlgorithm, Keyring};
use super::scope::ScopeSet;
use crate::clock::{seconds, unix_now};

/// The `typ` header of access tokens (RFC 9068).
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Clock difference tolerated for `iat` and `nbf`, in seconds.
pub(crate) const LEEWAY_SECONDS: i64 = 30;

/// Header parameters that would have a verifier look beyond its own keys, or
/// process extensions it does not know: tokens carrying any are refused.
const REFUSED_HEADER_PARAMETERS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenClaims {
    /// The username.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: i64,
    /// Not valid before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique token id.
    pub jti: String,
    /// The session the token belongs to.
    pub sid: String,
    /// Granted scope names.
    pub scopes: Vec<String>,
    /// Issuer, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The SHA-256 (hex) of the browser fingerprint its session is bound to;
    /// absent for unbound sessions (see `auth::binding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fgp: Option<String>,
}

impl TokenClaims {
    /// The granted scopes that latchkey knows.
    pub(crate) fn scope_set(&self) -> ScopeSet {
        ScopeSet::from_names_lenient(self.scopes.iter().map(String::as_str))
    }
}

/// A freshly signed access token.
#[derive(Clone)]
pub(crate) struct IssuedToken {
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

/// A token the keyring's active key could not sign (a key the crypto library
/// refuses, which loading it should have caught).
#[derive(Debug, thiserror::Error)]
#[error("token signing failed: {0}")]
pub(crate) struct SigningError(String);

/// Why a token was refused. Callers answer all of these the same way; the kinds
/// exist for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenError {
    /// Bad signature, wrong algorithm, malformed, expired, or a claim of the wrong type.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Well-formed, but its `kid` is not in the keyring (perhaps a key rotated in
    /// since the keyring was read).
    #[error("invalid token: unknown kid")]
    UnknownKey,
}

fn invalid(reason: impl Into<String>) -> TokenError {
    TokenError::Invalid(reason.into())
}

/// What every token issued carries and every token checked must carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenPolicy {
    /// Lifetime of an access token.
    pub lifetime: Duration,
    /// `iss`, if configured.
    pub issuer: Option<String>,
    /// `aud`, if configured.
    pub audience: Option<String>,
}

/// Signs and verifies access tokens with a keyring that can be swapped while
/// running (key rotation).
#[derive(Clone)]
pub(crate) struct TokenSigner {
    keyring: Arc<RwLock<Arc<Keyring>>>,
    policy: TokenPolicy,
    /// What a token of each algorithm is checked against: the same for every token,
    /// so made once.
    validations: Arc<[(KeyAlgorithm, Validation)]>,
}

impl TokenSigner {
    /// A signer over `keyring`.
    pub(crate) fn new(keyring: Keyring, policy: TokenPolicy) -> Self {
        let validations = KeyAlgorithm::ALL
            .into_iter()
            .map(|algorithm| (algorithm, validation(&policy, algorithm)))
            .collect();
        Self {
            keyring: Arc::new(RwLock::new(Arc::new(keyring))),
            policy,
            validations,
        }
    }

    /// The keyring in use.
    pub(crate) fn keyring(&self) -> Arc<Keyring> {
        self.keyring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// How long an access token it issues is valid.
    pub(crate) fn access_lifetime(&self) -> Duration {
        self.policy.lifetime
    }

    /// Uses `keyring` from now on.
    pub(crate) fn replace_keyring(&self, keyring: Keyring) {
        *self
            .keyring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(keyring);
    }

    /// Signs a token for `username` in session `sid` granting `scopes`, bound to
    /// the browser fingerprint of hash `binding` if the session is.
    pub(crate) fn issue(
        &self,
        username: &str,
        sid: &str,
        scopes: &ScopeSet,
        binding: Option<&str>,
    ) -> Result<IssuedToken, SigningError> {
        let now = unix_now();
        let claims = TokenClaims {
            sub: username.to_owned(),
            exp: now.saturating_add(seconds(self.policy.lifetime)),
            iat: now,
            nbf: None,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            sid: sid.to_owned(),
            scopes: scopes.names(),
            iss: self.policy.issuer.clone(),
            aud: self.policy.audience.clone(),
            fgp: binding.map(str::to_owned),
        };
        let keyring = self.keyring();
        let key = keyring.active();
        let mut header = Header::new(key.algorithm.jwt());
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(key.kid.clone());
        let token =
            encode(&header, &claims, &key.encoding).map_err(|e| SigningError(e.to_string()))?;
        Ok(IssuedToken {
            token,
            expires_in: self.policy.lifetime.as_secs(),
            scopes: scopes.clone(),
        })
    }

    /// Verifies a token as the module documentation says.
    pub(crate) fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let kid = checked_header(token)?;
        let keyring = self.keyring();
        let key = keyring.find(&kid).ok_or(TokenError::UnknownKey)?;
        let validation = self
            .validations
            .iter()
            .find_map(|(algorithm, validation)| (*algorithm == key.algorithm).then_some(validation))
            .ok_or_else(|| invalid("no validation for the key's algorithm"))?;
        let claims = decode::<TokenClaims>(token, &key.decoding, validation)
            .map_err(|e| invalid(e.to_string()))?
            .claims;
        let latest = unix_now() + LEEWAY_SECONDS;
        if claims.iat > latest || claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(invalid("not valid yet"));
        }
        if self.policy.issuer.is_none() && claims.iss.is_some()
            || self.policy.audience.is_none() && claims.aud.is_some()
        {
            return Err(invalid("unexpected iss or aud"));
        }
        Ok(claims)
    }
}

/// What `verify` checks of the claims of a token signed with `algorithm`
/// (`iat` and `nbf`, and `iss`/`aud` when none is configured, are checked after).
fn validation(policy: &TokenPolicy, algorithm: KeyAlgorithm) -> Validation {
    let mut validation = Validation::new(algorithm.jwt());
    let mut required = vec!["exp", "sub", "iat"];
    required.extend(policy.issuer.as_ref().map(|_| "iss"));
    required.extend(policy.audience.as_ref().map(|_| "aud"));
    validation.set_required_spec_claims(&required);
    validation.leeway = 0;
    validation.validate_nbf = false;
    match &policy.issuer {
        Some(issuer) => validation.set_issuer(&[issuer]),
        None => validation.iss = None,
    }
    match &policy.audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    validation
}

/// The header parameters checked before any key: a duplicated one makes the
/// header unreadable, and a refused one counts whatever its value (`null` too).
#[derive(Deserialize)]
struct TokenHeader {
    typ: Option<String>,
    kid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    #[serde(default, deserialize_with = "present")]
    jku: bool,
    #[serde(default, deserialize_with = "present")]
    x5u: bool,
    #[serde(default, deserialize_with = "present")]
    jwk: bool,
    #[serde(default, deserialize_with = "present")]
    x5c: bool,
}

fn present<'de, D: Deserializer<'de>>(value: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(value).map(|_| true)
}

/// The `kid` of a token whose header passes the checks that come before any key.
fn checked_header(token: &str) -> Result<String, TokenError> {
    let encoded = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| invalid("header is not base64url"))?;
    // serde would read a struct from a JSON array too.
    let is_object = bytes.trim_ascii_start().first() == Some(&b'{');
    let header: TokenHeader = serde_json::from_slice(&bytes)
        .ok()
        .filter(|_| is_object)
        .ok_or_else(|| invalid("header is not a JSON object"))?;
    let refused = [header.crit, header.jku, header.x5u, header.jwk, header.x5c];
    if let Some((name, _)) = REFUSED_HEADER_PARAMETERS
        .iter()
        .zip(refused)
        .find(|(_, present)| *present)
    {
        return Err(invalid(format!("header parameter {name}")));
    }
    if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(invalid("not an access token"));
    }
    header.kid.ok_or_else(|| invalid("no kid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;
    use crate::auth::keyring::{KeyAlgorithm, KeyMaterial, SigningKey};
    use jsonwebtoken::{Algorithm, EncodingKey};
    use serde_json::{Value, json};

    const SECRET: &[u8] = b"a-test-key-that-is-at-least-32-bytes-long";

    fn hs_key(secret: &[u8]) -> SigningKey {
        SigningKey::new(&KeyMaterial {
            algorithm: KeyAlgorithm::HS256,
            secret: secret.to_vec(),
        })
        .unwrap()
    }

    fn signer() -> TokenSigner {
        TokenSigner::new(
            Keyring::new(vec![hs_key(SECRET)]).unwrap(),
            TokenPolicy {
                lifetime: Duration::from_secs(600),
                ..TokenPolicy::default()
            },
        )
    }

    fn good_claims() -> Value {
        let now = unix_now();
        json!({"sub": "johndoe", "exp": now + 60, "iat": now, "jti": "j", "sid": "s", "scopes": ["me"]})
    }

    /// A token of exactly `header` (with `alg: HS256` added) and `claims`, signed
    /// with HS256 and `secret`: every header parameter is covered by the signature.
    fn sign(mut header: Value, claims: &Value, secret: &[u8]) -> String {
        header["alg"] = "HS256".into();
        let segment = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string().as_bytes());
        let input = format!("{}.{}", segment(&header), segment(claims));
        let key = EncodingKey::from_secret(secret);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256)
            .expect("HMAC signing");
        format!("{input}.{signature}")
    }

    fn our_header() -> Value {
        json!({"typ": ACCESS_TOKEN_TYPE, "kid": hs_key(SECRET).kid})
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let scopes: ScopeSet = [Scope::Me].into_iter().collect();
        let issued = signer()
            .issue("johndoe", "session-1", &scopes, None)
            .unwrap();
        let claims = signer().verify(&issued.token).unwrap();
        assert_eq!(claims.sub, "johndoe");
        assert_eq!(claims.sid, "session-1");
        assert_eq!(claims.scopes, vec!["me"]);
        assert_eq!(claims.exp - claims.iat, 600);
        assert_eq!(issued.expires_in, 600);
    }

    #[test]
    fn a_well_formed_token_of_our_key_verifies() {
        let token = sign(our_header(), &good_claims(), SECRET);
        assert!(signer().verify(&token).is_ok());
    }

    #[test]
    fn refuses_other_kinds_unknown_kids_and_pointer_headers() {
        let claims = good_claims();
        for header in [
            json!({"kid": hs_key(SECRET).kid}),
            json!({"typ": "JWT", "kid": hs_key(SECRET).kid}),
            json!({"typ": "refresh+jwt", "kid": hs_key(SECRET).kid}),
            json!({"typ": ACCESS_TOKEN_TYPE}),
            json!({"typ": ACCESS_TOKEN_TYPE, "kid": "../../dev/null"}),
        ] {
            let token = sign(header.clone(), &claims, SECRET);
            assert!(signer().verify(&token).is_err(), "{header}");
        }
        // Header parameters jsonwebtoken would ignore, signed with our own key: the
        // token differs from an accepted one in that parameter only.
        assert!(
            signer()
                .verify(&sign(our_header(), &claims, SECRET))
                .is_ok()
        );
        for extra in ["crit", "jku", "x5u", "jwk", "x5c"] {
            // Present is enough: `null` too.
            for value in [json!(["exp"]), Value::Null] {
                let mut header = our_header();
                header[extra] = value.clone();
                let token = sign(header, &claims, SECRET);
                assert_eq!(
                    signer().verify(&token),
                    Err(invalid(format!("header parameter {extra}"))),
                    "{extra}: {value}"
                );
            }
        }
    }

    #[test]
    fn iat_and_nbf_may_be_ahead_by_the_leeway_only() {
        let now = unix_now();
        // A few seconds of margin either side of the boundary, for slow test machines.
        for (claim, ahead, accepted) in [
            ("iat", LEEWAY_SECONDS - 5, true),
            ("iat", LEEWAY_SECONDS + 5, false),
            ("nbf", LEEWAY_SECONDS - 5, true),
            ("nbf", LEEWAY_SECONDS + 5, false),
        ] {
            let mut claims = good_claims();
            claims[claim] = json!(now + ahead);
            let verdict = signer().verify(&sign(our_header(), &claims, SECRET));
            assert_eq!(
                verdict.is_ok(),
                accepted,
                "{claim} {ahead} s ahead: {verdict:?}"
            );
        }
    }

    #[test]
    fn refuses_other_keys_and_times_in_the_wrong_place() {
        assert!(
            signer()
                .verify(&sign(
                    our_header(),
                    &good_claims(),
                    b"another-key-of-at-least-32-bytes!!"
                ))
                .is_err()
        );
        let now = unix_now();
        for (name, field, value) in [
            ("expired", "exp", json!(now - 1)),
            ("exp as text", "exp", json!((now + 60).to_string())),
            ("iat in the future", "iat", json!(now + 3600)),
            ("nbf in the future", "nbf", json!(now + 3600)),
            ("no sid", "sid", Value::Null),
            ("scopes as text", "scopes", json!("me items")),
            ("sub as number", "sub", json!(7)),
            ("unexpected aud", "aud", json!("elsewhere")),
        ] {
            let mut claims = good_claims();
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(field);
            } else {
                claims[field] = value;
            }
            let token = sign(our_header(), &claims, SECRET);
            assert!(signer().verify(&token).is_err(), "{name}");
        }
    }

    #[test]
    fn checks_issuer_and_audience_when_configured() {
        let strict = TokenSigner::new(
            Keyring::new(vec![hs_key(SECRET)]).unwrap(),
            TokenPolicy {
                lifetime: Duration::from_secs(600),
                issuer: Some("https://login.example".into()),
                audience: Some("items-api".into()),
            },
        );
        let issued = strict
            .issue("johndoe", "s", &ScopeSet::default(), None)
            .unwrap();
        assert!(strict.verify(&issued.token).is_ok());
        assert!(
            strict
                .verify(&sign(our_header(), &good_claims(), SECRET))
                .is_err()
        );
    }

    #[test]
    fn old_keys_verify_and_the_newest_signs() {
        let old = hs_key(SECRET);
        let new = hs_key(b"a-newer-key-that-is-at-least-32-bytes-long");
        let signer = signer();
        let before = signer
            .issue("johndoe", "s", &ScopeSet::default(), None)
            .unwrap();
        signer.replace_keyring(Keyring::new(vec![new.clone(), old]).unwrap());
        let after = signer
            .issue("johndoe", "s", &ScopeSet::default(), None)
            .unwrap();
        assert!(signer.verify(&before.token).is_ok());
        assert!(signer.verify(&after.token).is_ok());
        let header = |token: &str| {
            let bytes = URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()["kid"].clone()
        };
        assert_eq!(header(&after.token), json!(new.kid));
        signer.replace_keyring(Keyring::new(vec![new]).unwrap());
        assert!(signer.verify(&before.token).is_err());
    }

    #[test]
    fn asymmetric_tokens_verify_and_cannot_be_forged_with_the_public_key() {
        for algorithm in [KeyAlgorithm::EdDSA, KeyAlgorithm::RS256] {
            let key = SigningKey::new(&KeyMaterial::generate(algorithm).unwrap()).unwrap();
            let jwk = key.public_jwk.clone().unwrap();
            let signer = TokenSigner::new(
                Keyring::new(vec![key.clone()]).unwrap(),
                TokenPolicy {
                    lifetime: Duration::from_secs(60),
                    ..TokenPolicy::default()
                },
            );
            let issued = signer
                .issue("johndoe", "s", &ScopeSet::default(), None)
                .unwrap();
            assert!(signer.verify(&issued.token).is_ok(), "{algorithm:?}");
            // Key confusion: HS256 with the public key as the HMAC secret.
            let public = jwk.get("x").or(jwk.get("n")).unwrap().as_str().unwrap();
            let forged = sign(
                json!({"typ": ACCESS_TOKEN_TYPE, "kid": key.kid}),
                &good_claims(),
                public.as_bytes(),
            );
            assert!(signer.verify(&forged).is_err(), "{algorithm:?}");
        }
    }
}
