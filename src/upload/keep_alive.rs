//! While uploads run: ask before the page is left, and keep the screen awake where the Wake
//! Lock API exists (phones stop uploads when they sleep). Browser-only.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// Holds the `beforeunload` listener and the wake-lock sentinel while `busy` is true. The
/// browser drops a wake lock when the page is hidden: it is asked for again on coming back.
/// `locale` words the warning.
pub fn keep_alive_while(busy: Memo<bool>, locale: crate::i18n::Locale) {
    let listeners = StoredValue::new_local(Vec::<WindowListenerHandle>::new());
    let sentinel = StoredValue::new_local(None::<JsValue>);
    Effect::new(move |_| {
        if busy.get() {
            let leaving = window_event_listener(leptos::ev::beforeunload, move |event| {
                // Browsers show their own "leave site?" text; both calls are needed for all of them.
                event.prevent_default();
                event.set_return_value(crate::i18n::td_string!(locale, leave_warning));
            });
            // `visibilitychange` bubbles from the document to the window.
            let back = window_event_listener_untyped("visibilitychange", move |_| {
                if !document().hidden() {
                    request_wake_lock(sentinel);
                }
            });
            listeners.set_value(vec![leaving, back]);
            request_wake_lock(sentinel);
        } else {
            for handle in listeners
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                handle.remove();
            }
            if let Some(lock) = sentinel.try_update_value(Option::take).flatten() {
                call_method(&lock, "release");
            }
        }
    });
}

fn call_method(target: &JsValue, name: &str) -> Option<JsValue> {
    let method = js_sys::Reflect::get(target, &JsValue::from_str(name)).ok()?;
    method
        .dyn_into::<js_sys::Function>()
        .ok()?
        .call0(target)
        .ok()
}

/// `navigator.wakeLock.request("screen")`, where it exists; the sentinel is kept to release it.
fn request_wake_lock(sentinel: StoredValue<Option<JsValue>, LocalStorage>) {
    let navigator = window().navigator();
    let Ok(wake_lock) = js_sys::Reflect::get(&navigator, &JsValue::from_str("wakeLock")) else {
        return;
    };
    if wake_lock.is_undefined() {
        return;
    }
    let Ok(request) = js_sys::Reflect::get(&wake_lock, &JsValue::from_str("request")) else {
        return;
    };
    let Ok(request) = request.dyn_into::<js_sys::Function>() else {
        return;
    };
    let Ok(promise) = request.call1(&wake_lock, &JsValue::from_str("screen")) else {
        return;
    };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else {
        return;
    };
    leptos::task::spawn_local(async move {
        // Refused (page hidden, no permission): uploads go on without it.
        if let Ok(lock) = wasm_bindgen_futures::JsFuture::from(promise).await {
            sentinel.set_value(Some(lock));
        }
    });
}
