//! One task at a time across every tab of this site: the Web Locks API
//! (`navigator.locks.request`), called through js-sys. (web-sys has bindings for it
//! only behind the `web_sys_unstable_apis` cfg, which every build, cargo-leptos's
//! included, would have to pass to rustc.)

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::FutureExt as _;
use futures::future::LocalBoxFuture;
use leptos::web_sys::js_sys::{Function, Promise, Reflect, global};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// Runs `task` while holding the exclusive lock `name`, which every tab (and
/// worker) of this origin shares: the tasks of other tabs asking for it wait
/// until this one is done, and the other way round. Without the Web Locks API
/// (an old browser, or no secure context), or if the lock cannot be asked for,
/// `task` runs at once.
///
/// `None` only if the browser granted the lock and then dropped the task
/// unfinished, which it does not do.
pub(crate) async fn exclusively<T: 'static>(
    name: &str,
    task: impl Future<Output = T> + 'static,
) -> Option<T> {
    let task: Rc<RefCell<Option<LocalBoxFuture<'static, T>>>> =
        Rc::new(RefCell::new(Some(task.boxed_local())));
    let outcome: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    if let Some((locks, request)) = lock_manager() {
        let callback = {
            let (task, outcome) = (task.clone(), outcome.clone());
            // Called once the lock is granted; the lock is held until the promise
            // it returns settles.
            Closure::once_into_js(move |_lock: JsValue| -> Promise {
                future_to_promise(async move {
                    let next = task.borrow_mut().take();
                    if let Some(next) = next {
                        let value = next.await;
                        outcome.borrow_mut().replace(value);
                    }
                    Ok(JsValue::UNDEFINED)
                })
            })
        };
        let granted = request
            .call2(&locks, &JsValue::from_str(name), &callback)
            .and_then(|value| value.dyn_into::<Promise>());
        if let Ok(promise) = granted {
            // Settles after the callback's promise has.
            let _ = JsFuture::from(promise).await;
        }
    }
    let done = outcome.borrow_mut().take();
    if done.is_some() {
        return done;
    }
    // The lock could not be asked for (or its request failed before granting it).
    let unstarted = task.borrow_mut().take();
    match unstarted {
        Some(task) => Some(task.await),
        None => None,
    }
}

/// `navigator.locks` and its `request` method, if this browser has them.
fn lock_manager() -> Option<(JsValue, Function)> {
    let navigator = Reflect::get(&global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    let request = Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}
