use leptos::prelude::*;

/// The multi-file picker. `on_pick` gets the input's change event.
#[component]
pub fn FilePicker(on_pick: impl FnMut(leptos::ev::Event) + 'static) -> impl IntoView {
    view! {
        <div class="field">
            <label for="files">"Files"</label>
            <input id="files" name="files" type="file" multiple on:change=on_pick />
        </div>
    }
}
