//! How `PortalError` crosses a server fn: JSON, as its derived `Serialize` writes it, and in
//! the browser read back by one small visitor. Pure; its tests hold it to the derived reader.
//!
//! Why not the derive: its reader (a visitor per variant, per struct and per field name, for
//! 40 variants in four enums) weighed 6.8 KB of brotli on every phone that opens '/'.

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Limit, Notice, PortalError};
use crate::naming::FolderError;

impl leptos::server_fn::error::FromServerFnError for PortalError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // The body did not decode: the request itself is malformed.
            E::Args(_) | E::Deserialization(_) | E::MissingArg(_) => {
                PortalError::Invalid(Notice::Unreadable)
            }
            other => PortalError::Transport(other.to_string()),
        }
    }

    /// Read by the small reader below, not the derived one (which would weigh 6.8 KB of
    /// brotli in the browser's WASM); the same JSON either way.
    fn de(data: leptos::server_fn::Bytes) -> Self {
        read_error(&data).unwrap_or_else(|| {
            Self::from_server_fn_error(leptos::server_fn::error::ServerFnErrorErr::Deserialization(
                "an error this page does not know".into(),
            ))
        })
    }
}

/// A JSON value, as much of one as an error holds: text, whole numbers, lists and objects.
#[derive(Debug)]
enum Json {
    Text(String),
    Number(u64),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
    /// `null`, `true`, a negative or fractional number: no error field holds one.
    Other,
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_str<E>(self, text: &str) -> Result<Json, E> {
        Ok(Json::Text(text.to_owned()))
    }
    fn visit_u64<E>(self, number: u64) -> Result<Json, E> {
        Ok(Json::Number(number))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Json, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = items.next_element()? {
            list.push(item);
        }
        Ok(Json::List(list))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Json, A::Error> {
        let mut object = Vec::new();
        while let Some(entry) = entries.next_entry()? {
            object.push(entry);
        }
        Ok(Json::Object(object))
    }
}

impl Json {
    /// An enum's variant as serde writes it: `"Name"`, or `{"Name": body}`.
    fn variant(&self) -> Option<(&str, &Json)> {
        match self {
            Json::Text(name) => Some((name, &Json::Other)),
            Json::Object(entries) if entries.len() == 1 => {
                Some((entries[0].0.as_str(), &entries[0].1))
            }
            _ => None,
        }
    }

    fn field(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries.iter().find(|(key, _)| key == name).map(|e| &e.1),
            _ => None,
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Json::Text(text) => Some(text.clone()),
            _ => None,
        }
    }

    fn number(&self) -> Option<u64> {
        match self {
            Json::Number(number) => Some(*number),
            _ => None,
        }
    }
}

/// The error a refused call's reply body holds; `None` when it holds none this build knows.
pub fn read_error(body: &[u8]) -> Option<PortalError> {
    error(&serde_json::from_slice(body).ok()?)
}

fn error(json: &Json) -> Option<PortalError> {
    Some(match json.variant()? {
        ("Invalid", body) => PortalError::Invalid(notice(body)?),
        ("Unavailable", _) => PortalError::Unavailable,
        ("Internal", _) => PortalError::Internal,
        ("Transport", body) => PortalError::Transport(body.text()?),
        ("Unauthenticated", _) => PortalError::Unauthenticated,
        ("Forbidden", _) => PortalError::Forbidden,
        ("Limited", body) => PortalError::Limited {
            limit: limit(body.field("limit")?)?,
            retry_after: body.field("retry_after")?.number()?,
        },
        _ => return None,
    })
}

fn limit(json: &Json) -> Option<Limit> {
    let number = |body: &Json, name| body.field(name).and_then(Json::number);
    Some(match json.variant()? {
        ("Signing", _) => Limit::Signing,
        ("Logins", _) => Limit::Logins,
        ("DailyBytes", body) => Limit::DailyBytes {
            limit: number(body, "limit")?,
            used: number(body, "used")?,
            asked: number(body, "asked")?,
        },
        ("Pending", body) => Limit::Pending {
            max: number(body, "max")?,
        },
        _ => return None,
    })
}

