//! Webhooks of upload requests: each upload that arrives is POSTed to the request's URL, as
//! signed JSON or as a WeCom / DingTalk group-robot message; retried, never blocking the upload.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Url;
use serde_json::json;
use sha2::Sha256;

use super::UploadRequest;
use crate::error::RequestNotice;
use crate::format::format_size;
use crate::model::LedgerEntry;
use crate::server::portal::state::AppState;

/// The longest webhook URL taken.
const MAX_URL: usize = 2048;
/// Waits before each retry after the first try; then the delivery is given up.
const RETRIES: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];
/// One delivery's time limit.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What a webhook's body looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookKind {
    /// Our JSON, signed (`X-Portal-Signature`).
    Json,
    /// A WeCom (企业微信) group robot's markdown message.
    WeCom,
    /// A DingTalk (钉钉) group robot's markdown message.
    DingTalk,
}

impl WebhookKind {
    pub fn parse(text: &str) -> Self {
        match text {
            "wecom" => WebhookKind::WeCom,
            "dingtalk" => WebhookKind::DingTalk,
            _ => WebhookKind::Json,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Json => "json",
            WebhookKind::WeCom => "wecom",
            WebhookKind::DingTalk => "dingtalk",
        }
    }
}

/// A webhook URL as typed: empty (none), or http(s) with a host, no user or password, and,
/// when the host is an address, a public one (unless `allow_private`).
pub fn check_url(text: &str, allow_private: bool) -> Result<String, RequestNotice> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    let bad = RequestNotice::BadWebhook;
    if text.len() > MAX_URL {
        return Err(bad);
    }
    let url = Url::parse(text).map_err(|_| bad)?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad);
    }
    if let Some(ip) = literal_ip(&url) {
        if !allow_private && !is_public(ip) {
            return Err(bad);
        }
    }
    Ok(url.to_string())
}

/// The URL's host when it is an IP address.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    // The parser writes addresses out canonically (`127.1` is `127.0.0.1`; IPv6 in brackets).
    let host = url.host_str()?;
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()
}

/// An address on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, multicast, broadcast or documentation, in IPv4 or IPv6 (mapped ones included).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || v6.segments()[0] == 0x2001 && v6.segments()[1] == 0x0db8)
            }
        },
    }
}

/// `sha256=<hex>`: the HMAC-SHA256, under the request's webhook key, of `<timestamp>.<body>`.
pub fn signature(key: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "sha256={}",
        crate::server::protocol::signing::hex(&mac.finalize().into_bytes())
    )
}

/// The body announcing `entry`'s arrival through `request`, as `kind` wants it.
pub fn body(kind: WebhookKind, request: &UploadRequest, entry: &LedgerEntry) -> String {
    let size = entry.stored_size.unwrap_or(entry.declared_size);
    let name = if entry.file_name.is_empty() {
        entry.key.rsplit('/').next().unwrap_or_default()
    } else {
        entry.file_name.as_str()
    };
    let completed = time::OffsetDateTime::from_unix_timestamp(entry.completed_at.unwrap_or(0))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let sender = if entry.sender_name.is_empty() {
        "—"
    } else {
        entry.sender_name.as_str()
    };
    let mut text = format!(
        "**{}**\n{sender}: {name} ({})",
        request.title,
        format_size(size)
    );
    if !entry.sender_note.is_empty() {
        text.push_str(&format!("\n> {}", entry.sender_note.replace('\n', "\n> ")));
    }
    match kind {
        WebhookKind::Json => json!({
            "event": "upload",
            "request": {"id": request.id, "title": request.title},
            "sender": entry.sender_name,
            "note": entry.sender_note,
            "key": entry.key,
            "file_name": name,
            "size": size,
            "etag": entry.etag,
            "completed_at": completed,
        }),
        WebhookKind::WeCom => json!({"msgtype": "markdown", "markdown": {"content": text}}),
        WebhookKind::DingTalk => {
            json!({"msgtype": "markdown", "markdown": {"title": request.title, "text": text}})
        }
    }
    .to_string()
}

