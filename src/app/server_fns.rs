//! The server functions the pages call: the browser's front door to the auth core
//! and the items module, beside the JSON API (neither calls the other). Signing in
//! is the core's password grant, every other call passes the core's authorization
//! with the same requirement as the JSON route that does the same thing.
//!
//! Signing in binds the session to this browser: the answer sets the fingerprint
//! cookie (HttpOnly, so the page's scripts never see it), and the session's tokens
//! work only with it. Signing out clears it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::tokens::BearerClient;
use crate::model::{Item, NewAccount, NewItem, TokenResponse, User};

/// What the profile page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// The signed-in user.
    pub user: User,
    /// The scopes the session's token grants.
    pub scopes: Vec<String>,
    /// Whether the token grants what reading and changing items needs.
    pub items_allowed: bool,
}

/// Checks the password like `POST /token` and returns tokens for all the user's
/// allowed scopes, of a session bound to this browser by a new fingerprint cookie;
/// the browser also gets a new device cookie, so that failed logins elsewhere
/// cannot lock it out of this account.
#[server(prefix = "/api", endpoint = "login", client = BearerClient)]
pub(crate) async fn login(username: String, password: String) -> Result<TokenResponse, AppError> {
    use self::ssr::*;
    let (state, caller) = request()?;
    let fingerprint = crate::auth::Fingerprint::generate();
    let (tokens, device) = state
        .auth
        .browser_login(
            &username,
            &password,
            caller.client,
            caller.device.as_ref(),
            &fingerprint,
        )
        .await
        .map_err(reply)?;
    set_fingerprint_cookie(Some(&fingerprint), &state);
    never_cache();
    if let Some(device) = device {
        set_device_cookie(&device);
    }
    Ok(tokens.into())
}

/// Swaps the refresh token for new tokens, as `POST /token` with
/// `grant_type=refresh_token` does. The session keeps its binding: the cookie
/// stays as it is.
#[server(prefix = "/api", endpoint = "refresh", client = BearerClient)]
pub(crate) async fn refresh(refresh_token: String) -> Result<TokenResponse, AppError> {
    use self::ssr::*;
    let (state, caller) = request()?;
    let tokens = state
        .auth
        .refresh(
            &refresh_token,
            "",
            caller.client,
            caller.fingerprint.as_ref(),
        )
        .await
        .map_err(reply)?;
    never_cache();
    Ok(tokens.into())
}

/// Ends the session of this refresh token on the server, as `POST /revoke` does,
/// and clears the fingerprint cookie.
#[server(prefix = "/api", endpoint = "end_session", client = BearerClient)]
pub(crate) async fn end_session(refresh_token: String) -> Result<(), AppError> {
    use self::ssr::*;
    let (state, _) = request()?;
    set_fingerprint_cookie(None, &state);
    state
        .auth
        .sessions()
        .revoke_token(&refresh_token)
        .await
        .map_err(reply)?;
    Ok(())
}

/// The signed-in user and their granted scopes.
#[server(prefix = "/api", endpoint = "profile", client = BearerClient)]
pub(crate) async fn load_profile() -> Result<Profile, AppError> {
    use self::ssr::*;
    use crate::auth::Requirement;
    let (_, principal) = authorize(Requirement::READ_PROFILE).await?;
    Ok(Profile {
        items_allowed: Requirement::USE_ITEMS.granted_by(&principal.scopes),
        scopes: principal.scopes.names(),
        user: principal.user.public(),
    })
}

/// The signed-in user's items, as `GET /users/me/items/`.
#[server(prefix = "/api", endpoint = "items", client = BearerClient)]
pub(crate) async fn list_items() -> Result<Vec<Item>, AppError> {
    use self::ssr::*;
    let (state, principal) = authorize(crate::auth::Requirement::USE_ITEMS).await?;
    state
        .items
        .list(&principal.user.username)
        .await
        .map_err(reply)
}

/// Adds an item for the signed-in user, as `POST /users/me/items/`.
#[server(prefix = "/api", endpoint = "add_item", client = BearerClient)]
pub(crate) async fn add_item(item: NewItem) -> Result<Item, AppError> {
    use self::ssr::*;
    let (state, principal) = authorize(crate::auth::Requirement::USE_ITEMS).await?;
    state
        .items
        .add(&principal.user.username, item)
        .await
        .map_err(reply)
}

/// Removes one of the signed-in user's items, as `DELETE /users/me/items/{id}`.
#[server(prefix = "/api", endpoint = "delete_item", client = BearerClient)]
pub(crate) async fn delete_item(item_id: String) -> Result<(), AppError> {
    use self::ssr::*;
    let (state, principal) = authorize(crate::auth::Requirement::USE_ITEMS).await?;
    state
        .items
        .remove(&principal.user.username, &item_id)
        .await
        .map_err(reply)
}

/// Whether self-registration is open on this server.
#[server(prefix = "/api", endpoint = "registration_open", client = BearerClient)]
pub(crate) async fn registration_open() -> Result<bool, AppError> {
    use self::ssr::*;
    let (state, _) = request()?;
    Ok(state.auth.registration_open())
}

