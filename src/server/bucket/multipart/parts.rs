//! Where an upload's parts are kept: a part of the upload's part size (set by the first part of
//! 100 KiB or more) goes to its place in the `body` file, so completing copies less; others get files.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::fs;

use crate::server::bucket::errors::{BucketError, OssCode};
use crate::server::bucket::put_object::{body_refused, store_error};
use crate::server::bucket::state::Bucket;
use crate::server::bucket::store::{self, upper_hex, ObjectStore, TempObject};
use crate::server::bucket::upload_locks::{lock, UploadLock};
use crate::server::protocol::{MAX_OBJECT_SIZE, MIN_PART_SIZE};

/// The file parts are written into at their place in the object: part N at (N - 1) × the
/// upload's part size.
const BODY: &str = "body";
/// The upload's part size, in decimal: the length of the first part that came with one (of at
/// least the smallest part size).
const BODY_PART_SIZE: &str = "body-part-size";
/// The upload's own record (`UploadInfo`): while it is there, the upload is.
const UPLOAD: &str = "upload.json";

/// One stored part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct PartInfo {
    pub number: u32,
    pub md5_hex: String,
    pub size: u64,
    pub last_modified: i64,
    /// Where its bytes start in the upload's body file; `None`: they are in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_offset: Option<u64>,
    /// Its own file in the upload's folder (with no offset and no file: `NNNNN.part`, the
    /// name uploads started before the body file keep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl PartInfo {
    fn new(
        number: u32,
        md5: &[u8; 16],
        size: u64,
        body_offset: Option<u64>,
        file: Option<String>,
    ) -> Self {
        PartInfo {
            number,
            md5_hex: upper_hex(md5),
            size,
            last_modified: OffsetDateTime::now_utc().unix_timestamp(),
            body_offset,
            file,
        }
    }

    /// The file that holds this part's bytes, and where in it they start.
    pub fn bytes_at(&self, dir: &Path) -> (PathBuf, u64) {
        match (self.body_offset, &self.file) {
            (Some(offset), _) => (dir.join(BODY), offset),
            (None, Some(file)) => (dir.join(file), 0),
            (None, None) => (dir.join(format!("{:05}.part", self.number)), 0),
        }
    }
}

fn record_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{number:05}.json"))
}

