//! Signature schemes, as pure functions over strings and keys: no clock, no I/O. Each scheme
//! is tested against the official SDKs' vectors in `../shared/oss-vectors.json`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters stay, everything else is percent-encoded (`!'()*` too, a
/// space as `%20`): what SigV4, the RPC signature, form values and redirect queries all use.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same for URL paths, where `/` separates segments and stays.
pub const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

pub mod callback;
pub mod s3;
pub mod sts;
pub mod v1;
pub mod v4;

/// How OSS upload policies are signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SignatureVersion {
    /// HMAC-SHA1 over the policy (OSSAccessKeyId + Signature).
    V1,
    /// OSS4-HMAC-SHA256 with a dated, regional credential scope.
    V4,
}

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The four-step signing-key chain that SigV4 and OSS V4 share:
/// `HMAC(HMAC(HMAC(HMAC(prefix + secret, date), region), service), terminator)`.
pub(crate) fn derived_key(
    prefix: &str,
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
    terminator: &str,
) -> [u8; 32] {
    let k_date = hmac_sha256(format!("{prefix}{secret}").as_bytes(), date);
    let k_region = hmac_sha256(&k_date, region);
    let k_service = hmac_sha256(&k_region, service);
    hmac_sha256(&k_service, terminator)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex (either case); `None` unless every pair is valid.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trips() {
        assert_eq!(super::hex(&[0, 15, 255]), "000fff");
        assert_eq!(super::unhex("000fFF"), Some(vec![0, 15, 255]));
        assert_eq!(super::unhex("0"), None);
        assert_eq!(super::unhex("zz"), None);
    }
}
