//! The browser's upload engine: sign the queued files, then POST each straight to the bucket
//! with XHR (for upload progress), a few at a time. The pure parts build on both sides.

#[cfg(feature = "hydrate")]
mod integrity;
#[cfg(feature = "hydrate")]
mod keep_alive;
#[cfg(feature = "hydrate")]
mod queue;
#[cfg(feature = "hydrate")]
mod xhr;

#[cfg(feature = "hydrate")]
pub use keep_alive::keep_alive_while;
#[cfg(feature = "hydrate")]
pub use queue::{start, Start};

/// Progress for the bar: whole percent of the bytes sent, held at 99 until the bucket has
/// answered (100 means stored, not merely sent).
pub fn percent_sent(loaded: f64, total: f64) -> u8 {
    let ratio = loaded / total;
    if total <= 0.0 || ratio.is_nan() {
        return 0;
    }
    (ratio * 100.0).floor().clamp(0.0, 99.0) as u8
}

/// Whether a simple-upload ETag (`"HEX"`, any case) is the MD5 the page computed. Multipart
/// ETags (`"HEX-N"`) are not an MD5 of the bytes: `None`, nothing to compare.
pub fn etag_matches(etag: &str, md5_hex: &str) -> Option<bool> {
    let etag = etag.trim().trim_start_matches("W/").trim_matches('"');
    if etag.len() != 32 || !etag.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(etag.eq_ignore_ascii_case(md5_hex))
}

/// A readable reason for a refused upload, from the bucket's error `Code` and `Message`.
pub fn refusal_reason(status: u16, code: &str, message: &str) -> String {
    match (code.is_empty(), message.is_empty()) {
        (true, true) => format!("The bucket refused the upload (HTTP {status})."),
        (false, true) => format!("The bucket refused the upload: {code}."),
        (_, false) if code.is_empty() => format!("The bucket refused the upload: {message}"),
        _ => format!("The bucket refused the upload ({code}): {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_whole_percent_and_never_claims_done() {
        assert_eq!(percent_sent(0.0, 100.0), 0);
        assert_eq!(percent_sent(50.5, 100.0), 50);
        assert_eq!(percent_sent(100.0, 100.0), 99);
        assert_eq!(percent_sent(5.0, 0.0), 0);
        assert_eq!(percent_sent(f64::NAN, 10.0), 0);
    }

    #[test]
    fn etags_are_compared_with_the_md5() {
        let md5 = "6F5902AC237024BDD0C176CB93063DC4";
        assert_eq!(
            etag_matches("\"6F5902AC237024BDD0C176CB93063DC4\"", md5),
            Some(true)
        );
        assert_eq!(
            etag_matches("\"6f5902ac237024bdd0c176cb93063dc4\"", md5),
            Some(true)
        );
        assert_eq!(
            etag_matches("\"00000000000000000000000000000000\"", md5),
            Some(false)
        );
        assert_eq!(
            etag_matches("\"6F5902AC237024BDD0C176CB93063DC4-3\"", md5),
            None
        );
        assert_eq!(etag_matches("", md5), None);
    }

    #[test]
    fn refusals_read_plainly() {
        assert_eq!(
            refusal_reason(403, "AccessDenied", "Invalid according to Policy: Policy expired."),
            "The bucket refused the upload (AccessDenied): Invalid according to Policy: Policy expired."
        );
        assert_eq!(
            refusal_reason(502, "", ""),
            "The bucket refused the upload (HTTP 502)."
        );
    }
}
