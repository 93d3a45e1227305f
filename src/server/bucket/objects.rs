//! GET and HEAD of stored objects. Reads are public (the bucket is public-read, so the portal's
//! links work); a request that carries an `Authorization` header is still verified, as OSS does.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::{Bucket, RequestContext};
use crate::server::signing::v1;

/// How far a signed request's date may be from the server's clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

pub async fn get_object(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    method: Method,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let with_body = method != Method::HEAD;
    match read(&bucket, &method, &key, &headers, with_body).await {
        Ok(response) => response,
        Err(error) => error.into_response(&ctx.request_id, &bucket.host_id, with_body),
    }
}

async fn read(
    bucket: &Bucket,
    method: &Method,
    key: &str,
    headers: &HeaderMap,
    with_body: bool,
) -> Result<Response, BucketError> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        verify_header_signature(bucket, method, key, headers, authorization)?;
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
    if !meta.md5_hex.is_empty() {
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

fn verify_header_signature(
    bucket: &Bucket,
    method: &Method,
    key: &str,
    headers: &HeaderMap,
    authorization: &HeaderValue,
) -> Result<(), BucketError> {
    let denied = || {
        BucketError::new(
            OssCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
    };
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (access_key_id, signature) = v1::parse_authorization(authorization.to_str().unwrap_or(""))
        .ok_or_else(|| {
            BucketError::new(OssCode::InvalidArgument, "Authorization header is invalid.")
        })?;
    let secret = bucket.secret_for(
        access_key_id,
        headers
            .get("x-oss-security-token")
            .and_then(|v| v.to_str().ok()),
        OffsetDateTime::now_utc(),
    )?;
    let date = if headers.contains_key("x-oss-date") {
        text("x-oss-date")
    } else {
        text("date")
    };
    let sent_at = v1::parse_http_date(date).ok_or_else(|| {
        BucketError::new(
            OssCode::AccessDenied,
            "OSS authentication requires a valid Date.",
        )
    })?;
    if (OffsetDateTime::now_utc() - sent_at).whole_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(BucketError::new(
            OssCode::RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large.",
        ));
    }
    let oss_headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-oss-"))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let request = v1::HeaderRequest {
        method: method.as_str(),
        content_md5: text("content-md5"),
        content_type: text("content-type"),
        date,
        oss_headers,
        bucket: &bucket.name,
        key,
        sub_resources: vec![],
    };
    if v1::verify(
        secret.expose_secret(),
        &v1::header_string_to_sign(&request),
        signature,
    ) {
        Ok(())
    } else {
        Err(denied())
    }
}
