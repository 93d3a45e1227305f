//! The portal half of the configuration: the upload rules, who may sign in, the Host names, the
//! callback, the ledger's database and the rate limits.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{config_error, is_plain_loopback_url, url_authority, AccessKind, Config, ConfigError};
use crate::naming::{folder_under_root, normalize_folder};
use crate::server::bucket::BucketSettings;
use crate::server::portal::access::accounts;
use crate::server::portal::access::limits::LimitSettings;
use crate::server::portal::access::{AccessMode, AccessSettings};
use crate::server::portal::settings::Site;
use crate::server::portal::settings::{CallbackSettings, PhotoRules, UploadRules};
use crate::server::protocol::callback::{self, CallbackSpec};
use crate::server::protocol::{MAX_OBJECT_SIZE, MIN_PART_SIZE};

impl Config {
    pub(super) fn access_settings(
        &self,
        public_url: &str,
        rules: &UploadRules,
    ) -> Result<AccessSettings, ConfigError> {
        let loopback_only = self.reachable_from_loopback_only(public_url);
        let mode = match self.access {
            AccessKind::Open => {
                if !loopback_only && !self.force_open {
                    return Err(config_error(
                        "PORTAL_ACCESS",
                        "open access lets anyone who reaches the portal upload, and it is reachable \
                         from elsewhere (a non-loopback address, PORTAL_BEHIND_PROXY, or a \
                         PORTAL_PUBLIC_URL that is https or not loopback): use codes or users, or \
                         set PORTAL_FORCE_OPEN=true",
                    ));
                }
                // The admin pages only where nobody else can reach them.
                AccessMode::Open {
                    admin: loopback_only,
                }
            }
            AccessKind::Codes => AccessMode::Codes(
                accounts::parse_codes(&self.access_codes)
                    .map_err(|e| config_error("PORTAL_ACCESS_CODES", e))?,
            ),
            AccessKind::Users => {
                let path = self.users_file.as_ref().ok_or_else(|| {
                    config_error("PORTAL_USERS_FILE", "required when PORTAL_ACCESS=users")
                })?;
                AccessMode::Users(
                    accounts::load_users(path, &rules.upload_root)
                        .map_err(|e| config_error("PORTAL_USERS_FILE", e))?,
                )
            }
        };
        if !(60..=90 * 24 * 3600).contains(&self.session_ttl) {
            return Err(config_error(
                "PORTAL_SESSION_TTL",
                "must be between 60 seconds and 90 days",
            ));
        }
        Ok(AccessSettings {
            mode,
            session_ttl: self.session_ttl as i64,
            secure_cookies: public_url.starts_with("https://"),
            behind_proxy: self.behind_proxy,
            upload_root: rules.upload_root.clone(),
            requests: self.requests,
            webhooks_to_private: self.webhook_allow_private,
        })
    }

    /// Whether only this machine can reach the portal: it listens on loopback, no proxy
    /// forwards to it, and its public URL is a plain-http loopback one.
    fn reachable_from_loopback_only(&self, public_url: &str) -> bool {
        self.site_addr.ip().is_loopback() && !self.behind_proxy && is_plain_loopback_url(public_url)
    }

    /// The Host names the portal answers to: the public URL's, on loopback also `localhost`,
    /// `127.0.0.1` and `[::1]` with its port, and PORTAL_HOSTS.
    pub(super) fn site(&self, public_url: &str) -> Result<Site, ConfigError> {
        let mut hosts = vec![url_authority(public_url)];
        if self.site_addr.ip().is_loopback() {
            let port = self.site_addr.port();
            hosts.extend([
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ]);
        }
        for host in &self.hosts {
            let host = host.trim().to_ascii_lowercase();
            if host.is_empty() {
                continue;
            }
            if host.contains(['/', ' ', '@']) || host.contains("://") {
                return Err(config_error(
                    "PORTAL_HOSTS",
                    "each entry is a host name or host:port, without a scheme or path",
                ));
            }
            hosts.push(host);
        }
        hosts.dedup();
        Ok(Site {
            hosts,
            https: public_url.starts_with("https://"),
        })
    }

    pub(super) fn callback_settings(
        &self,
        local: Option<&BucketSettings>,
    ) -> Result<Option<CallbackSettings>, ConfigError> {
        let Some(url) = self.callback_url.clone() else {
            return Ok(None);
        };
        let spec = CallbackSpec {
            callback_url: url.trim().to_owned(),
            callback_host: None,
            callback_body: self.callback_body.clone(),
            callback_body_type: Some(self.callback_body_type.trim().to_owned()),
        };
        if spec.urls().len() != 1
            || reqwest::Url::parse(&spec.callback_url)
                .map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        {
            return Err(config_error(
                "OSS_CALLBACK_URL",
                "must be one http or https URL",
            ));
        }
        if !matches!(spec.body_type(), callback::FORM | callback::JSON) {
            return Err(config_error(
                "OSS_CALLBACK_BODY_TYPE",
                "must be application/x-www-form-urlencoded or application/json",
            ));
        }
        spec.check()
            .map_err(|problem| config_error("OSS_CALLBACK_BODY", problem))?;
        // The portal completes an upload from a callback only through the ticket it pinned,
        // with the object's real key, size and ETag.
        for variable in ["${object}", "${etag}", "${size}", "${x:ticket}"] {
            if !spec.callback_body.contains(variable) {
                return Err(config_error(
                    "OSS_CALLBACK_BODY",
                    format!("must carry {variable} (as object, etag, size and ticket)"),
                ));
            }
        }
        let mut allowed_key_urls: Vec<String> = self
            .callback_key_urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        // A key fetched over plain http could be swapped on the way: only a loopback one.
        if let Some(plain) = allowed_key_urls
            .iter()
            .find(|u| !(u.starts_with("https://") || is_plain_loopback_url(u)))
        {
            return Err(config_error(
                "OSS_CALLBACK_KEY_URLS",
                format!("{plain} must be an https URL (plain http only on loopback)"),
            ));
        }
        if let Some(local) = local {
            allowed_key_urls.push(local.callback_public_key_url.clone());
        }
        Ok(Some(CallbackSettings {
            spec,
            allowed_key_urls,
        }))
    }

