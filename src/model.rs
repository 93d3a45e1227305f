//! Wire types that cross between the browser and the server: what the browser asks to upload,
//! the tickets the server signs, and the one error type. Nothing here is trusted on arrival.

use serde::{Deserialize, Serialize};

use crate::i18n::{td_string, Locale};
use crate::naming::FolderError;

/// How the server names each object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamingMode {
    /// An unguessable id that keeps the file's extension.
    #[default]
    Random,
    /// The file's own name, made safe; never overwrites an existing object.
    Original,
}

/// One file the browser wants to upload, as the browser describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpec {
    pub name: String,
    pub size: u64,
    /// The browser's MIME type for the file; may be empty.
    pub content_type: String,
}

/// A batch of files to sign, with the naming mode and the destination folder the user chose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadBatch {
    pub files: Vec<FileSpec>,
    pub naming: NamingMode,
    pub folder: String,
}

/// Everything the browser needs to POST one file straight to the bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadTicket {
    /// The object key the server chose.
    pub key: String,
    /// Where the form is POSTed (the bucket's URL).
    pub url: String,
    /// Form fields in the order they must be sent; the file goes after all of them.
    pub fields: Vec<(String, String)>,
    /// Where the stored object can be fetched.
    pub object_url: String,
    /// When the signed policy expires, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// A multipart upload the server started, as the browser names it back: the token (an HMAC
/// the server made over every other field) proves the server chose this key and upload id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub key: String,
    pub upload_id: String,
    pub size: u64,
    pub part_size: u64,
    pub content_type: String,
    pub token: String,
}

impl MultipartUpload {
    /// How many parts the file is cut into (a 0-byte file is one empty part).
    pub fn part_count(&self) -> u32 {
        part_count(self.size, self.part_size)
    }
}

/// `ceil(size / part_size)`, at least 1.
pub fn part_count(size: u64, part_size: u64) -> u32 {
    (size.div_ceil(part_size.max(1))).max(1) as u32
}

/// The byte range `[start, end)` of part `number` (1-based).
pub fn part_range(number: u32, size: u64, part_size: u64) -> (u64, u64) {
    let start = u64::from(number.saturating_sub(1)) * part_size;
    (start.min(size), (start + part_size).min(size))
}

/// A part the storage already holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    pub number: u32,
    /// Without quotes.
    pub etag: String,
}

/// Where the browser sends the parts still missing, and which are already there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartPlan {
    pub upload: MultipartUpload,
    pub object_url: String,
    pub stored: Vec<StoredPart>,
    /// A presigned PUT URL per missing part.
    pub urls: Vec<(u32, String)>,
    /// When the URLs stop working, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// A completed multipart upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedUpload {
    pub key: String,
    pub url: String,
    /// `HEX-N`, without quotes.
    pub etag: String,
}

/// What the uploader needs to know of the server's upload rules: the island's props, so
/// nothing here is secret (the server checks every rule again when it signs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploaderSettings {
    pub default_folder: String,
    pub upload_root: String,
    pub max_file_size: u64,
    pub max_files: u32,
    pub parallel_uploads: u32,
    /// Times the page tries a file again after a network or storage fault.
    pub upload_retries: u32,
    /// Files this large or larger go up in parts, resumably; 0 when multipart is off.
    pub multipart_threshold: u64,
    /// Allowed MIME types (`image/*` style patterns allowed); empty means any type.
    pub allowed_types: Vec<String>,
    /// What kind of browser asked, from its User-Agent (decided once, on the server, so the
    /// server's HTML and the hydrated page agree).
    pub client: ClientKind,
    pub limits: Limits,
}

/// The browsers the page adapts to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientKind {
    #[default]
    Desktop,
    Mobile,
    /// WeChat's in-app browser on Android: `multiple` hides the camera, so it gets a separate
    /// "Take photo" control.
    WeChatAndroid,
    /// WeChat's in-app browser on iOS (or elsewhere).
    WeChatOther,
}

impl ClientKind {
    pub fn from_user_agent(user_agent: &str) -> Self {
        let android = user_agent.contains("Android");
        if user_agent.contains("MicroMessenger") {
            return if android {
                ClientKind::WeChatAndroid
            } else {
                ClientKind::WeChatOther
            };
        }
        let mobile = android
            || ["iPhone", "iPad", "iPod", "Mobile"]
                .iter()
                .any(|m| user_agent.contains(m));
        if mobile {
            ClientKind::Mobile
        } else {
            ClientKind::Desktop
        }
    }

