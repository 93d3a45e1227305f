//! `POST /oss/callback`: where the bucket tells the portal an upload is stored. Verified before
//! anything is read; recorded once; the JSON reply reaches the browser through the bucket.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::completion::{complete_from_callback, CallbackReport};
use super::state::AppState;

/// Largest callback body read.
pub const MAX_BODY: usize = 64 * 1024;

pub async fn receive(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(verifier) = &state.callbacks else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "callbacks are not configured"})),
        )
            .into_response();
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let verified = verifier
        .verify(
            uri.path(),
            uri.query(),
            &body,
            text("authorization"),
            text("x-oss-pub-key-url"),
        )
        .await;
    if let Err(refusal) = verified {
        tracing::warn!(%refusal, "callback refused");
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": refusal.to_string()})),
        )
            .into_response();
    }
    let is_json =
        text(header::CONTENT_TYPE.as_str()).is_some_and(|t| t.starts_with("application/json"));
    let Some(record) = parse(&body, is_json) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "the callback body lacks object, etag or size"})),
        )
            .into_response();
    };
    match complete_from_callback(&state, &record).await {
        Ok(Some(new)) => {
            tracing::info!(key = %record.key, etag = %record.etag, size = record.size, new, "upload recorded");
            Json(json!({
                "message": "Recorded by the portal.",
                // The page says it in the reader's language (the bucket calls without one).
                "recorded": true,
                "key": record.key,
                "etag": record.etag,
                "size": record.size,
            }))
            .into_response()
        }
        Ok(None) => {
            tracing::warn!(key = %record.key, "callback for an upload the ledger does not hold");
            (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "no ledger entry for this upload"})),
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "the ledger could not be written");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "not recorded"})),
            )
                .into_response()
        }
    }
}

/// The upload a callback body describes (form or JSON, as the template made it).
fn parse(body: &[u8], is_json: bool) -> Option<CallbackReport> {
    let pairs: Vec<(String, String)> = if is_json {
        let Value::Object(map) = serde_json::from_slice(body).ok()? else {
            return None;
        };
        map.into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect()
    } else {
        body.split(|b| *b == b'&')
            .filter_map(|pair| {
                let text = std::str::from_utf8(pair).ok()?.replace('+', " ");
                let (k, v) = text.split_once('=')?;
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .ok()
                        .map(|c| c.into_owned())
                };
                Some((decode(k)?, decode(v)?))
            })
            .collect()
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Some(CallbackReport {
        key: get("object").filter(|k| !k.is_empty())?,
        etag: get("etag")
            .filter(|e| !e.is_empty())?
            .trim_matches('"')
            .to_owned(),
        size: get("size")?.parse().ok()?,
        ticket: get("ticket").unwrap_or_default(),
    })
}
