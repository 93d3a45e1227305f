//! Signed requests other than form POSTs: a V1 `Authorization: OSS ak:sig` header or a V1
//! presigned URL (`OSSAccessKeyId`, `Expires`, `Signature` in the query), checked exactly as
//! OSS does, with the signed sub-resources of the query.

use axum::http::{header, HeaderMap, Method};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::state::Bucket;
use crate::server::protocol::signing::v1;
use crate::server::protocol::MAX_CLOCK_SKEW;

/// The query's signed sub-resources; an empty value is written as the bare key.
pub fn sub_resources(query: &[(String, String)]) -> Vec<(&str, Option<&str>)> {
    query
        .iter()
        .filter(|(name, _)| v1::is_sub_resource(name))
        .map(|(name, value)| (name.as_str(), (!value.is_empty()).then_some(value.as_str())))
        .collect()
}

fn denied() -> BucketError {
    BucketError::new(
        OssCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

/// Whether the request carries a signature at all (header or query).
pub fn is_signed(headers: &HeaderMap, query: &[(String, String)]) -> bool {
    headers.contains_key(header::AUTHORIZATION) || query.iter().any(|(n, _)| n == "Signature")
}

/// Checks the request's signature; `Ok` means a key of this bucket signed exactly this request.
pub fn verify(
    bucket: &Bucket,
    method: &Method,
    key: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(), BucketError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let now = OffsetDateTime::now_utc();
    let presigned = param("Signature").is_some();
    if presigned && headers.contains_key(header::AUTHORIZATION) {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "Authorization header and query signature cannot both be given.",
        ));
    }
    let (access_key_id, signature, date, token) = if presigned {
        let (Some(access_key_id), Some(expires), Some(signature)) = (
            param("OSSAccessKeyId"),
            param("Expires"),
            param("Signature"),
        ) else {
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "A presigned URL must carry OSSAccessKeyId, Expires and Signature.",
            ));
        };
        let expires_at: i64 = expires.parse().map_err(|_| {
            BucketError::new(
                OssCode::AccessDenied,
                "Expires must be a Unix time in seconds.",
            )
        })?;
        if expires_at < now.unix_timestamp() {
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "Request has expired.",
            ));
        }
        (access_key_id, signature, expires, param("security-token"))
    } else {
        let Some(authorization) = headers.get(header::AUTHORIZATION) else {
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "Anonymous access is forbidden for this operation.",
            ));
        };
        let (access_key_id, signature) =
            v1::parse_authorization(authorization.to_str().unwrap_or("")).ok_or_else(|| {
                BucketError::new(OssCode::InvalidArgument, "Authorization header is invalid.")
            })?;
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
        if (now - sent_at).abs() > MAX_CLOCK_SKEW {
            return Err(BucketError::new(
                OssCode::RequestTimeTooSkewed,
                "The difference between the request time and the current time is too large.",
            ));
        }
        let token = headers
            .get("x-oss-security-token")
            .and_then(|v| v.to_str().ok());
        (access_key_id, signature, date, token)
    };
    let secret = bucket.secret_for(access_key_id, token, now)?;
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
        sub_resources: sub_resources(query),
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

#[cfg(test)]
mod tests {
    use super::sub_resources;

    #[test]
    fn only_sub_resources_are_signed() {
        let query: Vec<(String, String)> = [
            ("uploadId", "ID"),
            ("partNumber", "3"),
            ("OSSAccessKeyId", "ak"),
            ("Expires", "1"),
            ("Signature", "s"),
            ("uploads", ""),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(
            sub_resources(&query),
            vec![
                ("uploadId", Some("ID")),
                ("partNumber", Some("3")),
                ("uploads", None)
            ]
        );
    }
}
