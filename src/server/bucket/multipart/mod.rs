//! Multipart uploads with OSS semantics: InitiateMultipartUpload, UploadPart, ListParts,
//! CompleteMultipartUpload and AbortMultipartUpload. Parts live in `multipart/<upload id>/`
//! (kept across restarts, so uploads resume; `parts` says where); completing makes them the
//! object like any upload: atomically, and never over an object when `x-oss-forbid-overwrite`
//! was asked for. Every request must be signed (header or URL).

mod complete;
mod parts;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::fs;

use super::auth;
use super::errors::{BucketError, OssCode};
use super::listing::{self, Last};
use super::state::{param, Bucket, RequestContext};
use super::store::ObjectStore;
use super::xml;
use crate::server::protocol::MAX_PARTS;

use self::complete::complete;
pub use self::complete::parse_complete;
pub use self::parts::forget_ended;
use self::parts::{store_part, stored_parts, PartInfo};

/// The largest CompleteMultipartUpload body (10,000 parts fit with room to spare).
const MAX_COMPLETE_BODY: usize = 2 * 1024 * 1024;

/// What the bucket remembers about an upload in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct UploadInfo {
    key: String,
    content_type: String,
    forbid_overwrite: bool,
    initiated: i64,
    /// Content-Disposition, Cache-Control... and `x-oss-meta-*` sent with the initiate.
    #[serde(default)]
    headers: Vec<(String, String)>,
}

fn no_such_upload() -> BucketError {
    BucketError::new(
        OssCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

async fn load_upload(
    store: &ObjectStore,
    id: &str,
    key: &str,
) -> Result<(std::path::PathBuf, UploadInfo), BucketError> {
    let dir = store.upload_dir(id).ok_or_else(no_such_upload)?;
    let bytes = fs::read(dir.join("upload.json"))
        .await
        .map_err(|_| no_such_upload())?;
    let info: UploadInfo = serde_json::from_slice(&bytes).map_err(BucketError::internal)?;
    if info.key != key {
        return Err(no_such_upload());
    }
    Ok((dir, info))
}

/// `POST /<key>?uploads` and `POST /<key>?uploadId=…` (complete).
pub async fn post(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = if param(&query, "uploads").is_some() {
        initiate(&bucket, &key, &query, &headers).await
    } else if let Some(id) = param(&query, "uploadId") {
        complete(&bucket, &key, id, &query, &headers, body).await
    } else {
        Err(BucketError::new(
            OssCode::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        ))
    };
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `PUT /<key>?partNumber=N&uploadId=…`.
pub async fn put(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Path(key): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // A part's URL never becomes a PutObject: naming either part parameter makes it a part.
    let is_part = param(&query, "uploadId").is_some() || param(&query, "partNumber").is_some();
    let result = if is_part {
        upload_part(&bucket, &key, &query, &headers, body).await
    } else {
        super::put_object::put(&bucket, &key, &query, &headers, body).await
    };
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `DELETE /<key>?uploadId=…` (signed): drops the upload and its parts.
pub async fn abort(
    bucket: &Bucket,
    key: &str,
    id: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Response, BucketError> {
    auth::verify(bucket, &Method::DELETE, key, headers, query)?;
    let (dir, _) = load_upload(&bucket.store, id, key).await?;
    // Parts being written into the body finish first, and a completion under way ends first;
    // a task of its own holds the upload until it is gone, even if this request is dropped.
    let alone = bucket.uploads.alone(id).await;
    tokio::spawn(async move {
        match parts::end_upload(&alone.upload, &dir).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_such_upload()),
            ended => ended.map_err(BucketError::internal),
        }
    })
    .await
    .map_err(BucketError::internal)??;
    tracing::info!(key, upload_id = id, "multipart upload aborted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn initiate(
    bucket: &Bucket,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Response, BucketError> {
    auth::verify(bucket, &Method::POST, key, headers, query)?;
    bucket
        .store
        .object_path(key)
        .map_err(|e| BucketError::new(OssCode::InvalidObjectName, e.to_string()))?;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    let dir = bucket.store.upload_dir(&id).expect("generated ids are hex");
    fs::create_dir_all(&dir)
        .await
        .map_err(BucketError::internal)?;
    let info = UploadInfo {
        key: key.to_owned(),
        content_type: text("content-type").unwrap_or("").to_owned(),
        forbid_overwrite: text("x-oss-forbid-overwrite")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        initiated: OffsetDateTime::now_utc().unix_timestamp(),
        headers: super::put_object::stored_headers(headers)?,
    };
    fs::write(
        dir.join("upload.json"),
        serde_json::to_vec(&info).map_err(BucketError::internal)?,
    )
    .await
    .map_err(BucketError::internal)?;
    tracing::info!(key, upload_id = id, "multipart upload initiated");
    #[derive(Serialize)]
    #[serde(rename = "InitiateMultipartUploadResult", rename_all = "PascalCase")]
    struct Initiated<'a> {
        bucket: &'a str,
        key: &'a str,
        upload_id: &'a str,
    }
    let xml = quick_xml::se::to_string(&Initiated {
        bucket: &bucket.name,
        key,
        upload_id: &id,
    })
    .map_err(BucketError::internal)?;
    Ok(xml::reply(StatusCode::OK, xml))
}

async fn upload_part(
    bucket: &Bucket,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, BucketError> {
    let (Some(id), Some(number)) = (param(query, "uploadId"), param(query, "partNumber")) else {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "UploadPart needs both partNumber and uploadId.",
        ));
    };
    auth::verify(bucket, &Method::PUT, key, headers, query)?;
    let number: u32 = match number.parse() {
        Ok(n) if (1..=MAX_PARTS).contains(&n) => n,
        _ => {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive.",
            ))
        }
    };
    let (dir, _) = load_upload(&bucket.store, id, key).await?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // A body that ends early (the client went away) leaves the part unrecorded.
    let stored = store_part(
        bucket,
        (id, key),
        &dir,
        number,
        declared,
        body.into_data_stream(),
    )
    .await?;
    let (size, md5_hex, crc64) = (stored.part.size, stored.part.md5_hex, stored.crc64);
    tracing::info!(key, upload_id = id, part = number, size, "part stored");
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{md5_hex}\"")).expect("hex is a valid header"),
    );
    response
        .headers_mut()
        .insert("x-oss-hash-crc64ecma", HeaderValue::from(crc64));
    Ok(response)
}

