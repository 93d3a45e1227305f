use leptos::prelude::*;

use crate::i18n::{t, use_i18n};

/// The destination folder. The server normalises and checks it; this only collects it.
#[component]
pub fn FolderField(folder: RwSignal<String>, root: String) -> impl IntoView {
    let i18n = use_i18n();
    let hint = move || {
        if root.is_empty() {
            t!(i18n, folder_hint_any).into_any()
        } else {
            let root = root.clone();
            t!(i18n, folder_hint_root, root = move || root.clone()).into_any()
        }
    };
    view! {
        <div class="field">
            <label for="folder">{t!(i18n, folder_label)}</label>
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
