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
            Some(s3) => self.s3_presigned_url(s3, key, "GET", &[], s3.link_ttl),
        }
    }

    /// A SigV4 presigned URL for `method` on `key` with `params`, valid `expires_seconds`.
    fn s3_presigned_url(
        &self,
        s3: &S3Settings,
        key: &str,
        method: &str,
        params: &[(&str, &str)],
        expires_seconds: u64,
    ) -> String {
        let (host, path) = self.s3_host_and_path(s3, key);
        let key_pair = self.static_s3_key();
        let query = s3::presign_query(&s3::Presigned {
            method,
            params,
            access_key_id: &key_pair.access_key_id,
            secret: key_pair.secret.expose_secret(),
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

    /// Whether `key` exists, by a signed HEAD.
    pub async fn object_exists(&self, key: &str) -> Result<bool, TargetError> {
        match self
            .signed_request(reqwest::Method::HEAD, key, &[], "", &[], None)
            .await
        {
            Ok(_) => Ok(true),
            Err(RequestError::Refused { status: 404, .. }) => Ok(false),
            Err(RequestError::Refused { status, .. }) => Err(TargetError::Status(status)),
            Err(RequestError::Target(e)) => Err(e),
        }
    }
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

/// Multipart uploads: the portal initiates, lists, completes and aborts with signed requests
/// (V1 headers for OSS and the embedded bucket, SigV4 for S3); the browser PUTs the parts to
/// presigned URLs (V1 or SigV4 query signatures).
impl Target {
    /// Sends a signed request for `key` (the bucket itself when empty) with `sub_resources`
    /// (the query: V1 signs the OSS sub-resources among them, SigV4 all):
    /// a V1 header signature for OSS and the embedded bucket, SigV4 for S3 (which ignores
    /// the `x-oss-*` `extra_headers`). A refusal comes back as its status and error code.
    async fn signed_request(
        &self,
        method: reqwest::Method,
        key: &str,
        sub_resources: &[(&str, Option<&str>)],
        content_type: &str,
        extra_headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<reqwest::Response, RequestError> {
        if let Some(s3) = &self.s3 {
            return self
                .s3_request(s3, method, key, sub_resources, content_type, body)
                .await;
        }
        let now = OffsetDateTime::now_utc();
        let signing = self.credentials.current(now).await?;
        let token = signing.security_token.as_ref().map(|t| t.expose_secret());
        let date = v1::http_date(now);
        let mut oss_headers = vec![("x-oss-date", date.as_str())];
        oss_headers.extend_from_slice(extra_headers);
        if let Some(token) = token {
            oss_headers.push(("x-oss-security-token", token));
        }
        let request = v1::HeaderRequest {
            method: method.as_str(),
            content_type,
            date: &date,
            oss_headers: oss_headers.clone(),
            bucket: &self.bucket,
            key,
            sub_resources: sub_resources.to_vec(),
            ..Default::default()
        };
        let authorization = v1::authorization(
            &signing.credentials.access_key_id,
            signing.credentials.secret.expose_secret(),
            &request,
        );
        let query: Vec<String> = sub_resources
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!(
                    "{name}={}",
                    percent_encoding::utf8_percent_encode(value, super::signing::UNRESERVED)
                ),
                None => (*name).to_owned(),
            })
            .collect();
        let mut url = self.object_url(key);
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut builder = self
            .http
            .request(method, url)
            .header("authorization", authorization);
        for (name, value) in oss_headers {
            builder = builder.header(name, value);
        }
        if !content_type.is_empty() {
            builder = builder.header("content-type", content_type);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        refusal(builder.send().await?).await
    }

    /// The same, signed with SigV4.
    async fn s3_request(
        &self,
        s3: &S3Settings,
        method: reqwest::Method,
        key: &str,
        sub_resources: &[(&str, Option<&str>)],
        content_type: &str,
        body: Option<String>,
    ) -> Result<reqwest::Response, RequestError> {
        use sha2::{Digest, Sha256};
        let (host, path) = self.s3_host_and_path(s3, key);
        let date_time = v4::format_date_time(OffsetDateTime::now_utc());
        let payload_hash =
            super::signing::hex(&Sha256::digest(body.as_deref().unwrap_or("").as_bytes()));
        let mut headers = vec![
            ("host".to_owned(), host.clone()),
            ("x-amz-content-sha256".to_owned(), payload_hash.clone()),
            ("x-amz-date".to_owned(), date_time.clone()),
        ];
        if let Some(token) = &s3.session_token {
            headers.push((
                "x-amz-security-token".to_owned(),
                token.expose_secret().to_owned(),
            ));
        }
        if !content_type.is_empty() {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        let query: Vec<(String, String)> = sub_resources
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.unwrap_or("").to_owned()))
            .collect();
        let request = s3::CanonicalRequest {
            method: method.as_str(),
            path: &path,
            query: query.clone(),
            headers: headers.clone(),
            payload_hash: &payload_hash,
        };
        let credentials = self.static_s3_key();
        let authorization = s3::authorization(
            &credentials.access_key_id,
            credentials.secret.expose_secret(),
            &date_time,
            &self.region,
            &request,
        );
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", s3::uri_encode(k, false), s3::uri_encode(v, false)))
            .collect();
        let mut url = format!(
            "{}://{host}{}",
            s3.endpoint.scheme(),
            s3::uri_encode(&path, true)
        );
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut builder = self
            .http
            .request(method, url)
            .header("authorization", authorization);
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        refusal(builder.send().await?).await
    }
}

/// A successful response as it is; any other as its status and error code.
async fn refusal(response: reqwest::Response) -> Result<reqwest::Response, RequestError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Err(RequestError::Refused {
            status,
            code: xml_field::<ErrorReply>(&body)
                .map(|e| e.code)
                .unwrap_or_default(),
        })
    }
}

