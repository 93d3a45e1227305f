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

/// The `CORSConfiguration` document of PutBucketCors / GetBucketCors (OSS and S3 agree).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename = "CORSConfiguration")]
struct CorsDocument {
    #[serde(rename = "CORSRule", default)]
    rules: Vec<CorsXmlRule>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CorsXmlRule {
    #[serde(rename = "AllowedOrigin", default)]
    allowed_origins: Vec<String>,
    #[serde(rename = "AllowedMethod", default)]
    allowed_methods: Vec<String>,
    #[serde(rename = "AllowedHeader", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "ExposeHeader", default)]
    expose_headers: Vec<String>,
    #[serde(
        rename = "MaxAgeSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    max_age_seconds: Option<u32>,
}

/// Most rules a bucket keeps (OSS allows 10).
pub const MAX_RULES: usize = 10;

/// Reads a `CORSConfiguration` document; `None` when it is not one (bad XML, no rule, too
/// many rules, a rule without origin or method, an unknown method).
pub fn parse_rules(xml: &str) -> Option<Vec<CorsRule>> {
    let document: CorsDocument = quick_xml::de::from_str(xml).ok()?;
    if document.rules.is_empty() || document.rules.len() > MAX_RULES {
        return None;
    }
    document
        .rules
        .into_iter()
        .map(|rule| {
            let known = ["GET", "PUT", "POST", "DELETE", "HEAD"];
            let methods_ok = !rule.allowed_methods.is_empty()
                && rule
                    .allowed_methods
                    .iter()
                    .all(|m| known.contains(&m.trim()));
            (methods_ok && !rule.allowed_origins.is_empty()).then(|| CorsRule {
                allowed_origins: rule
                    .allowed_origins
                    .iter()
                    .map(|o| o.trim().to_owned())
                    .collect(),
                allowed_methods: rule
                    .allowed_methods
                    .iter()
                    .map(|m| m.trim().to_owned())
                    .collect(),
                allowed_headers: rule
                    .allowed_headers
                    .iter()
                    .map(|h| h.trim().to_ascii_lowercase())
                    .collect(),
                expose_headers: rule
                    .expose_headers
                    .iter()
                    .map(|h| h.trim().to_owned())
                    .collect(),
                max_age_seconds: rule.max_age_seconds.unwrap_or(0),
            })
        })
        .collect()
}

/// The rules as a `CORSConfiguration` document.
pub fn rules_xml(rules: &[CorsRule]) -> String {
    let document = CorsDocument {
        rules: rules
            .iter()
            .map(|rule| CorsXmlRule {
                allowed_origins: rule.allowed_origins.clone(),
                allowed_methods: rule.allowed_methods.clone(),
                allowed_headers: rule.allowed_headers.clone(),
                expose_headers: rule.expose_headers.clone(),
                max_age_seconds: Some(rule.max_age_seconds),
            })
            .collect(),
    };
    let body = quick_xml::se::to_string(&document).unwrap_or_default();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}")
}

/// What the portal at `origin` needs from a bucket's rules and does not get, in words an
/// operator can act on; empty when the rules are enough. `methods` are the methods the
/// upload engine sends (POST, and PUT for multipart parts).
pub fn missing_for_portal(rules: &[CorsRule], origin: &str, methods: &[&str]) -> Vec<String> {
    let for_origin: Vec<&CorsRule> = rules.iter().filter(|r| r.allows_origin(origin)).collect();
    if for_origin.is_empty() {
        return vec![format!("no CORS rule allows the origin {origin}")];
    }
    let mut missing = Vec::new();
    for method in methods {
        match for_origin.iter().find(|r| r.allows_method(method)) {
            None => missing.push(format!("no rule for {origin} allows the method {method}")),
            Some(rule) => {
                // The page reads the ETag of every upload to check the stored bytes.
                if !rule
                    .expose_headers
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case("etag"))
                {
                    missing.push(format!(
                        "the rule for {origin} and {method} does not expose the ETag header (add ExposeHeader ETag)"
                    ));
                }
                if *method == "PUT" && !rule.allows_header("content-type") {
                    missing.push(format!(
                        "the rule for {origin} and PUT does not allow the Content-Type header (add AllowedHeader *)"
                    ));
                }
            }
        }
    }
    missing.dedup();
    missing
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
    fn rules_round_trip_through_xml_and_gaps_are_named() {
        let origin = "http://127.0.0.1:3000";
        let rules = rules();
        assert_eq!(parse_rules(&rules_xml(&rules)).unwrap(), rules);
        assert!(missing_for_portal(&rules, origin, &["POST", "PUT"]).is_empty());

        let xml = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
                   <AllowedMethod>POST</AllowedMethod><AllowedHeader>*</AllowedHeader>\
                   </CORSRule></CORSConfiguration>";
        let parsed = parse_rules(xml).unwrap();
        let missing = missing_for_portal(&parsed, origin, &["POST", "PUT"]);
        assert_eq!(missing.len(), 2, "{missing:?}");
        assert!(missing[0].contains("does not expose the ETag header"));
        assert!(missing[1].contains("method PUT"));
        assert_eq!(
            missing_for_portal(&parsed, origin, &["POST"]),
            vec![format!("the rule for {origin} and POST does not expose the ETag header (add ExposeHeader ETag)")]
        );
        let elsewhere =
            parse_rules(&xml.replace("<AllowedOrigin>*", "<AllowedOrigin>https://a.test")).unwrap();
        assert_eq!(
            missing_for_portal(&elsewhere, origin, &["POST"]),
            vec![format!("no CORS rule allows the origin {origin}")]
        );
        assert!(parse_rules("<CORSConfiguration></CORSConfiguration>").is_none());
        assert!(parse_rules("not xml").is_none());
        assert!(parse_rules(&xml.replace("POST", "PATCH")).is_none());
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
