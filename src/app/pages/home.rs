//! `/`: sends people to their profile, or to the login page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::app::navigation::DEFAULT_LANDING;
use crate::app::tokens::stored_token;

/// Redirects once hydrated: the token lives only in the browser.
#[component]
pub(crate) fn HomePage() -> impl IntoView {
    let navigate = use_navigate();
    Effect::new(move |_| {
        let target = if stored_token().is_some() {
            DEFAULT_LANDING
        } else {
            "/login"
        };
        navigate(target, Default::default());
    });
    view! {
        <Title text="latchkey"/>
        <p class="loading">"Loading…"</p>
    }
}
