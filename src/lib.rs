//! latchkey: a self-hosted login service — FastAPI's OAuth2 password flow with JWT
//! bearer tokens, as a JSON API and a browser app.
//!
//! The folders mirror the architecture: one core, two front doors.
//! - `app`: the browser UI (Leptos pages, rendered on the server and hydrated in
//!   the browser) and its server functions — the browser's front door;
//! - `api`: the JSON API, a drop-in for FastAPI's app — the other front door;
//! - `auth`: the auth core both front doors call: passwords, accounts, scopes,
//!   sessions, tokens, signing keys, the login throttle;
//! - `items`: the users' items, beside the auth core;
//! - `store`: where all of it is kept (SQL);
//! - `server`: the composition — state, router, HTTP hardening, listener;
//! - `logging`: where log lines go, as text or JSON;
//! - `cli`: the command line; [`run`] below serves or hands it an operator's
//!   command, so no module but this root reaches the composition in `server`.
//!
//! Shared by the server and the browser: `model` (the types both see) and
//! `rules` (the rules input must meet). Everything else is server only (feature
//! `ssr`); the browser's entry point is `hydrate` (feature `hydrate`).

mod app;
mod model;
mod rules;

#[cfg(feature = "ssr")]
mod api;
#[cfg(feature = "ssr")]
mod auth;
#[cfg(feature = "ssr")]
mod caller;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
mod clock;
#[cfg(feature = "ssr")]
mod items;
#[cfg(feature = "ssr")]
mod logging;
#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
mod settings;
#[cfg(feature = "ssr")]
mod state;
#[cfg(feature = "ssr")]
mod store;

/// The binary's entry point: serves (`latchkey serve`, the default) or runs an
/// operator's command, with the settings of `Leptos.toml` and the environment.
#[cfg(feature = "ssr")]
pub async fn run(cli: cli::Cli) -> Result<(), cli::CliError> {
    let settings = settings::Settings::load().map_err(cli::CliError::from_display)?;
    logging::init(&settings);
    if cli.serves() {
        server::serve(settings)
            .await
            .map_err(cli::CliError::from_display)
    } else {
        cli::run(cli, &settings).await
    }
}

/// Browser entry point: hydrates the server-rendered page (waiting, on a lazy
/// route, for that route's code).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
