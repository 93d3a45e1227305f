//! The creator's side of upload requests: create one, list one's own, see one (its link, QR
//! code and arrivals), close it, export what arrived as CSV.

use axum::extract::{Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::form::{RequestForm, MAX_PASSWORD};
use super::{is_request_id, token_hash, Received, UploadRequest};
use crate::error::{Notice, PortalError, RequestNotice};
use crate::model::{LedgerEntry, NamingMode, RequestDetail, RequestSummary, Viewer};
use crate::server::portal::access::{self, limits, Requester};
use crate::server::portal::ledger_pages::{link_stored, refused, to_csv};
use crate::server::portal::state::AppState;

/// Requests listed on the creator's page at most (newest first).
const LISTED: u32 = 200;

fn not_found() -> PortalError {
    PortalError::Invalid(Notice::Request(RequestNotice::NotFound))
}

/// How long a "Continue on phone" request stays open.
pub const PHONE_SECONDS: i64 = 15 * 60;

/// Creates a request for `viewer` from the form; returns its id.
pub async fn create(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    form: RequestForm,
) -> Result<String, PortalError> {
    create_open_for(state, from, viewer, form, None).await
}

/// "Continue on phone": a request of `viewer`'s into `folder`, named by `naming`, open for
/// 15 minutes, without password or questions; its id (its QR code: `qr_image`). What the
/// phone sends counts against the viewer's own limits, as any request's uploads do.
pub async fn for_phone(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    folder: &str,
    naming: NamingMode,
    title: &str,
) -> Result<String, PortalError> {
    // The uploader's folder, read as its uploads are: after the root, or in full.
    let folder = crate::naming::folder_in_root(folder, &viewer.root)
        .map_err(|e| PortalError::Invalid(Notice::Folder(e)))?;
    let form = RequestForm {
        title: title.to_owned(),
        folder,
        naming: match naming {
            NamingMode::Original => "original",
            NamingMode::Random => "random",
        }
        .to_owned(),
        ..RequestForm::default()
    };
    create_open_for(state, from, viewer, form, Some(PHONE_SECONDS)).await
}

/// Creates a request from the form, open for `seconds` when given (else until the form's
/// expiry); returns its id.
async fn create_open_for(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    form: RequestForm,
    seconds: Option<i64>,
) -> Result<String, PortalError> {
    if !state.access.may_create_requests(viewer) {
        return Err(PortalError::Invalid(Notice::Request(
            RequestNotice::NotAllowed,
        )));
    }
    // Creating writes a row: it counts as a signing against the rate limit.
    state.limits.signing(viewer, from)?;
    let now = OffsetDateTime::now_utc();
    let mut rules = super::form::check(
        &form,
        &viewer.root,
        now.unix_timestamp(),
        state.access.webhooks_to_private,
    )?;
    if let Some(seconds) = seconds {
        rules.expires_at = now.unix_timestamp() + seconds;
    }
    if form.password.len() > MAX_PASSWORD {
        return Err(PortalError::Invalid(Notice::Request(
            RequestNotice::TooLong {
                max: MAX_PASSWORD as u32,
            },
        )));
    }
    let password_hash = if form.password.is_empty() {
        String::new()
    } else {
        let password = form.password.clone();
        state
            .limits
            .password_work(move || access::accounts::hash_password(&password))
            .await?
            .map_err(|_| PortalError::Internal)?
    };
    let request = UploadRequest {
        id: crate::server::portal::ledger::new_id(now),
        creator: viewer.name.clone(),
        title: rules.title,
        instructions: rules.instructions,
        folder: rules.folder,
        naming: rules.naming,
        created_at: now.unix_timestamp(),
        expires_at: rules.expires_at,
        closed_at: None,
        max_files: rules.max_files,
        max_file_size: rules.max_file_size,
        max_total_bytes: rules.max_total_bytes,
        allowed_types: rules.allowed_types,
        password_hash,
        ask_name: rules.ask_name,
        ask_note: rules.ask_note,
        sender_folders: rules.sender_folders,
        webhook_url: rules.webhook_url,
        webhook_kind: rules.webhook_kind,
        webhook_status: String::new(),
        webhook_at: 0,
    };
    let token = state.links.link_token(&request.id);
    state
        .ledger
        .create_request(&request, &token_hash(&token))
        .await
        .map_err(limits::ledger_failed)?;
    tracing::info!(user = %viewer.name, request = %request.id, folder = %request.folder, "upload request created");
    Ok(request.id)
}

/// The request `id` when the signed-in reader made it (or is an administrator), with the
/// reader; `NotFound` otherwise (nothing tells whether someone else's request exists).
pub async fn own_request(
    state: &AppState,
    from: &Requester,
    id: &str,
) -> Result<(UploadRequest, Viewer), PortalError> {
    let viewer = access::viewer(&state.access, &state.ledger, from).await?;
    if !is_request_id(id) {
        return Err(not_found());
    }
    let request = state
        .ledger
        .request(id)
        .await
        .map_err(limits::ledger_failed)?
        .filter(|r| viewer.admin || r.creator == viewer.name)
        .ok_or_else(not_found)?;
    Ok((request, viewer))
}

/// The request as pages show it; `with_link` for its creator (the link is theirs to share).
pub fn summary(
    state: &AppState,
    request: &UploadRequest,
    received: Received,
    with_link: bool,
) -> RequestSummary {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    RequestSummary {
        id: request.id.clone(),
        title: request.title.clone(),
        instructions: request.instructions.clone(),
        link: if with_link {
            format!("/r/{}", state.links.link_token(&request.id))
        } else {
            String::new()
        },
        folder: request.folder.clone(),
        naming: request.naming,
        state: request.state_on(state.access.requests, now),
        created_at: request.created_at,
        expires_at: request.expires_at,
        max_files: request.max_files,
        max_file_size: request.max_file_size,
        max_total_bytes: request.max_total_bytes,
        allowed_types: request.allowed_types.clone(),
        has_password: !request.password_hash.is_empty(),
        ask_name: request.ask_name,
        ask_note: request.ask_note,
        sender_folders: request.sender_folders,
        files: received.files,
        bytes: received.bytes,
        creator: request.creator.clone(),
        webhook: with_link.then(|| crate::model::WebhookSummary {
            url: request.webhook_url.clone(),
            kind: request.webhook_kind.as_str().to_owned(),
            key: state.links.webhook_key(&request.id),
            status: request.webhook_status.clone(),
            at: request.webhook_at,
        }),
    }
}

/// The reader's requests (every request for an administrator's `everyone`), newest first,
/// and whether they may create more.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    everyone: bool,
) -> Result<(Vec<RequestSummary>, bool), PortalError> {
    let creator = (!(everyone && viewer.admin)).then_some(viewer.name.as_str());
    let requests = state
        .ledger
        .requests(creator, LISTED)
        .await
        .map_err(limits::ledger_failed)?;
    let mut summaries = Vec::with_capacity(requests.len());
    for request in &requests {
        let arrivals = state
            .ledger
            .arrivals(&request.id, 0)
            .await
            .map_err(limits::ledger_failed)?;
        summaries.push(summary(state, request, stored(&arrivals), true));
    }
    Ok((summaries, state.access.may_create_requests(viewer)))
}

