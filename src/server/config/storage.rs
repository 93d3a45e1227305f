//! The storage half of the configuration: which bucket, where, with which keys and how they
//! sign (OSS V1/V4, STS, S3), and the embedded bucket's own settings for the `local` target.

use secrecy::SecretString;

use super::{check_url, config_error, with_slash, Config, ConfigError, TargetKind};
use crate::server::bucket::BucketSettings;
use crate::server::portal::settings::UploadRules;
use crate::server::portal::storage::sts::StsSettings;
use crate::server::portal::storage::{OssSigning, S3Settings, Store, TargetSettings};
use crate::server::protocol::credentials::{
    is_role_arn, is_session_name, Credentials, SESSION_DURATIONS,
};
use crate::server::protocol::signing::SignatureVersion;

/// Where the bucket is, checked before its keys.
enum Place {
    Local {
        url: String,
        callback_public_key_url: String,
    },
    Oss {
        url: String,
        region: String,
    },
    S3(S3Settings),
}

impl Config {
    /// The portal's target, and the embedded bucket when the target is `local`. Checked in
    /// order: where the bucket is, its name, the keys, how they sign.
    pub(super) fn storage(
        &self,
        public_url: &str,
        rules: &UploadRules,
    ) -> Result<(TargetSettings, Option<BucketSettings>), ConfigError> {
        let bucket = match (&self.bucket, self.target) {
            (Some(bucket), _) => bucket.clone(),
            (None, TargetKind::Local) => "portal-dev".to_owned(),
            (None, TargetKind::Oss) => {
                return Err(config_error("PORTAL_BUCKET", "required for the oss target"))
            }
            (None, TargetKind::S3) => {
                return Err(config_error("PORTAL_BUCKET", "required for the s3 target"))
            }
        };
        let place = match self.target {
            TargetKind::Local => {
                let (url, callback_public_key_url) = self.embedded_urls(&bucket)?;
                Place::Local {
                    url,
                    callback_public_key_url,
                }
            }
            TargetKind::Oss => {
                let (url, region) = self.oss_bucket(&bucket)?;
                Place::Oss { url, region }
            }
            TargetKind::S3 => Place::S3(self.s3_settings()?),
        };
        check_bucket_name(&bucket)?;
        let (credentials, generated_credentials) = self.credentials()?;
        if self.local_sts_addr.is_some() && self.target != TargetKind::Local {
            return Err(config_error(
                "PORTAL_LOCAL_STS_ADDR",
                "only the local target runs a local STS endpoint",
            ));
        }
        let (url, region, store, embedded) = match place {
            Place::Local {
                url,
                callback_public_key_url,
            } => {
                let signing = self.oss_signing(rules, generated_credentials)?;
                let embedded = BucketSettings {
                    name: bucket.clone(),
                    region: self.oss_region.clone().unwrap_or_else(|| "local".into()),
                    addr: self.bucket_addr,
                    public_url: url,
                    cors_origins: self.cors_origins(public_url),
                    data_dir: self.data_dir.clone(),
                    callback_key_file: self.callback_key_file.clone(),
                    callback_public_key_url,
                    credentials: credentials.clone(),
                    sts_addr: self.local_sts_addr,
                };
                let (url, region) = (embedded.public_url.clone(), embedded.region.clone());
                (url, region, Store::Local(signing), Some(embedded))
            }
            Place::Oss { url, region } => {
                let signing = self.oss_signing(rules, generated_credentials)?;
                (url, region, Store::Oss(signing), None)
            }
            Place::S3(s3) => {
                if self.sts_role_arn.is_some() {
                    return Err(config_error(
                        "OSS_STS_ROLE_ARN",
                        "STS AssumeRole is for OSS; give S3 temporary keys with S3_SESSION_TOKEN",
                    ));
                }
                let url = s3.bucket_url(&bucket);
                (url, self.s3_region.trim().to_owned(), Store::S3(s3), None)
            }
        };
        let target = TargetSettings {
            bucket,
            url,
            region,
            credentials,
            generated_credentials,
            store,
        };
        Ok((target, embedded))
    }

    /// The embedded bucket's URL and callback public-key URL, checked with its address. On an
    /// IP or `localhost` the bucket is addressed path-style (`http://127.0.0.1:9300/<bucket>/`),
    /// as the SDKs address it there, so a folder named like the bucket stays a folder.
    fn embedded_urls(&self, bucket: &str) -> Result<(String, String), ConfigError> {
        let mut url = with_slash(
            self.bucket_url
                .clone()
                .unwrap_or_else(|| format!("http://{}/", self.bucket_addr)),
        );
        check_url("PORTAL_BUCKET_URL", &url)?;
        let authority = url
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        if crate::server::bucket::addressing::is_bare_host(authority)
            && url.ends_with(&format!("{authority}/"))
        {
            url = format!("{url}{bucket}/");
        }
        if self.bucket_addr.port() == self.site_addr.port() {
            return Err(config_error(
                "PORTAL_BUCKET_ADDR",
                "must use another port than the portal",
            ));
        }
        let callback_public_key_url = self
            .callback_public_key_url
            .clone()
            .unwrap_or_else(|| format!("{url}?callback-public-key"));
        check_url("PORTAL_CALLBACK_PUBLIC_KEY_URL", &callback_public_key_url)?;
        Ok((url, callback_public_key_url))
    }

    /// The origins the embedded bucket's CORS rule lets in: PORTAL_CORS_ORIGINS, or the
    /// portal's own (and its loopback twin).
    fn cors_origins(&self, public_url: &str) -> Vec<String> {
        if self.cors_origins.is_empty() {
            default_origins(public_url)
        } else {
            self.cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect()
        }
    }

    /// An OSS bucket's form action and region, from OSS_ENDPOINT and/or OSS_REGION.
    fn oss_bucket(&self, bucket: &str) -> Result<(String, String), ConfigError> {
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
        Ok((format!("https://{bucket}.{endpoint}/"), region))
    }

    /// The configured AccessKey pair (`true` when generated: `local` without one).
    fn credentials(&self) -> Result<(Credentials, bool), ConfigError> {
        match (self.access_key_id.clone(), self.access_key_secret.clone()) {
            (Some(id), Some(secret)) => Ok((
                Credentials {
                    access_key_id: id.trim().to_owned(),
                    secret,
                },
                false,
            )),
            (None, None) if self.target == TargetKind::Local => Ok((generate_credentials(), true)),
            (id, _) => {
                let variable = if id.is_none() {
                    "OSS_ACCESS_KEY_ID"
                } else {
                    "OSS_ACCESS_KEY_SECRET"
                };
                Err(config_error(
                    variable,
                    "required (set both OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET)",
                ))
            }
        }
    }

    /// How OSS policies are signed: the version, and STS when a role is set.
    fn oss_signing(
        &self,
        rules: &UploadRules,
        generated_credentials: bool,
    ) -> Result<OssSigning, ConfigError> {
        Ok(OssSigning {
            version: self.signature_version,
            sts: self.sts_settings(rules, generated_credentials)?,
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
        if !is_role_arn(&role_arn) {
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
        if !SESSION_DURATIONS.contains(&self.sts_duration) {
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
        if !is_session_name(name) {
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
}

/// `oss-cn-hangzhou.aliyuncs.com` (or its `-internal` twin) → `cn-hangzhou`.
pub(super) fn region_of_endpoint(endpoint: &str) -> Option<String> {
    let host = endpoint
        .strip_suffix(".aliyuncs.com")?
        .strip_prefix("oss-")?;
    let region = host.strip_suffix("-internal").unwrap_or(host);
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
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
