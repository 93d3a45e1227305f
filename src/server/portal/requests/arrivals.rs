//! Live arrivals: each upload completed through a request goes to its creator's open pages as
//! a server-sent event (announced through `announce.rs`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use crate::model::{LedgerEntry, PhoneArrival};
use crate::server::portal::access;
use crate::server::portal::state::AppState;

/// How long one event stream lasts; the browser reconnects after (and drops what it has).
const STREAM_FOR: Duration = Duration::from_secs(600);

/// `GET /requests/{id}/events?since=<unix seconds>[&as=line]`: each upload of the request
/// completed since then (a little before: the page drops what it already shows, by the event's
/// id, the entry's), as an event whose data is the table row to add (or, `as=line`, the
/// `PhoneArrival` the uploader lists); then each new one as it completes.
/// For the creator (or an administrator) only.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    let from = access::requester_of(&state.access, &parts);
    let request = match super::creating::own_request(&state, &from, &id).await {
        Ok((request, _)) => request,
        Err(error) => return crate::server::portal::ledger_pages::refused(error),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    #[derive(serde::Deserialize, Default)]
    struct Asked {
        since: Option<i64>,
        /// `line`: each event is a `PhoneArrival` (the uploader's list), not a table row.
        #[serde(rename = "as")]
        shape: Option<String>,
    }
    let asked = axum::extract::Query::<Asked>::try_from_uri(&parts.uri)
        .map(|axum::extract::Query(asked)| asked)
        .unwrap_or_default();
    let as_line = asked.shape.as_deref() == Some("line");
    let since = asked
        .since
        .unwrap_or(now)
        .min(now)
        // Completion times are whole seconds: what completed in the page's own second (or
        // was confirmed by an instance whose clock is a little behind) is sent too.
        .saturating_sub(OVERLAP_SECONDS);
    let mut heard = state.arrivals.local.subscribe();
    let mut closing = state.arrivals.closing.subscribe();
    let stream = stream_from(move |emit| async move {
        let mut sent: Vec<String> = Vec::new();
        let until = tokio::time::Instant::now() + STREAM_FOR;
        loop {
            // What arrived meanwhile (and, the first time, since the page was drawn).
            match state.ledger.arrivals(&request.id, since).await {
                Ok(arrived) => {
                    for mut entry in arrived {
                        if sent.contains(&entry.id) {
                            continue;
                        }
                        sent.push(entry.id.clone());
                        crate::server::portal::ledger_pages::link_stored(&mut entry);
                        let id = entry.id.clone();
                        let data = if as_line {
                            phone_arrival(entry)
                        } else {
                            crate::components::request_page::arrival_row_html(entry)
                        };
                        if emit.send(Event::default().id(id).data(data)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "arrivals could not be read"),
            }
            // Until this request hears of another arrival (a lagging receiver looks anyway).
            let wait = async {
                loop {
                    match heard.recv().await {
                        Ok(announced) if announced == request.id => return true,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Lagged(_)) => return true,
                        Err(broadcast::error::RecvError::Closed) => return false,
                    }
                }
            };
            tokio::select! {
                more = wait => if !more { return },
                _ = closing.wait_for(|c| *c) => return,
                _ = tokio::time::sleep_until(until) => return,
                _ = emit.closed() => return,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}

/// An arrival as the uploader's list takes it.
fn phone_arrival(entry: LedgerEntry) -> String {
    PhoneArrival {
        name: if entry.file_name.is_empty() {
            entry.key.rsplit('/').next().unwrap_or_default().to_owned()
        } else {
            entry.file_name
        },
        size: entry.stored_size.unwrap_or(entry.declared_size),
        etag: entry.etag.unwrap_or_default().trim_matches('"').to_owned(),
        key: entry.key,
        url: entry.url,
    }
    .to_line()
}

/// Seconds before `since` an event stream also looks at.
const OVERLAP_SECONDS: i64 = 5;

/// A stream fed by `body` through a small channel (the task ends when the stream is dropped).
fn stream_from<F, Fut>(body: F) -> impl futures::Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (emit, events) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(emit));
    futures::stream::unfold(events, |mut events| async move {
        events.recv().await.map(|event| (Ok(event), events))
    })
}
