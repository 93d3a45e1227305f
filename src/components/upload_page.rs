use leptos::prelude::*;

use crate::api::get_portal_settings;
use crate::components::fallback_form::FallbackForm;
use crate::components::uploader::Uploader;

/// The page at `/`: a short explanation and the uploader, configured by the server's rules.
#[component]
pub fn UploadPage() -> impl IntoView {
    let settings = Resource::new_blocking(|| (), |_| get_portal_settings());
    view! {
        <header class="intro">
            <h1>"Upload Portal"</h1>
            <p>
                "Files go straight to the bucket. The server signs each upload and chooses its name, so no key ever reaches this page."
            </p>
        </header>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
