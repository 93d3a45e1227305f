//! Configuration, read once at start from the environment (and `.env`) or flags, and checked
//! before anything starts: a bad or missing value stops the portal with its variable's name.
//! `validate` hands each wing its own typed settings: the portal's, and the embedded bucket's.

mod portal;
mod storage;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::bucket::BucketSettings;
use super::portal::settings::UploadRules;
use super::portal::storage::{Store, UrlStyle};
use super::portal::PortalSettings;
use super::protocol::signing::SignatureVersion;

/// Where uploads are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// The embedded OSS-compatible bucket, run by this binary.
    Local,
    /// Alibaba Cloud OSS.
    Oss,
    /// An S3-compatible store.
    S3,
}

/// Who may upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccessKind {
    /// Nobody signs in (only when nobody but this machine reaches the portal, unless
    /// PORTAL_FORCE_OPEN=true).
    Open,
    /// Shared access codes.
    Codes,
    /// Accounts from a users file.
    Users,
}

/// What the uploader's "Photo size" starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PhotoSizeKind {
    /// Photos go up as they are.
    Original,
    /// JPEG, PNG and WebP photos larger than PORTAL_PHOTO_MAX_EDGE are redrawn smaller in the
    /// browser before they go up.
    Smaller,
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "upload-portal",
    args_override_self = true,
    version,
    about = "Upload files from the browser straight to OSS or S3 with server-signed policies.",
    after_help = "Every option can also be set in the environment or in a .env file (see .env.example).\n\
                  RUST_LOG sets the log filter (default: info)."
)]
pub struct Config {
    /// Address the portal listens on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,
    /// The portal's URL as browsers reach it [default: http://<site-addr>].
    #[arg(long, env = "PORTAL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Other host names (host or host:port) browsers reach the portal by, comma-separated;
    /// requests for any other Host are refused [default: the public URL's, and localhost
    /// names on a loopback address].
    #[arg(long, env = "PORTAL_HOSTS", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Where uploads go.
    #[arg(long, env = "PORTAL_TARGET", value_enum, default_value_t = TargetKind::Local)]
    pub target: TargetKind,
    /// Bucket name [default for local: portal-dev].
    #[arg(long, env = "PORTAL_BUCKET")]
    pub bucket: Option<String>,
    /// local: address the embedded bucket listens on.
    #[arg(long, env = "PORTAL_BUCKET_ADDR", default_value = "127.0.0.1:9300")]
    pub bucket_addr: SocketAddr,
    /// local: the embedded bucket's URL as browsers reach it [default: http://<bucket-addr>/].
    #[arg(long, env = "PORTAL_BUCKET_URL")]
    pub bucket_url: Option<String>,
    /// local: comma-separated origins allowed to upload cross-origin [default: the portal's URL].
    #[arg(long, env = "PORTAL_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// local: folder that holds the embedded bucket's objects.
    #[arg(long, env = "PORTAL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// oss: endpoint host, e.g. oss-cn-hangzhou.aliyuncs.com [default: from OSS_REGION].
    #[arg(long, env = "OSS_ENDPOINT")]
    pub oss_endpoint: Option<String>,
    /// Region, e.g. cn-hangzhou (oss: V4 needs it; local: the embedded bucket's) [local default: local].
    #[arg(long, env = "OSS_REGION")]
    pub oss_region: Option<String>,
    /// STS: the RAM role to assume; when set, policies are signed with temporary credentials.
    #[arg(long, env = "OSS_STS_ROLE_ARN")]
    pub sts_role_arn: Option<String>,
    /// STS: the endpoint AssumeRole is sent to [default: https://sts.aliyuncs.com/, or the local STS].
    #[arg(long, env = "OSS_STS_ENDPOINT")]
    pub sts_endpoint: Option<String>,
    /// STS: how long temporary credentials live, in seconds (900-43200).
    #[arg(long, env = "OSS_STS_DURATION", default_value_t = 3600)]
    pub sts_duration: u32,
    /// STS: the role session name (2-64 of A-Z a-z 0-9 . @ _ -).
    #[arg(long, env = "OSS_STS_SESSION_NAME", default_value = "upload-portal")]
    pub sts_session_name: String,
    /// local: also run an STS-compatible endpoint at this address, issuing keys the embedded bucket accepts.
    #[arg(long, env = "PORTAL_LOCAL_STS_ADDR")]
    pub local_sts_addr: Option<SocketAddr>,
    /// s3: the store's endpoint URL, e.g. http://127.0.0.1:3900 or https://s3.eu-west-1.amazonaws.com.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// s3: region in the SigV4 credential scope.
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// s3: bucket addressing, path (endpoint/bucket/key) or virtual-host (bucket.endpoint/key).
    #[arg(long, env = "S3_URL_STYLE", value_enum, default_value_t = UrlStyle::Path)]
    pub s3_url_style: UrlStyle,
    /// s3: session token for temporary credentials (sent as x-amz-security-token). Never printed.
    #[arg(long, env = "S3_SESSION_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub s3_session_token: Option<SecretString>,
    /// s3: how long the presigned links to uploaded objects work, in seconds (at most 7 days).
    #[arg(long, env = "PORTAL_LINK_TTL", default_value_t = 86400)]
    pub link_ttl: u64,
    /// Upload callback: the portal's callback URL as the bucket reaches it; unset disables callbacks.
    #[arg(long, env = "OSS_CALLBACK_URL")]
    pub callback_url: Option<String>,
    /// Upload callback: the body template, with ${bucket} ${object} ${etag} ${size} ${mimeType} and ${x:ticket}.
    #[arg(
        long,
        env = "OSS_CALLBACK_BODY",
        default_value = "bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&ticket=${x:ticket}"
    )]
    pub callback_body: String,
    /// Upload callback: application/x-www-form-urlencoded or application/json.
    #[arg(
        long,
        env = "OSS_CALLBACK_BODY_TYPE",
        default_value = "application/x-www-form-urlencoded"
    )]
    pub callback_body_type: String,
    /// Upload callback: comma-separated public-key URLs (or prefixes ending in /) trusted besides Alibaba's.
    #[arg(long, env = "OSS_CALLBACK_KEY_URLS", value_delimiter = ',')]
    pub callback_key_urls: Vec<String>,
    /// local: the public-key URL the embedded bucket names in its callbacks [default: <bucket URL>?callback-public-key, where it serves the key].
    #[arg(long, env = "PORTAL_CALLBACK_PUBLIC_KEY_URL")]
    pub callback_public_key_url: Option<String>,
    /// local: PEM file of the embedded bucket's callback-signing RSA key [default: generated in the data folder].
    #[arg(long, env = "PORTAL_CALLBACK_KEY_FILE")]
    pub callback_key_file: Option<PathBuf>,
    /// The upload ledger's database: sqlite:<file> or postgres://... [default: sqlite:<data-dir>/ledger.sqlite]. Never printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = parse_secret)]
    pub database_url: Option<SecretString>,
    /// Who may upload: open (no sign-in; only when nobody but this machine reaches the portal,
    /// unless forced), codes (PORTAL_ACCESS_CODES) or users (PORTAL_USERS_FILE).
    #[arg(long, env = "PORTAL_ACCESS", value_enum, default_value_t = AccessKind::Open)]
    pub access: AccessKind,
    /// Allow open access where others reach the portal (anyone who does can upload; no admin page).
    #[arg(long, env = "PORTAL_FORCE_OPEN", default_value_t = false, action = clap::ArgAction::Set)]
    pub force_open: bool,
    /// codes: comma-separated access codes, each `label=code` or a bare code (8+ characters). Never printed.
    #[arg(long, env = "PORTAL_ACCESS_CODES", hide_env_values = true, value_delimiter = ',', value_parser = parse_secret)]
    pub access_codes: Vec<SecretString>,
    /// users: file of accounts, one per line: name:argon2-hash[:root-folder[:admin]].
    #[arg(long, env = "PORTAL_USERS_FILE")]
    pub users_file: Option<PathBuf>,
    /// How long a sign-in lasts, in seconds.
    #[arg(long, env = "PORTAL_SESSION_TTL", default_value_t = 7 * 24 * 3600)]
    pub session_ttl: u64,
    /// Signing requests allowed per minute, per user and per client address (0: no limit).
    #[arg(long, env = "PORTAL_SIGN_RATE", default_value_t = 300)]
    pub sign_rate: u32,
    /// Sign-in attempts allowed per minute, per client address and per name (0: no limit).
    #[arg(long, env = "PORTAL_LOGIN_RATE", default_value_t = 10)]
    pub login_rate: u32,
    /// Bytes each user may upload over any 24 hours, e.g. 10GiB (0: no limit).
    #[arg(long, env = "PORTAL_DAILY_BYTES", default_value = "0", value_parser = parse_size)]
    pub daily_bytes: u64,
    /// Tickets each user may hold signed but neither used nor expired and checked (0: no
    /// limit); bounds what a user can write into the ledger without uploading.
    #[arg(long, env = "PORTAL_MAX_PENDING", default_value_t = 1000)]
    pub max_pending: u64,
    /// Upload requests (links and QR codes anyone can send files through) may be created by
    /// signed-in users; `false` turns them off, the existing ones included.
    #[arg(long, env = "PORTAL_REQUESTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub requests: bool,
    /// Upload requests' webhooks may go to loopback, private and link-local addresses (a
    /// receiver on the portal's own network); off, only to public ones.
    #[arg(long, env = "PORTAL_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// A reverse proxy in front appends the client's address to X-Forwarded-For.
    #[arg(long, env = "PORTAL_BEHIND_PROXY", default_value_t = false, action = clap::ArgAction::Set)]
    pub behind_proxy: bool,
    /// Read a password on standard input, print its argon2 hash for the users file, and exit.
    #[arg(long)]
    pub hash_password: bool,
    /// Signature version of upload policies.
    #[arg(long, env = "OSS_SIGNATURE_VERSION", value_enum, default_value_t = SignatureVersion::V4)]
    pub signature_version: SignatureVersion,
    /// AccessKey id (oss: required; local: generated when unset).
    #[arg(long, env = "OSS_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    /// AccessKey secret (oss: required; local: generated when unset). Never printed.
    #[arg(long, env = "OSS_ACCESS_KEY_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub access_key_secret: Option<SecretString>,
    /// Folder every upload must stay under ("" for the whole bucket).
    #[arg(long, env = "PORTAL_UPLOAD_ROOT", default_value = "uploads/")]
    pub upload_root: String,
    /// Folder the page offers first [default: the upload root].
    #[arg(long, env = "PORTAL_DEFAULT_FOLDER")]
    pub default_folder: Option<String>,
    /// Largest file accepted, in bytes or with a unit (500MB, 5GiB).
    #[arg(long, env = "PORTAL_MAX_FILE_SIZE", default_value = "5GiB", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Most files in one batch.
    #[arg(long, env = "PORTAL_MAX_FILES", default_value_t = 100)]
    pub max_files: u32,
    /// Files uploaded at the same time by one page.
    #[arg(long, env = "PORTAL_PARALLEL_UPLOADS", default_value_t = 3)]
    pub parallel_uploads: u32,
    /// Times the page tries a file again after a network or storage fault (with backoff).
    #[arg(long, env = "PORTAL_UPLOAD_RETRIES", default_value_t = 5)]
    pub upload_retries: u32,
    /// The uploader's "Remove location from photos" starts ticked (the reader can untick it).
    #[arg(long, env = "PORTAL_STRIP_LOCATION", default_value_t = false, action = clap::ArgAction::Set)]
    pub strip_location: bool,
    /// The uploader's "Photo size" starts at: original (photos go up as they are) or smaller.
    #[arg(long, env = "PORTAL_PHOTO_SIZE", value_enum, default_value_t = PhotoSizeKind::Original)]
    pub photo_size: PhotoSizeKind,
    /// Readers may change "Photo size" (false hides it: every photo goes up as PORTAL_PHOTO_SIZE says).
    #[arg(long, env = "PORTAL_PHOTO_SIZE_CHOICE", default_value_t = true, action = clap::ArgAction::Set)]
    pub photo_size_choice: bool,
    /// A smaller photo's longest edge, in pixels (64 to 16384).
    #[arg(long, env = "PORTAL_PHOTO_MAX_EDGE", default_value_t = 2560, value_parser = clap::value_parser!(u32).range(64..=16384))]
    pub photo_max_edge: u32,
    /// A smaller JPEG or WebP photo's quality, from 0.1 to 1.
    #[arg(long, env = "PORTAL_PHOTO_QUALITY", default_value_t = 0.85)]
    pub photo_quality: f64,
    /// Files this large or larger go up in parts and can resume after a reload; 0 turns
    /// multipart off. Bytes or with a unit (64MiB).
    #[arg(long, env = "PORTAL_MULTIPART_THRESHOLD", default_value = "64MiB", value_parser = parse_size)]
    pub multipart_threshold: u64,
    /// Size of each part (at least 100KiB; raised when a file would need more than 10,000).
    #[arg(long, env = "PORTAL_PART_SIZE", default_value = "8MiB", value_parser = parse_size)]
    pub part_size: u64,
    /// Multipart uploads left unfinished this many seconds are aborted (their parts deleted).
    #[arg(long, env = "PORTAL_MULTIPART_EXPIRY", default_value_t = 7 * 24 * 3600)]
    pub multipart_expiry: u64,
    /// Comma-separated MIME types allowed (image/*, application/pdf); empty allows any.
    #[arg(long, env = "PORTAL_ALLOWED_TYPES", value_delimiter = ',')]
    pub allowed_types: Vec<String>,
    /// How long a signed upload policy stays valid, in seconds.
    #[arg(long, env = "PORTAL_POLICY_TTL", default_value_t = 300)]
    pub policy_ttl: u64,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.to_owned()))
}

