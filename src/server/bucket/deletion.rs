//! DeleteMultipleObjects (`POST /?delete`): up to 1000 keys in one signed request, each
//! deleted as DeleteObject deletes it, the result listed unless the request asks for quiet.

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::errors::{BucketError, OssCode};
use super::state::Bucket;
use super::{auth, xml};
use crate::server::protocol::signing::UNRESERVED_AND_SLASH;

/// The most keys one request may delete, and the largest body it may send.
const MAX_KEYS: usize = 1000;
const MAX_BODY: usize = 2 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteRequest {
    #[serde(default)]
    quiet: Option<String>,
    #[serde(rename = "Object", default)]
    objects: Vec<Named>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Named {
    key: String,
}

/// The keys a `<Delete>` document names, and whether it asks for quiet.
pub fn parse(body: &str) -> Result<(Vec<String>, bool), BucketError> {
    let malformed = || {
        BucketError::new(
            OssCode::MalformedXml,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
    };
    let request: DeleteRequest = quick_xml::de::from_str(body).map_err(|_| malformed())?;
    if request.objects.is_empty() || request.objects.len() > MAX_KEYS {
        return Err(malformed());
    }
    let quiet = request
        .quiet
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    Ok((request.objects.into_iter().map(|o| o.key).collect(), quiet))
}

pub async fn delete_many(
    bucket: &Bucket,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, BucketError> {
    auth::verify(bucket, &Method::POST, "", headers, query)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| BucketError::new(OssCode::MalformedXml, "The request body is too large."))?;
    if let Some(declared) = headers.get("content-md5") {
        let actual = BASE64.encode(Md5::digest(&bytes));
        if declared.to_str().ok().map(str::trim) != Some(actual.as_str()) {
            return Err(BucketError::new(
                OssCode::InvalidDigest,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| BucketError::new(OssCode::MalformedXml, "The request body is not UTF-8."))?;
    let (keys, quiet) = parse(text)?;
    let url_encoded = super::state::param(query, "encoding-type") == Some("url");
    let mut deleted = Vec::new();
    for key in keys {
        match bucket.store.delete(&key).await {
            Ok(true) => tracing::info!(key, "object deleted"),
            Ok(false) | Err(super::store::StoreError::InvalidKey(_)) => {}
            Err(e) => return Err(BucketError::internal(e)),
        }
        if !quiet {
            deleted.push(Deleted {
                key: match url_encoded {
                    true => percent_encoding::utf8_percent_encode(&key, UNRESERVED_AND_SLASH)
                        .to_string(),
                    false => key,
                },
            });
        }
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Deleted {
        key: String,
    }
    #[derive(Serialize)]
    #[serde(rename = "DeleteResult", rename_all = "PascalCase")]
    struct DeleteResult {
        #[serde(skip_serializing_if = "Option::is_none")]
        encoding_type: Option<&'static str>,
        deleted: Vec<Deleted>,
    }
    let body = quick_xml::se::to_string(&DeleteResult {
        encoding_type: url_encoded.then_some("url"),
        deleted,
    })
    .map_err(BucketError::internal)?;
    Ok(xml::reply(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_delete_document() {
        let (keys, quiet) = parse(
            "<?xml version=\"1.0\"?><Delete><Quiet>true</Quiet><Object><Key>a/b.txt</Key></Object><Object><Key>c&amp;d</Key></Object></Delete>",
        )
        .unwrap();
        assert_eq!(keys, vec!["a/b.txt", "c&d"]);
        assert!(quiet);
        let (_, quiet) = parse("<Delete><Object><Key>k</Key></Object></Delete>").unwrap();
        assert!(!quiet);
        for bad in [
            "",
            "<Delete></Delete>",
            "<Delete><Object></Object></Delete>",
            "<x",
        ] {
            assert_eq!(parse(bad).unwrap_err().code, OssCode::MalformedXml, "{bad}");
        }
        let many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(1001)
        );
        assert!(parse(&many).is_err());
    }
}
