//! The STS client: AssumeRole for temporary credentials, cached and refreshed before they
//! expire. One refresh at a time: concurrent signers wait for it and share its result, so no
//! request ever signs with credentials that are about to lapse.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::server::protocol::credentials::{Credentials, TemporaryCredentials};
use crate::server::protocol::signing::sts;

/// What the portal needs to know to call AssumeRole.
#[derive(Clone, Debug)]
pub struct StsSettings {
    pub endpoint: String,
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("STS could not be reached: {0}")]
    Request(#[from] reqwest::Error),
    #[error("STS refused AssumeRole: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("STS answered something that is not an AssumeRole reply")]
    Malformed,
}

pub struct StsClient {
    settings: StsSettings,
    base: Credentials,
    /// Credentials are renewed once they have less than this left (the policy TTL plus slack,
    /// so every policy expires before the key that signed it).
    refresh_margin: time::Duration,
    http: reqwest::Client,
    cache: tokio::sync::RwLock<Option<TemporaryCredentials>>,
    /// Held while one caller refreshes; the others wait for it and then read its result.
    refresh: tokio::sync::Mutex<()>,
    calls: AtomicU64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reply {
    credentials: Option<ReplyCredentials>,
    code: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReplyCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

impl StsClient {
    pub fn new(settings: StsSettings, base: Credentials, refresh_margin: time::Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds with static settings");
        StsClient {
            settings,
            base,
            refresh_margin,
            http,
            cache: tokio::sync::RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            calls: AtomicU64::new(0),
        }
    }

    /// How many AssumeRole calls were made (for tests and the log).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Valid temporary credentials as of `now`, from the cache or a fresh AssumeRole.
    pub async fn credentials(&self, now: OffsetDateTime) -> Result<TemporaryCredentials, StsError> {
        if let Some(cached) = self.fresh_cached(now).await {
            return Ok(cached);
        }
        let _refreshing = self.refresh.lock().await;
        // Whoever refreshed while this caller waited has left fresh credentials behind.
        if let Some(cached) = self.fresh_cached(now).await {
            return Ok(cached);
        }
        let fresh = self.assume_role().await?;
        tracing::info!(
            access_key_id = %fresh.credentials.access_key_id,
            expiration = %fresh.expiration,
            "STS issued temporary credentials"
        );
        *self.cache.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    async fn fresh_cached(&self, now: OffsetDateTime) -> Option<TemporaryCredentials> {
        let cache = self.cache.read().await;
        cache
            .as_ref()
            .filter(|c| c.expiration - now > self.refresh_margin)
            .cloned()
    }

    async fn assume_role(&self) -> Result<TemporaryCredentials, StsError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let nonce = uuid::Uuid::new_v4().to_string();
        // The request's own time, whatever moment the freshness check was asked about.
        let timestamp = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("zero nanoseconds")
            .format(&Rfc3339)
            .expect("RFC 3339 formats");
        let duration = self.settings.duration_seconds.to_string();
        let params = [
            ("Action", "AssumeRole"),
            ("RoleArn", self.settings.role_arn.as_str()),
            ("RoleSessionName", self.settings.session_name.as_str()),
            ("DurationSeconds", duration.as_str()),
            ("Format", "JSON"),
            ("Version", "2015-04-01"),
            ("AccessKeyId", self.base.access_key_id.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce.as_str()),
            ("Timestamp", timestamp.as_str()),
        ];
        let canonical = sts::canonical_query(params);
        let signature = sts::signature(
            self.base.secret.expose_secret(),
            &sts::string_to_sign("POST", &canonical),
        );
        // POST with a form body, as ali-oss does; the verb is part of what is signed.
        let body = format!("{canonical}&Signature={}", sts::percent_encode(&signature));
        let response = self
            .http
            .post(&self.settings.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let reply: Reply = serde_json::from_slice(&bytes).map_err(|_| StsError::Malformed)?;
        match reply.credentials {
            Some(c) if status.is_success() => {
                let expiration = OffsetDateTime::parse(&c.expiration, &Rfc3339)
                    .map_err(|_| StsError::Malformed)?;
                Ok(TemporaryCredentials {
                    credentials: Credentials {
                        access_key_id: c.access_key_id,
                        secret: SecretString::from(c.access_key_secret),
                    },
                    security_token: SecretString::from(c.security_token),
                    expiration,
                })
            }
            _ => Err(StsError::Refused {
                code: reply.code.unwrap_or_else(|| status.as_u16().to_string()),
                message: reply.message.unwrap_or_default(),
            }),
        }
    }
}
