//! Starting the server: state, routes, and the listener.

mod limits;
mod listener;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell};
use crate::auth::AuthService;
use crate::auth::hashing_pool::HashingPool;
use crate::auth::keys::prepare_keyring;
use crate::auth::password::PasswordHasher;
use crate::auth::sessions::{SessionPolicy, Sessions};
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::token::{TokenPolicy, TokenSigner};
use crate::config::Settings;
use crate::store::{self, Store};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos's settings (site root, output name, …).
    pub leptos_options: LeptosOptions,
    /// The auth core.
    pub auth: Arc<AuthService>,
    /// Users and items.
    pub store: Arc<dyn Store>,
    /// The configuration the server started with.
    pub settings: Arc<Settings>,
}

/// A failure while starting up, with a message for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

fn startup<E: std::fmt::Display>(context: &'static str) -> impl FnOnce(E) -> StartupError {
    move |e| StartupError(format!("{context}: {e}"))
}

/// Opens the store, loads the signing key and builds the auth core.
pub async fn build_state(settings: &Settings) -> Result<AppState, StartupError> {
    let store = store::open(&settings.database_url, &settings.data_dir)
        .await
        .map_err(startup("cannot open the store"))?;
    let lifetime = Duration::from_secs(settings.access_token_minutes * 60);
    let keyring = prepare_keyring(
        store.as_ref(),
        std::env::var("LATCHKEY_SECRET_KEY").ok(),
        &settings.data_dir,
        settings.key_algorithm(),
        lifetime.as_secs(),
    )
    .await
    .map_err(startup("cannot load the signing key"))?;
    let hasher = PasswordHasher::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
    )
    .map_err(startup("bad password policy"))?;
    let non_empty = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let signer = TokenSigner::new(
        keyring,
        TokenPolicy {
            lifetime,
            issuer: non_empty(&settings.token_issuer),
            audience: non_empty(&settings.token_audience),
        },
    );
    let day = Duration::from_secs(24 * 3600);
    let sessions = Sessions::new(
        store.clone(),
        signer,
        SessionPolicy {
            refresh_lifetime: day * u32::try_from(settings.refresh_token_days).unwrap_or(u32::MAX),
            max_lifetime: day * u32::try_from(settings.session_max_days).unwrap_or(u32::MAX),
        },
    );
    let throttle = ThrottlePolicy {
        account_failures: settings.throttle_account_failures,
        address_failures: settings.throttle_address_failures,
        base_seconds: settings.throttle_base_seconds,
        max_seconds: settings.throttle_max_seconds,
        reset_seconds: settings.throttle_reset_minutes.saturating_mul(60),
    };
    let hashing = HashingPool::new(
        settings.password_hash_concurrency,
        settings.password_hash_queue,
    );
    let auth = tokio::task::spawn_blocking({
        let store = store.clone();
        move || AuthService::new(store, hasher, sessions, throttle, hashing)
    })
    .await
    .map_err(startup("cannot build the auth core"))?;
    Ok(AppState {
        leptos_options: leptos_options(settings),
        auth: Arc::new(auth),
        store,
        settings: Arc::new(settings.clone()),
    })
}

fn leptos_options(settings: &Settings) -> LeptosOptions {
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
    options
}

/// The whole application: JSON API, Swagger UI, and the Leptos pages.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let settings = state.settings.clone();
    let app = crate::api::router(&settings)
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    let app = limits::apply(app, &settings);
    crate::security_headers::apply(app, settings.hsts_max_age_seconds)
}

/// Serves until Ctrl-C or SIGTERM, then lets the requests in flight finish.
pub async fn serve(settings: Settings) -> Result<(), StartupError> {
    let state = build_state(&settings).await?;
    let app = router(state);
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
