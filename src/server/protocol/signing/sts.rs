//! Alibaba Cloud RPC signatures (version 1.0, HMAC-SHA1), as STS AssumeRole uses them: the
//! percent-encoding, the canonical query and the string to sign. The local STS endpoint
//! verifies with the same functions.

use percent_encoding::utf8_percent_encode;

use super::UNRESERVED;

pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `k=v` pairs, each side encoded, sorted by key, joined with `&`. `Signature` is left out.
pub fn canonical_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&percentEncode(canonical)`.
pub fn string_to_sign(method: &str, canonical_query: &str) -> String {
    format!("{method}&%2F&{}", percent_encode(canonical_query))
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    super::v1::sign(&format!("{secret}&"), string_to_sign)
}

pub fn verify(secret: &str, string_to_sign: &str, provided: &str) -> bool {
    super::v1::verify(&format!("{secret}&"), string_to_sign, provided)
}
