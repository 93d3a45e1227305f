//! One picked file as the engine and the list both see it: its status (written by the engine,
//! shown by the list), its progress signal, and the handle that cancels its work.

use std::sync::{Arc, Mutex};

use futures::future::{AbortHandle, AbortRegistration};
use leptos::prelude::*;

use crate::i18n::{td_string, Locale};
use crate::upload::problem::Problem;

/// A word on a stored file from the upload callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// Our portal recorded the upload (said in the reader's language).
    Recorded,
    /// Another app server's own message.
    Said(String),
    /// Stored, but the callback failed (the bucket's message).
    NotNotified(String),
    /// Sent from the reader's phone ("Continue on phone"), not from this page.
    FromPhone,
}

/// Where one file's upload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowStatus {
    Queued,
    /// A photo being redrawn smaller before it goes up ("Photo size: Smaller").
    Shrinking,
    Uploading,
    /// Not stored yet, and the engine will try again: after `retry_in` seconds, or (offline)
    /// when the network is back. `attempt` of `attempts` is the one to come.
    Waiting {
        problem: Problem,
        retry_in: Option<u32>,
        attempt: u32,
        attempts: u32,
    },
    /// Every byte sent in parts; the bucket is putting them together (a large file can take a
    /// while, with the bar full).
    Finishing,
    Done {
        key: String,
        url: String,
        etag: String,
        /// What the app server said through the upload callback, if one ran.
        note: Option<Note>,
        /// The page's MD5 of the file equals the bucket's ETag.
        verified: bool,
    },
    Failed(Problem),
    /// Stopped by the user; nothing of it is stored.
    Cancelled,
    /// Listed from the journal of a batch a reload cut short: not stored, and the page no
    /// longer holds the file. Picking it again queues it.
    Missing,
}

impl RowStatus {
    /// The state's name, for styling and tests (`data-state`).
    pub fn label(&self) -> &'static str {
        match self {
            RowStatus::Queued => "queued",
            RowStatus::Shrinking => "shrinking",
            RowStatus::Uploading => "uploading",
            RowStatus::Waiting { .. } => "waiting",
            RowStatus::Finishing => "finishing",
            RowStatus::Done { .. } => "done",
            RowStatus::Failed(_) => "failed",
            RowStatus::Cancelled => "cancelled",
            RowStatus::Missing => "missing",
        }
    }

    /// The state in the reader's language.
    pub fn shown(&self, locale: Locale) -> &'static str {
        match self {
            RowStatus::Queued => td_string!(locale, state_queued),
            RowStatus::Shrinking => td_string!(locale, state_shrinking),
            RowStatus::Uploading => td_string!(locale, state_uploading),
            RowStatus::Waiting { .. } => td_string!(locale, state_waiting),
            RowStatus::Finishing => td_string!(locale, state_finishing),
            RowStatus::Done { .. } => td_string!(locale, state_done),
            RowStatus::Failed(_) => td_string!(locale, state_failed),
            RowStatus::Cancelled => td_string!(locale, state_cancelled),
            RowStatus::Missing => td_string!(locale, state_missing),
        }
    }

    /// Pending, and not yet with the bucket putting its parts together (it may be stored
    /// already): Cancel still stops it.
    pub fn cancellable(&self) -> bool {
        self.is_pending() && !matches!(self, RowStatus::Finishing)
    }

    /// Queued, being made smaller, uploading, waiting to try again or finishing: the engine
    /// holds it.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            RowStatus::Queued
                | RowStatus::Shrinking
                | RowStatus::Uploading
                | RowStatus::Waiting { .. }
                | RowStatus::Finishing
        )
    }
}

/// The extension of a picked file's name as typed (`HEIC` of `IMG_1.HEIC`): ASCII letters and
/// digits, 4 at most; empty for none. Byte loops, not `&str` patterns: the page's WASM carries
/// no substring searcher for it.
pub fn extension_of(name: &str) -> &str {
    let bytes = name.as_bytes();
    match bytes.iter().rposition(|&b| b == b'.') {
        Some(dot)
            if dot > 0
                && (1..=4).contains(&(bytes.len() - dot - 1))
                && bytes[dot + 1..].iter().all(u8::is_ascii_alphanumeric) =>
        {
            &name[dot + 1..]
        }
        _ => "",
    }
}

/// One picked file in the list, with its own signals so that progress events re-render only
/// its bar.
#[derive(Clone, Debug)]
pub struct UploadRow {
    pub id: u32,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// `File.lastModified`, to recognise the same file picked twice.
    pub modified: f64,
    /// An object URL of the picked image, for its thumbnail (a type the browser can show).
    pub preview: Option<String>,
    pub progress: ArcRwSignal<u8>,
    pub status: ArcRwSignal<RowStatus>,
    /// Stops the engine's work on this file (aborting its request) when cancelled.
    cancel: Arc<Mutex<Option<AbortHandle>>>,
}

impl UploadRow {
    pub fn new(id: u32, name: String, size: u64, content_type: String, modified: f64) -> Self {
        UploadRow {
            id,
            name,
            size,
            content_type,
            modified,
            preview: None,
            progress: ArcRwSignal::new(0),
            status: ArcRwSignal::new(RowStatus::Queued),
            cancel: Arc::default(),
        }
    }

    /// Queues the row for a run of the engine, which wraps its work in the registration.
    pub fn arm(&self) -> AbortRegistration {
        let (handle, registration) = AbortHandle::new_pair();
        if let Some(old) = self.cancel.lock().expect("one thread").replace(handle) {
            old.abort();
        }
        self.progress.set(0);
        self.status.set(RowStatus::Queued);
        registration
    }

    /// Stops the row's upload, if it has not ended: its request is aborted, nothing is stored.
    /// A file the bucket is already putting together is not stopped (it may be stored already).
    pub fn cancel(&self) {
        if !self.status.get_untracked().cancellable() {
            return;
        }
        if let Some(handle) = self.cancel.lock().expect("one thread").take() {
            handle.abort();
        }
        self.progress.set(0);
        self.status.set(RowStatus::Cancelled);
    }
}

#[cfg(test)]
mod tests {
    use super::{extension_of, RowStatus};
    use crate::upload::problem::Problem;

    #[test]
    fn cancel_stops_what_the_bucket_is_not_yet_putting_together() {
        for status in [
            RowStatus::Queued,
            RowStatus::Shrinking,
            RowStatus::Uploading,
        ] {
            assert!(status.cancellable(), "{status:?}");
        }
        let waiting = RowStatus::Waiting {
            problem: Problem::Offline,
            retry_in: None,
            attempt: 2,
            attempts: 6,
        };
        assert!(waiting.cancellable());
        assert!(RowStatus::Finishing.is_pending());
        assert!(!RowStatus::Finishing.cancellable());
        assert!(!RowStatus::Cancelled.cancellable());
        assert!(!RowStatus::Missing.cancellable());
        assert!(!RowStatus::Missing.is_pending());
        assert!(!RowStatus::Failed(Problem::Offline).cancellable());
    }

    #[test]
    fn extensions_are_short_and_plain() {
        for (name, extension) in [
            ("IMG_1.HEIC", "HEIC"),
            ("a.jpeg", "jpeg"),
            ("archive.tar.gz", "gz"),
            ("README", ""),
            (".bashrc", ""),
            ("trailing.", ""),
            ("x.longer", ""),
            ("照片.jpg", "jpg"),
            ("a.j p", ""),
        ] {
            assert_eq!(extension_of(name), extension, "{name}");
        }
    }
}
