//! The language switch: a plain form post that remembers the other language (a cookie) and
//! comes back to this page, rendered in it. While uploads run, leaving is asked about first.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{t, t_string, use_i18n, Locale};

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let back = {
        let search = location.search.get_untracked();
        let path = location.pathname.get_untracked();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{}", search.trim_start_matches('?'))
        }
    };
    let (other, other_lang) = match i18n.get_locale_untracked() {
        Locale::en => ("zh-CN", "zh-CN"),
        Locale::zh_CN => ("en", "en"),
    };
    view! {
        <form class="language" method="post" action="/api/set_language">
            <input type="hidden" name="locale" value=other />
            <input type="hidden" name="back" value=back />
            <button
                type="submit"
                class="secondary"
                lang=other_lang
                aria-label=t_string!(i18n, language_switch_label)
            >
                {t!(i18n, language_switch)}
            </button>
        </form>
    }
}