impl Target {
    /// Starts a multipart upload of `key`; returns its upload id.
    pub async fn initiate_multipart(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<String, RequestError> {
        let response = self
            .signed_request(
                reqwest::Method::POST,
                key,
                &[("uploads", None)],
                content_type,
                &[("x-oss-forbid-overwrite", "true")],
                None,
            )
            .await?;
        let body = response.text().await?;
        xml_field::<Initiated>(&body)
            .map(|i| i.upload_id)
            .ok_or(RequestError::Refused {
                status: 200,
                code: "NoUploadId".into(),
            })
    }

    /// The parts stored so far, all pages of them.
    pub async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, RequestError> {
        let mut parts = Vec::new();
        let mut marker = 0u32;
        loop {
            let marker_text = marker.to_string();
            let mut sub: Vec<(&str, Option<&str>)> = vec![("uploadId", Some(upload_id))];
            if marker > 0 {
                sub.push(("part-number-marker", Some(&marker_text)));
            }
            let body = self
                .signed_request(reqwest::Method::GET, key, &sub, "", &[], None)
                .await?
                .text()
                .await?;
            let listing = xml_field::<Listing>(&body).unwrap_or_default();
            let next = listing.parts.last().map(|p| p.number);
            let truncated = listing.truncated;
            parts.extend(listing.parts.into_iter().map(|p| ListedPart {
                number: p.number,
                etag: p.etag.trim_matches('"').to_owned(),
                size: p.size,
            }));
            match next {
                Some(next) if truncated && next > marker => marker = next,
                _ => return Ok(parts),
            }
        }
    }

    /// A presigned URL for the browser to PUT part `number` to, valid until `expires`.
    pub async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        expires: OffsetDateTime,
    ) -> Result<String, RequestError> {
        let now = OffsetDateTime::now_utc();
        let number = number.to_string();
        if let Some(s3) = &self.s3 {
            return Ok(self.s3_presigned_url(
                s3,
                key,
                "PUT",
                &[("partNumber", &number), ("uploadId", upload_id)],
                (expires - now).whole_seconds().max(1) as u64,
            ));
        }
        let signing = self.credentials.current(now).await?;
        let expires = expires.unix_timestamp().to_string();
        let mut sub_resources = vec![
            ("partNumber", Some(number.as_str())),
            ("uploadId", Some(upload_id)),
        ];
        let token = signing
            .security_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned());
        if let Some(token) = &token {
            sub_resources.push(("security-token", Some(token)));
        }
        let request = v1::HeaderRequest {
            method: "PUT",
            date: &expires,
            bucket: &self.bucket,
            key,
            sub_resources,
            ..Default::default()
        };
        Ok(v1::presigned_url(
            &self.object_url(key),
            &signing.credentials.access_key_id,
            signing.credentials.secret.expose_secret(),
            &request,
        ))
    }

    /// Assembles the parts (`number`, ETag without quotes) into the object; returns its ETag.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<String, RequestError> {
        let body: String = parts
            .iter()
            .map(|(number, etag)| {
                format!("<Part><PartNumber>{number}</PartNumber><ETag>\"{etag}\"</ETag></Part>")
            })
            .collect();
        let response = self
            .signed_request(
                reqwest::Method::POST,
                key,
                &[("uploadId", Some(upload_id))],
                "application/xml",
                &[("x-oss-forbid-overwrite", "true")],
                Some(format!(
                    "<CompleteMultipartUpload>{body}</CompleteMultipartUpload>"
                )),
            )
            .await?;
        let body = response.text().await?;
        Ok(xml_field::<Completed>(&body)
            .map(|c| c.etag.trim_matches('"').to_owned())
            .unwrap_or_default())
    }

    /// The multipart uploads in progress in the bucket: key, upload id, when initiated.
    pub async fn list_multipart_uploads(
        &self,
    ) -> Result<Vec<(String, String, OffsetDateTime)>, RequestError> {
        let body = self
            .signed_request(
                reqwest::Method::GET,
                "",
                &[("uploads", None)],
                "",
                &[],
                None,
            )
            .await?
            .text()
            .await?;
        let listing = xml_field::<UploadListing>(&body).unwrap_or_default();
        Ok(listing
            .uploads
            .into_iter()
            .filter_map(|u| {
                let initiated = OffsetDateTime::parse(
                    &u.initiated,
                    &time::format_description::well_known::Rfc3339,
                )
                .ok()?;
                Some((u.key, u.upload_id, initiated))
            })
            .collect())
    }

    /// The stored object's size, ETag and type, or `None` when there is none.
    pub async fn head_object(&self, key: &str) -> Result<Option<StoredObject>, RequestError> {
        match self
            .signed_request(reqwest::Method::HEAD, key, &[], "", &[], None)
            .await
        {
            Ok(response) => {
                let headers = response.headers();
                let text = |name: reqwest::header::HeaderName| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                };
                Ok(Some(StoredObject {
                    size: text(reqwest::header::CONTENT_LENGTH).parse().unwrap_or(0),
                    etag: text(reqwest::header::ETAG).trim_matches('"').to_owned(),
                    content_type: text(reqwest::header::CONTENT_TYPE).to_owned(),
                }))
            }
            Err(RequestError::Refused { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Deletes the object (nothing happens when there is none).
    pub async fn delete_object(&self, key: &str) -> Result<(), RequestError> {
        match self
            .signed_request(reqwest::Method::DELETE, key, &[], "", &[], None)
            .await
        {
            Ok(_) | Err(RequestError::Refused { status: 404, .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Every object whose key starts with `prefix` (ListObjectsV2, all pages).
    pub async fn list_objects(&self, prefix: &str) -> Result<Vec<ListedObject>, RequestError> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query: Vec<(&str, Option<&str>)> =
                vec![("list-type", Some("2")), ("prefix", Some(prefix))];
            if let Some(token) = &token {
                query.push(("continuation-token", Some(token)));
            }
            let body = self
                .signed_request(reqwest::Method::GET, "", &query, "", &[], None)
                .await?
                .text()
                .await?;
            let page = xml_field::<ObjectListing>(&body).unwrap_or_default();
            objects.extend(page.contents.into_iter().map(|o| {
                ListedObject {
                    key: o.key,
                    size: o.size,
                    etag: o.etag.trim_matches('"').to_owned(),
                    last_modified: OffsetDateTime::parse(
                        &o.last_modified,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map_or(0, |t| t.unix_timestamp()),
                }
            }));
            match page.next_continuation_token {
                Some(next) if page.truncated && !next.is_empty() => token = Some(next),
                _ => return Ok(objects),
            }
        }
    }

    /// The bucket's CORS rules (`GET /?cors`, signed): the XML document, or `None` when the
    /// bucket has none. A refusal here also says the credentials are wrong.
    pub async fn bucket_cors(&self) -> Result<Option<String>, RequestError> {
        match self
            .signed_request(reqwest::Method::GET, "", &[("cors", None)], "", &[], None)
            .await
        {
            Ok(response) => Ok(Some(response.text().await?)),
            Err(RequestError::Refused { status: 404, code })
                if code.contains("CORS") || code.is_empty() =>
            {
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// The storage's clock: the `Date` header of an unsigned request to the bucket's URL
    /// (every answer, even a refusal, carries one).
    pub async fn storage_date(&self) -> Result<Option<OffsetDateTime>, TargetError> {
        let response = self
            .http
            .head(&self.url)
            .send()
            .await
            .map_err(TargetError::Request)?;
        Ok(response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(v1::parse_http_date))
    }

    /// Drops the upload and its parts.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), RequestError> {
        self.signed_request(
            reqwest::Method::DELETE,
            key,
            &[("uploadId", Some(upload_id))],
            "",
            &[],
            None,
        )
        .await?;
        Ok(())
    }
}

/// An XML reply read into `T` (serde names are the XML element names).
fn xml_field<T: serde::de::DeserializeOwned>(body: &str) -> Option<T> {
    quick_xml::de::from_str(body).ok()
}

#[derive(serde::Deserialize)]
struct ErrorReply {
    #[serde(rename = "Code")]
    code: String,
}

#[derive(serde::Deserialize)]
struct Initiated {
    #[serde(rename = "UploadId")]
    upload_id: String,
}

#[derive(serde::Deserialize)]
struct Completed {
    #[serde(rename = "ETag")]
    etag: String,
}

#[derive(Default, serde::Deserialize)]
struct UploadListing {
    #[serde(rename = "Upload", default)]
    uploads: Vec<ListedUpload>,
}

#[derive(serde::Deserialize)]
struct ListedUpload {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "Initiated")]
    initiated: String,
}

#[derive(Default, serde::Deserialize)]
struct ObjectListing {
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "NextContinuationToken", default)]
    next_continuation_token: Option<String>,
    #[serde(rename = "Contents", default)]
    contents: Vec<ListingObject>,
}

#[derive(serde::Deserialize)]
struct ListingObject {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "LastModified", default)]
    last_modified: String,
    #[serde(rename = "ETag", default)]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
}

#[derive(Default, serde::Deserialize)]
struct Listing {
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "Part", default)]
    parts: Vec<ListingPart>,
}

#[derive(serde::Deserialize)]
struct ListingPart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
}