/// Announces upload `entry_id` to its request's webhook, if it has one: in the background,
/// with retries; each try's outcome is kept on the request for its page.
pub async fn notify(state: &AppState, request_id: &str, entry_id: &str) {
    let (Ok(Some(request)), Ok(Some(entry))) = (
        state.ledger.request(request_id).await,
        state.ledger.entry(entry_id).await,
    ) else {
        return;
    };
    if request.webhook_url.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let body = body(request.webhook_kind, &request, &entry);
        let key = state.links.webhook_key(&request.id);
        let tries = RETRIES.len() + 1;
        for attempt in 0..tries {
            if attempt > 0 {
                tokio::time::sleep(RETRIES[attempt - 1]).await;
            }
            let outcome = deliver(&state, &request.webhook_url, &key, &body).await;
            let status = match &outcome {
                Ok(code) => format!("HTTP {code}"),
                Err(why) => format!("{why} (try {} of {tries})", attempt + 1),
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let _ = state
                .ledger
                .webhook_delivered(&request.id, &status, now)
                .await;
            match outcome {
                Ok(code) if (200..300).contains(&code) => return,
                Ok(code) => tracing::warn!(request = %request.id, code, "webhook refused"),
                Err(why) => tracing::warn!(request = %request.id, %why, "webhook failed"),
            }
        }
    });
}

/// One POST of `body` to `url`, to an address checked as public (unless allowed) and pinned
/// (a name that resolves again differently is not followed), without redirects.
async fn deliver(state: &AppState, url: &str, key: &str, body: &str) -> Result<u16, String> {
    let url = Url::parse(url).map_err(|_| "not a URL".to_owned())?;
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("no port")?;
    let allow_private = state.access.webhooks_to_private;
    let address: SocketAddr = match literal_ip(&url) {
        Some(ip) => SocketAddr::new(ip, port),
        None => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| "the host name does not resolve".to_owned())?
            .find(|a| allow_private || is_public(a.ip()))
            .ok_or("the host name resolves to no public address")?,
    };
    if !allow_private && !is_public(address.ip()) {
        return Err("not a public address".into());
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .resolve(&host, address)
        .build()
        .map_err(|_| "no HTTP client".to_owned())?;
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "upload-portal webhook")
        .header("x-portal-timestamp", timestamp.to_string())
        .header("x-portal-signature", signature(key, timestamp, body))
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else {
                "could not connect".to_owned()
            }
        })?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_http_and_public() {
        for good in [
            "https://hooks.example.com/x?token=1",
            "http://93.184.216.34:8080/h",
            "",
        ] {
            assert!(check_url(good, false).is_ok(), "{good}");
        }
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "http://127.0.0.1:3000/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "not a url",
        ] {
            assert_eq!(
                check_url(bad, false),
                Err(RequestNotice::BadWebhook),
                "{bad}"
            );
        }
        // An administrator may allow the private ones (a webhook on the same network).
        assert!(check_url("http://127.0.0.1:3000/", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/", true).is_err());
        assert!(is_public("2606:4700::1111".parse().unwrap()));
        assert!(!is_public("fd00::1".parse().unwrap()));
        assert!(!is_public("fe80::1".parse().unwrap()));
    }

    #[test]
    fn bodies_say_who_sent_what_and_are_signed() {
        let request = super::super::tests::sample();
        let entry = LedgerEntry {
            id: "e1".into(),
            user: "alice".into(),
            key: "uploads/alice/trip/a.jpg".into(),
            url: String::new(),
            declared_size: 2000,
            content_type: "image/jpeg".into(),
            signed_at: 0,
            expires_at: 0,
            completed_at: Some(1_767_225_600),
            etag: Some("ABC".into()),
            stored_size: Some(2000),
            completed_by: Some("head".into()),
            client_ip: String::new(),
            user_agent: String::new(),
            file_name: "a.jpg".into(),
            deleted_at: None,
            deleted_by: None,
            request_id: request.id.clone(),
            sender_name: "Li Lei".into(),
            sender_note: "day 1\nday 2".into(),
        };
        let generic: serde_json::Value =
            serde_json::from_str(&body(WebhookKind::Json, &request, &entry)).unwrap();
        assert_eq!(generic["sender"], "Li Lei");
        assert_eq!(generic["key"], "uploads/alice/trip/a.jpg");
        assert_eq!(generic["size"], 2000);
        assert_eq!(generic["completed_at"], "2026-01-01T00:00:00Z");
        let wecom: serde_json::Value =
            serde_json::from_str(&body(WebhookKind::WeCom, &request, &entry)).unwrap();
        assert_eq!(wecom["msgtype"], "markdown");
        assert_eq!(
            wecom["markdown"]["content"],
            "**Trip photos**\nLi Lei: a.jpg (2.0 KB)\n> day 1\n> day 2"
        );
        let dingtalk: serde_json::Value =
            serde_json::from_str(&body(WebhookKind::DingTalk, &request, &entry)).unwrap();
        assert_eq!(dingtalk["markdown"]["title"], "Trip photos");
        // HMAC-SHA256("key", "1700000000.{}"), as `openssl dgst -sha256 -hmac key` computes it.
        assert_eq!(
            signature("key", 1_700_000_000, "{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
