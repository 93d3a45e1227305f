//! The ledger's writes. SQLite: one connection of the portal's own, taken by whichever request
//! finds it free, which commits everything waiting in one transaction. PostgreSQL: a task that
//! inserts the signed tickets waiting together; its other writes go straight to the pool.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rusqlite::types::Value;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{size_i64, NewEntry};

/// A value bound to a statement's `$n`.
#[derive(Clone, Debug)]
pub(super) enum Param {
    Int(i64),
    Text(String),
}

/// Where the ledger's writes go.
#[derive(Clone)]
pub(super) enum Writes {
    Sqlite(Arc<SqliteWriter>),
    Postgres {
        pool: AnyPool,
        tickets: mpsc::Sender<Pending>,
    },
}

impl Writes {
    /// PostgreSQL's writes: statements on `pool`, tickets through a grouping task.
    pub(super) fn postgres(pool: AnyPool) -> Self {
        let (tickets, waiting) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(group_commits(pool.clone(), waiting));
        Writes::Postgres { pool, tickets }
    }

    /// Records `entries`, all or none, once committed.
    pub(super) async fn record(&self, entries: Vec<NewEntry>) -> Result<(), sqlx::Error> {
        match self {
            Writes::Sqlite(writer) => writer.write(Write::Tickets(entries)).await.map(|_| ()),
            Writes::Postgres { tickets, .. } => {
                let (done, committed) = oneshot::channel();
                let pending = Pending { entries, done };
                tickets.send(pending).await.map_err(|_| gone())?;
                committed.await.map_err(|_| gone())?.map_err(failed)
            }
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub(super) async fn execute(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> Result<u64, sqlx::Error> {
        match self {
            Writes::Sqlite(writer) => writer.write(Write::Statement { sql, params }).await,
            Writes::Postgres { pool, .. } => {
                let mut query = sqlx::query(sql);
                for param in params {
                    query = match param {
                        Param::Int(n) => query.bind(n),
                        Param::Text(s) => query.bind(s),
                    };
                }
                Ok(query.execute(pool).await?.rows_affected())
            }
        }
    }
}

fn gone() -> sqlx::Error {
    sqlx::Error::PoolClosed
}

fn failed(error: String) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the ledger write failed: {error}"))
}

/// One write waiting for the SQLite connection.
pub(super) enum Write {
    /// Signed tickets: their rows, all or none.
    Tickets(Vec<NewEntry>),
    /// Any other statement of the ledger.
    Statement {
        sql: &'static str,
        params: Vec<Param>,
    },
}

struct Job {
    write: Write,
    done: oneshot::Sender<Result<u64, String>>,
}

/// The SQLite ledger's one writing connection. A request queues its write, then takes the
/// connection if it is free and commits every write waiting (its own and others') in one
/// transaction; if it is taken, its holder commits the write before letting go. No thread is
/// woken to write, and concurrent requests share a commit. A commit is a write into the WAL
/// (`synchronous = NORMAL`: kept across a killed process); checkpoints, which sync the disk,
/// run on a thread of their own, never inside a request, and only after something was written.
pub(super) struct SqliteWriter {
    waiting: Mutex<Vec<Job>>,
    connection: Mutex<rusqlite::Connection>,
    /// Written since the last checkpoint.
    dirty: AtomicBool,
}

/// How often the checkpoint thread moves the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

impl SqliteWriter {
    /// Opens the writing connection on the database at `path` (in WAL mode already), and the
    /// checkpoint thread.
    pub(super) fn open(path: &Path) -> Result<Arc<Self>, sqlx::error::BoxDynError> {
        let connection = rusqlite::Connection::open(path)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = rusqlite::Connection::open(path)?;
        checkpoints.busy_timeout(Duration::from_secs(5))?;
        let writer = Arc::new(SqliteWriter {
            waiting: Mutex::new(Vec::new()),
            connection: Mutex::new(connection),
            dirty: AtomicBool::new(false),
        });
        let alive = Arc::downgrade(&writer);
        std::thread::Builder::new()
            .name("ledger-checkpoint".into())
            .spawn(move || loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                let Some(writer) = alive.upgrade() else {
                    return;
                };
                if !writer.dirty.swap(false, Ordering::Relaxed) {
                    continue;
                }
                drop(writer);
                if let Err(error) =
                    checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%error, "the ledger's checkpoint failed");
                }
            })?;
        Ok(writer)
    }

    /// Queues `write` and returns once it is committed: the rows it changed.
    pub(super) async fn write(self: &Arc<Self>, write: Write) -> Result<u64, sqlx::Error> {
        let (done, committed) = oneshot::channel();
        lock(&self.waiting).push(Job { write, done });
        self.commit_waiting();
        committed.await.map_err(|_| gone())?.map_err(failed)
    }

    /// Commits what is waiting if the connection is free. Whoever holds it looks again after
    /// letting go: a write queued meanwhile is committed by a task spawned for it, so no
    /// request's worker writes for others without end.
    fn commit_waiting(self: &Arc<Self>) {
        let connection = match self.connection.try_lock() {
            Ok(connection) => connection,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let jobs = std::mem::take(&mut *lock(&self.waiting));
        if !jobs.is_empty() {
            commit(&connection, jobs);
            self.dirty.store(true, Ordering::Relaxed);
        }
        drop(connection);
        if !lock(&self.waiting).is_empty() {
            let writer = Arc::clone(self);
            tokio::spawn(async move { writer.commit_waiting() });
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Commits `jobs` in one transaction and answers each. When the transaction fails, each job is
/// tried alone, so one bad write does not fail the others.
fn commit(connection: &rusqlite::Connection, jobs: Vec<Job>) {
    let together = (|| {
        let tx = connection.unchecked_transaction()?;
        let changed = jobs
            .iter()
            .map(|job| run(&tx, &job.write))
            .collect::<rusqlite::Result<Vec<u64>>>()?;
        tx.commit()?;
        Ok::<_, rusqlite::Error>(changed)
    })();
    match together {
        Ok(changed) => {
            for (job, changed) in jobs.into_iter().zip(changed) {
                let _ = job.done.send(Ok(changed));
            }
        }
        Err(_) if jobs.len() > 1 => {
            for job in jobs {
                commit(connection, vec![job]);
            }
        }
        Err(error) => {
            tracing::error!(%error, "the ledger could not write");
            for job in jobs {
                let _ = job.done.send(Err(error.to_string()));
            }
        }
    }
}

/// Runs one write inside the open transaction.
fn run(connection: &rusqlite::Connection, write: &Write) -> rusqlite::Result<u64> {
    match write {
        Write::Tickets(entries) => {
            let mut insert = connection.prepare_cached(INSERT_TICKET)?;
            for e in entries {
                insert.execute(rusqlite::params![
                    e.id,
                    e.user,
                    e.key,
                    size_i64(e.declared_size),
                    e.content_type,
                    e.signed_at,
                    e.expires_at,
                    e.client_ip,
                    e.user_agent,
                    e.kind.as_str(),
                    e.file_name,
                    e.request_id,
                    e.sender_name,
                    e.sender_note,
                ])?;
            }
            Ok(entries.len() as u64)
        }
        Write::Statement { sql, params } => {
            let mut statement = connection.prepare_cached(sql)?;
            // The ledger's statements number their parameters `$1`, `$2`, ... as PostgreSQL's.
            for (n, param) in params.iter().enumerate() {
                let Some(index) = statement.parameter_index(&format!("${}", n + 1))? else {
                    continue;
                };
                let value = match param {
                    Param::Int(n) => Value::Integer(*n),
                    Param::Text(s) => Value::Text(s.clone()),
                };
                statement.raw_bind_parameter(index, value)?;
            }
            Ok(statement.raw_execute()? as u64)
        }
    }
}

/// The columns a signed ticket fills, in the order both engines' INSERTs bind them.
macro_rules! ticket_columns {
    () => {
        "id, user_name, object_key, declared_size, content_type, signed_at, expires_at, \
         client_ip, user_agent, kind, file_name, request_id, sender_name, sender_note"
    };
}

const INSERT_TICKET: &str = concat!(
    "INSERT INTO uploads (",
    ticket_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
);

/// Tickets waiting to be recorded in PostgreSQL, and who waits for the commit.
pub(super) struct Pending {
    entries: Vec<NewEntry>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Requests whose tickets one PostgreSQL commit records at most.
const MAX_GROUP: usize = 256;
/// Values each ticket binds.
const TICKET_VALUES: usize = 14;
/// Rows per INSERT statement (well under the variable limit).
const ROWS_PER_INSERT: usize = 100;

/// PostgreSQL's ticket writer: takes the requests waiting (up to [`MAX_GROUP`]), inserts all
/// their tickets in one transaction, and tells each request the outcome.
async fn group_commits(pool: AnyPool, mut waiting: mpsc::Receiver<Pending>) {
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(more) => group.push(more),
                Err(_) => break,
            }
        }
        let rows: Vec<&NewEntry> = group.iter().flat_map(|p| &p.entries).collect();
        let outcome = insert(&pool, &rows).await.map_err(|e| e.to_string());
        if let Err(error) = &outcome {
            tracing::error!(%error, tickets = rows.len(), "the ledger could not record signed tickets");
        }
        for pending in group {
            let _ = pending.done.send(outcome.clone());
        }
    }
}

/// Inserts `rows`: one statement when they fit in one, else one transaction.
async fn insert(pool: &AnyPool, rows: &[&NewEntry]) -> Result<(), sqlx::Error> {
    if rows.len() <= ROWS_PER_INSERT {
        return insert_rows(pool, rows).await;
    }
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        insert_rows(&mut *tx, chunk).await?;
    }
    tx.commit().await
}

