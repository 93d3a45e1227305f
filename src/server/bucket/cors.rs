//! Bucket CORS rules with OSS semantics: the first rule that matches the origin, the method
//! and every requested header wins; preflights that match nothing are refused with 403.

/// One CORS rule, as PutBucketCors would configure it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsRule {
    /// Origins; `*` matches any, and one `*` inside an origin is a wildcard.
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    /// Request headers (lower-case); `*` allows any.
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: u32,
}

impl CorsRule {
    /// The rule the portal needs: its origins may GET, HEAD, POST and PUT (multipart parts)
    /// with any header, and read the headers the upload engine checks.
    pub fn for_portal(origins: Vec<String>) -> Self {
        CorsRule {
            allowed_origins: origins,
            allowed_methods: vec!["GET".into(), "HEAD".into(), "POST".into(), "PUT".into()],
            allowed_headers: vec!["*".into()],
            expose_headers: [
                "ETag",
                "x-oss-request-id",
                "Content-MD5",
                "x-oss-hash-crc64ecma",
            ]
            .map(String::from)
            .to_vec(),
            max_age_seconds: 600,
        }
    }

    fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| wildcard_match(allowed, origin))
    }

    fn allows_method(&self, method: &str) -> bool {
        self.allowed_methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
    }

    fn allows_header(&self, header: &str) -> bool {
        self.allowed_headers
            .iter()
            .any(|h| wildcard_match(&h.to_ascii_lowercase(), header))
    }
}

/// `pattern` with at most one `*` (which matches any run of characters) against `value`.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len()
                && value.starts_with(head)
                && value.ends_with(tail)
        }
    }
}

/// The rule for a preflight: `request_headers` is the `Access-Control-Request-Headers` list.
pub fn match_preflight<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    request_headers: &str,
) -> Option<&'a CorsRule> {
    let headers: Vec<String> = request_headers
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    rules.iter().find(|rule| {
        rule.allows_origin(origin)
            && rule.allows_method(method)
            && headers.iter().all(|h| rule.allows_header(h))
    })
}

/// The rule for an actual cross-origin request.
pub fn match_request<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
) -> Option<&'a CorsRule> {
    rules
        .iter()
        .find(|rule| rule.allows_origin(origin) && rule.allows_method(method))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<CorsRule> {
        vec![CorsRule::for_portal(vec![
            "http://127.0.0.1:3000".into(),
            "https://*.example.com".into(),
        ])]
    }

    #[test]
    fn preflight_matches_origin_method_and_headers() {
        let rules = rules();
        assert!(match_preflight(&rules, "http://127.0.0.1:3000", "POST", "").is_some());
        assert!(match_preflight(
            &rules,
            "http://127.0.0.1:3000",
            "POST",
            "x-anything, content-type"
        )
        .is_some());
        assert!(match_preflight(&rules, "https://up.example.com", "GET", "").is_some());
        assert!(match_preflight(&rules, "http://evil.test", "POST", "").is_none());
        assert!(match_preflight(&rules, "http://127.0.0.1:3000", "DELETE", "").is_none());
        assert!(match_preflight(&rules, "https://example.com", "GET", "").is_none());
    }

    #[test]
    fn restricted_headers_are_checked() {
        let mut rule = CorsRule::for_portal(vec!["*".into()]);
        rule.allowed_headers = vec!["content-type".into(), "x-oss-*".into()];
        let rules = vec![rule];
        assert!(match_preflight(&rules, "http://a", "POST", "Content-Type, X-OSS-Date").is_some());
        assert!(match_preflight(&rules, "http://a", "POST", "authorization").is_none());
        assert!(match_request(&rules, "http://any", "GET").is_some());
    }
}
