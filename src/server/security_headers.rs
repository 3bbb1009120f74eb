//! Security headers: a Content-Security-Policy per kind of response (pages with
//! Leptos's per-request nonce, Swagger UI, everything else), and the headers every
//! response carries, `Strict-Transport-Security` included when configured. Pages
//! are never kept by caches without asking (`no-cache`).

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use super::HttpService;

/// For responses that are not pages (JSON, files): nothing may run or be framed.
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// For Swagger UI: its scripts, styles and images come from latchkey itself; it
/// calls only latchkey's API.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Sets the page's Content-Security-Policy, built around the nonce Leptos puts on
/// its inline scripts, and `Cache-Control: no-cache`: a page is asked for again on
/// every visit (its nonce is new each time; the files it names are cached, see
/// `assets`). Runs in the context of every page (and server function, which has no
/// nonce and sets its own caching).
pub(super) fn set_page_headers() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let live_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce.to_string(), live_reload)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
    response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// For the app's pages: inline scripts only with this response's `nonce`, the
/// WebAssembly module from this site, and nothing from other origins.
/// `live_reload` (under `cargo leptos watch`) also allows the reload socket.
fn page_csp(nonce: &str, live_reload: bool) -> String {
    let connect = if live_reload { "'self' ws:" } else { "'self'" };
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src {connect}; font-src 'self'; manifest-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// The `Strict-Transport-Security` value for `max_age` seconds, or `None` for 0.
fn hsts(max_age: u64) -> Option<HeaderValue> {
    if max_age == 0 {
        return None;
    }
    HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")).ok()
}

/// `docs` with Swagger UI's own Content-Security-Policy.
pub(super) fn for_docs<S: Clone + Send + Sync + 'static>(docs: Router<S>) -> Router<S> {
    docs.layer(SetResponseHeaderLayer::overriding(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    ))
}

/// Wraps `inner` in the headers every response gets (those a response set itself,
/// such as a page's CSP, win), and HSTS when `hsts_max_age` is not 0.
pub(super) fn wrap(inner: impl HttpService, hsts_max_age: u64) -> impl HttpService {
    ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        ))
        .option_layer(
            hsts(hsts_max_age)
                .map(|value| SetResponseHeaderLayer::overriding(STRICT_TRANSPORT_SECURITY, value)),
        )
        .service(inner)
}
