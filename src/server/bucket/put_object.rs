//! PutObject (`PUT /<key>`, header-signed or presigned) and CopyObject (the same with
//! `x-oss-copy-source`): streamed into the same safe store as a form POST, `Content-MD5`
//! checked, never over an object when `x-oss-forbid-overwrite` says so.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Serialize;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::state::Bucket;
use super::store::{Intake, ObjectMeta, Received, StoreError};
use super::{auth, xml};
use crate::server::protocol::signing::v1;

/// Whether a request header (or form field), lower-case, is kept with the object and served
/// back with it: Cache-Control, Content-Disposition, Content-Encoding, Expires, `x-oss-meta-*`.
pub fn is_stored_header(name: &str) -> bool {
    matches!(
        name,
        "cache-control" | "content-disposition" | "content-encoding" | "expires"
    ) || name.starts_with("x-oss-meta-")
}

/// User metadata (`x-oss-meta-*`, names and values) is at most 8 KB, as OSS has it.
pub fn check_user_metadata(headers: &[(String, String)]) -> Result<(), BucketError> {
    let bytes: usize = headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-oss-meta-"))
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if bytes > 8 * 1024 {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "User metadata is larger than 8 KB.",
        ));
    }
    Ok(())
}

/// The headers of `headers` an object keeps, checked.
pub fn stored_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, BucketError> {
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| is_stored_header(name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    check_user_metadata(&kept)?;
    kept.sort();
    Ok(kept)
}

/// Why a request body was not taken: too large, cut short, or the disk failed.
pub fn body_refused<E>(intake: Intake<E>) -> BucketError {
    match intake {
        Intake::TooLarge => BucketError::new(
            OssCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size.",
        ),
        Intake::Source(_) => {
            BucketError::new(OssCode::InvalidArgument, "The request body ended early.")
        }
        Intake::Io(e) => BucketError::internal(e),
    }
}

pub(super) fn store_error(error: StoreError) -> BucketError {
    match error {
        StoreError::AlreadyExists => BucketError::new(
            OssCode::FileAlreadyExists,
            "The object you specified already exists and can not be overwritten.",
        ),
        StoreError::InvalidKey(_) | StoreError::Conflict => {
            BucketError::new(OssCode::InvalidObjectName, error.to_string())
        }
        StoreError::Io(e) => BucketError::internal(e),
    }
}

fn forbids_overwrite(headers: &HeaderMap) -> bool {
    headers
        .get("x-oss-forbid-overwrite")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `PUT /<key>`: PutObject, or CopyObject when `x-oss-copy-source` names the source.
pub async fn put(
    bucket: &Bucket,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, BucketError> {
    auth::verify(bucket, &Method::PUT, key, headers, query)?;
    // What the embedded bucket does not do (PutObjectACL, AppendObject, symlinks, tagging...)
    // is refused, never taken for a plain PutObject of the same key.
    if let Some((name, _)) = query
        .iter()
        .find(|(name, _)| v1::is_sub_resource(name) && name != "security-token")
    {
        return Err(BucketError::new(
            OssCode::NotImplemented,
            format!("The embedded bucket does not implement PUT ?{name}."),
        ));
    }
    bucket.store.object_path(key).map_err(store_error)?;
    if headers.contains_key("x-oss-copy-source") {
        return copy(bucket, key, headers).await;
    }
    let forbid_overwrite = forbids_overwrite(headers);
    if forbid_overwrite && bucket.store.exists(key).await.map_err(store_error)? {
        return Err(store_error(StoreError::AlreadyExists));
    }
    let kept = stored_headers(headers)?;
    let declared_md5 = match headers.get("content-md5") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| BASE64.decode(v.trim()).ok())
                .filter(|d| d.len() == 16)
                .ok_or_else(|| {
                    BucketError::new(
                        OssCode::InvalidDigest,
                        "The Content-MD5 you specified is not valid.",
                    )
                })?,
        ),
    };
    let received = bucket
        .store
        .receive(body.into_data_stream(), bucket.max_object_size)
        .await
        .map_err(body_refused)?;
    if let Some(declared) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
    {
        if declared != received.size {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "The body is shorter than its Content-Length.",
            ));
        }
    }
    if declared_md5.is_some_and(|d| d != received.md5) {
        return Err(BucketError::new(
            OssCode::InvalidDigest,
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            mime_guess::from_path(key)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        });
    store(bucket, key, received, content_type, kept, !forbid_overwrite).await
}

