//! Resumable multipart uploads, decided by the portal: it picks the key (the same rules as a
//! single POST), starts the upload, presigns each part for the browser, lists what is stored
//! when the page comes back, and completes or aborts. The browser holds only a token-stamped
//! reference, so the portal keeps no state and any instance can continue an upload.

use time::OffsetDateTime;

use super::access::{limits, Requester};
use super::completion::{complete_from_storage, Found, Ticket};
use super::ledger::new_id;
use super::ledger::{CompletedBy, TicketKind};
use super::requests::{sending, Sender};
use super::state::AppState;
use super::storage::RequestError;
use super::tickets::{admit, decide, new_entry, record_one, sent_by};
use crate::error::{Notice, PortalError};
use crate::model::{
    CompletedUpload, FileSpec, MultipartPlan, MultipartUpload, NamingMode, StoredPart, UploadBatch,
    Viewer,
};
use crate::server::protocol::{MAX_PARTS, MIN_PART_SIZE};

/// The part size for a file: the configured one, raised so the file needs at most 10,000.
pub fn plan_part_size(size: u64, configured: u64) -> u64 {
    configured.max(size.div_ceil(u64::from(MAX_PARTS)))
}

fn unavailable(error: RequestError) -> PortalError {
    match error {
        RequestError::Refused { status: 404, .. } => PortalError::Invalid(Notice::UploadGone),
        other => {
            tracing::warn!(error = %other, "multipart request failed");
            PortalError::Unavailable
        }
    }
}

fn enabled(state: &AppState) -> Result<(), PortalError> {
    if state.rules.multipart_threshold == 0 {
        return Err(PortalError::Invalid(Notice::UploadGone));
    }
    Ok(())
}

/// The reference is one this portal stamped, and its upload was signed for `viewer`.
async fn checked(
    state: &AppState,
    viewer: &Viewer,
    upload: &MultipartUpload,
) -> Result<(), PortalError> {
    enabled(state)?;
    let rules = &state.rules;
    let owned = upload.key.starts_with(&viewer.root)
        && state
            .ledger
            .latest_for_key(&upload.key, Some(&viewer.name))
            .await
            .map_err(limits::ledger_failed)?
            .is_some();
    let sane = owned
        && upload.size <= rules.max_file_size
        && upload.part_size >= MIN_PART_SIZE
        && upload.part_count() <= MAX_PARTS;
    if sane && state.multipart_key.verify(upload) {
        Ok(())
    } else {
        Err(PortalError::Invalid(Notice::UploadGone))
    }
}

/// Presigned URLs for every part not in `stored`.
async fn plan(
    state: &AppState,
    upload: MultipartUpload,
    stored: Vec<StoredPart>,
) -> Result<MultipartPlan, PortalError> {
    let now = OffsetDateTime::now_utc();
    let expires = now + state.rules.policy_ttl;
    let mut urls = Vec::new();
    for number in 1..=upload.part_count() {
        if stored.iter().any(|p| p.number == number) {
            continue;
        }
        let url = state
            .target
            .presign_part(&upload.key, &upload.upload_id, number, expires)
            .await
            .map_err(unavailable)?;
        urls.push((number, url));
    }
    Ok(MultipartPlan {
        object_url: state.target.object_url(&upload.key),
        upload,
        stored,
        urls,
        expires_at: expires.unix_timestamp(),
    })
}