/// The files of a request's `arrivals` and their bytes (what its pages count as received).
fn stored(arrivals: &[LedgerEntry]) -> Received {
    Received {
        files: arrivals.len() as u64,
        bytes: arrivals
            .iter()
            .map(|e| e.stored_size.unwrap_or(e.declared_size))
            .sum(),
    }
}

/// One request for its creator: the request, its link's QR code, and what arrived.
pub async fn detail(
    state: &AppState,
    from: &Requester,
    id: &str,
) -> Result<RequestDetail, PortalError> {
    let (request, _) = own_request(state, from, id).await?;
    let mut arrivals = state
        .ledger
        .arrivals(&request.id, 0)
        .await
        .map_err(limits::ledger_failed)?;
    let drawn_at = OffsetDateTime::now_utc().unix_timestamp();
    arrivals.iter_mut().for_each(link_stored);
    let summary = summary(state, &request, stored(&arrivals), true);
    let link = full_link(state, &request.id);
    Ok(RequestDetail {
        qr_svg: qr_svg(&link)?,
        url: link,
        drawn_at,
        request: summary,
        arrivals,
    })
}

/// The link of request `id` in full, as shared and as its QR code holds it.
fn full_link(state: &AppState, id: &str) -> String {
    format!(
        "{}/r/{}",
        state.rules.portal_url,
        state.links.link_token(id)
    )
}

/// `GET /requests/{id}/qr.svg`: the QR code of a request's link as an image, for its creator
/// (or an administrator): what "Continue on phone" shows.
pub async fn qr_image(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    let from = access::requester_of(&state.access, &parts);
    let svg = match own_request(&state, &from, &id).await {
        Ok((request, _)) => qr_svg(&full_link(&state, &request.id)),
        Err(error) => Err(error),
    };
    match svg {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            svg,
        )
            .into_response(),
        Err(error) => refused(error),
    }
}

/// `text` as a QR code, an SVG of dark modules on white (with the quiet zone), 264 px at least.
pub fn qr_svg(text: &str) -> Result<String, PortalError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|_| PortalError::Internal)?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(264, 264)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in the page: without the XML declaration.
    Ok(match image.find("<svg") {
        Some(at) => image[at..].to_owned(),
        None => image,
    })
}

/// Closes the reader's request `id`: it takes no more files (tickets already signed for it
/// expire within minutes).
pub async fn close(state: &AppState, from: &Requester, id: &str) -> Result<(), PortalError> {
    let (request, viewer) = own_request(state, from, id).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    state
        .ledger
        .close_request(&request.id, now)
        .await
        .map_err(limits::ledger_failed)?;
    tracing::info!(user = %viewer.name, request = %request.id, "upload request closed");
    Ok(())
}

/// `GET /requests/{id}/uploads.csv`: what arrived through the request, with each sender's
/// name and note, for its creator or an administrator.
pub async fn export_csv(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
) -> Response {
    let from = access::requester_of(&state.access, &parts);
    let request = match own_request(&state, &from, &id).await {
        Ok((request, _)) => request,
        Err(error) => return refused(error),
    };
    match state.ledger.arrivals(&request.id, 0).await {
        Ok(entries) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"request-uploads.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            to_csv(&entries),
        )
            .into_response(),
        Err(error) => refused(limits::ledger_failed(error)),
    }
}
