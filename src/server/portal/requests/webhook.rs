//! What a request's webhook is: its URL (http(s), public addresses), its body (signed JSON, or
//! a WeCom / DingTalk group robot's message) and its signature; pure. Sending: `delivery.rs`.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use reqwest::Url;
use serde_json::json;
use sha2::Sha256;

use super::UploadRequest;
use crate::error::RequestNotice;
use crate::format::format_size;
use crate::model::LedgerEntry;

/// The longest webhook URL taken.
const MAX_URL: usize = 2048;

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
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
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
    let upload = Upload::of(entry);
    if kind == WebhookKind::Json {
        return json!({
            "event": "upload",
            "request": {"id": request.id, "title": request.title},
            "sender": entry.sender_name,
            "note": entry.sender_note,
            "key": upload.key,
            "file_name": upload.name,
            "size": upload.size,
            "etag": upload.etag,
            "completed_at": upload.completed_at,
        })
        .to_string();
    }
    let mut text = format!(
        "**{}**\n{}: {} ({})",
        request.title,
        shown_sender(&entry.sender_name),
        upload.name,
        format_size(upload.size)
    );
    quote_note(&mut text, &entry.sender_note);
    robot(kind, request, text)
}

/// Files listed by name in a robot's batch message at most (the JSON lists them all).
const LISTED: usize = 20;

/// The body announcing a sender's finished batch, `entries` (one sender's: `name`, `note`),
/// through `request`, as `kind` wants it.
pub fn batch_body(
    kind: WebhookKind,
    request: &UploadRequest,
    name: &str,
    note: &str,
    entries: &[LedgerEntry],
) -> String {
    let uploads: Vec<Upload> = entries.iter().map(Upload::of).collect();
    let bytes: u64 = uploads.iter().map(|u| u.size).sum();
    if kind == WebhookKind::Json {
        return json!({
            "event": "batch",
            "request": {"id": request.id, "title": request.title},
            "sender": name,
            "note": note,
            "files": uploads.len(),
            "bytes": bytes,
            "uploads": uploads,
        })
        .to_string();
    }
    let mut text = format!(
        "**{}**\n{}: {} files / {} 个文件 ({})",
        request.title,
        shown_sender(name),
        uploads.len(),
        uploads.len(),
        format_size(bytes)
    );
    for upload in uploads.iter().take(LISTED) {
        text.push_str(&format!(
            "\n- {} ({})",
            upload.name,
            format_size(upload.size)
        ));
    }
    if uploads.len() > LISTED {
        text.push_str(&format!("\n- … +{}", uploads.len() - LISTED));
    }
    quote_note(&mut text, note);
    robot(kind, request, text)
}

/// One stored upload as a webhook tells it.
#[derive(serde::Serialize)]
struct Upload<'a> {
    key: &'a str,
    #[serde(rename = "file_name")]
    name: &'a str,
    size: u64,
    etag: Option<&'a str>,
    completed_at: String,
}

impl<'a> Upload<'a> {
    fn of(entry: &'a LedgerEntry) -> Self {
        Upload {
            key: &entry.key,
            name: if entry.file_name.is_empty() {
                entry.key.rsplit('/').next().unwrap_or_default()
            } else {
                &entry.file_name
            },
            size: entry.stored_size.unwrap_or(entry.declared_size),
            etag: entry.etag.as_deref(),
            completed_at: time::OffsetDateTime::from_unix_timestamp(
                entry.completed_at.unwrap_or(0),
            )
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
        }
    }
}

/// A sender as a robot's message names them ("—" for one who gave no name).
fn shown_sender(name: &str) -> &str {
    if name.is_empty() {
        "—"
    } else {
        name
    }
}

/// A sender's note, quoted under a robot's message.
fn quote_note(text: &mut String, note: &str) {
    if !note.is_empty() {
        text.push_str(&format!("\n> {}", note.replace('\n', "\n> ")));
    }
}

/// A WeCom or DingTalk group robot's markdown message of `text`.
fn robot(kind: WebhookKind, request: &UploadRequest, text: String) -> String {
    match kind {
        WebhookKind::DingTalk => {
            json!({"msgtype": "markdown", "markdown": {"title": request.title, "text": text}})
        }
        _ => json!({"msgtype": "markdown", "markdown": {"content": text}}),
    }
    .to_string()
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
        let batch: serde_json::Value = serde_json::from_str(&batch_body(
            WebhookKind::Json,
            &request,
            "Li Lei",
            "day 1",
            &[entry.clone(), entry.clone()],
        ))
        .unwrap();
        assert_eq!(batch["event"], "batch");
        assert_eq!(batch["files"], 2);
        assert_eq!(batch["bytes"], 4000);
        assert_eq!(batch["uploads"][1]["file_name"], "a.jpg");
        assert_eq!(batch["uploads"][0]["completed_at"], "2026-01-01T00:00:00Z");
        let many = vec![entry.clone(); LISTED + 3];
        let robot: serde_json::Value =
            serde_json::from_str(&batch_body(WebhookKind::WeCom, &request, "", "", &many)).unwrap();
        let text = robot["markdown"]["content"].as_str().unwrap();
        assert!(
            text.starts_with("**Trip photos**\n—: 23 files / 23 个文件 (46.0 KB)"),
            "{text}"
        );
        assert_eq!(text.matches("\n- a.jpg (2.0 KB)").count(), LISTED);
        assert!(text.ends_with("\n- … +3"), "{text}");
        // HMAC-SHA256("key", "1700000000.{}"), as `openssl dgst -sha256 -hmac key` computes it.
        assert_eq!(
            signature("key", 1_700_000_000, "{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
