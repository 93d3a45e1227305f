//! Configuration, read once at start from the environment (and `.env`) or flags, and checked
//! before anything starts: a bad or missing value stops the portal with its variable's name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::access::accounts;
use super::access::limits::LimitSettings;
use super::access::{AccessMode, AccessSettings};
use super::callback::{self, CallbackSpec};
use super::layers::Site;
use super::sts::StsSettings;
use crate::naming::{folder_under_root, normalize_folder};

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

/// How upload policies are signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SignatureVersion {
    /// HMAC-SHA1 over the policy (OSSAccessKeyId + Signature).
    V1,
    /// OSS4-HMAC-SHA256 with a dated, regional credential scope.
    V4,
}

/// How an S3 bucket is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UrlStyle {
    /// `https://endpoint/bucket/key`
    Path,
    /// `https://bucket.endpoint/key`
    VirtualHost,
}

/// Where an S3-compatible store is and how to address it.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub endpoint: reqwest::Url,
    pub url_style: UrlStyle,
    pub session_token: Option<SecretString>,
    pub link_ttl: u64,
}

impl S3Settings {
    /// The endpoint's `host[:port]`.
    pub fn authority(&self) -> String {
        let host = self.endpoint.host_str().unwrap_or_default();
        match self.endpoint.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
}

/// An AccessKey pair. The secret never prints (`SecretString`'s Debug is redacted).
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: SecretString,
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
            multipart_threshold: 0,
            part_size: 8 << 20,
            multipart_expiry: Duration::from_secs(3600),
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            portal_url: "http://portal.test".into(),
            policy_ttl: Duration::from_secs(300),
        }
    }
}

/// Where the embedded bucket listens and whom it lets in.
#[derive(Clone, Debug)]
pub struct LocalBucketSettings {
    pub addr: SocketAddr,
    pub public_url: String,
    pub cors_origins: Vec<String>,
    pub data_dir: PathBuf,
    pub callback_key_file: Option<PathBuf>,
    /// The public-key URL named in callbacks (`x-oss-pub-key-url`).
    pub callback_public_key_url: String,
}

/// The upload callback every ticket asks for, and the key URLs the portal trusts.
#[derive(Clone, Debug)]
pub struct CallbackSettings {
    pub spec: CallbackSpec,
    pub allowed_key_urls: Vec<String>,
}

