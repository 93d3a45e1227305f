//! Deleting an upload: a signed-in owner's own (inside their root), or any for an administrator.
//! The object leaves the storage; the ledger entry stays, marked deleted, for the record.

use super::access::limits;
use super::state::AppState;
use crate::error::{Notice, PortalError};
use crate::model::{LedgerEntry, Viewer};

/// Whether `viewer` may delete `entry`: an administrator any, a signed-in user their own (inside
/// their root). Nobody who did not sign in: on a portal open to anyone (PORTAL_FORCE_OPEN) every
/// visitor is the same user `open`, and one must not delete everyone's uploads.
pub fn may_delete(viewer: &Viewer, entry: &LedgerEntry) -> bool {
    viewer.admin
        || (viewer.signed_in && entry.user == viewer.name && entry.key.starts_with(&viewer.root))
}

/// Deletes the object of the stored entry `id` and marks the entry deleted. Anything the viewer
/// may not delete is "not an upload", so nothing tells whether someone else's entry exists.
pub async fn delete(state: &AppState, viewer: &Viewer, id: &str) -> Result<(), PortalError> {
    let not_an_upload = || PortalError::Invalid(Notice::NotAnUpload);
    if id.is_empty() || id.len() > 64 {
        return Err(not_an_upload());
    }
    let entry = state
        .ledger
        .entry(id)
        .await
        .map_err(limits::ledger_failed)?
        .ok_or_else(not_an_upload)?;
    if !may_delete(viewer, &entry) || entry.completed_at.is_none() || entry.deleted_at.is_some() {
        return Err(not_an_upload());
    }
    // A later upload may have stored another object under the same key: that one stays.
    let newest = state
        .ledger
        .latest_for_key(&entry.key, None)
        .await
        .map_err(limits::ledger_failed)?;
    let replaced = newest.is_some_and(|n| n.id != entry.id && n.completed_at.is_some());
    if !replaced {
        state
            .target
            .delete_object(&entry.key)
            .await
            .map_err(|error| {
                tracing::error!(%error, key = entry.key, "could not delete an object");
                PortalError::Unavailable
            })?;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    state
        .ledger
        .mark_deleted(&entry.id, &viewer.name, now)
        .await
        .map_err(limits::ledger_failed)?;
    tracing::info!(
        key = entry.key,
        by = viewer.name,
        replaced,
        "upload deleted"
    );
    Ok(())
}