/// A notice the browser may be shown. The request pages' own notices (`Notice::Request`) are
/// not among them: they never reach the island.
fn notice(json: &Json) -> Option<Notice> {
    let text = |body: &Json, name| body.field(name).and_then(Json::text);
    let number = |body: &Json, name| body.field(name).and_then(Json::number);
    Some(match json.variant()? {
        ("NoFiles", _) => Notice::NoFiles,
        ("PickFirst", _) => Notice::PickFirst,
        ("TooManyFiles", body) => Notice::TooManyFiles {
            max: u32::try_from(number(body, "max")?).ok()?,
        },
        ("BadFileName", _) => Notice::BadFileName,
        ("AlreadyListed", body) => Notice::AlreadyListed {
            name: text(body, "name")?,
        },
        ("TooLarge", body) => Notice::TooLarge {
            name: text(body, "name")?,
            size: number(body, "size")?,
            max: number(body, "max")?,
        },
        ("TypeRefused", body) => Notice::TypeRefused {
            name: text(body, "name")?,
            content_type: text(body, "content_type")?,
            allowed: match body.field("allowed")? {
                Json::List(items) => items.iter().map(Json::text).collect::<Option<_>>()?,
                _ => return None,
            },
        },
        ("Folder", body) => Notice::Folder(folder(body)?),
        ("NotAnUpload", _) => Notice::NotAnUpload,
        ("Unreadable", _) => Notice::Unreadable,
        ("UploadGone", _) => Notice::UploadGone,
        ("WrongParts", _) => Notice::WrongParts,
        ("BadLogin", _) => Notice::BadLogin,
        ("BadLoginInput", _) => Notice::BadLoginInput,
        ("NotStored", body) => Notice::NotStored {
            key: text(body, "key")?,
        },
        ("BadFilter", _) => Notice::BadFilter,
        ("BrokeTicket", body) => Notice::BrokeTicket {
            key: text(body, "key")?,
        },
        ("CrossSite", _) => Notice::CrossSite,
        ("FormExpired", _) => Notice::FormExpired,
        ("RequestClosed", _) => Notice::RequestClosed,
        ("RequestFullFiles", body) => Notice::RequestFullFiles {
            left: number(body, "left")?,
        },
        ("RequestFullBytes", body) => Notice::RequestFullBytes {
            left: number(body, "left")?,
        },
        _ => return None,
    })
}

