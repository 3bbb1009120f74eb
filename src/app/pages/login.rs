//! `/login`: the sign-in form.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::app::navigation::{LoginReason, safe_next};
use crate::app::server_fns::{login, registration_open};
use crate::app::tokens::remember;

/// The sign-in form. On success the token is kept in the browser and the user goes
/// to the page they wanted (`?next=`, same-site paths only) or their profile.
#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let notice = move || {
        query
            .read()
            .get("reason")
            .and_then(|r| LoginReason::from_param(&r))
            .map(LoginReason::message)
    };
    let prefilled_username = query.read_untracked().get("username").unwrap_or_default();
    let username = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();

    let sign_in = Action::new(|(username, password): &(String, String)| {
        login(username.clone(), password.clone())
    });
    let pending = sign_in.pending();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(token)) = sign_in.value().get() {
            remember(&token);
            let next = safe_next(query.read_untracked().get("next").as_deref());
            navigate(&next, Default::default());
        }
    });
    let error = move || match sign_in.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
        sign_in.dispatch((value(username), value(password)));
    };

    view! {
        <Title text="Sign in · latchkey"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="notice" role="status">{notice}</p>
            <form class="stack" on:submit=on_submit>
                <label for="username">"Username"</label>
                <input
                    id="username"
                    name="username"
                    type="text"
                    autocomplete="username"
                    autocapitalize="none"
                    spellcheck="false"
                    required
                    value=prefilled_username
                    node_ref=username
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=password
                />
                <p class="error" id="login-error" role="alert" aria-live="assertive">{error}</p>
                <button type="submit" disabled=pending aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            <SignupLink/>
        </section>
    }
}

/// "Create an account", where self-registration is open.
#[component]
fn SignupLink() -> impl IntoView {
    let open = Resource::new(|| (), |_| registration_open());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                matches!(open.await, Ok(true))
                    .then(|| view! { <p class="aside">"New here? " <a href="/signup">"Create an account"</a></p> })
            })}
        </Suspense>
    }
}
