//! The uploader: the page's one island. Files picked are listed as queued; "Upload" asks the
//! server to sign them and posts them to the bucket, a few at a time, with their progress.

use leptos::prelude::*;

use crate::components::file_picker::FilePicker;
use crate::components::folder_field::FolderField;
use crate::components::naming_choice::NamingChoice;
use crate::components::phone_link::ContinueOnPhone;
use crate::components::upload_list::UploadList;
use crate::error::PortalError;
use crate::i18n::{td_string, Locale};
use crate::model::{NamingMode, UploaderSettings};
use crate::upload::row::{RowStatus, UploadRow};

/// The upload form and its list, in the reader's `locale`, under the server's rules. Its props
/// travel to the browser as JSON in the page: nothing in them is secret.
#[island]
pub fn Uploader(locale: Locale, settings: UploaderSettings) -> impl IntoView {
    // The island's parts find the language here (no i18n context reaches the browser).
    provide_context(locale);
    // Sending through an upload request: every upload call goes under the sender's pass.
    #[cfg(feature = "hydrate")]
    if let Some(pass) = &settings.sender {
        let root: &'static str = Box::leak(format!("/r/{pass}").into_boxed_str());
        let _ = leptos::server_fn::client::try_set_server_url(root);
    }
    let naming = RwSignal::new(NamingMode::Random);
    let strip_location = RwSignal::new(settings.strip_location);
    let smaller_photos = RwSignal::new(settings.photo_smaller);
    let (photo_edge, photo_quality) = (settings.photo_edge, settings.photo_quality);
    // The folder field holds what follows the root, which it shows fixed before it.
    let folder = RwSignal::new(
        settings
            .default_folder
            .strip_prefix(settings.upload_root.as_str())
            .unwrap_or(&settings.default_folder)
            .to_owned(),
    );
    let rows = RwSignal::new(Vec::<UploadRow>::new());
    // Picked files not listed yet (a big pick joins the list a chunk at a time).
    let preparing = RwSignal::new(0usize);
    let error = RwSignal::new(Vec::<PortalError>::new());
    // Runs of the upload engine in progress (a row's Retry starts one beside the batch's).
    let active = RwSignal::new(0usize);
    let busy = Memo::new(move |_| active.get() > 0);
    // Until the WASM runs, the button cannot work: keep it disabled so nobody clicks in vain.
    let hydrated = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    crate::upload::keep_alive_while(busy, locale);

    // The picked files by row id: a Vec, not a HashMap (ids are unique and the list is short),
    // so the page's WASM carries no hash-table code for it.
    #[cfg(feature = "hydrate")]
    let shelf = StoredValue::new_local(Vec::<(u32, web_sys::File)>::new());
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
        crate::upload::progress::totals_line(
            locale,
            sent,
            total,
            (crate::upload::progress::now_ms() - started) / 1000.0,
        )
    };
    let parallel = settings.parallel_uploads as usize;
    let retries = settings.upload_retries;
    let multipart_threshold = settings.multipart_threshold;
    let checksum = settings.checksum;
    let tells_batches = settings.sender.is_some();
    // The rules the picker checks files against (the server checks them again).
    #[cfg(feature = "hydrate")]
    let rules = StoredValue::new(settings.clone());
    // Survive a reload: the batch's journal is kept in the browser's storage as it runs (one per
    // request link); a page that opens on an unfinished one lists it, finished rows done and
    // the rest to be picked again, which are then matched by name, size and date.
    #[cfg(feature = "hydrate")]
    let journal_key = StoredValue::new(settings.sender.clone());
    #[cfg(feature = "hydrate")]
    let keep_journal = move || {
        let journal = rows.with_untracked(|rows| {
            crate::upload::journal::Journal::of_rows(
                rows,
                &folder.get_untracked(),
                naming.get_untracked(),
                js_sys::Date::now() as u64,
            )
        });
        journal_key.with_value(|k| crate::upload::kept::keep(k.as_deref(), &journal));
    };
    #[cfg(feature = "hydrate")]
    let restore = move || {
        let Some(journal) = journal_key.with_value(|k| crate::upload::kept::kept(k.as_deref()))
        else {
            return;
        };
        folder.set(journal.folder.clone());
        naming.set(journal.naming);
        let listed: Vec<UploadRow> = journal
            .files
            .into_iter()
            .map(|entry| {
                let id = next_id.get_value();
                next_id.set_value(id + 1);
                let row = UploadRow::new(
                    id,
                    entry.name,
                    entry.size,
                    String::new(),
                    entry.modified as f64,
                );
                row.status.set(match entry.stored {
                    Some(stored) => RowStatus::Done {
                        key: stored.key,
                        url: stored.url,
                        etag: stored.etag,
                        note: None,
                        verified: stored.verified,
                    },
                    None => RowStatus::Missing,
                });
                row
            })
            .collect();
        // Before anything picked while the page was waking.
        rows.update(|r| {
            r.splice(0..0, listed);
        });
    };
    // Once the page is awake (the server's HTML lists nothing): the batch a reload cut short.
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        restore();
    });

    // Files picked, dropped or pasted join the list, if the rules admit them.
    #[cfg(feature = "hydrate")]
    let add_files = move |files: Vec<crate::upload::picked::Named>| {
        let mut waiting: Vec<(String, u64, f64)> = rows
            .get_untracked()
            .iter()
            .filter(|r| r.status.get_untracked().is_pending())
            .map(|r| (r.name.clone(), r.size, r.modified))
            .collect();
        let mut picked = Vec::new();
        let mut refusals = Vec::new();
        for (name, file) in files {
            let (size, content_type, modified) =
                (file.size() as u64, file.type_(), file.last_modified());
            // A file the list has finished is not sent twice; one a reload cut short, picked
            // again, goes back to its row.
            let listed = rows.with_untracked(|rows| {
                rows.iter()
                    .find(|r| {
                        r.name == name
                            && r.size == size
                            && r.modified == modified
                            && matches!(
                                r.status.get_untracked(),
                                RowStatus::Missing | RowStatus::Done { .. }
                            )
                    })
                    .cloned()
            });
            if let Some(row) = listed {
                if matches!(row.status.get_untracked(), RowStatus::Missing) {
                    row.status.set(RowStatus::Queued);
                    waiting.push((name, size, modified));
                    shelf.update_value(|s| s.push((row.id, file)));
                } else {
                    refusals.push(crate::error::Notice::AlreadyListed { name });
                }
                continue;
            }
            let offered = crate::upload::check::Offered {
                name: &name,
                size,
                content_type: &content_type,
                modified,
            };
            if let Err(refusal) =
                rules.with_value(|rules| crate::upload::check::admit(rules, &waiting, &offered))
            {
                // Said once however many files it turns away: "at most N files", or a type
                // refused (a folder of 300 text files); the other refusals name their file.
                if !refusals
                    .iter()
                    .any(|said| crate::upload::check::says_the_same(said, &refusal))
                {
                    refusals.push(refusal);
                }
                continue;
            }
            waiting.push((name.clone(), size, modified));
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            picked.push((
                UploadRow::new(id, name, size, content_type, modified),
                file.clone(),
            ));
            shelf.update_value(|s| {
                s.push((id, file));
            });
        }
        list_in_chunks(rows, picked, preparing);
        error.set(refusals.into_iter().map(PortalError::Invalid).collect());
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(list) = input.files() {
                add_files(crate::upload::picked::of_list(&list));
            }
            // Let the same file be picked again later.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, next_id);
    };
    // Files picked before the page woke up (a slow phone): they join the list now. (A browser
    // fires no change event when the same files are picked again.)
    let picker = NodeRef::<leptos::html::Input>::new();
    let camera = NodeRef::<leptos::html::Input>::new();
    let tree = NodeRef::<leptos::html::Input>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        for input in [picker, camera, tree]
            .into_iter()
            .filter_map(|n| n.get_untracked())
        {
            if let Some(list) = input.files().filter(|list| list.length() > 0) {
                add_files(crate::upload::picked::of_list(&list));
                input.set_value("");
            }
        }
    });
    // Files and folders dragged onto the uploader (the zone is highlighted while they are over
    // it), or files pasted anywhere on the page (a screenshot, files copied in a file manager).
    // A dropped folder is walked for its files, which keep their paths inside it.
    let over = RwSignal::new(0i32);
    let dragging = Memo::new(move |_| over.get() > 0);
    let on_drag_enter = move |_: leptos::ev::DragEvent| over.update(|n| *n += 1);
    let on_drag_leave = move |_: leptos::ev::DragEvent| over.update(|n| *n = (*n - 1).max(0));
    // Without this the browser opens a dropped file instead of handing it over.
    let on_drag_over = move |ev: leptos::ev::DragEvent| ev.prevent_default();
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        over.set(0);
        #[cfg(feature = "hydrate")]
        if let Some(data) = ev.data_transfer() {
            use crate::upload::picked;
            match picked::dropped_folders(&data) {
                Some(entries) => {
                    // One more than the list takes, for "at most N files" to be said.
                    let most = rules.with_value(|rules| rules.max_files as usize + 1);
                    leptos::task::spawn_local(async move {
                        add_files(picked::walk(entries, most).await);
                    })
                }
                None => add_files(data.files().map_or_else(Vec::new, |l| picked::of_list(&l))),
            }
        }
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let pasted = window_event_listener(leptos::ev::paste, move |ev| {
            if let Some(list) = ev.clipboard_data().and_then(|data| data.files()) {
                if list.length() > 0 {
                    ev.prevent_default();
                    add_files(crate::upload::picked::of_list(&list));
                }
            }
        });
        on_cleanup(move || pasted.remove());
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
                multipart_threshold,
                checksum,
                tells_batches,
                strip_location: strip_location.get_untracked(),
                shrink: smaller_photos
                    .get_untracked()
                    .then_some((photo_edge, photo_quality)),
                keep_journal: std::rc::Rc::new(keep_journal),
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
        let _ = (
            only,
            parallel,
            retries,
            multipart_threshold,
            checksum,
            tells_batches,
            photo_quality,
        );
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

    let (max_files, max_size) = (
        settings.max_files,
        crate::format::format_size(settings.max_file_size),
    );
    let limits = td_string!(locale, limits, count = max_files, size = max_size);
    let quota = settings.limits.clone();
    let quota_line = move || {
        let mut line = if quota.signs_per_minute > 0 {
            td_string!(locale, rate_limit_line, count = quota.signs_per_minute)
        } else {
            String::new()
        };
        line.push(' ');
        line.push_str(&if quota.daily_bytes > 0 {
            td_string!(
                locale,
                daily_limit_line,
                used = crate::format::format_size(quota.used_bytes),
                limit = crate::format::format_size(quota.daily_bytes)
            )
        } else {
            td_string!(locale, no_daily_limit).to_owned()
        });
        line.trim().to_owned()
    };
    view! {
        <div
            class="drop-zone"
            class:over=dragging
            on:dragenter=on_drag_enter
            on:dragleave=on_drag_leave
            on:dragover=on_drag_over
            on:drop=on_drop
        >
        <form class="uploader" on:submit=on_upload>
            <FilePicker
                client=settings.client
                allowed_types=settings.allowed_types.clone()
                on_pick
                listed=Signal::derive(move || rows.with(|r| !r.is_empty()))
                picker
                camera
                tree
            />
            <p class="limits">{limits} " " <span class="drop-hint">{td_string!(locale, drop_hint)}</span></p>
            <p class="limits quota">{quota_line}</p>
            <NamingChoice naming />
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=strip_location
                    on:change=move |ev| strip_location.set(event_target_checked(&ev))
                />
                {td_string!(locale, strip_location)}
            </label>
            <label class="check" hidden=!settings.photo_choice>
                {td_string!(locale, photo_size)}
                " "
                <select on:change=move |ev| smaller_photos.set(event_target_value(&ev) == "s")>
                    <option value="o" selected=!settings.photo_smaller>{td_string!(locale, photo_original)}</option>
                    <option value="s" selected=settings.photo_smaller>
                        {td_string!(locale, photo_smaller, edge = photo_edge)}
                    </option>
                </select>
            </label>
            <FolderField folder root=settings.upload_root.clone() />
            <div class="actions">
                <button type="submit" disabled=move || !hydrated.get() || busy.get()>
                    {td_string!(locale, upload)}
                </button>
                <button type="button" class="secondary" hidden=move || !busy.get() on:click=cancel_all>
                    {td_string!(locale, cancel_all)}
                </button>
                {settings.phone.then(|| view! { <ContinueOnPhone folder naming rows next_id error /> })}
            </div>
            <p role="alert" class="error" hidden=move || error.with(Vec::is_empty)>
                {move || {
                    error.with(|all| all.iter().map(|e| e.describe(locale)).collect::<Vec<_>>().join(" "))
                }}
            </p>
        </form>
        <p class="summary" role="status" aria-live="polite">
            {move || match preparing.get() {
                0 => summary(locale, &rows.get()),
                count => td_string!(locale, preparing, count = count),
            }}
        </p>
        // Bytes, speed and time left: visual only (the live summary above is what is announced).
        <p class="totals">{totals}</p>
        <UploadList rows on_retry />
        </div>
    }
}