fn folder(json: &Json) -> Option<FolderError> {
    Some(match json.variant()? {
        ("DotSegment", _) => FolderError::DotSegment,
        ("Backslash", _) => FolderError::Backslash,
        ("Absolute", _) => FolderError::Absolute,
        ("ControlCharacter", _) => FolderError::ControlCharacter,
        ("Dollar", _) => FolderError::Dollar,
        ("SegmentTooLong", _) => FolderError::SegmentTooLong,
        ("TooLong", _) => FolderError::TooLong,
        ("OutsideRoot", body) => FolderError::OutsideRoot {
            root: body.field("root")?.text()?,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant the browser may be sent. The `match` fails to build when a variant
    /// is added, so that it is added here (and to the reader) too.
    fn every_error() -> Vec<PortalError> {
        let folders = vec![
            FolderError::DotSegment,
            FolderError::Backslash,
            FolderError::Absolute,
            FolderError::ControlCharacter,
            FolderError::Dollar,
            FolderError::SegmentTooLong,
            FolderError::TooLong,
            FolderError::OutsideRoot {
                root: "uploads/\"alice\"/".into(),
            },
        ];
        for folder in &folders {
            match folder {
                FolderError::DotSegment
                | FolderError::Backslash
                | FolderError::Absolute
                | FolderError::ControlCharacter
                | FolderError::Dollar
                | FolderError::SegmentTooLong
                | FolderError::TooLong
                | FolderError::OutsideRoot { .. } => {}
            }
        }
        let mut notices = vec![
            Notice::NoFiles,
            Notice::PickFirst,
            Notice::TooManyFiles { max: u32::MAX },
            Notice::BadFileName,
            Notice::AlreadyListed {
                name: "照片 1.jpg".into(),
            },
            Notice::TooLarge {
                name: "a\nb.bin".into(),
                size: u64::MAX,
                max: 0,
            },
            Notice::TypeRefused {
                name: "a.exe".into(),
                content_type: "application/x-msdownload".into(),
                allowed: vec!["image/*".into(), "application/pdf".into()],
            },
            Notice::TypeRefused {
                name: "b".into(),
                content_type: String::new(),
                allowed: Vec::new(),
            },
            Notice::NotAnUpload,
            Notice::Unreadable,
            Notice::UploadGone,
            Notice::WrongParts,
            Notice::BadLogin,
            Notice::BadLoginInput,
            Notice::NotStored {
                key: "uploads/x.png".into(),
            },
            Notice::BadFilter,
            Notice::BrokeTicket {
                key: "uploads/y.png".into(),
            },
            Notice::CrossSite,
            Notice::FormExpired,
            Notice::RequestClosed,
            Notice::RequestFullFiles { left: 3 },
            Notice::RequestFullBytes { left: 1 << 40 },
        ];
        notices.extend(folders.into_iter().map(Notice::Folder));
        for notice in &notices {
            match notice {
                Notice::NoFiles
                | Notice::PickFirst
                | Notice::TooManyFiles { .. }
                | Notice::BadFileName
                | Notice::AlreadyListed { .. }
                | Notice::TooLarge { .. }
                | Notice::TypeRefused { .. }
                | Notice::Folder(_)
                | Notice::NotAnUpload
                | Notice::Unreadable
                | Notice::UploadGone
                | Notice::WrongParts
                | Notice::BadLogin
                | Notice::BadLoginInput
                | Notice::NotStored { .. }
                | Notice::BadFilter
                | Notice::BrokeTicket { .. }
                | Notice::CrossSite
                | Notice::FormExpired
                | Notice::RequestClosed
                | Notice::RequestFullFiles { .. }
                | Notice::RequestFullBytes { .. } => {}
                #[cfg(feature = "ssr")]
                Notice::Request(_) => unreachable!("never sent to the browser"),
            }
        }
        let mut errors: Vec<_> = notices.into_iter().map(PortalError::Invalid).collect();
        let limits = [
            Limit::Signing,
            Limit::Logins,
            Limit::DailyBytes {
                limit: 10,
                used: 7,
                asked: 5,
            },
            Limit::Pending { max: 1000 },
        ];
        errors.extend(limits.into_iter().map(|limit| PortalError::Limited {
            limit,
            retry_after: 42,
        }));
        errors.extend([
            PortalError::Unavailable,
            PortalError::Internal,
            PortalError::Transport("timed out \u{1F40C}".into()),
            PortalError::Unauthenticated,
            PortalError::Forbidden,
        ]);
        for error in &errors {
            match error {
                PortalError::Invalid(_)
                | PortalError::Unavailable
                | PortalError::Internal
                | PortalError::Transport(_)
                | PortalError::Unauthenticated
                | PortalError::Forbidden
                | PortalError::Limited { .. } => {}
            }
        }
        errors
    }

    #[test]
    fn every_error_reads_back_as_the_derived_writer_wrote_it() {
        for error in every_error() {
            let body = serde_json::to_vec(&error).unwrap();
            assert_eq!(read_error(&body), Some(error.clone()), "{error:?}");
            // The derived reader agrees: both read the same JSON.
            assert_eq!(serde_json::from_slice::<PortalError>(&body).unwrap(), error);
        }
    }

    #[test]
    fn other_json_reads_as_no_error() {
        for body in [
            &b""[..],
            b"null",
            b"\"Nonsense\"",
            b"{\"Invalid\":\"Nonsense\"}",
            b"{\"Invalid\":{\"TooLarge\":{\"name\":\"a\",\"size\":-1,\"max\":2}}}",
            b"{\"Invalid\":{\"TooManyFiles\":{\"max\":4294967296}}}",
            b"{\"Limited\":{\"limit\":\"Signing\"}}",
            b"{\"Invalid\":\"NoFiles\",\"Internal\":null}",
            b"[\"Internal\"]",
            b"{\"Invalid\":{\"Request\":\"NotFound\"}}",
        ] {
            assert_eq!(read_error(body), None, "{}", String::from_utf8_lossy(body));
        }
        // Fields in any order, and fields it does not know, as the derived reader allows.
        assert_eq!(
            read_error(br#"{"Limited":{"retry_after":3,"extra":[1,true,null,-2.5],"limit":{"Pending":{"max":9}}}}"#),
            Some(PortalError::Limited {
                limit: Limit::Pending { max: 9 },
                retry_after: 3
            })
        );
    }
}
