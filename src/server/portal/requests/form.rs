//! The form that creates an upload request, as typed (every field attacker-controlled), and
//! the checks that turn it into a request: pure, with the clock and the creator's root passed in.

use crate::error::{Notice, PortalError, RequestNotice};
use crate::model::NamingMode;
use crate::naming::folder_in_root;

use super::webhook::{check_url, WebhookKind};

/// How long a request stays open when the form leaves the expiry empty.
pub const DEFAULT_DAYS: i64 = 7;
/// The furthest a request may be set to expire.
const MAX_DAYS: i64 = 366;
pub const MAX_TITLE: usize = 200;
pub const MAX_INSTRUCTIONS: usize = 4000;
/// Allowed-type rules at most, and the longest rule.
const MAX_TYPES: usize = 30;
const MAX_TYPE_LEN: usize = 100;
/// Passwords longer than this are refused (argon2 is not run on megabytes).
pub const MAX_PASSWORD: usize = 256;

/// The creation form's fields, as posted. Checkboxes are present only when ticked.
#[derive(Clone, Debug, Default)]
pub struct RequestForm {
    pub title: String,
    pub instructions: String,
    pub folder: String,
    /// `YYYY-MM-DDTHH:MM` (an `<input type="datetime-local">`), read as UTC; empty: 7 days.
    pub expires: String,
    pub max_files: String,
    /// In MB (decimal); empty or 0: no limit of the request's own.
    pub max_file_size_mb: String,
    pub max_total_mb: String,
    pub allowed_types: String,
    pub password: String,
    pub naming: String,
    pub ask_name: bool,
    pub ask_note: bool,
    pub sender_folders: bool,
    /// Empty: no webhook.
    pub webhook_url: String,
    /// `json`, `wecom` or `dingtalk`.
    pub webhook_kind: String,
}

/// A request's rules, checked (everything but who made it and its id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRules {
    pub title: String,
    pub instructions: String,
    pub folder: String,
    pub naming: NamingMode,
    pub expires_at: i64,
    pub max_files: u64,
    pub max_file_size: u64,
    pub max_total_bytes: u64,
    pub allowed_types: Vec<String>,
    pub ask_name: bool,
    pub ask_note: bool,
    pub sender_folders: bool,
    pub webhook_url: String,
    pub webhook_kind: WebhookKind,
}

fn refused(notice: RequestNotice) -> PortalError {
    PortalError::Invalid(Notice::Request(notice))
}

/// Checks the form for a creator rooted at `root`, at `now`. The folder may be typed relative
/// to the root (`trip/`) or in full (`uploads/alice/trip/`); it never leaves the root. A
/// webhook goes to a public address unless the portal allows private ones.
pub fn check(
    form: &RequestForm,
    root: &str,
    now: i64,
    webhooks_to_private: bool,
) -> Result<RequestRules, PortalError> {
    let title = text(&form.title, MAX_TITLE, true)?;
    if title.is_empty() {
        return Err(refused(RequestNotice::TitleRequired));
    }
    let instructions = text(&form.instructions, MAX_INSTRUCTIONS, false)?;
    let folder =
        folder_in_root(&form.folder, root).map_err(|e| PortalError::Invalid(Notice::Folder(e)))?;
    let expires_at = expiry(&form.expires, now)?;
    let mb = |field: &str| number(field, 1_000_000).map(|n| n.saturating_mul(1_000_000));
    Ok(RequestRules {
        title,
        instructions,
        folder,
        naming: match form.naming.as_str() {
            "original" => NamingMode::Original,
            _ => NamingMode::Random,
        },
        expires_at,
        max_files: number(&form.max_files, 100_000)?,
        max_file_size: mb(&form.max_file_size_mb)?,
        max_total_bytes: mb(&form.max_total_mb)?,
        allowed_types: types(&form.allowed_types)?,
        ask_name: form.ask_name,
        ask_note: form.ask_note,
        sender_folders: form.sender_folders,
        webhook_url: check_url(&form.webhook_url, webhooks_to_private).map_err(refused)?,
        webhook_kind: WebhookKind::parse(&form.webhook_kind),
    })
}

/// Trimmed text without control characters (a title keeps to one line), at most `max` bytes.
fn text(value: &str, max: usize, one_line: bool) -> Result<String, PortalError> {
    super::sender_text(value, max, one_line).map_err(refused)
}

/// A whole number up to `max`; empty is 0 (no limit).
fn number(value: &str, max: u64) -> Result<u64, PortalError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(0);
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or(refused(RequestNotice::BadNumber))
}

/// `YYYY-MM-DDTHH:MM[:SS]` in UTC, after `now` and within a year; empty: [`DEFAULT_DAYS`].
fn expiry(value: &str, now: i64) -> Result<i64, PortalError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(now + DEFAULT_DAYS * 86_400);
    }
    let short = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let long = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let at = time::PrimitiveDateTime::parse(value, short)
        .or_else(|_| time::PrimitiveDateTime::parse(value, long))
        .map_err(|_| refused(RequestNotice::BadExpiry))?
        .assume_utc()
        .unix_timestamp();
    if at <= now || at > now + MAX_DAYS * 86_400 {
        return Err(refused(RequestNotice::BadExpiry));
    }
    Ok(at)
}

