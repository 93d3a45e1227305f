//! Reading the ledger for people: pages with object links (`GET /object?key=…`, redirected to
//! the stored object), checked admin filters, and the CSV export (`GET /admin/uploads.csv`,
//! administrators only).

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::access::{self, limits};
use super::state::AppState;
use crate::error::{Notice, PortalError};
use crate::model::{LedgerEntry, LedgerPage, LedgerQuery};

/// A page of entries; completed ones carry their object's link.
pub async fn page(
    state: &AppState,
    query: &LedgerQuery,
    only_user: Option<&str>,
) -> Result<LedgerPage, PortalError> {
    let mut page = state
        .ledger
        .page(query, only_user)
        .await
        .map_err(limits::ledger_failed)?;
    page.entries.iter_mut().for_each(link_stored);
    Ok(page)
}

/// Gives an entry its object's link while the object is stored (completed, not deleted).
pub fn link_stored(entry: &mut LedgerEntry) {
    if entry.completed_at.is_some() && entry.deleted_at.is_none() {
        entry.url = object_link(&entry.key);
    }
}

/// The portal's link to a stored object: it redirects to the object's URL when followed (a
/// presigned one is fresh then, however old the page).
pub fn object_link(key: &str) -> String {
    format!(
        "/object?key={}",
        percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// `GET /object?key=…`: to the stored object (a presigned GET that downloads it under its
/// picked name), for its uploader (inside their root) or an
/// administrator, when the ledger holds it as stored; 404 otherwise (nothing tells whether
/// someone else's key exists).
pub async fn object(State(state): State<AppState>, parts: Parts) -> Response {
    let from = access::requester_of(&state.access, &parts);
    let viewer = match access::viewer(&state.access, &state.ledger, &from).await {
        Ok(viewer) => viewer,
        Err(error) => return refused(error),
    };
    #[derive(serde::Deserialize)]
    struct Wanted {
        key: String,
    }
    let Ok(Query(Wanted { key })) = Query::<Wanted>::try_from_uri(&parts.uri) else {
        return refused(PortalError::Invalid(Notice::NotAnUpload));
    };
    let mine = key.starts_with(&viewer.root);
    let owner = (!viewer.admin).then_some(viewer.name.as_str());
    let stored =
        if key.is_empty() || key.len() > crate::naming::MAX_KEY_BYTES || !(mine || viewer.admin) {
            None
        } else {
            match state.ledger.latest_for_key(&key, owner).await {
                Ok(entry) => entry.filter(|e| e.completed_at.is_some() && e.deleted_at.is_none()),
                Err(error) => return refused(limits::ledger_failed(error)),
            }
        };
    let Some(entry) = stored else {
        return (StatusCode::NOT_FOUND, "No such upload.").into_response();
    };
    // Under the name it was picked with (a random key's last part otherwise).
    let name = match entry.file_name.as_str() {
        "" => entry.key.rsplit('/').next().unwrap_or(&entry.key),
        name => name,
    };
    match state
        .target
        .download_url(&entry.key, name, &entry.content_type)
        .await
    {
        Ok(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
        Err(error) => {
            tracing::error!(%error, "no download link could be signed");
            refused(PortalError::Unavailable)
        }
    }
}

/// A refusal as plain text with its status.
/// A refusal as a plain-text reply (these routes answer browsers following links).
pub fn refused(error: PortalError) -> Response {
    let status =
        StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, error.to_string()).into_response()
}

/// Admin filters within sane bounds: a user name as accounts have them (or empty), a key
/// prefix as keys can be, a page number.
pub fn checked_query(query: LedgerQuery) -> Result<LedgerQuery, PortalError> {
    let user = query.user.trim();
    let fine = (user.is_empty() || access::accounts::valid_name(user) || user == "open")
        && query.key_prefix.len() <= 1023
        && !query.key_prefix.contains('\0')
        && query.page <= 1_000_000;
    if !fine {
        return Err(PortalError::Invalid(Notice::BadFilter));
    }
    Ok(LedgerQuery {
        user: user.to_owned(),
        page: query.page.max(1),
        ..query
    })
}

/// The filtered ledger as CSV, for administrators.
pub async fn export_csv(State(state): State<AppState>, parts: Parts) -> Response {
    let from = access::requester_of(&state.access, &parts);
    let query = Query::<LedgerQuery>::try_from_uri(&parts.uri).ok();
    if let Err(error) = access::admin(&state.access, &state.ledger, &from).await {
        return refused(error);
    }
    let Some(Query(query)) = query else {
        return refused(PortalError::Invalid(Notice::BadFilter));
    };
    let query = match checked_query(query) {
        Ok(query) => query,
        Err(error) => return refused(error),
    };
    match state.ledger.export(&query).await {
        Ok(entries) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"uploads.csv\"",
                ),
                // Who uploaded what, from where: not for any cache to keep.
                (header::CACHE_CONTROL, "no-store"),
            ],
            to_csv(&entries),
        )
            .into_response(),
        Err(error) => refused(limits::ledger_failed(error)),
    }
}

