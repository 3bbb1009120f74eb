//! The browser's session: the access token in LocalStorage, and the server-function
//! client that sends it as `Authorization: Bearer`.
//!
//! The token exists only in the browser. Rendering on the server never reads it:
//! token-dependent parts render a neutral state and fill in after hydration.

use std::future::Future;

use leptos::server_fn::Bytes;
use leptos::server_fn::client::Client;
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// LocalStorage key of the access token.
pub const TOKEN_KEY: &str = "latchkey.access_token";

/// The stored access token, if any (always `None` on the server).
pub fn stored_token() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        gloo_storage::LocalStorage::get::<String>(TOKEN_KEY)
            .ok()
            .filter(|t| !t.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Keeps `token` for the next requests (no-op on the server).
pub fn store_token(token: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        if let Err(e) = gloo_storage::LocalStorage::set(TOKEN_KEY, token) {
            leptos::logging::warn!("cannot store the session token: {e}");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = token;
}

/// Forgets the token (no-op on the server).
pub fn clear_token() {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        gloo_storage::LocalStorage::delete(TOKEN_KEY);
    }
}

/// The server-function client of the app: the browser's `fetch`, plus the stored
/// token as `Authorization: Bearer`.
pub struct BearerClient;

impl<E, IS, OS> Client<E, IS, OS> for BearerClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(request: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        if let Some(token) = stored_token() {
            request
                .headers()
                .set("Authorization", &format!("Bearer {token}"));
        }
        <BrowserClient as Client<E, IS, OS>>::send(request)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