/// Decides the key of one large file and starts its multipart upload.
pub async fn start(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    sender: Option<&Sender>,
    file: FileSpec,
    naming: NamingMode,
    folder: String,
) -> Result<MultipartPlan, PortalError> {
    enabled(state)?;
    if file.size < state.rules.multipart_threshold {
        return Err(PortalError::Invalid(Notice::UploadGone));
    }
    let now = admit(state, from, viewer, file.size, 1).await?;
    // A sender's upload: the request's rules, folder and naming.
    let (naming, folder) = match sender {
        Some(sender) => {
            sending::admit(state, sender, std::slice::from_ref(&file)).await?;
            (sender.request.naming, viewer.root.clone())
        }
        None => (naming, folder),
    };
    let spec = file.clone();
    let batch = UploadBatch {
        files: vec![file],
        naming,
        folder,
    };
    let decision = decide(&state.rules, &state.target, &batch, &viewer.root)
        .await?
        .pop()
        .ok_or(PortalError::Internal)?;
    let upload_id = state
        .target
        .initiate_multipart(&decision.key, &decision.content_type)
        .await
        .map_err(unavailable)?;
    // Recorded as signed until it completes; it may be resumed until the expiry sweep.
    let expires_at = (now + state.rules.multipart_expiry).unix_timestamp();
    let id = new_id(now);
    let entry = new_entry(
        &id,
        viewer,
        from,
        &decision,
        now,
        expires_at,
        TicketKind::Multipart,
    );
    record_one(state, sent_by(entry, sender)).await?;
    if let Some(sender) = sender {
        if let Err(error) = sending::recheck(state, sender, &[id], &[spec]).await {
            let _ = state
                .target
                .abort_multipart(&decision.key, &upload_id)
                .await;
            return Err(error);
        }
    }
    let configured = state.rules.part_size.max(state.target.min_part_size());
    let mut upload = MultipartUpload {
        part_size: plan_part_size(decision.size, configured),
        key: decision.key,
        upload_id,
        size: decision.size,
        content_type: decision.content_type,
        token: String::new(),
    };
    state.multipart_key.stamp(&mut upload);
    tracing::info!(
        key = upload.key,
        parts = upload.part_count(),
        "multipart upload started"
    );
    plan(state, upload, Vec::new()).await
}

/// Picks up an upload after a reload: the parts the storage holds (whole ones only) and
/// fresh URLs for the rest.
pub async fn resume(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    upload: MultipartUpload,
) -> Result<MultipartPlan, PortalError> {
    checked(state, viewer, &upload).await?;
    state.limits.signing(viewer, from)?;
    let listed = state
        .target
        .list_parts(&upload.key, &upload.upload_id)
        .await
        .map_err(unavailable)?;
    let count = upload.part_count();
    let stored = listed
        .into_iter()
        .filter(|part| {
            let (start, end) = crate::model::part_range(part.number, upload.size, upload.part_size);
            part.number >= 1 && part.number <= count && part.size == end - start
        })
        .map(|part| StoredPart {
            number: part.number,
            etag: part.etag,
        })
        .collect();
    plan(state, upload, stored).await
}

/// Assembles the parts; `parts` must be exactly the file's, in order.
pub async fn complete(
    state: &AppState,
    viewer: &Viewer,
    upload: MultipartUpload,
    parts: Vec<StoredPart>,
) -> Result<CompletedUpload, PortalError> {
    checked(state, viewer, &upload).await?;
    let in_order = parts.len() as u32 == upload.part_count()
        && parts.iter().enumerate().all(|(i, part)| {
            part.number == i as u32 + 1
                && part.etag.len() == 32
                && part.etag.bytes().all(|b| b.is_ascii_hexdigit())
        });
    if !in_order {
        return Err(PortalError::Invalid(Notice::WrongParts));
    }
    // Presigned part URLs take a part of any size: the parts stored must be the ones the
    // portal planned, or the object would be other than the size it signed for.
    let stored = state
        .target
        .list_parts(&upload.key, &upload.upload_id)
        .await
        .map_err(unavailable)?;
    let as_planned = stored.len() == parts.len()
        && stored.iter().all(|part| {
            let (start, end) = crate::model::part_range(part.number, upload.size, upload.part_size);
            part.number >= 1 && part.number <= upload.part_count() && part.size == end - start
        });
    if !as_planned {
        tracing::warn!(
            key = upload.key,
            "parts other than planned: the upload is aborted"
        );
        let _ = state
            .target
            .abort_multipart(&upload.key, &upload.upload_id)
            .await;
        return Err(PortalError::Invalid(Notice::WrongParts));
    }
    let listed: Vec<(u32, String)> = parts.into_iter().map(|p| (p.number, p.etag)).collect();
    let etag = state
        .target
        .complete_multipart(&upload.key, &upload.upload_id, &listed)
        .await
        .map_err(|e| match e {
            RequestError::Refused { status: 400, .. } => PortalError::Invalid(Notice::WrongParts),
            other => unavailable(other),
        })?;
    tracing::info!(key = upload.key, etag, "multipart upload completed");
    record_completion(state, viewer, &upload).await?;
    Ok(CompletedUpload {
        url: state.target.object_url(&upload.key),
        key: upload.key,
        etag,
    })
}

