//! The server, composed: the state built from the settings, the JSON API, the
//! docs and the pages under one router, HTTP hardening around them (limits,
//! security headers, CORS), request ids and the access log around everything,
//! the metrics, and the listener.

mod access_log;
mod assets;
mod cors;
mod limits;
mod listener;
mod metrics;
mod request_id;
mod security_headers;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler as _;
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell};
use crate::auth::accounts::Accounts;
use crate::auth::authorization_cache::AuthorizationCache;
use crate::auth::hashing_pool::{Hashing, HashingPool};
use crate::auth::keyring::prepare_keyring;
use crate::auth::sessions::Sessions;
use crate::auth::token::TokenSigner;
use crate::auth::{AuthService, LoginPolicy};
use crate::items::Items;
use crate::settings::Settings;
use crate::state::{AppState, Shared};
use crate::store;

/// A failure while starting up, with a message for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StartupError(String);

fn startup<E: std::fmt::Display>(context: &'static str) -> impl FnOnce(E) -> StartupError {
    move |e| StartupError(format!("{context}: {e}"))
}

/// Opens the store, loads the signing keys and builds the auth core.
async fn build_state(settings: &Settings) -> Result<AppState, StartupError> {
    let store = store::open_with(
        settings.database_url.as_deref(),
        &settings.data_dir,
        settings.store_options(),
    )
    .await
    .map_err(startup("cannot open the store"))?;
    // Listening before the keyring is read: no change after that read is missed.
    let changes = store
        .changes()
        .await
        .map_err(startup("cannot listen for changes in the database"))?;
    let token_policy = settings.token_policy();
    let keyring = prepare_keyring(
        store.as_ref(),
        std::env::var("LATCHKEY_SECRET_KEY").ok(),
        &settings.data_dir,
        settings.signing_algorithm,
        token_policy.lifetime,
    )
    .await
    .map_err(startup("cannot load the signing key"))?;
    let hasher = settings
        .password_hasher()
        .map_err(startup("bad Argon2 settings"))?;
    let sessions = Sessions::new(
        store.clone(),
        AuthorizationCache::new(store.clone(), settings.cache_policy()),
        TokenSigner::new(keyring, token_policy),
        settings.session_policy(),
    );
    if let Some(feed) = changes {
        tokio::spawn(sessions.clone().follow_changes(feed));
    }
    let hashing = Hashing {
        logins: HashingPool::new(
            "logins",
            settings.password_hash_concurrency,
            settings.password_hash_queue,
        ),
        sign_ups: HashingPool::new(
            "sign_ups",
            settings.signup_hash_concurrency,
            settings.signup_hash_queue,
        ),
    };
    let login = LoginPolicy {
        throttle: settings.throttle_policy(),
        device_cookie_lifetime: settings.device_cookie_lifetime(),
    };
    let auth = AuthService::new(
        store.clone(),
        Accounts::new(store.clone(), hasher),
        settings.self_registration,
        sessions,
        login,
        hashing,
        settings.rate_policy(),
    );
    // Reads the kinds of hash; their timing goes on while the server serves.
    auth.learn_hash_kinds()
        .await
        .map_err(startup("cannot read the password hashes"))?;
    Ok(AppState::new(Shared {
        leptos_options: leptos_options(settings)?,
        auth: Arc::new(auth),
        items: Items::new(store.clone()),
        settings: Arc::new(settings.clone()),
        store,
    }))
}

fn leptos_options(settings: &Settings) -> Result<LeptosOptions, StartupError> {
    // cargo-leptos passes the build's settings (output name, reload port, …) as
    // LEPTOS_* variables; a plain `cargo build` has none of them.
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = built_by_cargo_leptos
        .then(|| leptos::config::get_configuration(None).ok())
        .flatten()
        .map(|conf| conf.leptos_options)
        .unwrap_or_else(|| LeptosOptions::builder().output_name("latchkey").build());
    options.site_addr = settings.site_addr;
    options.site_root = settings.site_root.as_str().into();
    assets::locate_hashes(&mut options)?;
    Ok(options)
}

