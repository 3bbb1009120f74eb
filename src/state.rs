//! What every handler and server function can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::auth::AuthService;
use crate::items::Items;
use crate::settings::Settings;
use crate::store::Store;

/// The server's state, built once at start-up (`server::build_state`). axum
/// clones it for every request: every field is cheap to clone.
#[derive(Clone, FromRef)]
pub(crate) struct AppState {
    /// Leptos's settings (site root, output name, …).
    #[from_ref(skip)]
    pub leptos_options: Arc<LeptosOptions>,
    /// The auth core.
    pub auth: Arc<AuthService>,
    /// The users' items.
    pub items: Items,
    /// The configuration the server started with.
    pub settings: Arc<Settings>,
    /// The store itself, for what asks about the database as such (readiness).
    pub store: Arc<dyn Store>,
}

/// What Leptos's handlers take from the state (only they pay for the copy).
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}
