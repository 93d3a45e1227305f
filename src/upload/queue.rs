//! Signing a batch and running its uploads with bounded parallelism; each row's signals are
//! updated as its upload moves.

use std::collections::HashMap;

use futures::StreamExt;
use leptos::prelude::*;

use super::xhr;
use crate::api::sign_uploads;
use crate::components::upload_list::{RowStatus, UploadRow};
use crate::model::{FileSpec, NamingMode, UploadBatch, UploadTicket};

/// Renew a ticket whose policy expires within this many milliseconds before using it.
const RENEW_MARGIN_MS: f64 = 30_000.0;

/// What the "Upload" button hands to the engine.
pub struct Start {
    pub rows: RwSignal<Vec<UploadRow>>,
    pub shelf: StoredValue<HashMap<u32, web_sys::File>, LocalStorage>,
    pub naming: NamingMode,
    pub folder: String,
    pub parallel: usize,
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
}

struct Job {
    row: UploadRow,
    file: web_sys::File,
    ticket: UploadTicket,
    naming: NamingMode,
    folder: String,
}

fn spec(row: &UploadRow) -> FileSpec {
    FileSpec {
        name: row.name.clone(),
        size: row.size,
        content_type: row.content_type.clone(),
    }
}

/// Signs and uploads the queued (and failed) files; returns the ids of the rows it took.
pub fn start(start: Start) -> Vec<u32> {
    let queued: Vec<(UploadRow, web_sys::File)> = start
        .rows
        .get_untracked()
        .into_iter()
        .filter(|row| {
            matches!(
                row.status.get_untracked(),
                RowStatus::Queued | RowStatus::Failed(_)
            )
        })
        .filter_map(|row| {
            let file = start.shelf.with_value(|s| s.get(&row.id).cloned())?;
            Some((row, file))
        })
        .collect();
    if queued.is_empty() {
        start
            .error
            .set(Some("Pick one or more files first.".into()));
        return Vec::new();
    }
    let taken = queued.iter().map(|(row, _)| row.id).collect();
    start.error.set(None);
    start.busy.set(true);
    let batch = UploadBatch {
        files: queued.iter().map(|(row, _)| spec(row)).collect(),
        naming: start.naming,
        folder: start.folder.clone(),
    };
    leptos::task::spawn_local(async move {
        match sign_uploads(batch).await {
            Err(error) => start.error.set(Some(error.to_string())),
            Ok(tickets) => {
                let jobs = queued
                    .into_iter()
                    .zip(tickets)
                    .map(|((row, file), ticket)| {
                        row.status.set(RowStatus::Queued);
                        row.progress.set(0);
                        Job {
                            row,
                            file,
                            ticket,
                            naming: start.naming,
                            folder: start.folder.clone(),
                        }
                    });
                let shelf = start.shelf;
                futures::stream::iter(jobs)
                    .for_each_concurrent(start.parallel.max(1), |job| async move {
                        let id = job.row.id;
                        if upload(job).await {
                            shelf.update_value(|s| {
                                s.remove(&id);
                            });
                        }
                    })
                    .await;
            }
        }
        start.busy.set(false);
    });
    taken
}

/// Uploads one file; true when it is stored.
async fn upload(job: Job) -> bool {
    let Job {
        row,
        file,
        mut ticket,
        naming,
        folder,
    } = job;
    row.status.set(RowStatus::Uploading);
    if (ticket.expires_at as f64) * 1000.0 - js_sys::Date::now() < RENEW_MARGIN_MS {
        // Waited in the queue too long: ask for a fresh policy for this one file.
        let batch = UploadBatch {
            files: vec![spec(&row)],
            naming,
            folder,
        };
        match sign_uploads(batch).await.map(|mut t| t.pop()) {
            Ok(Some(fresh)) => ticket = fresh,
            Ok(None) => {}
            Err(error) => {
                row.status.set(RowStatus::Failed(error.to_string()));
                return false;
            }
        }
    }
    let progress = row.progress.clone();
    // Hash while the bytes go out: the two reads of the file overlap.
    let (outcome, md5) = futures::join!(
        xhr::post_form(&ticket, &file, move |loaded, total| {
            progress.set(super::percent_sent(loaded, total));
        }),
        super::integrity::md5_hex(&file)
    );
    match outcome {
        Ok(reply) if (200..300).contains(&reply.status) => {
            let verified = match md5.map(|md5| super::etag_matches(&reply.etag, &md5)) {
                Ok(Some(false)) => {
                    row.status.set(RowStatus::Failed(format!(
                        "Mismatch: the bucket stored different bytes (ETag {}) than this file.",
                        reply.etag
                    )));
                    return false;
                }
                Ok(Some(true)) => true,
                // No simple ETag (multipart) or the file could not be read again.
                Ok(None) | Err(_) => false,
            };
            // 203 is OSS's "stored, but the upload callback failed": the object is there.
            let note = if reply.status == 203 {
                let (_, message) = xhr::error_code_and_message(&reply.body);
                Some(format!(
                    "Stored, but the portal was not notified: {message}"
                ))
            } else {
                xhr::callback_message(&reply.body)
            };
            row.progress.set(100);
            row.status.set(RowStatus::Done {
                key: ticket.key,
                url: ticket.object_url,
                etag: reply.etag,
                note,
                verified,
            });
            true
        }
        Ok(reply) => {
            let (code, message) = xhr::error_code_and_message(&reply.body);
            row.status.set(RowStatus::Failed(super::refusal_reason(
                reply.status,
                &code,
                &message,
            )));
            false
        }
        Err(reason) => {
            row.status.set(RowStatus::Failed(reason));
            false
        }
    }
}
