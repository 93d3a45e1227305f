//! ListObjects (V1, `GET /`) and ListObjectsV2 (`GET /?list-type=2`): keys under a prefix,
//! folded into common prefixes at a delimiter, a page at a time, names URL-encoded on request.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::errors::{BucketError, OssCode};
use super::state::{Bucket, RequestContext};
use super::xml;
use crate::server::protocol::signing::UNRESERVED_AND_SLASH;

/// One page of a listing: keys, common prefixes (in one sorted order), and where the next
/// page starts when there is one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub keys: Vec<String>,
    pub common_prefixes: Vec<String>,
    /// The last key or common prefix of this page, when more follow.
    pub next_marker: Option<String>,
}

/// Pages `keys` (sorted, all starting with `prefix` and after `marker`): a key whose rest
/// after `prefix` holds `delimiter` counts once, as the common prefix up to and including it.
/// Keys inside the common prefix `marker` names were listed on the page before.
pub fn page(keys: &[String], prefix: &str, delimiter: &str, marker: &str, max: usize) -> Page {
    let found = page_of(keys, |key| key, prefix, delimiter, marker, max);
    Page {
        keys: found.entries,
        common_prefixes: found.common_prefixes,
        next_marker: found
            .last
            .filter(|_| found.truncated)
            .map(|last| match last {
                Last::Entry(key) | Last::CommonPrefix(key) => key,
            }),
    }
}

/// A page of any entries named by a key (objects, multipart uploads), as [`page`] pages keys.
#[derive(Debug, PartialEq, Eq)]
pub struct PageOf<E> {
    pub entries: Vec<E>,
    pub common_prefixes: Vec<String>,
    /// The last entry or common prefix listed, whether or not more follow.
    pub last: Option<Last<E>>,
    /// More follow: the next page starts after `last`.
    pub truncated: bool,
}

/// The last thing a page listed.
#[derive(Debug, PartialEq, Eq)]
pub enum Last<E> {
    Entry(E),
    CommonPrefix(String),
}

/// Pages `entries` as [`page`] pages keys: sorted by their key, all starting with `prefix`,
/// those the page before listed already left out by the caller; `marker`, the key the page
/// before ended with, only says which common prefix it listed last.
pub fn page_of<E: Clone>(
    entries: &[E],
    key_of: impl Fn(&E) -> &str,
    prefix: &str,
    delimiter: &str,
    marker: &str,
    max: usize,
) -> PageOf<E> {
    // A marker that is itself a common prefix (not a key ending in the delimiter) was listed
    // whole on the page before.
    let listed_before = common_prefix(marker, prefix, delimiter).filter(|common| common == marker);
    let mut out = PageOf {
        entries: Vec::new(),
        common_prefixes: Vec::new(),
        last: None,
        truncated: false,
    };
    let mut count = 0;
    for entry in entries {
        let key = key_of(entry);
        if listed_before
            .as_deref()
            .is_some_and(|common| key.starts_with(common))
        {
            continue;
        }
        let folded = common_prefix(key, prefix, delimiter);
        if let (Some(common), Some(Last::CommonPrefix(previous))) = (&folded, &out.last) {
            if common == previous {
                continue;
            }
        }
        if count == max {
            out.truncated = true;
            return out;
        }
        count += 1;
        out.last = Some(match folded {
            Some(common) => {
                out.common_prefixes.push(common.clone());
                Last::CommonPrefix(common)
            }
            None => {
                out.entries.push(entry.clone());
                Last::Entry(entry.clone())
            }
        });
    }
    out
}

/// The common prefix `key` counts as under `prefix`: up to and including the first
/// `delimiter` after it; `None` when there is none (or no delimiter).
fn common_prefix(key: &str, prefix: &str, delimiter: &str) -> Option<String> {
    if delimiter.is_empty() || !key.starts_with(prefix) {
        return None;
    }
    let at = key[prefix.len()..].find(delimiter)?;
    Some(key[..prefix.len() + at + delimiter.len()].to_owned())
}

/// The query of a listing, checked.
pub(super) struct Query<'a> {
    pub prefix: &'a str,
    pub delimiter: &'a str,
    pub max: usize,
    pub url_encoded: bool,
}

