//! The upload callback as OSS performs it: after the object is stored, POST the rendered body
//! to the app server, signed with this bucket's RSA key, and pass its JSON reply back.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use rsa::RsaPrivateKey;

use crate::server::protocol::callback::CallbackSpec;
use crate::server::protocol::signing::callback;

/// OSS accepts at most this much JSON from the app server.
const MAX_REPLY: usize = 1024 * 1024;

pub struct CallbackSigner {
    key: RsaPrivateKey,
    /// Where the public key is served (sent base64-encoded as `x-oss-pub-key-url`).
    pub public_key_url: String,
    pub public_key_pem: String,
    http: reqwest::Client,
}

impl CallbackSigner {
    pub fn new(key: RsaPrivateKey, public_key_url: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds with static settings");
        let public_key_pem = callback::public_key_pem(&key);
        CallbackSigner {
            key,
            public_key_url,
            public_key_pem,
            http,
        }
    }

    /// Sends the callback to each URL in turn until one answers 200 with JSON; the reply body,
    /// or why every URL failed (OSS's `CallbackFailed` message).
    pub async fn call(&self, spec: &CallbackSpec, body: String) -> Result<Bytes, String> {
        let mut failure = String::from("The callback was not sent.");
        for url in spec.urls() {
            let Ok(parsed) = reqwest::Url::parse(url) else {
                continue;
            };
            let message = callback::string_to_sign(parsed.path(), parsed.query(), body.as_bytes());
            let mut request = self
                .http
                .post(parsed.clone())
                .header("content-type", spec.body_type())
                .header("authorization", callback::sign(&self.key, &message))
                .header(
                    "x-oss-pub-key-url",
                    BASE64.encode(self.public_key_url.as_bytes()),
                )
                .body(body.clone());
            if let Some(host) = &spec.callback_host {
                request = request.header("host", host);
            }
            match request.send().await {
                Err(error) => {
                    tracing::info!(%error, url, "callback request failed");
                    failure = format!(
                        "Error connecting to the callback server {}.",
                        parsed.host_str().unwrap_or("")
                    );
                }
                Ok(response) if response.status().as_u16() != 200 => {
                    failure = format!("Error status : {}.", response.status().as_u16());
                }
                Ok(response) => match response.bytes().await {
                    Ok(reply)
                        if reply.len() <= MAX_REPLY
                            && serde_json::from_slice::<serde_json::Value>(&reply).is_ok() =>
                    {
                        return Ok(reply)
                    }
                    Ok(_) => failure = "Response body is not valid json format.".into(),
                    Err(_) => failure = "Error reading the callback server's response.".into(),
                },
            }
        }
        Err(failure)
    }
}
