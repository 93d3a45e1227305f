//! Upload requests: a link (and its QR code) through which anyone sends files into a folder of
//! its creator's, under the request's limits. The rules are plain functions; the rows live in
//! `ledger/requests.rs`, the live arrivals in `arrivals.rs`.

pub mod announce;
pub mod arrivals;
pub mod creating;
pub mod delivery;
pub mod form;
pub mod links;
pub mod sending;
pub mod webhook;

pub use links::{is_link_token, is_request_id, token_hash, LinkKey};

use crate::error::{Notice, PortalError, RequestNotice};
use crate::model::{type_allowed, FileSpec, NamingMode, RequestState, Viewer};

/// The longest sender name and note kept (bytes).
pub const MAX_SENDER_NAME: usize = 100;
pub const MAX_SENDER_NOTE: usize = 1000;

/// One upload request, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRequest {
    pub id: String,
    pub creator: String,
    pub title: String,
    pub instructions: String,
    /// The folder files arrive in (inside the creator's root; ends in `/`).
    pub folder: String,
    pub naming: NamingMode,
    pub created_at: i64,
    pub expires_at: i64,
    pub closed_at: Option<i64>,
    /// 0: no limit beyond the portal's own.
    pub max_files: u64,
    pub max_file_size: u64,
    pub max_total_bytes: u64,
    /// `image/*`, `application/pdf`, `.pdf`; empty: any the portal takes.
    pub allowed_types: Vec<String>,
    /// Argon2 PHC string; empty when the request has no password.
    pub password_hash: String,
    pub ask_name: bool,
    pub ask_note: bool,
    /// Each sender's files go into a sub-folder named after them.
    pub sender_folders: bool,
    /// Where each arrival is POSTed (empty: nowhere), and as what.
    pub webhook_url: String,
    pub webhook_kind: webhook::WebhookKind,
    /// How the last delivery went, and when (0: never tried).
    pub webhook_status: String,
    pub webhook_at: i64,
}

impl UploadRequest {
    pub fn state(&self, now: i64) -> RequestState {
        if self.closed_at.is_some() {
            RequestState::Closed
        } else if now >= self.expires_at {
            RequestState::Expired
        } else {
            RequestState::Open
        }
    }

    /// Where it stands on a portal where requests are `enabled` (off: every one is closed).
    pub fn state_on(&self, enabled: bool, now: i64) -> RequestState {
        if enabled {
            self.state(now)
        } else {
            RequestState::Closed
        }
    }

    /// Refused unless the request takes files now (on a portal where requests are `enabled`).
    pub fn open_at(&self, enabled: bool, now: i64) -> Result<(), PortalError> {
        match self.state_on(enabled, now) {
            RequestState::Open => Ok(()),
            _ => Err(PortalError::Invalid(Notice::RequestClosed)),
        }
    }
}

/// What has arrived through a request so far: stored files, and tickets that may still store
/// one (an unused ticket is forgotten by the sweep once it expires).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    pub files: u64,
    pub bytes: u64,
}

/// Whether `files` fit the request's rules, after what it already `received`: each file's size
/// and type, and the count and bytes across every sender. `max_file_size` of the portal still
/// applies separately (the tickets' own checks).
pub fn check_files(
    request: &UploadRequest,
    received: Received,
    files: &[FileSpec],
) -> Result<(), PortalError> {
    for file in files {
        if request.max_file_size > 0 && file.size > request.max_file_size {
            return Err(PortalError::Invalid(Notice::TooLarge {
                name: file.name.clone(),
                size: file.size,
                max: request.max_file_size,
            }));
        }
        let content_type =
            crate::server::protocol::content::object_type(&file.name, &file.content_type);
        if !type_matches(&request.allowed_types, &file.name, &content_type) {
            return Err(PortalError::Invalid(Notice::TypeRefused {
                name: file.name.clone(),
                content_type,
                allowed: request.allowed_types.clone(),
            }));
        }
    }
    let count = files.len() as u64;
    let bytes = files.iter().map(|f| f.size).fold(0u64, u64::saturating_add);
    let files_over =
        request.max_files > 0 && received.files.saturating_add(count) > request.max_files;
    let bytes_over = request.max_total_bytes > 0
        && received.bytes.saturating_add(bytes) > request.max_total_bytes;
    if files_over {
        return Err(PortalError::Invalid(Notice::RequestFullFiles {
            left: request.max_files.saturating_sub(received.files),
        }));
    }
    if bytes_over {
        return Err(PortalError::Invalid(Notice::RequestFullBytes {
            left: request.max_total_bytes.saturating_sub(received.bytes),
        }));
    }
    Ok(())
}

/// A type rule matches by MIME type (`image/*`, `application/pdf`) or by extension (`.pdf`).
pub fn type_matches(rules: &[String], name: &str, content_type: &str) -> bool {
    if rules.is_empty() {
        return true;
    }
    let (extensions, types): (Vec<String>, Vec<String>) =
        rules.iter().cloned().partition(|r| r.starts_with('.'));
    let lower = name.to_lowercase();
    extensions.iter().any(|ext| lower.ends_with(ext.as_str()))
        || (!types.is_empty() && type_allowed(&types, content_type))
}

/// Someone sending through a request: the request, and their name and note.
#[derive(Clone, Debug)]
pub struct Sender {
    pub request: UploadRequest,
    pub name: String,
    pub note: String,
}