/// The CSV export: a header line, then one line per entry (RFC 4180 quoting).
pub fn to_csv(entries: &[LedgerEntry]) -> String {
    fn field(out: &mut String, value: &str) {
        // A leading = + - @ would make a spreadsheet run the cell as a formula.
        let guarded = if value.starts_with(['=', '+', '-', '@']) {
            format!("'{value}")
        } else {
            value.to_owned()
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&guarded.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&guarded);
        }
    }
    let mut out = String::from(
        "id,user,key,declared_size,content_type,signed_at,expires_at,completed_at,etag,stored_size,completed_by,client_ip,user_agent,file_name,deleted_at,deleted_by,request_id,sender_name,sender_note\r\n",
    );
    for e in entries {
        let time = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        };
        let cells = [
            e.id.clone(),
            e.user.clone(),
            e.key.clone(),
            e.declared_size.to_string(),
            e.content_type.clone(),
            time(e.signed_at),
            time(e.expires_at),
            e.completed_at.map(time).unwrap_or_default(),
            e.etag.clone().unwrap_or_default(),
            e.stored_size.map(|s| s.to_string()).unwrap_or_default(),
            e.completed_by.clone().unwrap_or_default(),
            e.client_ip.clone(),
            e.user_agent.clone(),
            e.file_name.clone(),
            e.deleted_at.map(time).unwrap_or_default(),
            e.deleted_by.clone().unwrap_or_default(),
            e.request_id.clone(),
            e.sender_name.clone(),
            e.sender_note.clone(),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, cell);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str, key: &str) -> LedgerEntry {
        LedgerEntry {
            id: id.into(),
            user: "alice".into(),
            key: key.into(),
            url: String::new(),
            declared_size: 3,
            content_type: "text/plain".into(),
            signed_at: 0,
            expires_at: 300,
            completed_at: Some(10),
            etag: Some("ABC".into()),
            stored_size: Some(3),
            completed_by: Some("head".into()),
            client_ip: "127.0.0.1".into(),
            user_agent: "Mozilla/5.0 (X11, Linux) \"quoted\"".into(),
            file_name: "a,b.txt".into(),
            deleted_at: None,
            deleted_by: None,
            request_id: String::new(),
            sender_name: String::new(),
            sender_note: String::new(),
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_defuses_formulas() {
        let csv = to_csv(&[sample("1", "uploads/a,b.txt"), sample("2", "=cmd|x")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with("id,user,key,declared_size"));
        assert!(
            lines[1].starts_with("1,alice,\"uploads/a,b.txt\",3,text/plain,1970-01-01T00:00:00Z,")
        );
        assert!(lines[1].ends_with(",\"Mozilla/5.0 (X11, Linux) \"\"quoted\"\"\",\"a,b.txt\",,,,,"));
        assert!(lines[2].starts_with("2,alice,'=cmd|x,"));
        assert_eq!(lines.len(), 4);
    }
}