    pub fn is_wechat(self) -> bool {
        matches!(self, ClientKind::WeChatAndroid | ClientKind::WeChatOther)
    }
}

/// Who is using the page, as the server sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    /// The folder every upload of theirs stays under.
    pub root: String,
    pub admin: bool,
    /// False in open mode, where nobody signs in.
    pub signed_in: bool,
}

/// The limits that apply to the viewer, as the page shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Signing requests per minute, per user and per address.
    pub signs_per_minute: u32,
    /// Bytes per user over any 24 hours; 0 for no limit.
    pub daily_bytes: u64,
    /// Bytes the viewer has used (or holds signed tickets for) in the last 24 hours.
    pub used_bytes: u64,
}

/// What the sign-in form asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginKind {
    /// A name and a password (users file).
    Password,
    /// A shared access code.
    Code,
}

/// One signed upload in the ledger, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub user: String,
    pub key: String,
    /// Where the object can be fetched (empty while the upload is not complete).
    pub url: String,
    pub declared_size: u64,
    pub content_type: String,
    /// Seconds since the Unix epoch.
    pub signed_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub etag: Option<String>,
    pub stored_size: Option<u64>,
    /// `callback`, `head` or `multipart`: how the completion was learnt.
    pub completed_by: Option<String>,
    pub client_ip: String,
    pub user_agent: String,
}

/// Which ledger entries to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    #[default]
    All,
    Completed,
    Pending,
}

/// The admin page's filters (the "My uploads" page uses only `page`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub key_prefix: String,
    #[serde(default)]
    pub state: EntryState,
    /// 1-based.
    #[serde(default)]
    pub page: u32,
}

/// One page of ledger entries, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub page: u32,
    pub pages: u32,
    pub total: u64,
}

/// One finding of the storage self-diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `cors`, `clock`, `credentials`, `database`, `storage`.
    pub check: String,
    pub ok: bool,
    /// What was found, or exactly what is missing, in plain words (English: for operators).
    pub detail: String,
}

/// Why a request or a picked file was refused: data on the wire, put into words in the
/// reader's language only where it is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    NoFiles,
    PickFirst,
    TooManyFiles {
        max: u32,
    },
    BadFileName,
    AlreadyListed {
        name: String,
    },
    TooLarge {
        name: String,
        size: u64,
        max: u64,
    },
    TypeRefused {
        name: String,
        content_type: String,
        allowed: Vec<String>,
    },
    Folder(FolderError),
    NotAnUpload,
    Unreadable,
    /// The multipart upload is not (or no longer) one this portal started.
    UploadGone,
    /// The parts named for completion are not the file's parts.
    WrongParts,
    /// The name and password (or the access code) are not right.
    BadLogin,
    /// A sign-in field is empty or too long.
    BadLoginInput,
    /// The bucket does not hold the object the page says it stored, or holds other bytes.
    NotStored {
        key: String,
    },
    /// A ledger filter or page number is out of range.
    BadFilter,
    /// The stored object broke its ticket (size, or a plain form's type) and was removed.
    BrokeTicket {
        key: String,
    },
    /// A request that changes something came from another site.
    CrossSite,
    /// The plain form's ticket expired, was used, or is not the reader's.
    FormExpired,
}

impl Notice {
    pub fn describe(&self, locale: Locale) -> String {
        match self {
            Notice::NoFiles => td_string!(locale, no_files).to_owned(),
            Notice::PickFirst => td_string!(locale, pick_first).to_owned(),
            Notice::TooManyFiles { max } => td_string!(locale, too_many_files, count = max),
            Notice::BadFileName => td_string!(locale, bad_file_name).to_owned(),
            Notice::AlreadyListed { name } => td_string!(locale, already_listed, name = name),
            Notice::TooLarge { name, size, max } => td_string!(
                locale,
                too_large,
                name = name,
                size = format_size(*size),
                max = format_size(*max)
            ),
            Notice::TypeRefused {
                name,
                content_type,
                allowed,
            } => td_string!(
                locale,
                type_refused,
                name = name,
                content_type = content_type,
                allowed = allowed.join(", ")
            ),
            Notice::Folder(reason) => {
                td_string!(locale, folder_refused, reason = reason.describe(locale))
            }
            Notice::NotAnUpload => td_string!(locale, not_an_upload).to_owned(),
            Notice::Unreadable => td_string!(locale, unreadable_request).to_owned(),
            Notice::UploadGone => td_string!(locale, upload_gone).to_owned(),
            Notice::WrongParts => td_string!(locale, wrong_parts).to_owned(),
            Notice::BadLogin => td_string!(locale, bad_login).to_owned(),
            Notice::BadLoginInput => td_string!(locale, bad_login_input).to_owned(),
            Notice::NotStored { key } => td_string!(locale, not_stored, key = key),
            Notice::BadFilter => td_string!(locale, bad_filter).to_owned(),
            Notice::BrokeTicket { key } => td_string!(locale, broke_ticket, key = key),
            Notice::CrossSite => td_string!(locale, cross_site).to_owned(),
            Notice::FormExpired => td_string!(locale, fallback_expired).to_owned(),
        }
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(Locale::en))
    }
}