/// A part's record: `Ok(None)` when there is none, an error when it cannot be read whole.
async fn read_record(path: &Path) -> io::Result<Option<PartInfo>> {
    match fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The parts recorded in `dir`, by number.
pub(super) async fn stored_parts(dir: &Path) -> Result<Vec<PartInfo>, BucketError> {
    let mut parts = Vec::new();
    let mut entries = fs::read_dir(dir).await.map_err(BucketError::internal)?;
    while let Some(entry) = entries.next_entry().await.map_err(BucketError::internal)? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".json") && name != UPLOAD {
            // One that cannot be read stops the completion: the body may hold its bytes.
            parts.extend(
                read_record(&entry.path())
                    .await
                    .map_err(BucketError::internal)?,
            );
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}

/// A part's place in the body, held (with the upload's body shared) until its last byte is
/// written, even when the client has gone.
struct BodySlot {
    _lease: tokio::sync::OwnedRwLockReadGuard<()>,
    upload: Arc<UploadLock>,
    number: u32,
    offset: u64,
    length: u64,
}

impl Drop for BodySlot {
    fn drop(&mut self) {
        lock(&self.upload.writing).remove(&self.number);
    }
}

/// Part `number`'s place in the body, when it may go there: its declared `length` is the
/// upload's part size, its place is within the largest object, no one else writes it now, and
/// it is not there already (sent again, a part gets a file of its own, so the bytes recorded
/// stay whole until the new ones are).
async fn body_slot(
    upload: &Arc<UploadLock>,
    dir: &Path,
    number: u32,
    declared: Option<u64>,
) -> Option<BodySlot> {
    let length = declared.filter(|&n| n >= MIN_PART_SIZE)?;
    if u64::from(number).checked_mul(length)? > MAX_OBJECT_SIZE {
        return None;
    }
    let lease = Arc::clone(&upload.body).try_read_owned().ok()?;
    if body_part_size(dir, length).await? != length || !lock(&upload.writing).insert(number) {
        return None;
    }
    let slot = BodySlot {
        _lease: lease,
        upload: Arc::clone(upload),
        number,
        offset: (u64::from(number) - 1) * length,
        length,
    };
    match read_record(&record_path(dir, number)).await {
        Ok(recorded) => recorded
            .is_none_or(|p| p.body_offset.is_none())
            .then_some(slot),
        // Not known: perhaps in the body, so not written over.
        Err(_) => None,
    }
}

/// The upload's part size: the one recorded, or `offered` when none is yet (the first part
/// with a length of at least [`MIN_PART_SIZE`] sets it). Recorded durably before any part is
/// written at an offset it gives. `None` when it cannot be read or written: parts get files.
async fn body_part_size(dir: &Path, offered: u64) -> Option<u64> {
    let path = dir.join(BODY_PART_SIZE);
    let read = |text: String| text.trim().parse().ok();
    match fs::read_to_string(&path).await {
        Ok(text) => return read(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let (folder, body) = (dir.to_owned(), dir.join(BODY));
    let created = tokio::task::spawn_blocking(move || -> io::Result<()> {
        use std::io::Write;
        // The body first: a part size on disk means a body beside it. Parts only write into
        // a body that is there (one gone means the upload is ending).
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&body)?;
        std::fs::File::open(&folder)?.sync_all()?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(offered.to_string().as_bytes())?;
        file.sync_data()?;
        std::fs::File::open(&folder)?.sync_all()
    })
    .await
    .ok()?;
    match created {
        Ok(()) => Some(offered),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read(fs::read_to_string(dir.join(BODY_PART_SIZE)).await.ok()?)
        }
        Err(_) => None,
    }
}

/// Whether the upload's body has become `object`'s file: a completion made the object and
/// stopped before the upload was gone (a crash, a failed removal). The upload is over then.
pub(super) async fn body_published(dir: &Path, object: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        fs::metadata(dir.join(BODY)).await,
        fs::metadata(object).await,
    ) {
        (Ok(body), Ok(object)) => (body.dev(), body.ino()) == (object.dev(), object.ino()),
        _ => false,
    }
}

/// Removes the uploads that were ending when the bucket stopped: their record is gone (an abort
/// or completion had begun removing them), or their body became the object. Run at start,
/// after the bucket's temp files are gone.
pub async fn forget_ended(store: &ObjectStore) -> io::Result<()> {
    let mut entries = fs::read_dir(store.uploads_root()).await?;
    while let Some(entry) = entries.next_entry().await? {
        let dir = entry.path();
        let ended = match fs::read(dir.join(UPLOAD)).await {
            // A record cut short (a stop while the upload was being started) ends it too.
            Ok(bytes) => match serde_json::from_slice::<super::UploadInfo>(&bytes) {
                Ok(info) => match store.object_path(&info.key) {
                    Ok(object) => body_published(&dir, &object).await,
                    Err(_) => false,
                },
                Err(_) => true,
            },
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        };
        if !ended {
            continue;
        }
        let upload = entry.file_name();
        let upload = upload.to_string_lossy();
        match fs::remove_dir_all(&dir).await {
            Ok(()) => {
                tracing::warn!(%upload, "an upload that was ending when the bucket stopped was removed")
            }
            // The bucket starts all the same: no request can use an upload without its record.
            Err(error) => {
                tracing::error!(%upload, %error, "an upload that was ending when the bucket stopped could not be removed")
            }
        }
    }
    Ok(())
}

