//! The browser's tokens: the access and refresh tokens of the user's session, kept
//! in LocalStorage, renewed silently while the app is open, and the
//! server-function client that sends the access token as `Authorization: Bearer`.
//!
//! The tokens are bound to this browser by an HttpOnly cookie the server set at
//! sign-in (see `auth::binding`); the browser sends it by itself, no script here
//! ever sees it. Tabs share the tokens, and renew them one at a time (a Web Lock):
//! a refresh token sent twice would end the session as a reuse.
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

use super::error::AppError;
use crate::model::TokenResponse;
#[cfg(feature = "hydrate")]
use leptos::web_sys;

/// LocalStorage key of the access token.
const TOKEN_KEY: &str = "latchkey.access_token";
/// LocalStorage key of the refresh token.
const REFRESH_KEY: &str = "latchkey.refresh_token";
/// LocalStorage key of the access token's expiry (milliseconds since the epoch).
#[cfg(feature = "hydrate")]
const EXPIRES_KEY: &str = "latchkey.access_expires_at";

/// How long before its expiry an access token is renewed, in milliseconds.
#[cfg(feature = "hydrate")]
const RENEW_MARGIN_MS: f64 = 60_000.0;

/// The Web Lock every tab takes to renew the tokens.
#[cfg(feature = "hydrate")]
const RENEWAL_LOCK: &str = "latchkey-token-renewal";

/// The stored access token, if any (always `None` on the server).
pub(crate) fn stored_token() -> Option<String> {
    read::<String>(TOKEN_KEY).filter(|t| !t.is_empty())
}

/// Keeps the tokens of a login or a refresh, and schedules the next renewal.
pub(crate) fn remember(tokens: &TokenResponse) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        let expires_at = now_ms() + tokens.expires_in as f64 * 1000.0;
        let stored = gloo_storage::LocalStorage::set(TOKEN_KEY, &tokens.access_token)
            .and_then(|_| gloo_storage::LocalStorage::set(REFRESH_KEY, &tokens.refresh_token))
            .and_then(|_| gloo_storage::LocalStorage::set(EXPIRES_KEY, expires_at));
        if let Err(e) = stored {
            leptos::logging::warn!("cannot store the tokens: {e}");
        }
        schedule_renewal();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = tokens;
}

/// Forgets the session's tokens (no-op on the server).
pub(crate) fn forget() {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        for key in [TOKEN_KEY, REFRESH_KEY, EXPIRES_KEY] {
            gloo_storage::LocalStorage::delete(key);
        }
    }
}

/// Ends the session on the server (so its tokens die everywhere), then forgets it.
pub(crate) async fn sign_out() {
    if let Some(refresh_token) = read::<String>(REFRESH_KEY)
        && let Err(e) = super::server_fns::end_session(refresh_token).await
    {
        leptos::logging::warn!("the server could not end the session: {e}");
    }
    forget();
}

/// Renews the access token if it expires within a minute, using the refresh
/// token. Renewals in flight are shared within the tab, and serialised across tabs
/// (a Web Lock), so one refresh token is never sent twice (a second use would end
/// the session). `SessionRejected` if the session is over.
pub(crate) async fn ensure_fresh() -> Result<(), AppError> {
    #[cfg(feature = "hydrate")]
    {
        use futures::FutureExt as _;
        let renewal = RENEWAL.with(|slot| {
            slot.borrow_mut()
                .get_or_insert_with(|| renew().boxed_local().shared())
                .clone()
        });
        let outcome = renewal.await;
        RENEWAL.with(|slot| slot.borrow_mut().take());
        outcome
    }
    #[cfg(not(feature = "hydrate"))]
    Ok(())
}

/// Runs a server function call once the access token is fresh: `call` is a
/// server function's future, which sends the token only when first polled.
pub(crate) async fn with_fresh_token<T>(
    call: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    ensure_fresh().await?;
    call.await
}

#[cfg(feature = "hydrate")]
type Renewal =
    futures::future::Shared<futures::future::LocalBoxFuture<'static, Result<(), AppError>>>;

#[cfg(feature = "hydrate")]
thread_local! {
    static RENEWAL: std::cell::RefCell<Option<Renewal>> = const { std::cell::RefCell::new(None) };
}