/// One sentence on the batch, announced politely to screen readers as it changes.
fn summary(locale: Locale, rows: &[UploadRow]) -> String {
    let statuses: Vec<RowStatus> = rows.iter().map(|r| r.status.get()).collect();
    let count = |f: fn(&RowStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
    let total = statuses.len();
    let done = count(|s| matches!(s, RowStatus::Done { .. }));
    let failed = count(|s| matches!(s, RowStatus::Failed(_)));
    let cancelled = count(|s| matches!(s, RowStatus::Cancelled));
    let missing = count(|s| matches!(s, RowStatus::Missing));
    let uploading = count(|s| {
        matches!(
            s,
            RowStatus::Shrinking
                | RowStatus::Uploading
                | RowStatus::Waiting { .. }
                | RowStatus::Finishing
        )
    });
    let files = |n: usize| {
        if n == 1 {
            td_string!(locale, file_count_single).to_owned()
        } else {
            td_string!(locale, file_count, count = n)
        }
    };
    match (total, uploading) {
        (0, _) => String::new(),
        // After a reload cut a batch short, until its files are picked again.
        (_, 0) if missing > 0 => td_string!(
            locale,
            summary_missing,
            missing = missing,
            files = files(total)
        ),
        (1, 0) if done == 1 => td_string!(locale, summary_single_done).to_owned(),
        (_, 0) if done == total => td_string!(locale, summary_all_done, count = total),
        (_, 0) if done + failed + cancelled == total => {
            let mut line = td_string!(locale, summary_ended, done = done, files = files(total));
            if failed > 0 {
                line.push_str(&td_string!(locale, summary_failed, count = failed));
            }
            if cancelled > 0 {
                line.push_str(&td_string!(locale, summary_cancelled, count = cancelled));
            }
            line + td_string!(locale, summary_end)
        }
        (_, 0) => td_string!(
            locale,
            summary_waiting,
            files = files(total - done - failed - cancelled)
        ),
        _ => td_string!(locale, summary_running, done = done, files = files(total)),
    }
}

/// Rows join the list a chunk at a time, each with its thumbnail's URL, the page drawing each
/// chunk before the next (a thousand rows drawn at once, or a thousand URLs made, is one long
/// task that freezes the page); `preparing` counts those still to come.
#[cfg(feature = "hydrate")]
fn list_in_chunks(
    rows: RwSignal<Vec<UploadRow>>,
    picked: Vec<(UploadRow, web_sys::File)>,
    preparing: RwSignal<usize>,
) {
    const CHUNK: usize = 50;
    let listed = move |chunk: Vec<(UploadRow, web_sys::File)>| {
        let chunk = chunk.into_iter().map(|(mut row, file)| {
            row.preview = preview_of(&file);
            row
        });
        rows.update(|r| r.extend(chunk));
    };
    if picked.len() <= CHUNK {
        listed(picked);
        return;
    }
    preparing.update(|n| *n += picked.len());
    leptos::task::spawn_local(async move {
        let mut picked = picked.into_iter();
        loop {
            // The page draws what is listed before the next chunk.
            crate::upload::sleep(0.0).await;
            let chunk: Vec<_> = picked.by_ref().take(CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            let count = chunk.len();
            listed(chunk);
            preparing.update(|n| *n -= count);
        }
    });
}

/// An object URL of `file` for its thumbnail, when it is an image the browser can show (no
/// HEIC, TIFF or SVG). Making it reads nothing: the image decodes when its row is near the screen.
#[cfg(feature = "hydrate")]
fn preview_of(file: &web_sys::File) -> Option<String> {
    let shown = matches!(
        file.type_().as_str(),
        "image/jpeg" | "image/png" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    );
    shown
        .then(|| web_sys::Url::create_object_url_with_blob(file).ok())
        .flatten()
}
