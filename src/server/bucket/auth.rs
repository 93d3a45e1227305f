//! Signed requests other than form POSTs, checked exactly as OSS does: V1 (`Authorization:
//! OSS ak:sig`, or `OSSAccessKeyId`/`Expires`/`Signature` in the URL) and V4 (`Authorization:
//! OSS4-HMAC-SHA256 ...`, or `x-oss-signature` and its companions in the URL).

use axum::http::{header, HeaderMap, Method};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::errors::{BucketError, OssCode};
use super::state::{param, Bucket};
use crate::server::protocol::signing::{v1, v4};
use crate::server::protocol::MAX_CLOCK_SKEW;

/// The query's signed sub-resources; an empty value is written as the bare key.
pub fn sub_resources(query: &[(String, String)]) -> Vec<(&str, Option<&str>)> {
    query
        .iter()
        .filter(|(name, _)| v1::is_sub_resource(name))
        .map(|(name, value)| (name.as_str(), (!value.is_empty()).then_some(value.as_str())))
        .collect()
}

/// Whether `tail` (after a `?` or `&`) reads as V1 sub-resources: `partNumber=1&uploadId=U`.
fn mimics(tail: &str) -> bool {
    tail.split('&')
        .any(|pair| v1::is_sub_resource(pair.split('=').next().unwrap_or("")))
}

/// The signature did not match: OSS echoes what it signed, so a client can compare (V1).
fn mismatch_v1(string_to_sign: &str, provided: &str, access_key_id: &str) -> BucketError {
    let bytes: Vec<String> = string_to_sign.bytes().map(|b| format!("{b:02x}")).collect();
    BucketError::new(
        OssCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .with("StringToSign", string_to_sign)
    .with("SignatureProvided", provided)
    .with("StringToSignBytes", bytes.join(" "))
    .with("OSSAccessKeyId", access_key_id)
}

/// The same for V4, with the canonical request too.
fn mismatch_v4(canonical: &str, string_to_sign: &str, provided: &str) -> BucketError {
    BucketError::new(
        OssCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .with("CanonicalRequest", canonical)
    .with("StringToSign", string_to_sign)
    .with("SignatureProvided", provided)
}

/// Whether the request carries a signature at all (header or query, V1 or V4).
pub fn is_signed(headers: &HeaderMap, query: &[(String, String)]) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || query
            .iter()
            .any(|(n, _)| n == "Signature" || n == "x-oss-signature")
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn skewed() -> BucketError {
    BucketError::new(
        OssCode::RequestTimeTooSkewed,
        "The difference between the request time and the current time is too large.",
    )
}

/// Checks the request's signature; `Ok` means a key of this bucket signed exactly this request
/// (V1 or V4, in the `Authorization` header or in the URL).
pub fn verify(
    bucket: &Bucket,
    method: &Method,
    key: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(), BucketError> {
    let now = OffsetDateTime::now_utc();
    let in_url = param(query, "Signature").is_some() || param(query, "x-oss-signature").is_some();
    if in_url && headers.contains_key(header::AUTHORIZATION) {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "Authorization header and query signature cannot both be given.",
        ));
    }
    // A signed header the signature cannot read (not visible ASCII) would be acted on unsigned.
    let unreadable = headers.iter().any(|(name, value)| {
        let name = name.as_str();
        (name.starts_with("x-oss-") || name == "content-type" || name == "content-md5")
            && value.to_str().is_err()
    });
    if unreadable {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "Content-Type, Content-MD5 and x-oss-* header values must be visible ASCII.",
        ));
    }
    let request = Signed {
        bucket,
        method,
        key,
        headers,
        query,
        now,
    };
    if param(query, "x-oss-signature").is_some() {
        return request.presigned_v4();
    }
    if in_url {
        return request.presigned_v1();
    }
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Err(BucketError::new(
            OssCode::AccessDenied,
            "Anonymous access is forbidden for this operation.",
        ));
    };
    let authorization = authorization.to_str().unwrap_or("");
    if authorization.starts_with(v4::ALGORITHM) {
        request.header_v4(authorization)
    } else {
        request.header_v1(authorization)
    }
}

/// One request to check, and the time it is checked at.
struct Signed<'a> {
    bucket: &'a Bucket,
    method: &'a Method,
    key: &'a str,
    headers: &'a HeaderMap,
    query: &'a [(String, String)],
    now: OffsetDateTime,
}

