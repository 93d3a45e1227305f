//! What both ends of the OSS/S3 wire agree on — the portal that signs and the embedded bucket
//! that checks: limits, credentials, the POST policy, signing schemes, callbacks, CORS. Pure: no I/O.

pub mod callback;
pub mod content;
pub mod cors;
pub mod credentials;
pub mod policy;
pub mod signing;

use percent_encoding::utf8_percent_encode;

pub use crate::naming::MAX_KEY_BYTES;

/// OSS's limit for one object, and for one part of a multipart upload.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The smallest part OSS takes (all but the last).
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// Part numbers run from 1 to this.
pub const MAX_PARTS: u32 = 10_000;
/// How far a signed request's date may be from the server's clock (V1 headers, V4, STS).
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

/// `key` percent-encoded for a URL path, `/` kept.
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, signing::UNRESERVED_AND_SLASH).to_string()
}
