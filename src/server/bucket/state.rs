//! The bucket as its handlers see it: `Bucket` (name, region, store, keys, CORS rules, callback
//! signer), the settings it is opened from, and the per-request context.

use std::sync::Arc;

use super::callback::CallbackSigner;
use super::errors::{BucketError, OssCode};
use super::keys::{KeyError, KeyRing};
use super::store::ObjectStore;
use crate::server::protocol::cors::CorsRule;
use crate::server::protocol::credentials::Credentials;
use crate::server::protocol::encode_key;

/// What configuration hands the embedded bucket, checked.
#[derive(Clone, Debug)]
pub struct BucketSettings {
    pub name: String,
    /// The region V4 credential scopes must name.
    pub region: String,
    pub addr: std::net::SocketAddr,
    /// The URL browsers use for this bucket, with a trailing `/`.
    pub public_url: String,
    pub cors_origins: Vec<String>,
    pub data_dir: std::path::PathBuf,
    pub callback_key_file: Option<std::path::PathBuf>,
    /// The public-key URL named in callbacks (`x-oss-pub-key-url`).
    pub callback_public_key_url: String,
    /// The permanent AccessKey it accepts.
    pub credentials: Credentials,
    /// Where its local STS endpoint listens, if it runs.
    pub sts_addr: Option<std::net::SocketAddr>,
}

/// One bucket and everything it needs to answer requests.
pub struct Bucket {
    pub name: String,
    /// The region V4 credential scopes must name.
    pub region: String,
    /// The URL browsers use for this bucket, with a trailing `/`.
    pub public_url: String,
    /// What error documents give as `HostId`.
    pub host_id: String,
    pub store: ObjectStore,
    pub keys: Arc<KeyRing>,
    /// The bucket's CORS rules (PutBucketCors changes them; kept in `cors_file`).
    pub cors: std::sync::RwLock<Vec<CorsRule>>,
    pub cors_file: std::path::PathBuf,
    pub max_object_size: u64,
    /// Signs upload callbacks; its public key is served at `?callback-public-key`.
    pub callback: Option<Arc<CallbackSigner>>,
    /// The multipart uploads being written now.
    pub uploads: super::upload_locks::Uploads,
}

impl Bucket {
    /// The secret for a signed request, or the OSS error that refuses it.
    pub fn secret_for(
        &self,
        access_key_id: &str,
        security_token: Option<&str>,
        now: time::OffsetDateTime,
    ) -> Result<secrecy::SecretString, BucketError> {
        self.keys
            .secret(access_key_id, security_token, now)
            .map_err(|e| {
                let code = match e {
                    KeyError::Unknown => OssCode::InvalidAccessKeyId,
                    KeyError::InvalidToken => OssCode::InvalidSecurityToken,
                    KeyError::Expired => OssCode::SecurityTokenExpired,
                };
                BucketError::new(code, e.to_string())
            })
    }

    pub fn object_url(&self, key: &str) -> String {
        format!("{}{}", self.public_url, encode_key(key))
    }
}

/// Per-request facts every handler and error document needs.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
}

/// The value of `name` in a request's query (the first, when it repeats).
pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
