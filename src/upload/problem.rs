//! Why a file is not (yet) stored, kept as data and put into words only when shown, and what the
//! engine does about it: retry with backoff, sign again, or stop. Pure; builds on both sides.

use crate::error::PortalError;
use crate::i18n::{td_string, Locale};

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
    /// The bucket stored different bytes than the file's: what it says it stored (`ETag "…"`,
    /// `CRC-64 …`) is not the page's digest of the file.
    Mismatch { stored: String },
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
    // The message is searched window by window: `str::contains` would bring a substring
    // searcher into the page's WASM.
    matches!(code, "SecurityTokenExpired" | "ExpiredToken")
        || (matches!(code, "AccessDenied" | "InvalidPolicyDocument" | "")
            && message
                .as_bytes()
                .windows(7)
                .any(|w| w.eq_ignore_ascii_case(b"expired")))
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
            Problem::Mismatch { stored } => td_string!(locale, problem_mismatch, stored = stored),
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

/// A failed signing request as a row's problem: worth another try when the portal or the
/// network was at fault, or a rate limit.
pub fn signing_problem(error: PortalError) -> Problem {
    Problem::Signing {
        retryable: matches!(
            error,
            PortalError::Unavailable
                | PortalError::Internal
                | PortalError::Transport(_)
                | PortalError::Limited {
                    limit: crate::error::Limit::Signing,
                    ..
                }
        ),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Notice;
    use crate::upload::progress::totals_line;

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
                stored: "ETag \"0\"".into()
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