/// `GET /<key>?uploadId=…`: the parts stored so far, in order (`max-parts`, default 1000,
/// after `part-number-marker`).
pub async fn list_parts(
    bucket: &Bucket,
    ctx: &RequestContext,
    key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    let result = async {
        auth::verify(bucket, &Method::GET, key, headers, query)?;
        let id = param(query, "uploadId").unwrap_or_default();
        let (dir, _) = load_upload(&bucket.store, id, key).await?;
        let marker: u32 = param(query, "part-number-marker")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let max: usize = param(query, "max-parts")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
            .clamp(1, 1000);
        let after: Vec<PartInfo> = stored_parts(&dir)
            .await?
            .into_iter()
            .filter(|p| p.number > marker)
            .collect();
        let truncated = after.len() > max;
        let page = &after[..after.len().min(max)];
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Part {
            part_number: u32,
            last_modified: String,
            #[serde(rename = "ETag")]
            etag: String,
            size: u64,
        }
        #[derive(Serialize)]
        #[serde(rename = "ListPartsResult", rename_all = "PascalCase")]
        struct Listing<'a> {
            bucket: &'a str,
            key: &'a str,
            upload_id: &'a str,
            part_number_marker: u32,
            next_part_number_marker: u32,
            max_parts: usize,
            is_truncated: bool,
            part: Vec<Part>,
        }
        let xml = quick_xml::se::to_string(&Listing {
            bucket: &bucket.name,
            key,
            upload_id: id,
            part_number_marker: marker,
            next_part_number_marker: page.last().map_or(marker, |p| p.number),
            max_parts: max,
            is_truncated: truncated,
            part: page
                .iter()
                .map(|p| Part {
                    part_number: p.number,
                    last_modified: xml::date(p.last_modified),
                    etag: format!("\"{}\"", p.md5_hex),
                    size: p.size,
                })
                .collect(),
        })
        .map_err(BucketError::internal)?;
        Ok::<_, BucketError>(xml::reply(StatusCode::OK, xml))
    }
    .await;
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `GET /?uploads`: the uploads in progress under `prefix`, by key and then upload id (not by
/// when they began, so that the upload-id marker pages them), a page
/// of `max-uploads` (at most 1000) after `key-marker` (and, for that key, `upload-id-marker`),
/// folded at `delimiter` as a listing of objects is.
pub async fn list_uploads(
    bucket: &Bucket,
    ctx: &RequestContext,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    let result = async {
        auth::verify(bucket, &Method::GET, "", headers, query)?;
        let asked = listing::read_query(query, "max-uploads", 1000)?;
        let key_marker = param(query, "key-marker").unwrap_or("");
        let id_marker = param(query, "upload-id-marker").unwrap_or("");
        let after_markers = |key: &str, id: &str| {
            key > key_marker || (key == key_marker && !id_marker.is_empty() && id > id_marker)
        };
        let mut uploads = Vec::new();
        let mut entries = fs::read_dir(bucket.store.uploads_root())
            .await
            .map_err(BucketError::internal)?;
        while let Some(entry) = entries.next_entry().await.map_err(BucketError::internal)? {
            let id = entry.file_name().to_string_lossy().into_owned();
            let Ok(bytes) = fs::read(entry.path().join("upload.json")).await else {
                continue;
            };
            let Ok(info) = serde_json::from_slice::<UploadInfo>(&bytes) else {
                continue;
            };
            if info.key.starts_with(asked.prefix) && after_markers(&info.key, &id) {
                uploads.push((info.key, id, info.initiated));
            }
        }
        uploads.sort();
        let found = listing::page_of(
            &uploads,
            |(key, ..)| key,
            asked.prefix,
            asked.delimiter,
            key_marker,
            asked.max,
        );
        // Where the next page starts (on the last page, what it ended with), as OSS says it.
        let (next_key, next_id) = match found.last {
            Some(Last::Entry((key, id, _))) => (key, id),
            Some(Last::CommonPrefix(common)) => (common, String::new()),
            None => (String::new(), String::new()),
        };
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Upload {
            key: String,
            upload_id: String,
            initiated: String,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct CommonPrefix {
            prefix: String,
        }
        #[derive(Serialize)]
        #[serde(rename = "ListMultipartUploadsResult", rename_all = "PascalCase")]
        struct Listing<'a> {
            bucket: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            encoding_type: Option<&'static str>,
            key_marker: String,
            upload_id_marker: &'a str,
            next_key_marker: String,
            next_upload_id_marker: String,
            delimiter: String,
            prefix: String,
            max_uploads: usize,
            is_truncated: bool,
            upload: Vec<Upload>,
            common_prefixes: Vec<CommonPrefix>,
        }
        let xml = quick_xml::se::to_string(&Listing {
            bucket: &bucket.name,
            encoding_type: asked.url_encoded.then_some("url"),
            key_marker: asked.as_replied(key_marker),
            upload_id_marker: id_marker,
            is_truncated: found.truncated,
            next_key_marker: asked.as_replied(&next_key),
            next_upload_id_marker: next_id,
            delimiter: asked.as_replied(asked.delimiter),
            prefix: asked.as_replied(asked.prefix),
            max_uploads: asked.max,
            upload: found
                .entries
                .into_iter()
                .map(|(key, upload_id, initiated)| Upload {
                    key: asked.as_replied(&key),
                    upload_id,
                    initiated: xml::date(initiated),
                })
                .collect(),
            common_prefixes: found
                .common_prefixes
                .iter()
                .map(|prefix| CommonPrefix {
                    prefix: asked.as_replied(prefix),
                })
                .collect(),
        })
        .map_err(BucketError::internal)?;
        Ok::<_, BucketError>(xml::reply(StatusCode::OK, xml))
    }
    .await;
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}