/// One multi-row INSERT of `rows`.
async fn insert_rows<'e, E>(executor: E, rows: &[&NewEntry]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let placeholders: Vec<String> = (1..=TICKET_VALUES)
                .map(|c| format!("${}", r * TICKET_VALUES + c))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO uploads ({}) VALUES {}",
        ticket_columns!(),
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for e in rows {
        query = query
            .bind(e.id.clone())
            .bind(e.user.clone())
            .bind(e.key.clone())
            .bind(size_i64(e.declared_size))
            .bind(e.content_type.clone())
            .bind(e.signed_at)
            .bind(e.expires_at)
            .bind(e.client_ip.clone())
            .bind(e.user_agent.clone())
            .bind(e.kind.as_str())
            .bind(e.file_name.clone())
            .bind(e.request_id.clone())
            .bind(e.sender_name.clone())
            .bind(e.sender_note.clone());
    }
    query.execute(executor).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::super::{Ledger, TicketKind};
    use super::*;

    fn entry(id: &str) -> NewEntry {
        NewEntry {
            id: id.to_owned(),
            user: "alice".into(),
            key: format!("uploads/{id}.jpg"),
            declared_size: 3,
            content_type: "image/jpeg".into(),
            signed_at: 1,
            expires_at: 2,
            client_ip: "127.0.0.1".into(),
            user_agent: "test".into(),
            kind: TicketKind::File,
            file_name: String::new(),
            request_id: String::new(),
            sender_name: String::new(),
            sender_note: String::new(),
        }
    }

    async fn sqlite_ledger(dir: &tempfile::TempDir) -> Ledger {
        let url = format!("sqlite://{}", dir.path().join("ledger.sqlite").display());
        Ledger::open(&url).await.unwrap()
    }

    /// `PRAGMA name` of `ledger`'s database.
    async fn pragma<T>(ledger: &Ledger, name: &str) -> T
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
    {
        sqlx::query_scalar(&format!("PRAGMA {name}"))
            .fetch_one(&ledger.pool)
            .await
            .unwrap()
    }

    /// A ledger file made as before #19: 4 KiB pages, WAL, and a row of its own. The
    /// connection that made it, left open or not.
    fn older_ledger(dir: &tempfile::TempDir) -> rusqlite::Connection {
        let connection = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
        connection
            .execute_batch(
                "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; \
                 CREATE TABLE kept (n INTEGER); INSERT INTO kept VALUES (7);",
            )
            .unwrap();
        connection
    }

    /// A ledger made with 4 KiB pages is rewritten with 1 KiB pages at start, its rows and its
    /// WAL mode kept.
    #[tokio::test]
    async fn an_older_ledger_gets_small_pages_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        drop(older_ledger(&dir));
        let ledger = sqlite_ledger(&dir).await;
        ledger.record_signed(vec![entry("t1")]).await.unwrap();
        let kept: i64 = sqlx::query_scalar("SELECT n FROM kept")
            .fetch_one(&ledger.pool)
            .await
            .unwrap();
        assert_eq!(kept, 7);
        assert_eq!(pragma::<i64>(&ledger, "page_size").await, 1024);
        assert_eq!(pragma::<String>(&ledger, "journal_mode").await, "wal");
        assert_eq!(ledger.pending_count("alice").await.unwrap(), 1);
    }

    /// Another process with the older ledger open: it keeps its pages, and the portal starts.
    #[tokio::test]
    async fn an_older_ledger_open_elsewhere_keeps_its_pages() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = older_ledger(&dir);
        let ledger = sqlite_ledger(&dir).await;
        ledger.record_signed(vec![entry("t1")]).await.unwrap();
        assert_eq!(pragma::<i64>(&ledger, "page_size").await, 4096);
        assert_eq!(ledger.pending_count("alice").await.unwrap(), 1);
        drop(elsewhere);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_each_committed_and_answered() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = sqlite_ledger(&dir).await;
        let tasks: Vec<_> = (0..400)
            .map(|n| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    ledger.record_signed(vec![entry(&format!("t{n}"))]).await?;
                    ledger.mark_checked(&format!("t{n}"), 9).await?;
                    ledger.forget_unused(&format!("t{n}")).await
                })
            })
            .collect();
        let mut forgotten = 0;
        for task in tasks {
            forgotten += u32::from(task.await.unwrap().unwrap());
        }
        // Every ticket was there to be forgotten: each write saw the ones before it.
        assert_eq!(forgotten, 400);
        assert_eq!(ledger.pending_count("alice").await.unwrap(), 0);
    }

    #[test]
    fn one_failing_write_leaves_the_others_committed() {
        let dir = tempfile::tempdir().unwrap();
        let connection = rusqlite::Connection::open(dir.path().join("l.sqlite")).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE uploads (id TEXT PRIMARY KEY, user_name TEXT, object_key TEXT, \
                 declared_size INTEGER, content_type TEXT, signed_at INTEGER, expires_at INTEGER, \
                 client_ip TEXT, user_agent TEXT, kind TEXT, file_name TEXT, request_id TEXT, \
                 sender_name TEXT, sender_note TEXT)",
            )
            .unwrap();
        let job = |write| {
            let (done, answer) = oneshot::channel();
            (Job { write, done }, answer)
        };
        let (first, first_answer) = job(Write::Tickets(vec![entry("a")]));
        // The same id again: the primary key refuses it, and only it.
        let (twice, twice_answer) = job(Write::Tickets(vec![entry("b"), entry("a")]));
        let (statement, statement_answer) = job(Write::Statement {
            sql: "UPDATE uploads SET kind = $2 WHERE id = $1",
            params: vec![Param::Text("a".into()), Param::Text("form".into())],
        });
        commit(&connection, vec![first, twice, statement]);
        assert_eq!(first_answer.blocking_recv().unwrap(), Ok(1));
        assert!(twice_answer.blocking_recv().unwrap().is_err());
        assert_eq!(statement_answer.blocking_recv().unwrap(), Ok(1));
        let ids: Vec<(String, String)> = connection
            .prepare("SELECT id, kind FROM uploads ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // "b" went with the refused batch: a batch of tickets is recorded whole or not at all.
        assert_eq!(ids, vec![("a".to_owned(), "form".to_owned())]);
    }
}
