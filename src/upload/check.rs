//! The checks on a file at the page's edges: admitting a picked file by the portal's rules (the
//! server checks again when signing), and the bucket's ETag against the page's MD5. Pure.

use crate::error::Notice;

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
    settings: &crate::model::UploaderSettings,
    waiting: &[(String, u64, f64)],
    offered: &Offered<'_>,
) -> Result<(), Notice> {
    use crate::model::type_allowed;
    let name = offered.name.to_owned();
    if waiting
        .iter()
        .any(|(n, s, m)| *n == name && *s == offered.size && *m == offered.modified)
    {
        return Err(Notice::AlreadyListed { name });
    }
    if waiting.len() >= settings.max_files as usize {
        return Err(Notice::TooManyFiles {
            max: settings.max_files,
        });
    }
    if offered.size > settings.max_file_size {
        return Err(Notice::TooLarge {
            name,
            size: offered.size,
            max: settings.max_file_size,
        });
    }
    // An empty browser type is left to the server, which guesses it from the name.
    let content_type = offered.content_type.to_ascii_lowercase();
    if !content_type.is_empty() && !type_allowed(&settings.allowed_types, &content_type) {
        return Err(Notice::TypeRefused {
            name,
            content_type,
            allowed: settings.allowed_types.clone(),
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    fn settings() -> crate::model::UploaderSettings {
        crate::model::UploaderSettings {
            default_folder: "uploads/".into(),
            upload_root: "uploads/".into(),
            max_file_size: 1000,
            max_files: 2,
            parallel_uploads: 3,
            upload_retries: 5,
            multipart_threshold: 0,
            allowed_types: vec!["image/*".into()],
            client: Default::default(),
            limits: crate::model::Limits {
                signs_per_minute: 300,
                daily_bytes: 0,
                used_bytes: 0,
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
            Err(Notice::AlreadyListed {
                name: "a.png".into()
            })
        );
        assert_eq!(
            admit(&settings, &waiting, &offer("a.png", 10, "image/png", 2.0)),
            Ok(())
        );
        assert_eq!(
            admit(&settings, &[], &offer("big.png", 2000, "image/png", 1.0)),
            Err(Notice::TooLarge {
                name: "big.png".into(),
                size: 2000,
                max: 1000
            })
        );
        assert!(
            admit(&settings, &[], &offer("page.html", 1, "text/html", 1.0))
                .unwrap_err()
                .describe(Locale::en)
                .contains("not accepted")
        );
        let full = vec![("x".to_owned(), 1, 1.0), ("y".to_owned(), 1, 1.0)];
        assert_eq!(
            admit(&settings, &full, &offer("z.png", 1, "image/png", 1.0)),
            Err(Notice::TooManyFiles { max: 2 })
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
}
