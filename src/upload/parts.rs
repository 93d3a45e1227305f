//! Large files go up in parts, resumably. The portal starts the upload and presigns a URL per
//! part; the page PUTs the parts a few at a time (byte progress, each part's digest checked
//! against what the bucket answers for it), then asks the portal to complete. The upload's
//! reference is kept in `localStorage` under the file's fingerprint (name, size, modification
//! time, folder, naming, MD5 of its first and last 64 KiB): picking the same file after a
//! reload resumes, and only the parts the bucket does not hold are sent.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{select, Either};
use futures::{FutureExt, StreamExt};
use leptos::prelude::Set;
use md5::{Digest as _, Md5};

use super::network::{self, Motion};
use super::problem::{signing_problem as signing, Problem};
use super::xhr;
use crate::api::{complete_multipart, resume_multipart, start_multipart};
use crate::error::{Notice, PortalError};
use crate::model::{
    part_range, Checksum, FileSpec, MultipartPlan, MultipartUpload, NamingMode, StoredPart,
};
use crate::upload::row::{RowStatus, UploadRow};

/// Bytes hashed from each end of the file for its fingerprint.
const FINGERPRINT_EDGE: f64 = 64.0 * 1024.0;
const STORAGE_PREFIX: &str = "upload-portal.multipart.";

/// Sets part `number`'s entry in a list kept sorted by part number: a sorted Vec, not a
/// BTreeMap, so the page's WASM carries no B-tree code for these maps.
fn put<T>(list: &mut Vec<(u32, T)>, number: u32, value: T) {
    match list.binary_search_by_key(&number, |(n, _)| *n) {
        Ok(i) => list[i].1 = value,
        Err(i) => list.insert(i, (number, value)),
    }
}

/// Each part's ETag and whether its digest was checked, in part order.
type PartEtags = Vec<(u32, (String, bool))>;

/// One file's multipart upload across attempts (and page loads).
pub struct Parts {
    file: web_sys::File,
    spec: FileSpec,
    naming: NamingMode,
    folder: String,
    parallel: usize,
    checksum: Checksum,
    /// The file's storage key and the upload in progress, shared with the cancel guard.
    fingerprint: Rc<RefCell<Option<String>>>,
    current: Rc<RefCell<Option<MultipartUpload>>>,
}

/// Aborts the upload when its future is dropped unfinished: the user cancelled.
pub struct AbortOnCancel {
    current: Rc<RefCell<Option<MultipartUpload>>>,
    fingerprint: Rc<RefCell<Option<String>>>,
    armed: bool,
}

impl AbortOnCancel {
    /// Keeps the upload (finished, or failed for good and resumable later).
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for AbortOnCancel {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(key) = self.fingerprint.borrow_mut().take() {
            Parts::forget(&key);
        }
        // Told by a beacon: the page needs no answer, and so carries no client for the call.
        if let Some(upload) = self.current.borrow_mut().take() {
            if let Ok(upload) = serde_json::to_string(&upload) {
                let root = leptos::server_fn::client::get_server_url();
                super::network::beacon(
                    &format!("{root}/api/abort_multipart"),
                    &format!(r#"{{"upload":{upload}}}"#),
                );
            }
        }
    }
}

impl Parts {
    pub fn new(
        file: web_sys::File,
        spec: FileSpec,
        naming: NamingMode,
        folder: String,
        parallel: usize,
        checksum: Checksum,
    ) -> (Self, AbortOnCancel) {
        let (current, fingerprint) = (Rc::default(), Rc::default());
        let parts = Parts {
            file,
            spec,
            naming,
            folder,
            parallel: parallel.max(1),
            checksum,
            fingerprint: Rc::clone(&fingerprint),
            current: Rc::clone(&current),
        };
        let guard = AbortOnCancel {
            current,
            fingerprint,
            armed: true,
        };
        (parts, guard)
    }

