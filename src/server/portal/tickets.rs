//! Upload tickets: the server's decision for each file of a batch (its key, its policy) and the
//! signed form fields that carry it. Everything the browser sent is checked here.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::access::{limits, Requester};
use super::ledger::{new_id, NewEntry, TicketKind};
use super::requests::{sending, Sender};
use super::settings::UploadRules;
use super::state::AppState;
use super::storage::Target;
use crate::error::{Limit, Notice, PortalError};
use crate::model::{type_allowed, FileSpec, NamingMode, UploadBatch, UploadTicket, Viewer};
use crate::naming::{
    folder_in_root, numbered_name, original_name, random_name, relative_folder, suffixed_name,
    FolderError, MAX_FOLDER_BYTES,
};
use crate::server::protocol::callback::CallbackSpec;
use crate::server::protocol::policy::Condition;

/// Tries at numbered names (`a-1.jpg`, `a-2.jpg`, ...) before a random suffix is used.
const MAX_NUMBERED_TRIES: u32 = 20;
/// Longest client-side name accepted (names are shortened to 255 bytes anyway).
const MAX_CLIENT_NAME_BYTES: usize = 1024;

/// A signed ticket and what the ledger records of it.
pub struct Signed {
    pub id: String,
    pub decision: Decision,
    pub ticket: UploadTicket,
}

/// Validates a batch and signs one ticket per file, in order, with every key under `root`.
/// Nothing is signed unless every file passes.
pub async fn sign_batch(
    rules: &UploadRules,
    target: &Target,
    callback: Option<&CallbackSpec>,
    batch: UploadBatch,
    root: &str,
    now: OffsetDateTime,
) -> Result<Vec<Signed>, PortalError> {
    let expires = now + rules.policy_ttl;
    let mut signed = Vec::with_capacity(batch.files.len());
    for decision in decide(rules, target, &batch, root).await? {
        let id = new_id(now);
        let ticket = ticket(target, callback, &decision, &id, now, expires).await?;
        signed.push(Signed {
            id,
            decision,
            ticket,
        });
    }
    Ok(signed)
}

/// 128 random bits (a UUIDv4) from the thread's CSPRNG, seeded by the OS: unguessable object
/// names without a system call each.
fn random_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .simple()
        .to_string()
}

/// Signs a batch for `viewer` (or for a sender through an upload request): the rate limit,
/// the daily quota, the request's rules, the tickets, and their ledger entries (recorded
/// before any ticket leaves the server).
pub async fn issue(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    sender: Option<&Sender>,
    mut batch: UploadBatch,
) -> Result<Vec<UploadTicket>, PortalError> {
    let asked = batch
        .files
        .iter()
        .map(|f| f.size)
        .fold(0u64, u64::saturating_add);
    let now = admit(state, from, viewer, asked, batch.files.len()).await?;
    if let Some(sender) = sender {
        // The request decides the folder and the naming, whatever the page sent.
        sending::admit(state, sender, &batch.files).await?;
        batch.folder = viewer.root.clone();
        batch.naming = sender.request.naming;
    }
    let files = sender.map(|_| batch.files.clone());
    let signed = sign_batch(
        &state.rules,
        &state.target,
        state.callback.as_deref(),
        batch,
        &viewer.root,
        now,
    )
    .await?;
    let entries: Vec<NewEntry> = signed
        .iter()
        .map(|s| {
            let expires_at = s.ticket.expires_at;
            let entry = new_entry(
                &s.id,
                viewer,
                from,
                &s.decision,
                now,
                expires_at,
                TicketKind::File,
            );
            sent_by(entry, sender)
        })
        .collect();
    state
        .ledger
        .record_signed(entries)
        .await
        .map_err(limits::ledger_failed)?;
    if let (Some(sender), Some(files)) = (sender, files) {
        let ids: Vec<String> = signed.iter().map(|s| s.id.clone()).collect();
        sending::recheck(state, sender, &ids, &files).await?;
    }
    Ok(signed.into_iter().map(|s| s.ticket).collect())
}

