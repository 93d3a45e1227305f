//! `/requests`: the reader's upload requests (title, link, state, what arrived, Close, CSV) and
//! the form that creates one. Rendered on the server; plain forms, no script.

use leptos::prelude::*;

use crate::api::my_requests;
use crate::components::account::or_sign_in;
use crate::components::query::{use_query_text, use_refusal, value};
use crate::format::{format_size, format_time};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{RequestState, RequestSummary};

#[component]
pub fn RequestsPage() -> impl IntoView {
    let query = use_query_text();
    let everyone = move || value(&query.read(), "all").is_some();
    let requests = Resource::new_blocking(everyone, my_requests);
    let i18n = use_i18n();
    let refusal = use_refusal();
    view! {
        <header class="intro">
            <h1>{t!(i18n, requests_title)}</h1>
            <p>{t!(i18n, requests_intro)}</p>
        </header>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let (requests, may_create) = match requests.await {
                    Ok(found) => found,
                    Err(error) => return or_sign_in(error),
                };
                view! {
                    {move || refusal().map(|why| view! { <p role="alert" class="error">{why}</p> })}
                    <section class="uploader">
                        <RequestList requests everyone=everyone() />
                    </section>
                    {may_create.then(|| view! { <NewRequestForm /> })}
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The requests as a table: each one's title (to its page), state, what arrived, and Close;
/// with `everyone` (an administrator's view), who made each.
#[component]
fn RequestList(requests: Vec<RequestSummary>, everyone: bool) -> impl IntoView {
    let i18n = use_i18n();
    if requests.is_empty() {
        return view! { <p class="empty">{t!(i18n, no_requests)}</p> }.into_any();
    }
    let rows = requests
        .into_iter()
        .map(|request| view! { <RequestRow request everyone /> })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="ledger requests">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_title)}</th>
                        {everyone.then(|| view! { <th scope="col">{t!(i18n, col_user)}</th> })}
                        <th scope="col">{t!(i18n, col_state)}</th>
                        <th scope="col">{t!(i18n, col_received)}</th>
                        <th scope="col">{t!(i18n, col_expires)}</th>
                        <th scope="col">{t!(i18n, col_actions)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn RequestRow(request: RequestSummary, everyone: bool) -> impl IntoView {
    let i18n = use_i18n();
    let page = format!("/requests/{}", request.id);
    let csv = format!("/requests/{}/uploads.csv", request.id);
    let received = t_string!(
        i18n,
        request_received,
        files = request.files,
        size = format_size(request.bytes)
    );
    let open = request.state == RequestState::Open;
    view! {
        <tr data-state=state_name(request.state)>
            <td class="object"><a href=page>{request.title.clone()}</a></td>
            {everyone.then(|| view! {
                <td data-label=t_string!(i18n, col_user).to_string()>{request.creator.clone()}</td>
            })}
            <td data-label=t_string!(i18n, col_state).to_string()><RequestStateText state=request.state /></td>
            <td class="num" data-label=t_string!(i18n, col_received).to_string()>{received}</td>
            <td class="num" data-label=t_string!(i18n, col_expires).to_string()>{format_time(request.expires_at)}</td>
            <td class="delete-cell" data-label=t_string!(i18n, col_actions).to_string()>
                <a class="button secondary" href=csv rel="external" download="request-uploads.csv">
                    {t!(i18n, download_csv)}
                </a>
                {open.then(|| view! { <CloseRequest id=request.id.clone() /> })}
            </td>
        </tr>
    }
}

/// Close, in two clicks without script (a disclosure holds the form).
#[component]
pub fn CloseRequest(id: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <details class="delete">
            <summary>{t!(i18n, request_close)}</summary>
            <form method="post" action="/api/close_request" class="inline">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="danger">{t!(i18n, request_close_for_good)}</button>
            </form>
        </details>
    }
}

/// `open`, `expired`, `closed` (for CSS and tests).
pub fn state_name(state: RequestState) -> &'static str {
    match state {
        RequestState::Open => "open",
        RequestState::Expired => "expired",
        RequestState::Closed => "closed",
    }
}

#[component]
pub fn RequestStateText(state: RequestState) -> impl IntoView {
    let i18n = use_i18n();
    let text = match state {
        RequestState::Open => t!(i18n, request_state_open).into_any(),
        RequestState::Expired => t!(i18n, request_state_expired).into_any(),
        RequestState::Closed => t!(i18n, request_state_closed).into_any(),
    };
    view! { <span class="state">{text}</span> }
}

/// The form that creates a request (a plain post: the browser lands on the new request's page).
#[component]
fn NewRequestForm() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="uploader">
            <h2>{t!(i18n, request_new)}</h2>
            <form method="post" action="/api/create_request" class="request-form">
                <div class="field">
                    <label for="rq-title">{t!(i18n, request_title_label)}</label>
                    <input id="rq-title" type="text" name="title" required maxlength="200" />
                </div>
                <div class="field">
                    <label for="rq-instructions">{t!(i18n, request_instructions_label)}</label>
                    <textarea id="rq-instructions" name="instructions" rows="3" maxlength="4000"></textarea>
                </div>
                <div class="field">
                    <label for="rq-folder">{t!(i18n, request_folder_label)}</label>
                    <input id="rq-folder" type="text" name="folder" autocomplete="off" spellcheck="false" aria-describedby="rq-folder-hint" />
                    <small id="rq-folder-hint">{t!(i18n, request_folder_hint)}</small>
                </div>
                <div class="field">
                    <label for="rq-expires">{t!(i18n, request_expires_label)}</label>
                    <input id="rq-expires" type="datetime-local" name="expires" />
                </div>
                <div class="field-row">
                    <div class="field">
                        <label for="rq-max-files">{t!(i18n, request_max_files_label)}</label>
                        <input id="rq-max-files" type="number" min="0" name="max_files" inputmode="numeric" />
                    </div>
                    <div class="field">
                        <label for="rq-max-size">{t!(i18n, request_max_file_size_label)}</label>
                        <input id="rq-max-size" type="number" min="0" name="max_file_size_mb" inputmode="numeric" />
                    </div>
                    <div class="field">
                        <label for="rq-max-total">{t!(i18n, request_max_total_label)}</label>
                        <input id="rq-max-total" type="number" min="0" name="max_total_mb" inputmode="numeric" />
                    </div>
                </div>
                <small>{t!(i18n, request_no_limit_hint)}</small>
                <div class="field">
                    <label for="rq-types">{t!(i18n, request_types_label)}</label>
                    <input id="rq-types" type="text" name="allowed_types" placeholder="image/*, .pdf" autocomplete="off" spellcheck="false" />
                </div>
                <div class="field">
                    <label for="rq-password">{t!(i18n, request_password_label)}</label>
                    <input id="rq-password" type="password" name="password" autocomplete="new-password" maxlength="256" />
                </div>
                <fieldset class="naming">
                    <legend>{t!(i18n, naming_legend)}</legend>
                    <label><input type="radio" name="naming" value="random" checked />{t!(i18n, naming_random)}</label>
                    <label><input type="radio" name="naming" value="original" />{t!(i18n, naming_original)}</label>
                </fieldset>
                <label class="check"><input type="checkbox" name="ask_name" checked />{t!(i18n, request_ask_name)}</label>
                <label class="check"><input type="checkbox" name="ask_note" />{t!(i18n, request_ask_note)}</label>
                <label class="check"><input type="checkbox" name="sender_folders" />{t!(i18n, request_sender_folders)}</label>
                <div class="field">
                    <label for="rq-webhook">{t!(i18n, request_webhook_label)}</label>
                    <input id="rq-webhook" type="url" name="webhook_url" placeholder="https://" autocomplete="off" spellcheck="false" maxlength="2048" />
                </div>
                <div class="field">
                    <label for="rq-webhook-kind">{t!(i18n, request_webhook_kind_label)}</label>
                    <select id="rq-webhook-kind" name="webhook_kind">
                        <option value="json" selected>{t!(i18n, webhook_json)}</option>
                        <option value="wecom">{t!(i18n, webhook_wecom)}</option>
                        <option value="dingtalk">{t!(i18n, webhook_dingtalk)}</option>
                    </select>
                </div>
                <div class="actions">
                    <button type="submit">{t!(i18n, request_create)}</button>
                </div>
            </form>
        </section>
    }
}
