//! Storage targets: where a ticket points and how it is signed. `local` (the embedded bucket)
//! and `oss` speak the same protocol; only their URLs differ.

use std::time::Duration;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use super::bucket::encode_key;
use super::config::{Credentials, S3Settings, Settings, SignatureVersion, TargetKind, UrlStyle};
use super::policy::{Condition, PolicyDocument};
use super::signing::{s3, v1, v4};
use super::sts::{StsClient, StsError};

/// A bucket the portal signs uploads for.
pub struct Target {
    pub kind: TargetKind,
    pub bucket: String,
    /// The form action, with a trailing `/`.
    pub url: String,
    credentials: CredentialSource,
    signature_version: SignatureVersion,
    region: String,
    /// Set for the s3 target.
    s3: Option<S3Settings>,
    http: reqwest::Client,
}

/// The target could not answer.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("request to the storage failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the storage answered {0} to a HEAD request")]
    Status(u16),
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

impl Target {
    pub fn new(settings: &Settings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("the HTTP client builds with static settings");
        Target {
            kind: settings.target,
            bucket: settings.bucket.clone(),
            url: settings.bucket_url.clone(),
            credentials: match &settings.sts {
                None => CredentialSource::Static(settings.credentials.clone()),
                Some(sts) => CredentialSource::Sts(Arc::new(StsClient::new(
                    sts.clone(),
                    settings.credentials.clone(),
                    time::Duration::try_from(settings.rules.policy_ttl).unwrap_or_default()
                        + time::Duration::minutes(2),
                ))),
            },
            signature_version: settings.signature_version,
            region: settings.region.clone(),
            s3: settings.s3.clone(),
            http,
        }
    }

    /// The link to a stored object. S3 buckets are private by default, so S3 links are
    /// presigned GETs (valid PORTAL_LINK_TTL); OSS and the embedded bucket get plain URLs.
    pub fn object_url(&self, key: &str) -> String {
        match &self.s3 {
            None => format!("{}{}", self.url, encode_key(key)),
            Some(s3) => {
                let (host, path) = self.s3_host_and_path(s3, key);
                let key_pair = self.static_s3_key();
                let query = s3::presign_get_query(&s3::PresignedGet {
                    access_key_id: &key_pair.access_key_id,
                    secret: key_pair.secret.expose_secret(),
                    security_token: s3.session_token.as_ref().map(|t| t.expose_secret()),
                    date_time: &v4::format_date_time(OffsetDateTime::now_utc()),
                    region: &self.region,
                    host: &host,
                    path: &path,
                    expires_seconds: s3.link_ttl,
                });
                format!(
                    "{}://{host}{}?{query}",
                    s3.endpoint.scheme(),
                    s3::uri_encode(&path, true)
                )
            }
        }
    }

    /// Whether the store can refuse to overwrite (`x-oss-forbid-overwrite`); S3 POST cannot.
    pub fn guards_overwrites(&self) -> bool {
        self.s3.is_none()
    }

    fn static_s3_key(&self) -> &Credentials {
        match &self.credentials {
            CredentialSource::Static(credentials) => credentials,
            CredentialSource::Sts(_) => {
                unreachable!("the s3 target never uses STS (refused by config)")
            }
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
        match &self.credentials {
            CredentialSource::Sts(client) => Some(client),
            CredentialSource::Static(_) => None,
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
        let key = self.credentials.current(now).await?;
        let secret = key.credentials.secret.expose_secret();
        let access_key_id = &key.credentials.access_key_id;
        let date_time = v4::format_date_time(now);
        let date = &date_time[..8];
        let (mut pinned, token_field): (Vec<(&str, String)>, &str) =
            match (&self.s3, self.signature_version) {
                (Some(_), _) => (
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
                (None, SignatureVersion::V1) => (vec![], "x-oss-security-token"),
                (None, SignatureVersion::V4) => (
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
        let token = match &self.s3 {
            Some(s3) => s3.session_token.as_ref(),
            None => key.security_token.as_ref(),
        };
        if let Some(token) = token {
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
        match (&self.s3, self.signature_version) {
            (Some(_), _) => {
                let signature = s3::post_signature(secret, date, &self.region, &policy);
                fields.push(("policy".to_owned(), policy));
                fields.extend(pinned.into_iter().map(|(f, v)| (f.to_owned(), v)));
                fields.push(("x-amz-signature".to_owned(), signature));
            }
            (None, SignatureVersion::V1) => {
                let signature = v1::sign(secret, &policy);
                fields.push(("OSSAccessKeyId".to_owned(), access_key_id.clone()));
                fields.push(("policy".to_owned(), policy));
                fields.push(("Signature".to_owned(), signature));
                fields.extend(pinned.into_iter().map(|(f, v)| (f.to_owned(), v)));
            }
            (None, SignatureVersion::V4) => {
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

    /// Whether `key` exists, by a HEAD signed with a V1 header signature.
    pub async fn object_exists(&self, key: &str) -> Result<bool, TargetError> {
        let now = OffsetDateTime::now_utc();
        if let Some(s3) = &self.s3 {
            return self.s3_object_exists(s3, key, now).await;
        }
        let signing = self.credentials.current(now).await?;
        let token = signing.security_token.as_ref().map(|t| t.expose_secret());
        let date = v1::http_date(now);
        let mut oss_headers = vec![("x-oss-date", date.as_str())];
        if let Some(token) = token {
            oss_headers.push(("x-oss-security-token", token));
        }
        let request = v1::HeaderRequest {
            method: "HEAD",
            date: &date,
            oss_headers,
            bucket: &self.bucket,
            key,
            ..Default::default()
        };
        let authorization = v1::authorization(
            &signing.credentials.access_key_id,
            signing.credentials.secret.expose_secret(),
            &request,
        );
        let mut head = self
            .http
            .head(self.object_url(key))
            .header("x-oss-date", &date)
            .header("authorization", authorization);
        if let Some(token) = token {
            head = head.header("x-oss-security-token", token);
        }
        let response = head.send().await?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            other => Err(TargetError::Status(other)),
        }
    }
}

impl Target {
    /// HEAD with a SigV4 header signature.
    async fn s3_object_exists(
        &self,
        s3: &S3Settings,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<bool, TargetError> {
        let (host, path) = self.s3_host_and_path(s3, key);
        let date_time = v4::format_date_time(now);
        let mut headers = vec![
            ("host".to_owned(), host.clone()),
            (
                "x-amz-content-sha256".to_owned(),
                s3::EMPTY_SHA256.to_owned(),
            ),
            ("x-amz-date".to_owned(), date_time.clone()),
        ];
        if let Some(token) = &s3.session_token {
            headers.push((
                "x-amz-security-token".to_owned(),
                token.expose_secret().to_owned(),
            ));
        }
        let request = s3::CanonicalRequest {
            method: "HEAD",
            path: &path,
            query: vec![],
            headers: headers.clone(),
            payload_hash: s3::EMPTY_SHA256,
        };
        let credentials = self.static_s3_key();
        let authorization = s3::authorization(
            &credentials.access_key_id,
            credentials.secret.expose_secret(),
            &date_time,
            &self.region,
            &request,
        );
        let url = format!(
            "{}://{host}{}",
            s3.endpoint.scheme(),
            s3::uri_encode(&path, true)
        );
        let mut head = self.http.head(url).header("authorization", authorization);
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            head = head.header(name.as_str(), value.as_str());
        }
        let response = head.send().await?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            other => Err(TargetError::Status(other)),
        }
    }
}
