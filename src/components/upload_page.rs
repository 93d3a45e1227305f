use leptos::prelude::*;

use crate::api::get_portal_settings;
use crate::components::account::or_sign_in;
use crate::components::fallback_form::FallbackForm;
use crate::components::uploader::Uploader;
use crate::i18n::{t, use_i18n};

/// The page at `/`: a short explanation and the uploader, configured by the server's rules.
#[component]
pub fn UploadPage() -> impl IntoView {
    let settings = Resource::new_blocking(|| (), |_| get_portal_settings());
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
                        let fallback = settings.fallback.clone();
                        let max = settings.max_file_size;
                        view! {
                            // The shell marks <html class="js"> before the body renders: with
                            // JavaScript the full uploader shows, without it the plain form.
                            <div class="with-js">
                                <Uploader settings />
                            </div>
                            <div class="without-js">
                                <FallbackForm ticket=fallback max_file_size=max />
                            </div>
                        }
                            .into_any()
                    }
                    Err(error) => or_sign_in(error),
                }
            })}
        </Suspense>
    }
}
