//! Verifying a callback request as an app server must: the public-key URL must be on the
//! allowlist before it is fetched, keys are cached, and the RSA-MD5 signature must match.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::RsaPublicKey;

use crate::server::protocol::signing::callback;

/// Alibaba's own key host, over https only (a key fetched over http could be swapped).
pub const ALIBABA_KEY_PREFIXES: [&str; 1] = ["https://gosspublic.alicdn.com/"];
/// Largest public-key document fetched.
const MAX_KEY_BYTES: usize = 16 * 1024;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRefusal {
    #[error("the callback request is not signed")]
    Unsigned,
    #[error("the callback's public key URL is not allowed")]
    KeyUrlNotAllowed,
    #[error("the callback's public key could not be fetched")]
    KeyUnavailable,
    #[error("the callback signature does not match")]
    BadSignature,
}

pub struct CallbackVerifier {
    /// A URL is allowed when it equals an entry, or starts with an entry that ends in `/`.
    allowed: Vec<String>,
    http: reqwest::Client,
    /// Keys fetched so far; the lock is never held while one is fetched.
    keys: std::sync::Mutex<HashMap<String, RsaPublicKey>>,
}

impl CallbackVerifier {
    pub fn new(extra_allowed: Vec<String>) -> Self {
        let mut allowed: Vec<String> = ALIBABA_KEY_PREFIXES.iter().map(|p| p.to_string()).collect();
        allowed.extend(extra_allowed);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds with static settings");
        CallbackVerifier {
            allowed,
            http,
            keys: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn is_allowed(&self, url: &str) -> bool {
        self.allowed
            .iter()
            .any(|entry| url == entry || (entry.ends_with('/') && url.starts_with(entry.as_str())))
    }

    /// Checks the request's `authorization` against the key its `x-oss-pub-key-url` names.
    pub async fn verify(
        &self,
        raw_path: &str,
        raw_query: Option<&str>,
        body: &[u8],
        authorization: Option<&str>,
        pub_key_url: Option<&str>,
    ) -> Result<(), CallbackRefusal> {
        let (Some(authorization), Some(pub_key_url)) = (authorization, pub_key_url) else {
            return Err(CallbackRefusal::Unsigned);
        };
        let url = BASE64
            .decode(pub_key_url.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(CallbackRefusal::KeyUrlNotAllowed)?;
        if !self.is_allowed(&url) {
            return Err(CallbackRefusal::KeyUrlNotAllowed);
        }
        let key = self.key(&url).await?;
        let message = callback::string_to_sign(raw_path, raw_query, body);
        if callback::verify(&key, &message, authorization) {
            Ok(())
        } else {
            Err(CallbackRefusal::BadSignature)
        }
    }

    async fn key(&self, url: &str) -> Result<RsaPublicKey, CallbackRefusal> {
        let cached = self.keys.lock().expect("key cache lock").get(url).cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        let fetched = async {
            let response = self.http.get(url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let bytes = response.bytes().await.ok()?;
            if bytes.len() > MAX_KEY_BYTES {
                return None;
            }
            callback::parse_public_key(std::str::from_utf8(&bytes).ok()?)
        }
        .await;
        let key = fetched.ok_or(CallbackRefusal::KeyUnavailable)?;
        self.keys
            .lock()
            .expect("key cache lock")
            .insert(url.to_owned(), key.clone());
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_matches_prefixes_and_exact_urls() {
        let v = CallbackVerifier::new(vec!["http://127.0.0.1:9300/?callback-public-key".into()]);
        assert!(v.is_allowed("https://gosspublic.alicdn.com/callback_pub_key_v1.pem"));
        assert!(!v.is_allowed("http://gosspublic.alicdn.com/callback_pub_key_v1.pem"));
        assert!(v.is_allowed("http://127.0.0.1:9300/?callback-public-key"));
        assert!(!v.is_allowed("https://gosspublic.alicdn.com.evil.test/key.pem"));
        assert!(!v.is_allowed("http://127.0.0.1:9300/?callback-public-key&x"));
        assert!(!v.is_allowed("https://evil.test/callback_pub_key_v1.pem"));
    }
}
