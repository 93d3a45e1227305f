//! Sending a request's webhook: each arrival and each sender's finished batch, in the
//! background, to an address checked as public and pinned, retried with backoff.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;

use super::webhook::{batch_body, body, is_public, literal_ip, signature};
use super::{Sender, UploadRequest};
use crate::server::portal::state::AppState;

/// Waits before each retry after the first try; then the delivery is given up.
const RETRIES: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];
/// One delivery's time limit.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Announces upload `entry_id` to its request's webhook, if it has one: in the background,
/// with retries; each try's outcome is kept on the request for its page.
pub async fn notify(state: &AppState, request_id: &str, entry_id: &str) {
    let (Ok(Some(request)), Ok(Some(entry))) = (
        state.ledger.request(request_id).await,
        state.ledger.entry(entry_id).await,
    ) else {
        return;
    };
    if !request.webhook_url.is_empty() {
        let body = body(request.webhook_kind, &request, &entry);
        send(state, request, body);
    }
}

/// A sender's page finished a batch: its request's webhook, if it has one, hears once of
/// what this sender (by name and note) stored that no batch message has told yet.
pub async fn notify_batch(state: &AppState, sender: &Sender) -> Result<(), sqlx::Error> {
    let request = &sender.request;
    if request.webhook_url.is_empty() {
        return Ok(());
    }
    let told = state
        .ledger
        .take_batch(&request.id, &sender.name, &sender.note)
        .await?;
    if !told.is_empty() {
        let body = batch_body(
            request.webhook_kind,
            request,
            &sender.name,
            &sender.note,
            &told,
        );
        send(state, request.clone(), body);
    }
    Ok(())
}

/// POSTs `body` to `request`'s webhook in the background, retried with backoff; each try's
/// outcome is kept on the request for its page.
fn send(state: &AppState, request: UploadRequest, body: String) {
    let state = state.clone();
    tokio::spawn(async move {
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