/// An entry signed for a sender carries their request, name and note.
pub fn sent_by(mut entry: NewEntry, sender: Option<&Sender>) -> NewEntry {
    if let Some(sender) = sender {
        entry.request_id = sender.request.id.clone();
        entry.sender_name = sender.name.clone();
        entry.sender_note = sender.note.clone();
    }
    entry
}

/// What every signing passes first, whatever it signs (files, the plain form, a multipart
/// upload): the rate limit, the daily quota for `asked` bytes, and room for `tickets` more
/// unfinished tickets. Returns the time to sign at.
pub async fn admit(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    asked: u64,
    tickets: usize,
) -> Result<OffsetDateTime, PortalError> {
    state.limits.signing(viewer, from)?;
    let now = OffsetDateTime::now_utc();
    limits::within_quota(
        &state.ledger,
        &state.limits.settings,
        &viewer.name,
        asked,
        now.unix_timestamp(),
    )
    .await?;
    let max = state.limits.settings.max_pending;
    if max > 0 {
        let pending = state
            .ledger
            .pending_count(&viewer.name)
            .await
            .map_err(limits::ledger_failed)?;
        if pending.saturating_add(tickets as u64) > max {
            // Unused tickets are forgotten by the sweep a little after they expire.
            return Err(PortalError::Limited {
                limit: Limit::Pending { max },
                retry_after: state.rules.policy_ttl.as_secs() + SWEEP_SLACK_SECONDS,
            });
        }
    }
    Ok(now)
}

/// How long after a ticket expires the sweep has surely looked at it.
pub const SWEEP_SLACK_SECONDS: u64 = 120;

/// The ledger entry of a decided upload.
pub fn new_entry(
    id: &str,
    viewer: &Viewer,
    from: &Requester,
    decision: &Decision,
    now: OffsetDateTime,
    expires_at: i64,
    kind: TicketKind,
) -> NewEntry {
    NewEntry {
        kind,
        id: id.to_owned(),
        user: viewer.name.clone(),
        key: decision.key.clone(),
        declared_size: decision.size,
        content_type: decision.content_type.clone(),
        signed_at: now.unix_timestamp(),
        expires_at,
        client_ip: from.ip.clone(),
        user_agent: from.user_agent.clone(),
        file_name: decision.file_name.clone(),
        request_id: String::new(),
        sender_name: String::new(),
        sender_note: String::new(),
    }
}

/// Records one decided ticket (a plain form, a multipart upload) before anything of it leaves
/// the server; returns its id.
pub async fn record_one(state: &AppState, entry: NewEntry) -> Result<String, PortalError> {
    let id = entry.id.clone();
    state
        .ledger
        .record_signed(vec![entry])
        .await
        .map_err(limits::ledger_failed)?;
    Ok(id)
}

/// Validates a batch and decides each file's key and content type, in order: nothing is
/// decided unless every file passes. Original names never take an existing object's key.
pub async fn decide(
    rules: &UploadRules,
    target: &Target,
    batch: &UploadBatch,
    root: &str,
) -> Result<Vec<Decision>, PortalError> {
    let invalid = PortalError::Invalid;
    if batch.files.is_empty() {
        return Err(invalid(Notice::NoFiles));
    }
    if batch.files.len() > rules.max_files as usize {
        return Err(invalid(Notice::TooManyFiles {
            max: rules.max_files,
        }));
    }
    let folder = folder_in_root(&batch.folder, root).map_err(|e| invalid(Notice::Folder(e)))?;
    let checked = batch
        .files
        .iter()
        .map(|file| Ok((check_file(rules, file)?, sub_folders(&folder, file)?)))
        .collect::<Result<Vec<_>, PortalError>>()?;

    let mut taken = HashSet::new();
    let mut decisions = Vec::with_capacity(batch.files.len());
    for (file, (content_type, sub_folders)) in batch.files.iter().zip(checked) {
        let own_name = original_name(&file.name);
        let folder = format!("{folder}{sub_folders}");
        let name = match batch.naming {
            NamingMode::Random => random_name(&random_id(), &file.name),
            NamingMode::Original => free_name(target, &folder, &own_name, &taken).await?,
        };
        let key = format!("{folder}{name}");
        taken.insert(key.clone());
        decisions.push(Decision {
            key,
            size: file.size,
            content_type,
            // As picked: a folder's file by its path in it (`trip/day 1/b.jpg`).
            file_name: format!("{sub_folders}{own_name}"),
        });
    }
    Ok(decisions)
}

