//! Reading and verifying the JWTs the server issues, as another service would.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use super::http::{Auth, parts};
use super::server::TestServer;

/// The JSON of one base64url segment of a JWT.
pub fn jwt_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("JWT segment");
    let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url segment");
    serde_json::from_slice(&bytes).expect("JSON segment")
}

/// The `kid` of a token's header.
pub fn kid(token: &str) -> String {
    jwt_segment(token, 0)["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An HS256 JWT over `claims`, signed with `key` as PyJWT signs the FastAPI app's
/// (header `{"alg": "HS256", "typ": "JWT"}`).
pub fn sign_hs256(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("HS256 signing")
}

/// The claims of `token`, which must verify as HS256 with `key` and carry `exp`
/// and `sub`, as PyJWT checks them in the FastAPI app.
#[track_caller]
pub fn claims_verified_with_secret(token: &str, key: &[u8]) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(key), &validation)
        .expect("the token verifies with the key")
        .claims
}

/// The server's published JSON Web Key Set.
#[track_caller]
pub fn jwks(server: &TestServer) -> Value {
    let (status, _, body) = parts(server.get("/.well-known/jwks.json", Auth::None));
    assert_eq!(status, StatusCode::OK);
    body
}

/// The key of `jwks` whose `kid` is the one `token` names.
#[track_caller]
pub fn jwk_of<'a>(jwks: &'a Value, token: &str) -> &'a Value {
    let kid = kid(token);
    jwks["keys"]
        .as_array()
        .expect("a list of keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"))
}

/// Verifies `token` with nothing but the published JWKS, as another service would.
#[track_caller]
pub fn verify_with_jwks(jwks: &Value, token: &str) -> Value {
    let jwk = jwk_of(jwks, token);
    let text = |name: &str| jwk[name].as_str().expect("a base64url member");
    let (key, algorithm) = match jwk["kty"].as_str() {
        Some("OKP") => (
            DecodingKey::from_ed_components(text("x")).expect("an Ed25519 key"),
            Algorithm::EdDSA,
        ),
        Some("RSA") => (
            DecodingKey::from_rsa_components(text("n"), text("e")).expect("an RSA key"),
            Algorithm::RS256,
        ),
        other => panic!("unexpected kty {other:?}"),
    };
    jsonwebtoken::decode::<Value>(token, &key, &Validation::new(algorithm))
        .expect("the token verifies with the published key")
        .claims
}
