//! OSS signature version 4 (OSS4-HMAC-SHA256) for POST policies: the signing-key chain, the
//! credential scope and the `x-oss-date` format. The bucket verifies with the same functions.

use hmac::{Hmac, Mac};
use sha2::Sha256;
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
