//! OSS signature version 4 (OSS4-HMAC-SHA256): POST policies, `Authorization` headers and
//! presigned URLs, with the signing-key chain, the credential scope and the `x-oss-date`
//! format they share. The bucket verifies with the same functions the portal signs with.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
const TERMINATOR: &str = "aliyun_v4_request";

fn hmac(key: &[u8], message: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac
}

/// `kS = HMAC(HMAC(HMAC(HMAC("aliyun_v4" + secret, date), region), "oss"), "aliyun_v4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    super::derived_key("aliyun_v4", secret, date, region, "oss", TERMINATOR)
}

/// The `x-oss-signature` of a POST: lower-case hex HMAC-SHA256 over the base64 policy as sent.
pub fn post_signature(secret: &str, date: &str, region: &str, policy_b64: &str) -> String {
    super::hex(&super::hmac_sha256(
        &signing_key(secret, date, region),
        policy_b64,
    ))
}

/// Checks a provided hex signature in constant time.
pub fn verify_post_signature(
    secret: &str,
    date: &str,
    region: &str,
    policy_b64: &str,
    provided: &str,
) -> bool {
    match super::unhex(provided) {
        Some(bytes) => hmac(&signing_key(secret, date, region), policy_b64)
            .verify_slice(&bytes)
            .is_ok(),
        None => false,
    }
}

/// `<AccessKeyId>/<YYYYMMDD>/<region>/oss/aliyun_v4_request`.
pub fn credential(access_key_id: &str, date: &str, region: &str) -> String {
    format!("{access_key_id}/{date}/{region}/oss/{TERMINATOR}")
}

/// The parts of an `x-oss-credential`: (AccessKeyId, date, region).
#[derive(Debug, PartialEq, Eq)]
pub struct Credential<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
}

/// Why a credential scope was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("x-oss-credential must end with /oss/aliyun_v4_request")]
    Terminator,
    #[error("x-oss-credential must be <AccessKeyId>/<YYYYMMDD>/<region>/oss/aliyun_v4_request")]
    Shape,
}

pub fn parse_credential(text: &str) -> Result<Credential<'_>, CredentialError> {
    let rest = text
        .strip_suffix(TERMINATOR)
        .ok_or(CredentialError::Terminator)?;
    let rest = rest
        .strip_suffix("/oss/")
        .ok_or(CredentialError::Terminator)?;
    // The AccessKeyId has no '/', the region neither: split from both ends.
    let (access_key_id, rest) = rest.split_once('/').ok_or(CredentialError::Shape)?;
    let (date, region) = rest.split_once('/').ok_or(CredentialError::Shape)?;
    let valid = !access_key_id.is_empty()
        && date.len() == 8
        && date.bytes().all(|b| b.is_ascii_digit())
        && !region.is_empty()
        && !region.contains('/');
    if valid {
        Ok(Credential {
            access_key_id,
            date,
            region,
        })
    } else {
        Err(CredentialError::Shape)
    }
}

/// The payload hash OSS V4 signs when the body is not hashed (always, for OSS).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request as OSS V4 signs it (header or presigned). Values are raw (decoded).
#[derive(Clone, Debug, Default)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Empty for requests to the service itself.
    pub bucket: &'a str,
    /// The raw object key; empty for bucket-level requests.
    pub key: &'a str,
    /// Every query parameter but `x-oss-signature`; a `None` value is a bare key.
    pub query: Vec<(&'a str, Option<&'a str>)>,
    /// The request's headers, any case: `content-type`, `content-md5`, every `x-oss-*` and
    /// the additional headers are signed, the rest ignored.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Other headers the signer chose to sign (`AdditionalHeaders`), lower-case.
    pub additional_headers: Vec<&'a str>,
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, super::UNRESERVED).to_string()
}

