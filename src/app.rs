//! The HTML shell, the `<App/>` root and its routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

use crate::components::upload_page::UploadPage;
use crate::components::uploaded_page::UploadedPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // Lets CSS show the full uploader only where scripts run (no flash of the
                // plain fallback form); without JavaScript the plain form shows instead.
                <script>"document.documentElement.classList.add('js')"</script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/upload-portal.css" />
        <Title text="Upload Portal" />
        <Router>
            <main>
                <Routes fallback=|| view! { <p>"Page not found."</p> }>
                    // Async: the whole form is in the first HTML, no streaming placeholders.
                    <Route path=StaticSegment("") view=UploadPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("uploaded") view=UploadedPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
