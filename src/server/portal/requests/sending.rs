//! The sender's side of upload requests: the page behind a link (what it asks first, then the
//! uploader with a pass), joining it, and the checks every signing for a sender passes.

use time::OffsetDateTime;

use super::{is_link_token, sender_text, token_hash, Received, Sender, UploadRequest};
use super::{MAX_SENDER_NAME, MAX_SENDER_NOTE};
use crate::error::{Notice, PortalError, RequestNotice};
use crate::model::{FileSpec, Invitation, RequestState};
use crate::server::portal::access::{self, limits, Requester};
use crate::server::portal::state::{app_state, signed_in, AppState, SenderPass};

/// The cookie that keeps a sender's pass for one link (its path is the link's).
pub const PASS_COOKIE: &str = "portal_pass";

fn refused(notice: RequestNotice) -> PortalError {
    PortalError::Invalid(Notice::Request(notice))
}

/// The request behind a link's token.
async fn find(state: &AppState, token: &str) -> Result<UploadRequest, PortalError> {
    if !is_link_token(token) {
        return Err(refused(RequestNotice::BadLink));
    }
    state
        .ledger
        .request_by_token(&token_hash(token))
        .await
        .map_err(limits::ledger_failed)?
        .ok_or(refused(RequestNotice::BadLink))
}

/// What the page behind link `token` shows: the end, what to give first, or the uploader. A
/// `pass` kept in the link's cookie lets the sender go on where they were.
pub async fn invitation(
    state: &AppState,
    from: &Requester,
    token: &str,
    pass: Option<&str>,
) -> Result<Invitation, PortalError> {
    let request = find(state, token).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let state_now = request.state_on(state.access.requests, now);
    if state_now != RequestState::Open {
        return Ok(Invitation::Ended {
            title: request.title,
            state: state_now,
        });
    }
    let kept = pass
        .and_then(|pass| state.links.read_pass(pass))
        .filter(|(id, _, _)| *id == request.id);
    let asks = !request.password_hash.is_empty() || request.ask_name || request.ask_note;
    let received = received(state, &request.id).await?;
    let (name, note) = match kept {
        Some((_, name, note)) => (name, note),
        None if !asks => (String::new(), String::new()),
        None => {
            let summary = public_summary(state, &request, received);
            return Ok(Invitation::Join {
                needs_password: !request.password_hash.is_empty(),
                request: summary,
            });
        }
    };
    let sender = Sender {
        request,
        name,
        note,
    };
    let uploader = uploader_settings(state, from, &sender, received).await?;
    Ok(Invitation::Send {
        request: public_summary(state, &sender.request, received),
        name: sender.name,
        uploader,
    })
}

/// What arrived through request `id` so far (see `Ledger::received`).
async fn received(state: &AppState, id: &str) -> Result<Received, PortalError> {
    state
        .ledger
        .received(id)
        .await
        .map_err(limits::ledger_failed)
}

/// The request as a sender sees it: its rules and what is left, not its link.
fn public_summary(
    state: &AppState,
    request: &UploadRequest,
    received: Received,
) -> crate::model::RequestSummary {
    let mut summary = super::creating::summary(state, request, received, false);
    summary.creator = String::new();
    summary.folder = String::new();
    summary
}

/// The uploader's settings for a sender: the portal's, held to the request (its folder, sizes
/// and types, the files left after what it `received`), calling through the sender's pass.
async fn uploader_settings(
    state: &AppState,
    from: &Requester,
    sender: &Sender,
    received: Received,
) -> Result<crate::model::UploaderSettings, PortalError> {
    let request = &sender.request;
    let mut settings =
        crate::server::portal::page_rules::uploader_settings(state, from, &sender.viewer()).await?;
    let folder = sender.folder();
    settings.default_folder = folder.clone();
    settings.upload_root = folder;
    if request.max_file_size > 0 {
        settings.max_file_size = settings.max_file_size.min(request.max_file_size);
    }
    if request.max_files > 0 {
        let left = request.max_files.saturating_sub(received.files);
        settings.max_files = settings.max_files.min(left.min(u64::from(u32::MAX)) as u32);
    }
    // The page checks MIME rules as it does the portal's; a rule by extension it cannot, so
    // then the server alone does (it checks every rule again on signing anyway).
    if !request.allowed_types.is_empty() {
        settings.allowed_types = if request.allowed_types.iter().any(|t| t.starts_with('.')) {
            Vec::new()
        } else {
            request.allowed_types.clone()
        };
    }
    settings.sender = Some(state.links.pass(&request.id, &sender.name, &sender.note));
    settings.phone = false;
    Ok(settings)
}

