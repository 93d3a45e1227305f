//! `/uploads`: the signed-in user's stored uploads, a page at a time, rendered on the server
//! (no WASM): links to each object, newest first.

use leptos::prelude::*;

use crate::api::my_uploads;
use crate::components::account::or_sign_in;
use crate::components::ledger_table::{page_links, LedgerTable};
use crate::components::query::{use_query_text, use_refusal, value};
use crate::i18n::{t, use_i18n};

/// `/uploads?page=N`: the signed-in user's stored uploads, newest first.
#[component]
pub fn MyUploadsPage() -> impl IntoView {
    let query = use_query_text();
    let page = move || {
        value(&query.read(), "page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    };
    let entries = Resource::new_blocking(page, my_uploads);
    let i18n = use_i18n();
    // Why the last Delete was refused, when the portal sent the browser back with it.
    let refusal = use_refusal();
    view! {
        <header class="intro">
            <h1>{t!(i18n, my_uploads_title)}</h1>
        </header>
        <section class="uploader">
            {move || refusal().map(|why| view! {
                <p role="alert" class="error">{t!(i18n, delete_refused)} " " {why}</p>
            })}
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(found) => {
                            let (page, pages) = (found.page, found.pages);
                            view! {
                                <LedgerTable page=found everyone=false />
                                {page_links(page, pages, |n| format!("/uploads?page={n}"))}
                            }
                            .into_any()
                        }
                        Err(error) => or_sign_in(error),
                    }
                })}
            </Suspense>
        </section>
    }
}
