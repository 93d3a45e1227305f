use leptos::prelude::*;

use crate::i18n::{t, use_i18n};
use crate::model::NamingMode;

/// The two naming radios: a random name keeping the extension (default), or the file's own.
#[component]
pub fn NamingChoice(naming: RwSignal<NamingMode>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <fieldset class="field naming">
            <legend>{t!(i18n, naming_legend)}</legend>
            <NamingRadio naming mode=NamingMode::Random value="random">
                {t!(i18n, naming_random)}
            </NamingRadio>
            <NamingRadio naming mode=NamingMode::Original value="original">
                {t!(i18n, naming_original)}
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