/// Records a plain-form ticket for `viewer` into `folder`: one file of any name and type, at
/// most what the daily quota has left. The ledger entry holds the key prefix and counts that
/// room against the quota until the upload is confirmed or the sweep has looked. Returns the
/// entry's id; [`plain_form`] signs its fields.
pub async fn issue_plain_form(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
    folder: &str,
) -> Result<String, PortalError> {
    let folder = folder_in_root(folder, &viewer.root)
        .map_err(|e| PortalError::Invalid(Notice::Folder(e)))?;
    let settings = &state.limits.settings;
    let used = if settings.daily_bytes == 0 {
        0
    } else {
        limits::used_today(
            &state.ledger,
            &viewer.name,
            OffsetDateTime::now_utc().unix_timestamp(),
        )
        .await?
    };
    let room = if settings.daily_bytes == 0 {
        state.rules.max_file_size
    } else {
        settings
            .daily_bytes
            .saturating_sub(used)
            .min(state.rules.max_file_size)
    };
    let now = admit(state, from, viewer, room.max(1), 1).await?;
    let decision = Decision {
        key: format!("{folder}{}-", &random_id()[..12]),
        size: room,
        content_type: String::new(),
        file_name: String::new(),
    };
    let expires_at = (now + state.rules.policy_ttl).unix_timestamp();
    let id = new_id(now);
    let entry = new_entry(
        &id,
        viewer,
        from,
        &decision,
        now,
        expires_at,
        TicketKind::Form,
    );
    record_one(state, entry).await
}

