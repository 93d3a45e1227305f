//! The list of picked files: one row each with its bar, its state in words, and what can be
//! done about it (cancel, retry, open the stored file).

use leptos::prelude::*;

use crate::components::use_locale;
use crate::format::format_size;
use crate::i18n::{td_string, Locale};
use crate::upload::problem::Problem;
use crate::upload::row::{Note, RowStatus, UploadRow};

/// The picked files; `on_retry` starts one failed or cancelled file again.
#[component]
pub fn UploadList(rows: RwSignal<Vec<UploadRow>>, on_retry: Callback<u32>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <ul class="uploads" aria-label=move || td_string!(locale, uploads_label)>
            <For each=move || rows.get() key=|row| row.id let:row>
                <UploadRowView row on_retry />
            </For>
        </ul>
    }
}

/// What a waiting row says: why, and when it tries again.
fn waiting_text(
    locale: Locale,
    problem: &Problem,
    retry_in: Option<u32>,
    attempt: u32,
    attempts: u32,
) -> String {
    let problem = problem.describe(locale);
    match retry_in {
        Some(seconds) => td_string!(
            locale,
            retry_in,
            problem = problem,
            seconds = seconds,
            attempt = attempt,
            attempts = attempts
        ),
        None => td_string!(locale, resume_online, problem = problem),
    }
}

#[component]
fn UploadRowView(row: UploadRow, on_retry: Callback<u32>) -> impl IntoView {
    let locale = use_locale();
    let progress = row.progress.clone();
    let status = row.status.clone();
    let label = |status: ArcRwSignal<RowStatus>| move || status.get().label();
    let shown_status = status.clone();
    let shown = move || shown_status.get().shown(locale);
    let details_status = status.clone();
    let details = move || {
        match details_status.get() {
        RowStatus::Done {
            key,
            url,
            etag,
            note,
            verified,
        } => view! {
            <div class="result">
                <a href=url target="_blank" rel="noopener">{key}</a>
                " "
                <span class="etag">{td_string!(locale, etag)} " " <code>{etag}</code></span>
                {verified.then(|| view! { <span class="verified">{td_string!(locale, verified)}</span> })}
                {note
                    .map(|note| {
                        let text = move || match &note {
                            Note::Recorded => td_string!(locale, callback_recorded).to_owned(),
                            Note::Said(message) => message.clone(),
                            Note::NotNotified(message) => {
                                td_string!(locale, callback_failed, message = message.clone())
                            }
                            Note::FromPhone => td_string!(locale, from_phone).to_owned(),
                        };
                        view! { <div class="note">{text}</div> }
                    })}
            </div>
        }
        .into_any(),
        RowStatus::Failed(problem) => {
            view! { <div class="reason">{move || problem.describe(locale)}</div> }.into_any()
        }
        RowStatus::Waiting {
            problem,
            retry_in,
            attempt,
            attempts,
        } => view! {
            <div class="reason waiting">
                {move || waiting_text(locale, &problem, retry_in, attempt, attempts)}
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
    };
    let bar = progress.clone();
    let name_for_bar = row.name.clone();
    let (id, name) = (row.id, row.name.clone());
    let action_status = status.clone();
    let action_row = row.clone();
    let action = move || {
        let status = action_status.get();
        let name = name.clone();
        if status.cancellable() {
            let row = action_row.clone();
            view! {
                <button
                    type="button"
                    class="row-action"
                    aria-label=move || td_string!(locale, cancel_label, name = name.clone())
                    on:click=move |_| row.cancel()
                >
                    {td_string!(locale, cancel)}
                </button>
            }
            .into_any()
        } else if matches!(status, RowStatus::Failed(_) | RowStatus::Cancelled) {
            view! {
                <button
                    type="button"
                    class="row-action"
                    aria-label=move || td_string!(locale, retry_label, name = name.clone())
                    on:click=move |_| on_retry.run(id)
                >
                    {td_string!(locale, retry)}
                </button>
            }
            .into_any()
        } else {
            ().into_any()
        }
    };
    // A thumbnail for an image the browser can show (decoded only near the screen, its URL
    // let go with the row); a small badge of the type for anything else.
    let thumb = match row.preview.clone() {
        Some(url) => {
            #[cfg(feature = "hydrate")]
            {
                let url = url.clone();
                on_cleanup(move || {
                    let _ = web_sys::Url::revoke_object_url(&url);
                });
            }
            view! { <img class="thumb" src=url alt="" loading="lazy" decoding="async" width="40" height="40" /> }
                .into_any()
        }
        None => {
            let kind = crate::upload::row::extension_of(&row.name).to_ascii_uppercase();
            view! { <span class="thumb kind" aria-hidden="true">{kind}</span> }.into_any()
        }
    };
    view! {
        <li class="upload" data-state=label(status.clone())>
            <div class="file">
                {thumb}
                <span class="name">{row.name.clone()}</span>
                <span class="size">{format_size(row.size)}</span>
                <span class="state">{shown}</span>
                {action}
            </div>
            <div
                class="bar"
                role="progressbar"
                aria-label=move || td_string!(locale, progress_label, name = name_for_bar.clone())
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || progress.get()
            >
                <div
                    class="fill"
                    style:transform=move || crate::upload::progress::bar_scale(bar.get())
                ></div>
            </div>
            {details}
        </li>
    }
}