/// Ends the upload in `dir` (completed or aborted), with `upload` held alone: its record goes
/// first (`NotFound`: it was gone already), so that a stop halfway leaves an upload no request
/// can use and the next start removes; then the body (which may be the object's file now) and
/// the rest, whose failures are only logged: the upload is over once its record is gone.
pub(super) async fn end_upload(upload: &UploadLock, dir: &Path) -> io::Result<()> {
    // Parts being placed and recorded (in files of their own) finish first; later ones find
    // no upload.
    let _records = upload.records.lock().await;
    fs::remove_file(dir.join(UPLOAD)).await?;
    let rest = async {
        sync_folder(dir).await?;
        match fs::remove_file(dir.join(BODY)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::remove_dir_all(dir).await
    };
    if let Err(error) = rest.await {
        tracing::error!(%error, folder = %dir.display(), "an ended upload's folder was not removed; the next start removes it");
    }
    Ok(())
}

async fn sync_folder(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

/// A stored part: its record, and the CRC-64 of its bytes.
pub(super) struct Stored {
    pub part: PartInfo,
    pub crc64: u64,
}

/// Stores part `number` of the upload `id` kept in `dir` for `key`, from `body` whose length
/// the request declared (`declared`): into the body file when [`body_slot`] gives it a place,
/// into a file of its own otherwise. Answers once the bytes are synced and the part recorded
/// (the record replaced atomically, so it always names bytes that are all there).
pub(super) async fn store_part<S, E>(
    bucket: &Bucket,
    (id, key): (&str, &str),
    dir: &Path,
    number: u32,
    declared: Option<u64>,
    body: S,
) -> Result<Stored, BucketError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin + Send + 'static,
    E: Send + 'static,
{
    let upload = bucket.uploads.lock(id);
    if let Some(slot) = body_slot(&upload, dir, number, declared).await {
        let object = bucket.store.object_path(key).map_err(store_error)?;
        // A task of its own: the slot is let go only when nothing more is written, even if
        // this request is dropped (the client went away) meanwhile.
        let dir = dir.to_owned();
        return tokio::spawn(async move { write_into_body(&dir, &object, slot, body).await })
            .await
            .map_err(BucketError::internal)?;
    }
    let received = bucket
        .store
        .receive(body, MAX_OBJECT_SIZE)
        .await
        .map_err(body_refused)?;
    if declared.is_some_and(|n| n != received.size) {
        return Err(shorter_than_declared());
    }
    let name = format!("{number:05}-{}.part", uuid::Uuid::new_v4().simple());
    let part = PartInfo::new(number, &received.md5, received.size, None, Some(name));
    // Placed and recorded together, so an upload that ends meanwhile gets no file after.
    let _records = upload.records.lock().await;
    upload_exists(dir).await?;
    bucket
        .store
        .place(received.temp, &part.bytes_at(dir).0)
        .await
        .map_err(BucketError::internal)?;
    record_part(dir, &part).await?;
    Ok(Stored {
        part,
        crc64: received.crc64,
    })
}

async fn write_into_body<S, E>(
    dir: &Path,
    object: &Path,
    slot: BodySlot,
    body: S,
) -> Result<Stored, BucketError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let out = match fs::OpenOptions::new()
        .write(true)
        .open(dir.join(BODY))
        .await
    {
        Ok(out) => out,
        // The upload has ended (its body goes right after its record).
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(super::no_such_upload()),
        Err(e) => return Err(BucketError::internal(e)),
    };
    if body_published(dir, object).await {
        return Err(super::no_such_upload());
    }
    let written = store::write_at(body, slot.length, out.into_std().await, slot.offset)
        .await
        .map_err(body_refused)?;
    if written.size != slot.length {
        return Err(shorter_than_declared());
    }
    let part = PartInfo::new(
        slot.number,
        &written.md5,
        written.size,
        Some(slot.offset),
        None,
    );
    let _records = slot.upload.records.lock().await;
    upload_exists(dir).await?;
    record_part(dir, &part).await?;
    Ok(Stored {
        part,
        crc64: written.crc64,
    })
}

fn shorter_than_declared() -> BucketError {
    BucketError::new(
        OssCode::InvalidArgument,
        "The part's body is shorter than its Content-Length.",
    )
}

/// Aborted or completed meanwhile: nothing to add a part to, nothing to complete.
pub(super) async fn upload_exists(dir: &Path) -> Result<(), BucketError> {
    fs::metadata(dir.join(UPLOAD))
        .await
        .map(|_| ())
        .map_err(|_| super::no_such_upload())
}

/// Records `part` in place of the record it replaces (written and synced beside, then renamed
/// over it), then removes the file the old record named, which is no one's now. The caller
/// holds the upload's `records` and has seen the upload is there.
async fn record_part(dir: &Path, part: &PartInfo) -> Result<(), BucketError> {
    let path = record_path(dir, part.number);
    // Unreadable, the old record names no file this removes (at worst one is left behind).
    let replaced = read_record(&path).await.ok().flatten();
    let beside = dir.join(format!(
        "{:05}.{}.new",
        part.number,
        uuid::Uuid::new_v4().simple()
    ));
    let json = serde_json::to_vec(part).map_err(BucketError::internal)?;
    let written = tokio::task::spawn_blocking(move || -> io::Result<()> {
        let renamed = std::fs::write(&beside, json)
            .and_then(|()| std::fs::File::open(&beside)?.sync_data())
            .and_then(|()| std::fs::rename(&beside, &path));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&beside);
        }
        renamed
    })
    .await
    .map_err(BucketError::internal)?;
    written.map_err(BucketError::internal)?;
    if let Some(old) = replaced.filter(|old| old.body_offset.is_none()) {
        let _ = fs::remove_file(old.bytes_at(dir).0).await;
    }
    Ok(())
}

