//! The upload ledger and the login sessions, in SQLite (a file, by default) or PostgreSQL
//! (`DATABASE_URL`), read through sqlx and written through `writer.rs`. Created and migrated at
//! start. Every instance of the portal behind a load balancer shares it; it is the portal's
//! only state.

mod requests;
mod sessions;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use self::writer::{Param, SqliteWriter, Writes};
use crate::model::{EntryState, LedgerEntry, LedgerPage, LedgerQuery};

pub use self::sessions::SessionRecord;

/// Entries per page of "My uploads" and of the admin page.
pub const PAGE_SIZE: u32 = 50;
/// Rows of one CSV export (newest first).
pub const EXPORT_LIMIT: u32 = 100_000;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Ledger {
    /// Reads.
    pool: AnyPool,
    /// Writes. SQLite has one writer at a time: its writes share one connection of their
    /// own and are committed together. PostgreSQL: the pool, and a task grouping tickets.
    writes: Writes,
    /// `sqlite` or `postgres`, for logs and readiness.
    pub engine: &'static str,
}

/// A signed upload, as recorded when its ticket is signed.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub id: String,
    pub user: String,
    pub key: String,
    pub declared_size: u64,
    pub content_type: String,
    pub signed_at: i64,
    pub expires_at: i64,
    pub client_ip: String,
    pub user_agent: String,
    pub kind: TicketKind,
    /// The file's name as picked (cleaned); empty for a plain form, whose key carries it.
    pub file_name: String,
    /// The upload request it was sent through, and the sender's name and note (all empty
    /// for the portal's own users).
    pub request_id: String,
    pub sender_name: String,
    pub sender_note: String,
}

/// What a ticket lets its holder store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketKind {
    /// One POST of an exact key, size and type.
    File,
    /// The plain form: any file name under the entry's key prefix, up to its declared size.
    Form,
    /// An upload in parts of an exact key and size, completed by the portal.
    Multipart,
}

impl TicketKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            TicketKind::File => "file",
            TicketKind::Form => "form",
            TicketKind::Multipart => "multipart",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "form" => TicketKind::Form,
            "multipart" => TicketKind::Multipart,
            _ => TicketKind::File,
        }
    }
}

/// How a completion was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletedBy {
    Callback,
    Head,
    Multipart,
    /// The sweep found the object after its ticket expired, never confirmed.
    Sweep,
}

impl CompletedBy {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CompletedBy::Callback => "callback",
            CompletedBy::Head => "head",
            CompletedBy::Multipart => "multipart",
            CompletedBy::Sweep => "sweep",
        }
    }
}

/// An entry whose ticket expired and whose storage the sweep has not checked yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiredTicket {
    pub id: String,
    pub user: String,
    /// The object's key (a plain form's key prefix until it completes).
    pub key: String,
    pub declared_size: u64,
    pub content_type: String,
    pub kind: TicketKind,
    pub completed: bool,
}

/// A new row's id (an upload's entry, an upload request): a UUIDv7, time-ordered, so each new
/// row goes at the end of its table's id index instead of into a random page of it (one page
/// less to write per ticket), with 74 random bits from the thread's CSPRNG.
pub fn new_id(now: time::OffsetDateTime) -> String {
    let millis = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .simple()
        .to_string()
}

const ENTRY_COLUMNS: &str = "id, user_name, object_key, declared_size, content_type, signed_at, \
     expires_at, client_ip, user_agent, completed_at, etag, stored_size, completed_by, file_name, \
     deleted_at, deleted_by, request_id, sender_name, sender_note";

/// The page size of a SQLite ledger. A ticket's row and index entries are small, and each
/// commit writes every page it touched into the WAL: 1 KiB pages write a quarter of the bytes
/// 4 KiB pages do, and the ledger's syncs hold up signing far less (bench/REPORT.md, #19).
const SQLITE_PAGE_BYTES: u32 = 1024;

/// A ledger with other pages no larger than this is rewritten with 1 KiB pages at start
/// (VACUUM copies the file: seconds). A larger one is left as it is, with a warning.
const REPAGE_AT_START_BYTES: u64 = 256 << 20;

