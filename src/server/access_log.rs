//! One access-log line per request (target `latchkey::access`), and the request
//! metrics: method, path, status, latency, the client's address and the request
//! id.
//!
//! The log line has the path without its query string, for every route: a query
//! can carry a password or a token (`/token?password=...` is refused, but it was
//! sent), and no route of latchkey needs one logged. Paths listed in
//! `access_log_skip_paths` (health checks, by default) get no line.
//!
//! The metrics are labelled with the route's template (`/users/me/items/{item_id}`),
//! never the path itself, so a client cannot make up new label values; requests
//! no route matched (static files, 404s) share the route `fallback`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use ipnet::IpNet;
use tower_http::request_id::RequestId;

use crate::caller::{client_address, socket_peer};
use crate::settings::Settings;

/// What the access log needs to know.
struct AccessLog {
    skip_paths: HashSet<String>,
    trusted_proxies: Vec<IpNet>,
}

/// Logs and counts every request of `router`. Apply it inside the request-id
/// layer, outside every other, so it sees the id and the final status.
pub(super) fn apply(router: Router, settings: &Settings) -> Router {
    let log = Arc::new(AccessLog {
        skip_paths: settings.access_log_skip_paths.iter().cloned().collect(),
        trusted_proxies: settings.trusted_proxies.clone(),
    });
    router.layer(middleware::from_fn_with_state(log, log_and_count))
}

async fn log_and_count(
    State(log): State<Arc<AccessLog>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |route| route.as_str().to_owned());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let client = client_address(
        socket_peer(request.extensions()),
        request.headers(),
        &log.trusted_proxies,
    );
    let response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let method_label = method_label(&method);
    metrics::counter!(
        "latchkey_http_requests_total",
        "method" => method_label,
        "route" => route.clone(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "latchkey_http_request_duration_seconds",
        "method" => method_label,
        "route" => route,
    )
    .record(latency.as_secs_f64());
    if !log.skip_paths.contains(&path) {
        tracing::info!(
            target: "latchkey::access",
            method = %method,
            path = %path,
            status,
            latency_ms = milliseconds(latency),
            client = %client,
            request_id = %request_id,
            "request"
        );
    }
    response
}

/// `duration` in milliseconds, to the microsecond.
fn milliseconds(duration: std::time::Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The method as a metrics label: the standard ones by name, any other as
/// `other` (a client may send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}
