//! `/profile`: who is signed in, their scopes and their items.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use leptos_router::{LazyRoute, lazy_route};

use super::items::ItemsPanel;
use crate::app::error::AppError;
use crate::app::navigation::{LoginReason, login_url};
use crate::app::server_fns::{Profile, load_profile};
use crate::app::tokens::{forget, sign_out, stored_token, with_fresh_token};

/// Sends the user to the login page when the server refused the session: the token
/// is forgotten and the page says why.
pub(crate) fn leave_if_rejected(
    error: &AppError,
    navigate: &impl Fn(&str, NavigateOptions),
) -> bool {
    if !matches!(error, AppError::SessionRejected | AppError::InactiveUser) {
        return false;
    }
    forget();
    navigate(
        &login_url(LoginReason::Expired, "/profile"),
        Default::default(),
    );
    true
}

/// The profile page as a route whose code the browser loads only when it is
/// shown (a file of its own with `cargo leptos --split`), so the login page does
/// not carry it.
pub(crate) struct ProfileRoute;

#[lazy_route]
impl LazyRoute for ProfileRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <ProfilePage/> }.into_any()
    }
}

/// The signed-in user's profile. Without a session, or with one the server
/// refuses, the user is sent to the login page with the reason.
#[component]
pub(crate) fn ProfilePage() -> impl IntoView {
    let navigate = use_navigate();
    let profile = LocalResource::new(move || async move {
        if stored_token().is_none() {
            return Err(None);
        }
        with_fresh_token(load_profile()).await.map_err(Some)
    });
    Effect::new({
        let navigate = navigate.clone();
        move |_| match profile.get() {
            Some(Err(None)) => navigate(
                &login_url(LoginReason::SignIn, "/profile"),
                Default::default(),
            ),
            Some(Err(Some(error))) => {
                leave_if_rejected(&error, &navigate);
            }
            _ => {}
        }
    });
    // The items panel lives outside the profile's Suspense, so reloading the list
    // never re-mounts it (the form keeps its focus).
    let items_allowed = move || matches!(profile.get(), Some(Ok(ref p)) if p.items_allowed);
    let signing_out = Action::new_local(|_: &()| sign_out());
    Effect::new(move |_| {
        if signing_out.value().get().is_some() {
            navigate(
                &format!("/login?reason={}", LoginReason::SignedOut.as_param()),
                Default::default(),
            );
        }
    });
    let pending = signing_out.pending();
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let loading = || view! { <p class="loading">"Loading your profile…"</p> };

    view! {
        <Title text="Your profile · latchkey"/>
        // The profile is read in the browser only (its token is there): the
        // server renders the loading line and never awaits it.
        <Show when=move || live.get() fallback=loading>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(profile) => view! { <ProfileCard profile/> }.into_any(),
                        Err(Some(error)) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                        Err(None) => view! { <p class="loading">"Redirecting to sign in…"</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Show>
        <Show when=items_allowed>
            <ItemsPanel/>
        </Show>
        <p class="actions">
            <button type="button" class="secondary" disabled=pending on:click=move |_| { signing_out.dispatch(()); }>
                {move || if pending.get() { "Signing out…" } else { "Sign out" }}
            </button>
        </p>
    }
}

/// The user's details.
#[component]
fn ProfileCard(profile: Profile) -> impl IntoView {
    let Profile {
        user,
        scopes,
        items_allowed,
    } = profile;
    let scopes = if scopes.is_empty() {
        "none".to_owned()
    } else {
        scopes.join(", ")
    };
    let name = user
        .full_name
        .clone()
        .unwrap_or_else(|| user.username.clone());
    view! {
        <section class="card" aria-labelledby="profile-heading">
            <h1 id="profile-heading">{name}</h1>
            <dl class="details">
                <dt>"Username"</dt>
                <dd data-field="username">{user.username}</dd>
                <dt>"Full name"</dt>
                <dd data-field="full_name">{user.full_name.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Email"</dt>
                <dd data-field="email">{user.email.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Granted scopes"</dt>
                <dd data-field="scopes">{scopes}</dd>
            </dl>
        </section>
        <Show when=move || !items_allowed>
            <section class="card"><p>"This session does not grant the items scope."</p></section>
        </Show>
    }
}
