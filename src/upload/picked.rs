//! The files a pick, a drop or a paste hands over, each with the name it is listed and signed
//! under: its path inside a folder picked or dropped whole (`trip/day 1/a.jpg`), else its name.

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
};

use super::check::is_folder_clutter;

/// A file and the name it is listed under.
pub type Named = (String, File);

/// The files of a picker or a paste. A folder picker (`webkitdirectory`) gives each file its
/// path inside the folder picked, the folder's own name first; a file manager's clutter in it
/// (`.DS_Store`...) is left out.
pub fn of_list(list: &FileList) -> Vec<Named> {
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            let path = Reflect::get(&file, &"webkitRelativePath".into())
                .ok()
                .and_then(|path| path.as_string())
                .filter(|path| !path.is_empty());
            (path.unwrap_or_else(|| file.name()), file)
        })
        .filter(|(name, _)| !is_folder_clutter(name))
        .collect()
}

/// The folders among what was dropped, taken while the drop event lasts (its items are gone
/// after it). `None` when no folder was dropped: the drop's file list is then all there is.
pub fn dropped_folders(data: &DataTransfer) -> Option<Vec<FileSystemEntry>> {
    let items = data.items();
    let entries: Vec<FileSystemEntry> = (0..items.length())
        .filter_map(|i| items.get(i)?.webkit_get_as_entry().ok().flatten())
        .collect();
    entries
        .iter()
        .any(FileSystemEntry::is_directory)
        .then_some(entries)
}

/// The files under the dropped `entries`, walked a folder at a time (in the order the browser
/// lists them: sorting would cost the page 1.5 KB), with their paths from the dropped folder's
/// name down; `most` at most (more than the list takes: a home folder dropped by mistake is not
/// read to its end). Empty folders give nothing; a file manager's clutter and an entry the
/// browser cannot read are left out.
pub async fn walk(mut entries: Vec<FileSystemEntry>, most: usize) -> Vec<Named> {
    let mut files = Vec::new();
    let mut next = 0;
    while next < entries.len() && files.len() < most {
        let entry = entries[next].clone();
        next += 1;
        if entry.is_directory() {
            let reader = entry
                .unchecked_into::<FileSystemDirectoryEntry>()
                .create_reader();
            // A folder's entries come a batch at a time, until an empty one.
            while let Some(batch) = called(|done, failed| {
                if let Err(error) = reader.read_entries_with_callback_and_callback(done, failed) {
                    let _ = failed.call1(&error, &error);
                }
            })
            .await
            {
                let batch: Array = batch.unchecked_into();
                if batch.length() == 0 {
                    break;
                }
                entries.extend(batch.iter().map(JsCast::unchecked_into));
            }
        } else if let Some(file) = called(|done, failed| {
            entry
                .unchecked_ref::<FileSystemFileEntry>()
                .file_with_callback_and_callback(done, failed);
        })
        .await
        {
            // `/trip/day 1/a.jpg`: the path from the drop.
            let path = entry.full_path().trim_start_matches('/').to_owned();
            if !is_folder_clutter(&path) {
                files.push((path, file.unchecked_into()));
            }
        }
    }
    files
}

/// What an API that answers through a success and an error callback gave; `None` on its error.
async fn called(
    call: impl Fn(&js_sys::Function, &js_sys::Function),
) -> Option<wasm_bindgen::JsValue> {
    JsFuture::from(Promise::new(&mut |done, failed| call(&done, &failed)))
        .await
        .ok()
}
