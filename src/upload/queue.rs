//! Signing a batch and running its uploads with bounded parallelism. Each file survives the
//! network: a failed attempt is retried with backoff and jitter, an expiring or expired policy
//! is re-signed, uploads pause while offline and restart when the page comes back, and a
//! cancelled file's request is aborted. Each row's signals are updated as its upload moves.

use futures::future::{select, AbortHandle, Abortable, Either, LocalBoxFuture, Shared};
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;

use super::integrity::Sent;
use super::network::{self, Motion};
use super::parts::{AbortOnCancel, Parts};
use super::problem::{signing_problem, NextStep, Problem};
use super::progress::now_ms;
use super::xhr;
use crate::api::{confirm_upload, sign_uploads};
use crate::error::{Notice, PortalError};
use crate::model::{Checksum, FileSpec, NamingMode, UploadBatch, UploadTicket};
use crate::upload::check::Digest;
use crate::upload::row::{Note, RowStatus, UploadRow};

/// Renew a ticket whose policy expires within this many milliseconds (or within a third of
/// its lifetime, for short ones) before using it.
const RENEW_MARGIN_MS: f64 = 30_000.0;
/// Fresh policies asked for in a row after the bucket said one had expired.
const MAX_RESIGNS: u32 = 3;

/// What the "Upload" (or a row's "Retry") button hands to the engine.
pub struct Start {
    pub rows: RwSignal<Vec<UploadRow>>,
    /// The picked files by row id (unique, never reused).
    pub shelf: StoredValue<Vec<(u32, web_sys::File)>, LocalStorage>,
    pub naming: NamingMode,
    pub folder: String,
    pub parallel: usize,
    /// Attempts after the first failed one.
    pub retries: u32,
    /// What the batch as a whole was refused for (nothing when empty).
    pub error: RwSignal<Vec<PortalError>>,
    /// Runs of the engine in progress.
    pub active: RwSignal<usize>,
    /// Only this row (a row's Retry button); otherwise every queued or failed row.
    pub only: Option<u32>,
    /// Files this large or larger go up in parts (0: never).
    pub multipart_threshold: u64,
    /// The digest each file (or part) is checked by.
    pub checksum: Checksum,
    /// Sending through an upload request: when the last run ends, the request hears that the
    /// batch did (its webhook's batch message).
    pub tells_batches: bool,
    /// Take the location out of JPEG photos before they go up.
    pub strip_location: bool,
    /// "Photo size: Smaller": the longest edge in pixels and the quality in percent that
    /// JPEG, PNG and WebP photos are redrawn at before they are signed.
    pub shrink: Option<(u32, u32)>,
    /// Writes the batch's journal (what survives a reload): called as the run starts, as each
    /// file is stored, and as the run ends.
    pub keep_journal: std::rc::Rc<dyn Fn()>,
}

/// A ticket and when to stop trusting it (ms since the epoch).
struct Signed {
    ticket: UploadTicket,
    renew_at: f64,
}

impl Signed {
    fn new(ticket: UploadTicket) -> Self {
        let expires = ticket.expires_at as f64 * 1000.0;
        let lifetime = (expires - now_ms()).max(0.0);
        Signed {
            renew_at: expires - RENEW_MARGIN_MS.min(lifetime / 3.0),
            ticket,
        }
    }
}

struct Job {
    row: UploadRow,
    file: web_sys::File,
    /// A signed form for one POST; `None` sends the file in parts.
    signed: Option<Signed>,
    naming: NamingMode,
    folder: String,
    retries: u32,
    parallel: usize,
    checksum: Checksum,
    strip_location: bool,
}

fn spec(row: &UploadRow) -> FileSpec {
    FileSpec {
        name: row.name.clone(),
        size: row.size,
        content_type: row.content_type.clone(),
    }
}

