//! The tower layers both servers share (request ids, security headers, a panic's answer) and
//! the stacks of the embedded bucket and its STS endpoint; the portal's own are in `portal/layers.rs`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// nosniff, no framing, no referrer outside, COOP, and a CSP that loads nothing unless the
/// reply set its own (pages do, with the nonce of their scripts: see `page_policy`).
pub fn with_security_headers(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ))
}

/// Every request gets an id (`x-request-id`, kept when a proxy in front set one), which
/// its log lines carry and its response returns. Paths are logged without their query, and
/// without an upload request's token or a sender's pass (see [`logged_path`]).
pub fn with_request_ids(router: Router) -> Router {
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!(
                    "request",
                    id = %id.escape_debug(),
                    method = %request.method(),
                    path = %logged_path(request.uri().path()).escape_debug(),
                )
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A path as the log shows it: `/r/<token>` (an upload request's link: whoever holds it may
/// send) and `/r/<pass>/...` (a sender's pass: their name and note) become `/r/…`.
pub fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/r/") {
        Some(rest) => {
            let after = rest.find('/').map_or("", |slash| &rest[slash..]);
            format!("/r/…{after}").into()
        }
        None => path.into(),
    }
}

/// The bucket streams uploads of any length: no timeout and no body limit here (the
/// multipart reader enforces the object limit), but a minimum rate. What it answers is never
/// a page of its origin: nosniff and a sandbox on every reply (objects set their own).
pub fn bucket(router: Router) -> Router {
    let router = router
        .layer(axum::middleware::from_fn(super::http::upload_rate))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ));
    with_request_ids(router)
}

/// The local STS endpoint: request ids and the security headers.
pub fn sts(router: Router) -> Router {
    with_request_ids(with_security_headers(
        router.layer(CatchPanicLayer::custom(panic_response)),
    ))
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
}

#[cfg(test)]
mod tests {
    use super::logged_path;

    #[test]
    fn logs_never_hold_request_links_or_passes() {
        assert_eq!(logged_path("/r/AbCdEfGhIjKlMnOpQrStUv"), "/r/…");
        assert_eq!(
            logged_path("/r/0193.TGk.Tm90ZQ.stamp/api/sign_uploads"),
            "/r/…/api/sign_uploads"
        );
        assert_eq!(
            logged_path("/requests/0193/events"),
            "/requests/0193/events"
        );
        assert_eq!(logged_path("/api/sign_uploads"), "/api/sign_uploads");
    }
}
