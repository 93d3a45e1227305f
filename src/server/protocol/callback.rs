//! The upload callback's parameter: built and encoded by the portal that signs, decoded and
//! rendered by the bucket that calls back (OSS or the embedded one).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};

use crate::server::protocol::signing::UNRESERVED;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";
/// System variables OSS fills in a callback body.
const SYSTEM_VARIABLES: [&str; 11] = [
    "bucket",
    "object",
    "etag",
    "size",
    "mimeType",
    "imageInfo.height",
    "imageInfo.width",
    "imageInfo.format",
    "crc64",
    "contentMd5",
    "reqId",
];

/// The `callback` form field, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSpec {
    /// Up to five URLs separated by `;`, tried in order.
    pub callback_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_host: Option<String>,
    pub callback_body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_body_type: Option<String>,
}

impl CallbackSpec {
    /// The base64 value of the `callback` form field.
    pub fn encode(&self) -> String {
        BASE64.encode(serde_json::to_vec(self).expect("a callback spec serialises"))
    }

    /// Decodes and checks a `callback` field as OSS does (InvalidArgument on any failure).
    pub fn decode(field: &str) -> Result<Self, String> {
        let json = BASE64
            .decode(field.trim())
            .map_err(|_| "The callback parameter is not base64.".to_owned())?;
        let spec: CallbackSpec = serde_json::from_slice(&json)
            .map_err(|_| "The callback parameter is not valid JSON.".to_owned())?;
        spec.check()?;
        Ok(spec)
    }

    /// The checks OSS applies: 1–5 http(s) URLs, a body, a known body type, valid `${}`.
    pub fn check(&self) -> Result<(), String> {
        let urls = self.urls();
        if urls.is_empty() || urls.len() > 5 {
            return Err("callbackUrl must hold one to five URLs separated by ';'.".into());
        }
        for url in &urls {
            let parsed = reqwest::Url::parse(url)
                .map_err(|_| format!("callbackUrl {url:?} is not a URL."))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(format!("callbackUrl {url:?} must be an http or https URL."));
            }
        }
        if self.callback_body.is_empty() {
            return Err("callbackBody must not be empty.".into());
        }
        if !matches!(self.body_type(), FORM | JSON) {
            return Err(format!("callbackBodyType must be {FORM} or {JSON}."));
        }
        variables(&self.callback_body)?;
        Ok(())
    }

    pub fn urls(&self) -> Vec<&str> {
        self.callback_url
            .split(';')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect()
    }

    pub fn body_type(&self) -> &str {
        self.callback_body_type.as_deref().unwrap_or(FORM)
    }

    /// The body with every `${var}` replaced: URL-encoded values for the form type,
    /// JSON strings for the JSON type. `value` answers a variable's name; unknown ones are empty.
    pub fn render(&self, value: impl Fn(&str) -> Option<String>) -> String {
        let json = self.body_type() == JSON;
        let mut out = String::with_capacity(self.callback_body.len() + 64);
        let mut rest = self.callback_body.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + end];
            let text = value(name).unwrap_or_default();
            if json {
                out.push_str(&serde_json::to_string(&text).expect("strings serialise"));
            } else {
                out.push_str(&utf8_percent_encode(&text, UNRESERVED).to_string());
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The `${}` names in a template; an unclosed `${`, an empty name or an unknown system name is
/// an error. Custom names are `x:` plus lower-case.
pub fn variables(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let end = rest[start..]
            .find('}')
            .ok_or("callbackBody has a ${ without its }.")?;
        let name = &rest[start + 2..start + end];
        let custom = name.strip_prefix("x:").is_some_and(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        if !custom && !SYSTEM_VARIABLES.contains(&name) {
            return Err(format!(
                "callbackBody uses an unknown variable ${{{name}}}."
            ));
        }
        names.push(name);
        rest = &rest[start + end + 1..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(body: &str, body_type: Option<&str>) -> CallbackSpec {
        CallbackSpec {
            callback_url: "https://app.example.com/oss/callback".into(),
            callback_host: None,
            callback_body: body.into(),
            callback_body_type: body_type.map(String::from),
        }
    }

    #[test]
    fn renders_like_the_vector() {
        let s = spec("bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}&uid=${x:uid}", None);
        let body = s.render(|name| {
            Some(
                match name {
                    "bucket" => "examplebucket",
                    "object" => "user/alice/cat.png",
                    "etag" => "5EB63BBBE01EEED093CB22BB8F5ACDC3",
                    "size" => "12",
                    "mimeType" => "image/png",
                    "x:uid" => "42",
                    _ => return None,
                }
                .to_owned(),
            )
        });
        assert_eq!(
            body,
            "bucket=examplebucket&object=user%2Falice%2Fcat.png&etag=5EB63BBBE01EEED093CB22BB8F5ACDC3&size=12&mimeType=image%2Fpng&uid=42"
        );
        let json = spec(r#"{"object":${object},"size":${size}}"#, Some(JSON));
        assert_eq!(
            json.render(|n| Some(if n == "object" {
                "a\"b".into()
            } else {
                "1".into()
            })),
            r#"{"object":"a\"b","size":"1"}"#
        );
    }

    #[test]
    fn checks_what_oss_checks() {
        assert!(spec("a=${bucket}", None).check().is_ok());
        assert!(spec("", None).check().is_err());
        assert!(spec("a=${bucket", None).check().is_err());
        assert!(spec("a=${nope}", None).check().is_err());
        assert!(spec("a=${x:Upper}", None).check().is_err());
        assert!(spec("a=1", Some("text/plain")).check().is_err());
        let mut six = spec("a=1", None);
        six.callback_url = ["http://a/"; 6].join(";");
        assert!(six.check().is_err());
        let mut ftp = spec("a=1", None);
        ftp.callback_url = "ftp://a/".into();
        assert!(ftp.check().is_err());
    }

    #[test]
    fn encodes_and_decodes() {
        let s = spec("a=${bucket}", Some(FORM));
        assert_eq!(CallbackSpec::decode(&s.encode()).unwrap(), s);
        assert!(CallbackSpec::decode("not base64!").is_err());
        assert!(CallbackSpec::decode(&BASE64.encode("[]")).is_err());
    }
}