/// Renews the tokens if they are due, holding the renewal lock of every tab.
#[cfg(feature = "hydrate")]
async fn renew() -> Result<(), AppError> {
    let Some(seen) = read::<String>(REFRESH_KEY) else {
        return Ok(());
    };
    if !renewal_due() {
        return Ok(());
    }
    super::web_locks::exclusively(RENEWAL_LOCK, move |turn| renew_unless_renewed(seen, turn))
        .await
        .unwrap_or(Err(AppError::Unreachable))
}

/// Renews the tokens, unless another tab has while this one waited for the lock:
/// the stored refresh token is no longer `seen`, or the access token is fresh.
#[cfg(feature = "hydrate")]
async fn renew_unless_renewed(seen: String, turn: super::web_locks::Turn) -> Result<(), AppError> {
    if turn == super::web_locks::Turn::AfterAnother {
        // The tab before this one most likely renewed, but its writes may reach
        // this tab's LocalStorage a moment after the lock does (Chromium hands
        // them between processes on their own).
        stored_value_changes(REFRESH_KEY, &seen, STORAGE_CATCH_UP_MS).await;
    }
    let Some(refresh_token) = read::<String>(REFRESH_KEY) else {
        return Ok(());
    };
    if refresh_token != seen || !renewal_due() {
        // Renewed by another tab: keep this tab's timer going with its tokens.
        schedule_renewal();
        return Ok(());
    }
    match super::server_fns::refresh(refresh_token).await {
        Ok(tokens) => {
            remember(&tokens);
            Ok(())
        }
        Err(AppError::SessionRejected) => {
            forget();
            Err(AppError::SessionRejected)
        }
        Err(other) => Err(other),
    }
}

/// How long a tab that waited for the renewal lock waits for the other tab's
/// renewal to show in its LocalStorage, in milliseconds.
#[cfg(feature = "hydrate")]
const STORAGE_CATCH_UP_MS: u64 = 3_000;

/// Waits until the stored string under `key` is other than `seen` (or gone), for
/// at most `timeout_ms`.
#[cfg(feature = "hydrate")]
async fn stored_value_changes(key: &'static str, seen: &str, timeout_ms: u64) {
    use futures::StreamExt as _;
    use leptos::prelude::{set_timeout_with_handle, window_event_listener};

    let (wake, mut woken) = futures::channel::mpsc::unbounded::<()>();
    // Listening before reading, so that no change falls in between.
    let listener = {
        let wake = wake.clone();
        window_event_listener(leptos::ev::storage, move |event| {
            if event.key().is_none_or(|changed| changed == key) {
                let _ = wake.unbounded_send(());
            }
        })
    };
    // The timer ends the channel, and with it the wait.
    let timer = set_timeout_with_handle(
        move || wake.close_channel(),
        std::time::Duration::from_millis(timeout_ms),
    );
    if let Ok(timer) = timer {
        while read::<String>(key).is_some_and(|value| value == seen) {
            if woken.next().await.is_none() {
                break;
            }
        }
        timer.clear();
    }
    listener.remove();
}

/// Whether the stored access token expires within the margin.
#[cfg(feature = "hydrate")]
fn renewal_due() -> bool {
    read::<f64>(EXPIRES_KEY).is_some_and(|expires_at| expires_at - now_ms() <= RENEW_MARGIN_MS)
}

/// Sets a timer that renews the access token shortly before it expires, while the
/// app is open (no-op on the server or without a session).
pub(crate) fn schedule_renewal() {
    #[cfg(feature = "hydrate")]
    {
        let Some(expires_at) = read::<f64>(EXPIRES_KEY) else {
            return;
        };
        // A little jitter, so that tabs sharing the session do not renew at once.
        let jitter = web_sys::js_sys::Math::random() * 10_000.0;
        let delay = (expires_at - now_ms() - RENEW_MARGIN_MS - jitter).max(0.0);
        leptos::prelude::set_timeout(
            || {
                leptos::task::spawn_local(async {
                    let _ = ensure_fresh().await;
                });
            },
            std::time::Duration::from_millis(delay as u64),
        );
    }
}

#[cfg(feature = "hydrate")]
fn now_ms() -> f64 {
    web_sys::js_sys::Date::now()
}

/// A LocalStorage value (always `None` on the server).
fn read<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage as _;
        gloo_storage::LocalStorage::get::<T>(key).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// The server-function client of the app: the browser's `fetch`, plus the stored
/// token as `Authorization: Bearer`.
pub(crate) struct BearerClient;

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