    /// The ledger's database: DATABASE_URL, or SQLite in the data folder.
    pub(super) fn database_url(&self) -> Result<SecretString, ConfigError> {
        match &self.database_url {
            Some(url) => {
                let text = url.expose_secret().trim();
                if !(text.starts_with("sqlite:")
                    || text.starts_with("postgres://")
                    || text.starts_with("postgresql://"))
                {
                    return Err(config_error(
                        "DATABASE_URL",
                        "must start with sqlite: or postgres://",
                    ));
                }
                Ok(url.clone())
            }
            None => Ok(SecretString::from(format!(
                "sqlite://{}",
                self.data_dir.join("ledger.sqlite").display()
            ))),
        }
    }

    pub(super) fn limit_settings(&self) -> Result<LimitSettings, ConfigError> {
        if self.max_pending != 0 && self.max_pending < u64::from(self.max_files) {
            return Err(config_error(
                "PORTAL_MAX_PENDING",
                "must be 0 (no limit) or at least PORTAL_MAX_FILES",
            ));
        }
        Ok(LimitSettings {
            sign_rate: self.sign_rate,
            login_rate: self.login_rate,
            daily_bytes: self.daily_bytes,
            max_pending: self.max_pending,
        })
    }

    pub(super) fn upload_rules(&self) -> Result<UploadRules, ConfigError> {
        let upload_root = normalize_folder(&self.upload_root)
            .map_err(|e| config_error("PORTAL_UPLOAD_ROOT", format!("the folder {e}")))?;
        let default_folder = match &self.default_folder {
            Some(folder) => folder_under_root(folder, &upload_root)
                .map_err(|e| config_error("PORTAL_DEFAULT_FOLDER", format!("the folder {e}")))?,
            None => upload_root.clone(),
        };
        if self.max_file_size == 0 || self.max_file_size > MAX_OBJECT_SIZE {
            return Err(config_error(
                "PORTAL_MAX_FILE_SIZE",
                "must be between 1 byte and 5 GiB",
            ));
        }
        if !(1..=1000).contains(&self.max_files) {
            return Err(config_error(
                "PORTAL_MAX_FILES",
                "must be between 1 and 1000",
            ));
        }
        if !(1..=16).contains(&self.parallel_uploads) {
            return Err(config_error(
                "PORTAL_PARALLEL_UPLOADS",
                "must be between 1 and 16",
            ));
        }
        if !(MIN_PART_SIZE..=MAX_OBJECT_SIZE).contains(&self.part_size) {
            return Err(config_error(
                "PORTAL_PART_SIZE",
                "must be between 100KiB and 5GiB",
            ));
        }
        if self.multipart_threshold != 0 && self.multipart_threshold < self.part_size {
            return Err(config_error(
                "PORTAL_MULTIPART_THRESHOLD",
                "must be 0 (off) or at least PORTAL_PART_SIZE",
            ));
        }
        if !(60..=365 * 24 * 3600).contains(&self.multipart_expiry) {
            return Err(config_error(
                "PORTAL_MULTIPART_EXPIRY",
                "must be between 60 seconds and a year",
            ));
        }
        if self.upload_retries > 20 {
            return Err(config_error(
                "PORTAL_UPLOAD_RETRIES",
                "must be between 0 and 20",
            ));
        }
        if !(10..=7 * 24 * 3600).contains(&self.policy_ttl) {
            return Err(config_error(
                "PORTAL_POLICY_TTL",
                "must be between 10 seconds and 7 days",
            ));
        }
        let allowed_types: Vec<String> = self
            .allowed_types
            .iter()
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(bad) = allowed_types.iter().find(|t| !is_type_pattern(t)) {
            return Err(config_error(
                "PORTAL_ALLOWED_TYPES",
                format!("{bad:?} is not a MIME type like image/png or image/*"),
            ));
        }
        if !(0.1..=1.0).contains(&self.photo_quality) {
            return Err(config_error(
                "PORTAL_PHOTO_QUALITY",
                format!("{} is not between 0.1 and 1", self.photo_quality),
            ));
        }
        Ok(UploadRules {
            portal_url: String::new(),
            upload_root,
            default_folder,
            max_file_size: self.max_file_size,
            max_files: self.max_files,
            parallel_uploads: self.parallel_uploads,
            upload_retries: self.upload_retries,
            strip_location: self.strip_location,
            photos: PhotoRules {
                starts_smaller: self.photo_size == super::PhotoSizeKind::Smaller,
                choice: self.photo_size_choice,
                max_edge: self.photo_max_edge,
                quality_percent: (self.photo_quality * 100.0).round() as u8,
            },
            multipart_threshold: self.multipart_threshold,
            part_size: self.part_size,
            multipart_expiry: Duration::from_secs(self.multipart_expiry),
            allowed_types,
            policy_ttl: Duration::from_secs(self.policy_ttl),
        })
    }
}

/// `type/subtype` or `type/*`, lower-case tokens.
fn is_type_pattern(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match text.split_once('/') {
        Some((kind, "*")) => token(kind),
        Some((kind, sub)) => token(kind) && token(sub),
        None => false,
    }
}
