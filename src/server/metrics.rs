//! Prometheus metrics at `GET /metrics`, off unless the operator chooses where:
//! on an address of their own (`metrics_addr`), and/or behind a bearer token
//! (`metrics_token`; with no address, on the site's port). The `metrics` crate's
//! macros record everywhere (requests in `access_log`, logins in the auth core,
//! hashing in its pool); here the Prometheus recorder is installed and rendered.
//! With metrics off no recorder is installed and the macros cost nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::{StartupError, startup};
use crate::clock::unix_now;
use crate::settings::{SecretString, Settings};
use crate::store::Store;

/// Histogram buckets of the latencies and waits, in seconds.
const SECONDS_BUCKETS: [f64; 13] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded in when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// How long a scrape waits for the count of active sessions.
const SESSION_COUNT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the metrics are served.
pub(super) enum MetricsRoute {
    /// Not at all.
    Off,
    /// On the site's port, merged into the application.
    OnSite(Router),
    /// On a listener of their own.
    Apart(Router, SocketAddr),
}

/// What a scrape needs.
struct Endpoint {
    handle: PrometheusHandle,
    token: Option<SecretString>,
    store: Arc<dyn Store>,
}

/// Installs the Prometheus recorder if the settings turn metrics on, and returns
/// the `/metrics` route and where it goes.
pub(super) fn install(
    settings: &Settings,
    store: Arc<dyn Store>,
) -> Result<MetricsRoute, StartupError> {
    if !settings.metrics_enabled() {
        return Ok(MetricsRoute::Off);
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .map_err(startup("bad metrics buckets"))?
        .install_recorder()
        .map_err(startup("cannot install the metrics recorder"))?;
    describe();
    tokio::spawn({
        let handle = handle.clone();
        async move {
            let mut every = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        }
    });
    let endpoint = Arc::new(Endpoint {
        handle,
        token: settings.metrics_token.clone(),
        store,
    });
    let router = Router::new()
        .route("/metrics", get(scrape))
        .with_state(endpoint);
    Ok(match settings.metrics_addr {
        Some(addr) => MetricsRoute::Apart(router, addr),
        None => MetricsRoute::OnSite(router),
    })
}

/// Serves `router` (the metrics alone) on `addr` until the process ends.
pub(super) async fn serve_apart(router: Router, addr: SocketAddr) -> Result<(), StartupError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(startup("cannot listen on metrics_addr"))?;
    let addr = listener
        .local_addr()
        .map_err(startup("cannot read the metrics address"))?;
    tracing::info!("metrics on http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the metrics listener failed");
        }
    });
    Ok(())
}

async fn scrape(State(endpoint): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    if let Some(token) = &endpoint.token
        && !presents_token(&headers, token)
    {
        let body = axum::Json(serde_json::json!({"detail": "Not authenticated"}));
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer")],
            body,
        )
            .into_response();
    }
    let count = endpoint.store.count_live_sessions(unix_now());
    match tokio::time::timeout(SESSION_COUNT_TIMEOUT, count).await {
        // Precise up to 2^53 sessions.
        #[allow(clippy::cast_precision_loss)]
        Ok(Ok(live)) => metrics::gauge!("latchkey_active_sessions").set(live as f64),
        Ok(Err(error)) => tracing::warn!(%error, "could not count the active sessions"),
        Err(_) => tracing::warn!("counting the active sessions took too long"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        endpoint.handle.render(),
    )
        .into_response()
}

/// Whether the request carries exactly one `Authorization: Bearer` header with
/// `token`, compared in constant time (of the digests, so the length does not
/// show either).
fn presents_token(headers: &HeaderMap, token: &SecretString) -> bool {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Some((scheme, presented)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return false;
    };
    let expected = Sha256::digest(token.expose().as_bytes());
    let presented = Sha256::digest(presented.trim().as_bytes());
    scheme.eq_ignore_ascii_case("bearer") && bool::from(expected.ct_eq(&presented))
}

/// The HELP lines of latchkey's own metrics.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "latchkey_http_requests_total",
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        "latchkey_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a request's head to its response's head, by method and route template"
    );
    describe_counter!(
        "latchkey_logins_total",
        "Password logins (POST /token, browser sign-in) by outcome"
    );
    describe_gauge!(
        "latchkey_password_hash_queue_depth",
        "Password checks waiting for a hashing slot, by pool"
    );
    describe_histogram!(
        "latchkey_password_hash_wait_seconds",
        metrics::Unit::Seconds,
        "Time a password check waited for a hashing slot, by pool"
    );
    describe_counter!(
        "latchkey_password_hash_refused_total",
        "Password checks refused (503) because the hashing queue was full, by pool"
    );
    describe_gauge!(
        "latchkey_active_sessions",
        "Sessions a refresh could still renew, counted in the database at each scrape"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_the_exact_bearer_token_opens_the_metrics() {
        let token: SecretString = serde_json::from_str("\"0123456789abcdef0123\"").unwrap();
        assert!(presents_token(
            &with_authorization(&["Bearer 0123456789abcdef0123"]),
            &token
        ));
        assert!(presents_token(
            &with_authorization(&["bearer 0123456789abcdef0123"]),
            &token
        ));
        for refused in [
            &[][..],
            &["Bearer 0123456789abcdef012"][..],
            &["Bearer 0123456789abcdef01234"][..],
            &["Basic 0123456789abcdef0123"][..],
            &["0123456789abcdef0123"][..],
            &["Bearer 0123456789abcdef0123", "Bearer 0123456789abcdef0123"][..],
        ] {
            assert!(
                !presents_token(&with_authorization(refused), &token),
                "{refused:?}"
            );
        }
    }
}