    /// The storage key for this file in this folder and naming mode.
    async fn fingerprint(&mut self) -> Result<String, Problem> {
        if let Some(known) = self.fingerprint.borrow().clone() {
            return Ok(known);
        }
        let size = self.file.size();
        let read = |start: f64, end: f64| super::integrity::read(&self.file, start, end);
        let head = read(0.0, FINGERPRINT_EDGE.min(size))
            .await
            .map_err(|_| Problem::Browser)?;
        let tail = read((size - FINGERPRINT_EDGE).max(0.0), size)
            .await
            .map_err(|_| Problem::Browser)?;
        let mut md5 = Md5::new();
        let naming = match self.naming {
            NamingMode::Random => "random",
            NamingMode::Original => "original",
        };
        for field in [
            self.spec.name.as_str(),
            &self.spec.size.to_string(),
            // Whole milliseconds, as `f64`'s `Display` wrote them before (no float printer).
            &(self.file.last_modified() as u64).to_string(),
            &self.folder,
            naming,
        ] {
            md5.update(field.as_bytes());
            md5.update(b"\n");
        }
        md5.update(&head);
        md5.update(&tail);
        let hex: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let key = format!("{STORAGE_PREFIX}{hex}");
        *self.fingerprint.borrow_mut() = Some(key.clone());
        Ok(key)
    }

    /// The bytes of part `number` (a slice of the file; nothing is read yet).
    fn part(&self, number: u32, size: u64, part_size: u64) -> Result<web_sys::Blob, Problem> {
        let (start, end) = part_range(number, size, part_size);
        self.file
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|_| Problem::Browser)
    }

    fn remembered(key: &str) -> Option<MultipartUpload> {
        let text = super::kept::storage()?.get_item(key).ok().flatten()?;
        serde_json::from_str(&text).ok()
    }

    fn remember(key: &str, upload: &MultipartUpload) {
        if let (Some(storage), Ok(text)) = (super::kept::storage(), serde_json::to_string(upload)) {
            let _ = storage.set_item(key, &text);
        }
    }

    fn forget(key: &str) {
        if let Some(storage) = super::kept::storage() {
            let _ = storage.remove_item(key);
        }
    }

    /// The plan for this attempt: the remembered upload resumed (fresh URLs, stored parts), or
    /// a new one.
    async fn plan(&mut self) -> Result<MultipartPlan, Problem> {
        let key = self.fingerprint().await?;
        let known = self
            .current
            .borrow()
            .clone()
            .or_else(|| Self::remembered(&key));
        if let Some(upload) = known {
            match resume_multipart(upload).await {
                Ok(plan) => return Ok(plan),
                // Completed, aborted or expired meanwhile: start again.
                Err(PortalError::Invalid(Notice::UploadGone)) => Self::forget(&key),
                Err(error) => return Err(signing(error)),
            }
        }
        let plan = start_multipart(self.spec.clone(), self.naming, self.folder.clone())
            .await
            .map_err(signing)?;
        Self::remember(&key, &plan.upload);
        Ok(plan)
    }