/// Signs and uploads the rows it takes; returns their ids.
pub fn start(start: Start) -> Vec<u32> {
    network::watch();
    let taken: Vec<(UploadRow, web_sys::File)> = start
        .rows
        .get_untracked()
        .into_iter()
        .filter(|row| {
            let status = row.status.get_untracked();
            match start.only {
                Some(id) => {
                    row.id == id && matches!(status, RowStatus::Failed(_) | RowStatus::Cancelled)
                }
                None => matches!(status, RowStatus::Queued | RowStatus::Failed(_)),
            }
        })
        .filter_map(|row| {
            let file = start.shelf.with_value(|s| {
                s.iter()
                    .find(|(id, _)| *id == row.id)
                    .map(|(_, file)| file.clone())
            })?;
            Some((row, file))
        })
        .collect();
    if taken.is_empty() {
        if start.only.is_none() {
            start
                .error
                .set(vec![PortalError::Invalid(Notice::PickFirst)]);
        }
        return Vec::new();
    }
    let ids = taken.iter().map(|(row, _)| row.id).collect();
    start.error.set(Vec::new());
    start.active.update(|n| *n += 1);
    let mut jobs: Vec<_> = taken
        .into_iter()
        .map(|(row, file)| {
            let registration = row.arm();
            (row, file, registration)
        })
        .collect();
    // Written once the rows are queued: a cancelled row tried again is in the batch again.
    (start.keep_journal)();
    let threshold = start.multipart_threshold;
    let in_parts = move |row: &UploadRow| threshold > 0 && row.size >= threshold;
    leptos::task::spawn_local(async move {
        if let Some((edge, quality)) = start.shrink {
            for (row, file, _) in &mut jobs {
                shrink(row, file, edge, quality).await;
            }
        }
        // One signing for the files sent whole; large ones are started one by one, in parts.
        let batch = UploadBatch {
            files: jobs
                .iter()
                .filter(|(row, ..)| !in_parts(row))
                .map(|(row, ..)| spec(row))
                .collect(),
            naming: start.naming,
            folder: start.folder.clone(),
        };
        let signed = if batch.files.is_empty() {
            Ok(Vec::new())
        } else {
            sign_uploads(batch).await
        };
        match signed {
            // The rows stay queued: "Upload" tries them again.
            Err(error) => start.error.set(vec![error]),
            Ok(tickets) => {
                let shelf = start.shelf;
                let keep_journal = start.keep_journal.clone();
                let mut tickets = tickets.into_iter();
                let runs: Vec<_> = jobs
                    .into_iter()
                    .map(|(row, file, registration)| {
                        let signed = if in_parts(&row) {
                            None
                        } else {
                            tickets.next().map(Signed::new)
                        };
                        let job = Job {
                            row,
                            file,
                            signed,
                            naming: start.naming,
                            folder: start.folder.clone(),
                            retries: start.retries,
                            parallel: start.parallel,
                            checksum: start.checksum,
                            strip_location: start.strip_location,
                        };
                        (job, registration)
                    })
                    .collect();
                futures::stream::iter(runs)
                    .for_each_concurrent(start.parallel.max(1), |(job, registration)| {
                        let id = job.row.id;
                        let keep_journal = keep_journal.clone();
                        // Cancelling the row aborts this future, and with it the request.
                        Abortable::new(upload(job), registration).map(move |stored| {
                            if stored == Ok(true) {
                                shelf.update_value(|s| {
                                    s.retain(|(i, _)| *i != id);
                                });
                                keep_journal();
                            }
                        })
                    })
                    .await;
                if start.tells_batches && start.active.get_untracked() == 1 {
                    let root = leptos::server_fn::client::get_server_url();
                    super::network::beacon(&format!("{root}/api/end_batch"), "{}");
                }
            }
        }
        start.active.update(|n| *n -= 1);
        (start.keep_journal)();
    });
    ids
}

/// Redraws a picked photo smaller, one at a time before the batch is signed (one decoded
/// photo in memory at once), so its ticket is for the bytes that go up. The list keeps showing
/// the size picked; this run's `row` and `file` are the smaller ones.
async fn shrink(row: &mut UploadRow, file: &mut web_sys::File, edge: u32, quality: u32) {
    let Some(kind) = super::photo_size::shrinkable(&row.name, &row.content_type) else {
        return;
    };
    if !matches!(row.status.get_untracked(), RowStatus::Queued) {
        return;
    }
    row.status.set(RowStatus::Shrinking);
    if let Some(smaller) = super::photo::smaller(file, kind, edge, quality).await {
        row.size = smaller.size() as u64;
        row.content_type = kind.to_owned();
        *file = smaller;
    }
    // Cancelled meanwhile: it stays so.
    if matches!(row.status.get_untracked(), RowStatus::Shrinking) {
        row.status.set(RowStatus::Queued);
    }
}

