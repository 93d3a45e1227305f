//! "Continue on phone": a QR code of a short-lived request of the reader's (their folder and
//! naming); what the phone sends through it joins the uploader's list as it arrives.

use leptos::prelude::*;

use crate::components::use_locale;
use crate::error::PortalError;
use crate::i18n::td_string;
use crate::model::NamingMode;
use crate::upload::row::UploadRow;

/// How long the code shows and the list listens: the request's own 15 minutes.
#[cfg(feature = "hydrate")]
const OPEN_FOR: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// The button, then the code; arrivals become finished `rows` (numbered from `next_id`).
#[component]
pub fn ContinueOnPhone(
    folder: RwSignal<String>,
    naming: RwSignal<NamingMode>,
    rows: RwSignal<Vec<UploadRow>>,
    next_id: StoredValue<u32>,
    error: RwSignal<Vec<PortalError>>,
) -> impl IntoView {
    let locale = use_locale();
    // The request's id while its code shows.
    let request = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    let source = StoredValue::new_local(None::<web_sys::EventSource>);
    // Stops listening and hides the code; `end` also closes the request (the Stop button).
    let stop = move |end: bool| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(source) = source.get_value() {
                source.close();
            }
            source.set_value(None);
            if let Some(id) = request.get_untracked().filter(|_| end) {
                // A request's id is hex: nothing in it needs escaping.
                crate::upload::beacon("/api/stop_phone", &format!(r#"{{"id":"{id}"}}"#));
            }
        }
        let _ = end;
        request.set(None);
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = (folder, naming, rows, next_id, error);
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let asked = crate::api::continue_on_phone(
                folder.get_untracked(),
                naming.get_untracked(),
                leptos_i18n::Locale::as_str(locale).to_owned(),
            )
            .await;
            match asked {
                Ok(id) => {
                    let events = format!("/requests/{id}/events?since=0&as=line");
                    source.set_value(crate::components::live::listen(
                        &events,
                        Vec::new(),
                        Box::new(move |line| arrived(&line, rows, next_id)),
                    ));
                    request.set(Some(id.clone()));
                    // The code ends with its request (unless stopped or started again).
                    set_timeout(
                        move || {
                            if request.get_untracked().as_ref() == Some(&id) {
                                stop(false);
                            }
                        },
                        OPEN_FOR,
                    );
                }
                Err(refused) => error.set(vec![refused]),
            }
        });
    };
    // Drawn once, shown while a request is open (fewer views to build: a lighter page).
    let hidden = move || request.with(Option::is_none);
    let image = move || request.with(|id| id.as_ref().map(|id| format!("/requests/{id}/qr.svg")));
    view! {
        <button type="button" class="secondary" hidden=move || !hidden() on:click=start>
            {td_string!(locale, continue_on_phone)}
        </button>
        <figure class="phone" hidden=hidden>
            <img src=image alt=td_string!(locale, qr_code) width="264" height="264" />
            <figcaption>
                {td_string!(locale, phone_hint)} " "
                <button type="button" class="secondary" on:click=move |_| stop(true)>
                    {td_string!(locale, phone_stop)}
                </button>
            </figcaption>
        </figure>
    }
}

/// An arrival from the phone (the event's line) as a finished row of the list.
#[cfg(feature = "hydrate")]
fn arrived(line: &str, rows: RwSignal<Vec<UploadRow>>, next_id: StoredValue<u32>) {
    use crate::upload::row::{Note, RowStatus};
    let Some(arrival) = crate::model::PhoneArrival::from_line(line) else {
        return;
    };
    let id = next_id.get_value();
    next_id.set_value(id + 1);
    let row = UploadRow::new(id, arrival.name, arrival.size, String::new(), 0.0);
    row.progress.set(100);
    row.status.set(RowStatus::Done {
        key: arrival.key,
        url: arrival.url,
        etag: arrival.etag,
        note: Some(Note::FromPhone),
        verified: false,
    });
    rows.update(|rows| rows.push(row));
}
