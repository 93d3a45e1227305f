//! Path-style addressing: an SDK given an IP or `localhost` endpoint writes `/<bucket>/<key>`
//! (oss2, ali-oss, and the portal itself); this rewrites it to the bucket-as-host `/<key>`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Uri};
use axum::middleware::Next;
use axum::response::Response;

use super::state::Bucket;

/// Whether a `Host` (with or without a port) names the server rather than a bucket: an IP
/// address or `localhost`, the hosts for which the SDKs write path-style URLs.
pub fn is_bare_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split(']')
                .next()
                .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok()
}

/// The bucket-as-host path of a path-style request (`/portal-dev/a/b` → `/a/b`,
/// `/portal-dev` → `/`), or `None` when the request already addresses the bucket as its host:
/// a named host, or a first segment that is not the bucket's name.
pub fn bucket_path<'a>(host: &str, path: &'a str, bucket: &str) -> Option<&'a str> {
    if !is_bare_host(host) {
        return None;
    }
    let rest = path.strip_prefix('/')?.strip_prefix(bucket)?;
    match rest {
        "" => Some("/"),
        rest if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// Rewrites path-style requests before routing, so every handler sees `/<key>`.
pub async fn rewrite(
    State(bucket): State<Arc<Bucket>>,
    mut request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if let Some(path) = bucket_path(host, request.uri().path(), &bucket.name) {
        let rewritten = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        if let Ok(uri) = rewritten.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_only_on_bare_hosts_and_the_bucket_name() {
        let b = "portal-dev";
        assert_eq!(
            bucket_path("127.0.0.1:9300", "/portal-dev/a/b.jpg", b),
            Some("/a/b.jpg")
        );
        assert_eq!(bucket_path("127.0.0.1:9300", "/portal-dev/", b), Some("/"));
        assert_eq!(bucket_path("127.0.0.1", "/portal-dev", b), Some("/"));
        assert_eq!(
            bucket_path("localhost:9300", "/portal-dev/k", b),
            Some("/k")
        );
        assert_eq!(bucket_path("[::1]:9300", "/portal-dev/k", b), Some("/k"));
        // Bucket as host: the whole path is the key.
        assert_eq!(bucket_path("127.0.0.1:9300", "/a/b.jpg", b), None);
        assert_eq!(bucket_path("127.0.0.1:9300", "/portal-devices/x", b), None);
        assert_eq!(bucket_path("127.0.0.1:9300", "/", b), None);
        assert_eq!(
            bucket_path("portal-dev.oss.example.com", "/portal-dev/x", b),
            None
        );
        assert_eq!(
            bucket_path("files.example.com:443", "/portal-dev/x", b),
            None
        );
        assert_eq!(bucket_path("[zz]:1", "/portal-dev/x", b), None);
    }
}