/// The file's digest, computed once while the first attempt sends it and shared by every
/// attempt.
type Hashing = Shared<LocalBoxFuture<'static, Result<Digest, String>>>;

/// Stops the background hashing when the upload's future ends or is dropped.
struct StopOnDrop(AbortHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a file goes up: one POST (its digest hashed alongside), or in parts.
enum Engine {
    Single {
        signed: Option<Signed>,
        digest: Hashing,
        /// How far the first POST has gone, which the hashing follows (and then no longer).
        sent: Sent,
        _hashing: StopOnDrop,
    },
    Parts(Parts, AbortOnCancel),
}

impl Engine {
    /// The upload stays as it is (a multipart upload stays resumable).
    fn keep(&mut self) {
        if let Engine::Parts(_, guard) = self {
            guard.disarm();
        }
    }
}

/// Uploads one file until it is stored, fails for good, or runs out of attempts; true when
/// it is stored.
async fn upload(job: Job) -> bool {
    let Job {
        row,
        file,
        signed,
        naming,
        folder,
        retries,
        parallel,
        checksum,
        strip_location,
    } = job;
    // The bytes that go up, the hash and the parts all come from the photo without its place.
    let file = if strip_location && super::photo_size::is_jpeg(&row.name, &row.content_type) {
        match super::photo::without_location(&file).await {
            Ok(file) => file,
            Err(problem) => {
                row.status.set(RowStatus::Failed(problem));
                return false;
            }
        }
    } else {
        file
    };
    let mut engine = match signed {
        Some(signed) => {
            let sent = Sent::new();
            let digest: Hashing =
                super::integrity::digest(file.clone().into(), checksum, Some(sent.clone()))
                    .boxed_local()
                    .shared();
            let (stop, registration) = AbortHandle::new_pair();
            leptos::task::spawn_local(Abortable::new(digest.clone(), registration).map(|_| ()));
            Engine::Single {
                signed: Some(signed),
                digest,
                sent,
                _hashing: StopOnDrop(stop),
            }
        }
        None => {
            let (parts, guard) = Parts::new(
                file.clone(),
                spec(&row),
                naming,
                folder.clone(),
                parallel,
                checksum,
            );
            Engine::Parts(parts, guard)
        }
    };
    let (mut failures, mut resigns) = (0u32, 0u32);
    loop {
        if !network::online() {
            row.status.set(RowStatus::Waiting {
                problem: Problem::Offline,
                retry_in: None,
                attempt: failures + 1,
                attempts: retries + 1,
            });
            network::until_online().await;
        }
        let outcome = match &mut engine {
            Engine::Single {
                signed,
                digest,
                sent,
                ..
            } => {
                let current = match signed.take() {
                    Some(current) if now_ms() < current.renew_at => Ok(current),
                    // Waited too long (queue, backoff) or refused as expired: a fresh policy.
                    _ => sign_one(&row, naming, &folder).await.map(Signed::new),
                };
                match current {
                    Err(problem) => Err(problem),
                    Ok(current) => {
                        let outcome =
                            attempt(&row, &current.ticket, &file, digest.clone(), sent).await;
                        *signed = Some(current);
                        outcome
                    }
                }
            }
            // Each attempt resumes: fresh part URLs, only the missing parts sent.
            Engine::Parts(parts, guard) => parts.attempt(&row, guard).await,
        };
        let problem = match outcome {
            Ok(done) => {
                row.progress.set(100);
                row.status.set(done);
                return true;
            }
            Err(problem) => problem,
        };
        match problem.next_step() {
            NextStep::Stop => {
                engine.keep();
                row.status.set(RowStatus::Failed(problem));
                return false;
            }
            NextStep::Resign if resigns < MAX_RESIGNS => {
                resigns += 1;
                if let Engine::Single { signed, .. } = &mut engine {
                    *signed = None;
                }
            }
            NextStep::Resign | NextStep::Retry => {
                failures += 1;
                if failures > retries {
                    engine.keep();
                    row.status.set(RowStatus::Failed(Problem::GaveUp {
                        attempts: failures,
                        last: Box::new(problem),
                    }));
                    return false;
                }
                let delay = super::problem::backoff_ms(failures, js_sys::Math::random());
                row.progress.set(0);
                row.status.set(RowStatus::Waiting {
                    problem,
                    retry_in: Some((delay / 1000.0).ceil() as u32),
                    attempt: failures + 1,
                    attempts: retries + 1,
                });
                // Cut short when the network comes back or the page is shown again.
                network::pause(delay).await;
            }
        }
    }
}

/// A fresh ticket for one file (its policy ran out while it waited).
async fn sign_one(
    row: &UploadRow,
    naming: NamingMode,
    folder: &str,
) -> Result<UploadTicket, Problem> {
    let batch = UploadBatch {
        files: vec![spec(row)],
        naming,
        folder: folder.to_owned(),
    };
    match sign_uploads(batch).await {
        Ok(mut tickets) => tickets.pop().ok_or(Problem::Unsigned),
        Err(error) => Err(signing_problem(error)),
    }
}

/// One POST of the file; `Ok` carries the row's final status.
async fn attempt(
    row: &UploadRow,
    ticket: &UploadTicket,
    file: &web_sys::File,
    digest: Hashing,
    sent: &Sent,
) -> Result<RowStatus, Problem> {
    row.status.set(RowStatus::Uploading);
    row.progress.set(0);
    let motion = Motion::new();
    let progress = row.progress.clone();
    let (moved, reached) = (motion.clone(), sent.clone());
    let post = xhr::post_form(ticket, file, move |loaded, total| {
        moved.moved(loaded, total);
        reached.reached(loaded);
        progress.set(super::progress::percent_sent(loaded, total));
    });
    // A stall (or going offline) drops the POST, which aborts it.
    let posted = select(post.boxed_local(), network::stalled(motion).boxed_local()).await;
    // Sent or not, the hash no longer waits for the upload: the reply's check needs it now,
    // and during a retry's backoff it may as well go ahead.
    sent.reached(f64::INFINITY);
    let reply = match posted {
        Either::Left((reply, _)) => reply?,
        Either::Right((problem, _)) => return Err(problem),
    };
    if let Some(refused) = reply.refusal() {
        // The key is this file's alone: an earlier attempt stored it and its reply was lost.
        // Stored with this file's MD5 (the ETag the portal compares; the file is read once
        // more for it), it is done.
        let exists =
            matches!(&refused, Problem::Refused { code, .. } if code == "FileAlreadyExists");
        if exists {
            if let Ok(md5) = super::integrity::md5_hex(file, None).await {
                if let Ok(entry) = confirm_upload(ticket.key.clone(), md5).await {
                    return Ok(RowStatus::Done {
                        key: ticket.key.clone(),
                        url: ticket.object_url.clone(),
                        etag: entry.etag,
                        note: None,
                        verified: true,
                    });
                }
            }
        }
        return Err(refused);
    }
    let verified = super::integrity::verify(file, &reply, digest.await).await?;
    // The portal checks the object (HEAD: size and ETag) and completes its ledger entry.
    confirm_upload(ticket.key.clone(), reply.etag.clone())
        .await
        .map_err(signing_problem)?;
    // 203 is OSS's "stored, but the upload callback failed": the object is there.
    let note = if reply.status == 203 {
        let (_, message) = xhr::error_code_and_message(&reply.body);
        Some(Note::NotNotified(message))
    } else {
        xhr::callback_note(&reply.body)
    };
    Ok(RowStatus::Done {
        key: ticket.key.clone(),
        url: ticket.object_url.clone(),
        etag: reply.etag,
        note,
        verified,
    })
}
