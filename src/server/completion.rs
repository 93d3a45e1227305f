//! Completing ledger entries from what the storage really holds: after the page's POST, after
//! a multipart upload, and by the sweep once a ticket has expired. One rule for all three: an
//! object that fits its ticket completes the entry; one that broke it is removed.

use time::OffsetDateTime;

use super::access::limits;
use super::config::UploadRules;
use super::ledger::{CompletedBy, TicketKind};
use super::state::AppState;
use super::targets::StoredObject;
use crate::model::{type_allowed, PortalError};

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
    let now = OffsetDateTime::now_utc().unix_timestamp();
    state
        .ledger
        .complete(ticket.id, key, &object.etag, object.size, by, now)
        .await
        .map_err(limits::ledger_failed)?;
    Ok(Found::Completed(object))
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
