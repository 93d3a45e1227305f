//! OSS signature version 1 (HMAC-SHA1): POST policies and `Authorization: OSS ak:sig` headers.
//! The bucket verifies with the same functions the signer uses.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

fn mac(secret: &str, message: &str) -> HmacSha1 {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac
}

/// `base64(HMAC-SHA1(secret, string_to_sign))`: the POST `Signature` (where the string to sign
/// is the base64 policy exactly as sent) and the header signature.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(mac(secret, string_to_sign).finalize().into_bytes())
}

/// Checks a provided base64 signature in constant time.
pub fn verify(secret: &str, string_to_sign: &str, provided: &str) -> bool {
    match BASE64.decode(provided.trim()) {
        Ok(bytes) => mac(secret, string_to_sign).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// The parts of a request that a V1 header signature covers.
#[derive(Clone, Debug, Default)]
pub struct HeaderRequest<'a> {
    pub method: &'a str,
    pub content_md5: &'a str,
    pub content_type: &'a str,
    /// The `x-oss-date` header if sent, else `Date`.
    pub date: &'a str,
    /// Every `x-oss-*` header, any case, any order.
    pub oss_headers: Vec<(&'a str, &'a str)>,
    pub bucket: &'a str,
    /// The raw object key (not URL-encoded); empty for bucket-level requests.
    pub key: &'a str,
    /// The query (`uploads`, `partNumber`, `prefix`...): a `None` value is a bare key. Only
    /// OSS's sub-resources among them are signed.
    pub sub_resources: Vec<(&'a str, Option<&'a str>)>,
}

/// `VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedOSSHeaders CanonicalizedResource`.
pub fn header_string_to_sign(request: &HeaderRequest<'_>) -> String {
    let mut headers: Vec<(String, &str)> = request
        .oss_headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .filter(|(name, _)| name.starts_with("x-oss-"))
        .collect();
    headers.sort();
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        request.method, request.content_md5, request.content_type, request.date
    );
    for (name, value) in headers {
        out.push_str(&name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('/');
    if !request.bucket.is_empty() {
        out.push_str(request.bucket);
        out.push('/');
    }
    out.push_str(request.key);
    let mut subs: Vec<_> = request
        .sub_resources
        .iter()
        .filter(|(name, _)| is_sub_resource(name))
        .collect();
    subs.sort();
    for (i, (name, value)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// Query parameters that are part of the signed resource: OSS's sub-resources, as oss2
/// 2.19 lists them (`ProviderAuth._subresource_key_set`, a superset of what ali-oss signs).
/// Other parameters (`prefix`, `marker`, `list-type`, `max-keys`) are not signed.
const SUB_RESOURCES: &[&str] = &[
    "acl",
    "uploadId",
    "uploads",
    "partNumber",
    "delete",
    "cors",
    "lifecycle",
    "website",
    "referer",
    "logging",
    "location",
    "tagging",
    "versioning",
    "versions",
    "versionId",
    "policy",
    "encryption",
    "restore",
    "symlink",
    "append",
    "position",
    "objectInfo",
    "objectMeta",
    "stat",
    "bucketInfo",
    "qos",
    "qosInfo",
    "requestPayment",
    "inventory",
    "inventoryId",
    "continuation-token",
    "worm",
    "wormId",
    "wormExtend",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "transferAcceleration",
    "cname",
    "metaQuery",
    "group",
    "link",
    "live",
    "comp",
    "status",
    "vod",
    "startTime",
    "endTime",
    "callback",
    "callback-var",
    "security-token",
    "x-oss-process",
    "x-oss-async-process",
    "x-oss-traffic-limit",
    "x-oss-request-payer",
    "x-oss-write-get-object-response",
    "x-oss-ac-source-ip",
    "x-oss-ac-subnet-mask",
    "x-oss-ac-vpc-id",
    "x-oss-ac-forward-allow",
    "asyncFetch",
    "sequential",
    "resourceGroup",
    "style",
    "styleName",
    "regionList",
    "bucketArchiveDirectRead",
    "httpsConfig",
    "redundancyTransition",
    "x-oss-target-redundancy-type",
    "x-oss-redundancy-transition-taskid",
    "accessPoint",
    "accessPointPolicy",
    "publicAccessBlock",
    "x-oss-access-point-name",
    "requesterQosInfo",
    "qosRequester",
    "resourcePoolInfo",
    "resourcePool",
    "resourcePoolBuckets",
    "response-content-type",
    "response-content-language",
    "response-cache-control",
    "response-content-encoding",
    "response-expires",
    "response-content-disposition",
];

pub fn is_sub_resource(name: &str) -> bool {
    SUB_RESOURCES.contains(&name)
}

/// The `Authorization` header value: `OSS <AccessKeyId>:<signature>`.
pub fn authorization(access_key_id: &str, secret: &str, request: &HeaderRequest<'_>) -> String {
    format!(
        "OSS {access_key_id}:{}",
        sign(secret, &header_string_to_sign(request))
    )
}

/// A V1 presigned URL: `object_url?OSSAccessKeyId=…&Expires=…&Signature=…` followed by the
/// sub-resources (a `security-token` among them for STS keys), as ali-oss writes it.
/// `request.date` is the expiry in Unix seconds.
pub fn presigned_url(
    object_url: &str,
    access_key_id: &str,
    secret: &str,
    request: &HeaderRequest<'_>,
) -> String {
    use percent_encoding::utf8_percent_encode;
    let encode = |text: &str| utf8_percent_encode(text, super::UNRESERVED).to_string();
    let signature = sign(secret, &header_string_to_sign(request));
    let mut url = format!(
        "{object_url}?OSSAccessKeyId={}&Expires={}&Signature={}",
        encode(access_key_id),
        encode(request.date),
        encode(&signature)
    );
    for (name, value) in &request.sub_resources {
        url.push('&');
        url.push_str(&encode(name));
        if let Some(value) = value {
            url.push('=');
            url.push_str(&encode(value));
        }
    }
    url
}

/// Splits `OSS ak:signature` into its parts.
pub fn parse_authorization(value: &str) -> Option<(&str, &str)> {
    value.strip_prefix("OSS ")?.split_once(':')
}

const HTTP_DATE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// An RFC 1123 date as V1 signatures and HTTP headers use it: `Sun, 03 Dec 2023 12:12:12 GMT`.
pub fn http_date(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .expect("HTTP dates always format")
}

pub fn parse_http_date(text: &str) -> Option<time::OffsetDateTime> {
    time::PrimitiveDateTime::parse(text.trim(), HTTP_DATE)
        .ok()
        .map(|at| at.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let at = time::macros::datetime!(2023-12-03 12:12:12 UTC);
        assert_eq!(http_date(at), "Sun, 03 Dec 2023 12:12:12 GMT");
        assert_eq!(parse_http_date("Sun, 03 Dec 2023 12:12:12 GMT"), Some(at));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn authorization_parses() {
        assert_eq!(parse_authorization("OSS ak:sig="), Some(("ak", "sig=")));
        assert_eq!(parse_authorization("Bearer x"), None);
    }
}