impl Sender {
    /// Who signs for a sender: the creator (their quota, their ledger), rooted at the request's
    /// folder (and the sender's own sub-folder when the request says so). Not signed in: the
    /// rate limit counts the sender's address, and nothing else of the creator's is reachable.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            name: self.request.creator.clone(),
            root: self.folder(),
            admin: false,
            signed_in: false,
        }
    }

    /// Where this sender's files go.
    pub fn folder(&self) -> String {
        if self.request.sender_folders && !self.name.is_empty() {
            let own = self.name.replace(['/', '\\'], "-");
            match crate::naming::normalize_folder(&format!("{}{own}", self.request.folder)) {
                Ok(folder) if folder.starts_with(&self.request.folder) => folder,
                _ => self.request.folder.clone(),
            }
        } else {
            self.request.folder.clone()
        }
    }
}

/// A sender's name or note: trimmed, one line for a name, no control characters, bounded.
pub fn sender_text(text: &str, max: usize, one_line: bool) -> Result<String, RequestNotice> {
    let text = text.trim();
    if text.len() > max {
        return Err(RequestNotice::TooLong { max: max as u32 });
    }
    let bad = |c: char| c.is_control() && (one_line || !matches!(c, '\n' | '\r' | '\t'));
    if text.chars().any(bad) {
        return Err(RequestNotice::ControlCharacters);
    }
    Ok(text.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> UploadRequest {
        UploadRequest {
            id: "0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
            creator: "alice".into(),
            title: "Trip photos".into(),
            instructions: String::new(),
            folder: "uploads/alice/trip/".into(),
            naming: NamingMode::Original,
            created_at: 0,
            expires_at: 1000,
            closed_at: None,
            max_files: 3,
            max_file_size: 100,
            max_total_bytes: 250,
            allowed_types: vec!["image/*".into(), ".pdf".into()],
            password_hash: String::new(),
            ask_name: true,
            ask_note: false,
            sender_folders: false,
            webhook_url: String::new(),
            webhook_kind: webhook::WebhookKind::Json,
            webhook_status: String::new(),
            webhook_at: 0,
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
    fn a_request_is_open_until_it_expires_or_is_closed() {
        let mut request = sample();
        assert_eq!(request.state(999), RequestState::Open);
        assert_eq!(request.state(1000), RequestState::Expired);
        assert!(request.open_at(true, 1000).is_err());
        assert!(request.open_at(true, 999).is_ok());
        assert!(request.open_at(false, 999).is_err());
        request.closed_at = Some(5);
        assert_eq!(request.state(10), RequestState::Closed);
    }

    #[test]
    fn files_are_held_to_the_request_across_senders() {
        let request = sample();
        let none = Received::default();
        assert!(check_files(&request, none, &[file("a.jpg", 100, "image/jpeg")]).is_ok());
        assert!(check_files(&request, none, &[file("a.PDF", 1, "")]).is_ok());
        assert!(matches!(
            check_files(&request, none, &[file("a.jpg", 101, "image/jpeg")]),
            Err(PortalError::Invalid(Notice::TooLarge { max: 100, .. }))
        ));
        assert!(matches!(
            check_files(&request, none, &[file("a.html", 1, "text/html")]),
            Err(PortalError::Invalid(Notice::TypeRefused { .. }))
        ));
        // Two already in: one more fits, two do not.
        let two = Received {
            files: 2,
            bytes: 20,
        };
        assert!(check_files(&request, two, &[file("c.jpg", 1, "image/png")]).is_ok());
        assert_eq!(
            check_files(
                &request,
                two,
                &[file("c.jpg", 1, "image/png"), file("d.jpg", 1, "image/png")]
            ),
            Err(PortalError::Invalid(Notice::RequestFullFiles { left: 1 }))
        );
        // Bytes across senders.
        let heavy = Received {
            files: 1,
            bytes: 200,
        };
        assert_eq!(
            check_files(&request, heavy, &[file("c.jpg", 51, "image/png")]),
            Err(PortalError::Invalid(Notice::RequestFullBytes { left: 50 }))
        );
        assert!(check_files(&request, heavy, &[file("c.jpg", 50, "image/png")]).is_ok());
    }

    #[test]
    fn sender_texts_are_bounded_and_clean() {
        assert_eq!(sender_text("  Li Lei ", 100, true).unwrap(), "Li Lei");
        assert!(sender_text("a\nb", 100, true).is_err());
        assert_eq!(sender_text("a\r\nb", 100, false).unwrap(), "a\nb");
        assert!(sender_text("a\u{7}", 100, false).is_err());
        assert!(sender_text(&"x".repeat(101), 100, true).is_err());
    }

    #[test]
    fn a_sender_folder_stays_inside_the_request() {
        let mut sender = Sender {
            request: sample(),
            name: "../Li/Lei".into(),
            note: String::new(),
        };
        assert_eq!(sender.folder(), "uploads/alice/trip/");
        sender.request.sender_folders = true;
        assert_eq!(sender.folder(), "uploads/alice/trip/..-Li-Lei/");
        sender.name = "..".into();
        assert_eq!(sender.folder(), "uploads/alice/trip/");
        assert_eq!(sender.viewer().root, "uploads/alice/trip/");
        assert!(!sender.viewer().signed_in);
    }
}
