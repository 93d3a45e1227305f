//! The ledger's one writer of signed tickets: requests wait in a queue, and each commit records
//! every ticket waiting (one multi-row INSERT, or one transaction), then answers each request.

use sqlx::AnyPool;

use super::{size_i64, NewEntry};

/// Tickets waiting to be recorded, and who waits for the commit.
pub(super) struct Pending {
    pub(super) entries: Vec<NewEntry>,
    pub(super) done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Requests whose tickets one commit records at most.
pub(super) const MAX_GROUP: usize = 256;
/// Rows per INSERT statement (11 values each, well under SQLite's variable limit).
const ROWS_PER_INSERT: usize = 100;

/// The ledger's writer: takes the requests waiting (up to [`MAX_GROUP`]), inserts all their
/// tickets in one transaction, and tells each request the outcome.
pub(super) async fn group_commits(
    pool: AnyPool,
    mut waiting: tokio::sync::mpsc::Receiver<Pending>,
) {
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
            let placeholders: Vec<String> = (1..=11).map(|c| format!("${}", r * 11 + c)).collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO uploads (id, user_name, object_key, declared_size, content_type, signed_at, \
         expires_at, client_ip, user_agent, kind, file_name) VALUES {}",
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
            .bind(e.file_name.clone());
    }
    query.execute(executor).await.map(|_| ())
}
