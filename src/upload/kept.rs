//! The browser's local storage, and in it the batch's journal (`journal` says what it holds):
//! kept while a batch runs, read when the page opens, dropped once every file of it is stored.

use super::journal::Journal;

/// The page's local storage, where the browser gives it one.
pub fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The journal's key: one batch for '/', one for each request link (by its sender's pass).
fn key(sender: Option<&str>) -> String {
    format!("upload-portal.batch.{}", sender.unwrap_or_default())
}

/// Keeps `journal`, or drops it when nothing of it is left to finish.
pub fn keep(sender: Option<&str>, journal: &Journal) {
    let Some(storage) = storage() else {
        return;
    };
    let _ = if journal.unfinished() == 0 {
        storage.remove_item(&key(sender))
    } else {
        storage.set_item(&key(sender), &journal.to_text())
    };
}

/// The batch a closed or reloaded page left unfinished, if it was written lately (an older
/// one, or one this page cannot read, is dropped).
pub fn kept(sender: Option<&str>) -> Option<Journal> {
    let storage = storage()?;
    let text = storage.get_item(&key(sender)).ok()??;
    match Journal::from_text(&text) {
        Some(journal) if journal.is_fresh(js_sys::Date::now() as u64) => Some(journal),
        _ => {
            let _ = storage.remove_item(&key(sender));
            None
        }
    }
}
