//! latchkey: a self-hosted login service.
//!
//! The folders mirror the architecture:
//! - [`app`]: the browser UI (Leptos components, rendered on the server and hydrated),
//! - [`model`]: the types the server and the browser share,
//! - `auth`: the one auth core (passwords, tokens, scopes, credentials) — server only,
//! - `api`: the JSON API, a drop-in for FastAPI's OAuth2 + JWT app — server only,
//! - `store`: users and items in SQL — server only,
//! - `cli`: the operator's command line — server only.

pub mod app;
pub mod model;
pub mod policy;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod security_headers;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod store;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
