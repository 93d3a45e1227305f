//! The checks on a file at the page's edges: admitting a picked file by the portal's rules (the
//! server checks again when signing), and what the bucket stored against the page's digest. Pure.

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
    // A type the browser did not know (none, or octet-stream: HEIC on Windows) is left to the
    // server, which decides it from the name.
    let content_type = offered.content_type.to_ascii_lowercase();
    let unknown = content_type.is_empty() || content_type == "application/octet-stream";
    if !unknown && !type_allowed(&settings.allowed_types, &content_type) {
        return Err(Notice::TypeRefused {
            name,
            content_type,
            allowed: settings.allowed_types.clone(),
        });
    }
    Ok(())
}

/// Whether refusing a second file would say what `said` says already: "at most N files", or
/// the same type refused (its first file named). Each is said once however many files it
/// turns away.
pub fn says_the_same(said: &Notice, refusal: &Notice) -> bool {
    match (said, refusal) {
        (Notice::TooManyFiles { .. }, Notice::TooManyFiles { .. }) => true,
        (
            Notice::TypeRefused {
                content_type: said, ..
            },
            Notice::TypeRefused { content_type, .. },
        ) => said == content_type,
        _ => false,
    }
}

/// Whether a file of a folder picked or dropped whole (`path` inside it, `trip/.DS_Store`) is
/// a file manager's clutter rather than the reader's: Finder's `.DS_Store` and `._` files,
/// Windows' `Thumbs.db` and `desktop.ini`. They are left out of the list; the same file picked
/// by itself (no folder in its path) is the reader's choice and kept.
pub fn is_folder_clutter(path: &str) -> bool {
    // (A byte scan: `rsplit_once` brought a string searcher into the page's WASM.)
    let Some(slash) = path.bytes().rposition(|b| b == b'/') else {
        return false;
    };
    let name = &path[slash + 1..];
    matches!(name, ".DS_Store" | "Thumbs.db" | "desktop.ini") || name.starts_with("._")
}

/// CRC-64/XZ, which OSS calls crc64ecma. Its 32 KiB of tables are built on first use rather
/// than shipped in the page's WASM.
pub fn crc64() -> &'static crc::Crc<u64, crc::Table<16>> {
    static CRC64: std::sync::OnceLock<crc::Crc<u64, crc::Table<16>>> = std::sync::OnceLock::new();
    CRC64.get_or_init(|| crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ))
}

/// What the page hashed of the bytes it sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Digest {
    /// CRC-64/XZ (OSS's `x-oss-hash-crc64ecma`).
    Crc64(u64),
    /// Upper-case hex MD5.
    Md5(String),
}

