//! The page at `/`: a short explanation and the uploader, configured by the server's rules;
//! without JavaScript, the form that starts a plain upload.

use leptos::prelude::*;

use crate::api::{get_portal_settings, recent_folders};
use crate::components::account::or_sign_in;
use crate::components::fallback_form::PlainStart;
use crate::components::folder_field::RECENT_FOLDERS;
use crate::components::uploader::Uploader;
use crate::i18n::{t, use_i18n};

#[component]
pub fn UploadPage() -> impl IntoView {
    let settings = Resource::new_blocking(|| (), |_| get_portal_settings());
    let recent = Resource::new_blocking(|| (), |_| recent_folders());
    let i18n = use_i18n();
    view! {
        <header class="intro">
            <h1>{t!(i18n, title)}</h1>
            <p>{t!(i18n, intro)}</p>
        </header>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => {
                        let folder = settings.default_folder.clone();
                        let locale = i18n.get_locale_untracked();
                        // Drawn here, outside the island: its field only names the list.
                        let recent = recent.await.unwrap_or_default();
                        view! {
                            // The shell marks <html class="js"> before the body renders: with
                            // JavaScript the full uploader shows, without it the plain form
                            // (which asks for its ticket: showing this page signs nothing).
                            <div class="with-js">
                                <Uploader locale settings />
                            </div>
                            <datalist id=RECENT_FOLDERS>
                                {recent.into_iter().map(|folder| view! { <option value=folder></option> }).collect_view()}
                            </datalist>
                            <div class="without-js">
                                <PlainStart folder />
                            </div>
                            // The WASM loads only where the island is.
                            <IslandScripts />
                        }
                            .into_any()
                    }
                    Err(error) => or_sign_in(error),
                }
            })}
        </Suspense>
    }
}

/// The script that wakes the islands, for a page that shows one: pages without an island
/// never download the WASM.
#[component]
pub fn IslandScripts() -> impl IntoView {
    use_context::<LeptosOptions>()
        .map(|options| view! { <HydrationScripts options islands=true /> })
}
