//! The one error type, `PortalError`, and `Notice`, why something was refused: data on the
//! wire with an HTTP status, put into words in the reader's language only where it is shown.

use serde::{Deserialize, Serialize};

use crate::format::{format_size, format_wait};
use crate::i18n::{td_string, Locale};
use crate::naming::FolderError;

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
    /// The upload request is closed or has expired: it takes no more files.
    RequestClosed,
    /// More files than the upload request has left, across all its senders.
    RequestFullFiles {
        left: u64,
    },
    /// More bytes than the upload request has left, across all its senders.
    RequestFullBytes {
        left: u64,
    },
    /// A refusal only the server-rendered request pages show. The browser's build leaves it
    /// out: the island never receives it, and every visitor of '/' would pay for its words.
    #[cfg(feature = "ssr")]
    Request(RequestNotice),
}

/// Why a request page refused what was typed into it (creating a request, or joining one as a
/// sender): kinds and figures only, so a crafted link cannot put words on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestNotice {
    /// Creating requests is off for this portal or this account.
    NotAllowed,
    TitleRequired,
    TooLong {
        max: u32,
    },
    ControlCharacters,
    /// A limit is not a whole number in range.
    BadNumber,
    /// The expiry is not a date and time, is past, or lies more than a year ahead.
    BadExpiry,
    /// An allowed type is neither `type/subtype`, `type/*` nor `.ext`.
    BadTypes,
    NameRequired,
    NoteRequired,
    WrongPassword,
    /// The link is not (or no longer) one of this portal's requests.
    BadLink,
    /// No such request of the reader's.
    NotFound,
    /// A webhook must be an http(s) URL to a public address, without a user or password.
    BadWebhook,
}

impl RequestNotice {
    pub fn describe(&self, locale: Locale) -> String {
        match self {
            RequestNotice::NotAllowed => td_string!(locale, request_not_allowed).to_owned(),
            RequestNotice::TitleRequired => td_string!(locale, request_title_required).to_owned(),
            RequestNotice::TooLong { max } => td_string!(locale, request_too_long, max = max),
            RequestNotice::ControlCharacters => td_string!(locale, request_control).to_owned(),
            RequestNotice::BadNumber => td_string!(locale, request_bad_number).to_owned(),
            RequestNotice::BadExpiry => td_string!(locale, request_bad_expiry).to_owned(),
            RequestNotice::BadTypes => td_string!(locale, request_bad_types).to_owned(),
            RequestNotice::NameRequired => td_string!(locale, request_name_required).to_owned(),
            RequestNotice::NoteRequired => td_string!(locale, request_note_required).to_owned(),
            RequestNotice::WrongPassword => td_string!(locale, request_wrong_password).to_owned(),
            RequestNotice::BadLink => td_string!(locale, request_bad_link).to_owned(),
            RequestNotice::NotFound => td_string!(locale, request_not_found).to_owned(),
            RequestNotice::BadWebhook => td_string!(locale, request_bad_webhook).to_owned(),
        }
    }
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
            Notice::RequestClosed => td_string!(locale, request_closed).to_owned(),
            Notice::RequestFullFiles { left } => {
                td_string!(locale, request_full_files, count = left)
            }
            Notice::RequestFullBytes { left } => {
                td_string!(locale, request_full_bytes, size = format_size(*left))
            }
            #[cfg(feature = "ssr")]
            Notice::Request(notice) => notice.describe(locale),
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
    NotAnUpload,
    Request(RequestNotice),
    RequestClosed,
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
            PortalError::Invalid(Notice::NotAnUpload) => FormRefusal::NotAnUpload,
            #[cfg(feature = "ssr")]
            PortalError::Invalid(Notice::Request(notice)) => FormRefusal::Request(*notice),
            PortalError::Invalid(Notice::RequestClosed) => FormRefusal::RequestClosed,
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
            FormRefusal::NotAnUpload => Some(PortalError::Invalid(Notice::NotAnUpload)),
            #[cfg(feature = "ssr")]
            FormRefusal::Request(notice) => Some(PortalError::Invalid(Notice::Request(*notice))),
            #[cfg(not(feature = "ssr"))]
            FormRefusal::Request(_) => Some(PortalError::Internal),
            FormRefusal::RequestClosed => Some(PortalError::Invalid(Notice::RequestClosed)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