/// Whether the bucket's reply says it stored the bytes the page hashed: a CRC-64 against the
/// `x-oss-hash-crc64ecma` header (a decimal number), an MD5 against a simple upload's ETag
/// (`"HEX"`, any case). `None`: nothing to compare (no CRC header, or a multipart ETag
/// `"HEX-N"`, which is no MD5 of the bytes). A difference names what the bucket stored.
pub fn stored_matches(
    etag: &str,
    crc64: Option<&str>,
    digest: &Digest,
) -> Option<Result<(), String>> {
    let same = match digest {
        Digest::Crc64(ours) => {
            // Compared as decimal text: no number parser in the page's WASM for this.
            let theirs = crc64?.trim();
            return Some(if theirs == ours.to_string() {
                Ok(())
            } else {
                Err(format!("CRC-64 {theirs}"))
            });
        }
        Digest::Md5(ours) => {
            // Every leading "W/" dropped by hand: a `&str` pattern would bring a substring
            // searcher into the page's WASM.
            let mut hex = etag.trim();
            while let Some(rest) = hex.strip_prefix("W/") {
                hex = rest;
            }
            let hex = hex.trim_matches('"');
            if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            hex.eq_ignore_ascii_case(ours)
        }
    };
    Some(if same {
        Ok(())
    } else {
        Err(format!("ETag {}", etag.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn a_refusal_is_said_once_per_kind() {
        let refused = |name: &str, content_type: &str| Notice::TypeRefused {
            name: name.into(),
            content_type: content_type.into(),
            allowed: vec!["image/*".into()],
        };
        let full = Notice::TooManyFiles { max: 3 };
        assert!(says_the_same(&full, &Notice::TooManyFiles { max: 3 }));
        assert!(says_the_same(
            &refused("a.txt", "text/plain"),
            &refused("b.txt", "text/plain")
        ));
        assert!(!says_the_same(
            &refused("a.txt", "text/plain"),
            &refused("c.pdf", "application/pdf")
        ));
        assert!(!says_the_same(&full, &refused("a.txt", "text/plain")));
        // A file too large is named each time: each is its own.
        let large = |name: &str| Notice::TooLarge {
            name: name.into(),
            size: 9,
            max: 1,
        };
        assert!(!says_the_same(&large("a"), &large("b")));
    }

    #[test]
    fn a_folders_clutter_is_told_from_its_files() {
        for clutter in [
            "trip/.DS_Store",
            "trip/day 1/Thumbs.db",
            "trip/desktop.ini",
            "trip/._IMG_0001.JPG",
        ] {
            assert!(is_folder_clutter(clutter), "{clutter}");
        }
        for kept in [
            ".DS_Store",
            "Thumbs.db",
            "trip/IMG_0001.JPG",
            "trip/.env",
            "trip/.DS_Store.txt",
            "trip/My Thumbs.db",
        ] {
            assert!(!is_folder_clutter(kept), "{kept}");
        }
    }

    fn settings() -> crate::model::UploaderSettings {
        crate::model::UploaderSettings {
            default_folder: "uploads/".into(),
            upload_root: "uploads/".into(),
            max_file_size: 1000,
            max_files: 2,
            parallel_uploads: 3,
            upload_retries: 5,
            strip_location: false,
            photo_smaller: false,
            photo_choice: true,
            photo_edge: 2560,
            photo_quality: 85,
            multipart_threshold: 0,
            allowed_types: vec!["image/*".into()],
            client: Default::default(),
            limits: crate::model::Limits {
                signs_per_minute: 300,
                daily_bytes: 0,
                used_bytes: 0,
            },
            checksum: Default::default(),
            sender: None,
            phone: false,
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
        // HEIC as Windows browsers give it: the server decides its type from the name.
        let heic = offer("IMG_1.HEIC", 10, "application/octet-stream", 1.0);
        assert_eq!(admit(&settings, &[], &heic), Ok(()));
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
    fn the_page_computes_the_crc_the_bucket_answers() {
        assert_eq!(crc64().checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut digest = crc64().digest();
        for piece in bytes.chunks(4099) {
            digest.update(piece);
        }
        let in_pieces = digest.finalize();
        assert_eq!(in_pieces, crc64().checksum(&bytes));
        #[cfg(feature = "ssr")]
        assert_eq!(
            in_pieces,
            crate::server::bucket::store::CRC64.checksum(&bytes)
        );
    }

    #[test]
    fn what_the_bucket_stored_is_compared_with_the_digest() {
        let md5 = Digest::Md5("6F5902AC237024BDD0C176CB93063DC4".into());
        let check = |etag, crc| stored_matches(etag, crc, &md5);
        assert_eq!(
            check("\"6F5902AC237024BDD0C176CB93063DC4\"", None),
            Some(Ok(()))
        );
        assert_eq!(
            check("\"6f5902ac237024bdd0c176cb93063dc4\"", None),
            Some(Ok(()))
        );
        assert_eq!(
            check("\"00000000000000000000000000000000\"", Some("1")),
            Some(Err("ETag \"00000000000000000000000000000000\"".into()))
        );
        assert_eq!(check("\"6F5902AC237024BDD0C176CB93063DC4-3\"", None), None);
        assert_eq!(check("", None), None);

        // CRC-64/XZ of "123456789" is 0x995DC9BBDF1939FA (its check value).
        let crc = Digest::Crc64(0x995D_C9BB_DF19_39FA);
        let check = |crc64| stored_matches("\"ANY\"", crc64, &crc);
        assert_eq!(check(Some("11051210869376104954")), Some(Ok(())));
        assert_eq!(check(Some(" 11051210869376104954 ")), Some(Ok(())));
        assert_eq!(check(Some("1")), Some(Err("CRC-64 1".into())));
        assert_eq!(
            check(Some("not a number")),
            Some(Err("CRC-64 not a number".into()))
        );
        // No header (a CORS rule hides it): the caller falls back to the MD5.
        assert_eq!(check(None), None);
    }
}
