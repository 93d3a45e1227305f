//! The destination-folder field of the uploader: the reader's root shown fixed before it, the
//! field taking what follows (or the folder in full), folders used lately offered beside it.

use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::td_string;

/// The id of the list of folders used lately, which the page around the uploader draws (the
/// island carries no code for it).
pub const RECENT_FOLDERS: &str = "recent-folders";

/// The destination folder after the reader's `root`. The server reads what is typed inside the
/// root (`photos/2026/` is `<root>photos/2026/`), normalises and checks it; this only collects it.
#[component]
pub fn FolderField(folder: RwSignal<String>, root: String) -> impl IntoView {
    let locale = use_locale();
    let hint = if root.is_empty() {
        td_string!(locale, folder_hint_any).to_owned()
    } else {
        td_string!(locale, folder_hint_root, root = &root)
    };
    view! {
        <div class="field">
            <label for="folder">{td_string!(locale, folder_label)}</label>
            <div class="folder-input">
                <span class="root">{root}</span>
                <input
                    id="folder"
                    name="folder"
                    type="text"
                    list=RECENT_FOLDERS
                    autocomplete="off"
                    spellcheck="false"
                    value=folder.get_untracked()
                    prop:value=folder
                    aria-describedby="folder-hint"
                    on:input=move |ev| folder.set(event_target_value(&ev))
                />
            </div>
            <small id="folder-hint">{hint}</small>
        </div>
    }
}
