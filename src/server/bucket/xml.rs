//! The XML replies of the bucket: the declaration every document starts with, and dates the
//! way OSS writes them (`2026-12-03T14:55:13.000Z`, which the SDKs' parsers require).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

/// `body` (a serialised document) as an `application/xml` reply.
pub fn reply(status: StatusCode, body: String) -> Response {
    let mut response = (
        status,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}\n"),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

const OSS_DATE: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

/// A Unix time as OSS writes dates in XML, always with milliseconds.
pub fn date(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(OSS_DATE)
        .expect("dates always format")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_carry_milliseconds() {
        assert_eq!(super::date(1_764_773_713), "2025-12-03T14:55:13.000Z");
        assert_eq!(super::date(0), "1970-01-01T00:00:00.000Z");
    }
}
