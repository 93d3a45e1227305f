//! The picker: the files input, with a folder input beside it on desktops and a camera input
//! in WeChat on Android. After each pick the phone's inputs are drawn anew, and the picker says
//! "Add more files" once the list holds some.

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;

use crate::components::use_locale;
use crate::i18n::td_string;
use crate::model::ClientKind;

/// The multi-file picker. In WeChat's in-app browser the `accept` list is left out (a specific
/// list can stop its picker from opening), and on Android a separate "Take photo" control opens
/// the camera, which `multiple` hides there. On desktops "Or a whole folder" picks a folder
/// (`webkitdirectory`). `on_pick` gets any input's change event; the files and camera
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
    /// The multi-file, camera and folder inputs, for files picked before the page woke.
    picker: NodeRef<leptos::html::Input>,
    camera: NodeRef<leptos::html::Input>,
    tree: NodeRef<leptos::html::Input>,
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
    // A whole folder, its files keeping their paths: desktops only (phones pick files). A
    // desktop browser fires again for the same folder once the input is emptied, which the
    // pick does: this input is not drawn anew.
    let folder = (client == ClientKind::Desktop).then(|| {
        let input =
            view! { <input id="tree" type="file" on:change=picked.clone() node_ref=tree /> }
                .add_any_attr(custom_attribute("webkitdirectory", ""));
        view! {
            <div class="field">
                <label for="tree">{td_string!(locale, pick_folder)}</label>
                {input}
            </div>
        }
    });
    let camera = (client == ClientKind::WeChatAndroid).then(|| {
        let input = move || {
            picks.track();
            view! {
                <input id="camera" type="file" accept="image/*" capture="environment" on:change=picked.clone() node_ref=camera />
            }
        };
        view! {
            <div class="field camera">
                <label for="camera">{td_string!(locale, take_photo)}</label>
                {input}
            </div>
        }
    });
    let label = move || {
        if listed.get() {
            td_string!(locale, add_more_files)
        } else {
            td_string!(locale, files_label)
        }
    };
    view! {
        <div class="field">
            <label for="files">{label}</label>
            {files}
        </div>
        {folder}
        {camera}
    }
}
