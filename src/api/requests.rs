//! Upload requests' server fns: the creator's (create, list, one request, close) and the
//! sender's (the page behind a link, joining it). The forms are plain posts: no script needed.

// `create_request` takes one argument per field of its plain form, as the browser posts it
// (the server fn macro does not carry an item's own `allow` to the code it generates).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::PortalError;
use crate::model::{Invitation, NamingMode, RequestDetail, RequestSummary};

/// Creates an upload request from the form on `/requests`; the browser lands on its page.
#[server(endpoint = "create_request")]
pub async fn create_request(
    title: String,
    instructions: String,
    folder: String,
    expires: String,
    max_files: String,
    max_file_size_mb: String,
    max_total_mb: String,
    allowed_types: String,
    password: String,
    naming: String,
    ask_name: Option<String>,
    ask_note: Option<String>,
    sender_folders: Option<String>,
    webhook_url: String,
    webhook_kind: String,
) -> Result<String, PortalError> {
    use crate::server::portal::requests::form::RequestForm;
    use crate::server::portal::state::{back_to_form, signed_in};
    let result = async {
        let (state, from, viewer) = signed_in().await?;
        let form = RequestForm {
            title,
            instructions,
            folder,
            expires,
            max_files,
            max_file_size_mb,
            max_total_mb,
            allowed_types,
            password,
            naming,
            ask_name: ask_name.is_some(),
            ask_note: ask_note.is_some(),
            sender_folders: sender_folders.is_some(),
            webhook_url,
            webhook_kind,
        };
        crate::server::portal::requests::creating::create(&state, &from, &viewer, form).await
    }
    .await;
    match &result {
        Ok(id) => leptos_axum::redirect(&format!("/requests/{id}")),
        Err(_) => back_to_form(&result, "/requests"),
    }
    result
}

/// The reader's upload requests, newest first (everyone's for an administrator asking for
/// `everyone`), and whether they may create more.
#[server(endpoint = "my_requests")]
pub async fn my_requests(everyone: bool) -> Result<(Vec<RequestSummary>, bool), PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    crate::server::portal::requests::creating::list(&state, &viewer, everyone).await
}

/// One of the reader's requests: its link, QR code and what arrived.
#[server(endpoint = "request_detail")]
pub async fn get_request_detail(id: String) -> Result<RequestDetail, PortalError> {
    use crate::server::portal::state::app_state;
    let state = app_state()?;
    let from = crate::server::portal::access::requester(&state.access).await;
    crate::server::portal::requests::creating::detail(&state, &from, &id).await
}

/// Closes one of the reader's requests; back to the page the form was on.
#[server(endpoint = "close_request")]
pub async fn close_request(id: String) -> Result<(), PortalError> {
    use crate::server::portal::state::{app_state, back_to_form};
    let result = async {
        let state = app_state()?;
        let from = crate::server::portal::access::requester(&state.access).await;
        crate::server::portal::requests::creating::close(&state, &from, &id).await
    }
    .await;
    back_to_form(&result, "/requests");
    result
}

/// "Continue on phone" on '/': a 15-minute request of the reader's into `folder`, named by
/// `naming`, titled in the reader's `locale`; its id (its QR code: `/requests/<id>/qr.svg`).
/// JSON in and out, as the uploader's other calls (the page carries no form encoder).
#[server(endpoint = "continue_on_phone", input = leptos::server_fn::codec::Json)]
pub async fn continue_on_phone(
    folder: String,
    naming: NamingMode,
    locale: String,
) -> Result<String, PortalError> {
    use crate::i18n::{td_string, Locale};
    use crate::server::portal::state::signed_in;
    let (state, from, viewer) = signed_in().await?;
    let locale: Locale = locale.parse().unwrap_or_default();
    let title = td_string!(locale, phone_request_title);
    crate::server::portal::requests::creating::for_phone(
        &state, &from, &viewer, &folder, naming, title,
    )
    .await
}

/// The uploader's Stop under a "Continue on phone" code: ends that request early (as
/// `close_request`). The page sends it as a beacon, with JSON.
#[server(endpoint = "stop_phone", input = leptos::server_fn::codec::Json)]
pub async fn stop_phone(id: String) -> Result<(), PortalError> {
    use crate::server::portal::state::app_state;
    let state = app_state()?;
    let from = crate::server::portal::access::requester(&state.access).await;
    crate::server::portal::requests::creating::close(&state, &from, &id).await
}

/// A sender's page finished a batch (its calls come under their pass): the request's webhook
/// hears of it once. The page sends it as a beacon, with JSON.
#[server(endpoint = "end_batch", input = leptos::server_fn::codec::Json)]
pub async fn end_batch() -> Result<(), PortalError> {
    crate::server::portal::requests::sending::batch_ended().await
}

/// What the page behind a request's link shows (no account needed).
#[server(endpoint = "request_invitation")]
pub async fn request_invitation(token: String) -> Result<Invitation, PortalError> {
    use crate::server::portal::requests::sending::{invitation, PASS_COOKIE};
    use crate::server::portal::state::app_state;
    let state = app_state()?;
    let from = crate::server::portal::access::requester(&state.access).await;
    let pass = use_context::<axum::http::request::Parts>().and_then(|parts| {
        crate::server::portal::access::cookies(&parts.headers, PASS_COOKIE).next()
    });
    invitation(&state, &from, &token, pass.as_deref()).await
}

/// A sender gives what the request asks (password, name, note); back to the link's page,
/// now with the uploader.
#[server(endpoint = "join_request")]
pub async fn join_request(
    token: String,
    password: String,
    name: String,
    note: String,
) -> Result<(), PortalError> {
    use crate::server::portal::state::{app_state, back_to_form};
    let result = async {
        let state = app_state()?;
        let from = crate::server::portal::access::requester(&state.access).await;
        let cookie = crate::server::portal::requests::sending::join(
            &state, &from, &token, &password, &name, &note,
        )
        .await?;
        super::account::set_cookie(&cookie);
        Ok(())
    }
    .await;
    back_to_form(&result, "/");
    result
}
