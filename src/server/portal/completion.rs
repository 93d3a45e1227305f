//! Completing ledger entries, the one place that does: from what the storage holds (a HEAD after
//! the page's POST, after a multipart upload, by the sweep once a ticket has expired: an object
//! that fits its ticket completes the entry, one that broke it is removed), or from the bucket's
//! signed upload callback. Both end in `record`.

use time::OffsetDateTime;

use super::access::limits;
use super::ledger::{CompletedBy, TicketKind};
use super::settings::UploadRules;
use super::state::AppState;
use super::storage::StoredObject;
use crate::error::{Notice, PortalError};
use crate::model::{type_allowed, LedgerEntry, Viewer};
use crate::naming::MAX_KEY_BYTES;

/// The ticket an object is checked against.
#[derive(Clone, Debug)]
pub struct Ticket<'a> {
    pub id: &'a str,
    pub kind: TicketKind,
    /// A file's exact size; the most a plain form may store.
    pub declared_size: u64,
}

/// What the storage held for a ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The object fits its ticket; the entry is complete (now or before).
    Completed(StoredObject),
    /// No such object.
    Missing,
    /// Not the object the page reported (another ETag): left as it is.
    Different,
    /// The object broke its ticket (size, or a plain form's type) and was deleted.
    Removed,
}

/// Whether `object` is what the ticket allowed: a file or multipart upload exactly its
/// declared size (its type was pinned); a plain form's file within its size and of an allowed
/// type (the plain form cannot declare either before the file is picked).
pub fn fits(rules: &UploadRules, ticket: &Ticket<'_>, object: &StoredObject) -> bool {
    match ticket.kind {
        TicketKind::File | TicketKind::Multipart => object.size == ticket.declared_size,
        TicketKind::Form => {
            let essence = object
                .content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            object.size <= ticket.declared_size.min(rules.max_file_size)
                && type_allowed(&rules.allowed_types, &essence)
        }
    }
}

/// Looks at `key` and completes the entry when the object fits its ticket (and carries
/// `etag`, when the page reported one); deletes an object that broke its ticket.
pub async fn complete_from_storage(
    state: &AppState,
    ticket: &Ticket<'_>,
    key: &str,
    etag: Option<&str>,
    by: CompletedBy,
) -> Result<Found, PortalError> {
    let stored = state.target.head_object(key).await.map_err(|error| {
        tracing::warn!(%error, "HEAD for completion failed");
        PortalError::Unavailable
    })?;
    let Some(object) = stored else {
        return Ok(Found::Missing);
    };
    if etag.is_some_and(|etag| !object.etag.eq_ignore_ascii_case(etag.trim_matches('"'))) {
        return Ok(Found::Different);
    }
    if !fits(&state.rules, ticket, &object) {
        tracing::warn!(
            key,
            size = object.size,
            declared = ticket.declared_size,
            content_type = %object.content_type,
            "an upload broke its ticket: the object is deleted"
        );
        remove(state, key).await?;
        return Ok(Found::Removed);
    }
    record(state, ticket.id, key, &object.etag, object.size, by)
        .await
        .map_err(limits::ledger_failed)?;
    Ok(Found::Completed(object))
}

/// What a verified upload callback says was stored (its body, form or JSON, as the
/// portal's template made it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackReport {
    pub key: String,
    pub etag: String,
    pub size: u64,
    /// The ledger id pinned in the ticket (`x:ticket`), when the template carries it.
    pub ticket: String,
}

/// Completes the entry a callback names by its ticket, when the object is the one that ticket
/// was signed for (its key and exact size); a callback without a ticket completes nothing.
/// `None`: no such entry; `Some(new)`: completed now (`true`) or before (`false`).
pub async fn complete_from_callback(
    state: &AppState,
    reported: &CallbackReport,
) -> Result<Option<bool>, sqlx::Error> {
    if reported.ticket.is_empty() {
        return Ok(None);
    }
    let Some(entry) = state
        .ledger
        .entry(&reported.ticket)
        .await?
        .filter(|e| e.key == reported.key && e.declared_size == reported.size)
    else {
        return Ok(None);
    };
    let new = record(
        state,
        &entry.id,
        &entry.key,
        &reported.etag,
        reported.size,
        CompletedBy::Callback,
    )
    .await?;
    Ok(Some(new))
}

/// Marks the entry complete with the stored object's key, ETag and size (once: `false` when
/// it already was).
async fn record(
    state: &AppState,
    id: &str,
    key: &str,
    etag: &str,
    size: u64,
    by: CompletedBy,
) -> Result<bool, sqlx::Error> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let completed = state.ledger.complete(id, key, etag, size, by, now).await?;
    if completed {
        // Sent through an upload request: its creator's open pages hear of it, and its
        // webhook, if it has one.
        if let Some(request) = state.ledger.request_of(id).await?.filter(|r| !r.is_empty()) {
            state.arrivals.announce(&request).await;
            super::requests::delivery::notify(state, &request, id).await;
        }
    }
    Ok(completed)
}

