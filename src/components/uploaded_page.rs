//! `/uploaded`: where the bucket sends a browser after a form upload without JavaScript; the
//! portal checks the object and completes its ledger entry before showing the link.

use leptos::prelude::*;

use crate::api::confirm_upload;
use crate::components::query::{use_query_text, value};
use crate::i18n::{t, use_i18n};

/// `/uploaded`: where the bucket sends browsers after a form upload without JavaScript, with
/// the bucket, key and ETag in the query. The portal checks the object (HEAD) and completes
/// the upload's ledger entry before showing the link.
#[component]
pub fn UploadedPage() -> impl IntoView {
    let query = use_query_text();
    let key = move || value(&query.read(), "key").unwrap_or_default();
    let etag = move || value(&query.read(), "etag").unwrap_or_default();
    let link = Resource::new_blocking(
        move || (key(), etag()),
        |(key, etag)| async move { confirm_upload(key, etag).await.map(|entry| entry.url) },
    );
    let i18n = use_i18n();
    view! {
        <header class="intro">
            <h1>{t!(i18n, title)}</h1>
        </header>
        <section class="uploader">
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Ok(url) => view! {
                            <h2>{t!(i18n, uploaded)}</h2>
                            <p class="result">
                                <a href=url>{key()}</a>
                                " "
                                <span class="etag">{t!(i18n, etag)} " " <code>{etag()}</code></span>
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <p role="alert" class="error">
                                {move || error.describe(i18n.get_locale())}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
            <p>
                <a href="/">{t!(i18n, upload_another)}</a>
            </p>
        </section>
    }
}