/// The signed fields of plain-form ticket `id`, for `viewer` only, while it is valid and
/// unused. Signing again writes nothing: the policy is the entry's (prefix, room, expiry).
pub async fn plain_form(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<UploadTicket, PortalError> {
    let gone = || PortalError::Invalid(Notice::FormExpired);
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let entry = state
        .ledger
        .entry(id)
        .await
        .map_err(limits::ledger_failed)?
        .filter(|e| e.user == viewer.name && e.completed_at.is_none())
        .ok_or_else(gone)?;
    let kind = state.ledger.kind(id).await.map_err(limits::ledger_failed)?;
    let now = OffsetDateTime::now_utc();
    let expires = OffsetDateTime::from_unix_timestamp(entry.expires_at).map_err(|_| gone())?;
    if kind != Some(TicketKind::Form) || expires <= now {
        return Err(gone());
    }
    sign_fallback(
        &state.rules,
        &state.target,
        now,
        &entry.key,
        entry.declared_size,
        expires,
    )
    .await
}

/// The no-JavaScript form: one file of at most `max_size` under `prefix`, named
/// `<prefix><the file's own name>` (OSS and S3 expand `${filename}` after checking the
/// policy), then redirected to the portal's result page.
pub async fn sign_fallback(
    rules: &UploadRules,
    target: &Target,
    now: OffsetDateTime,
    prefix: &str,
    max_size: u64,
    expires: OffsetDateTime,
) -> Result<UploadTicket, PortalError> {
    let redirect = format!("{}/uploaded", rules.portal_url);
    let conditions = vec![
        Condition::exact("bucket", &target.bucket),
        Condition::StartsWith {
            field: "key".into(),
            prefix: prefix.to_owned(),
        },
        Condition::ContentLengthRange {
            min: 0,
            max: max_size.min(rules.max_file_size),
        },
    ];
    let key = format!("{prefix}${{filename}}");
    let pinned = vec![("success_action_redirect".to_owned(), redirect)];
    let fields = signed_form(target, key, conditions, pinned, expires, now).await?;
    Ok(UploadTicket {
        object_url: String::new(),
        url: target.url.clone(),
        key: prefix.to_owned(),
        fields,
        expires_at: expires.unix_timestamp(),
    })
}

/// The sub-folders `file` was picked in (a folder picked or dropped whole), which it keeps
/// under the destination `folder` in both naming modes. The two together are held to a
/// folder's length, so that every key fits.
fn sub_folders(folder: &str, file: &FileSpec) -> Result<String, PortalError> {
    let relative =
        relative_folder(&file.name).map_err(|_| PortalError::Invalid(Notice::BadFileName))?;
    if folder.len() + relative.len() > MAX_FOLDER_BYTES {
        return Err(PortalError::Invalid(Notice::Folder(FolderError::TooLong)));
    }
    Ok(relative)
}

/// Checks one file's description; returns the content type the object will get.
fn check_file(rules: &UploadRules, file: &FileSpec) -> Result<String, PortalError> {
    let invalid = PortalError::Invalid;
    // A name ending in `/` names a folder, not a file.
    if file.name.trim().is_empty()
        || file.name.trim_end().ends_with('/')
        || file.name.len() > MAX_CLIENT_NAME_BYTES
        || file.name.contains('\0')
    {
        return Err(invalid(Notice::BadFileName));
    }
    let shown = original_name(&file.name);
    if file.size > rules.max_file_size {
        return Err(invalid(Notice::TooLarge {
            name: shown,
            size: file.size,
            max: rules.max_file_size,
        }));
    }
    let content_type = crate::server::protocol::content::object_type(&shown, &file.content_type);
    if !type_allowed(&rules.allowed_types, &content_type) {
        return Err(invalid(Notice::TypeRefused {
            name: shown,
            content_type,
            allowed: rules.allowed_types.clone(),
        }));
    }
    Ok(content_type)
}

/// `name` in `folder`, or a numbered variant of it, that neither exists in the bucket nor was
/// given to another file of this batch.
async fn free_name(
    target: &Target,
    folder: &str,
    name: &str,
    taken: &HashSet<String>,
) -> Result<String, PortalError> {
    for n in 0..=MAX_NUMBERED_TRIES {
        let candidate = if n == 0 {
            name.to_owned()
        } else {
            numbered_name(name, n)
        };
        let key = format!("{folder}{candidate}");
        if taken.contains(&key) {
            continue;
        }
        let exists = target.object_exists(&key).await.map_err(|e| {
            tracing::warn!(error = %e, "existence check failed");
            PortalError::Unavailable
        })?;
        if !exists {
            return Ok(candidate);
        }
    }
    // Twenty copies of one name: stop asking and make it unique.
    let suffix = &random_id()[..8];
    Ok(suffixed_name(name, suffix))
}

/// The form fields of a signed upload: `key`, the target's signature fields, then `pinned`,
/// each of which the policy also pins with an `eq` condition. Where the store can refuse to
/// overwrite, `x-oss-forbid-overwrite: true` is pinned after the first of them.
async fn signed_form(
    target: &Target,
    key: String,
    mut conditions: Vec<Condition>,
    mut pinned: Vec<(String, String)>,
    expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<(String, String)>, PortalError> {
    if target.guards_overwrites() {
        let at = pinned.len().min(1);
        pinned.insert(at, ("x-oss-forbid-overwrite".to_owned(), "true".to_owned()));
    }
    conditions.extend(
        pinned
            .iter()
            .map(|(field, value)| Condition::eq(field, value)),
    );
    let signed = target
        .sign_post(conditions, expires, now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "signing failed");
            PortalError::Unavailable
        })?;
    let mut fields = vec![("key".to_owned(), key)];
    fields.extend(signed);
    fields.extend(pinned);
    Ok(fields)
}

