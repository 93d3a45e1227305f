//! OSS error codes, in one enum, and the `<Error>` XML every failed bucket request answers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The OSS error codes the embedded bucket answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OssCode {
    AccessDenied,
    CallbackFailed,
    AccessForbidden,
    EntityTooLarge,
    EntityTooSmall,
    FieldItemTooLong,
    FileAlreadyExists,
    IncorrectNumberOfFilesInPostRequest,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidObjectName,
    InvalidPart,
    InvalidPartOrder,
    InvalidPolicyDocument,
    InvalidSecurityToken,
    MalformedPostRequest,
    MalformedXml,
    MethodNotAllowed,
    NoSuchKey,
    NoSuchCorsConfiguration,
    NoSuchUpload,
    RequestTimeTooSkewed,
    SecurityTokenExpired,
    SignatureDoesNotMatch,
    InternalError,
    InvalidDigest,
    NotImplemented,
    InvalidRange,
    PreconditionFailed,
    NoSuchBucket,
}

impl OssCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OssCode::AccessDenied => "AccessDenied",
            OssCode::CallbackFailed => "CallbackFailed",
            OssCode::AccessForbidden => "AccessForbidden",
            OssCode::EntityTooLarge => "EntityTooLarge",
            OssCode::EntityTooSmall => "EntityTooSmall",
            OssCode::FieldItemTooLong => "FieldItemTooLong",
            OssCode::FileAlreadyExists => "FileAlreadyExists",
            OssCode::IncorrectNumberOfFilesInPostRequest => "IncorrectNumberOfFilesInPOSTRequest",
            OssCode::InvalidAccessKeyId => "InvalidAccessKeyId",
            OssCode::InvalidArgument => "InvalidArgument",
            OssCode::InvalidObjectName => "InvalidObjectName",
            OssCode::InvalidPart => "InvalidPart",
            OssCode::InvalidPartOrder => "InvalidPartOrder",
            OssCode::InvalidPolicyDocument => "InvalidPolicyDocument",
            OssCode::InvalidSecurityToken => "InvalidSecurityToken",
            OssCode::SecurityTokenExpired => "SecurityTokenExpired",
            OssCode::MalformedPostRequest => "MalformedPOSTRequest",
            OssCode::MalformedXml => "MalformedXML",
            OssCode::MethodNotAllowed => "MethodNotAllowed",
            OssCode::NoSuchKey => "NoSuchKey",
            OssCode::NoSuchCorsConfiguration => "NoSuchCORSConfiguration",
            OssCode::NoSuchUpload => "NoSuchUpload",
            OssCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            OssCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            OssCode::InternalError => "InternalError",
            OssCode::InvalidDigest => "InvalidDigest",
            OssCode::NotImplemented => "NotImplemented",
            OssCode::InvalidRange => "InvalidRange",
            OssCode::PreconditionFailed => "PreconditionFailed",
            OssCode::NoSuchBucket => "NoSuchBucket",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            OssCode::AccessDenied
            | OssCode::AccessForbidden
            | OssCode::InvalidAccessKeyId
            | OssCode::InvalidSecurityToken
            | OssCode::SecurityTokenExpired
            | OssCode::RequestTimeTooSkewed
            | OssCode::SignatureDoesNotMatch => StatusCode::FORBIDDEN,
            OssCode::FileAlreadyExists => StatusCode::CONFLICT,
            OssCode::CallbackFailed => StatusCode::NON_AUTHORITATIVE_INFORMATION,
            OssCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            OssCode::InvalidRange => StatusCode::RANGE_NOT_SATISFIABLE,
            OssCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            OssCode::NoSuchKey
            | OssCode::NoSuchUpload
            | OssCode::NoSuchCorsConfiguration
            | OssCode::NoSuchBucket => StatusCode::NOT_FOUND,
            OssCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            OssCode::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A failed bucket request: a code, a message that is safe to send, and the extra fields OSS
/// adds for some codes (what was signed, for `SignatureDoesNotMatch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketError {
    pub code: OssCode,
    pub message: String,
    pub details: Vec<(&'static str, String)>,
}

impl BucketError {
    pub fn new(code: OssCode, message: impl Into<String>) -> Self {
        BucketError {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds an element to the error document, after the standard ones.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// An I/O or other internal failure: logged in full, answered without detail.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "embedded bucket internal error");
        BucketError::new(
            OssCode::InternalError,
            "We encountered an internal error. Please try again.",
        )
    }

    /// The OSS `<Error>` document, with the request's id and host.
    pub fn into_response(self, request_id: &str, host_id: &str, with_body: bool) -> Response {
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        let fields = [
            ("Code", self.code.as_str()),
            ("Message", self.message.as_str()),
            ("RequestId", request_id),
            ("HostId", host_id),
        ];
        let details = self.details.iter().map(|(n, v)| (*n, v.as_str()));
        for (name, value) in fields.into_iter().chain(details) {
            body.push_str(&format!(
                "<{name}>{}</{name}>",
                quick_xml::escape::escape(value)
            ));
        }
        body.push_str("</Error>\n");
        // oss2 reads at most 4 KB of an error: a long echo of what was signed goes first.
        if body.len() > 4000 {
            let short = BucketError {
                details: Vec::new(),
                ..self
            };
            return short.into_response(request_id, host_id, with_body);
        }
        let mut response = if with_body {
            body.into_response()
        } else {
            // A HEAD has no body: OSS puts the document, base64, in `x-oss-err` (oss2 reads it).
            let mut empty = ().into_response();
            use base64::Engine;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&body);
            if let Ok(value) = HeaderValue::from_str(&encoded) {
                empty.headers_mut().insert("x-oss-err", value);
            }
            empty
        };
        *response.status_mut() = self.code.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_oss_error_xml() {
        let error = BucketError::new(
            OssCode::AccessDenied,
            "Invalid according to Policy: Policy expired.",
        );
        let response = error.into_response("5F1A", "bucket.local", true);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message><RequestId>5F1A</RequestId><HostId>bucket.local</HostId></Error>\n"
        );
    }

    #[tokio::test]
    async fn escapes_messages() {
        let error = BucketError::new(OssCode::AccessDenied, r#"["eq", "$key", "<a&b>"]"#);
        let response = error.into_response("1", "h", true);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.contains("&lt;a&amp;b&gt;"), "{text}");
    }
}
