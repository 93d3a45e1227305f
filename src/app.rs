//! The HTML shell, the `<App/>` root and its routes. Every page is rendered on the server; the
//! uploader is the one island the browser wakes (the WASM loads only where it is shown).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::components::account::AccountBar;
use crate::components::admin_page::AdminPage;
use crate::components::language_switch::LanguageSwitch;
use crate::components::my_uploads_page::MyUploadsPage;
use crate::components::plain_upload_page::PlainUploadPage;
use crate::components::request_page::RequestPage;
use crate::components::requests_page::RequestsPage;
use crate::components::send_page::SendPage;
use crate::components::upload_page::UploadPage;
use crate::components::uploaded_page::UploadedPage;
use crate::i18n::Locale;
use leptos_i18n::I18nContext;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::portal::state::set_page_policy();
    // The uploader's page loads the islands' scripts beside the island (`upload_page`).
    provide_context(options.clone());
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
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page's language: from the reader's choice (a cookie kept a year, set by the language
/// switch) or else their browser's `Accept-Language`, decided on the server.
#[component]
pub fn App() -> impl IntoView {
    use crate::i18n::I18nContextProvider;

    provide_meta_context();
    // `<html lang dir>` are set by `Page` (see `head_texts`), not by the provider. The provider
    // only reads the cookie: `set_language` writes it, with its year, and a page view writes
    // nothing (written here, it would come back on every page without its expiry).
    let cookie_options = leptos_i18n::context::CookieOptions::default().readonly(true);
    view! {
        <I18nContextProvider
            set_lang_attr_on_html=false
            set_dir_attr_on_html=false
            cookie_options
        >
            <Page />
        </I18nContextProvider>
    }
}

/// The page's title and `<html lang dir>`, as plain text decided while the page renders:
/// leptos_meta writes them into the head once the body is rendered, outside the request's
/// reactive arena, where a signal could meet another request's arena under concurrent loads.
fn head_texts(i18n: I18nContext<Locale>) -> (String, &'static str, &'static str) {
    use crate::i18n::t_string;
    use leptos_i18n::Locale as _;
    let locale = i18n.get_locale_untracked();
    (
        t_string!(i18n, title).to_owned(),
        locale.as_str(),
        locale.direction().as_str(),
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
                    <Route path=StaticSegment("requests") view=RequestsPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("requests"), ParamSegment("id"))
                        view=RequestPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("r"), ParamSegment("token"))
                        view=SendPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
