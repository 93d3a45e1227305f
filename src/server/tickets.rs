//! Upload tickets: the server's decision for each file of a batch (its key, its policy) and the
//! signed form fields that carry it. Everything the browser sent is checked here.

use std::collections::HashSet;

use time::OffsetDateTime;

use super::callback::CallbackSpec;
use super::config::UploadRules;
use super::policy::Condition;
use super::targets::Target;
use crate::model::{
    type_allowed, FileSpec, NamingMode, Notice, PortalError, UploadBatch, UploadTicket,
};
use crate::naming::{folder_under_root, numbered_name, original_name, random_name, suffixed_name};

/// Tries at numbered names (`a-1.jpg`, `a-2.jpg`, ...) before a random suffix is used.
const MAX_NUMBERED_TRIES: u32 = 20;
/// Longest client-side name accepted (names are shortened to 255 bytes anyway).
const MAX_CLIENT_NAME_BYTES: usize = 1024;

/// Validates a batch and signs one ticket per file, in order. Nothing is signed unless every
/// file passes.
pub async fn sign_batch(
    rules: &UploadRules,
    target: &Target,
    callback: Option<&CallbackSpec>,
    batch: UploadBatch,
    now: OffsetDateTime,
) -> Result<Vec<UploadTicket>, PortalError> {
    let expires = now + rules.policy_ttl;
    let mut tickets = Vec::with_capacity(batch.files.len());
    for decision in decide(rules, target, &batch).await? {
        tickets.push(ticket(target, callback, decision, now, expires).await?);
    }
    Ok(tickets)
}

/// Validates a batch and decides each file's key and content type, in order: nothing is
/// decided unless every file passes. Original names never take an existing object's key.
pub async fn decide(
    rules: &UploadRules,
    target: &Target,
    batch: &UploadBatch,
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
    let folder = folder_under_root(&batch.folder, &rules.upload_root)
        .map_err(|e| invalid(Notice::Folder(e)))?;
    let content_types = batch
        .files
        .iter()
        .map(|file| check_file(rules, file))
        .collect::<Result<Vec<_>, _>>()?;

    let mut taken = HashSet::new();
    let mut decisions = Vec::with_capacity(batch.files.len());
    for (file, content_type) in batch.files.iter().zip(content_types) {
        let name = match batch.naming {
            NamingMode::Random => {
                random_name(&uuid::Uuid::new_v4().simple().to_string(), &file.name)
            }
            NamingMode::Original => {
                free_name(target, &folder, &original_name(&file.name), &taken).await?
            }
        };
        let key = format!("{folder}{name}");
        taken.insert(key.clone());
        decisions.push(Decision {
            key,
            size: file.size,
            content_type,
        });
    }
    Ok(decisions)
}

/// The no-JavaScript form: one file of any allowed size into the default folder, named
/// `<random>-<the file's own name>` (OSS and S3 expand `${filename}` after checking the policy),
/// then redirected to the portal's result page.
pub async fn sign_fallback(
    rules: &UploadRules,
    target: &Target,
    now: OffsetDateTime,
) -> Result<UploadTicket, PortalError> {
    let prefix = format!(
        "{}{}-",
        rules.default_folder,
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let redirect = format!("{}/uploaded", rules.portal_url);
    let conditions = vec![
        Condition::exact("bucket", &target.bucket),
        Condition::StartsWith {
            field: "key".into(),
            prefix: prefix.clone(),
        },
        Condition::ContentLengthRange {
            min: 0,
            max: rules.max_file_size,
        },
    ];
    let expires = now + rules.policy_ttl;
    let key = format!("{prefix}${{filename}}");
    let pinned = vec![("success_action_redirect".to_owned(), redirect)];
    let fields = signed_form(target, key, conditions, pinned, expires, now).await?;
    Ok(UploadTicket {
        object_url: String::new(),
        url: target.url.clone(),
        key: prefix,
        fields,
        expires_at: expires.unix_timestamp(),
    })
}

/// Checks one file's description; returns the content type the object will get.
fn check_file(rules: &UploadRules, file: &FileSpec) -> Result<String, PortalError> {
    let invalid = PortalError::Invalid;
    if file.name.trim().is_empty()
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
    let declared = file.content_type.trim().to_ascii_lowercase();
    let declared = declared.split(';').next().unwrap_or("").trim().to_owned();
    let content_type = if is_mime(&declared) {
        declared
    } else {
        mime_guess::from_path(&shown)
            .first_or_octet_stream()
            .essence_str()
            .to_owned()
    };
    if !type_allowed(&rules.allowed_types, &content_type) {
        return Err(invalid(Notice::TypeRefused {
            name: shown,
            content_type,
            allowed: rules.allowed_types.clone(),
        }));
    }
    Ok(content_type)
}

fn is_mime(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 127
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    matches!(text.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
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
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
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
pub struct Decision {
    pub key: String,
    pub size: u64,
    pub content_type: String,
}

async fn ticket(
    target: &Target,
    callback: Option<&CallbackSpec>,
    Decision {
        key,
        size,
        content_type,
    }: Decision,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<UploadTicket, PortalError> {
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
    // The callback and its ticket id are pinned, so the bucket calls the portal, not elsewhere.
    if let Some(spec) = callback {
        pinned.push(("callback".to_owned(), spec.encode()));
        pinned.push((
            "x:ticket".to_owned(),
            uuid::Uuid::new_v4().simple().to_string(),
        ));
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

    fn rules() -> UploadRules {
        UploadRules {
            upload_root: "uploads/".into(),
            default_folder: "uploads/".into(),
            max_file_size: 1000,
            max_files: 3,
            parallel_uploads: 3,
            upload_retries: 5,
            multipart_threshold: 0,
            part_size: 8 << 20,
            multipart_expiry: std::time::Duration::from_secs(3600),
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            portal_url: "http://portal.test".into(),
            policy_ttl: std::time::Duration::from_secs(300),
        }
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
        assert!(!is_mime("text"));
        assert!(!is_mime("text/<script>"));
    }
}
