//! `/upload/plain`: the upload without JavaScript. With `?ticket=` it shows that ticket's
//! signed form; otherwise the form that asks for one, with why the last request was refused.

use leptos::prelude::*;

use crate::api::{get_portal_settings, plain_form};
use crate::components::account::or_sign_in;
use crate::components::fallback_form::{FallbackForm, PlainStart};
use crate::components::query::{use_query_text, value};
use crate::error::{FormRefusal, Notice, PortalError};
use crate::i18n::{t, use_i18n};
use crate::naming::folder_in_root;

#[component]
pub fn PlainUploadPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_text();
    let ticket = move || value(&query.read(), "ticket").unwrap_or_default();
    let folder = move || value(&query.read(), "folder");
    let refused =
        move || value(&query.read(), "refused").and_then(|json| FormRefusal::from_query(&json));
    let settings = Resource::new_blocking(|| (), |_| get_portal_settings());
    let form = Resource::new_blocking(ticket, |ticket| async move {
        if ticket.is_empty() {
            None
        } else {
            Some(plain_form(ticket).await)
        }
    });
    view! {
        <header class="intro">
            <h1>{t!(i18n, title)}</h1>
        </header>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let settings = match settings.await {
                    Ok(settings) => settings,
                    Err(error) => return or_sign_in(error),
                };
                match form.await {
                    Some(Ok(ticket)) => {
                        view! { <FallbackForm ticket max_file_size=settings.max_file_size /> }
                            .into_any()
                    }
                    Some(Err(error)) => {
                        view! {
                            <p role="alert" class="error">
                                {move || error.describe(i18n.get_locale())}
                            </p>
                            <PlainStart folder=settings.default_folder.clone() />
                        }
                            .into_any()
                    }
                    None => {
                        // Why the last start was refused: figures from the URL, a folder
                        // checked again here (a crafted link cannot choose the words).
                        let asked = folder().unwrap_or_else(|| settings.default_folder.clone());
                        let problem = refused()
                            .and_then(|refusal| match refusal.to_error() {
                                Some(error) => Some(error),
                                None => {
                                    folder_in_root(&asked, &settings.upload_root)
                                        .err()
                                        .map(|e| PortalError::Invalid(Notice::Folder(e)))
                                }
                            });
                        view! {
                            {problem
                                .map(|error| {
                                    view! {
                                        <p role="alert" class="error">
                                            {move || error.describe(i18n.get_locale())}
                                        </p>
                                    }
                                })}
                            <PlainStart folder=asked />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
