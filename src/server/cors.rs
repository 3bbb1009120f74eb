//! Cross-origin reads of the JSON API: none unless the configuration lists the
//! origins whose pages may make them.

use axum::Router;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// `routes` answering cross-origin requests of `allowed_origins`; with none, no
/// CORS headers at all, so browsers refuse every cross-origin read.
pub(super) fn apply<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    allowed_origins: &[String],
) -> Router<S> {
    match layer(allowed_origins) {
        Some(cors) => routes.layer(cors),
        None => routes,
    }
}

/// The CORS policy for `allowed_origins`, or `None` when the list is empty.
///
/// The API authenticates with a Bearer header, never a cookie, so credentials
/// are not allowed: a page of an allowed origin sends the token itself.
fn layer(allowed_origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE])
            .expose_headers([WWW_AUTHENTICATE]),
    )
}