impl Query<'_> {
    /// A name as the reply gives it: URL-encoded when asked.
    pub fn as_replied(&self, text: &str) -> String {
        match self.url_encoded {
            true => percent_encoding::utf8_percent_encode(text, UNRESERVED_AND_SLASH).to_string(),
            false => text.to_owned(),
        }
    }
}

/// The listing's query, its page size in `max_param` (1 to 1000, `default_max` when absent).
pub(super) fn read_query<'a>(
    query: &'a [(String, String)],
    max_param: &str,
    default_max: usize,
) -> Result<Query<'a>, BucketError> {
    let param = |name: &str| super::state::param(query, name);
    let max = match param(max_param) {
        None | Some("") => default_max,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                BucketError::new(
                    OssCode::InvalidArgument,
                    format!("{max_param} must be a number from 1 to 1000."),
                )
            })?,
    };
    let url_encoded = match param("encoding-type") {
        None | Some("") => false,
        Some("url") => true,
        Some(_) => {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "encoding-type can only be url.",
            ))
        }
    };
    let prefix = param("prefix").unwrap_or("");
    let delimiter = param("delimiter").unwrap_or("");
    if prefix.len() > 1024 || delimiter.len() > 1024 {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "prefix and delimiter are at most 1024 bytes.",
        ));
    }
    Ok(Query {
        prefix,
        delimiter,
        max,
        url_encoded,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Owner {
    #[serde(rename = "ID")]
    id: String,
    display_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Contents {
    key: String,
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    size: u64,
    storage_class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<Owner>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CommonPrefix {
    prefix: String,
}

#[derive(Serialize, Default)]
#[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
struct Listing {
    name: String,
    prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuation_token: Option<String>,
    max_keys: usize,
    delimiter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding_type: Option<&'static str>,
    is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_count: Option<usize>,
    contents: Vec<Contents>,
    common_prefixes: Vec<CommonPrefix>,
}

/// `GET /` (V1, `marker`) or `GET /?list-type=2` (V2, `continuation-token`/`start-after`).
/// Signed: objects are public to read, their names are not.
pub async fn list(
    bucket: &Bucket,
    ctx: &RequestContext,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    list_checked(bucket, query, headers)
        .await
        .unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true))
}

async fn list_checked(
    bucket: &Bucket,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Response, BucketError> {
    if !super::auth::is_signed(headers, query) {
        return Err(BucketError::new(
            OssCode::AccessDenied,
            "You have no right to access this object because of bucket acl.",
        ));
    }
    super::auth::verify(bucket, &Method::GET, "", headers, query)?;
    let param = |name: &str| super::state::param(query, name);
    let v2 = param("list-type") == Some("2");
    let asked = read_query(query, "max-keys", 100)?;
    let token = param("continuation-token").filter(|t| !t.is_empty());
    let marker = match (v2, token) {
        (false, _) => param("marker").unwrap_or("").to_owned(),
        (true, None) => param("start-after").unwrap_or("").to_owned(),
        (true, Some(token)) => URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                BucketError::new(
                    OssCode::InvalidArgument,
                    "The continuation token is not valid.",
                )
            })?,
    };
    let keys = bucket
        .store
        .keys(asked.prefix, &marker)
        .await
        .map_err(BucketError::internal)?;
    let found = page(&keys, asked.prefix, asked.delimiter, &marker, asked.max);
    let name = |text: &str| asked.as_replied(text);
    let with_owner = !v2 || param("fetch-owner") == Some("true");
    let mut contents = Vec::with_capacity(found.keys.len());
    for key in &found.keys {
        let Ok(Some((_, meta))) = bucket.store.open_object(key).await else {
            continue;
        };
        let multipart = meta.etag.is_some();
        contents.push(Contents {
            key: name(key),
            last_modified: xml::date(meta.last_modified),
            etag: format!("\"{}\"", meta.etag.as_deref().unwrap_or(&meta.md5_hex)),
            kind: if multipart { "Multipart" } else { "Normal" },
            size: meta.size,
            storage_class: "Standard",
            owner: with_owner.then(|| Owner {
                id: bucket.name.clone(),
                display_name: bucket.name.clone(),
            }),
        });
    }
    let truncated = found.next_marker.is_some();
    let listing = Listing {
        name: bucket.name.clone(),
        prefix: name(asked.prefix),
        marker: (!v2).then(|| name(&marker)),
        start_after: param("start-after").filter(|_| v2).map(name),
        continuation_token: token.filter(|_| v2).map(str::to_owned),
        max_keys: asked.max,
        delimiter: name(asked.delimiter),
        encoding_type: asked.url_encoded.then_some("url"),
        is_truncated: truncated,
        next_marker: found.next_marker.as_deref().filter(|_| !v2).map(name),
        next_continuation_token: found
            .next_marker
            .as_deref()
            .filter(|_| v2)
            .map(|last| URL_SAFE_NO_PAD.encode(last)),
        key_count: v2.then_some(contents.len() + found.common_prefixes.len()),
        contents,
        common_prefixes: found
            .common_prefixes
            .iter()
            .map(|p| CommonPrefix { prefix: name(p) })
            .collect(),
    };
    let body = quick_xml::se::to_string(&listing).map_err(BucketError::internal)?;
    Ok(xml::reply(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn folds_at_the_delimiter_and_pages() {
        let all = keys(&["a.txt", "b/1", "b/2", "c/x/1", "d.txt"]);
        let whole = page(&all, "", "/", "", 100);
        assert_eq!(whole.keys, keys(&["a.txt", "d.txt"]));
        assert_eq!(whole.common_prefixes, keys(&["b/", "c/"]));
        assert_eq!(whole.next_marker, None);
        // Two a page: a common prefix counts once, and the next page skips what it holds.
        let first = page(&all, "", "/", "", 2);
        assert_eq!(
            (first.keys.clone(), first.common_prefixes.clone()),
            (keys(&["a.txt"]), keys(&["b/"]))
        );
        assert_eq!(first.next_marker.as_deref(), Some("b/"));
        let rest: Vec<String> = all.iter().filter(|k| k.as_str() > "b/").cloned().collect();
        let second = page(&rest, "", "/", "b/", 2);
        assert_eq!(
            (second.keys, second.common_prefixes),
            (keys(&["d.txt"]), keys(&["c/"]))
        );
        assert_eq!(second.next_marker, None);
    }

    /// Found by fuzzing: a key that ends in the delimiter (an OSS "folder" object) is a key,
    /// and the page after it still lists what lies under it.
    #[test]
    fn a_key_ending_in_the_delimiter_is_no_common_prefix() {
        let all = keys(&["p/", "p/a", "p/b/1"]);
        let first = page(&all, "p/", "/", "", 1);
        assert_eq!(first.keys, keys(&["p/"]));
        assert_eq!(first.next_marker.as_deref(), Some("p/"));
        let rest: Vec<String> = all.iter().filter(|k| k.as_str() > "p/").cloned().collect();
        let second = page(&rest, "p/", "/", "p/", 5);
        assert_eq!(second.keys, keys(&["p/a"]));
        assert_eq!(second.common_prefixes, keys(&["p/b/"]));
    }

    /// Entries that share a key (uploads of one object) each count, and the page says what it
    /// listed last even when no more follow.
    #[test]
    fn entries_sharing_a_key_each_count() {
        let all = [("a", 1), ("a", 2), ("b/x", 3), ("b/y", 4), ("c", 5)];
        let first = page_of(&all, |(key, _)| key, "", "/", "", 2);
        assert_eq!(first.entries, [("a", 1), ("a", 2)]);
        assert_eq!(
            (first.last, first.truncated),
            (Some(Last::Entry(("a", 2))), true)
        );
        let second = page_of(&all[2..], |(key, _)| key, "", "/", "a", 2);
        assert_eq!(second.entries, [("c", 5)]);
        assert_eq!(second.common_prefixes, ["b/"]);
        assert_eq!(
            (second.last, second.truncated),
            (Some(Last::Entry(("c", 5))), false)
        );
    }

    #[test]
    fn without_a_delimiter_every_key_counts() {
        let all = keys(&["p/a", "p/b/c", "p/d"]);
        let first = page(&all, "p/", "", "", 2);
        assert_eq!(first.keys, keys(&["p/a", "p/b/c"]));
        assert_eq!(first.next_marker.as_deref(), Some("p/b/c"));
        // Exactly max keys: no next page.
        assert_eq!(page(&all, "p/", "", "", 3).next_marker, None);
        // Under a prefix, folding starts after it.
        let folded = page(&all, "p/", "/", "", 10);
        assert_eq!(folded.keys, keys(&["p/a", "p/d"]));
        assert_eq!(folded.common_prefixes, keys(&["p/b/"]));
    }
}
