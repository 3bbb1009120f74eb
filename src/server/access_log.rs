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
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use ipnet::IpNet;
use tower::Layer as _;
use tower_http::request_id::RequestId;
use tracing::Level;

use super::HttpService;
use crate::caller::{client_address, socket_peer};
use crate::settings::Settings;

/// What the access log needs to know.
struct AccessLog {
    skip_paths: HashSet<String>,
    trusted_proxies: Vec<IpNet>,
    /// Whether a metrics recorder is installed: without one there is nothing to
    /// count, and no label is worth building.
    counting: bool,
}

/// Logs and counts every request through `inner`. Wrap it inside the request-id
/// layer, outside every other, so it sees the id and the final status.
pub(super) fn wrap(inner: impl HttpService, settings: &Settings) -> impl HttpService {
    let log = Arc::new(AccessLog {
        skip_paths: settings.access_log_skip_paths.iter().cloned().collect(),
        trusted_proxies: settings.trusted_proxies.clone(),
        counting: settings.metrics_enabled(),
    });
    middleware::from_fn_with_state(log, log_and_count).layer(inner)
}

/// When metrics are counted, makes every response of `router` carry the template
/// of the route that answered it ([`MatchedPath`], known only inside the router)
/// for [`wrap`]'s labels.
pub(super) fn label_routes(router: Router, settings: &Settings) -> Router {
    if !settings.metrics_enabled() {
        return router;
    }
    router.layer(middleware::from_fn(carry_route))
}

async fn carry_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// What the log line says of a request, read before it is handled.
struct Line {
    method: Method,
    path: String,
    client: IpAddr,
    request_id: String,
}

async fn log_and_count(
    State(log): State<Arc<AccessLog>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Every request passes here: nothing is read or built that neither the log
    // (its target may be filtered out) nor the metrics will use.
    let line = (tracing::enabled!(target: "latchkey::access", Level::INFO)
        && !log.skip_paths.contains(request.uri().path()))
    .then(|| Line {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        client: client_address(
            socket_peer(request.extensions()),
            request.headers(),
            &log.trusted_proxies,
        ),
        request_id: request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-")
            .to_owned(),
    });
    let method = log.counting.then(|| method_label(request.method()));
    let response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    if let Some(method) = method {
        let route = response
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "fallback".to_owned(), |route| route.as_str().to_owned());
        metrics::counter!(
            "latchkey_http_requests_total",
            "method" => method,
            "route" => route.clone(),
            "status" => status.to_string(),
        )
        .increment(1);
        metrics::histogram!(
            "latchkey_http_request_duration_seconds",
            "method" => method,
            "route" => route,
        )
        .record(latency.as_secs_f64());
    }
    if let Some(line) = line {
        tracing::info!(
            target: "latchkey::access",
            method = %line.method,
            path = %line.path,
            status,
            latency_ms = milliseconds(latency),
            client = %line.client,
            request_id = %line.request_id,
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