/// How an operator rewrites a ledger the portal left with other pages (with the portal stopped).
const REPAGE_BY_HAND: &str = "sqlite3 <ledger file> 'PRAGMA journal_mode=DELETE; \
     PRAGMA page_size=1024; VACUUM; PRAGMA journal_mode=WAL;'";

/// The options a SQLite ledger's file is opened with first: created when missing, with
/// [`SQLITE_PAGE_BYTES`] pages (set before WAL: a WAL file's page size is fixed), in WAL mode.
fn sqlite_options(url: &str) -> Result<sqlx::sqlite::SqliteConnectOptions, sqlx::Error> {
    Ok(sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .page_size(SQLITE_PAGE_BYTES)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal))
}

/// Moves a SQLite ledger made with other pages (before 1 KiB pages were chosen) to
/// [`SQLITE_PAGE_BYTES`], once, while no other connection is open. If the rewrite fails
/// (another process has the file open), the ledger keeps its pages and the portal starts; if
/// the page size cannot be read or WAL mode cannot be set again, the start fails.
async fn to_small_pages(
    connection: &mut sqlx::SqliteConnection,
    file: &std::path::Path,
) -> Result<(), sqlx::Error> {
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *connection)
        .await?;
    if page == i64::from(SQLITE_PAGE_BYTES) {
        return Ok(());
    }
    let bytes = std::fs::metadata(file).map_or(u64::MAX, |m| m.len());
    if bytes > REPAGE_AT_START_BYTES {
        tracing::warn!(
            file = %file.display(),
            page,
            bytes,
            "the ledger keeps its {page}-byte pages (too large to rewrite at start); with the \
             portal stopped, `{REPAGE_BY_HAND}` rewrites it"
        );
        return Ok(());
    }
    // The page size of a WAL database is fixed: out of WAL, VACUUM with the new size, back.
    let rewritten = rewrite_pages(connection).await;
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut *connection)
        .await?;
    match rewritten {
        Ok(()) => tracing::info!(from = page, "the ledger was rewritten with 1 KiB pages"),
        Err(error) => tracing::warn!(
            file = %file.display(),
            %error,
            page,
            "the ledger keeps its {page}-byte pages; with the portal stopped, \
             `{REPAGE_BY_HAND}` rewrites it"
        ),
    }
    Ok(())
}

/// Out of WAL mode (which only a connection alone on the file can leave), then VACUUM with
/// [`SQLITE_PAGE_BYTES`]. The caller puts the file back in WAL mode whatever happened.
async fn rewrite_pages(connection: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut *connection)
        .await?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(sqlx::Error::Protocol(format!(
            "the journal mode stayed {mode}"
        )));
    }
    sqlx::query(&format!("PRAGMA page_size = {SQLITE_PAGE_BYTES}"))
        .execute(&mut *connection)
        .await?;
    sqlx::query("VACUUM").execute(&mut *connection).await?;
    Ok(())
}