/// The one error that crosses the wire. Every message is safe to show to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    /// The request was refused; the notice says why.
    #[error("{0}")]
    Invalid(Notice),
    /// The storage could not be reached.
    #[error("The storage is unavailable right now.")]
    Unavailable,
    /// Something failed inside the server; the cause is in the server's log.
    #[error("Something went wrong on the server.")]
    Internal,
    /// The request did not reach the server or its reply could not be read.
    #[error("Could not reach the server: {0}")]
    Transport(String),
    /// No session: the reader has to sign in first.
    #[error("Sign in first.")]
    Unauthenticated,
    /// Signed in, but this is for administrators.
    #[error("Only administrators can do this.")]
    Forbidden,
    /// A limit was reached; `retry_after` seconds from now it may work again.
    #[error("Limit reached; try again in {retry_after} s.")]
    Limited { limit: Limit, retry_after: u64 },
}

/// Why a plain form post (sign-in, a plain upload's start) was refused, as its page learns it
/// from the URL it is sent back to: kinds and figures only, so that a link anyone can craft
/// cannot put words of its choosing on the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormRefusal {
    Limited {
        limit: Limit,
        retry_after: u64,
    },
    /// The folder was refused: the page checks it again to say why.
    Folder,
    BadLogin,
    BadLoginInput,
    Unavailable,
    Other,
}

impl FormRefusal {
    pub fn from_error(error: &PortalError) -> Self {
        match error {
            PortalError::Limited { limit, retry_after } => FormRefusal::Limited {
                limit: limit.clone(),
                retry_after: *retry_after,
            },
            PortalError::Invalid(Notice::Folder(_)) => FormRefusal::Folder,
            PortalError::Invalid(Notice::BadLogin) => FormRefusal::BadLogin,
            PortalError::Invalid(Notice::BadLoginInput) => FormRefusal::BadLoginInput,
            PortalError::Unavailable => FormRefusal::Unavailable,
            _ => FormRefusal::Other,
        }
    }

    /// The error to show (`None` for a folder: the page checks the folder itself).
    pub fn to_error(&self) -> Option<PortalError> {
        match self {
            FormRefusal::Limited { limit, retry_after } => Some(PortalError::Limited {
                limit: limit.clone(),
                retry_after: *retry_after,
            }),
            FormRefusal::Folder => None,
            FormRefusal::BadLogin => Some(PortalError::Invalid(Notice::BadLogin)),
            FormRefusal::BadLoginInput => Some(PortalError::Invalid(Notice::BadLoginInput)),
            FormRefusal::Unavailable => Some(PortalError::Unavailable),
            FormRefusal::Other => Some(PortalError::Internal),
        }
    }

    /// From a page's `refused` query parameter (decoded).
    pub fn from_query(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }

    /// The `refused` query parameter's value for `error`, percent-encoded.
    #[cfg(feature = "ssr")]
    pub fn query_value(error: &PortalError) -> String {
        let json = serde_json::to_string(&Self::from_error(error)).unwrap_or_default();
        percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC).to_string()
    }
}

/// Which limit a request ran into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    /// Too many signing requests from this user or address.
    Signing,
    /// Too many sign-in attempts.
    Logins,
    /// The user's bytes for the last 24 hours.
    DailyBytes { limit: u64, used: u64, asked: u64 },
    /// Tickets signed but neither used nor expired and swept.
    Pending { max: u64 },
}