/// The checked configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub site_addr: SocketAddr,
    pub target: TargetKind,
    pub bucket: String,
    /// The URL the browser POSTs forms to, with a trailing `/`.
    pub bucket_url: String,
    pub credentials: Credentials,
    pub signature_version: SignatureVersion,
    /// Set for the s3 target.
    pub s3: Option<S3Settings>,
    /// Set when uploads end with a callback to the portal.
    pub callback: Option<CallbackSettings>,
    /// The ledger's database URL (may hold a password).
    pub database_url: SecretString,
    pub access: AccessSettings,
    pub limits: LimitSettings,
    /// Set when policies are signed with STS temporary credentials.
    pub sts: Option<StsSettings>,
    /// local: where the local STS-compatible endpoint listens, if it runs.
    pub local_sts_addr: Option<SocketAddr>,
    /// The region in V4 credential scopes (empty only for V1 on OSS without a region).
    pub region: String,
    /// True when the credentials were generated because none were configured.
    pub generated_credentials: bool,
    /// Set for the `local` target only.
    pub local: Option<LocalBucketSettings>,
    pub rules: UploadRules,
    /// The Host names the portal answers to, and whether it is served over https.
    pub site: Site,
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
        let (bucket, bucket_url, local, region) = match self.target {
            TargetKind::Local => {
                let bucket = self.bucket.clone().unwrap_or_else(|| "portal-dev".into());
                let url = with_slash(
                    self.bucket_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{}/", self.bucket_addr)),
                );
                check_url("PORTAL_BUCKET_URL", &url)?;
                if self.bucket_addr.port() == self.site_addr.port() {
                    return Err(config_error(
                        "PORTAL_BUCKET_ADDR",
                        "must use another port than the portal",
                    ));
                }
                let cors_origins = if self.cors_origins.is_empty() {
                    default_origins(&public_url)
                } else {
                    self.cors_origins
                        .iter()
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                };
                let local = LocalBucketSettings {
                    addr: self.bucket_addr,
                    public_url: url.clone(),
                    cors_origins,
                    data_dir: self.data_dir.clone(),
                    callback_key_file: self.callback_key_file.clone(),
                    callback_public_key_url: self
                        .callback_public_key_url
                        .clone()
                        .unwrap_or_else(|| format!("{url}?callback-public-key")),
                };
                check_url(
                    "PORTAL_CALLBACK_PUBLIC_KEY_URL",
                    &local.callback_public_key_url,
                )?;
                let region = self.oss_region.clone().unwrap_or_else(|| "local".into());
                (bucket, url, Some(local), region)
            }
            TargetKind::Oss => {
                let bucket = self
                    .bucket
                    .clone()
                    .ok_or_else(|| config_error("PORTAL_BUCKET", "required for the oss target"))?;
                let endpoint = match (&self.oss_endpoint, &self.oss_region) {
                    (Some(endpoint), _) => endpoint
                        .trim()
                        .trim_start_matches("https://")
                        .trim_end_matches('/')
                        .to_owned(),
                    (None, Some(region)) => format!(
                        "oss-{}.aliyuncs.com",
                        region.trim().trim_start_matches("oss-")
                    ),
                    (None, None) => {
                        return Err(config_error(
                            "OSS_ENDPOINT",
                            "required for the oss target (or set OSS_REGION)",
                        ))
                    }
                };
                if endpoint.is_empty() || endpoint.contains(['/', ' ']) {
                    return Err(config_error(
                        "OSS_ENDPOINT",
                        "must be a host name such as oss-cn-hangzhou.aliyuncs.com",
                    ));
                }
                let region = match &self.oss_region {
                    Some(region) => region.trim().trim_start_matches("oss-").to_owned(),
                    None => region_of_endpoint(&endpoint).unwrap_or_default(),
                };
                if region.is_empty() && self.signature_version == SignatureVersion::V4 {
                    return Err(config_error(
                        "OSS_REGION",
                        "required for V4 signatures (or use an endpoint like oss-cn-hangzhou.aliyuncs.com)",
                    ));
                }
                let url = format!("https://{bucket}.{endpoint}/");
                (bucket, url, None, region)
            }
            TargetKind::S3 => {
                let bucket = self
                    .bucket
                    .clone()
                    .ok_or_else(|| config_error("PORTAL_BUCKET", "required for the s3 target"))?;
                let s3 = self.s3_settings()?;
                let url = s3_bucket_url(&s3, &bucket);
                (bucket, url, None, self.s3_region.trim().to_owned())
            }
        };
        check_bucket_name(&bucket)?;
        let (credentials, generated_credentials) =
            match (self.access_key_id.clone(), self.access_key_secret.clone()) {
                (Some(id), Some(secret)) => (
                    Credentials {
                        access_key_id: id.trim().to_owned(),
                        secret,
                    },
                    false,
                ),
                (None, None) if self.target == TargetKind::Local => (generate_credentials(), true),
                (id, _) => {
                    let variable = if id.is_none() {
                        "OSS_ACCESS_KEY_ID"
                    } else {
                        "OSS_ACCESS_KEY_SECRET"
                    };
                    return Err(config_error(
                        variable,
                        "required (set both OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET)",
                    ));
                }
            };
        let sts = self.sts_settings(&rules, generated_credentials)?;
        if self.local_sts_addr.is_some() && self.target != TargetKind::Local {
            return Err(config_error(
                "PORTAL_LOCAL_STS_ADDR",
                "only the local target runs a local STS endpoint",
            ));
        }
        let callback = self.callback_settings(local.as_ref())?;
        if self.target == TargetKind::S3 {
            if callback.is_some() {
                return Err(config_error(
                    "OSS_CALLBACK_URL",
                    "S3 stores do not perform upload callbacks",
                ));
            }
            if sts.is_some() {
                return Err(config_error(
                    "OSS_STS_ROLE_ARN",
                    "STS AssumeRole is for OSS; give S3 temporary keys with S3_SESSION_TOKEN",
                ));
            }
        }
        let s3 = match self.target {
            TargetKind::S3 => Some(self.s3_settings()?),
            _ => None,
        };
        let access = self.access_settings(&public_url, &rules)?;
        let site = self.site(&public_url)?;
        let database_url = match &self.database_url {
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
                url.clone()
            }
            None => SecretString::from(format!(
                "sqlite://{}",
                self.data_dir.join("ledger.sqlite").display()
            )),
        };
        if self.max_pending != 0 && self.max_pending < u64::from(self.max_files) {
            return Err(config_error(
                "PORTAL_MAX_PENDING",
                "must be 0 (no limit) or at least PORTAL_MAX_FILES",
            ));
        }
        let limits = LimitSettings {
            sign_rate: self.sign_rate,
            login_rate: self.login_rate,
            daily_bytes: self.daily_bytes,
            max_pending: self.max_pending,
        };
        Ok(Settings {
            s3,
            callback,
            database_url,
            access,
            limits,
            site_addr: self.site_addr,
            sts,
            local_sts_addr: self.local_sts_addr,
            target: self.target,
            bucket,
            bucket_url,
            credentials,
            signature_version: self.signature_version,
            region,
            generated_credentials,
            site,
            local,
            rules,
        })
    }

    fn access_settings(
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
        })
    }

    /// Whether only this machine can reach the portal: it listens on loopback, no proxy
    /// forwards to it, and its public URL is a plain-http loopback one.
    fn reachable_from_loopback_only(&self, public_url: &str) -> bool {
        self.site_addr.ip().is_loopback() && !self.behind_proxy && is_plain_loopback_url(public_url)
    }

    /// The Host names the portal answers to: the public URL's, on loopback also `localhost`,
    /// `127.0.0.1` and `[::1]` with its port, and PORTAL_HOSTS.
    fn site(&self, public_url: &str) -> Result<Site, ConfigError> {
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

    fn sts_settings(
        &self,
        rules: &UploadRules,
        generated_credentials: bool,
    ) -> Result<Option<StsSettings>, ConfigError> {
        let Some(role_arn) = self.sts_role_arn.clone() else {
            return Ok(None);
        };
        let role_arn = role_arn.trim().to_owned();
        if !super::sts::is_role_arn(&role_arn) {
            return Err(config_error(
                "OSS_STS_ROLE_ARN",
                "must look like acs:ram::<account id>:role/<role name>",
            ));
        }
        if generated_credentials {
            return Err(config_error(
                "OSS_ACCESS_KEY_ID",
                "an STS role needs base credentials (OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET)",
            ));
        }
        if !(900..=43200).contains(&self.sts_duration) {
            return Err(config_error(
                "OSS_STS_DURATION",
                "must be between 900 and 43200 seconds",
            ));
        }
        if u64::from(self.sts_duration) < rules.policy_ttl.as_secs() + 300 {
            return Err(config_error(
                "OSS_STS_DURATION",
                "must exceed PORTAL_POLICY_TTL by at least 300 seconds",
            ));
        }
        let name = &self.sts_session_name;
        if !(2..=64).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".@_-".contains(c))
        {
            return Err(config_error(
                "OSS_STS_SESSION_NAME",
                "must be 2-64 of A-Z a-z 0-9 . @ _ -",
            ));
        }
        let endpoint = match (&self.sts_endpoint, self.local_sts_addr) {
            (Some(endpoint), _) => endpoint.trim().to_owned(),
            (None, Some(addr)) => format!("http://{addr}/"),
            (None, None) => "https://sts.aliyuncs.com/".to_owned(),
        };
        check_url("OSS_STS_ENDPOINT", &endpoint)?;
        Ok(Some(StsSettings {
            endpoint,
            role_arn,
            session_name: name.clone(),
            duration_seconds: self.sts_duration,
        }))
    }

    fn s3_settings(&self) -> Result<S3Settings, ConfigError> {
        let endpoint = self
            .s3_endpoint
            .as_deref()
            .ok_or_else(|| config_error("S3_ENDPOINT", "required for the s3 target"))?;
        let endpoint = reqwest::Url::parse(endpoint.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                config_error(
                    "S3_ENDPOINT",
                    "must be an http(s) URL such as http://127.0.0.1:3900",
                )
            })?;
        if self.s3_region.trim().is_empty() {
            return Err(config_error("S3_REGION", "must not be empty"));
        }
        if !(60..=7 * 24 * 3600).contains(&self.link_ttl) {
            return Err(config_error(
                "PORTAL_LINK_TTL",
                "must be between 60 seconds and 7 days",
            ));
        }
        Ok(S3Settings {
            endpoint,
            url_style: self.s3_url_style,
            session_token: self.s3_session_token.clone(),
            link_ttl: self.link_ttl,
        })
    }

    fn callback_settings(
        &self,
        local: Option<&LocalBucketSettings>,
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

    fn upload_rules(&self) -> Result<UploadRules, ConfigError> {
        let upload_root = normalize_folder(&self.upload_root)
            .map_err(|e| config_error("PORTAL_UPLOAD_ROOT", format!("the folder {e}")))?;
        let default_folder = match &self.default_folder {
            Some(folder) => folder_under_root(folder, &upload_root)
                .map_err(|e| config_error("PORTAL_DEFAULT_FOLDER", format!("the folder {e}")))?,
            None => upload_root.clone(),
        };
        if self.max_file_size == 0 || self.max_file_size > super::bucket::MAX_OBJECT_SIZE {
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
        if !(100 * 1024..=5 * 1024 * 1024 * 1024).contains(&self.part_size) {
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
        Ok(UploadRules {
            portal_url: String::new(),
            upload_root,
            default_folder,
            max_file_size: self.max_file_size,
            max_files: self.max_files,
            parallel_uploads: self.parallel_uploads,
            upload_retries: self.upload_retries,
            multipart_threshold: self.multipart_threshold,
            part_size: self.part_size,
            multipart_expiry: Duration::from_secs(self.multipart_expiry),
            allowed_types,
            policy_ttl: Duration::from_secs(self.policy_ttl),
        })
    }
}

/// The form action of an S3 bucket, with a trailing `/`.
pub fn s3_bucket_url(s3: &S3Settings, bucket: &str) -> String {
    let endpoint = s3.endpoint.as_str().trim_end_matches('/');
    match s3.url_style {
        UrlStyle::Path => format!("{endpoint}/{bucket}/"),
        UrlStyle::VirtualHost => format!("{}://{bucket}.{}/", s3.endpoint.scheme(), s3.authority()),
    }
}

/// `oss-cn-hangzhou.aliyuncs.com` (or its `-internal` twin) → `cn-hangzhou`.
fn region_of_endpoint(endpoint: &str) -> Option<String> {
    let host = endpoint
        .strip_suffix(".aliyuncs.com")?
        .strip_prefix("oss-")?;
    let region = host.strip_suffix("-internal").unwrap_or(host);
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
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

fn default_origins(public_url: &str) -> Vec<String> {
    let origin = public_url.trim_end_matches('/').to_owned();
    let twin = if origin.contains("://127.0.0.1") {
        Some(origin.replace("://127.0.0.1", "://localhost"))
    } else if origin.contains("://localhost") {
        Some(origin.replace("://localhost", "://127.0.0.1"))
    } else {
        None
    };
    std::iter::once(origin).chain(twin).collect()
}

/// OSS bucket names: 3–63 characters, lower-case letters, digits and hyphens, no hyphen at
/// either end.
fn check_bucket_name(name: &str) -> Result<(), ConfigError> {
    let ok = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(config_error(
            "PORTAL_BUCKET",
            format!("{name:?} is not a valid bucket name (3-63 of a-z, 0-9, -)"),
        ))
    }
}

fn generate_credentials() -> Credentials {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    Credentials {
        access_key_id: format!("LTAIdev{}", &id[..17]),
        secret: SecretString::from(secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["upload-portal"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1048576"), Ok(1048576));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("5GiB"), Ok(5 << 30));
        assert_eq!(parse_size("64 KiB"), Ok(65536));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn defaults_run_on_the_embedded_bucket() {
        // Flags only, so the test does not depend on the environment it runs in.
        let settings = config(&["--access-key-id", "id", "--access-key-secret", "s"])
            .validate()
            .unwrap();
        assert_eq!(settings.target, TargetKind::Local);
        assert_eq!(settings.bucket, "portal-dev");
        assert_eq!(settings.bucket_url, "http://127.0.0.1:9300/");
        let local = settings.local.unwrap();
        assert_eq!(
            local.cors_origins,
            vec!["http://127.0.0.1:3000", "http://localhost:3000"]
        );
        assert_eq!(settings.rules.upload_root, "uploads/");
        assert_eq!(settings.rules.default_folder, "uploads/");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "--target",
                    "oss",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "PORTAL_BUCKET",
            ),
            (
                &[
                    "--target",
                    "oss",
                    "--bucket",
                    "b1b",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_ENDPOINT",
            ),
            (
                &[
                    "--target",
                    "oss",
                    "--bucket",
                    "b1b",
                    "--oss-region",
                    "cn-hangzhou",
                ],
                "OSS_ACCESS_KEY_ID",
            ),
            (
                &[
                    "--target",
                    "oss",
                    "--bucket",
                    "b1b",
                    "--oss-region",
                    "cn-hangzhou",
                    "--access-key-id",
                    "a",
                ],
                "OSS_ACCESS_KEY_SECRET",
            ),
            (&["--target", "s3", "--bucket", "b1b"], "S3_ENDPOINT"),
            (
                &["--target", "s3", "--s3-endpoint", "http://s3.local"],
                "PORTAL_BUCKET",
            ),
            (
                &[
                    "--target",
                    "s3",
                    "--bucket",
                    "b1b",
                    "--s3-endpoint",
                    "s3.local",
                ],
                "S3_ENDPOINT",
            ),
            (
                &[
                    "--target",
                    "s3",
                    "--bucket",
                    "b1b",
                    "--s3-endpoint",
                    "http://s3.local",
                    "--callback-url",
                    "http://p/cb",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_CALLBACK_URL",
            ),
            (&["--callback-url", "ftp://portal/cb"], "OSS_CALLBACK_URL"),
            (
                &[
                    "--callback-url",
                    "http://portal/cb",
                    "--callback-body-type",
                    "text/plain",
                ],
                "OSS_CALLBACK_BODY_TYPE",
            ),
            (
                &[
                    "--callback-url",
                    "http://portal/cb",
                    "--callback-body",
                    "a=${nope}",
                ],
                "OSS_CALLBACK_BODY",
            ),
            (
                &["--sts-role-arn", "acs:ram::1:role/r"],
                "OSS_ACCESS_KEY_ID",
            ),
            (
                &[
                    "--sts-role-arn",
                    "arn:aws:iam::1:role/r",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_STS_ROLE_ARN",
            ),
            (
                &[
                    "--sts-role-arn",
                    "acs:ram::1:role/r",
                    "--sts-duration",
                    "600",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_STS_DURATION",
            ),
            (
                &[
                    "--sts-role-arn",
                    "acs:ram::1:role/r",
                    "--sts-endpoint",
                    "sts.local",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_STS_ENDPOINT",
            ),
            (
                &[
                    "--target",
                    "oss",
                    "--bucket",
                    "b1b",
                    "--oss-endpoint",
                    "oss.example.com",
                    "--access-key-id",
                    "a",
                    "--access-key-secret",
                    "b",
                ],
                "OSS_REGION",
            ),
            (&["--bucket", "Bad_Name"], "PORTAL_BUCKET"),
            (&["--upload-root", "../x"], "PORTAL_UPLOAD_ROOT"),
            (&["--default-folder", "other/"], "PORTAL_DEFAULT_FOLDER"),
            (&["--max-files", "0"], "PORTAL_MAX_FILES"),
            (&["--policy-ttl", "1"], "PORTAL_POLICY_TTL"),
            (&["--upload-retries", "21"], "PORTAL_UPLOAD_RETRIES"),
            (&["--part-size", "1000"], "PORTAL_PART_SIZE"),
            (
                &["--part-size", "1MiB", "--multipart-threshold", "500KiB"],
                "PORTAL_MULTIPART_THRESHOLD",
            ),
            (&["--allowed-types", "image"], "PORTAL_ALLOWED_TYPES"),
            (&["--bucket-addr", "127.0.0.1:3000"], "PORTAL_BUCKET_ADDR"),
            (&["--public-url", "ftp://x"], "PORTAL_PUBLIC_URL"),
        ];
        for (args, variable) in cases {
            let err = config(args).validate().unwrap_err();
            assert_eq!(err.variable, *variable, "{args:?}: {err}");
        }
    }

    #[test]
    fn empty_values_count_as_unset() {
        let settings = config(&[
            "--public-url",
            "",
            "--bucket",
            "",
            "--cors-origins",
            "",
            "--access-key-id",
            "a",
            "--access-key-secret",
            "b",
        ])
        .validate()
        .unwrap();
        assert_eq!(settings.bucket, "portal-dev");
        assert_eq!(settings.local.unwrap().cors_origins.len(), 2);
        let err = config(&["--access-key-id", "a", "--access-key-secret", ""])
            .validate()
            .unwrap_err();
        assert_eq!(err.variable, "OSS_ACCESS_KEY_SECRET");
    }

    #[test]
    fn oss_target_derives_the_bucket_url() {
        let settings = config(&[
            "--target",
            "oss",
            "--bucket",
            "examplebucket",
            "--oss-region",
            "cn-hangzhou",
            "--access-key-id",
            "LTAI",
            "--access-key-secret",
            "shh",
        ])
        .validate()
        .unwrap();
        assert_eq!(
            settings.bucket_url,
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/"
        );
        assert!(settings.local.is_none());
        assert!(
            !format!("{settings:?}").contains("shh"),
            "the secret must not print"
        );
    }

    #[test]
    fn s3_bucket_urls_follow_the_style() {
        let path = config(&[
            "--target",
            "s3",
            "--bucket",
            "photos",
            "--s3-endpoint",
            "http://127.0.0.1:3900",
            "--access-key-id",
            "GK1",
            "--access-key-secret",
            "s",
        ])
        .validate()
        .unwrap();
        assert_eq!(path.bucket_url, "http://127.0.0.1:3900/photos/");
        assert_eq!(path.region, "us-east-1");
        let virtual_host = config(&[
            "--target",
            "s3",
            "--bucket",
            "photos",
            "--s3-endpoint",
            "https://s3.example.com",
            "--s3-url-style",
            "virtual-host",
            "--s3-region",
            "eu-west-1",
            "--access-key-id",
            "AK",
            "--access-key-secret",
            "s",
        ])
        .validate()
        .unwrap();
        assert_eq!(virtual_host.bucket_url, "https://photos.s3.example.com/");
        assert_eq!(virtual_host.region, "eu-west-1");
    }

    #[test]
    fn regions_come_from_endpoints() {
        let region = |e: &str| region_of_endpoint(e);
        assert_eq!(
            region("oss-cn-hangzhou.aliyuncs.com").as_deref(),
            Some("cn-hangzhou")
        );
        assert_eq!(
            region("oss-ap-southeast-1-internal.aliyuncs.com").as_deref(),
            Some("ap-southeast-1")
        );
        assert_eq!(region("minio.example.com"), None);
    }

    #[test]
    fn generated_credentials_when_none_are_set() {
        let settings = config(&[]).validate();
        // The environment of the test run may set credentials; only check the no-env case.
        if std::env::var_os("OSS_ACCESS_KEY_ID").is_none() {
            let settings = settings.unwrap();
            assert!(settings.generated_credentials);
            assert!(settings.credentials.access_key_id.starts_with("LTAIdev"));
        }
    }
}
