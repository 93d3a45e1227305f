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

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::errors::{BucketError, OssCode};
use super::ranges::{self, Wanted};
use super::state::{Bucket, RequestContext};
use crate::server::protocol::content;
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
    match read(&bucket, &ctx, &method, &key, &query, &headers, with_body).await {
        Ok(response) => response,
        Err(error) => error.into_response(&ctx.request_id, &bucket.host_id, with_body),
    }
}

async fn read(
    bucket: &Bucket,
    ctx: &RequestContext,
    method: &Method,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    with_body: bool,
) -> Result<Response, BucketError> {
    let signed = super::auth::is_signed(headers, query);
    if signed {
        super::auth::verify(bucket, method, key, headers, query)?;
    }
    let no_such_key = || BucketError::new(OssCode::NoSuchKey, "The specified key does not exist.");
    let (mut file, meta) = match bucket.store.open_object(key).await {
        Ok(Some(found)) => found,
        Ok(None) | Err(super::store::StoreError::InvalidKey(_)) => return Err(no_such_key()),
        Err(e) => return Err(BucketError::internal(e)),
    };
    let etag = format!("\"{}\"", meta.etag.as_deref().unwrap_or(&meta.md5_hex));
    let status = match preconditions(headers, &etag, meta.last_modified) {
        Precondition::Failed => {
            return Err(BucketError::new(
                OssCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold.",
            ))
        }
        Precondition::NotModified => StatusCode::NOT_MODIFIED,
        Precondition::Met => StatusCode::OK,
    };
    let range = match status {
        StatusCode::OK => ranges::wanted(
            headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
            meta.size,
            headers
                .get("x-oss-range-behavior")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"standard")),
        ),
        _ => Wanted::Whole,
    };
    let (status, first, length) = match range {
        Wanted::Whole => (status, 0, meta.size),
        Wanted::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Wanted::Unsatisfiable => {
            let mut refused = BucketError::new(
                OssCode::InvalidRange,
                "The requested range cannot be satisfied.",
            )
            .into_response(&ctx.request_id, &bucket.host_id, with_body);
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", meta.size)) {
                refused.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(refused);
        }
    };
    let body = if with_body && status != StatusCode::NOT_MODIFIED {
        if first > 0 {
            file.seek(std::io::SeekFrom::Start(first))
                .await
                .map_err(BucketError::internal)?;
        }
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            file.take(length),
            256 * 1024,
        ))
    } else {
        Body::empty()
    };
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            out.insert(name, value);
        }
    };
    set("etag", &etag);
    if let Ok(modified) = OffsetDateTime::from_unix_timestamp(meta.last_modified) {
        set("last-modified", &v1::http_date(modified));
    }
    set("accept-ranges", "bytes");
    if status == StatusCode::NOT_MODIFIED {
        return Ok(response);
    }
    let mut content_type = if meta.content_type.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        meta.content_type.clone()
    };
    set("content-length", &length.to_string());
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            "content-range",
            &format!("bytes {first}-{}/{}", first + length - 1, meta.size),
        );
    }
    if meta.etag.is_none() && !meta.md5_hex.is_empty() {
        set("x-oss-hash-crc64ecma", &meta.crc64.to_string());
    }
    let mut stored = meta
        .headers
        .iter()
        .find(|(name, _)| name == "content-disposition")
        .map(|(_, value)| value.clone());
    for (name, value) in &meta.headers {
        set(name, value);
    }
    // A signed request may override what the response says (`response-content-type`...),
    // as OSS lets a presigned link name the file it downloads.
    if signed {
        for (name, value) in query {
            let Some(header) = name.strip_prefix("response-") else {
                continue;
            };
            if !RESPONSE_OVERRIDES.contains(&header) {
                continue;
            }
            match header {
                "content-type" => content_type = value.clone(),
                "content-disposition" => stored = Some(value.clone()),
                _ => set(header, value),
            }
        }
    }
    set("content-type", &content_type);
    // Whatever its type, a stored object never runs as a page here: no sniffing, no script,
    // and anything but plain media is a download (uploads are other people's content).
    set("x-content-type-options", "nosniff");
    let policy = if content::shown_inline(&content_type) {
        MEDIA_POLICY
    } else {
        OBJECT_POLICY
    };
    set("content-security-policy", policy);
    if let Some(disposition) = disposition(&content_type, stored.as_deref()) {
        set("content-disposition", &disposition);
    }
    Ok(response)
}