/// What the listener serves: an axum `Router`, or a tower stack around one.
pub(crate) trait HttpService:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> HttpService for T where
    T: tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// The whole application: JSON API, Swagger UI, and the Leptos pages, with the
/// metrics route when they are served on the site's port.
fn router(state: AppState, metrics_on_site: Option<Router>) -> Router {
    let routes = generate_route_list(App);
    let options = Arc::new(state.leptos_options.clone());
    let settings = state.settings.clone();
    let api = cors::apply(crate::api::routes(), &settings.cors_allowed_origins);
    let pkg_files = assets::pkg_files(&options);
    // The public files (the icon), or the not-found page.
    let fallback = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        security_headers::set_page_headers,
        shell,
    )
    .layer(tower::util::MapResponseLayer::new(
        assets::cache_public_file::<axum::body::Body>,
    ));
    let app = api
        .merge(security_headers::for_docs(crate::api::docs()))
        .leptos_routes_with_context(
            &state,
            routes,
            security_headers::set_page_headers,
            move || shell((*options).clone()),
        )
        .merge(pkg_files)
        .fallback(fallback)
        .with_state(state);
    match metrics_on_site {
        Some(metrics) => app.merge(metrics),
        None => app,
    }
}

/// The router inside what every request passes through, outermost first: the
/// request id, the access log and metrics, the security headers, the limits.
///
/// These wrap the router once, not each of its routes (as `Router::layer` would),
/// so a request clones and boxes no service on its way in.
fn with_middleware(router: Router, settings: &Settings) -> impl HttpService {
    let router = access_log::label_routes(router, settings);
    let service = limits::wrap(router, settings);
    let service = security_headers::wrap(service, settings.hsts_max_age_seconds);
    let service = access_log::wrap(service, settings);
    request_id::wrap(service, &settings.trusted_proxies)
}

/// Serves until Ctrl-C or SIGTERM, then lets the requests in flight finish.
pub(crate) async fn serve(settings: Settings) -> Result<(), StartupError> {
    let state = build_state(&settings).await?;
    tokio::spawn(clean_up_periodically(
        state.auth.clone(),
        settings.session_cleanup_interval(),
    ));
    tokio::spawn(keep_learning_hash_kinds(state.auth.clone()));
    let metrics_on_site = match metrics::install(&settings, state.store.clone())? {
        metrics::MetricsRoute::Off => None,
        metrics::MetricsRoute::OnSite(route) => Some(route),
        metrics::MetricsRoute::Apart(route, addr) => {
            metrics::serve_apart(route, addr).await?;
            None
        }
    };
    let app = with_middleware(router(state, metrics_on_site), &settings);
    let listener = tokio::net::TcpListener::bind(settings.site_addr)
        .await
        .map_err(startup("cannot listen on the site address"))?;
    let addr = listener
        .local_addr()
        .map_err(startup("cannot read the bound address"))?;
    tracing::info!("latchkey listening on http://{addr}");
    // Handlers see the socket peer (`ConnectInfo<SocketAddr>`), which the login
    // throttle keys on.
    listener::serve(listener, app, &settings, shutdown_signal()).await;
    Ok(())
}

/// How often the auth core looks for kinds of password hash it has not timed yet
/// (`latchkey user import` may add some while the server runs).
const HASH_KINDS_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Times the kinds of password hash added to the store since the last look, so a
/// kind imported while the server runs paces failed logins within a minute. A
/// look is one query that answers a hash of each kind, not every user's.
async fn keep_learning_hash_kinds(auth: Arc<AuthService>) {
    let mut every = tokio::time::interval(HASH_KINDS_REFRESH);
    every.tick().await;
    loop {
        every.tick().await;
        if let Err(e) = auth.learn_hash_kinds().await {
            tracing::warn!(error = %e, "could not read the password hashes");
        }
    }
}

/// Deletes ended sessions and idle rate counts every `interval`, so no table or
/// map grows with sessions that can no longer be used.
async fn clean_up_periodically(auth: Arc<AuthService>, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        auth.clean_up().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
