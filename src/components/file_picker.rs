//! The picker: the files input and, in WeChat on Android, a camera input beside it.

use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::td;
use crate::model::ClientKind;

/// The multi-file picker. In WeChat's in-app browser the `accept` list is left out (a specific
/// list can stop its picker from opening), and on Android a separate "Take photo" control opens
/// the camera, which `multiple` hides there. `on_pick` gets either input's change event.
#[component]
pub fn FilePicker(
    client: ClientKind,
    /// MIME patterns the server accepts; empty for any.
    allowed_types: Vec<String>,
    on_pick: impl Fn(leptos::ev::Event) + Clone + 'static,
    /// The multi-file input and the camera input, for files picked before the page woke.
    picker: NodeRef<leptos::html::Input>,
    camera: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let locale = use_locale();
    let accept =
        (!client.is_wechat() && !allowed_types.is_empty()).then(|| allowed_types.join(","));
    let camera = (client == ClientKind::WeChatAndroid).then(|| {
        let on_pick = on_pick.clone();
        view! {
            <div class="field camera">
                <label for="camera">{td!(locale, take_photo)}</label>
                <input id="camera" type="file" accept="image/*" capture="environment" on:change=on_pick node_ref=camera />
            </div>
        }
    });
    view! {
        <div class="field">
            <label for="files">{td!(locale, files_label)}</label>
            <input id="files" name="files" type="file" multiple accept=accept on:change=on_pick node_ref=picker />
        </div>
        {camera}
    }
}