impl Ledger {
    /// Connects (creating the SQLite file when missing) and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("postgres") {
            "postgres"
        } else if url.starts_with("sqlite:") {
            "sqlite"
        } else {
            return Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ));
        };
        // SQLite: the file its writer opens beside the read pool.
        let (pool, sqlite_file) = if engine == "sqlite" {
            // The Any driver cannot set SQLite's options: open once natively to create the
            // file and switch it to WAL (a setting kept in the file), then pool through Any.
            let options = sqlite_options(url)?;
            use sqlx::ConnectOptions;
            let mut connection = options.connect().await?;
            to_small_pages(&mut connection, options.get_filename()).await?;
            sqlx::Connection::close(connection).await?;
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            (pool, Some(options.get_filename().to_owned()))
        } else {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            (pool, None)
        };
        MIGRATIONS.run(&pool).await?;
        let writes = match sqlite_file {
            Some(file) => {
                Writes::Sqlite(SqliteWriter::open(&file).map_err(sqlx::Error::Configuration)?)
            }
            None => Writes::postgres(pool.clone()),
        };
        Ok(Ledger {
            pool,
            writes,
            engine,
        })
    }

    /// The PostgreSQL pool (for announcements between instances); `None` on SQLite.
    pub fn postgres_pool(&self) -> Option<AnyPool> {
        (self.engine == "postgres").then(|| self.pool.clone())
    }

    /// The upload request an entry was signed through (empty when none).
    pub async fn request_of(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT request_id FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get::<String, _>("request_id"))
            .transpose()
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Records signed tickets, all or none, and returns once they are committed. Concurrent
    /// requests share a commit (group commit): one transaction for all of them instead of one
    /// each, which is what signing throughput was spent on.
    pub async fn record_signed(&self, entries: Vec<NewEntry>) -> Result<(), sqlx::Error> {
        if entries.is_empty() {
            return Ok(());
        }
        self.writes.record(entries).await
    }

    /// The newest signed entry for `key` (of `user`, when given).
    pub async fn latest_for_key(
        &self,
        key: &str,
        user: Option<&str>,
    ) -> Result<Option<LedgerEntry>, sqlx::Error> {
        let row = match user {
            Some(user) => {
                sqlx::query(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM uploads WHERE object_key = $1 AND user_name = $2 \
                     ORDER BY signed_at DESC, id DESC LIMIT 1"
                ))
                .bind(key)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM uploads WHERE object_key = $1 \
                     ORDER BY signed_at DESC, id DESC LIMIT 1"
                ))
                .bind(key)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        row.map(|r| entry(&r)).transpose()
    }

    /// The keys and file names (as picked) of `user`'s latest stored uploads of their own (not
    /// through a request), newest first, at most `limit`.
    pub async fn latest_uploads(
        &self,
        user: &str,
        limit: u32,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query(
            "SELECT object_key, file_name FROM uploads WHERE user_name = $1 AND request_id = '' \
             AND completed_at IS NOT NULL AND deleted_at IS NULL \
             ORDER BY signed_at DESC LIMIT $2",
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("object_key")?, row.try_get("file_name")?)))
        .collect()
    }

    pub async fn entry(&self, id: &str) -> Result<Option<LedgerEntry>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM uploads WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| entry(&r))
        .transpose()
    }

    /// Marks an entry complete with what the storage reported: the object's key (a plain-form
    /// entry was signed for a key prefix) and size. An entry already complete keeps its first
    /// completion; true when this call completed it. A plain form stays to be checked by the
    /// sweep once its ticket expires (whatever else it stored is found then).
    pub async fn complete(
        &self,
        id: &str,
        key: &str,
        etag: &str,
        stored_size: u64,
        by: CompletedBy,
        at: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = self
            .writes
            .execute(
                "UPDATE uploads SET object_key = $1, declared_size = $2, completed_at = $3, \
                 etag = $4, stored_size = $5, completed_by = $6, \
                 checked_at = CASE WHEN kind = 'form' THEN checked_at ELSE $3 END \
                 WHERE id = $7 AND completed_at IS NULL",
                vec![
                    Param::Text(key.to_owned()),
                    Param::Int(size_i64(stored_size)),
                    Param::Int(at),
                    Param::Text(etag.to_owned()),
                    Param::Int(size_i64(stored_size)),
                    Param::Text(by.as_str().to_owned()),
                    Param::Text(id.to_owned()),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Marks a stored entry's object deleted (by `by`, at `at`); true when this call did.
    pub async fn mark_deleted(&self, id: &str, by: &str, at: i64) -> Result<bool, sqlx::Error> {
        let done = self
            .writes
            .execute(
                "UPDATE uploads SET deleted_at = $1, deleted_by = $2 \
                 WHERE id = $3 AND completed_at IS NOT NULL AND deleted_at IS NULL",
                vec![
                    Param::Int(at),
                    Param::Text(by.to_owned()),
                    Param::Text(id.to_owned()),
                ],
            )
            .await?;
        Ok(done == 1)
    }

    /// Bytes `user` stored or holds tickets for since `since`: completed uploads count their
    /// stored size, every other entry its declared size, expired or not, until the sweep has
    /// looked at the storage (an upload nobody confirmed is still an upload).
    pub async fn bytes_since(&self, user: &str, since: i64) -> Result<u64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN completed_at IS NOT NULL THEN stored_size \
             ELSE declared_size END), 0) AS BIGINT) AS used \
             FROM uploads WHERE user_name = $1 AND signed_at >= $2",
        )
        .bind(user)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("used")?.max(0) as u64)
    }

    /// Tickets of `user` neither completed nor forgotten by the sweep yet.
    pub async fn pending_count(&self, user: &str) -> Result<u64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM uploads WHERE user_name = $1 AND completed_at IS NULL",
        )
        .bind(user)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
    }

    /// Up to `limit` entries whose tickets expired before `now` and whose storage nobody
    /// checked since: uploads never confirmed, unused tickets, and every plain form (one
    /// ticket, one file: what else it stored is found here). Oldest first.
    pub async fn expired_unchecked(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<ExpiredTicket>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, user_name, object_key, declared_size, content_type, kind, completed_at \
             FROM uploads WHERE checked_at IS NULL AND expires_at < $1 \
             ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExpiredTicket {
                    id: r.try_get("id")?,
                    user: r.try_get("user_name")?,
                    key: r.try_get("object_key")?,
                    declared_size: r.try_get::<i64, _>("declared_size")?.max(0) as u64,
                    content_type: r.try_get("content_type")?,
                    kind: TicketKind::parse(&r.try_get::<String, _>("kind")?),
                    completed: r.try_get::<Option<i64>, _>("completed_at")?.is_some(),
                })
            })
            .collect()
    }

    /// The sweep has looked at this entry's storage: it is not looked at again.
    pub async fn mark_checked(&self, id: &str, at: i64) -> Result<(), sqlx::Error> {
        self.writes
            .execute(
                "UPDATE uploads SET checked_at = $1 WHERE id = $2",
                vec![Param::Int(at), Param::Text(id.to_owned())],
            )
            .await?;
        Ok(())
    }

    /// Forgets a ticket that stored nothing (never a completed upload).
    pub async fn forget_unused(&self, id: &str) -> Result<bool, sqlx::Error> {
        let gone = self
            .writes
            .execute(
                "DELETE FROM uploads WHERE id = $1 AND completed_at IS NULL",
                vec![Param::Text(id.to_owned())],
            )
            .await?;
        Ok(gone == 1)
    }

    /// The kind of ticket an entry was signed as.
    pub async fn kind(&self, id: &str) -> Result<Option<TicketKind>, sqlx::Error> {
        let row = sqlx::query("SELECT kind FROM uploads WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            r.try_get::<String, _>("kind")
                .map(|k| TicketKind::parse(&k))
        })
        .transpose()
    }

    /// When the oldest entry of `user` counted since `since` leaves the 24-hour window.
    pub async fn oldest_since(&self, user: &str, since: i64) -> Result<Option<i64>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT MIN(signed_at) AS oldest FROM uploads WHERE user_name = $1 AND signed_at >= $2",
        )
        .bind(user)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        row.try_get::<Option<i64>, _>("oldest")
    }

    /// One page of entries matching `query`, newest first. `user` set restricts to that
    /// user (the "My uploads" page), whatever the query says.
    pub async fn page(
        &self,
        query: &LedgerQuery,
        only_user: Option<&str>,
    ) -> Result<LedgerPage, sqlx::Error> {
        let page = query.page.max(1);
        let (filter, binds) = filter_sql(query, only_user);
        let count_sql = format!("SELECT COUNT(*) AS n FROM uploads{filter}");
        let mut count = sqlx::query(&count_sql);
        for value in &binds {
            count = count.bind(value.clone());
        }
        let total = count
            .fetch_one(&self.pool)
            .await?
            .try_get::<i64, _>("n")?
            .max(0) as u64;
        let offset = i64::from(page - 1) * i64::from(PAGE_SIZE);
        let rows = self.select(&filter, &binds, PAGE_SIZE, offset).await?;
        Ok(LedgerPage {
            entries: rows,
            page,
            pages: total.div_ceil(u64::from(PAGE_SIZE)).max(1) as u32,
            total,
            deletable: false,
        })
    }

    /// Every entry matching `query` (up to [`EXPORT_LIMIT`]), newest first, for CSV export.
    pub async fn export(&self, query: &LedgerQuery) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        let (filter, binds) = filter_sql(query, None);
        self.select(&filter, &binds, EXPORT_LIMIT, 0).await
    }

    async fn select(
        &self,
        filter: &str,
        binds: &[String],
        limit: u32,
        offset: i64,
    ) -> Result<Vec<LedgerEntry>, sqlx::Error> {
        let n = binds.len();
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM uploads{filter} ORDER BY signed_at DESC, id DESC \
             LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut select = sqlx::query(&sql);
        for value in binds {
            select = select.bind(value.clone());
        }
        select
            .bind(i64::from(limit))
            .bind(offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry)
            .collect()
    }
}

