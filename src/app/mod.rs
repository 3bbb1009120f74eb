//! The browser UI: Leptos pages rendered on the server and hydrated in the
//! browser. Pages call the server functions of [`server_fns`], which run the same
//! auth core as the JSON API.

pub mod error;
mod navigation;
mod pages;
pub mod server_fns;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: its routes and the pieces every page shares.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    // Keep the session's access token fresh while the app is open.
    Effect::new(|_| session::schedule_renewal());
    view! {
        <Stylesheet id="leptos" href="/pkg/latchkey.css"/>
        <Title text="latchkey"/>
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"latchkey"</a>
            </header>
            <main>
                <Routes fallback=pages::NotFoundPage>
                    <Route path=path!("/") view=pages::HomePage/>
                    <Route path=path!("/login") view=pages::LoginPage/>
                    <Route path=path!("/profile") view=pages::ProfilePage/>
                    <Route path=path!("/signup") view=pages::SignupPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// Sends this page's Content-Security-Policy, built around the nonce Leptos puts
/// on its inline scripts.
#[cfg(feature = "ssr")]
fn set_page_csp() {
    use axum::http::HeaderValue;
    use axum::http::header::CONTENT_SECURITY_POLICY;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let live_reload = std::env::var_os("LEPTOS_WATCH").is_some();
    let policy = crate::security_headers::page_csp(&nonce.to_string(), live_reload);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// Sets `data-hydrated` on `<body>` once the page is live, so tests (and people
/// automating the app) never act on a page that cannot answer yet.
fn mark_hydrated() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
