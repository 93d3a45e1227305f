//! Upload Portal: the browser uploads straight to object storage with policies the server signs.
//! `app`/`components` are the page, `api` the server fns, `server` everything server-only.
// The page's view types nest deeply (tachys builds them at compile time).
#![recursion_limit = "256"]

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod error_reply;
pub mod format;
pub mod model;
pub mod naming;
pub mod upload;

#[cfg(feature = "ssr")]
pub mod server;

/// Wakes the page's islands (the uploader); everything else is server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics while developing; a release build does not carry the formatting.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