/// Creates an account, as `POST /users/` does.
#[server(prefix = "/api", endpoint = "signup", client = BearerClient)]
pub(crate) async fn signup(account: NewAccount) -> Result<User, AppError> {
    use self::ssr::*;
    let (state, caller) = request()?;
    state
        .auth
        .register(account, caller.client)
        .await
        .map(|user| user.public())
        .map_err(reply)
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::http::header::{CACHE_CONTROL, HOST, ORIGIN, PRAGMA, SET_COOKIE};
    use axum::http::request::Parts;
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use leptos::prelude::*;

    use super::AppError;
    use crate::auth::devices::{DEVICE_COOKIE_NAME, IssuedDeviceCookie};
    use crate::auth::{AuthError, CoreError, Credentials, Fingerprint, Principal, Requirement};
    use crate::caller::{Caller, FINGERPRINT_COOKIE};
    use crate::state::AppState;

    /// Where the server functions answer (their `prefix`).
    const SERVER_FN_PREFIX: &str = "/api/";

    /// The server's state (provided to every server function by `leptos_routes`)
    /// and the caller of this request, if the request comes from this site.
    pub(crate) fn request() -> Result<(AppState, Caller), AppError> {
        let state = use_context::<AppState>().ok_or(AppError::Server)?;
        let parts = use_context::<Parts>().ok_or(AppError::Server)?;
        // Only a call over HTTP can come from another site; one made while a page
        // renders on the server belongs to that page's request.
        let over_http = parts.uri.path().starts_with(SERVER_FN_PREFIX);
        if over_http && is_cross_site(&parts.headers) {
            set_status(StatusCode::FORBIDDEN);
            return Err(AppError::CrossSite);
        }
        let caller = Caller::of(&parts, &state.settings);
        Ok((state, caller))
    }

    /// The caller, if the auth core lets them in under `requirement`. The app
    /// signs in with tokens only: HTTP Basic is for the JSON API.
    pub(crate) async fn authorize(
        requirement: Requirement,
    ) -> Result<(AppState, Principal), AppError> {
        let (state, caller) = request()?;
        if matches!(
            caller.credentials,
            Credentials::Basic { .. } | Credentials::MalformedBasic
        ) {
            return Err(reply(AuthError::NotAuthenticated));
        }
        let principal = state
            .auth
            .authorize(
                caller.credentials,
                caller.fingerprint.as_ref(),
                requirement,
                caller.client,
            )
            .await
            .map_err(reply)?;
        Ok((state, principal))
    }

    /// Whether a browser says the request was made by another site's page: its
    /// `Sec-Fetch-Site`, or else an `Origin` that is not this host. Clients that
    /// send neither (not browsers) are not cross-site.
    fn is_cross_site(headers: &HeaderMap) -> bool {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        if let Some(site) = text("sec-fetch-site") {
            return !matches!(site, "same-origin" | "none");
        }
        match (text(ORIGIN.as_str()), text(HOST.as_str())) {
            (Some(origin), Some(host)) => origin
                .split_once("://")
                .is_none_or(|(_, authority)| authority != host),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Tokens in the answer: no cache may keep it.
    pub(crate) fn never_cache() {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            options.insert_header(PRAGMA, HeaderValue::from_static("no-cache"));
        }
    }

    /// Sets the browser's fingerprint cookie to `fingerprint`, or clears it. It
    /// lives as long as a session can, so a renewal never needs a new one.
    pub(crate) fn set_fingerprint_cookie(fingerprint: Option<&Fingerprint>, state: &AppState) {
        let max_age = match fingerprint {
            Some(_) => state.settings.session_policy().max_lifetime,
            None => std::time::Duration::ZERO,
        };
        let value = fingerprint.map_or("", Fingerprint::cookie_value);
        set_host_cookie(FINGERPRINT_COOKIE, value, max_age);
    }

    /// Hands the browser its device cookie.
    pub(crate) fn set_device_cookie(issued: &IssuedDeviceCookie) {
        set_host_cookie(DEVICE_COOKIE_NAME, issued.cookie.value(), issued.lifetime);
    }

    /// Sets a cookie that is only ever sent back to this host (`__Host-`,
    /// `Path=/`), over HTTPS (`Secure`; browsers allow loopback HTTP), never to
    /// scripts (`HttpOnly`) nor with requests other sites start
    /// (`SameSite=Strict`), for `max_age` (zero clears it).
    fn set_host_cookie(name: &'static str, value: &str, max_age: std::time::Duration) {
        let cookie = cookie::Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(true)
            .same_site(cookie::SameSite::Strict)
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .build();
        match (
            HeaderValue::from_str(&cookie.to_string()),
            use_context::<leptos_axum::ResponseOptions>(),
        ) {
            (Ok(header), Some(options)) => options.append_header(SET_COOKIE, header),
            _ => tracing::error!(name, "cannot set a cookie"),
        }
    }

    fn set_status(status: StatusCode) {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(status);
        }
    }

    /// Answers with the HTTP status the JSON API would give `error`, logs a
    /// server-side failure, and tells the page what went wrong.
    pub(crate) fn reply<E: CoreError + Into<AppError>>(error: E) -> AppError {
        if let Some(failure) = error.failure() {
            tracing::error!(error = %failure, "server-side failure in a server function");
        }
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            set_status(status);
        }
        error.into()
    }
}
