//! One task at a time across every tab of this site: the Web Locks API
//! (`navigator.locks.request`), called through js-sys. (web-sys has bindings for it
//! only behind the `web_sys_unstable_apis` cfg, which every build, cargo-leptos's
//! included, would have to pass to rustc.)

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::FutureExt as _;
use futures::future::LocalBoxFuture;
use leptos::web_sys::js_sys::{Function, Object, Promise, Reflect, global};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// Whether the lock was held by someone else when it was asked for, so that the
/// task ran after theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// The lock was free.
    Free,
    /// Another task held the lock; this one waited for it.
    AfterAnother,
}

type Task<T> = Box<dyn FnOnce(Turn) -> LocalBoxFuture<'static, T>>;

/// Runs `task` while holding the exclusive lock `name`, which every tab (and
/// worker) of this origin shares: the tasks of other tabs asking for it wait
/// until this one is done, and the other way round. `task` is told whether it
/// waited for another. Without the Web Locks API (an old browser, or no secure
/// context), or if the lock cannot be asked for, `task` runs at once.
///
/// `None` only if the browser granted the lock and then dropped the task
/// unfinished, which it does not do.
pub(crate) async fn exclusively<T: 'static, F>(
    name: &str,
    task: impl FnOnce(Turn) -> F + 'static,
) -> Option<T>
where
    F: Future<Output = T> + 'static,
{
    let task: Task<T> = Box::new(move |turn| task(turn).boxed_local());
    let task = Rc::new(RefCell::new(Some(task)));
    let outcome: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    if let Some((locks, request)) = lock_manager() {
        // First only if it is free, then waiting for it.
        for turn in [Turn::Free, Turn::AfterAnother] {
            hold(&locks, &request, name, turn, &task, &outcome).await;
            let done = outcome.borrow_mut().take();
            if done.is_some() {
                return done;
            }
            if task.borrow().is_none() {
                return None;
            }
        }
    }
    // The lock could not be asked for (or its request failed before granting it).
    let unstarted = task.borrow_mut().take();
    match unstarted {
        Some(task) => Some(task(Turn::Free).await),
        None => None,
    }
}

/// Asks for the lock once (`Turn::Free`: only if nobody holds it) and runs the
/// task in it if granted; returns when the lock is let go, or could not be had.
async fn hold<T: 'static>(
    locks: &JsValue,
    request: &Function,
    name: &str,
    turn: Turn,
    task: &Rc<RefCell<Option<Task<T>>>>,
    outcome: &Rc<RefCell<Option<T>>>,
) {
    let options = Object::new();
    if turn == Turn::Free && Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE).is_err()
    {
        return;
    }
    let callback = {
        let (task, outcome) = (task.clone(), outcome.clone());
        // Called once the lock is granted (with `null` if it was busy and only
        // asked for if free); the lock is held until the promise it returns settles.
        Closure::once_into_js(move |lock: JsValue| -> Promise {
            future_to_promise(async move {
                if lock.is_null() {
                    return Ok(JsValue::UNDEFINED);
                }
                let next = task.borrow_mut().take();
                if let Some(next) = next {
                    let value = next(turn).await;
                    outcome.borrow_mut().replace(value);
                }
                Ok(JsValue::UNDEFINED)
            })
        })
    };
    let granted = request
        .call3(locks, &JsValue::from_str(name), &options, &callback)
        .and_then(|value| value.dyn_into::<Promise>());
    if let Ok(promise) = granted {
        // Settles after the callback's promise has.
        let _ = JsFuture::from(promise).await;
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
