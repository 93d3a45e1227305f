//! The browser's upload engine: sign the queued files, then POST each straight to the bucket
//! with XHR (for upload progress), a few at a time. The pure parts build on both sides.

#[cfg(feature = "hydrate")]
mod integrity;
#[cfg(feature = "hydrate")]
mod keep_alive;
#[cfg(feature = "hydrate")]
mod network;
#[cfg(feature = "hydrate")]
mod parts;
#[cfg(feature = "hydrate")]
mod queue;
#[cfg(feature = "hydrate")]
mod xhr;

#[cfg(feature = "hydrate")]
pub use integrity::md5_hex;
#[cfg(feature = "hydrate")]
pub use keep_alive::keep_alive_while;
#[cfg(feature = "hydrate")]
pub use queue::{start, Start};

use crate::i18n::{td_string, Locale};
use crate::model::{Notice, PortalError};

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
pub fn totals_line(locale: Locale, sent: u64, total: u64, elapsed_seconds: f64) -> String {
    use crate::model::format_size;
    let mut line = td_string!(
        locale,
        totals,
        sent = format_size(sent),
        total = format_size(total)
    );
    if elapsed_seconds >= 0.5 && sent > 0 {
        let speed = sent as f64 / elapsed_seconds;
        line.push_str(&td_string!(
            locale,
            speed,
            speed = format_size(speed as u64)
        ));
        let left = total.saturating_sub(sent) as f64 / speed;
        if sent < total {
            line.push_str(&match left {
                s if s < 60.0 => td_string!(locale, left_seconds, count = s.ceil().max(1.0)),
                s if s < 3600.0 => td_string!(locale, left_minutes, count = (s / 60.0).ceil()),
                s => td_string!(locale, left_hours, count = (s / 3600.0).ceil()),
            });
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

/// Why a file is not (yet) stored. Kept as data, and put into words only when shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The bucket answered with an error (its `Code` and `Message`, either may be empty).
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The connection to the bucket failed or was cut.
    Network,
    /// No bytes moved for too long.
    Stalled,
    /// The browser is offline.
    Offline,
    /// The portal could not sign the upload. `retryable` when the portal or the network was
    /// at fault rather than the request.
    Signing { error: PortalError, retryable: bool },
    /// The portal signed nothing for the file.
    Unsigned,
    /// The browser could not start the request.
    Browser,
    /// The bucket stored different bytes than the file's (its ETag is not the file's MD5).
    Mismatch { etag: String },
    /// Every attempt failed; `last` is why the last one did.
    GaveUp { attempts: u32, last: Box<Problem> },
}

/// What the engine does after an attempt that did not store the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Wait (backoff) and send again: the network or the storage was at fault.
    Retry,
    /// Ask the portal for a fresh policy and send again at once.
    Resign,
    /// Stop: sending the same request again cannot succeed.
    Stop,
}

/// Whether a bucket refusal says the signed policy or its temporary credentials ran out.
fn expired(code: &str, message: &str) -> bool {
    matches!(code, "SecurityTokenExpired" | "ExpiredToken")
        || (matches!(code, "AccessDenied" | "InvalidPolicyDocument" | "")
            && message.to_ascii_lowercase().contains("expired"))
}

impl Problem {
    pub fn next_step(&self) -> NextStep {
        match self {
            Problem::Network | Problem::Stalled | Problem::Offline => NextStep::Retry,
            Problem::Refused { code, message, .. } if expired(code, message) => NextStep::Resign,
            Problem::Refused { status, .. }
                if *status >= 500 || matches!(status, 0 | 408 | 429) =>
            {
                NextStep::Retry
            }
            Problem::Signing {
                retryable: true, ..
            } => NextStep::Retry,
            _ => NextStep::Stop,
        }
    }

    /// The problem in one or two plain sentences, in the reader's language.
    pub fn describe(&self, locale: Locale) -> String {
        match self {
            Problem::Refused {
                status,
                code,
                message,
            } => refusal_reason(locale, *status, code, message),
            Problem::Network => td_string!(locale, problem_network).to_owned(),
            Problem::Stalled => td_string!(locale, problem_stalled).to_owned(),
            Problem::Offline => td_string!(locale, problem_offline).to_owned(),
            Problem::Signing { error, .. } => error.describe(locale),
            Problem::Unsigned => td_string!(locale, problem_unsigned).to_owned(),
            Problem::Browser => td_string!(locale, problem_browser).to_owned(),
            Problem::Mismatch { etag } => td_string!(locale, problem_mismatch, etag = etag),
            Problem::GaveUp { attempts, last } => td_string!(
                locale,
                problem_gave_up,
                problem = last.describe(locale),
                count = attempts
            ),
        }
    }
}

/// How long to wait before attempt `failures + 1`: exponential from 1 s, capped at 30 s, with
/// jitter (`jitter` in 0..1 scales it between half and all of it) so that many files that
/// failed together do not all come back at the same instant.
pub fn backoff_ms(failures: u32, jitter: f64) -> f64 {
    let base = 1000.0 * f64::from(1u32 << failures.saturating_sub(1).min(5));
    base.min(30_000.0) * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A bucket refusal in plain words, from its HTTP status, error `Code` and `Message`: the codes
/// a user can meet get a sentence of their own (in both languages), the rest are passed
/// through as the storage worded them.
pub fn refusal_reason(locale: Locale, status: u16, code: &str, message: &str) -> String {
    let plain = match code {
        "EntityTooLarge" => Some(td_string!(locale, refused_too_large)),
        "EntityTooSmall" => Some(td_string!(locale, refused_too_small)),
        "FileAlreadyExists" => Some(td_string!(locale, refused_exists)),
        "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "InvalidSecurityToken"
        | "InvalidPolicyDocument" => Some(td_string!(locale, refused_signature)),
        "RequestTimeTooSkewed" => Some(td_string!(locale, refused_clock)),
        _ if expired(code, message) => Some(td_string!(locale, refused_expired)),
        _ => None,
    };
    if let Some(plain) = plain {
        return plain.to_owned();
    }
    if status >= 500 {
        return td_string!(locale, refused_storage, status = status);
    }
    match (code.is_empty(), message.is_empty()) {
        (true, true) => td_string!(locale, refused_status, status = status),
        (false, true) => td_string!(locale, refused_code, code = code),
        (true, false) => td_string!(locale, refused_message, message = message),
        (false, false) => {
            td_string!(locale, refused_code_message, code = code, message = message)
        }
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
    fn totals_read_like_a_download_bar() {
        assert_eq!(
            totals_line(Locale::en, 0, 40_000_000, 0.0),
            "0 B of 40.0 MB"
        );
        assert_eq!(
            totals_line(Locale::en, 10_000_000, 40_000_000, 2.0),
            "10.0 MB of 40.0 MB \u{b7} 5.0 MB/s \u{b7} about 6 s left"
        );
        assert_eq!(
            totals_line(Locale::en, 1_000_000, 400_000_000, 1.0),
            "1.0 MB of 400.0 MB \u{b7} 1.0 MB/s \u{b7} about 7 min left"
        );
        assert_eq!(
            totals_line(Locale::en, 40_000_000, 40_000_000, 4.0),
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
            refusal_reason(
                Locale::en,
                403,
                "AccessDenied",
                "Invalid according to Policy: Policy expired."
            ),
            "The upload's permission expired before the file arrived."
        );
        assert_eq!(
            refusal_reason(
                Locale::en,
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size."
            ),
            "The file is larger than the storage accepts for this upload."
        );
        assert_eq!(
            refusal_reason(Locale::en, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", \"a\"]"),
            "The bucket refused the upload (AccessDenied): Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", \"a\"]"
        );
        assert_eq!(
            refusal_reason(Locale::en, 502, "", ""),
            "The storage had a problem (HTTP 502). Please try again later."
        );
        assert_eq!(
            refusal_reason(Locale::en, 400, "", ""),
            "The bucket refused the upload (HTTP 400)."
        );
    }

    fn refused(status: u16, code: &str, message: &str) -> Problem {
        Problem::Refused {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn network_and_storage_faults_are_retried_and_refusals_are_not() {
        assert_eq!(Problem::Network.next_step(), NextStep::Retry);
        assert_eq!(Problem::Stalled.next_step(), NextStep::Retry);
        assert_eq!(Problem::Offline.next_step(), NextStep::Retry);
        assert_eq!(refused(503, "", "").next_step(), NextStep::Retry);
        assert_eq!(
            refused(500, "InternalError", "x").next_step(),
            NextStep::Retry
        );
        assert_eq!(refused(429, "", "").next_step(), NextStep::Retry);
        // An expired policy (OSS, S3) or STS token: sign again, no waiting.
        assert_eq!(
            refused(
                403,
                "AccessDenied",
                "Invalid according to Policy: Policy expired."
            )
            .next_step(),
            NextStep::Resign
        );
        assert_eq!(
            refused(400, "SecurityTokenExpired", "").next_step(),
            NextStep::Resign
        );
        // Other 4xx: sending it again cannot help.
        assert_eq!(
            refused(403, "SignatureDoesNotMatch", "x").next_step(),
            NextStep::Stop
        );
        assert_eq!(
            refused(409, "FileAlreadyExists", "x").next_step(),
            NextStep::Stop
        );
        assert_eq!(
            refused(400, "EntityTooLarge", "x").next_step(),
            NextStep::Stop
        );
        assert_eq!(
            Problem::Mismatch {
                etag: "\"0\"".into()
            }
            .next_step(),
            NextStep::Stop
        );
        let signing = |retryable| Problem::Signing {
            error: PortalError::Internal,
            retryable,
        };
        assert_eq!(signing(true).next_step(), NextStep::Retry);
        assert_eq!(signing(false).next_step(), NextStep::Stop);
    }

    #[test]
    fn backoff_doubles_up_to_thirty_seconds_with_jitter() {
        assert_eq!(backoff_ms(1, 1.0), 1000.0);
        assert_eq!(backoff_ms(2, 1.0), 2000.0);
        assert_eq!(backoff_ms(3, 1.0), 4000.0);
        assert_eq!(backoff_ms(5, 1.0), 16_000.0);
        assert_eq!(backoff_ms(6, 1.0), 30_000.0);
        assert_eq!(backoff_ms(40, 1.0), 30_000.0);
        assert_eq!(backoff_ms(1, 0.0), 500.0);
        assert_eq!(backoff_ms(3, 0.5), 3000.0);
        assert_eq!(backoff_ms(0, 1.0), 1000.0);
    }

    #[test]
    fn giving_up_says_why_and_how_often() {
        let problem = Problem::GaveUp {
            attempts: 6,
            last: Box::new(Problem::Network),
        };
        assert_eq!(
            problem.describe(Locale::en),
            "The connection to the storage failed. Check your network. Gave up after 6 attempts."
        );
        assert_eq!(problem.next_step(), NextStep::Stop);
    }

    #[test]
    fn every_sentence_has_its_chinese() {
        let zh = Locale::zh_CN;
        assert_eq!(
            totals_line(zh, 10_000_000, 40_000_000, 2.0),
            "10.0 MB / 40.0 MB \u{b7} 5.0 MB/秒 \u{b7} 约剩 6 秒"
        );
        assert_eq!(
            refusal_reason(
                zh,
                403,
                "AccessDenied",
                "Invalid according to Policy: Policy expired."
            ),
            "文件到达之前，上传授权已过期。"
        );
        assert_eq!(
            refusal_reason(zh, 400, "EntityTooLarge", "x"),
            "文件超过了本次上传允许的大小。"
        );
        assert_eq!(
            Problem::GaveUp {
                attempts: 6,
                last: Box::new(Problem::Network)
            }
            .describe(zh),
            "与存储的连接失败，请检查网络。已尝试 6 次，放弃上传。"
        );
        assert_eq!(
            Notice::Folder(crate::naming::FolderError::DotSegment).describe(zh),
            "目标文件夹不能包含“..”或“.”作为文件夹名。"
        );
        assert_eq!(
            Notice::TooLarge {
                name: "视频.mp4".into(),
                size: 2000,
                max: 1000
            }
            .describe(zh),
            "“视频.mp4”大小为 2.0 KB，允许的最大文件为 1.0 KB。"
        );
        assert_eq!(
            Notice::Folder(crate::naming::FolderError::DotSegment).describe(Locale::en),
            "The destination folder must not contain \"..\" or \".\" as a folder name."
        );
    }
}