/// What the server decided for one file.
#[derive(Clone, Debug)]
pub struct Decision {
    pub key: String,
    pub size: u64,
    pub content_type: String,
    /// The name the file was picked with, cleaned (downloads are given it).
    pub file_name: String,
}

async fn ticket(
    target: &Target,
    callback: Option<&CallbackSpec>,
    decision: &Decision,
    id: &str,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<UploadTicket, PortalError> {
    let Decision {
        key,
        size,
        content_type,
        ..
    } = decision.clone();
    let conditions = vec![
        Condition::exact("bucket", &target.bucket),
        Condition::eq("key", &key),
        Condition::ContentLengthRange {
            min: size,
            max: size,
        },
    ];
    let mut pinned = vec![
        ("success_action_status".to_owned(), "200".to_owned()),
        ("Content-Type".to_owned(), content_type),
    ];
    // The callback and the ledger id are pinned, so the bucket calls the portal, not
    // elsewhere, and names the entry to complete.
    if let Some(spec) = callback {
        pinned.push(("callback".to_owned(), spec.encode()));
        pinned.push(("x:ticket".to_owned(), id.to_owned()));
    }
    let fields = signed_form(target, key.clone(), conditions, pinned, expires, now).await?;
    Ok(UploadTicket {
        object_url: target.object_url(&key),
        url: target.url.clone(),
        key,
        fields,
        expires_at: expires.unix_timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_follow_time_and_object_names_do_not() {
        let at =
            |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap();
        let ids: Vec<String> = (0..50).map(|n| new_id(at(1_764_800_000_000 + n))).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        // Within one millisecond: still distinct (74 random bits), version 7.
        let (a, b) = (new_id(at(5)), new_id(at(5)));
        assert_ne!(a, b);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
        let names: HashSet<String> = (0..1000).map(|_| random_id()).collect();
        assert_eq!(names.len(), 1000);
        assert_eq!(
            uuid::Uuid::parse_str(&random_id())
                .unwrap()
                .get_version_num(),
            4
        );
    }

    fn rules() -> UploadRules {
        UploadRules::example()
    }

    fn file(name: &str, size: u64, content_type: &str) -> FileSpec {
        FileSpec {
            name: name.into(),
            size,
            content_type: content_type.into(),
        }
    }

    #[test]
    fn files_are_checked_against_the_rules() {
        let rules = rules();
        assert_eq!(
            check_file(&rules, &file("a.png", 10, "image/png")).unwrap(),
            "image/png"
        );
        assert_eq!(
            check_file(&rules, &file("a.pdf", 10, "")).unwrap(),
            "application/pdf"
        );
        assert_eq!(
            check_file(&rules, &file("a.jpg", 10, "IMAGE/JPEG; x=y")).unwrap(),
            "image/jpeg"
        );
        let too_big = check_file(&rules, &file("big.png", 1001, "image/png")).unwrap_err();
        assert_eq!(
            too_big,
            PortalError::Invalid(Notice::TooLarge {
                name: "big.png".into(),
                size: 1001,
                max: 1000
            })
        );
        assert!(check_file(&rules, &file("x.html", 10, "text/html")).is_err());
        assert!(check_file(&rules, &file("", 10, "image/png")).is_err());
        assert!(check_file(&rules, &file(&"a".repeat(2000), 10, "image/png")).is_err());
    }

    #[test]
    fn type_patterns() {
        let allowed =
            |pattern: &str, content_type| type_allowed(&[pattern.to_owned()], content_type);
        assert!(allowed("image/*", "image/png"));
        assert!(!allowed("image/*", "imagex/png"));
        assert!(allowed("application/pdf", "application/pdf"));
        assert!(type_allowed(&[], "text/html"));
    }
}
