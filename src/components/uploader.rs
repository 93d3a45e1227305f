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
    let busy = RwSignal::new(false);
    // Until the WASM runs, the button cannot work: keep it disabled so nobody clicks in vain.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    #[cfg(feature = "hydrate")]
    crate::upload::keep_alive_while(busy);

    #[cfg(feature = "hydrate")]
    let shelf = StoredValue::new_local(std::collections::HashMap::<u32, web_sys::File>::new());
    let next_id = StoredValue::new(0u32);
    let parallel = settings.parallel_uploads as usize;

    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(list) = input.files() {
                let mut picked = Vec::new();
                for file in (0..list.length()).filter_map(|i| list.get(i)) {
                    let id = next_id.get_value();
                    next_id.set_value(id + 1);
                    picked.push(UploadRow::new(
                        id,
                        file.name(),
                        file.size() as u64,
                        file.type_(),
                    ));
                    shelf.update_value(|s| {
                        s.insert(id, file);
                    });
                }
                rows.update(|r| r.extend(picked));
                error.set(None);
            }
            // Let the same file be picked again later.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, next_id);
    };

    let on_upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        crate::upload::start(crate::upload::Start {
            rows,
            shelf,
            naming: naming.get_untracked(),
            folder: folder.get_untracked(),
            parallel,
            error,
            busy,
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = parallel;
    };

    let limits = format!(
        "Up to {} files at a time, each up to {}.",
        settings.max_files,
        crate::model::format_size(settings.max_file_size)
    );
    view! {
        <form class="uploader" on:submit=on_upload>
            <FilePicker client=settings.client allowed_types=settings.allowed_types.clone() on_pick />
            <p class="limits">{limits}</p>
            <NamingChoice naming />
            <FolderField folder root=settings.upload_root.clone() />
            <button type="submit" disabled=move || !hydrated.get() || busy.get()>
                "Upload"
            </button>
            <p role="alert" class="error" hidden=move || error.get().is_none()>
                {move || error.get().unwrap_or_default()}
            </p>
        </form>
        <p class="summary" role="status" aria-live="polite">
            {move || summary(&rows.get())}
        </p>
        <UploadList rows />
    }
}

/// One sentence on the batch, announced politely to screen readers as it changes.
fn summary(rows: &[UploadRow]) -> String {
    let statuses: Vec<RowStatus> = rows.iter().map(|r| r.status.get()).collect();
    let count = |f: fn(&RowStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
    let total = statuses.len();
    let done = count(|s| matches!(s, RowStatus::Done { .. }));
    let failed = count(|s| matches!(s, RowStatus::Failed(_)));
    let uploading = count(|s| matches!(s, RowStatus::Uploading));
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
        (_, 0) if done + failed == total => {
            format!("{done} of {} uploaded, {failed} failed.", files(total))
        }
        (_, 0) => format!("{} waiting to upload.", files(total - done - failed)),
        _ => format!("Uploading: {done} of {} done.", files(total)),
    }
}