/// Makes `received` the object `key`, and answers as OSS does: the ETag, the CRC-64 and the
/// Content-MD5 of what was stored.
async fn store(
    bucket: &Bucket,
    key: &str,
    received: Received,
    content_type: String,
    headers: Vec<(String, String)>,
    overwrite: bool,
) -> Result<Response, BucketError> {
    let meta = ObjectMeta {
        size: received.size,
        md5_hex: received.md5_hex(),
        crc64: received.crc64,
        content_type,
        headers,
        last_modified: OffsetDateTime::now_utc().unix_timestamp(),
        etag: None,
    };
    let content_md5 = BASE64.encode(received.md5);
    bucket
        .store
        .commit(received.temp, key, &meta, overwrite)
        .await
        .map_err(store_error)?;
    tracing::info!(key, size = meta.size, "object stored (PutObject)");
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    let etag = format!("\"{}\"", meta.md5_hex);
    for (name, value) in [
        ("etag", etag.as_str()),
        ("x-oss-hash-crc64ecma", &meta.crc64.to_string()),
        ("content-md5", content_md5.as_str()),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    }
    Ok(response)
}

/// CopyObject within this bucket: `x-oss-copy-source: /<bucket>/<url-encoded key>`. The copy
/// keeps the source's headers unless `x-oss-metadata-directive: REPLACE`.
async fn copy(bucket: &Bucket, key: &str, headers: &HeaderMap) -> Result<Response, BucketError> {
    let source = headers
        .get("x-oss-copy-source")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let invalid = || {
        BucketError::new(
            OssCode::InvalidArgument,
            "x-oss-copy-source must be /<bucket>/<key>.",
        )
    };
    let (source_bucket, source_key) = source
        .strip_prefix('/')
        .unwrap_or(source)
        .split_once('/')
        .ok_or_else(invalid)?;
    let source_key =
        percent_encoding::percent_decode_str(source_key.split('?').next().unwrap_or(""))
            .decode_utf8()
            .map_err(|_| invalid())?;
    if source_bucket != bucket.name {
        return Err(BucketError::new(
            OssCode::NoSuchBucket,
            "The specified bucket does not exist.",
        ));
    }
    let no_such_key = || BucketError::new(OssCode::NoSuchKey, "The specified key does not exist.");
    let (file, meta) = match bucket.store.open_object(&source_key).await {
        Ok(Some(found)) => found,
        Ok(None) | Err(StoreError::InvalidKey(_)) => return Err(no_such_key()),
        Err(e) => return Err(BucketError::internal(e)),
    };
    let forbid_overwrite = forbids_overwrite(headers);
    if forbid_overwrite && bucket.store.exists(key).await.map_err(store_error)? {
        return Err(store_error(StoreError::AlreadyExists));
    }
    let replace = headers
        .get("x-oss-metadata-directive")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("REPLACE"));
    let (content_type, kept) = if replace {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(&meta.content_type)
            .to_owned();
        (content_type, stored_headers(headers)?)
    } else {
        (meta.content_type.clone(), meta.headers.clone())
    };
    let bytes = tokio_util::io::ReaderStream::new(file);
    let received = bucket
        .store
        .receive(bytes, u64::MAX)
        .await
        .map_err(|e| match e {
            Intake::TooLarge => BucketError::internal("copy exceeded u64"),
            Intake::Source(e) | Intake::Io(e) => BucketError::internal(e),
        })?;
    let response = store(bucket, key, received, content_type, kept, !forbid_overwrite).await?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    #[derive(Serialize)]
    #[serde(rename = "CopyObjectResult", rename_all = "PascalCase")]
    struct Copied {
        #[serde(rename = "ETag")]
        etag: String,
        last_modified: String,
    }
    let body = quick_xml::se::to_string(&Copied {
        etag,
        last_modified: xml::date(OffsetDateTime::now_utc().unix_timestamp()),
    })
    .map_err(BucketError::internal)?;
    let mut reply = xml::reply(StatusCode::OK, body);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            reply.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(reply)
}
