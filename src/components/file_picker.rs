use leptos::prelude::*;

use crate::i18n::{t, use_i18n};
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
) -> impl IntoView {
    let i18n = use_i18n();
    let accept =
        (!client.is_wechat() && !allowed_types.is_empty()).then(|| allowed_types.join(","));
    let camera = (client == ClientKind::WeChatAndroid).then(|| {
        let on_pick = on_pick.clone();
        view! {
            <div class="field camera">
                <label for="camera">{t!(i18n, take_photo)}</label>
                <input id="camera" type="file" accept="image/*" capture="environment" on:change=on_pick />
            </div>
        }
    });
    view! {
        <div class="field">
            <label for="files">{t!(i18n, files_label)}</label>
            <input id="files" name="files" type="file" multiple accept=accept on:change=on_pick />
        </div>
        {camera}
    }
}
