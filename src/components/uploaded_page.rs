use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::object_link;

/// `/uploaded`: where the bucket sends browsers after a form upload without JavaScript, with
/// the bucket, key and ETag in the query.
#[component]
pub fn UploadedPage() -> impl IntoView {
    let query = use_query_map();
    let key = move || query.read().get("key").unwrap_or_default();
    let etag = move || query.read().get("etag").unwrap_or_default();
    let link = Resource::new_blocking(key, object_link);
    view! {
        <header class="intro">
            <h1>"Upload Portal"</h1>
        </header>
        <section class="uploader">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Ok(url) => view! {
                            <h2>"Uploaded"</h2>
                            <p class="result">
                                <a href=url>{key()}</a>
                                " "
                                <span class="etag">"ETag " <code>{etag()}</code></span>
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }
                            .into_any(),
                    }
                })}
            </Suspense>
            <p>
                <a href="/">"Upload another file"</a>
            </p>
        </section>
    }
}
