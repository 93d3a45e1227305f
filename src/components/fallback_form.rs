//! The upload without JavaScript: a form that asks the portal for a ticket (no page view signs
//! anything), and the signed form that posts one file straight to the bucket.

use leptos::prelude::*;

use crate::format::format_size;
use crate::i18n::{t, use_i18n};
use crate::model::UploadTicket;

/// Asks for a plain-form ticket into `folder` (a form post: the portal records the ticket and
/// shows the signed form on `/upload/plain`).
#[component]
pub fn PlainStart(folder: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="uploader fallback" method="post" action="/api/start_plain_upload">
            <p>{t!(i18n, fallback_start_intro)}</p>
            <div class="field">
                <label for="plain-folder">{t!(i18n, plain_folder_label)}</label>
                <input id="plain-folder" type="text" name="folder" value=folder />
            </div>
            <button type="submit">{t!(i18n, fallback_start)}</button>
        </form>
    }
}

/// The signed plain form: one file, posted straight to the bucket with a server-signed
/// policy; the bucket redirects back to `/uploaded`. The file input comes last, as the
/// bucket requires.
#[component]
pub fn FallbackForm(ticket: UploadTicket, max_file_size: u64) -> impl IntoView {
    let i18n = use_i18n();
    let hidden = ticket
        .fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();
    let size = format_size(max_file_size);
    view! {
        <form class="uploader fallback" method="post" action=ticket.url enctype="multipart/form-data">
            <p>{t!(i18n, fallback_intro, size = move || size.clone())}</p>
            {hidden}
            <div class="field">
                <label for="fallback-file">{t!(i18n, fallback_file)}</label>
                <input id="fallback-file" type="file" name="file" required />
            </div>
            <button type="submit">{t!(i18n, fallback_send)}</button>
        </form>
    }
}
