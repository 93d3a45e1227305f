//! GET and HEAD of stored objects. Reads are public (the bucket is public-read, so the portal's
//! links work); a request that carries an `Authorization` header is still verified, as OSS does.
//! What an uploader stored is served so that it cannot act as a page of this origin.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::state::{Bucket, RequestContext};
use crate::server::protocol::signing::v1;

pub async fn get_object(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    method: Method,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let with_body = method != Method::HEAD;
    if query.iter().any(|(name, _)| name == "uploadId") {
        return super::multipart::list_parts(&bucket, &ctx, &key, &query, &headers).await;
    }
    match read(&bucket, &method, &key, &query, &headers, with_body).await {
        Ok(response) => response,
        Err(error) => error.into_response(&ctx.request_id, &bucket.host_id, with_body),
    }
}

async fn read(
    bucket: &Bucket,
    method: &Method,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    with_body: bool,
) -> Result<Response, BucketError> {
    if super::auth::is_signed(headers, query) {
        super::auth::verify(bucket, method, key, headers, query)?;
    }
    let no_such_key = || BucketError::new(OssCode::NoSuchKey, "The specified key does not exist.");
    let (file, meta) = match bucket.store.open_object(key).await {
        Ok(Some(found)) => found,
        Ok(None) | Err(super::store::StoreError::InvalidKey(_)) => return Err(no_such_key()),
        Err(e) => return Err(BucketError::internal(e)),
    };
    let body = if with_body {
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            file,
            256 * 1024,
        ))
    } else {
        Body::empty()
    };
    let mut response = (StatusCode::OK, body).into_response();
    let out = response.headers_mut();
    let content_type = if meta.content_type.is_empty() {
        "application/octet-stream"
    } else {
        &meta.content_type
    };
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            out.insert(name, value);
        }
    };
    set("content-type", content_type);
    set("content-length", &meta.size.to_string());
    if let Some(etag) = &meta.etag {
        set("etag", &format!("\"{etag}\""));
    } else if !meta.md5_hex.is_empty() {
        set("etag", &format!("\"{}\"", meta.md5_hex));
        set("x-oss-hash-crc64ecma", &meta.crc64.to_string());
    }
    if let Ok(modified) = OffsetDateTime::from_unix_timestamp(meta.last_modified) {
        set("last-modified", &v1::http_date(modified));
    }
    for (name, value) in &meta.headers {
        set(name, value);
    }
    // Whatever its type, a stored object never runs as a page here: no sniffing, no script,
    // and anything but plain media is a download (uploads are other people's content).
    set("x-content-type-options", "nosniff");
    set("content-security-policy", OBJECT_POLICY);
    let stored = meta
        .headers
        .iter()
        .find(|(name, _)| name == "content-disposition")
        .map(|(_, value)| value.as_str());
    if let Some(disposition) = disposition(content_type, stored) {
        set("content-disposition", &disposition);
    }
    Ok(response)
}

