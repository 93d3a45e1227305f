//! The client of the real bucket (the embedded one, OSS or an S3 store): where a ticket points,
//! how its POST is signed, and object links. The scheme is chosen once, when `Target` is built.

mod requests;
pub mod sts;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use self::sts::{StsClient, StsError, StsSettings};
use crate::server::protocol::content;
use crate::server::protocol::credentials::Credentials;
use crate::server::protocol::policy::{Condition, PolicyDocument};
use crate::server::protocol::signing::{s3, v1, v4, SignatureVersion};
use crate::server::protocol::{encode_key, MIN_PART_SIZE};

/// What the portal needs to reach its bucket: configuration hands it over checked.
#[derive(Clone, Debug)]
pub struct TargetSettings {
    pub bucket: String,
    /// The URL the browser POSTs forms to, with a trailing `/`.
    pub url: String,
    /// The region in V4 credential scopes (empty only for V1 on OSS without a region).
    pub region: String,
    pub credentials: Credentials,
    /// True when the credentials were generated because none were configured.
    pub generated_credentials: bool,
    pub store: Store,
}

/// The kind of store, with what each needs.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded bucket, run by this binary.
    Local(OssSigning),
    /// Alibaba Cloud OSS.
    Oss(OssSigning),
    /// An S3-compatible store.
    S3(S3Settings),
}

/// How OSS (and the embedded bucket) requests are signed.
#[derive(Clone, Debug)]
pub struct OssSigning {
    pub version: SignatureVersion,
    /// Set when policies are signed with STS temporary credentials.
    pub sts: Option<StsSettings>,
}

/// How an S3 bucket is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
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
    /// How long presigned object links stay valid, in seconds.
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

    /// The form action of `bucket`, with a trailing `/`.
    pub fn bucket_url(&self, bucket: &str) -> String {
        let endpoint = self.endpoint.as_str().trim_end_matches('/');
        match self.url_style {
            UrlStyle::Path => format!("{endpoint}/{bucket}/"),
            UrlStyle::VirtualHost => {
                format!(
                    "{}://{bucket}.{}/",
                    self.endpoint.scheme(),
                    self.authority()
                )
            }
        }
    }
}

/// A bucket the portal signs uploads for.
pub struct Target {
    pub bucket: String,
    /// The form action, with a trailing `/`.
    pub url: String,
    region: String,
    scheme: Scheme,
    http: reqwest::Client,
}

/// How this target signs, chosen once.
enum Scheme {
    /// OSS and the embedded bucket: OSS V1 or V4 policies, V1 header signatures; a static key
    /// or STS temporary ones.
    Oss {
        version: SignatureVersion,
        keys: CredentialSource,
    },
    /// An S3-compatible store: SigV4 with the configured key (and its session token).
    S3 { s3: S3Settings, keys: Credentials },
}

