//! Wire types that cross between the browser and the server: what the browser asks to upload,
//! the tickets the server signs, and the one error type. Nothing here is trusted on arrival.

use serde::{Deserialize, Serialize};

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

/// What the page needs to know about the server's upload rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSettings {
    pub default_folder: String,
    pub upload_root: String,
    pub max_file_size: u64,
    pub max_files: u32,
    pub parallel_uploads: u32,
    /// Allowed MIME types (`image/*` style patterns allowed); empty means any type.
    pub allowed_types: Vec<String>,
}

/// The one error that crosses the wire. Every message is safe to show to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    /// The request was refused; the message says why in plain words.
    #[error("{0}")]
    Invalid(String),
    /// The storage could not be reached.
    #[error("The storage is unavailable right now. Please try again in a moment.")]
    Unavailable,
    /// Something failed inside the server; the cause is in the server's log.
    #[error("Something went wrong on the server. Please try again.")]
    Internal,
    /// The request did not reach the server or its reply could not be read.
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl PortalError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            PortalError::Invalid(_) => 400,
            PortalError::Unavailable => 503,
            PortalError::Internal | PortalError::Transport(_) => 500,
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
                PortalError::Invalid("The request could not be read.".into())
            }
            other => PortalError::Transport(other.to_string()),
        }
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
    fn errors_carry_statuses() {
        assert_eq!(PortalError::Invalid("x".into()).status_code(), 400);
        assert_eq!(PortalError::Unavailable.status_code(), 503);
        assert_eq!(PortalError::Internal.status_code(), 500);
    }
}