/// How the `chosen` parts become the object when the body already holds some of them where the
/// object needs them: the parts to copy into it (each with the offset it goes to). `None`:
/// copy every part into a new file instead, because no chosen part is in the body, one is there
/// at another offset, or a part left out of the object is there (the body stays as it is for
/// it).
pub(super) fn fill_in_body(
    chosen: &[PartInfo],
    stored: &[PartInfo],
) -> Option<Vec<(PartInfo, u64)>> {
    let mut offset = 0;
    let mut in_place = 0;
    let mut copies = Vec::new();
    for part in chosen {
        match part.body_offset {
            Some(at) if at == offset => in_place += 1,
            Some(_) => return None,
            None => copies.push((part.clone(), offset)),
        }
        offset += part.size;
    }
    let left_out_in_body = stored
        .iter()
        .any(|s| s.body_offset.is_some() && !chosen.iter().any(|c| c.number == s.number));
    (in_place > 0 && !left_out_in_body).then_some(copies)
}

/// Makes the object's file from the `chosen` parts of the upload in `dir`, synced; `total` is
/// their length. The body becomes it when [`fill_in_body`] allows (only the parts not in it
/// are copied), otherwise every part is copied into a new temp file. The caller holds the
/// upload's body lock alone.
pub(super) async fn assemble(
    store: &ObjectStore,
    dir: &Path,
    chosen: &[PartInfo],
    stored: &[PartInfo],
    total: u64,
) -> io::Result<TempObject> {
    let sources = |parts: &[(PartInfo, u64)]| -> Vec<(PathBuf, u64, u64, u64)> {
        parts
            .iter()
            .map(|(part, to)| {
                let (file, from) = part.bytes_at(dir);
                (file, from, part.size, *to)
            })
            .collect()
    };
    if let Some(copies) = fill_in_body(chosen, stored) {
        let body = dir.join(BODY);
        let copies = sources(&copies);
        let into = body.clone();
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let out = std::fs::OpenOptions::new().write(true).open(into)?;
            copy_ranges(&copies, &out)?;
            // A part written past the object's end (one that failed, or a later number sent
            // but left out) goes.
            out.set_len(total)?;
            out.sync_data()
        })
        .await
        .map_err(io::Error::other)??;
        return store.link_temp(&body).await;
    }
    let (temp, out) = store.create_temp().await?;
    let mut offset = 0;
    let copies: Vec<(PartInfo, u64)> = chosen
        .iter()
        .map(|part| {
            let at = offset;
            offset += part.size;
            (part.clone(), at)
        })
        .collect();
    let copies = sources(&copies);
    let out = out.into_std().await;
    tokio::task::spawn_blocking(move || -> io::Result<()> {
        copy_ranges(&copies, &out)?;
        out.sync_data()
    })
    .await
    .map_err(io::Error::other)??;
    Ok(temp)
}

