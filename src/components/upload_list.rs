use std::sync::{Arc, Mutex};

use futures::future::{AbortHandle, AbortRegistration};
use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::{td, td_string, Locale};
use crate::model::format_size;
use crate::upload::Problem;

/// A word on a stored file from the upload callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// Our portal recorded the upload (said in the reader's language).
    Recorded,
    /// Another app server's own message.
    Said(String),
    /// Stored, but the callback failed (the bucket's message).
    NotNotified(String),
}

/// Where one file's upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowStatus {
    Queued,
    Uploading,
    /// Not stored yet, and the engine will try again: after `retry_in` seconds, or (offline)
    /// when the network is back. `attempt` of `attempts` is the one to come.
    Waiting {
        problem: Problem,
        retry_in: Option<u32>,
        attempt: u32,
        attempts: u32,
    },
    Done {
        key: String,
        url: String,
        etag: String,
        /// What the app server said through the upload callback, if one ran.
        note: Option<Note>,
        /// The page's MD5 of the file equals the bucket's ETag.
        verified: bool,
    },
    Failed(Problem),
    /// Stopped by the user; nothing of it is stored.
    Cancelled,
}

impl RowStatus {
    /// The state's name, for styling and tests (`data-state`).
    pub fn label(&self) -> &'static str {
        match self {
            RowStatus::Queued => "queued",
            RowStatus::Uploading => "uploading",
            RowStatus::Waiting { .. } => "waiting",
            RowStatus::Done { .. } => "done",
            RowStatus::Failed(_) => "failed",
            RowStatus::Cancelled => "cancelled",
        }
    }

    /// The state in the reader's language.
    pub fn shown(&self, locale: Locale) -> &'static str {
        match self {
            RowStatus::Queued => td_string!(locale, state_queued),
            RowStatus::Uploading => td_string!(locale, state_uploading),
            RowStatus::Waiting { .. } => td_string!(locale, state_waiting),
            RowStatus::Done { .. } => td_string!(locale, state_done),
            RowStatus::Failed(_) => td_string!(locale, state_failed),
            RowStatus::Cancelled => td_string!(locale, state_cancelled),
        }
    }

    /// Queued, uploading or waiting to try again: the engine holds it.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            RowStatus::Queued | RowStatus::Uploading | RowStatus::Waiting { .. }
        )
    }
}

/// One picked file in the list, with its own signals so that progress events re-render only
/// its bar.
#[derive(Clone, Debug)]
pub struct UploadRow {
    pub id: u32,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// `File.lastModified`, to recognise the same file picked twice.
    pub modified: f64,
    pub progress: ArcRwSignal<u8>,
    pub status: ArcRwSignal<RowStatus>,
    /// Stops the engine's work on this file (aborting its request) when cancelled.
    cancel: Arc<Mutex<Option<AbortHandle>>>,
}

impl UploadRow {
    pub fn new(id: u32, name: String, size: u64, content_type: String, modified: f64) -> Self {
        UploadRow {
            id,
            name,
            size,
            content_type,
            modified,
            progress: ArcRwSignal::new(0),
            status: ArcRwSignal::new(RowStatus::Queued),
            cancel: Arc::default(),
        }
    }

    /// Queues the row for a run of the engine, which wraps its work in the registration.
    pub fn arm(&self) -> AbortRegistration {
        let (handle, registration) = AbortHandle::new_pair();
        if let Some(old) = self.cancel.lock().expect("one thread").replace(handle) {
            old.abort();
        }
        self.progress.set(0);
        self.status.set(RowStatus::Queued);
        registration
    }

    /// Stops the row's upload, if it has not ended: its request is aborted, nothing is stored.
    pub fn cancel(&self) {
        if !self.status.get_untracked().is_pending() {
            return;
        }
        if let Some(handle) = self.cancel.lock().expect("one thread").take() {
            handle.abort();
        }
        self.progress.set(0);
        self.status.set(RowStatus::Cancelled);
    }
}

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
    let details = move || match details_status.get() {
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
                <span class="etag">{td!(locale, etag)} " " <code>{etag}</code></span>
                {verified.then(|| view! { <span class="verified">{td!(locale, verified)}</span> })}
                {note
                    .map(|note| {
                        let text = move || match &note {
                            Note::Recorded => td_string!(locale, callback_recorded).to_owned(),
                            Note::Said(message) => message.clone(),
                            Note::NotNotified(message) => {
                                td_string!(locale, callback_failed, message = message.clone())
                            }
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
    };
    let bar = progress.clone();
    let name_for_bar = row.name.clone();
    let (id, name) = (row.id, row.name.clone());
    let action_status = status.clone();
    let action_row = row.clone();
    let action = move || {
        let status = action_status.get();
        let name = name.clone();
        if status.is_pending() {
            let row = action_row.clone();
            view! {
                <button
                    type="button"
                    class="row-action"
                    aria-label=move || td_string!(locale, cancel_label, name = name.clone())
                    on:click=move |_| row.cancel()
                >
                    {td!(locale, cancel)}
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
                    {td!(locale, retry)}
                </button>
            }
            .into_any()
        } else {
            ().into_any()
        }
    };
    view! {
        <li class="upload" data-state=label(status.clone())>
            <div class="file">
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
                    style:transform=move || format!("scaleX({})", f32::from(bar.get()) / 100.0)
                ></div>
            </div>
            {details}
        </li>
    }
}
