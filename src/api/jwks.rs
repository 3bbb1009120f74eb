//! `GET /.well-known/jwks.json`: the public keys that verify latchkey's tokens, so
//! other services can check them without any secret. HMAC keys are never listed.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use crate::auth::AuthService;

/// The JSON Web Key Set of the EdDSA and RS256 signing keys in use.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "The public signing keys (empty with HS256)", body = Object))
)]
pub(crate) async fn jwks(State(auth): State<Arc<AuthService>>) -> Json<serde_json::Value> {
    Json(auth.sessions().jwks().await)
}