/// Copies each `(file, from, length, to)` into `out` at `to`; the kernel moves the bytes
/// (`copy_file_range`), nothing passes through here.
fn copy_ranges(copies: &[(PathBuf, u64, u64, u64)], out: &std::fs::File) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut out = out;
    for (file, from, length, to) in copies {
        let mut source = std::fs::File::open(file)?;
        source.seek(SeekFrom::Start(*from))?;
        out.seek(SeekFrom::Start(*to))?;
        let copied = io::copy(&mut io::Read::take(source, *length), &mut out)?;
        if copied != *length {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("a part is {copied} bytes, not {length}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u32, size: u64, body_offset: Option<u64>) -> PartInfo {
        PartInfo {
            number,
            md5_hex: format!("{number:032X}"),
            size,
            last_modified: 0,
            body_offset,
            file: body_offset.is_none().then(|| format!("{number:05}-x.part")),
        }
    }

    #[test]
    fn parts_in_their_places_fill_the_body_and_the_rest_are_copied_in() {
        let chosen = [part(1, 8, Some(0)), part(2, 8, Some(8)), part(3, 5, None)];
        assert_eq!(
            fill_in_body(&chosen, &chosen),
            Some(vec![(chosen[2].clone(), 16)])
        );
        // Part 1 in a file of its own (sent before the part size was known): copied in.
        let chosen = [part(1, 8, None), part(2, 8, Some(8)), part(3, 8, Some(16))];
        assert_eq!(
            fill_in_body(&chosen, &chosen),
            Some(vec![(chosen[0].clone(), 0)])
        );
    }

    #[test]
    fn the_body_is_left_alone_when_it_does_not_fit_the_object() {
        // Nothing in the body.
        let files = [part(1, 8, None), part(2, 3, None)];
        assert_eq!(fill_in_body(&files, &files), None);
        // Part 3 chosen after a gap: its place in the object is not its place in the body.
        let gap = [part(1, 8, Some(0)), part(3, 8, Some(16))];
        assert_eq!(fill_in_body(&gap, &gap), None);
        // A part left out sits in the body (a retry of the completion may want it).
        let chosen = [part(1, 8, Some(0)), part(2, 4, None)];
        let stored = [part(1, 8, Some(0)), part(2, 4, None), part(3, 8, Some(16))];
        assert_eq!(fill_in_body(&chosen, &stored), None);
        // The part size set by a short part: the long ones went to files, the short one is
        // not where the object needs it.
        let chosen = [part(1, 8, None), part(2, 3, Some(3))];
        assert_eq!(fill_in_body(&chosen, &chosen), None);
    }

    #[tokio::test]
    async fn uploads_that_were_ending_are_removed_at_start() {
        let root = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(root.path()).await.unwrap();
        let upload = |name: &str, key: Option<&str>| {
            let dir = store.uploads_root().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join(BODY), b"bytes").unwrap();
            if let Some(key) = key {
                let info = format!(
                    r#"{{"key":"{key}","content_type":"","forbid_overwrite":false,"initiated":0}}"#
                );
                std::fs::write(dir.join(UPLOAD), info).unwrap();
            }
            dir
        };
        // Its body is the object's file: completed.
        let completed = upload("completed", Some("a/done.bin"));
        let object = store.object_path("a/done.bin").unwrap();
        std::fs::create_dir_all(object.parent().unwrap()).unwrap();
        std::fs::hard_link(completed.join(BODY), &object).unwrap();
        // Its record gone: an abort or completion had begun.
        let ending = upload("ending", None);
        // Its body linked elsewhere (a backup made with hard links), the object not there.
        let going = upload("going", Some("a/going.bin"));
        std::fs::hard_link(going.join(BODY), root.path().join("backup")).unwrap();
        forget_ended(&store).await.unwrap();
        assert!(!completed.exists());
        assert!(!ending.exists());
        assert!(going.join(BODY).exists());
        assert_eq!(std::fs::read(object).unwrap(), b"bytes");
    }

    #[test]
    fn records_from_before_the_body_name_their_old_files() {
        let old: PartInfo =
            serde_json::from_str(r#"{"number":7,"md5_hex":"AB","size":3,"last_modified":1}"#)
                .unwrap();
        let dir = Path::new("/up");
        assert_eq!(old.bytes_at(dir), (dir.join("00007.part"), 0));
        assert_eq!(part(2, 8, Some(8)).bytes_at(dir), (dir.join("body"), 8));
        assert_eq!(
            part(3, 8, None).bytes_at(dir),
            (dir.join("00003-x.part"), 0)
        );
    }
}