/// `1048576`, `500MB`, `5GiB`, `64 KiB` → bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1 << 10,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1 << 20,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// A configuration error, naming the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn config_error(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The checked configuration: what each wing runs on.
#[derive(Clone, Debug)]
pub struct Settings {
    pub portal: PortalSettings,
    /// The embedded bucket (and its STS endpoint), for the `local` target only.
    pub bucket: Option<BucketSettings>,
}

impl Config {
    /// Reads `.env`, then the environment and the command line. Exits with usage on bad flags.
    pub fn load() -> Self {
        let _ = dotenvy::dotenv();
        Config::parse()
    }

    /// An empty variable (as `.env.example` has them) means "not set".
    fn without_empty_values(mut self) -> Self {
        for value in [
            &mut self.public_url,
            &mut self.bucket,
            &mut self.bucket_url,
            &mut self.oss_endpoint,
            &mut self.oss_region,
            &mut self.access_key_id,
            &mut self.default_folder,
            &mut self.sts_role_arn,
            &mut self.callback_url,
            &mut self.s3_endpoint,
            &mut self.callback_public_key_url,
            &mut self.sts_endpoint,
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
        }
        if self
            .access_key_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            self.access_key_secret = None;
        }
        self.cors_origins.retain(|o| !o.trim().is_empty());
        if self
            .database_url
            .as_ref()
            .is_some_and(|s| s.expose_secret().trim().is_empty())
        {
            self.database_url = None;
        }
        self.access_codes
            .retain(|c| !c.expose_secret().trim().is_empty());
        if self
            .users_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            self.users_file = None;
        }
        self
    }

    /// Checks every value and derives the settings the portal runs on.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        self.without_empty_values().validate_set()
    }

    fn validate_set(self) -> Result<Settings, ConfigError> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.site_addr));
        check_url("PORTAL_PUBLIC_URL", &public_url)?;
        let rules = UploadRules {
            portal_url: public_url.trim_end_matches('/').to_owned(),
            ..self.upload_rules()?
        };
        let (target, bucket) = self.storage(&public_url, &rules)?;
        let callback = self.callback_settings(bucket.as_ref())?;
        if matches!(target.store, Store::S3(_)) && callback.is_some() {
            return Err(config_error(
                "OSS_CALLBACK_URL",
                "S3 stores do not perform upload callbacks",
            ));
        }
        let portal = PortalSettings {
            addr: self.site_addr,
            access: self.access_settings(&public_url, &rules)?,
            site: self.site(&public_url)?,
            database_url: self.database_url()?,
            limits: self.limit_settings()?,
            target,
            callback,
            rules,
        };
        Ok(Settings { portal, bucket })
    }
}

fn with_slash(url: String) -> String {
    if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    }
}

fn check_url(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(config_error(
            variable,
            format!("{url:?} is not an http(s) URL"),
        )),
    }
}

/// The portal's own origin, plus its `localhost`/`127.0.0.1` twin, so that either works.
/// `host[:port]` of a URL, lower-case, the port left out when it is the scheme's default (as
/// browsers write `Host` and `Origin`).
fn url_authority(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .map(str::to_owned)
        .unwrap_or(authority)
}

/// An `http://` URL of this machine (`localhost`, 127.0.0.0/8, `[::1]`).
fn is_plain_loopback_url(url: &str) -> bool {
    if !url.starts_with("http://") {
        return false;
    }
    let authority = url_authority(url);
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
