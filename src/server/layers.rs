//! Every tower layer of the portal and of the embedded bucket, in one place, outermost last
//! (axum applies `.layer` calls inside out).

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The portal's requests are small JSON bodies: anything larger is refused before parsing.
const PORTAL_BODY_LIMIT: usize = 256 * 1024;

pub fn portal(router: Router) -> Router {
    let router = router
        .layer(axum::middleware::from_fn(cache_control))
        .layer(CompressionLayer::new())
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
        // Pages set their own policy (with the nonce of their scripts, see `page_policy`);
        // everything else (JSON, CSV, assets) may load nothing and be framed by nobody.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ))
        // server_fn's multipart inputs ignore axum's DefaultBodyLimit: limit the body itself.
        .layer(RequestBodyLimitLayer::new(PORTAL_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(panic_response));
    with_request_ids(router)
}

/// Every request gets an id (`x-request-id`, kept when a proxy in front set one), which
/// its log lines carry and its response returns. Paths are logged without their query.
fn with_request_ids(router: Router) -> Router {
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
                    path = %request.uri().path().escape_debug(),
                )
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The Content-Security-Policy of a page: scripts only from the portal or carrying this
/// response's nonce (Leptos's hydration script), WebAssembly compiled, styles from the
/// portal, and connections and form posts to the portal and the bucket only.
pub fn page_policy(nonce: &str, bucket_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: {bucket_origin}; connect-src 'self' {bucket_origin}; \
         form-action 'self' {bucket_origin}; frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'; manifest-src 'self'"
    )
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => url.to_owned(),
    }
}

/// Called while a page renders: sets the page's Content-Security-Policy with the nonce
/// Leptos put on its inline scripts.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(state), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<super::AppState>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = page_policy(&nonce, &origin_of(&state.target.url));
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The bucket streams uploads of any length: no timeout and no body limit here (the
/// multipart reader enforces the object limit).
pub fn bucket(router: Router) -> Router {
    with_request_ids(router.layer(CatchPanicLayer::custom(panic_response)))
}

/// How long a response may be cached, by path: assets whose names carry their content's hash
/// for a year; server-fn replies (signed tickets) never; pages only after asking again.
pub fn cache_policy(path: &str) -> &'static str {
    if path.starts_with("/api/") {
        "no-store"
    } else if is_hashed_asset(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// `/pkg/upload-portal.<hash>.wasm` and the like, as cargo-leptos names them.
fn is_hashed_asset(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/pkg/") else {
        return false;
    };
    // The hash is a later dot-separated part: 16 or more base64url characters.
    !name.contains('/')
        && name.split('.').skip(1).any(|part| {
            part.len() >= 16
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

async fn cache_control(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let policy = cache_policy(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(policy));
    }
    response
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
}

#[cfg(test)]
mod tests {
    use super::{cache_policy, origin_of, page_policy};

    #[test]
    fn pages_allow_only_the_portal_and_the_bucket() {
        let policy = page_policy(
            "abc123",
            &origin_of("https://b.oss-cn-hangzhou.aliyuncs.com/"),
        );
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(policy.contains("connect-src 'self' https://b.oss-cn-hangzhou.aliyuncs.com;"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        assert_eq!(origin_of("http://127.0.0.1:9300/"), "http://127.0.0.1:9300");
    }

    #[test]
    fn hashed_assets_are_cached_for_a_year_and_tickets_never() {
        let year = "public, max-age=31536000, immutable";
        assert_eq!(
            cache_policy("/pkg/upload-portal.Xb3kPq9mZ0aW4rT1.wasm"),
            year
        );
        assert_eq!(cache_policy("/pkg/upload-portal.Xb3kPq9mZ0aW4rT1.js"), year);
        assert_eq!(
            cache_policy("/pkg/upload-portal.9f8e7d6c5b4a3210.css"),
            year
        );
        assert_eq!(
            cache_policy("/pkg/upload-portal.sjcWO5bOQqe7DmorhlZ06w.js"),
            year
        );
        assert_eq!(
            cache_policy("/pkg/upload-portal.ymBDxqohBzyTvqoXTVQaAb.wasm"),
            year
        );
        assert_eq!(cache_policy("/pkg/upload-portal.wasm"), "no-cache");
        assert_eq!(cache_policy("/pkg/upload-portal_bg.wasm"), "no-cache");
        assert_eq!(cache_policy("/pkg/upload-portal.css"), "no-cache");
        assert_eq!(cache_policy("/"), "no-cache");
        assert_eq!(cache_policy("/uploaded"), "no-cache");
        assert_eq!(cache_policy("/api/sign_uploads"), "no-store");
        assert_eq!(
            cache_policy("/elsewhere/upload-portal.Xb3kPq9mZ0aW4rT1.wasm"),
            "no-cache"
        );
    }
}