impl SignedRequest<'_> {
    /// `/bucket/key` with the key URI-encoded (`/` kept); `/bucket/` for the bucket itself.
    fn canonical_uri(&self) -> String {
        match (self.bucket, self.key) {
            ("", _) => "/".to_owned(),
            (bucket, key) => format!(
                "/{bucket}/{}",
                percent_encoding::utf8_percent_encode(key, super::UNRESERVED_AND_SLASH)
            ),
        }
    }

    fn canonical_query(&self) -> String {
        let mut pairs: Vec<(String, Option<String>)> = self
            .query
            .iter()
            .map(|(name, value)| (encode(name), value.filter(|v| !v.is_empty()).map(encode)))
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{name}={value}"),
                None => name.clone(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn signs_header(&self, name: &str) -> bool {
        name == "content-type"
            || name == "content-md5"
            || name.starts_with("x-oss-")
            || self.additional_headers.contains(&name)
    }

    /// `VERB\nURI\nQuery\nHeaders\n\nAdditionalHeaders\nHashedPayload`.
    pub fn canonical(&self) -> String {
        let mut headers: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
            .filter(|(name, _)| self.signs_header(name))
            .collect();
        headers.sort();
        let payload = headers
            .iter()
            .find(|(name, _)| name == "x-oss-content-sha256")
            .map_or(UNSIGNED_PAYLOAD, |(_, value)| value);
        let mut additional: Vec<&str> = self.additional_headers.clone();
        additional.sort_unstable();
        additional.dedup();
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.method,
            self.canonical_uri(),
            self.canonical_query()
        );
        for (name, value) in &headers {
            out.push_str(name);
            out.push(':');
            out.push_str(value);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&additional.join(";"));
        out.push('\n');
        out.push_str(payload);
        out
    }
}

/// `OSS4-HMAC-SHA256\n<date-time>\n<scope>\nhex(sha256(canonical request))`.
pub fn string_to_sign(date_time: &str, region: &str, canonical: &str) -> String {
    let date = date_time.get(..8).unwrap_or(date_time);
    format!(
        "{ALGORITHM}\n{date_time}\n{date}/{region}/oss/{TERMINATOR}\n{}",
        super::hex(&Sha256::digest(canonical.as_bytes()))
    )
}

/// The hex signature of a string to sign, under the key of its date and region.
pub fn signature(secret: &str, date_time: &str, region: &str, string_to_sign: &str) -> String {
    let date = date_time.get(..8).unwrap_or(date_time);
    super::hex(&super::hmac_sha256(
        &signing_key(secret, date, region),
        string_to_sign,
    ))
}

/// Checks a provided hex signature in constant time.
pub fn verify(
    secret: &str,
    date_time: &str,
    region: &str,
    string_to_sign: &str,
    provided: &str,
) -> bool {
    let date = date_time.get(..8).unwrap_or(date_time);
    match super::unhex(provided) {
        Some(bytes) => hmac(&signing_key(secret, date, region), string_to_sign)
            .verify_slice(&bytes)
            .is_ok(),
        None => false,
    }
}

/// The `Authorization` header of `request`, whose headers carry `x-oss-date` = `date_time`.
pub fn authorization(
    access_key_id: &str,
    secret: &str,
    date_time: &str,
    region: &str,
    request: &SignedRequest<'_>,
) -> String {
    let to_sign = string_to_sign(date_time, region, &request.canonical());
    let signature = signature(secret, date_time, region, &to_sign);
    let credential = credential(access_key_id, date_time.get(..8).unwrap_or(""), region);
    let mut additional: Vec<&str> = request.additional_headers.clone();
    additional.sort_unstable();
    additional.dedup();
    if additional.is_empty() {
        format!("{ALGORITHM} Credential={credential},Signature={signature}")
    } else {
        format!(
            "{ALGORITHM} Credential={credential},AdditionalHeaders={},Signature={signature}",
            additional.join(";")
        )
    }
}

/// The parts of an `Authorization: OSS4-HMAC-SHA256 ...` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub credential: &'a str,
    pub additional_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Splits `OSS4-HMAC-SHA256 Credential=…[,AdditionalHeaders=a;b],Signature=…`; `None` if it is
