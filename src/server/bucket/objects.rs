//! GET and HEAD of stored objects. Reads are public (the bucket is public-read, so the portal's
//! links work); a request that carries an `Authorization` header is still verified, as OSS does.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::{Bucket, RequestContext};
use crate::server::signing::v1;

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
    Ok(response)
}
