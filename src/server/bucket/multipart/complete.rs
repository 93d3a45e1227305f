//! CompleteMultipartUpload: the part list read from its XML, checked against the parts stored,
//! assembled into the object (written whole or not at all), with OSS's multipart ETag.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::fs;

use super::{load_upload, part_file, stored_parts, PartInfo, MAX_COMPLETE_BODY};
use crate::server::bucket::auth;
use crate::server::bucket::errors::{BucketError, OssCode};
use crate::server::bucket::state::Bucket;
use crate::server::bucket::store::{upper_hex, ObjectMeta, StoreError};
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

pub(super) async fn complete(
    bucket: &Bucket,
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
    let stored = stored_parts(&dir).await?;
    let invalid_part = || {
        BucketError::new(
            OssCode::InvalidPart,
            "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
        )
    };
    // Every listed part must be stored with that ETag; then every one but the last must be
    // large enough.
    let chosen = wanted
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

    // Assemble into a temp file; it becomes the object only when complete and synced. The
    // bytes are copied by the kernel (copy_file_range): the ETag comes from the parts' MD5s,
    // so nothing needs to pass through here.
    let (temp, out) = bucket
        .store
        .create_temp()
        .await
        .map_err(BucketError::internal)?;
    let sources: Vec<std::path::PathBuf> =
        chosen.iter().map(|p| part_file(&dir, p.number)).collect();
    let mut out = out.into_std().await;
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for source in sources {
            let mut part = std::fs::File::open(source)?;
            std::io::copy(&mut part, &mut out)?;
        }
        out.sync_data()
    })
    .await
    .map_err(BucketError::internal)?
    .map_err(|_| invalid_part())?;
    let etag = multipart_etag(&chosen.iter().map(|p| p.md5_hex.clone()).collect::<Vec<_>>());
    let forbid_overwrite = info.forbid_overwrite
        || headers
            .get("x-oss-forbid-overwrite")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let meta = ObjectMeta {
        size: total,
        // Not computed for assembled objects (OSS gives them no Content-MD5 either).
        md5_hex: String::new(),
        crc64: 0,
        content_type: info.content_type.clone(),
        headers: info.headers.clone(),
        last_modified: OffsetDateTime::now_utc().unix_timestamp(),
        etag: Some(etag.clone()),
    };
    match bucket
        .store
        .commit(temp, key, &meta, !forbid_overwrite)
        .await
    {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => {
            return Err(BucketError::new(
                OssCode::FileAlreadyExists,
                "The object you specified already exists and can not be overwritten.",
            ))
        }
        Err(StoreError::InvalidKey(why)) => {
            return Err(BucketError::new(OssCode::InvalidObjectName, why))
        }
        Err(e) => return Err(BucketError::internal(e)),
    }
    fs::remove_dir_all(&dir)
        .await
        .map_err(BucketError::internal)?;
    tracing::info!(
        key,
        upload_id = id,
        parts = chosen.len(),
        size = total,
        "multipart upload completed"
    );
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