/// not a V4 header, or lacks the credential or the signature.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix(ALGORITHM)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut credential, mut additional, mut signature) = (None, None, None);
    for field in rest.split(',') {
        let (name, value) = field.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut credential,
            "AdditionalHeaders" => &mut additional,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value.trim()).is_some() {
            return None;
        }
    }
    Some(Authorization {
        credential: credential.filter(|c| !c.is_empty())?,
        additional_headers: additional
            .map(|a: &str| a.split(';').filter(|h| !h.is_empty()).collect())
            .unwrap_or_default(),
        signature: signature.filter(|s| !s.is_empty())?,
    })
}

/// A presigned URL's query for `request` (its `query` holds the caller's own parameters, a
/// `x-oss-security-token` among them for STS keys): the caller's parameters, then
/// `x-oss-signature-version`, `-credential`, `-date`, `-expires` (seconds from `date_time`),
/// `-additional-headers` when any, and `-signature`, all URL-encoded.
pub fn presign_query(
    access_key_id: &str,
    secret: &str,
    date_time: &str,
    region: &str,
    expires_seconds: u64,
    request: &SignedRequest<'_>,
) -> String {
    let credential = credential(access_key_id, date_time.get(..8).unwrap_or(""), region);
    let expires = expires_seconds.to_string();
    let additional = request.additional_headers.join(";");
    let mut signed = request.clone();
    signed.query.extend([
        ("x-oss-signature-version", Some(ALGORITHM)),
        ("x-oss-credential", Some(credential.as_str())),
        ("x-oss-date", Some(date_time)),
        ("x-oss-expires", Some(expires.as_str())),
    ]);
    if !additional.is_empty() {
        signed
            .query
            .push(("x-oss-additional-headers", Some(additional.as_str())));
    }
    let to_sign = string_to_sign(date_time, region, &signed.canonical());
    let signature = signature(secret, date_time, region, &to_sign);
    signed.query.push(("x-oss-signature", Some(&signature)));
    signed
        .query
        .iter()
        .map(|(name, value)| match value {
            Some(value) => format!("{}={}", encode(name), encode(value)),
            None => encode(name),
        })
        .collect::<Vec<_>>()
        .join("&")
}

const DATE_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// `YYYYMMDDTHHMMSSZ`, the form of `x-oss-date`.
pub fn format_date_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(DATE_TIME)
        .expect("dates always format")
}

pub fn parse_date_time(text: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(text, DATE_TIME)
        .ok()
        .map(|at| at.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_refuse() {
        let c = parse_credential("LTAI5t/20231203/cn-hangzhou/oss/aliyun_v4_request").unwrap();
        assert_eq!(
            c,
            Credential {
                access_key_id: "LTAI5t",
                date: "20231203",
                region: "cn-hangzhou"
            }
        );
        assert_eq!(
            parse_credential("LTAI5t/20231203/cn-hangzhou/oss/aws4_request"),
            Err(CredentialError::Terminator)
        );
        assert_eq!(
            parse_credential("LTAI5t/2023-12-03/cn-hangzhou/oss/aliyun_v4_request"),
            Err(CredentialError::Shape)
        );
        assert_eq!(
            parse_credential("LTAI5t/20231203/oss/aliyun_v4_request"),
            Err(CredentialError::Shape)
        );
        assert_eq!(
            parse_credential("/20231203/r/oss/aliyun_v4_request"),
            Err(CredentialError::Shape)
        );
    }

    #[test]
    fn dates_round_trip() {
        let at = time::macros::datetime!(2023-12-03 12:12:12 UTC);
        assert_eq!(format_date_time(at), "20231203T121212Z");
        assert_eq!(parse_date_time("20231203T121212Z"), Some(at));
        assert_eq!(parse_date_time("2023-12-03T12:12:12Z"), None);
    }
}
