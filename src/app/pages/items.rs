//! The items panel of the profile page: list, add and delete.

use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_router::hooks::use_navigate;

use super::profile::leave_if_rejected;
use crate::app::error::AppError;
use crate::app::server_fns::{add_item, delete_item, list_items};
use crate::app::tokens::with_fresh_token;
use crate::model::{Item, NewItem};

/// The user's items and the form to add one. Only the list reloads after a change,
/// so the form (and the keyboard focus in it) stays put.
#[component]
pub(crate) fn ItemsPanel() -> impl IntoView {
    let item_id = NodeRef::<Input>::new();
    let description = NodeRef::<Input>::new();
    let message = RwSignal::new(None::<String>);
    let reload = RwSignal::new(0_u32);
    let items = LocalResource::new(move || {
        reload.track();
        with_fresh_token(list_items())
    });

    let add = Action::new_local(|item: &NewItem| with_fresh_token(add_item(item.clone())));
    let remove = Action::new_local(|id: &String| with_fresh_token(delete_item(id.clone())));
    let navigate = use_navigate();
    let report = move |error: AppError| {
        if !leave_if_rejected(&error, &navigate) {
            message.set(Some(error.to_string()));
        }
    };
    Effect::new({
        let report = report.clone();
        move |_| match add.value().get() {
            Some(Ok(item)) => {
                message.set(Some(format!("Added {}.", item.item_id)));
                if let Some(input) = item_id.get_untracked() {
                    input.set_value("");
                    let _ = input.focus();
                }
                if let Some(input) = description.get_untracked() {
                    input.set_value("");
                }
                reload.update(|n| *n += 1);
            }
            Some(Err(error)) => report(error),
            None => {}
        }
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(())) => {
            message.set(Some("Item deleted.".into()));
            reload.update(|n| *n += 1);
        }
        Some(Err(error)) => report(error),
        None => {}
    });

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = |input: NodeRef<Input>| input.get().map(|i| i.value()).unwrap_or_default();
        let item = NewItem {
            item_id: value(item_id),
            description: Some(value(description)),
        }
        .normalized();
        // The shared item rules, checked before sending; the server checks them again.
        if item.item_id.trim().is_empty() {
            message.set(Some("Enter an item id.".into()));
            return;
        }
        if let Some(broken) = item.violations().into_iter().next() {
            message.set(Some(broken.message));
            return;
        }
        add.dispatch(item);
    };
    let pending = add.pending();

    view! {
        <section class="card" aria-labelledby="items-heading">
            <h2 id="items-heading">"Your items"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading your items…"</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(items) => view! { <ItemList items remove/> }.into_any(),
                        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <form class="stack" on:submit=on_submit>
                <label for="item-id">"Item id"</label>
                <input id="item-id" name="item_id" type="text" required autocomplete="off" node_ref=item_id/>
                <label for="item-description">"Description (optional)"</label>
                <input id="item-description" name="description" type="text" autocomplete="off" node_ref=description/>
                <p class="message" id="item-message" role="status" aria-live="polite">{move || message.get()}</p>
                <button type="submit" disabled=pending>"Add item"</button>
            </form>
        </section>
    }
}

/// The list, each item with its delete button.
#[component]
fn ItemList(items: Vec<Item>, remove: Action<String, Result<(), AppError>>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">"No items yet."</p> }.into_any();
    }
    view! {
        <ul class="items">
            {items
                .into_iter()
                .map(|item| {
                    let id = item.item_id.clone();
                    let label = format!("Delete {}", item.item_id);
                    let marker = item.item_id.clone();
                    view! {
                        <li data-item=marker>
                            <span class="item-id">{item.item_id}</span>
                            <span class="muted">{item.description.unwrap_or_default()}</span>
                            <button
                                type="button"
                                class="secondary small"
                                aria-label=label
                                on:click=move |_| {
                                    remove.dispatch(id.clone());
                                }
                            >
                                "Delete"
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