impl Signed<'_> {
    fn header_v1(&self, authorization: &str) -> Result<(), BucketError> {
        let (access_key_id, signature) =
            v1::parse_authorization(authorization).ok_or_else(|| {
                BucketError::new(OssCode::InvalidArgument, "Authorization header is invalid.")
            })?;
        let date = if self.headers.contains_key("x-oss-date") {
            header_text(self.headers, "x-oss-date")
        } else {
            header_text(self.headers, "date")
        };
        let sent_at = v1::parse_http_date(date).ok_or_else(|| {
            BucketError::new(
                OssCode::AccessDenied,
                "OSS authentication requires a valid Date.",
            )
        })?;
        if (self.now - sent_at).abs() > MAX_CLOCK_SKEW {
            return Err(skewed());
        }
        let token = self
            .headers
            .get("x-oss-security-token")
            .and_then(|v| v.to_str().ok());
        self.check_v1(access_key_id, signature, date, token)
    }

    fn presigned_v1(&self) -> Result<(), BucketError> {
        let (Some(access_key_id), Some(expires), Some(signature)) = (
            param(self.query, "OSSAccessKeyId"),
            param(self.query, "Expires"),
            param(self.query, "Signature"),
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
        if expires_at < self.now.unix_timestamp() {
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "Request has expired.",
            ));
        }
        let token = param(self.query, "security-token");
        self.check_v1(access_key_id, signature, expires, token)
    }

    fn check_v1(
        &self,
        access_key_id: &str,
        signature: &str,
        date: &str,
        token: Option<&str>,
    ) -> Result<(), BucketError> {
        // V1 writes the key and the sub-resources unescaped: the key `K?partNumber=1&uploadId=U`,
        // or `K` with one value `1&uploadId=U`, signs like `K` with both sub-resources. A key or
        // value whose tail reads as sub-resources is refused.
        let subs = sub_resources(self.query);
        let key_mimics = self
            .key
            .split_once('?')
            .is_some_and(|(_, tail)| mimics(tail));
        let value_mimics = subs.iter().any(|(_, value)| {
            value
                .and_then(|v| v.split_once('&'))
                .is_some_and(|(_, tail)| mimics(tail))
        });
        if key_mimics || value_mimics {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "A V1 signature cannot tell this key or parameter from sub-resources of another request; sign it with V4.",
            ));
        }
        let secret = self.bucket.secret_for(access_key_id, token, self.now)?;
        let request = v1::HeaderRequest {
            method: self.method.as_str(),
            content_md5: header_text(self.headers, "content-md5"),
            content_type: header_text(self.headers, "content-type"),
            date,
            oss_headers: self.oss_headers(),
            bucket: &self.bucket.name,
            key: self.key,
            sub_resources: subs,
        };
        let string_to_sign = v1::header_string_to_sign(&request);
        if v1::verify(secret.expose_secret(), &string_to_sign, signature) {
            Ok(())
        } else {
            Err(mismatch_v1(&string_to_sign, signature, access_key_id))
        }
    }

    fn oss_headers(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-oss-"))
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect()
    }

    fn header_v4(&self, authorization: &str) -> Result<(), BucketError> {
        let parsed = v4::parse_authorization(authorization).ok_or_else(|| {
            BucketError::new(
                OssCode::InvalidArgument,
                "Authorization header is invalid: expected OSS4-HMAC-SHA256 Credential=...,Signature=...",
            )
        })?;
        let date_time = header_text(self.headers, "x-oss-date");
        let signed_at = self.v4_date(parsed.credential, date_time)?;
        if (self.now - signed_at).abs() > MAX_CLOCK_SKEW {
            return Err(skewed());
        }
        let token = self
            .headers
            .get("x-oss-security-token")
            .and_then(|v| v.to_str().ok());
        let query = self
            .query
            .iter()
            .map(|(n, v)| (n.as_str(), Some(v.as_str())))
            .collect();
        self.check_v4(&parsed, date_time, token, query)
    }

    fn presigned_v4(&self) -> Result<(), BucketError> {
        let required = |name: &str| {
            param(self.query, name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    BucketError::new(
                        OssCode::AccessDenied,
                        format!("A V4 presigned URL must carry {name}."),
                    )
                })
        };
        let version = required("x-oss-signature-version")?;
        if version != v4::ALGORITHM {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                format!("x-oss-signature-version must be {}.", v4::ALGORITHM),
            ));
        }
        let credential = required("x-oss-credential")?;
        let date_time = required("x-oss-date")?;
        let expires: i64 = required("x-oss-expires")?
            .parse()
            .ok()
            .filter(|s| (1..=V4_MAX_AGE.whole_seconds()).contains(s))
            .ok_or_else(|| {
                BucketError::new(
                    OssCode::InvalidArgument,
                    "x-oss-expires must be a number of seconds from 1 to 604800.",
                )
            })?;
        let signed_at = self.v4_date(credential, date_time)?;
        if signed_at - self.now > MAX_CLOCK_SKEW {
            return Err(skewed());
        }
        if self.now > signed_at + time::Duration::seconds(expires) {
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "Request has expired.",
            ));
        }
        let parsed = v4::Authorization {
            credential,
            additional_headers: param(self.query, "x-oss-additional-headers")
                .map(|a| a.split(';').filter(|h| !h.is_empty()).collect())
                .unwrap_or_default(),
            signature: required("x-oss-signature")?,
        };
        let token = param(self.query, "x-oss-security-token");
        let query = self
            .query
            .iter()
            .filter(|(n, _)| n != "x-oss-signature")
            .map(|(n, v)| (n.as_str(), Some(v.as_str())))
            .collect();
        self.check_v4(&parsed, date_time, token, query)
    }

    /// The time of a V4 signature, checked against its credential's scope: the bucket's
    /// region, and the same day.
    fn v4_date(&self, credential: &str, date_time: &str) -> Result<OffsetDateTime, BucketError> {
        let invalid = |message: String| BucketError::new(OssCode::InvalidArgument, message);
        let scope = v4::parse_credential(credential).map_err(|e| invalid(format!("{e}.")))?;
        if scope.region != self.bucket.region {
            return Err(invalid(format!(
                "The region in the credential ({}) is not this bucket's region ({}).",
                scope.region, self.bucket.region
            )));
        }
        let signed_at = v4::parse_date_time(date_time).ok_or_else(|| {
            BucketError::new(
                OssCode::AccessDenied,
                "x-oss-date must be given, written YYYYMMDDTHHMMSSZ.",
            )
        })?;
        if !date_time.starts_with(scope.date) {
            return Err(invalid(
                "x-oss-date must fall on the date of the credential.".to_owned(),
            ));
        }
        Ok(signed_at)
    }

    fn check_v4(
        &self,
        parsed: &v4::Authorization<'_>,
        date_time: &str,
        token: Option<&str>,
        query: Vec<(&str, Option<&str>)>,
    ) -> Result<(), BucketError> {
        let scope = v4::parse_credential(parsed.credential)
            .map_err(|e| BucketError::new(OssCode::InvalidArgument, format!("{e}.")))?;
        let secret = self
            .bucket
            .secret_for(scope.access_key_id, token, self.now)?;
        let request = v4::SignedRequest {
            method: self.method.as_str(),
            bucket: &self.bucket.name,
            key: self.key,
            query,
            headers: self
                .headers
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect(),
            additional_headers: parsed.additional_headers.clone(),
        };
        let canonical = request.canonical();
        let string_to_sign = v4::string_to_sign(date_time, scope.region, &canonical);
        if v4::verify(
            secret.expose_secret(),
            date_time,
            scope.region,
            &string_to_sign,
            parsed.signature,
        ) {
            Ok(())
        } else {
            Err(mismatch_v4(&canonical, &string_to_sign, parsed.signature))
        }
    }
}

/// How long after its `x-oss-date` a V4 presigned URL may stay valid.
const V4_MAX_AGE: time::Duration = time::Duration::days(7);

#[cfg(test)]
mod tests {
    use super::sub_resources;

    #[test]
    fn tails_that_read_as_sub_resources_are_found() {
        assert!(super::mimics("partNumber=1&uploadId=U"));
        assert!(super::mimics("x&uploadId=U"));
        assert!(super::mimics("acl"));
        assert!(!super::mimics("/x.bin"));
        assert!(!super::mimics("b.pdf\""));
        assert!(!super::mimics("prefix=a"));
    }

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