impl PortalError {
    /// The error in plain words, in the reader's language.
    pub fn describe(&self, locale: Locale) -> String {
        match self {
            PortalError::Invalid(notice) => notice.describe(locale),
            PortalError::Unavailable => td_string!(locale, storage_unavailable).to_owned(),
            PortalError::Internal => td_string!(locale, server_failed).to_owned(),
            PortalError::Transport(detail) => {
                td_string!(locale, server_unreachable, detail = detail)
            }
            PortalError::Unauthenticated => td_string!(locale, sign_in_first).to_owned(),
            PortalError::Forbidden => td_string!(locale, admins_only).to_owned(),
            PortalError::Limited { limit, retry_after } => {
                let wait = format_wait(*retry_after);
                match limit {
                    Limit::Signing => td_string!(locale, limit_signing, wait = wait),
                    Limit::Logins => td_string!(locale, limit_logins, wait = wait),
                    Limit::Pending { max } => {
                        td_string!(locale, limit_pending, max = max, wait = wait)
                    }
                    Limit::DailyBytes { limit, used, asked } => td_string!(
                        locale,
                        limit_daily_bytes,
                        limit = format_size(*limit),
                        used = format_size(*used),
                        asked = format_size(*asked),
                        wait = wait
                    ),
                }
            }
        }
    }
}

impl PortalError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            PortalError::Invalid(_) => 400,
            PortalError::Unavailable => 503,
            PortalError::Internal | PortalError::Transport(_) => 500,
            PortalError::Unauthenticated => 401,
            PortalError::Forbidden => 403,
            PortalError::Limited { .. } => 429,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for PortalError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // The body did not decode: the request itself is malformed.
            E::Args(_) | E::Deserialization(_) | E::MissingArg(_) => {
                PortalError::Invalid(Notice::Unreadable)
            }
            other => PortalError::Transport(other.to_string()),
        }
    }
}

/// Whether `content_type` is allowed by `patterns` (`image/png`, `image/*`); none allows all.
pub fn type_allowed(patterns: &[String], content_type: &str) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|pattern| match pattern.strip_suffix("/*") {
                Some(kind) => content_type.split('/').next() == Some(kind),
                None => pattern == content_type,
            })
}

/// A time for people, in UTC: `2026-11-25 03:22 UTC`.
pub fn format_time(unix_seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A wait in words-free units: `45 s`, `3 min`, `2 h` (rounded up).
pub fn format_wait(seconds: u64) -> String {
    match seconds {
        0..=90 => format!("{} s", seconds.max(1)),
        91..=5400 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h", seconds.div_ceil(3600)),
    }
}

/// Human-readable size: `0 B`, `999 B`, `1.5 KB`, `5.0 MB` (decimal units, as file managers show).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(999), "999 B");
        assert_eq!(format_size(1000), "1.0 KB");
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.2 MB");
        assert_eq!(format_size(999_999), "1.0 MB");
        assert_eq!(format_size(1_000_000_000), "1.0 GB");
    }

    #[test]
    fn clients_are_told_apart_by_user_agent() {
        let wechat_android = "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/2651 MicroMessenger/8.0.42.2460(0x28002A3B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
        let wechat_ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2b) NetType/WIFI Language/zh_CN";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let desktop = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(
            ClientKind::from_user_agent(wechat_android),
            ClientKind::WeChatAndroid
        );
        assert_eq!(
            ClientKind::from_user_agent(wechat_ios),
            ClientKind::WeChatOther
        );
        assert_eq!(ClientKind::from_user_agent(safari), ClientKind::Mobile);
        assert_eq!(ClientKind::from_user_agent(desktop), ClientKind::Desktop);
        assert_eq!(ClientKind::from_user_agent(""), ClientKind::Desktop);
        assert!(ClientKind::WeChatOther.is_wechat() && !ClientKind::Mobile.is_wechat());
    }

    #[test]
    fn times_and_waits_read_plainly() {
        assert_eq!(format_time(1_764_040_943), "2025-11-25 03:22 UTC");
        assert_eq!(format_wait(0), "1 s");
        assert_eq!(format_wait(45), "45 s");
        assert_eq!(format_wait(120), "2 min");
        assert_eq!(format_wait(7201), "3 h");
    }

    #[test]
    fn errors_carry_statuses() {
        assert_eq!(PortalError::Invalid(Notice::NoFiles).status_code(), 400);
        assert_eq!(PortalError::Unavailable.status_code(), 503);
        assert_eq!(PortalError::Internal.status_code(), 500);
        assert_eq!(PortalError::Unauthenticated.status_code(), 401);
        assert_eq!(PortalError::Forbidden.status_code(), 403);
        let limited = PortalError::Limited {
            limit: Limit::Signing,
            retry_after: 3,
        };
        assert_eq!(limited.status_code(), 429);
        assert_eq!(
            limited.describe(Locale::en),
            "Too many requests; try again in 3 s."
        );
    }
}