/// Aborts the portal's multipart uploads (keys under the upload root) initiated more than
/// `max_age` ago: files abandoned half-way, whose page never came back. Returns how many; one
/// the store refuses to abort is logged and left to the next sweep; an unreachable store is
/// the error.
pub async fn abort_abandoned(
    target: &super::storage::Target,
    upload_root: &str,
    max_age: std::time::Duration,
    now: OffsetDateTime,
) -> Result<usize, RequestError> {
    let cutoff = now - max_age;
    let mut aborted = 0;
    for (key, upload_id, initiated) in target.list_multipart_uploads(upload_root).await? {
        if initiated >= cutoff || !key.starts_with(upload_root) {
            continue;
        }
        // Gone meanwhile (completed, or aborted by another instance): nothing to do. One the
        // store refuses now is tried again at the next sweep, and the rest go on; a store that
        // cannot be reached ends the sweep.
        match target.abort_multipart(&key, &upload_id).await {
            Ok(()) => {
                tracing::info!(key, upload_id, "abandoned multipart upload aborted");
                aborted += 1;
            }
            Err(RequestError::Refused { status: 404, .. }) => {}
            Err(RequestError::Refused { status, code }) => {
                tracing::warn!(
                    key,
                    upload_id,
                    status,
                    code,
                    "could not abort an abandoned multipart upload"
                )
            }
            Err(unreachable) => return Err(unreachable),
        }
    }
    Ok(aborted)
}

/// The ledger entry of a completed multipart upload, when the object is whole (its planned
/// size); an object of any other size is deleted.
async fn record_completion(
    state: &AppState,
    viewer: &Viewer,
    upload: &MultipartUpload,
) -> Result<(), PortalError> {
    let entry = state
        .ledger
        .latest_for_key(&upload.key, Some(&viewer.name))
        .await
        .map_err(limits::ledger_failed)?
        .ok_or(PortalError::Internal)?;
    let ticket = Ticket {
        id: &entry.id,
        kind: TicketKind::Multipart,
        declared_size: upload.size,
    };
    match complete_from_storage(state, &ticket, &upload.key, None, CompletedBy::Multipart).await? {
        Found::Completed(_) => Ok(()),
        Found::Removed => Err(PortalError::Invalid(Notice::BrokeTicket {
            key: upload.key.clone(),
        })),
        Found::Missing | Found::Different => Err(PortalError::Invalid(Notice::NotStored {
            key: upload.key.clone(),
        })),
    }
}

/// Drops an upload the user cancelled.
pub async fn abort(
    state: &AppState,
    viewer: &Viewer,
    upload: MultipartUpload,
) -> Result<(), PortalError> {
    checked(state, viewer, &upload).await?;
    match state
        .target
        .abort_multipart(&upload.key, &upload.upload_id)
        .await
    {
        Ok(()) | Err(RequestError::Refused { status: 404, .. }) => Ok(()),
        Err(other) => Err(unavailable(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::part_count;

    #[test]
    fn parts_never_exceed_ten_thousand() {
        assert_eq!(plan_part_size(100 << 20, 8 << 20), 8 << 20);
        let huge = 5u64 << 40;
        let size = plan_part_size(huge, 8 << 20);
        assert!(part_count(huge, size) <= 10_000);
        assert_eq!(size, huge.div_ceil(10_000));
    }
}