/// `image/*, application/pdf, .PDF` → `["image/*", "application/pdf", ".pdf"]`.
pub fn types(value: &str) -> Result<Vec<String>, PortalError> {
    let rules: Vec<String> = value
        .split([',', ' ', '\n'])
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'))
    };
    let valid = |rule: &String| {
        rule.len() <= MAX_TYPE_LEN
            && match rule.strip_prefix('.') {
                Some(ext) => token(ext) && !ext.contains('.'),
                None => match rule.split_once('/') {
                    Some((kind, sub)) => token(kind) && (sub == "*" || token(sub)),
                    None => false,
                },
            }
    };
    if rules.len() > MAX_TYPES || !rules.iter().all(valid) {
        return Err(refused(RequestNotice::BadTypes));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::FolderError;

    const NOW: i64 = 1_767_225_600; // 2026-01-01 00:00 UTC

    fn form() -> RequestForm {
        RequestForm {
            title: " Trip photos ".into(),
            folder: "trip".into(),
            ..RequestForm::default()
        }
    }

    #[test]
    fn a_plain_form_makes_a_week_long_request_in_the_root() {
        let rules = check(&form(), "uploads/alice/", NOW, false).unwrap();
        assert_eq!(rules.title, "Trip photos");
        assert_eq!(rules.folder, "uploads/alice/trip/");
        assert_eq!(rules.expires_at, NOW + 7 * 86_400);
        assert_eq!(
            (rules.max_files, rules.max_file_size, rules.max_total_bytes),
            (0, 0, 0)
        );
        assert_eq!(rules.naming, NamingMode::Random);
        // The full path works too.
        let full = RequestForm {
            folder: "uploads/alice/trip/2026".into(),
            ..form()
        };
        assert_eq!(
            check(&full, "uploads/alice/", NOW, false).unwrap().folder,
            "uploads/alice/trip/2026/"
        );
    }

    #[test]
    fn nothing_leaves_the_creators_root() {
        for folder in ["../bob", "trip/../../x", "a\\b", "a/\u{202E}b"] {
            let f = RequestForm {
                folder: folder.into(),
                ..form()
            };
            assert!(
                matches!(
                    check(&f, "uploads/alice/", NOW, false),
                    Err(PortalError::Invalid(Notice::Folder(_)))
                ),
                "{folder}"
            );
        }
        // Whatever is typed is read inside the root: `/etc` is `uploads/alice/etc/`, and
        // `uploads/bob/` typed by alice is never bob's folder.
        let f = RequestForm {
            folder: "/etc".into(),
            ..form()
        };
        assert_eq!(
            check(&f, "uploads/alice/", NOW, false).unwrap().folder,
            "uploads/alice/etc/"
        );
        let f = RequestForm {
            folder: "uploads/bob/".into(),
            ..form()
        };
        assert_eq!(
            check(&f, "uploads/alice/", NOW, false).unwrap().folder,
            "uploads/alice/uploads/bob/"
        );
        let _ = FolderError::DotSegment;
    }

    #[test]
    fn limits_expiry_and_types_are_checked() {
        let f = RequestForm {
            max_files: "10".into(),
            max_file_size_mb: "20".into(),
            max_total_mb: "500".into(),
            expires: "2026-01-02T08:30".into(),
            allowed_types: "image/*, .PDF application/vnd.ms-excel".into(),
            naming: "original".into(),
            ..form()
        };
        let rules = check(&f, "uploads/", NOW, false).unwrap();
        assert_eq!(rules.max_files, 10);
        assert_eq!(rules.max_file_size, 20_000_000);
        assert_eq!(rules.max_total_bytes, 500_000_000);
        assert_eq!(rules.expires_at, NOW + 86_400 + 8 * 3600 + 1800);
        assert_eq!(
            rules.allowed_types,
            ["image/*", ".pdf", "application/vnd.ms-excel"]
        );
        assert_eq!(rules.naming, NamingMode::Original);
        let bad = |change: fn(&mut RequestForm), why: RequestNotice| {
            let mut f = form();
            change(&mut f);
            assert_eq!(
                check(&f, "uploads/", NOW, false),
                Err(PortalError::Invalid(Notice::Request(why)))
            );
        };
        bad(|f| f.title = "  ".into(), RequestNotice::TitleRequired);
        bad(
            |f| f.title = "a\nb".into(),
            RequestNotice::ControlCharacters,
        );
        bad(
            |f| f.title = "x".repeat(201),
            RequestNotice::TooLong { max: 200 },
        );
        bad(|f| f.max_files = "-1".into(), RequestNotice::BadNumber);
        bad(|f| f.max_files = "1e3".into(), RequestNotice::BadNumber);
        bad(
            |f| f.max_total_mb = "99999999".into(),
            RequestNotice::BadNumber,
        );
        bad(
            |f| f.expires = "2025-12-31T23:59".into(),
            RequestNotice::BadExpiry,
        );
        bad(
            |f| f.expires = "2028-01-01T00:00".into(),
            RequestNotice::BadExpiry,
        );
        bad(|f| f.expires = "tomorrow".into(), RequestNotice::BadExpiry);
        bad(
            |f| f.allowed_types = "image".into(),
            RequestNotice::BadTypes,
        );
        bad(
            |f| f.allowed_types = "<script>/x".into(),
            RequestNotice::BadTypes,
        );
        bad(
            |f| f.allowed_types = "..pdf".into(),
            RequestNotice::BadTypes,
        );
    }
}
