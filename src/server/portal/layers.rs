//! The tower layers around the portal, outermost last (axum applies `.layer` calls inside out):
//! Host and cross-site guard, timeouts, body limit, compression, caching, the page's CSP.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::settings::Site;
use crate::server::layers::{panic_response, with_request_ids, with_security_headers};

/// The portal's requests are small JSON bodies: anything larger is refused before parsing.
const PORTAL_BODY_LIMIT: usize = 256 * 1024;

pub fn portal(router: Router, site: Site) -> Router {
    let https = site.https;
    let router = router
        .layer(axum::middleware::from_fn(cache_control))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(CompressionLayer::new())
        // server_fn's multipart inputs ignore axum's DefaultBodyLimit: limit the body itself.
        .layer(RequestBodyLimitLayer::new(PORTAL_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // Requests for another host (DNS rebinding) and cross-site writes are refused before
        // anything else runs.
        .layer(axum::middleware::from_fn_with_state(site, guard));
    // The headers every reply carries, refusals and timeouts included (outside all else).
    let router = with_security_headers(router);
    let router = if https {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    with_request_ids(router)
}

/// Paths any `Host` may ask for: a load balancer's health checks use the instance's address.
fn is_health_check(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Refuses a request whose `Host` is not the portal's (a page on a rebound DNS name must not
/// read it), a write from another site (`Origin`, `Sec-Fetch-Site`: login CSRF, a page on the
/// bucket's origin), a request carrying the session cookie twice (one set by another origin
/// of the same host), and a redirect from a server fn to anywhere but the portal's own pages.
async fn guard(
    axum::extract::State(site): axum::extract::State<Site>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    speak_chinese_to_every_chinese_reader(request.headers_mut());
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path = request.uri().path();
    let host_ok = text("host").is_some_and(|host| site.is_own(host));
    if !host_ok && !is_health_check(path) {
        tracing::warn!(host = ?text("host"), "request for another host refused");
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "This server does not answer for that host name.",
        )
            .into_response();
    }
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    // The bucket's signed callback is a server-to-server POST.
    let cross_site = writes
        && path != "/oss/callback"
        && (text("sec-fetch-site").is_some_and(|s| !matches!(s, "same-origin" | "none"))
            || text("origin").is_some_and(|o| !site.is_own_origin(o)));
    if cross_site {
        let path = crate::server::layers::logged_path(path);
        tracing::warn!(origin = ?text("origin"), %path, "cross-site write refused");
        return refusal(crate::error::PortalError::Invalid(
            crate::error::Notice::CrossSite,
        ));
    }
    if super::access::session_cookies(headers) > 1 {
        tracing::warn!("a request carried the session cookie twice: refused");
        return refusal(crate::error::PortalError::Unauthenticated);
    }
    let server_fn = path.starts_with("/api/");
    let mut response = next.run(request).await;
    // A server fn answering a plain form post redirects to a page of the portal, never away.
    if let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .filter(|_| server_fn)
    {
        let own = location.to_str().is_ok_and(|l| is_own_page(l, &site));
        if !own {
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    response
}

/// `Accept-Language` with every Chinese tag (`zh`, `zh-Hans`, `zh-TW`, `zh-HK`...) read as
/// `zh-CN`, the one Chinese the portal speaks: leptos_i18n would give those readers English.
fn speak_chinese_to_every_chinese_reader(headers: &mut axum::http::HeaderMap) {
    let Some(languages) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let read = chinese_as_ours(languages);
    if read != languages {
        if let Ok(value) = HeaderValue::from_str(&read) {
            headers.insert(header::ACCEPT_LANGUAGE, value);
        }
    }
}

fn chinese_as_ours(languages: &str) -> String {
    languages
        .split(',')
        .map(|item| {
            let (tag, rest) = item.split_once(';').unwrap_or((item, ""));
            let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
            if primary.eq_ignore_ascii_case("zh") {
                if rest.is_empty() {
                    "zh-CN".to_owned()
                } else {
                    format!("zh-CN;{rest}")
                }
            } else {
                item.trim().to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A path of this portal: `/x`, not `//x` or `/\x` (which browsers read as another host).
pub fn is_own_path(location: &str) -> bool {
    location
        .strip_prefix('/')
        .is_some_and(|rest| !rest.starts_with(['/', '\\']))
}

/// A path of this portal, or an absolute URL of its own origin.
fn is_own_page(location: &str, site: &Site) -> bool {
    if location.starts_with('/') {
        return is_own_path(location);
    }
    match location.split_once("://") {
        Some(("http" | "https", rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            site.is_own(authority)
        }
        _ => false,
    }
}

/// A refusal as server fns answer it: the error as JSON, with its status.
fn refusal(error: crate::error::PortalError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&error).unwrap_or_default();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::HeaderName::from_static(SERVER_FN_ERROR), "refused"),
        ],
        body,
    )
        .into_response()
}

/// The header server_fn puts on an error reply.
const SERVER_FN_ERROR: &str = "serverfnerror";

/// A server fn's error reply gets the status of its error (server_fn answers every error with
/// 500, a body it could not even decode included) and, for a limit, `Retry-After`. A refused
/// plain form post that is sent back to its page (a `Location`, see `state::back_to_form`)
/// stays a redirect.
async fn server_fn_status(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR) || response.status().is_redirection() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<crate::error::PortalError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let crate::error::PortalError::Limited { retry_after, .. } = error {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The Content-Security-Policy of a page: scripts only from the portal or carrying this
/// response's nonce (Leptos's hydration script), WebAssembly compiled, styles from the
/// portal, images also from picked files (`blob:`, the uploader's thumbnails), and connections
/// and form posts to the portal and the bucket only.
pub fn page_policy(nonce: &str, bucket_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob: {bucket_origin}; connect-src 'self' {bucket_origin}; \
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

#[cfg(test)]
mod tests {
    use super::{cache_policy, chinese_as_ours, is_own_page, origin_of, page_policy, Site};

    #[test]
    fn every_chinese_reader_gets_chinese() {
        for header in [
            "zh",
            "zh-Hans",
            "zh-TW",
            "zh-HK",
            "zh-Hant-TW",
            "ZH-cn",
            "zh_CN",
        ] {
            assert_eq!(chinese_as_ours(header), "zh-CN", "{header}");
        }
        assert_eq!(
            chinese_as_ours("en-US,en;q=0.9,zh-TW;q=0.8"),
            "en-US,en;q=0.9,zh-CN;q=0.8"
        );
        assert_eq!(chinese_as_ours("fr-FR, de;q=0.5"), "fr-FR,de;q=0.5");
    }

    #[test]
    fn the_portal_knows_its_own_hosts_origins_and_pages() {
        let site = Site {
            hosts: vec!["uploads.example.com".into(), "127.0.0.1:3000".into()],
            https: true,
        };
        assert!(site.is_own("Uploads.Example.com") && site.is_own("127.0.0.1:3000"));
        assert!(!site.is_own("uploads.example.com.evil.test") && !site.is_own("127.0.0.1:9300"));
        assert!(site.is_own_origin("https://uploads.example.com"));
        assert!(!site.is_own_origin("null") && !site.is_own_origin("http://127.0.0.1:9300"));
        for own in ["/", "/uploads?page=2", "https://uploads.example.com/admin"] {
            assert!(is_own_page(own, &site), "{own}");
        }
        for other in [
            "//evil.test/x",
            "/\\evil.test",
            "https://evil.test/x",
            "javascript:alert(1)",
        ] {
            assert!(!is_own_page(other, &site), "{other}");
        }
    }

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
