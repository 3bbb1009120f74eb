//! `/profile`: who is signed in, their scopes and their items.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::items::ItemsPanel;
use crate::app::error::AppError;
use crate::app::navigation::{LoginReason, login_url};
use crate::app::server_fns::{Profile, load_profile};
use crate::app::session::{clear_token, stored_token};

/// The signed-in user's profile. Without a session, or with one the server
/// refuses, the user is sent to the login page with the reason.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let navigate = use_navigate();
    let reload = RwSignal::new(0_u32);
    let item_message = RwSignal::new(None::<String>);
    let profile = LocalResource::new(move || {
        reload.track();
        async move {
            if stored_token().is_none() {
                return Err(None);
            }
            load_profile().await.map_err(Some)
        }
    });
    Effect::new({
        let navigate = navigate.clone();
        move |_| match profile.get() {
            Some(Err(None)) => navigate(
                &login_url(LoginReason::SignIn, "/profile"),
                Default::default(),
            ),
            Some(Err(Some(AppError::SessionRejected | AppError::InactiveUser))) => {
                clear_token();
                navigate(
                    &login_url(LoginReason::Expired, "/profile"),
                    Default::default(),
                );
            }
            _ => {}
        }
    });
    let sign_out = move |_| {
        clear_token();
        navigate(
            &format!("/login?reason={}", LoginReason::SignedOut.as_param()),
            Default::default(),
        );
    };

    view! {
        <Title text="Your profile · latchkey"/>
        <Transition fallback=|| view! { <p class="loading">"Loading your profile…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(profile) => view! { <ProfileCard profile reload item_message/> }.into_any(),
                    Err(Some(error)) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    Err(None) => view! { <p class="loading">"Redirecting to sign in…"</p> }.into_any(),
                }
            })}
        </Transition>
        <p class="actions">
            <button type="button" class="secondary" on:click=sign_out>"Sign out"</button>
        </p>
    }
}

/// The user's details and items.
#[component]
fn ProfileCard(
    profile: Profile,
    reload: RwSignal<u32>,
    item_message: RwSignal<Option<String>>,
) -> impl IntoView {
    let Profile {
        user,
        scopes,
        items,
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
        {match items {
            Some(items) => view! { <ItemsPanel items reload message=item_message/> }.into_any(),
            None => view! {
                <section class="card"><p>"This session does not grant the items scope."</p></section>
            }.into_any(),
        }}
    }
}
