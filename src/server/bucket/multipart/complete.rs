//! CompleteMultipartUpload: the part list read from its XML, checked against the parts stored,
//! made into the object (whole or not at all), with OSS's multipart ETag.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::parts::{assemble, body_published, end_upload, upload_exists};
use super::{load_upload, no_such_upload, stored_parts, PartInfo, UploadInfo, MAX_COMPLETE_BODY};
use crate::server::bucket::auth;
use crate::server::bucket::errors::{BucketError, OssCode};
use crate::server::bucket::put_object::store_error;
use crate::server::bucket::state::Bucket;
use crate::server::bucket::store::{upper_hex, ObjectMeta};
use crate::server::bucket::upload_locks::Alone;
use crate::server::bucket::xml;
use crate::server::protocol::MIN_PART_SIZE;

/// The parts a CompleteMultipartUpload body lists.
#[derive(Debug, Deserialize)]
struct CompleteRequest {
    #[serde(rename = "Part", default)]
    parts: Vec<CompletePart>,
}

#[derive(Debug, Deserialize)]
struct CompletePart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// Parses and orders-checks a CompleteMultipartUpload body: `(number, ETag without quotes)`.
pub fn parse_complete(body: &str) -> Result<Vec<(u32, String)>, BucketError> {
    let malformed = || {
        BucketError::new(
            OssCode::MalformedXml,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
    };
    let request: CompleteRequest = quick_xml::de::from_str(body).map_err(|_| malformed())?;
    if request.parts.is_empty() {
        return Err(malformed());
    }
    let mut previous = 0;
    let mut parts = Vec::with_capacity(request.parts.len());
    for part in request.parts {
        if part.number <= previous {
            return Err(BucketError::new(
                OssCode::InvalidPartOrder,
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ));
        }
        previous = part.number;
        let etag = part.etag.trim().trim_matches('"').to_ascii_uppercase();
        parts.push((part.number, etag));
    }
    Ok(parts)
}

/// `"<hex of MD5 over the parts' binary MD5s>-<N>"`, without the quotes.
fn multipart_etag(part_md5s: &[String]) -> String {
    let mut md5 = Md5::new();
    for hex in part_md5s {
        md5.update(crate::server::protocol::signing::unhex(hex).unwrap_or_default());
    }
    format!("{}-{}", upper_hex(&md5.finalize()), part_md5s.len())
}

/// A completion whose part list was read: what it needs to make the object.
struct Completion {
    bucket: Arc<Bucket>,
    key: String,
    id: String,
    dir: PathBuf,
    info: UploadInfo,
    wanted: Vec<(u32, String)>,
    forbid_overwrite: bool,
}

impl Completion {
    /// Checks the listed parts against those stored, makes the object from them and ends the
    /// upload: the object's ETag. The caller holds the upload alone.
    async fn make_object(self, alone: &Alone) -> Result<String, BucketError> {
        let (bucket, key, dir) = (&self.bucket, self.key.as_str(), self.dir.as_path());
        let object = bucket.store.object_path(key).map_err(store_error)?;
        // Completed or aborted while this waited.
        upload_exists(dir).await?;
        if body_published(dir, &object).await {
            return Err(no_such_upload());
        }
        let stored = stored_parts(dir).await?;
        let invalid_part = || {
            BucketError::new(
                OssCode::InvalidPart,
                "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
            )
        };
        // Every listed part must be stored with that ETag; then every one but the last must be
        // large enough.
        let chosen = self
            .wanted
            .iter()
            .map(|(number, etag)| {
                stored
                    .iter()
                    .find(|p| p.number == *number && p.md5_hex == *etag)
                    .cloned()
                    .ok_or_else(invalid_part)
            })
            .collect::<Result<Vec<PartInfo>, BucketError>>()?;
        if chosen[..chosen.len() - 1]
            .iter()
            .any(|part| part.size < MIN_PART_SIZE)
        {
            return Err(BucketError::new(
                OssCode::EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size.",
            ));
        }
        let total: u64 = chosen.iter().map(|p| p.size).sum();
        if total > bucket.max_object_size {
            return Err(BucketError::new(
                OssCode::EntityTooLarge,
                "Your proposed upload exceeds the maximum allowed size.",
            ));
        }
        // The object's file is complete and synced before it becomes the object.
        let temp = assemble(&bucket.store, dir, &chosen, &stored, total)
            .await
            .map_err(|e| match e.kind() {
                // A part's bytes are missing or short.
                std::io::ErrorKind::NotFound | std::io::ErrorKind::UnexpectedEof => invalid_part(),
                _ => BucketError::internal(e),
            })?;
        let etag = multipart_etag(&chosen.iter().map(|p| p.md5_hex.clone()).collect::<Vec<_>>());
        let meta = ObjectMeta {
            size: total,
            // Not computed for assembled objects (OSS gives them no Content-MD5 either).
            md5_hex: String::new(),
            crc64: 0,
            content_type: self.info.content_type.clone(),
            headers: self.info.headers.clone(),
            last_modified: OffsetDateTime::now_utc().unix_timestamp(),
            etag: Some(etag.clone()),
        };
        bucket
            .store
            .commit(temp, key, &meta, !self.forbid_overwrite)
            .await
            .map_err(store_error)?;
        // The object is made: a failure to end the upload is only logged. (Should its record
        // stay, the upload stays usable, but not its body if that became the object: see
        // `body_published`.)
        if let Err(error) = end_upload(&alone.upload, dir).await {
            tracing::error!(%error, upload_id = self.id, "the completed upload was not ended");
        }
        tracing::info!(
            key,
            upload_id = self.id,
            parts = chosen.len(),
            size = total,
            "multipart upload completed"
        );
        Ok(etag)
    }
}

pub(super) async fn complete(
    bucket: &Arc<Bucket>,
    key: &str,
    id: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, BucketError> {
    auth::verify(bucket, &Method::POST, key, headers, query)?;
    let (dir, info) = load_upload(&bucket.store, id, key).await?;
    let body = axum::body::to_bytes(body, MAX_COMPLETE_BODY)
        .await
        .map_err(|_| {
            BucketError::new(OssCode::MalformedXml, "The XML you provided is too large.")
        })?;
    let wanted = parse_complete(&String::from_utf8_lossy(&body))?;
    let forbid_overwrite = info.forbid_overwrite
        || headers
            .get("x-oss-forbid-overwrite")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // Parts being written into the body finish first; parts sent from now on get files of
    // their own, until the upload is gone. The object is made by a task that holds the upload
    // alone to the end, even if this request is dropped meanwhile.
    let alone = bucket.uploads.alone(id).await;
    let completion = Completion {
        bucket: Arc::clone(bucket),
        key: key.to_owned(),
        id: id.to_owned(),
        dir,
        info,
        wanted,
        forbid_overwrite,
    };
    let etag = tokio::spawn(async move { completion.make_object(&alone).await })
        .await
        .map_err(BucketError::internal)??;
    #[derive(Serialize)]
    #[serde(rename = "CompleteMultipartUploadResult", rename_all = "PascalCase")]
    struct Completed<'a> {
        location: String,
        bucket: &'a str,
        key: &'a str,
        #[serde(rename = "ETag")]
        etag: String,
    }
    let xml = quick_xml::se::to_string(&Completed {
        location: bucket.object_url(key),
        bucket: &bucket.name,
        key,
        etag: format!("\"{etag}\""),
    })
    .map_err(BucketError::internal)?;
    let mut response = xml::reply(StatusCode::OK, xml);
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{etag}\"")).expect("hex is a valid header"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_bodies_are_parsed_in_order() {
        let body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>BB</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parse_complete(body).unwrap(),
            vec![(1, "AA".to_owned()), (3, "BB".to_owned())]
        );
        let unordered = "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parse_complete(unordered).unwrap_err().code,
            OssCode::InvalidPartOrder
        );
        for bad in ["", "<x>", "<CompleteMultipartUpload></CompleteMultipartUpload>", "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"] {
            assert_eq!(parse_complete(bad).unwrap_err().code, OssCode::MalformedXml, "{bad}");
        }
    }

    #[test]
    fn the_body_ali_oss_sends_is_read() {
        // From ../shared/oss-vectors.json, header_v1.complete_multipart_upload.
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload>\n<Part>\n<PartNumber>1</PartNumber>\n<ETag>\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"</ETag>\n</Part>\n</CompleteMultipartUpload>";
        assert_eq!(
            parse_complete(body).unwrap(),
            vec![(1, "5EB63BBBE01EEED093CB22BB8F5ACDC3".to_owned())]
        );
    }

    #[test]
    fn multipart_etags_hash_the_part_md5s() {
        // MD5 of the two binary MD5s of "a" and "b", as S3 and OSS compute it.
        let a = "0CC175B9C0F1B6A831C399E269772661".to_owned();
        let b = "92EB5FFEE6AE2FEC3AD71C777531578F".to_owned();
        assert_eq!(
            multipart_etag(&[a, b]),
            "96E024BA2074FE77E8E965BA43A704BE-2"
        );
    }
}
