use leptos::prelude::*;

use crate::model::{format_size, UploadTicket};

/// The upload form for browsers without JavaScript (or before WASM has loaded): a plain HTML
/// form that posts one file straight to the bucket with a server-signed policy; the bucket
/// redirects back to `/uploaded`. The file input comes last, as the bucket requires.
#[component]
pub fn FallbackForm(ticket: UploadTicket, max_file_size: u64) -> impl IntoView {
    let hidden = ticket
        .fields
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();
    view! {
        <form class="uploader fallback" method="post" action=ticket.url enctype="multipart/form-data">
            <p>
                "One file at a time, kept under its own name, up to " {format_size(max_file_size)}
                "."
            </p>
            {hidden}
            <div class="field">
                <label for="fallback-file">"File to upload"</label>
                <input id="fallback-file" type="file" name="file" required />
            </div>
            <button type="submit">"Send this file"</button>
        </form>
    }
}
