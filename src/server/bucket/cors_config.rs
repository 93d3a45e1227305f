//! PutBucketCors, GetBucketCors and DeleteBucketCors (`/?cors`, signed): the bucket's CORS
//! rules can be changed as on OSS, and are kept in a file beside the objects.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::auth;
use super::errors::{BucketError, OssCode};
use super::state::{Bucket, RequestContext};
use crate::server::protocol::cors::{self, CorsRule};

/// Largest CORS document accepted.
const MAX_DOCUMENT: usize = 64 * 1024;

/// The rules kept in `path`, if any were ever set: an empty file means "none".
pub fn load(path: &std::path::Path) -> std::io::Result<Option<Vec<CorsRule>>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Some(Vec::new())),
        Ok(text) => cors::parse_rules(&text).map(Some).ok_or_else(|| {
            std::io::Error::other(format!("{} is not a CORS configuration", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn save(bucket: &Bucket, rules: Vec<CorsRule>) -> Result<(), BucketError> {
    let text = if rules.is_empty() {
        String::new()
    } else {
        cors::rules_xml(&rules)
    };
    let temp = bucket.cors_file.with_extension("xml.tmp");
    tokio::fs::write(&temp, text)
        .await
        .map_err(BucketError::internal)?;
    tokio::fs::rename(&temp, &bucket.cors_file)
        .await
        .map_err(BucketError::internal)?;
    *bucket.cors.write().expect("cors rules lock") = rules;
    Ok(())
}

fn is_cors(query: &[(String, String)]) -> bool {
    query.iter().any(|(name, _)| name == "cors")
}

fn not_allowed() -> BucketError {
    BucketError::new(
        OssCode::MethodNotAllowed,
        "The specified method is not allowed against this resource.",
    )
}

/// `GET /?cors`.
pub fn get(
    bucket: &Bucket,
    ctx: &RequestContext,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    let result = (|| {
        auth::verify(bucket, &Method::GET, "", headers, query)?;
        let rules = bucket.cors.read().expect("cors rules lock").clone();
        if rules.is_empty() {
            return Err(BucketError::new(
                OssCode::NoSuchCorsConfiguration,
                "The CORS configuration does not exist.",
            ));
        }
        Ok((
            [(header::CONTENT_TYPE, "application/xml")],
            cors::rules_xml(&rules),
        )
            .into_response())
    })();
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `PUT /?cors` with a `CORSConfiguration` document.
pub async fn put(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        if !is_cors(&query) {
            return Err(not_allowed());
        }
        auth::verify(&bucket, &Method::PUT, "", &headers, &query)?;
        let bytes = axum::body::to_bytes(body, MAX_DOCUMENT).await.map_err(|_| {
            BucketError::new(OssCode::MalformedXml, "The CORS document is too large.")
        })?;
        let rules = std::str::from_utf8(&bytes)
            .ok()
            .and_then(cors::parse_rules)
            .ok_or_else(|| {
                BucketError::new(
                    OssCode::MalformedXml,
                    "The XML you provided was not well-formed or did not validate against our published schema.",
                )
            })?;
        save(&bucket, rules).await?;
        Ok(StatusCode::OK.into_response())
    }
    .await;
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

/// `DELETE /?cors`: the bucket keeps no rule (every cross-origin request is refused).
pub async fn delete(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        if !is_cors(&query) {
            return Err(not_allowed());
        }
        auth::verify(&bucket, &Method::DELETE, "", &headers, &query)?;
        save(&bucket, Vec::new()).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}
