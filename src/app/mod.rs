//! The browser UI: Leptos pages rendered on the server and hydrated in the
//! browser. Pages call the server functions of [`server_fns`], which run the same
//! auth core as the JSON API.

mod error;
mod navigation;
mod pages;
mod server_fns;
mod tokens;
#[cfg(feature = "hydrate")]
mod web_locks;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{Lazy, SsrMode, path};

/// The HTML document around the app (server side only).
#[cfg(feature = "ssr")]
pub(crate) fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <leptos_meta::HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: its routes and the pieces every page shares.
#[component]
pub(crate) fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    // Keep the session's access token fresh while the app is open.
    Effect::new(|_| tokens::schedule_renewal());
    view! {
        <Title text="latchkey"/>
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"latchkey"</a>
            </header>
            <main>
                <FlatRoutes fallback=pages::NotFoundPage>
                    <Route path=path!("/") view=pages::HomePage/>
                    // Pages that wait for the server (is registration open?) are
                    // rendered whole before the first byte is sent (`Async`): a
                    // streamed page can be finished after its client hung up,
                    // which leptos does not survive (leptos-rs/leptos#3595).
                    <Route path=path!("/login") view=pages::LoginPage ssr=SsrMode::Async/>
                    // Loaded when shown: the login page carries neither.
                    <Route path=path!("/profile") view={Lazy::<pages::ProfileRoute>::new()}/>
                    <Route path=path!("/signup") view={Lazy::<pages::SignupRoute>::new()} ssr=SsrMode::Async/>
                </FlatRoutes>
            </main>
        </Router>
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
