//! THE POST policy model: built and serialised by the signer, parsed and evaluated by the
//! embedded bucket. One language, one place; signatures live in `signing`, not here.

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One policy condition. Field names are stored lower-case and without the leading `$`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "v"}`: the "simple condition" form the SDKs use for `bucket` and the V4 fields.
    Exact { field: String, value: String },
    /// `["eq", "$field", "v"]`: the same test, written as an array.
    Eq { field: String, value: String },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith { field: String, prefix: String },
    /// `["in", "$field", [..]]`.
    In { field: String, values: Vec<String> },
    /// `["not-in", "$field", [..]]`.
    NotIn { field: String, values: Vec<String> },
    /// `["content-length-range", min, max]`, checked against the file's size.
    ContentLengthRange { min: u64, max: u64 },
}

impl Condition {
    pub fn eq(field: &str, value: &str) -> Self {
        Condition::Eq {
            field: field.to_ascii_lowercase(),
            value: value.to_owned(),
        }
    }

    pub fn exact(field: &str, value: &str) -> Self {
        Condition::Exact {
            field: field.to_ascii_lowercase(),
            value: value.to_owned(),
        }
    }

    /// The form field this condition tests (`None` for the size range).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Exact { field, .. }
            | Condition::Eq { field, .. }
            | Condition::StartsWith { field, .. }
            | Condition::In { field, .. }
            | Condition::NotIn { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    /// The JSON form written into a policy.
    fn to_json(&self) -> Value {
        match self {
            Condition::Exact { field, value } => {
                let mut object = serde_json::Map::new();
                object.insert(field.clone(), Value::String(escape_dollar(value)));
                Value::Object(object)
            }
            Condition::Eq { field, value } => {
                serde_json::json!(["eq", format!("${field}"), escape_dollar(value)])
            }
            Condition::StartsWith { field, prefix } => {
                serde_json::json!(["starts-with", format!("${field}"), escape_dollar(prefix)])
            }
            Condition::In { field, values } => serde_json::json!([
                "in",
                format!("${field}"),
                values.iter().map(|v| escape_dollar(v)).collect::<Vec<_>>()
            ]),
            Condition::NotIn { field, values } => serde_json::json!([
                "not-in",
                format!("${field}"),
                values.iter().map(|v| escape_dollar(v)).collect::<Vec<_>>()
            ]),
            Condition::ContentLengthRange { min, max } => {
                serde_json::json!(["content-length-range", min, max])
            }
        }
    }

    /// How OSS quotes a failed condition in its error message: `["eq", "$key", "a/b"]`.
    fn describe(&self) -> String {
        let json = match self {
            Condition::Exact { field, value } => {
                serde_json::json!(["eq", format!("${field}"), escape_dollar(value)])
            }
            other => other.to_json(),
        };
        let parts: Vec<String> = match json {
            Value::Array(items) => items.iter().map(Value::to_string).collect(),
            other => vec![other.to_string()],
        };
        format!("[{}]", parts.join(", "))
    }
}

/// `$` in a policy value is written `\$`.
fn escape_dollar(value: &str) -> String {
    value.replace('$', "\\$")
}

fn unescape_dollar(value: &str) -> String {
    value.replace("\\$", "$")
}

/// A POST policy: when it expires and what the form must satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    pub expiration: OffsetDateTime,
    pub conditions: Vec<Condition>,
}

/// Why a policy document could not be used (OSS answers `InvalidPolicyDocument`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Policy: {0}")]
pub struct PolicyParseError(String);

/// Why a form does not satisfy a policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("Invalid according to Policy: Policy expired.")]
    Expired,
    #[error("Invalid according to Policy: Policy Condition failed: {0}")]
    ConditionFailed(String),
    /// A form field that no condition tests (S3's wording; the policy must vouch for it).
    #[error("Invalid according to Policy: Extra input fields: {0}")]
    ExtraField(String),
    #[error("Your proposed upload exceeds the maximum allowed size.")]
    TooLarge,
    #[error("Your proposed upload is smaller than the minimum allowed size.")]
    TooSmall,
}

impl PolicyDocument {
    /// The policy JSON exactly as signed: `expiration` first, then `conditions`, compact, the
    /// expiration with milliseconds (`2030-01-01T00:00:00.000Z`) as the SDKs write it.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Wire {
            expiration: String,
            conditions: Vec<Value>,
        }
        let wire = Wire {
            expiration: format_expiration(self.expiration),
            conditions: self.conditions.iter().map(Condition::to_json).collect(),
        };
        serde_json::to_string(&wire).expect("a policy always serialises")
    }

    /// Parses a decoded policy document, refusing anything OSS would refuse.
    pub fn parse(json: &[u8]) -> Result<Self, PolicyParseError> {
        let err = |m: &str| PolicyParseError(m.to_owned());
        let value: Value = serde_json::from_slice(json)
            .map_err(|e| PolicyParseError(format!("Invalid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(err("Invalid JSON: the policy must be an object."));
        };
        let expiration = match map.get("expiration") {
            None => return Err(err("Missing expiration.")),
            Some(Value::String(s)) if s.is_empty() => return Err(err("Expiration is empty.")),
            Some(Value::String(s)) => OffsetDateTime::parse(s, &Rfc3339)
                .map_err(|_| err("Invalid expiration: it must be an ISO 8601 GMT time."))?,
            Some(_) => return Err(err("Invalid expiration: it must be a string.")),
        };
        let conditions = match map.get("conditions") {
            None => return Err(err("Missing conditions.")),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(err("Conditions must have at least one item."))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(parse_condition)
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(err("Conditions must be a list.")),
        };
        Ok(PolicyDocument {
            expiration,
            conditions,
        })
    }

    /// Checks expiration and every condition except the size (known only after the file is
    /// read). `field` looks a form field up by lower-case name; the key is the value before
    /// `${filename}` is expanded.
    pub fn check_form<'a>(
        &self,
        now: OffsetDateTime,
        field: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<(), PolicyViolation> {
        if now > self.expiration {
            return Err(PolicyViolation::Expired);
        }
        for condition in &self.conditions {
            // An absent field compares as the empty string, as in S3.
            let satisfied = match condition {
                Condition::Exact { field: name, value } | Condition::Eq { field: name, value } => {
                    field(name).unwrap_or("") == value
                }
                Condition::StartsWith {
                    field: name,
                    prefix,
                } => field(name).unwrap_or("").starts_with(prefix.as_str()),
                Condition::In {
                    field: name,
                    values,
                } => values.iter().any(|v| v == field(name).unwrap_or("")),
                Condition::NotIn {
                    field: name,
                    values,
                } => values.iter().all(|v| v != field(name).unwrap_or("")),
                Condition::ContentLengthRange { .. } => true,
            };
            if !satisfied {
                return Err(PolicyViolation::ConditionFailed(condition.describe()));
            }
        }
        Ok(())
    }

    /// Whether some condition tests `field`.
    pub fn constrains(&self, field: &str) -> bool {
        self.conditions.iter().any(|c| c.field() == Some(field))
    }

    /// Whether a condition fixes `field` to one value or a list of values (`eq`, a simple
    /// condition, `in`): what a field that sends requests elsewhere (`callback`) needs.
    pub fn pins(&self, field: &str) -> bool {
        self.conditions.iter().any(|c| {
            matches!(
                c,
                Condition::Exact { .. } | Condition::Eq { .. } | Condition::In { .. }
            ) && c.field() == Some(field)
        })
    }

    /// Every one of `names` (lower-case form fields) must be a field the policy tests, as S3
    /// requires of all fields and the embedded bucket of those that route requests or decide
    /// the object: a field the signer never saw cannot. Exempt: the signature's own fields and
    /// `x-ignore-*`.
    pub fn check_fields<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), PolicyViolation> {
        match names
            .into_iter()
            .find(|name| !is_unsigned_field(name) && !self.constrains(name))
        {
            Some(extra) => Err(PolicyViolation::ExtraField(extra.to_owned())),
            None => Ok(()),
        }
    }

    /// The largest size every `content-length-range` allows (lets the bucket stop early).
    pub fn max_length(&self) -> Option<u64> {
        self.length_ranges().map(|(_, max)| max).min()
    }

    /// Checks the file's size against every `content-length-range`.
    pub fn check_length(&self, size: u64) -> Result<(), PolicyViolation> {
        for (min, max) in self.length_ranges() {
            if size > max {
                return Err(PolicyViolation::TooLarge);
            }
            if size < min {
                return Err(PolicyViolation::TooSmall);
            }
        }
        Ok(())
    }

    fn length_ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.conditions.iter().filter_map(|c| match c {
            Condition::ContentLengthRange { min, max } => Some((*min, *max)),
            _ => None,
        })
    }
}

/// Fields a form carries that the policy cannot test: the policy and its signature.
const UNSIGNED_FIELDS: [&str; 6] = [
    "policy",
    "signature",
    "ossaccesskeyid",
    "x-oss-signature",
    "x-amz-signature",
    "file",
];

fn is_unsigned_field(name: &str) -> bool {
    UNSIGNED_FIELDS.contains(&name) || name.starts_with("x-ignore-")
}

fn format_expiration(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn parse_condition(value: &Value) -> Result<Condition, PolicyParseError> {
    let err = |m: &str| PolicyParseError(m.to_owned());
    match value {
        Value::Object(map) => {
            if map.len() != 1 {
                return Err(err(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
                ));
            }
            let (name, value) = map.iter().next().expect("one property");
            let Value::String(value) = value else {
                return Err(err("Invalid Simple-Condition: the value must be a string."));
            };
            Ok(Condition::Exact {
                field: name.to_ascii_lowercase(),
                value: unescape_dollar(value),
            })
        }
        Value::Array(items) => {
            let op = items
                .first()
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            let op =
                op.ok_or_else(|| err("Invalid Condition: the first item must be the operation."))?;
            if items.len() != 3 {
                return Err(err(
                    "Invalid Condition: a condition must have exactly three items.",
                ));
            }
            if op == "content-length-range" {
                let bound = |v: &Value| {
                    v.as_u64().ok_or_else(|| {
                        err("Invalid content-length-range: bounds must be non-negative integers.")
                    })
                };
                let (min, max) = (bound(&items[1])?, bound(&items[2])?);
                if max < min {
                    return Err(err(
                        "Invalid content-length-range: max is smaller than min.",
                    ));
                }
                return Ok(Condition::ContentLengthRange { min, max });
            }
            let field = items[1]
                .as_str()
                .and_then(|f| f.strip_prefix('$'))
                .filter(|f| !f.is_empty())
                .ok_or_else(|| {
                    err("Invalid Condition: the field must be a string starting with $.")
                })?
                .to_ascii_lowercase();
            let text = |v: &Value| {
                v.as_str()
                    .map(unescape_dollar)
                    .ok_or_else(|| err("Invalid Condition: the value must be a string."))
            };
            let list = |v: &Value| match v {
                Value::Array(values) => values.iter().map(text).collect::<Result<Vec<_>, _>>(),
                _ => Err(err(
                    "Invalid Condition: in and not-in take a list of strings.",
                )),
            };
            match op.as_str() {
                "eq" => Ok(Condition::Eq {
                    field,
                    value: text(&items[2])?,
                }),
                "starts-with" => Ok(Condition::StartsWith {
                    field,
                    prefix: text(&items[2])?,
                }),
                "in" => Ok(Condition::In {
                    field,
                    values: list(&items[2])?,
                }),
                "not-in" => Ok(Condition::NotIn {
                    field,
                    values: list(&items[2])?,
                }),
                _ => Err(err("Invalid Condition: unknown operation.")),
            }
        }
        _ => Err(err(
            "Invalid Condition: a condition must be an object or a list.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn vector_policy() -> PolicyDocument {
        PolicyDocument {
            expiration: datetime!(2030-01-01 00:00:00 UTC),
            conditions: vec![
                Condition::exact("bucket", "examplebucket"),
                Condition::StartsWith {
                    field: "key".into(),
                    prefix: "user/alice/".into(),
                },
                Condition::ContentLengthRange {
                    min: 1,
                    max: 10485760,
                },
                Condition::In {
                    field: "content-type".into(),
                    values: vec!["image/jpeg".into(), "image/png".into()],
                },
                Condition::eq("success_action_status", "201"),
            ],
        }
    }

    #[test]
    fn serialises_like_the_sdk() {
        let expected = r#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[{"bucket":"examplebucket"},["starts-with","$key","user/alice/"],["content-length-range",1,10485760],["in","$content-type",["image/jpeg","image/png"]],["eq","$success_action_status","201"]]}"#;
        assert_eq!(vector_policy().to_json(), expected);
    }

    #[test]
    fn parse_reads_back_what_to_json_writes() {
        let policy = vector_policy();
        assert_eq!(
            PolicyDocument::parse(policy.to_json().as_bytes()).unwrap(),
            policy
        );
    }

    #[test]
    fn parse_accepts_the_doc_example_with_spaces_and_no_millis() {
        let doc = r#"{"expiration":"2013-12-01T12:00:00Z","conditions":[["content-length-range", 0, 10485760],{"bucket":"ahaha"}, {"A": "a"},{"key": "ABC"}]}"#;
        let policy = PolicyDocument::parse(doc.as_bytes()).unwrap();
        assert_eq!(policy.conditions.len(), 4);
        assert_eq!(policy.conditions[2], Condition::exact("a", "a"));
        assert!(policy.constrains("key") && policy.constrains("bucket"));
        assert!(!policy.constrains("x-oss-date"));
        assert_eq!(policy.max_length(), Some(10485760));
    }

    #[test]
    fn parse_refuses_malformed_documents() {
        let bad = [
            "not json",
            "[]",
            r#"{"conditions":[{"bucket":"b"}]}"#,
            r#"{"expiration":12345,"conditions":[{"bucket":"b"}]}"#,
            r#"{"expiration":"","conditions":[{"bucket":"b"}]}"#,
            r#"{"expiration":"tomorrow","conditions":[{"bucket":"b"}]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z"}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","x"]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["like","$key","x"]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key"]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",5,1]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",-1,1]]}"#,
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["in","$key","x"]]}"#,
        ];
        for doc in bad {
            assert!(
                PolicyDocument::parse(doc.as_bytes()).is_err(),
                "accepted {doc}"
            );
        }
        let message = PolicyDocument::parse(
            br#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            message,
            "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
        );
    }

    fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn conditions_are_evaluated() {
        let policy = vector_policy();
        let now = datetime!(2026-01-01 00:00:00 UTC);
        let good = [
            ("bucket", "examplebucket"),
            ("key", "user/alice/${filename}"),
            ("content-type", "image/png"),
            ("success_action_status", "201"),
        ];
        assert_eq!(policy.check_form(now, form(&good)), Ok(()));

        let mut outside = good;
        outside[1] = ("key", "user/bob/x");
        assert_eq!(
            policy.check_form(now, form(&outside)),
            Err(PolicyViolation::ConditionFailed(
                r#"["starts-with", "$key", "user/alice/"]"#.into()
            ))
        );
        let mut wrong_type = good;
        wrong_type[2] = ("content-type", "text/html");
        assert!(policy.check_form(now, form(&wrong_type)).is_err());
        let mut wrong_bucket = good;
        wrong_bucket[0] = ("bucket", "other");
        assert_eq!(
            policy
                .check_form(now, form(&wrong_bucket))
                .unwrap_err()
                .to_string(),
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "examplebucket"]"#
        );
        // A missing field fails an eq condition.
        assert!(policy.check_form(now, form(&good[..3])).is_err());
        assert_eq!(
            policy.check_form(datetime!(2030-01-01 00:00:01 UTC), form(&good)),
            Err(PolicyViolation::Expired)
        );
    }

    #[test]
    fn not_in_and_dollar_escapes() {
        let policy = PolicyDocument {
            expiration: datetime!(2030-01-01 00:00:00 UTC),
            conditions: vec![
                Condition::NotIn {
                    field: "cache-control".into(),
                    values: vec!["no-cache".into()],
                },
                Condition::eq("key", "price$list.txt"),
            ],
        };
        let json = policy.to_json();
        assert!(json.contains(r#""price\\$list.txt""#), "{json}");
        let parsed = PolicyDocument::parse(json.as_bytes()).unwrap();
        assert_eq!(parsed, policy);
        let now = datetime!(2026-01-01 00:00:00 UTC);
        assert!(parsed
            .check_form(now, form(&[("key", "price$list.txt")]))
            .is_ok());
        assert!(parsed
            .check_form(
                now,
                form(&[("key", "price$list.txt"), ("cache-control", "no-cache")])
            )
            .is_err());
    }

    #[test]
    fn every_field_must_be_tested_by_the_policy() {
        let policy = vector_policy();
        let names = [
            "key",
            "policy",
            "ossaccesskeyid",
            "signature",
            "content-type",
        ];
        assert_eq!(policy.check_fields(names), Ok(()));
        assert_eq!(policy.check_fields(["key", "x-ignore-note"]), Ok(()));
        for extra in [
            "x-oss-content-type",
            "callback",
            "success_action_redirect",
            "x-oss-meta-a",
            "content-disposition",
            "x:ticket",
        ] {
            assert_eq!(
                policy.check_fields(["key", extra]),
                Err(PolicyViolation::ExtraField(extra.into()))
            );
        }
        assert_eq!(
            PolicyViolation::ExtraField("callback".into()).to_string(),
            "Invalid according to Policy: Extra input fields: callback"
        );
        // `starts-with` tests a field without fixing it; `in` and `eq` pin it.
        assert!(policy.pins("content-type") && policy.pins("success_action_status"));
        assert!(policy.constrains("key") && !policy.pins("key"));
    }

    #[test]
    fn lengths_are_checked_inclusively() {
        let policy = PolicyDocument {
            expiration: datetime!(2030-01-01 00:00:00 UTC),
            conditions: vec![Condition::ContentLengthRange { min: 10, max: 10 }],
        };
        assert_eq!(policy.check_length(10), Ok(()));
        assert_eq!(policy.check_length(11), Err(PolicyViolation::TooLarge));
        assert_eq!(policy.check_length(9), Err(PolicyViolation::TooSmall));
        assert_eq!(policy.max_length(), Some(10));
    }
}
