use leptos::prelude::*;

use crate::components::file_picker::FilePicker;
use crate::components::folder_field::FolderField;
use crate::components::naming_choice::NamingChoice;
use crate::components::upload_list::{RowStatus, UploadList, UploadRow};
use crate::model::{NamingMode, PortalSettings};

/// The upload form and its list. Files picked are listed as queued; "Upload" asks the server to
/// sign the queued ones and then posts them to the bucket, a few at a time.
#[component]
pub fn Uploader(settings: PortalSettings) -> impl IntoView {
    let naming = RwSignal::new(NamingMode::Random);
    let folder = RwSignal::new(settings.default_folder.clone());
    let rows = RwSignal::new(Vec::<UploadRow>::new());
    let error = RwSignal::new(None::<String>);
    // Runs of the upload engine in progress (a row's Retry starts one beside the batch's).
    let active = RwSignal::new(0usize);
    let busy = Memo::new(move |_| active.get() > 0);
    // Until the WASM runs, the button cannot work: keep it disabled so nobody clicks in vain.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    #[cfg(feature = "hydrate")]
    crate::upload::keep_alive_while(busy);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| crate::upload::watch_network());

    #[cfg(feature = "hydrate")]
    let shelf = StoredValue::new_local(std::collections::HashMap::<u32, web_sys::File>::new());
    let next_id = StoredValue::new(0u32);
    // When the running batch started (ms since the epoch) and which rows it holds.
    let batch = StoredValue::new((0.0f64, Vec::<u32>::new()));
    let totals = move || {
        if !busy.get() {
            return String::new();
        }
        let (started, ids) = batch.get_value();
        let (mut sent, mut total) = (0u64, 0u64);
        for row in rows.get().iter().filter(|r| ids.contains(&r.id)) {
            total += row.size;
            sent += match row.status.get() {
                RowStatus::Done { .. } => row.size,
                _ => row.size * u64::from(row.progress.get()) / 100,
            };
        }
        crate::upload::totals_line(sent, total, (now_ms() - started) / 1000.0)
    };
    let parallel = settings.parallel_uploads as usize;
    let retries = settings.upload_retries;
    // The rules the picker checks files against (the server checks them again).
    #[cfg(feature = "hydrate")]
    let rules = StoredValue::new(settings.clone());

    // Files picked, dropped or pasted join the list, if the rules admit them.
    #[cfg(feature = "hydrate")]
    let add_files = move |files: Vec<web_sys::File>| {
        let mut waiting: Vec<(String, u64, f64)> = rows
            .get_untracked()
            .iter()
            .filter(|r| {
                matches!(
                    r.status.get_untracked(),
                    RowStatus::Queued | RowStatus::Uploading | RowStatus::Waiting { .. }
                )
            })
            .map(|r| (r.name.clone(), r.size, r.modified))
            .collect();
        let mut picked = Vec::new();
        let mut refusals = Vec::new();
        for file in files {
            let (name, size, content_type, modified) = (
                file.name(),
                file.size() as u64,
                file.type_(),
                file.last_modified(),
            );
            let offered = crate::upload::Offered {
                name: &name,
                size,
                content_type: &content_type,
                modified,
            };
            if let Err(refusal) =
                rules.with_value(|rules| crate::upload::admit(rules, &waiting, &offered))
            {
                refusals.push(refusal);
                continue;
            }
            waiting.push((name.clone(), size, modified));
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            picked.push(UploadRow::new(id, name, size, content_type, modified));
            shelf.update_value(|s| {
                s.insert(id, file);
            });
        }
        rows.update(|r| r.extend(picked));
        error.set((!refusals.is_empty()).then(|| refusals.join(" ")));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(list) = input.files() {
                add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
            }
            // Let the same file be picked again later.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, next_id);
    };
    // Files dragged onto the uploader, or pasted anywhere on the page (a screenshot, files
    // copied in a file manager).
    let zone = NodeRef::<leptos::html::Div>::new();
    let dropping = leptos_use::use_drop_zone_with_options(
        zone,
        leptos_use::UseDropZoneOptions::default().on_drop(move |ev| {
            #[cfg(feature = "hydrate")]
            add_files(ev.files);
            #[cfg(not(feature = "hydrate"))]
            let _ = ev;
        }),
    )
    .is_over_drop_zone;
    let _ =
        leptos_use::use_event_listener(leptos_use::use_document(), leptos::ev::paste, move |ev| {
            #[cfg(feature = "hydrate")]
            if let Some(list) = ev.clipboard_data().and_then(|data| data.files()) {
                if list.length() > 0 {
                    ev.prevent_default();
                    add_files((0..list.length()).filter_map(|i| list.get(i)).collect());
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = ev;
        });

    // Runs the engine on the queued and failed rows, or on one row (its Retry button).
    let run = move |only: Option<u32>| {
        #[cfg(feature = "hydrate")]
        {
            let fresh = active.get_untracked() == 0;
            let taken = crate::upload::start(crate::upload::Start {
                rows,
                shelf,
                naming: naming.get_untracked(),
                folder: folder.get_untracked(),
                parallel,
                retries,
                error,
                active,
                only,
            });
            // The totals line follows what runs now: a new batch, or one more row in it.
            batch.update_value(|(started, ids)| {
                if fresh {
                    *started = js_sys::Date::now();
                    ids.clear();
                }
                ids.extend(taken);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (only, parallel, retries);
    };
    let on_upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run(None);
    };
    let on_retry = Callback::new(move |id: u32| run(Some(id)));
    let cancel_all = move |_| {
        for row in rows.get_untracked() {
            row.cancel();
        }
    };

    let limits = format!(
        "Up to {} files at a time, each up to {}.",
        settings.max_files,
        crate::model::format_size(settings.max_file_size)
    );
    view! {
        <div class="drop-zone" class:over=move || dropping.get() node_ref=zone>
        <form class="uploader" on:submit=on_upload>
            <FilePicker client=settings.client allowed_types=settings.allowed_types.clone() on_pick />
            <p class="limits">{limits} " " <span class="drop-hint">"You can also drop files here or paste them."</span></p>
            <NamingChoice naming />
            <FolderField folder root=settings.upload_root.clone() />
            <div class="actions">
                <button type="submit" disabled=move || !hydrated.get() || busy.get()>
                    "Upload"
                </button>
                <button type="button" class="secondary" hidden=move || !busy.get() on:click=cancel_all>
                    "Cancel all"
                </button>
            </div>
            <p role="alert" class="error" hidden=move || error.get().is_none()>
                {move || error.get().unwrap_or_default()}
            </p>
        </form>
        <p class="summary" role="status" aria-live="polite">
            {move || summary(&rows.get())}
        </p>
        // Bytes, speed and time left: visual only (the live summary above is what is announced).
        <p class="totals">{totals}</p>
        <UploadList rows on_retry />
        </div>
    }
}

/// One sentence on the batch, announced politely to screen readers as it changes.
fn summary(rows: &[UploadRow]) -> String {
    let statuses: Vec<RowStatus> = rows.iter().map(|r| r.status.get()).collect();
    let count = |f: fn(&RowStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
    let total = statuses.len();
    let done = count(|s| matches!(s, RowStatus::Done { .. }));
    let failed = count(|s| matches!(s, RowStatus::Failed(_)));
    let cancelled = count(|s| matches!(s, RowStatus::Cancelled));
    let uploading = count(|s| matches!(s, RowStatus::Uploading | RowStatus::Waiting { .. }));
    let files = |n: usize| {
        if n == 1 {
            "1 file".to_owned()
        } else {
            format!("{n} files")
        }
    };
    match (total, uploading) {
        (0, _) => String::new(),
        (1, 0) if done == 1 => "The file is uploaded.".to_owned(),
        (_, 0) if done == total => format!("All {total} files uploaded."),
        (_, 0) if done + failed + cancelled == total => {
            let mut line = format!("{done} of {} uploaded", files(total));
            if failed > 0 {
                line.push_str(&format!(", {failed} failed"));
            }
            if cancelled > 0 {
                line.push_str(&format!(", {cancelled} cancelled"));
            }
            line + "."
        }
        (_, 0) => format!(
            "{} waiting to upload.",
            files(total - done - failed - cancelled)
        ),
        _ => format!("Uploading: {done} of {} done.", files(total)),
    }
}

/// Milliseconds since the epoch (the browser's clock; 0 on the server, where no batch runs).
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    return 0.0;
}