/// ` WHERE ...` for a query (empty when it filters nothing) and its text binds, in order.
fn filter_sql(query: &LedgerQuery, only_user: Option<&str>) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let user = only_user.unwrap_or(query.user.trim());
    if !user.is_empty() {
        binds.push(user.to_owned());
        clauses.push(format!("user_name = ${}", binds.len()));
    }
    if only_user.is_none() && !query.key_prefix.is_empty() {
        // A prefix match by range, so `%` and `_` in keys are plain characters.
        binds.push(query.key_prefix.clone());
        clauses.push(format!(
            "substr(object_key, 1, length(${0})) = ${0}",
            binds.len()
        ));
    }
    match query.state {
        EntryState::All => {}
        EntryState::Completed => clauses.push("completed_at IS NOT NULL".into()),
        EntryState::Pending => clauses.push("completed_at IS NULL".into()),
    }
    if clauses.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", clauses.join(" AND ")), binds)
    }
}

fn size_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn entry(row: &AnyRow) -> Result<LedgerEntry, sqlx::Error> {
    let size = |v: i64| v.max(0) as u64;
    Ok(LedgerEntry {
        id: row.try_get("id")?,
        user: row.try_get("user_name")?,
        key: row.try_get("object_key")?,
        url: String::new(),
        declared_size: size(row.try_get("declared_size")?),
        content_type: row.try_get("content_type")?,
        signed_at: row.try_get("signed_at")?,
        expires_at: row.try_get("expires_at")?,
        completed_at: row.try_get("completed_at")?,
        etag: row.try_get("etag")?,
        stored_size: row.try_get::<Option<i64>, _>("stored_size")?.map(size),
        completed_by: row.try_get("completed_by")?,
        client_ip: row.try_get("client_ip")?,
        user_agent: row.try_get("user_agent")?,
        file_name: row.try_get("file_name")?,
        deleted_at: row.try_get("deleted_at")?,
        deleted_by: row.try_get("deleted_by")?,
        request_id: row.try_get("request_id")?,
        sender_name: row.try_get("sender_name")?,
        sender_note: row.try_get("sender_note")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new ledger's file is made with 1 KiB pages by the options it is first opened with,
    /// not rewritten after (a commit writes each page it touched into the WAL).
    #[tokio::test]
    async fn a_new_ledger_file_is_made_with_small_pages() {
        use sqlx::ConnectOptions;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ledger.sqlite");
        let url = format!("sqlite://{}", file.display());
        let mut connection = sqlite_options(&url).unwrap().connect().await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&mut connection)
            .await
            .unwrap();
        sqlx::Connection::close(connection).await.unwrap();
        let made = rusqlite::Connection::open(&file).unwrap();
        let page: i64 = made
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap();
        let mode: String = made
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!((page, mode.as_str()), (1024, "wal"));
    }

    #[test]
    fn filters_bind_in_order() {
        let query = LedgerQuery {
            user: "bob".into(),
            key_prefix: "uploads/x_".into(),
            state: EntryState::Completed,
            page: 2,
        };
        let (sql, binds) = filter_sql(&query, None);
        assert_eq!(
            sql,
            " WHERE user_name = $1 AND substr(object_key, 1, length($2)) = $2 AND completed_at IS NOT NULL"
        );
        assert_eq!(binds, vec!["bob".to_owned(), "uploads/x_".to_owned()]);
        // "My uploads": only the viewer, whatever the query asks.
        let (sql, binds) = filter_sql(&query, Some("alice"));
        assert_eq!(sql, " WHERE user_name = $1 AND completed_at IS NOT NULL");
        assert_eq!(binds, vec!["alice".to_owned()]);
    }
}
