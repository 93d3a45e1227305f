//! Storage targets: where a ticket points and how it is signed. `local` (the embedded bucket)
//! and `oss` speak the same protocol; only their URLs differ.

use std::time::Duration;

use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::bucket::encode_key;
use super::config::{Credentials, Settings, TargetKind};
use super::signing::v1;

/// A bucket the portal signs uploads for.
pub struct Target {
    pub kind: TargetKind,
    pub bucket: String,
    /// The form action, with a trailing `/`.
    pub url: String,
    credentials: Credentials,
    http: reqwest::Client,
}

/// The target could not answer.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("request to the storage failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the storage answered {0} to a HEAD request")]
    Status(u16),
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
            credentials: settings.credentials.clone(),
            http,
        }
    }

    pub fn object_url(&self, key: &str) -> String {
        format!("{}{}", self.url, encode_key(key))
    }

    /// The signature fields of a POST form for this policy JSON (OSS V1).
    pub fn sign_post(&self, policy_json: &str) -> [(String, String); 3] {
        use base64::Engine;
        let policy = base64::engine::general_purpose::STANDARD.encode(policy_json.as_bytes());
        let signature = v1::sign(self.credentials.secret.expose_secret(), &policy);
        [
            (
                "OSSAccessKeyId".into(),
                self.credentials.access_key_id.clone(),
            ),
            ("policy".into(), policy),
            ("Signature".into(), signature),
        ]
    }

    /// Whether `key` exists, by a HEAD signed with a V1 header signature.
    pub async fn object_exists(&self, key: &str) -> Result<bool, TargetError> {
        let date = v1::http_date(OffsetDateTime::now_utc());
        let request = v1::HeaderRequest {
            method: "HEAD",
            date: &date,
            oss_headers: vec![("x-oss-date", &date)],
            bucket: &self.bucket,
            key,
            ..Default::default()
        };
        let authorization = v1::authorization(
            &self.credentials.access_key_id,
            self.credentials.secret.expose_secret(),
            &request,
        );
        let response = self
            .http
            .head(self.object_url(key))
            .header("x-oss-date", &date)
            .header("authorization", authorization)
            .send()
            .await?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            other => Err(TargetError::Status(other)),
        }
    }
}