/// The page says it stored `key` with `etag`: the ledger entry is completed when the object
/// carries that ETag and fits its ticket (an entry the upload callback already completed is
/// simply returned). A plain-form upload's entry holds the signed key prefix
/// (`<folder><12 hex>-`) and takes the object's key and size; a file that broke it (too large,
/// a type not allowed) is deleted.
pub async fn confirm(
    state: &AppState,
    viewer: &Viewer,
    key: &str,
    etag: &str,
) -> Result<LedgerEntry, PortalError> {
    let not_stored = || {
        PortalError::Invalid(Notice::NotStored {
            key: key.to_owned(),
        })
    };
    if key.is_empty() || key.len() > MAX_KEY_BYTES || etag.len() > 128 {
        return Err(not_stored());
    }
    let find = |key: &str| {
        let key = key.to_owned();
        async move {
            state
                .ledger
                .latest_for_key(&key, Some(&viewer.name))
                .await
                .map_err(limits::ledger_failed)
        }
    };
    let (mut entry, kind) = match find(key).await? {
        Some(entry) => (entry, TicketKind::File),
        None => {
            let prefix = form_prefix(key).ok_or_else(not_stored)?;
            let entry = find(prefix)
                .await?
                .filter(|e| e.completed_at.is_none())
                .ok_or_else(not_stored)?;
            (entry, TicketKind::Form)
        }
    };
    if entry.completed_at.is_none() {
        let ticket = Ticket {
            id: &entry.id,
            kind,
            declared_size: entry.declared_size,
        };
        match complete_from_storage(state, &ticket, key, Some(etag), CompletedBy::Head).await? {
            Found::Completed(object) => {
                entry.key = key.to_owned();
                entry.declared_size = object.size;
                entry.completed_at = Some(OffsetDateTime::now_utc().unix_timestamp());
                entry.etag = Some(object.etag);
                entry.stored_size = Some(object.size);
                entry.completed_by = Some("head".into());
            }
            Found::Removed => {
                return Err(PortalError::Invalid(Notice::BrokeTicket {
                    key: key.to_owned(),
                }))
            }
            Found::Missing | Found::Different => {
                tracing::warn!(key, "completion refused: the object differs");
                return Err(not_stored());
            }
        }
    }
    entry.url = state.target.object_url(key);
    Ok(entry)
}

/// The prefix a plain-form key was signed with: its folder, 12 hex digits and `-`.
pub fn form_prefix(key: &str) -> Option<&str> {
    let start = key.rfind('/').map_or(0, |i| i + 1);
    let name = &key[start..];
    let tagged = name.len() > 13
        && name.as_bytes()[12] == b'-'
        && name[..12].bytes().all(|b| b.is_ascii_hexdigit());
    tagged.then(|| &key[..start + 13])
}

/// Deletes an object that should not be stored.
pub async fn remove(state: &AppState, key: &str) -> Result<(), PortalError> {
    state.target.delete_object(key).await.map_err(|error| {
        tracing::error!(%error, key, "could not delete an object that broke its ticket");
        PortalError::Unavailable
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_form_keys_give_back_their_prefix() {
        assert_eq!(
            form_prefix("uploads/a/0123456789ab-cat.png"),
            Some("uploads/a/0123456789ab-")
        );
        assert_eq!(form_prefix("0123456789ab-x"), Some("0123456789ab-"));
        assert_eq!(form_prefix("uploads/0123456789ab-"), None);
        assert_eq!(form_prefix("uploads/0123456789xy-cat.png"), None);
        assert_eq!(form_prefix("uploads/cat.png"), None);
    }

    fn rules() -> UploadRules {
        UploadRules::example()
    }

    fn object(size: u64, content_type: &str) -> StoredObject {
        StoredObject {
            size,
            etag: "ABC".into(),
            content_type: content_type.into(),
        }
    }

    #[test]
    fn objects_are_held_to_their_tickets() {
        let rules = rules();
        let file = Ticket {
            id: "a",
            kind: TicketKind::File,
            declared_size: 200,
        };
        assert!(fits(&rules, &file, &object(200, "image/png")));
        assert!(!fits(&rules, &file, &object(201, "image/png")));
        let parts = Ticket {
            kind: TicketKind::Multipart,
            ..file.clone()
        };
        // Six parts where one was planned: larger than declared.
        assert!(!fits(&rules, &parts, &object(6 << 20, "image/png")));
        let form = Ticket {
            id: "b",
            kind: TicketKind::Form,
            declared_size: 500,
        };
        assert!(fits(&rules, &form, &object(10, "image/jpeg")));
        assert!(fits(&rules, &form, &object(500, "IMAGE/PNG; x=1")));
        assert!(!fits(&rules, &form, &object(501, "image/png")));
        assert!(!fits(&rules, &form, &object(10, "text/html")));
        // The room of a plain form never exceeds the largest file.
        let roomy = Ticket {
            declared_size: 5000,
            ..form
        };
        assert!(!fits(&rules, &roomy, &object(1001, "image/png")));
    }
}
