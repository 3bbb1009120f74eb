//! What one request may take once its head is in: a body of at most
//! `max_body_kib`, and `request_timeout_seconds` until it is answered. Both are
//! answered in the JSON API's `{"detail": ...}` shape, on every route.
//!
//! The body is read here, within the limit, before any route sees it: the Leptos
//! server functions read bodies without a limit of their own and answer a failed
//! read with a 500, and no route needs to stream a body. This is the only body
//! limit: axum's own default limit is switched off.

use axum::body::{Body, HttpBody as _};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::Response;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;

use super::HttpService;

use crate::api::{BrokenLimit, limit_response};
use crate::settings::Settings;

/// Wraps `inner` in the body limit and the request timeout.
pub(super) fn wrap(inner: impl HttpService, settings: &Settings) -> impl HttpService {
    ServiceBuilder::new()
        .map_response(explain_timeout)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            settings.request_timeout(),
        ))
        .layer(middleware::from_fn_with_state(
            settings.max_body_bytes(),
            read_body_within,
        ))
        .layer(DefaultBodyLimit::disable())
        .service(inner)
}

/// Reads the whole body, refusing one over `limit` bytes with 413: at once when
/// its `Content-Length` says so, else as soon as it passes the limit.
async fn read_body_within(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let size = body.size_hint();
    if size.exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    if size.lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return limit_response(BrokenLimit::BodyTooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => {
            let body = Body::from(collected.to_bytes());
            next.run(Request::from_parts(parts, body)).await
        }
        Err(error) if error.is::<LengthLimitError>() => limit_response(BrokenLimit::BodyTooLarge),
        Err(_) => limit_response(BrokenLimit::BodyUnreadable),
    }
}

/// Gives the request timeout's bare 408 the API's body (and `Connection: close`:
/// the rest of the request is never read).
fn explain_timeout(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT
        && !response.headers().contains_key(CONTENT_TYPE)
    {
        return limit_response(BrokenLimit::Timeout);
    }
    response
}
