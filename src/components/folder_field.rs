//! The destination-folder field of the uploader, with a hint of the root it must stay under.
//! The server normalises and checks the folder; the field only collects it.

use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::td;

/// The destination folder. The server normalises and checks it; this only collects it.
#[component]
pub fn FolderField(folder: RwSignal<String>, root: String) -> impl IntoView {
    let locale = use_locale();
    let hint = move || {
        if root.is_empty() {
            td!(locale, folder_hint_any).into_any()
        } else {
            let root = root.clone();
            td!(locale, folder_hint_root, root = move || root.clone()).into_any()
        }
    };
    view! {
        <div class="field">
            <label for="folder">{td!(locale, folder_label)}</label>
            <input
                id="folder"
                name="folder"
                type="text"
                autocomplete="off"
                spellcheck="false"
                value=folder.get_untracked()
                aria-describedby="folder-hint"
                on:input=move |ev| folder.set(event_target_value(&ev))
            />
            <small id="folder-hint">{hint}</small>
        </div>
    }
}