/// The target could not answer.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("request to the storage failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the storage answered {0} to a HEAD request")]
    Status(u16),
    #[error("the storage's list of {0} could not be read")]
    Unreadable(&'static str),
    #[error(transparent)]
    Sts(#[from] StsError),
}

/// Where signing keys come from: the configured AccessKey, or STS temporary credentials.
enum CredentialSource {
    Static(Credentials),
    Sts(Arc<StsClient>),
}

/// The key that signs now, with its security token when it is temporary.
struct SigningKey {
    credentials: Credentials,
    security_token: Option<SecretString>,
}

impl CredentialSource {
    async fn current(&self, now: OffsetDateTime) -> Result<SigningKey, StsError> {
        match self {
            CredentialSource::Static(credentials) => Ok(SigningKey {
                credentials: credentials.clone(),
                security_token: None,
            }),
            CredentialSource::Sts(client) => {
                let temporary = client.credentials(now).await?;
                Ok(SigningKey {
                    credentials: temporary.credentials,
                    security_token: Some(temporary.security_token),
                })
            }
        }
    }
}

/// How long a download link made for OSS or the embedded bucket stays valid (it is made when
/// the portal's `/object` link is followed, so minutes are plenty).
pub const OSS_LINK_TTL: u64 = 3600;

/// S3 wants parts of at least 5 MiB (all but the last).
const S3_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

impl Target {
    /// The client for `settings`; STS credentials are refreshed `policy_ttl` plus two minutes
    /// before they lapse, so no policy outlives the key that signed it.
    pub fn new(settings: &TargetSettings, policy_ttl: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("the HTTP client builds with static settings");
        let oss = |signing: &OssSigning| Scheme::Oss {
            version: signing.version,
            keys: match &signing.sts {
                None => CredentialSource::Static(settings.credentials.clone()),
                Some(sts) => CredentialSource::Sts(Arc::new(StsClient::new(
                    sts.clone(),
                    settings.credentials.clone(),
                    time::Duration::try_from(policy_ttl).unwrap_or_default()
                        + time::Duration::minutes(2),
                ))),
            },
        };
        Target {
            bucket: settings.bucket.clone(),
            url: settings.url.clone(),
            region: settings.region.clone(),
            scheme: match &settings.store {
                Store::Local(signing) | Store::Oss(signing) => oss(signing),
                Store::S3(s3) => Scheme::S3 {
                    s3: s3.clone(),
                    keys: settings.credentials.clone(),
                },
            },
            http,
        }
    }

    /// The link to a stored object. S3 buckets are private by default, so S3 links are
    /// presigned GETs (valid PORTAL_LINK_TTL); OSS and the embedded bucket get plain URLs.
    pub fn object_url(&self, key: &str) -> String {
        match &self.scheme {
            Scheme::Oss { .. } => format!("{}{}", self.url, encode_key(key)),
            Scheme::S3 { s3, keys } => {
                self.s3_presigned_url(s3, keys, key, "GET", &[], s3.link_ttl)
            }
        }
    }

    /// A link that downloads `key` under `file_name`: a presigned GET whose
    /// `response-content-disposition` names it, valid for PORTAL_LINK_TTL on S3 and
    /// [`OSS_LINK_TTL`] otherwise.
    pub async fn download_url(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
    ) -> Result<String, TargetError> {
        let disposition = content::disposition_for(file_name, content_type);
        let ttl = match &self.scheme {
            Scheme::S3 { s3, .. } => s3.link_ttl,
            Scheme::Oss { .. } => OSS_LINK_TTL,
        };
        let expires = OffsetDateTime::now_utc() + Duration::from_secs(ttl);
        Ok(self
            .presigned(
                "GET",
                key,
                &[("response-content-disposition", &disposition)],
                expires,
            )
            .await?)
    }

    /// A presigned URL for `method` on `key` with the query `params` (signed too), valid until
    /// `expires` (at most 7 days): V1 or V4 for OSS and the embedded bucket, SigV4 for S3.
    pub(super) async fn presigned(
        &self,
        method: &str,
        key: &str,
        params: &[(&str, &str)],
        expires: OffsetDateTime,
    ) -> Result<String, StsError> {
        let now = OffsetDateTime::now_utc();
        let seconds = (expires - now).whole_seconds().clamp(1, 7 * 24 * 3600) as u64;
        let (version, keys) = match &self.scheme {
            Scheme::S3 { s3, keys } => {
                return Ok(self.s3_presigned_url(s3, keys, key, method, params, seconds))
            }
            Scheme::Oss { version, keys } => (*version, keys),
        };
        let signing = keys.current(now).await?;
        let token = signing.security_token.as_ref().map(|t| t.expose_secret());
        let (access_key_id, secret) = (
            signing.credentials.access_key_id.as_str(),
            signing.credentials.secret.expose_secret(),
        );
        let mut query: Vec<(&str, Option<&str>)> = params
            .iter()
            .map(|(name, value)| (*name, Some(*value)))
            .collect();
        if version == SignatureVersion::V4 {
            query.extend(token.map(|token| ("x-oss-security-token", Some(token))));
            let signed = v4::presign_query(
                access_key_id,
                secret,
                &v4::format_date_time(now),
                &self.region,
                seconds,
                &v4::SignedRequest {
                    method,
                    bucket: &self.bucket,
                    key,
                    query,
                    ..Default::default()
                },
            );
            return Ok(format!("{}?{signed}", self.object_url(key)));
        }
        query.extend(token.map(|token| ("security-token", Some(token))));
        let expires = (now.unix_timestamp() + seconds as i64).to_string();
        let request = v1::HeaderRequest {
            method,
            date: &expires,
            bucket: &self.bucket,
            key,
            sub_resources: query,
            ..Default::default()
        };
        Ok(v1::presigned_url(
            &self.object_url(key),
            access_key_id,
            secret,
            &request,
        ))
    }

    /// A SigV4 presigned URL for `method` on `key` with `params`, valid `expires_seconds`.
    fn s3_presigned_url(
        &self,
        s3: &S3Settings,
        keys: &Credentials,
        key: &str,
        method: &str,
        params: &[(&str, &str)],
        expires_seconds: u64,
    ) -> String {
        let (host, path) = self.s3_host_and_path(s3, key);
        let query = s3::presign_query(&s3::Presigned {
            method,
            params,
            access_key_id: &keys.access_key_id,
            secret: keys.secret.expose_secret(),
            security_token: s3.session_token.as_ref().map(|t| t.expose_secret()),
            date_time: &v4::format_date_time(OffsetDateTime::now_utc()),
            region: &self.region,
            host: &host,
            path: &path,
            expires_seconds,
        });
        format!(
            "{}://{host}{}?{query}",
            s3.endpoint.scheme(),
            s3::uri_encode(&path, true)
        )
    }

    /// Whether the store can refuse to overwrite (`x-oss-forbid-overwrite`); S3 POST cannot.
    pub fn guards_overwrites(&self) -> bool {
        matches!(self.scheme, Scheme::Oss { .. })
    }

    /// The digest the page checks an upload by: OSS answers a CRC-64 for every object and
    /// part, S3 stores an MD5 ETag.
    pub fn checksum(&self) -> crate::model::Checksum {
        match self.scheme {
            Scheme::Oss { .. } => crate::model::Checksum::Crc64,
            Scheme::S3 { .. } => crate::model::Checksum::Md5,
        }
    }

    /// The smallest part the store takes (all but the last).
    pub fn min_part_size(&self) -> u64 {
        match self.scheme {
            Scheme::Oss { .. } => MIN_PART_SIZE,
            Scheme::S3 { .. } => S3_MIN_PART_SIZE,
        }
    }

    /// The `Host` and the unencoded path of `key` in this S3 bucket.
    fn s3_host_and_path(&self, s3: &S3Settings, key: &str) -> (String, String) {
        let authority = s3.authority();
        match s3.url_style {
            UrlStyle::Path => (authority, format!("/{}/{key}", self.bucket)),
            UrlStyle::VirtualHost => (format!("{}.{authority}", self.bucket), format!("/{key}")),
        }
    }

    /// The STS client, when the target signs with temporary credentials.
    pub fn sts(&self) -> Option<&StsClient> {
        match &self.scheme {
            Scheme::Oss {
                keys: CredentialSource::Sts(client),
                ..
            } => Some(client),
            _ => None,
        }
    }

    /// The signed policy for `conditions` and the form fields that carry it:
    /// - OSS V1: `OSSAccessKeyId`, `policy`, `Signature`;
    /// - OSS V4: `policy`, `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`,
    ///   `x-oss-signature` (the three middle ones also pinned in the policy);
    /// - S3: `policy`, `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`
    ///   (pinned likewise, as S3 wants every field covered).
    ///
    /// A security token (STS or S3 session) is sent and pinned too. Pinned conditions go right
    /// after the bucket condition, where the SDKs put them.
    pub async fn sign_post(
        &self,
        mut conditions: Vec<Condition>,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Vec<(String, String)>, TargetError> {
        use base64::Engine;
        let date_time = v4::format_date_time(now);
        let date = &date_time[..8];
        let (key, form) = match &self.scheme {
            Scheme::Oss { version, keys } => (keys.current(now).await?, PostForm::Oss(*version)),
            Scheme::S3 { s3, keys } => (
                SigningKey {
                    credentials: keys.clone(),
                    security_token: s3.session_token.clone(),
                },
                PostForm::S3,
            ),
        };
        let secret = key.credentials.secret.expose_secret();
        let access_key_id = &key.credentials.access_key_id;
        let (mut pinned, token_field): (Vec<(&str, String)>, &str) = match form {
            PostForm::S3 => (
                vec![
                    ("x-amz-algorithm", s3::ALGORITHM.to_owned()),
                    (
                        "x-amz-credential",
                        s3::credential(access_key_id, date, &self.region),
                    ),
                    ("x-amz-date", date_time.clone()),
                ],
                "x-amz-security-token",
            ),
            PostForm::Oss(SignatureVersion::V1) => (vec![], "x-oss-security-token"),
            PostForm::Oss(SignatureVersion::V4) => (
                vec![
                    ("x-oss-signature-version", v4::ALGORITHM.to_owned()),
                    (
                        "x-oss-credential",
                        v4::credential(access_key_id, date, &self.region),
                    ),
                    ("x-oss-date", date_time.clone()),
                ],
                "x-oss-security-token",
            ),
        };
        if let Some(token) = &key.security_token {
            pinned.push((token_field, token.expose_secret().to_owned()));
        }
        let at = conditions
            .iter()
            .position(|c| c.field() == Some("bucket"))
            .map_or(0, |i| i + 1);
        conditions.splice(at..at, pinned.iter().map(|(f, v)| Condition::exact(f, v)));
        let policy = PolicyDocument {
            expiration: expires,
            conditions,
        }
        .to_json();
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.as_bytes());
        let mut fields = Vec::with_capacity(pinned.len() + 3);
        match form {
            PostForm::S3 => {
                let signature = s3::post_signature(secret, date, &self.region, &policy);
                fields.push(("policy".to_owned(), policy));
                fields.extend(pinned.into_iter().map(|(f, v)| (f.to_owned(), v)));
                fields.push(("x-amz-signature".to_owned(), signature));
            }
            PostForm::Oss(SignatureVersion::V1) => {
                let signature = v1::sign(secret, &policy);
                fields.push(("OSSAccessKeyId".to_owned(), access_key_id.clone()));
                fields.push(("policy".to_owned(), policy));
                fields.push(("Signature".to_owned(), signature));
                fields.extend(pinned.into_iter().map(|(f, v)| (f.to_owned(), v)));
            }
            PostForm::Oss(SignatureVersion::V4) => {
                let signature = v4::post_signature(secret, date, &self.region, &policy);
                let token = pinned
                    .iter()
                    .position(|(f, _)| *f == token_field)
                    .map(|i| pinned.remove(i));
                fields.push(("policy".to_owned(), policy));
                fields.extend(pinned.into_iter().map(|(f, v)| (f.to_owned(), v)));
                fields.push(("x-oss-signature".to_owned(), signature));
                fields.extend(token.map(|(f, v)| (f.to_owned(), v)));
            }
        }
        Ok(fields)
    }
}

/// The form fields a POST carries.
#[derive(Clone, Copy)]
enum PostForm {
    Oss(SignatureVersion),
    S3,
}

/// A signed request that failed: refused by the storage (its HTTP status and OSS/S3 error
/// code), or not answered.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the storage refused the request: {status} {code}")]
    Refused { status: u16, code: String },
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl From<reqwest::Error> for RequestError {
    fn from(e: reqwest::Error) -> Self {
        RequestError::Target(TargetError::Request(e))
    }
}

impl From<StsError> for RequestError {
    fn from(e: StsError) -> Self {
        RequestError::Target(TargetError::Sts(e))
    }
}

/// One part the storage holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedPart {
    pub number: u32,
    /// Without quotes, as the storage wrote it (S3 stores compare ETags exactly).
    pub etag: String,
    pub size: u64,
}

/// What a HEAD tells of a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    pub content_type: String,
}

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    /// Without quotes.
    pub etag: String,
    /// Unix seconds.
    pub last_modified: i64,
}
