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

/// The batch's bytes, speed and time left: `12.3 MB of 40.0 MB · 5.1 MB/s · about 6 s left`.
pub fn totals_line(sent: u64, total: u64, elapsed_seconds: f64) -> String {
    use crate::model::format_size;
    let mut line = format!("{} of {}", format_size(sent), format_size(total));
    if elapsed_seconds >= 0.5 && sent > 0 {
        let speed = sent as f64 / elapsed_seconds;
        line.push_str(&format!(" \u{b7} {}/s", format_size(speed as u64)));
        let left = total.saturating_sub(sent) as f64 / speed;
        if sent < total {
            let left = match left {
                s if s < 60.0 => format!("about {} s left", s.ceil().max(1.0)),
                s if s < 3600.0 => format!("about {} min left", (s / 60.0).ceil()),
                s => format!("about {} h left", (s / 3600.0).ceil()),
            };
            line.push_str(&format!(" \u{b7} {left}"));
        }
    }
    line
}

/// A file offered to the list, as the page sees it.
pub struct Offered<'a> {
    pub name: &'a str,
    pub size: u64,
    /// The browser's MIME type; may be empty.
    pub content_type: &'a str,
    /// `File.lastModified`, milliseconds.
    pub modified: f64,
}

/// The server's limits, checked as files are picked so the user hears at once (the server checks
/// again when signing), plus duplicates: a file already waiting in the list (same name, size
/// and modification time) is not added twice. `waiting` holds the files queued or uploading.
pub fn admit(
    settings: &crate::model::PortalSettings,
    waiting: &[(String, u64, f64)],
    offered: &Offered<'_>,
) -> Result<(), String> {
    use crate::model::{too_large_message, type_allowed, type_refused_message};
    let name = offered.name;
    if waiting
        .iter()
        .any(|(n, s, m)| n == name && *s == offered.size && *m == offered.modified)
    {
        return Err(format!("\u{201c}{name}\u{201d} is already in the list."));
    }
    if waiting.len() >= settings.max_files as usize {
        return Err(format!(
            "Upload at most {} files at a time.",
            settings.max_files
        ));
    }
    if offered.size > settings.max_file_size {
        return Err(too_large_message(
            name,
            offered.size,
            settings.max_file_size,
        ));
    }
    // An empty browser type is left to the server, which guesses it from the name.
    let content_type = offered.content_type.to_ascii_lowercase();
    if !content_type.is_empty() && !type_allowed(&settings.allowed_types, &content_type) {
        return Err(type_refused_message(
            name,
            &content_type,
            &settings.allowed_types,
        ));
    }
    Ok(())
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

    fn settings() -> crate::model::PortalSettings {
        crate::model::PortalSettings {
            default_folder: "uploads/".into(),
            upload_root: "uploads/".into(),
            max_file_size: 1000,
            max_files: 2,
            parallel_uploads: 3,
            allowed_types: vec!["image/*".into()],
            client: Default::default(),
            fallback: crate::model::UploadTicket {
                key: String::new(),
                url: String::new(),
                fields: vec![],
                object_url: String::new(),
                expires_at: 0,
            },
        }
    }

    #[test]
    fn picked_files_are_admitted_by_the_rules() {
        let settings = settings();
        let offer = |name, size, content_type, modified| Offered {
            name,
            size,
            content_type,
            modified,
        };
        assert_eq!(
            admit(&settings, &[], &offer("a.png", 10, "image/png", 1.0)),
            Ok(())
        );
        assert_eq!(admit(&settings, &[], &offer("a.bin", 10, "", 1.0)), Ok(()));
        let waiting = vec![("a.png".to_owned(), 10, 1.0)];
        assert_eq!(
            admit(&settings, &waiting, &offer("a.png", 10, "image/png", 1.0)),
            Err("\u{201c}a.png\u{201d} is already in the list.".into())
        );
        assert_eq!(
            admit(&settings, &waiting, &offer("a.png", 10, "image/png", 2.0)),
            Ok(())
        );
        assert_eq!(
            admit(&settings, &[], &offer("big.png", 2000, "image/png", 1.0)),
            Err("\u{201c}big.png\u{201d} is 2.0 KB; the largest file accepted is 1.0 KB.".into())
        );
        assert!(
            admit(&settings, &[], &offer("page.html", 1, "text/html", 1.0))
                .unwrap_err()
                .contains("not accepted")
        );
        let full = vec![("x".to_owned(), 1, 1.0), ("y".to_owned(), 1, 1.0)];
        assert_eq!(
            admit(&settings, &full, &offer("z.png", 1, "image/png", 1.0)),
            Err("Upload at most 2 files at a time.".into())
        );
    }

    #[test]
    fn totals_read_like_a_download_bar() {
        assert_eq!(totals_line(0, 40_000_000, 0.0), "0 B of 40.0 MB");
        assert_eq!(
            totals_line(10_000_000, 40_000_000, 2.0),
            "10.0 MB of 40.0 MB \u{b7} 5.0 MB/s \u{b7} about 6 s left"
        );
        assert_eq!(
            totals_line(1_000_000, 400_000_000, 1.0),
            "1.0 MB of 400.0 MB \u{b7} 1.0 MB/s \u{b7} about 7 min left"
        );
        assert_eq!(
            totals_line(40_000_000, 40_000_000, 4.0),
            "40.0 MB of 40.0 MB \u{b7} 10.0 MB/s"
        );
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
