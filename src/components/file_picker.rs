//! The picker: the files input and, in WeChat on Android, a camera input beside it. After each
//! pick both are drawn anew, and the picker says "Add more files" once the list holds some.

use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::td;
use crate::model::ClientKind;

/// The multi-file picker. In WeChat's in-app browser the `accept` list is left out (a specific
/// list can stop its picker from opening), and on Android a separate "Take photo" control opens
/// the camera, which `multiple` hides there. `on_pick` gets either input's change event; the
/// inputs are then replaced by fresh ones, so that picking the same files again, or after a
/// cancel, always fires (some WebViews keep a used input's state). `listed`: the list holds
/// files, so a pick adds to them.
#[component]
pub fn FilePicker(
    client: ClientKind,
    /// MIME patterns the server accepts; empty for any.
    allowed_types: Vec<String>,
    on_pick: impl Fn(leptos::ev::Event) + Clone + Send + Sync + 'static,
    listed: Signal<bool>,
    /// The multi-file input and the camera input, for files picked before the page woke.
    picker: NodeRef<leptos::html::Input>,
    camera: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let locale = use_locale();
    let accept =
        (!client.is_wechat() && !allowed_types.is_empty()).then(|| allowed_types.join(","));
    // Picks so far: each one draws the inputs anew.
    let picks = RwSignal::new(0u32);
    let picked = move |ev: leptos::ev::Event| {
        on_pick(ev);
        picks.update(|n| *n += 1);
    };
    let files = {
        let picked = picked.clone();
        move || {
            picks.track();
            view! {
                <input id="files" name="files" type="file" multiple accept=accept.clone() on:change=picked.clone() node_ref=picker />
            }
        }
    };
    let camera = (client == ClientKind::WeChatAndroid).then(|| {
        let input = move || {
            picks.track();
            view! {
                <input id="camera" type="file" accept="image/*" capture="environment" on:change=picked.clone() node_ref=camera />
            }
        };
        view! {
            <div class="field camera">
                <label for="camera">{td!(locale, take_photo)}</label>
                {input}
            </div>
        }
    });
    let label = move || {
        if listed.get() {
            td!(locale, add_more_files).into_any()
        } else {
            td!(locale, files_label).into_any()
        }
    };
    view! {
        <div class="field">
            <label for="files">{label}</label>
            {files}
        </div>
        {camera}
    }
}
