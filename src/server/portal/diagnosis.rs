//! Self-diagnosis of the storage and the database, run at start (logged) and on the admin
//! page: are the bucket's CORS rules enough for this portal's origin (methods, headers, the
//! exposed ETag), is the server's clock within 5 minutes of the storage's, are the
//! credentials accepted (a signed GetBucketCors, which changes nothing).

use time::OffsetDateTime;

use super::layers::origin_of;
use super::state::AppState;
use super::storage::RequestError;
use crate::model::Finding;
use crate::server::protocol::cors;

/// Skew over which OSS and S3 refuse signed requests.
const MAX_SKEW_SECONDS: i64 = 300;

fn finding(check: &str, ok: bool, detail: impl Into<String>) -> Finding {
    Finding {
        check: check.into(),
        ok,
        detail: detail.into(),
    }
}

pub async fn run(state: &AppState) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.push(match state.ledger.ping().await {
        Ok(()) => finding(
            "database",
            true,
            format!("the {} ledger answers", state.ledger.engine),
        ),
        Err(e) => finding(
            "database",
            false,
            format!("the {} ledger does not answer: {e}", state.ledger.engine),
        ),
    });
    match state.target.storage_date().await {
        Ok(Some(date)) => findings.push(clock_finding(OffsetDateTime::now_utc(), date)),
        Ok(None) => findings.push(finding(
            "clock",
            false,
            "the storage's answer has no Date header to compare the clock with",
        )),
        Err(e) => findings.push(finding(
            "storage",
            false,
            format!("the storage at {} cannot be reached: {e}", state.target.url),
        )),
    }
    let origin = origin_of(&state.rules.portal_url);
    let mut methods = vec!["POST"];
    if state.rules.multipart_threshold > 0 {
        methods.push("PUT");
    }
    match state.target.bucket_cors().await {
        Ok(document) => {
            findings.push(finding(
                "credentials",
                true,
                "a signed request (GetBucketCors) was accepted",
            ));
            findings.push(cors_finding(document.as_deref(), &origin, &methods));
        }
        Err(RequestError::Refused { status, code }) if status == 403 || status == 401 => {
            findings.push(finding(
                "credentials",
                false,
                format!(
                    "the storage refused a signed request ({status} {code}): check the AccessKey id and secret{}",
                    if state.target.sts().is_some() { " and the STS role" } else { "" }
                ),
            ));
        }
        Err(e) => findings.push(finding(
            "credentials",
            false,
            format!("the bucket's CORS rules could not be read: {e}"),
        )),
    }
    findings
}

/// The CORS finding for a bucket's `CORSConfiguration` document (`None`: the bucket has none).
pub fn cors_finding(document: Option<&str>, origin: &str, methods: &[&str]) -> Finding {
    let Some(document) = document else {
        return finding(
            "cors",
            false,
            format!(
                "the bucket has no CORS rule: add one allowing the origin {origin}, the methods {}, AllowedHeader *, and ExposeHeader ETag",
                methods.join(", ")
            ),
        );
    };
    let Some(rules) = cors::parse_rules(document) else {
        return finding("cors", false, "the bucket's CORS rules could not be read");
    };
    let missing = cors::missing_for_portal(&rules, origin, methods);
    if missing.is_empty() {
        finding(
            "cors",
            true,
            format!(
                "the CORS rules allow {origin} to {} and expose ETag",
                methods.join(", ")
            ),
        )
    } else {
        finding("cors", false, missing.join("; "))
    }
}

/// Whether the server's clock is within 5 minutes of the storage's.
pub fn clock_finding(local: OffsetDateTime, storage: OffsetDateTime) -> Finding {
    let skew = (local - storage).whole_seconds();
    if skew.abs() > MAX_SKEW_SECONDS {
        finding(
            "clock",
            false,
            format!(
                "the server's clock is {} s {} the storage's (over 5 minutes: signed requests will be refused); fix the server's time (NTP)",
                skew.abs(),
                if skew > 0 { "ahead of" } else { "behind" }
            ),
        )
    } else {
        finding(
            "clock",
            true,
            format!(
                "the server's clock is within {} s of the storage's",
                skew.abs().max(1)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_over_five_minutes_is_named() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert!(clock_finding(now, now + time::Duration::seconds(30)).ok);
        let ahead = clock_finding(now, now - time::Duration::seconds(400));
        assert!(!ahead.ok);
        assert!(ahead.detail.contains("400 s ahead of"), "{}", ahead.detail);
        let behind = clock_finding(now, now + time::Duration::seconds(301));
        assert!(behind.detail.contains("301 s behind"), "{}", behind.detail);
    }

    #[test]
    fn a_missing_cors_document_is_named() {
        let none = cors_finding(None, "https://portal.test", &["POST", "PUT"]);
        assert!(!none.ok);
        assert!(none.detail.contains("ExposeHeader ETag"));
    }
}
