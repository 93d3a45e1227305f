//! What configuration hands the portal, checked: where it listens, its bucket, its ledger, who
//! may upload and the rules every upload follows. Nothing here can be in an impossible state.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use super::access::limits::LimitSettings;
use super::access::AccessSettings;
use super::storage::TargetSettings;
use crate::server::protocol::callback::CallbackSpec;

/// Everything the portal runs on.
#[derive(Clone, Debug)]
pub struct PortalSettings {
    pub addr: SocketAddr,
    pub target: TargetSettings,
    /// The ledger's database URL (may hold a password).
    pub database_url: SecretString,
    pub access: AccessSettings,
    pub limits: LimitSettings,
    /// Set when uploads end with a callback to the portal.
    pub callback: Option<CallbackSettings>,
    pub rules: UploadRules,
    /// The Host names the portal answers to, and whether it is served over https.
    pub site: Site,
}

/// How the uploader's "Photo size" works: what it starts at, whether the reader may change
/// it, and what "Smaller" means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhotoRules {
    pub starts_smaller: bool,
    pub choice: bool,
    /// The longest edge of a smaller photo, in pixels.
    pub max_edge: u32,
    /// JPEG and WebP quality of a smaller photo, in percent.
    pub quality_percent: u8,
}

/// The configuration's defaults (PORTAL_PHOTO_*), for tests' rules.
#[cfg(test)]
impl Default for PhotoRules {
    /// Original, with the choice shown; smaller is 2560 px at quality 0.85.
    fn default() -> Self {
        PhotoRules {
            starts_smaller: false,
            choice: true,
            max_edge: 2560,
            quality_percent: 85,
        }
    }
}

/// The rules every signed upload follows.
#[derive(Clone, Debug)]
pub struct UploadRules {
    /// The portal's URL as browsers reach it, without a trailing `/`.
    pub portal_url: String,
    pub upload_root: String,
    pub default_folder: String,
    pub max_file_size: u64,
    pub max_files: u32,
    pub parallel_uploads: u32,
    pub upload_retries: u32,
    /// The uploader's "Remove location from photos" starts ticked.
    pub strip_location: bool,
    pub photos: PhotoRules,
    /// 0 when multipart is off.
    pub multipart_threshold: u64,
    pub part_size: u64,
    pub multipart_expiry: Duration,
    pub allowed_types: Vec<String>,
    pub policy_ttl: Duration,
}

#[cfg(test)]
impl UploadRules {
    /// Small rules for unit tests: 1000-byte files, three a batch, images and PDFs.
    pub fn example() -> Self {
        UploadRules {
            upload_root: "uploads/".into(),
            default_folder: "uploads/".into(),
            max_file_size: 1000,
            max_files: 3,
            parallel_uploads: 3,
            upload_retries: 5,
            strip_location: false,
            photos: PhotoRules::default(),
            multipart_threshold: 0,
            part_size: 8 << 20,
            multipart_expiry: Duration::from_secs(3600),
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            portal_url: "http://portal.test".into(),
            policy_ttl: Duration::from_secs(300),
        }
    }
}

/// The upload callback every ticket asks for, and the key URLs the portal trusts.
#[derive(Clone, Debug)]
pub struct CallbackSettings {
    pub spec: CallbackSpec,
    pub allowed_key_urls: Vec<String>,
}

/// Who the portal answers to: the `Host` names it is reached by (lower-case `host[:port]`),
/// and whether it is served over https.
#[derive(Clone, Debug)]
pub struct Site {
    pub hosts: Vec<String>,
    pub https: bool,
}

impl Site {
    /// Whether `authority` (a `Host` header, or an `Origin`'s host) names this portal.
    pub fn is_own(&self, authority: &str) -> bool {
        let authority = authority.trim().to_ascii_lowercase();
        self.hosts.contains(&authority)
    }

    /// Whether an `Origin` header is this portal's own.
    pub fn is_own_origin(&self, origin: &str) -> bool {
        match origin.split_once("://") {
            Some(("http" | "https", authority)) => self.is_own(authority),
            _ => false,
        }
    }
}