    /// One attempt: send every missing part, then complete. Parts stored by an earlier
    /// attempt (or page) stay stored; the next attempt only sends the rest.
    pub async fn attempt(
        &mut self,
        row: &UploadRow,
        guard: &mut AbortOnCancel,
    ) -> Result<RowStatus, Problem> {
        row.status.set(RowStatus::Uploading);
        let plan = self.plan().await?;
        *self.current.borrow_mut() = Some(plan.upload.clone());
        let upload = plan.upload.clone();
        let (size, part_size) = (upload.size, upload.part_size);
        let part_bytes = |number: u32| {
            let (start, end) = part_range(number, size, part_size);
            end - start
        };
        // Bytes stored (whole parts) and in flight (per part), for the row's bar.
        let stored_bytes: u64 = plan.stored.iter().map(|p| part_bytes(p.number)).sum();
        let progress = Rc::new(RefCell::new((stored_bytes, Vec::<(u32, f64)>::new())));
        let show = {
            let bar = row.progress.clone();
            let progress = progress.clone();
            move || {
                let (done, flying) = &*progress.borrow();
                let sent = *done as f64 + flying.iter().map(|(_, v)| v).sum::<f64>();
                bar.set(super::progress::percent_sent(sent, size.max(1) as f64));
            }
        };
        show();
        let motion = Motion::new();
        // In part order, as the completion lists them; a later duplicate replaces an earlier one.
        let mut known = Vec::new();
        for p in &plan.stored {
            put(&mut known, p.number, (p.etag.clone(), false));
        }
        let etags: Rc<RefCell<PartEtags>> = Rc::new(RefCell::new(known));
        let sends = futures::stream::iter(plan.urls.clone())
            .map(|(number, url)| {
                let bytes = part_bytes(number);
                let blob = self.part(number, size, part_size);
                let checksum = self.checksum;
                let (progress, show, motion, etags) = (
                    progress.clone(),
                    show.clone(),
                    motion.clone(),
                    etags.clone(),
                );
                async move {
                    let blob = blob?;
                    let on_progress = {
                        let (progress, show, motion) =
                            (progress.clone(), show.clone(), motion.clone());
                        move |loaded: f64, total: f64| {
                            motion.moved(loaded, total);
                            put(&mut progress.borrow_mut().1, number, loaded);
                            show();
                        }
                    };
                    // The part's digest is computed while it is sent.
                    let (reply, digest) = futures::join!(
                        xhr::put_blob(&url, &blob, on_progress),
                        super::integrity::digest(blob.clone(), checksum, None)
                    );
                    progress.borrow_mut().1.retain(|(n, _)| *n != number);
                    let reply = reply?;
                    if let Some(refused) = reply.refusal() {
                        return Err(refused);
                    }
                    // The part's own digest against what the bucket answered for it.
                    let digest = digest.map_err(|_| Problem::Browser)?;
                    let verified = super::integrity::verify(&blob, &reply, Ok(digest)).await?;
                    let etag = reply.etag.trim().trim_matches('"').to_owned();
                    progress.borrow_mut().0 += bytes;
                    show();
                    put(&mut *etags.borrow_mut(), number, (etag, verified));
                    Ok(())
                }
            })
            .buffer_unordered(self.parallel)
            .fold(Ok(()), |acc: Result<(), Problem>, next| async move {
                // Keep the first problem; the other parts finish (their bytes are kept).
                acc.and(next)
            });
        match select(
            sends.boxed_local(),
            network::stalled(motion.clone()).boxed_local(),
        )
        .await
        {
            Either::Left((result, _)) => result?,
            Either::Right((problem, _)) => return Err(problem),
        }
        // Parts stored by an earlier page are checked against this file too (the bucket lists
        // their ETags, the MD5 of each).
        for stored in &plan.stored {
            let blob = self.part(stored.number, size, part_size)?;
            let md5 = super::integrity::md5_hex(&blob, None)
                .await
                .map_err(|_| Problem::Browser)?;
            if !stored.etag.eq_ignore_ascii_case(&md5) {
                return Err(Problem::Mismatch {
                    stored: format!("ETag \"{}\"", stored.etag),
                });
            }
            let mut list = etags.borrow_mut();
            if let Ok(i) = list.binary_search_by_key(&stored.number, |(n, _)| *n) {
                let entry = &mut list[i].1;
                entry.1 = true;
            }
        }
        let parts: Vec<StoredPart> = etags
            .borrow()
            .iter()
            .map(|(number, (etag, _))| StoredPart {
                number: *number,
                etag: etag.clone(),
            })
            .collect();
        let verified = etags.borrow().iter().all(|(_, (_, checked))| *checked);
        row.status.set(RowStatus::Finishing);
        let done = complete_multipart(upload, parts).await.map_err(signing)?;
        if let Some(key) = self.fingerprint.borrow().as_deref() {
            Self::forget(key);
        }
        *self.current.borrow_mut() = None;
        guard.disarm();
        Ok(RowStatus::Done {
            key: done.key,
            url: plan.object_url,
            etag: format!("\"{}\"", done.etag),
            note: None,
            verified,
        })
    }
}