/// A sender gives what the request asks (its password, their name, their note): returns the
/// `Set-Cookie` that keeps their pass for the link. Password tries are rate limited per
/// address and per (address, request).
pub async fn join(
    state: &AppState,
    from: &Requester,
    token: &str,
    password: &str,
    name: &str,
    note: &str,
) -> Result<String, PortalError> {
    let request = find(state, token).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    request.open_at(state.access.requests, now)?;
    if !request.password_hash.is_empty() {
        if password.len() > super::form::MAX_PASSWORD {
            return Err(refused(RequestNotice::WrongPassword));
        }
        state
            .limits
            .login(&format!("request {}", request.id), from)
            .await?;
        let (password, hash) = (password.to_owned(), request.password_hash.clone());
        let matches = state
            .limits
            .password_work(move || access::accounts::password_matches(&password, &hash))
            .await?;
        if !matches {
            tracing::warn!(ip = %from.ip, request = %request.id, "request password refused");
            return Err(refused(RequestNotice::WrongPassword));
        }
    }
    let name = if request.ask_name {
        sender_text(name, MAX_SENDER_NAME, true).map_err(refused)?
    } else {
        String::new()
    };
    let note = if request.ask_note {
        sender_text(note, MAX_SENDER_NOTE, false).map_err(refused)?
    } else {
        String::new()
    };
    if request.ask_name && name.is_empty() {
        return Err(refused(RequestNotice::NameRequired));
    }
    if request.ask_note && note.is_empty() {
        return Err(refused(RequestNotice::NoteRequired));
    }
    let pass = state.links.pass(&request.id, &name, &note);
    Ok(cookie::Cookie::build((PASS_COOKIE, pass))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path(format!("/r/{token}"))
        .secure(state.access.secure_cookies)
        .max_age(cookie::time::Duration::seconds(
            (request.expires_at - now).max(0),
        ))
        .build()
        .to_string())
}

/// The sender a pass names, while their request takes files.
pub async fn sender(state: &AppState, pass: &str) -> Result<Sender, PortalError> {
    let sender = holder(state, pass).await?;
    sender.request.open_at(
        state.access.requests,
        OffsetDateTime::now_utc().unix_timestamp(),
    )?;
    Ok(sender)
}

/// The sender a pass names, whether their request is open or not.
async fn holder(state: &AppState, pass: &str) -> Result<Sender, PortalError> {
    let closed = || PortalError::Invalid(Notice::RequestClosed);
    let (id, name, note) = state.links.read_pass(pass).ok_or_else(closed)?;
    let request = state
        .ledger
        .request(&id)
        .await
        .map_err(limits::ledger_failed)?
        .ok_or_else(closed)?;
    Ok(Sender {
        request,
        name,
        note,
    })
}

/// The pass the call came with (`/r/<pass>/api/...`), if any.
fn pass_of_call() -> Option<String> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SenderPass>().cloned())
        .map(|SenderPass(pass)| pass)
}

/// A sender's page finished a batch: the request's webhook hears once of what they stored
/// since its last batch message (also just after the request closed). Nobody else has a
/// batch to tell.
pub async fn batch_ended() -> Result<(), PortalError> {
    let Some(pass) = pass_of_call() else {
        return Ok(());
    };
    let state = app_state()?;
    let from = access::requester(&state.access).await;
    let sender = holder(&state, &pass).await?;
    // One write each: counted like a signing, so a page calling in a loop is held back.
    state.limits.signing(&sender.viewer(), &from)?;
    super::delivery::notify_batch(&state, &sender)
        .await
        .map_err(limits::ledger_failed)
}

/// Who uploads: a sender through an upload request (the call came with their pass), or else
/// the signed-in user. Only the upload server fns ask this: a pass reaches nothing else.
pub async fn uploader(
) -> Result<(AppState, Requester, crate::model::Viewer, Option<Sender>), PortalError> {
    let Some(pass) = pass_of_call() else {
        let (state, from, viewer) = signed_in().await?;
        return Ok((state, from, viewer, None));
    };
    let state = app_state()?;
    let from = access::requester(&state.access).await;
    let sender = sender(&state, &pass).await?;
    Ok((state, from, sender.viewer(), Some(sender)))
}

/// Before signing `files` for a sender: the request's rules, after what it already received.
pub async fn admit(
    state: &AppState,
    sender: &Sender,
    files: &[FileSpec],
) -> Result<(), PortalError> {
    let received = received(state, &sender.request.id).await?;
    super::check_files(&sender.request, received, files)
}

/// After recording tickets `ids` for `files` of a sender: when senders signing at once went
/// past the request's count or bytes together, these tickets are forgotten and refused (so a
/// request never takes more than its rules, whichever instance signed).
pub async fn recheck(
    state: &AppState,
    sender: &Sender,
    ids: &[String],
    files: &[FileSpec],
) -> Result<(), PortalError> {
    let now = received(state, &sender.request.id).await?;
    if super::check_files(&sender.request, now, &[]).is_ok() {
        return Ok(());
    }
    for id in ids {
        let _ = state.ledger.forget_unused(id).await;
    }
    // Why, as it stands without these tickets.
    let without = received(state, &sender.request.id).await?;
    Err(super::check_files(&sender.request, without, files)
        .err()
        .unwrap_or(PortalError::Invalid(Notice::RequestFullFiles {
            left: sender.request.max_files.saturating_sub(without.files),
        })))
}
