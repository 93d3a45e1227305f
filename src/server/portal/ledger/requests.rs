//! Upload requests in the ledger's database: created, found by id or by the SHA-256 of their
//! link's token, closed; and what arrived through each (counted from the uploads they signed).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::writer::Param;
use super::{entry, size_i64, Ledger, ENTRY_COLUMNS};
use crate::model::{LedgerEntry, NamingMode};
use crate::server::portal::requests::webhook::WebhookKind;
use crate::server::portal::requests::{Received, UploadRequest};

const REQUEST_COLUMNS: &str = "id, creator, title, instructions, folder, naming, created_at, \
     expires_at, closed_at, max_files, max_file_size, max_total_bytes, allowed_types, \
     password_hash, ask_name, ask_note, sender_folders, webhook_url, webhook_kind, \
     webhook_status, webhook_at";

impl Ledger {
    /// Stores a new request; `token_hash` is the SHA-256 of its link's token, hex.
    pub async fn create_request(
        &self,
        request: &UploadRequest,
        token_hash: &str,
    ) -> Result<(), sqlx::Error> {
        let flag = |b: bool| Param::Int(i64::from(b));
        self.writes
            .execute(
                "INSERT INTO requests (id, token_hash, creator, title, instructions, folder, \
                 naming, created_at, expires_at, max_files, max_file_size, max_total_bytes, \
                 allowed_types, password_hash, ask_name, ask_note, sender_folders, webhook_url, \
                 webhook_kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15, $16, $17, $18, $19)",
                vec![
                    Param::Text(request.id.clone()),
                    Param::Text(token_hash.to_owned()),
                    Param::Text(request.creator.clone()),
                    Param::Text(request.title.clone()),
                    Param::Text(request.instructions.clone()),
                    Param::Text(request.folder.clone()),
                    Param::Text(naming_text(request.naming).to_owned()),
                    Param::Int(request.created_at),
                    Param::Int(request.expires_at),
                    Param::Int(size_i64(request.max_files)),
                    Param::Int(size_i64(request.max_file_size)),
                    Param::Int(size_i64(request.max_total_bytes)),
                    Param::Text(request.allowed_types.join(",")),
                    Param::Text(request.password_hash.clone()),
                    flag(request.ask_name),
                    flag(request.ask_note),
                    flag(request.sender_folders),
                    Param::Text(request.webhook_url.clone()),
                    Param::Text(request.webhook_kind.as_str().to_owned()),
                ],
            )
            .await?;
        Ok(())
    }

    pub async fn request(&self, id: &str) -> Result<Option<UploadRequest>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| request(&r))
        .transpose()
    }

    /// The request whose link's token hashes to `token_hash`.
    pub async fn request_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<UploadRequest>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| request(&r))
        .transpose()
    }

    /// `creator`'s requests (everyone's for `None`), newest first, at most `limit`.
    pub async fn requests(
        &self,
        creator: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UploadRequest>, sqlx::Error> {
        let rows = match creator {
            Some(creator) => {
                sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests WHERE creator = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(creator)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests \
                     ORDER BY created_at DESC, id DESC LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(request).collect()
    }

    /// Closes an open request; true when this call closed it.
    pub async fn close_request(&self, id: &str, at: i64) -> Result<bool, sqlx::Error> {
        let done = self
            .writes
            .execute(
                "UPDATE requests SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
                vec![Param::Int(at), Param::Text(id.to_owned())],
            )
            .await?;
        Ok(done == 1)
    }

    /// How the last delivery to a request's webhook went.
    pub async fn webhook_delivered(
        &self,
        id: &str,
        status: &str,
        at: i64,
    ) -> Result<(), sqlx::Error> {
        self.writes
            .execute(
                "UPDATE requests SET webhook_status = $1, webhook_at = $2 WHERE id = $3",
                vec![
                    Param::Text(status.to_owned()),
                    Param::Int(at),
                    Param::Text(id.to_owned()),
                ],
            )
            .await?;
        Ok(())
    }

    /// What arrived through a request: its uploads not deleted, stored or still able to be
    /// (tickets not yet forgotten by the sweep), by stored or else declared size.
    pub async fn received(&self, request_id: &str) -> Result<Received, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN completed_at IS NOT NULL \
             THEN stored_size ELSE declared_size END), 0) AS BIGINT) AS bytes \
             FROM uploads WHERE request_id = $1 AND deleted_at IS NULL",
        )
        .bind(request_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Received {
            files: row.try_get::<i64, _>("n")?.max(0) as u64,
            bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
        })
    }

    /// The stored uploads of a request completed at `since` (Unix seconds) or later, in the
    /// order they arrived (up to the CSV export's limit).
    pub async fn arrivals(
        &self,
        request_id: &str,
        since: i64,
    ) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM uploads \
             WHERE request_id = $1 AND completed_at >= $2 \
             ORDER BY completed_at, id LIMIT $3"
        ))
        .bind(request_id)
        .bind(since)
        .bind(i64::from(super::EXPORT_LIMIT))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry)
        .collect()
    }
}

impl Ledger {
    /// The stored uploads of one sender (`name`, `note`) of a request that no batch message
    /// has told yet, marked as told (atomically: two calls at once never take the same
    /// upload), in the order they arrived.
    pub async fn take_batch(
        &self,
        request_id: &str,
        name: &str,
        note: &str,
    ) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        let batch = super::new_id(time::OffsetDateTime::now_utc());
        let taken = self
            .writes
            .execute(
                "UPDATE uploads SET batch_id = $1 WHERE request_id = $2 AND sender_name = $3 \
                 AND sender_note = $4 AND completed_at IS NOT NULL AND deleted_at IS NULL \
                 AND batch_id = ''",
                vec![
                    Param::Text(batch.clone()),
                    Param::Text(request_id.to_owned()),
                    Param::Text(name.to_owned()),
                    Param::Text(note.to_owned()),
                ],
            )
            .await?;
        if taken == 0 {
            return Ok(Vec::new());
        }
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM uploads WHERE request_id = $1 AND batch_id = $2 \
             ORDER BY completed_at, id"
        ))
        .bind(request_id)
        .bind(batch)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry)
        .collect()
    }
}

fn naming_text(naming: NamingMode) -> &'static str {
    match naming {
        NamingMode::Random => "random",
        NamingMode::Original => "original",
    }
}

fn request(row: &AnyRow) -> Result<UploadRequest, sqlx::Error> {
    let count = |column: &str| -> Result<u64, sqlx::Error> {
        Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
    };
    let flag =
        |column: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(column)? != 0) };
    let types: String = row.try_get("allowed_types")?;
    Ok(UploadRequest {
        id: row.try_get("id")?,
        creator: row.try_get("creator")?,
        title: row.try_get("title")?,
        instructions: row.try_get("instructions")?,
        folder: row.try_get("folder")?,
        naming: match row.try_get::<String, _>("naming")?.as_str() {
            "original" => NamingMode::Original,
            _ => NamingMode::Random,
        },
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        closed_at: row.try_get("closed_at")?,
        max_files: count("max_files")?,
        max_file_size: count("max_file_size")?,
        max_total_bytes: count("max_total_bytes")?,
        allowed_types: types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        password_hash: row.try_get("password_hash")?,
        ask_name: flag("ask_name")?,
        ask_note: flag("ask_note")?,
        sender_folders: flag("sender_folders")?,
        webhook_url: row.try_get("webhook_url")?,
        webhook_kind: WebhookKind::parse(&row.try_get::<String, _>("webhook_kind")?),
        webhook_status: row.try_get("webhook_status")?,
        webhook_at: row.try_get("webhook_at")?,
    })
}
