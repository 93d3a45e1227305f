use leptos::prelude::*;

use crate::model::NamingMode;

/// The two naming radios: a random name keeping the extension (default), or the file's own.
#[component]
pub fn NamingChoice(naming: RwSignal<NamingMode>) -> impl IntoView {
    view! {
        <fieldset class="field naming">
            <legend>"Object names"</legend>
            <label>
                <input
                    type="radio"
                    name="naming"
                    value="random"
                    prop:checked=move || naming.get() == NamingMode::Random
                    checked=true
                    on:change=move |_| naming.set(NamingMode::Random)
                />
                "Random name"
            </label>
            <label>
                <input
                    type="radio"
                    name="naming"
                    value="original"
                    prop:checked=move || naming.get() == NamingMode::Original
                    on:change=move |_| naming.set(NamingMode::Original)
                />
                "Original name"
            </label>
        </fieldset>
    }
}
