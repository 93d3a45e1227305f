//! `/requests/{id}`: one upload request for its creator: the link and its QR code (printable),
//! the rules, and what arrived, with new arrivals added live (server-sent events).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::get_request_detail;
use crate::components::account::or_sign_in;
use crate::components::requests_page::{state_name, CloseRequest, RequestStateText};
use crate::components::upload_page::IslandScripts;
use crate::format::{format_size, format_time};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{LedgerEntry, RequestState};

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new_blocking(id, get_request_detail);
    let i18n = use_i18n();
    view! {
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let detail = match detail.await {
                    Ok(detail) => detail,
                    Err(error) => return or_sign_in(error),
                };
                let request = detail.request;
                let link = detail.url;
                let seen = detail.arrivals.len();
                let shown: Vec<String> = detail.arrivals.iter().map(|e| e.id.clone()).collect();
                let events = format!("/requests/{}/events?since={}", request.id, detail.drawn_at);
                let csv = format!("/requests/{}/uploads.csv", request.id);
                let open = request.state == RequestState::Open;
                // The table is the island's (an island's element cannot sit inside a table): its
                // head and first rows are rendered here, its live rows come as events.
                let head = view! {
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_file)}</th>
                            <th scope="col">{t!(i18n, col_sender)}</th>
                            <th scope="col">{t!(i18n, col_note)}</th>
                            <th scope="col">{t!(i18n, col_size)}</th>
                            <th scope="col">{t!(i18n, col_time)}</th>
                        </tr>
                    </thead>
                }
                .to_html();
                let rows: String = detail
                    .arrivals
                    .into_iter()
                    .rev()
                    .map(arrival_row_html)
                    .collect();
                view! {
                    <header class="intro">
                        <p class="back"><a href="/requests">{t!(i18n, back_to_requests)}</a></p>
                        <h1>{request.title.clone()}</h1>
                        <p class="request-state" data-state=state_name(request.state)>
                            <RequestStateText state=request.state />
                            " · " {t!(i18n, col_expires)} " " {format_time(request.expires_at)}
                        </p>
                    </header>
                    <section class="uploader share">
                        <figure class="qr">
                            <div role="img" aria-label=t_string!(i18n, qr_code).to_string() inner_html=detail.qr_svg></div>
                            <figcaption>{t!(i18n, request_qr_hint)}</figcaption>
                        </figure>
                        <div class="field">
                            <label for="request-link">{t!(i18n, request_link_label)}</label>
                            <input id="request-link" type="text" readonly value=link.clone() />
                        </div>
                        <p class="print-hint">{t!(i18n, request_print_hint)}</p>
                        <p class="limits">{request.folder.clone()}</p>
                        {request.webhook.clone().filter(|w| !w.url.is_empty()).map(|webhook| view! { <WebhookState webhook /> })}
                        {open.then(|| view! { <CloseRequest id=request.id.clone() /> })}
                    </section>
                    <section class="uploader arrivals">
                        <h2>{t!(i18n, arrivals_title)}</h2>
                        <p class="limits">
                            {t!(i18n, request_received, files = request.files, size = format_size(request.bytes))}
                            " " <a href=csv rel="external" download="request-uploads.csv">{t!(i18n, download_csv)}</a>
                        </p>
                        <div class="table-scroll">
                            <LiveArrivals events head rows shown />
                        </div>
                        {(seen == 0).then(|| view! { <p class="empty">{t!(i18n, no_arrivals)}</p> })}
                    </section>
                    <IslandScripts />
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// Where the request's webhook goes, its signing key, and how the last delivery went.
#[component]
fn WebhookState(webhook: crate::model::WebhookSummary) -> impl IntoView {
    let i18n = use_i18n();
    let last = if webhook.at == 0 {
        t_string!(i18n, webhook_none_yet).to_owned()
    } else {
        t_string!(
            i18n,
            webhook_last,
            status = webhook.status.clone(),
            time = format_time(webhook.at)
        )
    };
    view! {
        <div class="webhook">
            <h2>{t!(i18n, webhook_title)}</h2>
            <p><code>{webhook.url.clone()}</code> " (" {webhook.kind.clone()} ")"</p>
            {(webhook.kind == "json").then(|| view! {
                <p>{t!(i18n, webhook_key)} ": " <code class="webhook-key">{webhook.key.clone()}</code></p>
            })}
            <p class="webhook-status">{last}</p>
        </div>
    }
}

/// One upload that arrived through a request (also sent, rendered here, as a live event).
#[component]
pub fn ArrivalRow(entry: LedgerEntry) -> impl IntoView {
    let size = format_size(entry.stored_size.unwrap_or(entry.declared_size));
    let time = format_time(entry.completed_at.unwrap_or(entry.signed_at));
    let name = if entry.file_name.is_empty() {
        entry.key.rsplit('/').next().unwrap_or_default().to_owned()
    } else {
        entry.file_name.clone()
    };
    let object = if entry.url.is_empty() {
        view! { <span class="key" title=entry.key.clone()>{name}</span> }.into_any()
    } else {
        view! { <a class="key" href=entry.url.clone() title=entry.key.clone() rel="noopener">{name}</a> }
            .into_any()
    };
    view! {
        <tr data-state=if entry.deleted_at.is_some() { "deleted" } else { "stored" }>
            <td class="object">{object}</td>
            <td>{entry.sender_name.clone()}</td>
            <td class="note">{entry.sender_note.clone()}</td>
            <td class="num">{size}</td>
            <td class="num">{time}</td>
        </tr>
    }
}

/// The row of an arrival as HTML (what the page is drawn with and the event stream sends;
/// escaped by the renderer).
pub fn arrival_row_html(entry: LedgerEntry) -> String {
    view! { <ArrivalRow entry /> }.to_html()
}

/// The arrivals' table: `head`, then the rows that arrive while the page is open, newest
/// first, above the `rows` it was drawn with (the uploads `shown`). Each event of `events`
/// carries one row, rendered (and escaped) by the server, and its upload's id: a row already
/// on the page (the stream starts a little before the page was drawn) is not added again.
#[island]
fn LiveArrivals(events: String, head: String, rows: String, shown: Vec<String>) -> impl IntoView {
    let added = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        crate::components::live::listen(
            &events,
            shown.clone(),
            Box::new(move |row| added.update(|rows| rows.insert_str(0, &row))),
        );
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (events, shown);
    let table = move || {
        added.with(|added| {
            format!("{head}<tbody class=\"live\">{added}</tbody><tbody>{rows}</tbody>")
        })
    };
    view! { <table class="ledger" inner_html=table></table> }
}
