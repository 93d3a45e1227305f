use leptos::prelude::*;

use crate::i18n::{t, t_string, use_i18n, Locale};

/// Switches the page between English and Chinese; the choice is remembered (a cookie).
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let switch = move |_| {
        i18n.set_locale(match i18n.get_locale_untracked() {
            Locale::en => Locale::zh_CN,
            Locale::zh_CN => Locale::en,
        })
    };
    view! {
        <nav class="language">
            <button
                type="button"
                class="secondary"
                lang=move || match i18n.get_locale() {
                    Locale::en => "zh-CN",
                    Locale::zh_CN => "en",
                }
                aria-label=move || t_string!(i18n, language_switch_label)
                on:click=switch
            >
                {t!(i18n, language_switch)}
            </button>
        </nav>
    }
}
