//! The HTML shell, the `<App/>` root and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::components::account::AccountBar;
use crate::components::admin_page::AdminPage;
use crate::components::language_switch::LanguageSwitch;
use crate::components::my_uploads_page::MyUploadsPage;
use crate::components::plain_upload_page::PlainUploadPage;
use crate::components::upload_page::UploadPage;
use crate::components::uploaded_page::UploadedPage;
use crate::i18n::Locale;
use leptos_i18n::I18nContext;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::layers::set_page_policy();
    view! {
        <!DOCTYPE html>
        // `lang` comes from the page's language (the i18n context sets it), so that the
        // hydrating page reads the language the server chose.
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Lets CSS show the full uploader only where scripts run (no flash of the
                // plain fallback form); without JavaScript the plain form shows instead.
                <script nonce=leptos::nonce::use_nonce()>
                    "document.documentElement.classList.add('js')"
                </script>
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page's language: from the reader's choice (a cookie kept a year) or else their
/// browser's `Accept-Language`, decided on the server so the first HTML is already in it.
#[component]
pub fn App() -> impl IntoView {
    use crate::i18n::I18nContextProvider;
    use leptos_i18n::context::CookieOptions;

    provide_meta_context();
    let remembered = CookieOptions::default()
        .path("/")
        .max_age(365 * 24 * 3600 * 1000_i64)
        .same_site(leptos_use::SameSite::Lax);
    // `<html lang dir>` are set by `Page` (see `head_texts`), not by the provider.
    view! {
        <I18nContextProvider
            cookie_options=remembered
            set_lang_attr_on_html=false
            set_dir_attr_on_html=false
        >
            <Page />
        </I18nContextProvider>
    }
}

/// The page's title and `<html lang dir>`. leptos_meta writes them into the head once the
/// body is rendered, outside the request's reactive arena: on the server, a signal read
/// there could meet another request's arena under concurrent page loads (a panic and a 500,
/// or a page that never finished). So the server decides them once, as plain text, while
/// the page renders; in the browser they follow the language switch.
#[cfg(feature = "ssr")]
fn head_texts(i18n: I18nContext<Locale>) -> (TextProp, &'static str, &'static str) {
    use crate::i18n::t_string;
    use leptos_i18n::Locale as _;
    let locale = i18n.get_locale_untracked();
    (
        TextProp::from(t_string!(i18n, title).to_owned()),
        locale.as_str(),
        locale.direction().as_str(),
    )
}

#[cfg(not(feature = "ssr"))]
fn head_texts(
    i18n: I18nContext<Locale>,
) -> (
    TextProp,
    impl Fn() -> &'static str + Send + Sync + Clone + 'static,
    impl Fn() -> &'static str + Send + Sync + Clone + 'static,
) {
    use crate::i18n::t_string;
    use leptos_i18n::Locale as _;
    (
        TextProp::from(move || t_string!(i18n, title).to_owned()),
        move || i18n.get_locale().as_str(),
        move || i18n.get_locale().direction().as_str(),
    )
}

#[component]
fn Page() -> impl IntoView {
    use crate::i18n::{t, use_i18n};

    let i18n = use_i18n();
    let (title, lang, dir) = head_texts(i18n);
    view! {
        <Title text=title />
        <Html attr:lang=lang attr:dir=dir />
        <Router>
            <main>
                <div class="top">
                    <AccountBar />
                    <LanguageSwitch />
                </div>
                <Routes fallback=move || view! { <p>{t!(i18n, not_found)}</p> }>
                    // Async: the whole form is in the first HTML, no streaming placeholders.
                    <Route path=StaticSegment("") view=UploadPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("uploaded") view=UploadedPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("upload"), StaticSegment("plain"))
                        view=PlainUploadPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("uploads") view=MyUploadsPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("admin") view=AdminPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
