use std::sync::{Arc, Mutex};

use futures::future::{AbortHandle, AbortRegistration};
use leptos::prelude::*;

use crate::model::format_size;
use crate::upload::Problem;

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
        note: Option<String>,
        /// The page's MD5 of the file equals the bucket's ETag.
        verified: bool,
    },
    Failed(Problem),
    /// Stopped by the user; nothing of it is stored.
    Cancelled,
}

impl RowStatus {
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
    view! {
        <ul class="uploads" aria-label="Uploads">
            <For each=move || rows.get() key=|row| row.id let:row>
                <UploadRowView row on_retry />
            </For>
        </ul>
    }
}

/// What a waiting row says: why, and when it tries again.
fn waiting_text(problem: &Problem, retry_in: Option<u32>, attempt: u32, attempts: u32) -> String {
    match retry_in {
        Some(seconds) => format!(
            "{} Trying again in {seconds} s (attempt {attempt} of {attempts}).",
            problem.describe()
        ),
        None => format!(
            "{} The upload continues when the network is back.",
            problem.describe()
        ),
    }
}

#[component]
fn UploadRowView(row: UploadRow, on_retry: Callback<u32>) -> impl IntoView {
    let progress = row.progress.clone();
    let status = row.status.clone();
    let label = |status: ArcRwSignal<RowStatus>| move || status.get().label();
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
                <span class="etag">"ETag " <code>{etag}</code></span>
                {verified.then(|| view! { <span class="verified">"verified"</span> })}
                {note.map(|note| view! { <div class="note">{note}</div> })}
            </div>
        }
        .into_any(),
        RowStatus::Failed(problem) => {
            view! { <div class="reason">{problem.describe()}</div> }.into_any()
        }
        RowStatus::Waiting {
            problem,
            retry_in,
            attempt,
            attempts,
        } => view! {
            <div class="reason waiting">{waiting_text(&problem, retry_in, attempt, attempts)}</div>
        }
        .into_any(),
        _ => ().into_any(),
    };
    let bar = progress.clone();
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
                    aria-label=format!("Cancel {name}")
                    on:click=move |_| row.cancel()
                >
                    "Cancel"
                </button>
            }
            .into_any()
        } else if matches!(status, RowStatus::Failed(_) | RowStatus::Cancelled) {
            view! {
                <button
                    type="button"
                    class="row-action"
                    aria-label=format!("Retry {name}")
                    on:click=move |_| on_retry.run(id)
                >
                    "Retry"
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
                <span class="state">{label(status.clone())}</span>
                {action}
            </div>
            <div
                class="bar"
                role="progressbar"
                aria-label=format!("{} progress", row.name)
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || progress.get()
            >
                <div class="fill" style:width=move || format!("{}%", bar.get())></div>
            </div>
            {details}
        </li>
    }
}
