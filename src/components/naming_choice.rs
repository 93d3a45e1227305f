use leptos::prelude::*;

use crate::model::NamingMode;

/// The two naming radios: a random name keeping the extension (default), or the file's own.
#[component]
pub fn NamingChoice(naming: RwSignal<NamingMode>) -> impl IntoView {
    view! {
        <fieldset class="field naming">
            <legend>"Object names"</legend>
            <NamingRadio naming mode=NamingMode::Random value="random" label="Random name" />
            <NamingRadio naming mode=NamingMode::Original value="original" label="Original name" />
        </fieldset>
    }
}

#[component]
fn NamingRadio(
    naming: RwSignal<NamingMode>,
    mode: NamingMode,
    value: &'static str,
    label: &'static str,
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
            {label}
        </label>
    }
}
