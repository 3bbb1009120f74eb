//! What every handler and server function can reach.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::AuthService;
use crate::items::Items;
use crate::settings::Settings;
use crate::store::Store;

/// The server's state, built once at start-up (`server::build_state`). axum
/// clones it for every request, so it is one `Arc`: one count to raise and
/// lower, not one a field.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub(crate) struct Shared {
    /// Leptos's settings (site root, output name, …).
    pub leptos_options: LeptosOptions,
    /// The auth core.
    pub auth: Arc<AuthService>,
    /// The users' items.
    pub items: Items,
    /// The configuration the server started with.
    pub settings: Arc<Settings>,
    /// The store itself, for what asks about the database as such (readiness).
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// The state of a server that shares `shared`.
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What Leptos's handlers take from the state (only they pay for the copy).
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<AuthService> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Items {
    fn from_ref(state: &AppState) -> Self {
        state.items.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}

impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}
