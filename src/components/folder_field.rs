use leptos::prelude::*;

/// The destination folder. The server normalises and checks it; this only collects it.
#[component]
pub fn FolderField(folder: RwSignal<String>, root: String) -> impl IntoView {
    let hint = if root.is_empty() {
        "Any folder in the bucket.".to_owned()
    } else {
        format!("Inside {root}")
    };
    view! {
        <div class="field">
            <label for="folder">"Destination folder"</label>
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