/// The headers a signed GET may override with `response-<header>=<value>`.
const RESPONSE_OVERRIDES: [&str; 6] = [
    "content-type",
    "content-language",
    "expires",
    "cache-control",
    "content-disposition",
    "content-encoding",
];

/// What the conditional headers of a GET say about the stored object.
#[derive(Debug, PartialEq, Eq)]
enum Precondition {
    Met,
    NotModified,
    Failed,
}

/// `If-Match` / `If-Unmodified-Since` (412 when they fail), then `If-None-Match` /
/// `If-Modified-Since` (304 when the client's copy is current), as RFC 9110 orders them.
fn preconditions(headers: &HeaderMap, etag: &str, modified: i64) -> Precondition {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let matches = |list: &str| {
        list.split(',').any(|tag| {
            let tag = tag.trim().trim_start_matches("W/");
            tag == "*"
                || tag
                    .trim_matches('"')
                    .eq_ignore_ascii_case(etag.trim_matches('"'))
        })
    };
    let date = |name| {
        text(name)
            .and_then(v1::parse_http_date)
            .map(|d| d.unix_timestamp())
    };
    if let Some(list) = text(header::IF_MATCH) {
        if !matches(list) {
            return Precondition::Failed;
        }
    } else if date(header::IF_UNMODIFIED_SINCE).is_some_and(|since| modified > since) {
        return Precondition::Failed;
    }
    if let Some(list) = text(header::IF_NONE_MATCH) {
        if matches(list) {
            return Precondition::NotModified;
        }
    } else if date(header::IF_MODIFIED_SINCE).is_some_and(|since| modified <= since) {
        return Precondition::NotModified;
    }
    Precondition::Met
}

/// `DELETE /<key>` deletes the object; `DELETE /<key>?uploadId=…` aborts a multipart upload.
pub async fn delete(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let result = match super::state::param(&query, "uploadId") {
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

/// Every object is served in a sandbox (GitHub's policy for raw user content).
pub const OBJECT_POLICY: &str =
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
/// Media and plain text keep their origin inside the sandbox (still no script, no form, no
/// popup): a video opened by its link fetches its own ranges, which an opaque origin may not.
pub const MEDIA_POLICY: &str = "default-src 'none'; img-src 'self'; media-src 'self'; \
     style-src 'unsafe-inline'; sandbox allow-same-origin";

/// The `Content-Disposition` to serve: the stored (or overridden) one for plain media; any
/// other type is an attachment whatever the uploader asked for (keeping the file name).
fn disposition(content_type: &str, stored: Option<&str>) -> Option<String> {
    if content::shown_inline(content_type) {
        return stored.map(str::to_owned);
    }
    let stored = stored.unwrap_or("").trim_start();
    if stored.to_ascii_lowercase().starts_with("attachment") {
        return Some(stored.to_owned());
    }
    // `inline; filename="a.pdf"` keeps its name as a download.
    match stored.split_once(';') {
        Some((_, parameters)) => Some(format!("attachment;{parameters}")),
        None => Some("attachment".to_owned()),
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
            assert_eq!(
                disposition(shown, Some("inline; filename=\"p.jpg\"")).as_deref(),
                Some("inline; filename=\"p.jpg\"")
            );
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
                disposition(download, Some("attachment; filename=\"a.html\"")).as_deref(),
                Some("attachment; filename=\"a.html\"")
            );
            // The file name survives the change to a download.
            assert_eq!(
                disposition(download, Some("inline; filename=\"a.pdf\"")).as_deref(),
                Some("attachment; filename=\"a.pdf\"")
            );
        }
    }
}