/// `DELETE /<key>` deletes the object; `DELETE /<key>?uploadId=…` aborts a multipart upload.
pub async fn delete(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let result = match super::multipart::param(&query, "uploadId") {
        Some(id) => super::multipart::abort(&bucket, &key, id, &query, &headers).await,
        None => delete_object(&bucket, &key, &query, &headers).await,
    };
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `DELETE /<key>` (signed): removes the object; 204 whether or not it existed, as OSS does.
async fn delete_object(
    bucket: &Bucket,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Response, BucketError> {
    if !super::auth::is_signed(headers, query) {
        return Err(access_denied());
    }
    super::auth::verify(bucket, &Method::DELETE, key, headers, query)?;
    match bucket.store.delete(key).await {
        Ok(true) => tracing::info!(key, "object deleted"),
        Ok(false) | Err(super::store::StoreError::InvalidKey(_)) => {}
        Err(e) => return Err(BucketError::internal(e)),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn access_denied() -> BucketError {
    BucketError::new(
        OssCode::AccessDenied,
        "You have no right to access this object because of bucket acl.",
    )
}

/// `GET /?list-type=2` (ListObjectsV2, signed: objects are public to read, their names are
/// not): keys under `prefix`, 1000 a page, continued by `continuation-token`.
pub async fn list_objects(
    bucket: &Bucket,
    ctx: &RequestContext,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    let result = async {
        if !super::auth::is_signed(headers, query) {
            return Err(access_denied());
        }
        super::auth::verify(bucket, &Method::GET, "", headers, query)?;
        let param = |name: &str| {
            query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let prefix = param("prefix").unwrap_or("");
        let token = param("continuation-token").unwrap_or("");
        let after = match token {
            "" => param("start-after").unwrap_or("").to_owned(),
            token => {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| {
                        BucketError::new(
                            OssCode::InvalidArgument,
                            "The continuation token is not valid.",
                        )
                    })?
            }
        };
        let max: usize = param("max-keys")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
            .clamp(1, 1000);
        let (objects, truncated) = bucket
            .store
            .list(prefix, &after, max)
            .await
            .map_err(BucketError::internal)?;
        #[derive(serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Contents {
            key: String,
            last_modified: String,
            #[serde(rename = "ETag")]
            etag: String,
            size: u64,
            storage_class: &'static str,
        }
        #[derive(serde::Serialize)]
        #[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
        struct Listing<'a> {
            name: &'a str,
            prefix: &'a str,
            max_keys: usize,
            key_count: usize,
            is_truncated: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            next_continuation_token: Option<String>,
            contents: Vec<Contents>,
        }
        let next = truncated.then(|| {
            use base64::Engine;
            let last = objects.last().map_or("", |(key, _)| key.as_str());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
        });
        let xml = quick_xml::se::to_string(&Listing {
            name: &bucket.name,
            prefix,
            max_keys: max,
            key_count: objects.len(),
            is_truncated: truncated,
            next_continuation_token: next,
            contents: objects
                .into_iter()
                .map(|(key, meta)| Contents {
                    etag: format!("\"{}\"", meta.etag.as_deref().unwrap_or(&meta.md5_hex)),
                    last_modified: super::multipart::iso8601(meta.last_modified),
                    size: meta.size,
                    storage_class: "Standard",
                    key,
                })
                .collect(),
        })
        .map_err(BucketError::internal)?;
        Ok(super::multipart::xml_response(StatusCode::OK, xml))
    }
    .await;
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// Every object is served in a sandbox (GitHub's policy for raw user content).
pub const OBJECT_POLICY: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

/// Types a browser shows as media or text, never as a document that could run script
/// (SVG and XML can, and so can HTML: those are downloads).
fn shown_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "image/bmp"
            | "image/x-icon"
            | "image/vnd.microsoft.icon"
            | "video/mp4"
            | "video/webm"
            | "video/ogg"
            | "video/quicktime"
            | "audio/mpeg"
            | "audio/mp4"
            | "audio/ogg"
            | "audio/wav"
            | "audio/webm"
            | "audio/aac"
            | "audio/flac"
            | "text/plain"
    )
}

/// The `Content-Disposition` to serve, when it is not the stored one: a type that is not
/// plain media is an attachment whatever the uploader asked for.
fn disposition(content_type: &str, stored: Option<&str>) -> Option<String> {
    if shown_inline(content_type) {
        return None;
    }
    match stored {
        Some(value)
            if value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment") =>
        {
            None
        }
        _ => Some("attachment".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_media_is_shown_inline() {
        for shown in [
            "image/png",
            "IMAGE/JPEG",
            "video/mp4",
            "text/plain; charset=utf-8",
        ] {
            assert_eq!(disposition(shown, None), None, "{shown}");
        }
        for download in [
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/xml",
            "application/xhtml+xml",
            "application/pdf",
            "application/octet-stream",
            "",
        ] {
            assert_eq!(disposition(download, None).as_deref(), Some("attachment"));
            // An uploader's `inline` does not win; its own attachment (with a name) is kept.
            assert_eq!(
                disposition(download, Some("inline")).as_deref(),
                Some("attachment")
            );
            assert_eq!(
                disposition(download, Some("attachment; filename=\"a.html\"")),
                None
            );
        }
    }
}
