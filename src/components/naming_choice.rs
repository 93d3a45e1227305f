//! The naming choice of the uploader: a random object name keeping the extension (the
//! default), or the file's own name (made free by numbering when taken).

use leptos::prelude::*;

use crate::components::use_locale;
use crate::i18n::td_string;
use crate::model::NamingMode;

/// The two naming radios: a random name keeping the extension (default), or the file's own.
#[component]
pub fn NamingChoice(naming: RwSignal<NamingMode>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <fieldset class="field naming">
            <legend>{td_string!(locale, naming_legend)}</legend>
            <NamingRadio naming mode=NamingMode::Random value="random">
                {td_string!(locale, naming_random)}
            </NamingRadio>
            <NamingRadio naming mode=NamingMode::Original value="original">
                {td_string!(locale, naming_original)}
            </NamingRadio>
        </fieldset>
    }
}

#[component]
fn NamingRadio(
    naming: RwSignal<NamingMode>,
    mode: NamingMode,
    value: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <label>
            <input
                type="radio"
                name="naming"
                value=value
                // The SSR HTML checks the default; the property follows the signal after.
                checked=mode == NamingMode::default()
                prop:checked=move || naming.get() == mode
                on:change=move |_| naming.set(mode)
            />
            {children()}
        </label>
    }
}
