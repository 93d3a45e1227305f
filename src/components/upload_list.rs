use leptos::prelude::*;

use crate::model::format_size;

/// Where one file's upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowStatus {
    Queued,
    Uploading,
    Done {
        key: String,
        url: String,
        etag: String,
        /// What the app server said through the upload callback, if one ran.
        note: Option<String>,
        /// The page's MD5 of the file equals the bucket's ETag.
        verified: bool,
    },
    Failed(String),
}

impl RowStatus {
    pub fn label(&self) -> &'static str {
        match self {
            RowStatus::Queued => "queued",
            RowStatus::Uploading => "uploading",
            RowStatus::Done { .. } => "done",
            RowStatus::Failed(_) => "failed",
        }
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
        }
    }
}

#[component]
pub fn UploadList(rows: RwSignal<Vec<UploadRow>>) -> impl IntoView {
    view! {
        <ul class="uploads" aria-label="Uploads">
            <For each=move || rows.get() key=|row| row.id let:row>
                <UploadRowView row />
            </For>
        </ul>
    }
}

#[component]
fn UploadRowView(row: UploadRow) -> impl IntoView {
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
        RowStatus::Failed(reason) => view! { <div class="reason">{reason}</div> }.into_any(),
        _ => ().into_any(),
    };
    let bar = progress.clone();
    view! {
        <li class="upload" data-state=label(status.clone())>
            <div class="file">
                <span class="name">{row.name.clone()}</span>
                <span class="size">{format_size(row.size)}</span>
                <span class="state">{label(status.clone())}</span>
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
