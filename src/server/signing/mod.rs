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
