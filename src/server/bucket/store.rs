//! Objects on disk: `objects/<key>` holds the bytes (so operators can browse them), `meta/`
//! holds each object's headers, and `tmp/` holds uploads in flight. An object becomes visible
//! only by an atomic rename (or a no-clobber link) of a complete, synced temp file.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::fs;

use crate::server::protocol::MAX_KEY_BYTES;

/// CRC-64/XZ, which OSS calls crc64ecma.
pub const CRC64: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_XZ);

/// What the bucket stores beside an object's bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub size: u64,
    /// Upper-case hex MD5 (the ETag without quotes).
    pub md5_hex: String,
    pub crc64: u64,
    pub content_type: String,
    /// Other stored headers: Cache-Control, Content-Disposition, Content-Encoding, Expires,
    /// and `x-oss-meta-*`, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Seconds since the Unix epoch.
    pub last_modified: i64,
    /// The ETag when it is not the MD5 (`HEX-N` for an object assembled from N parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// Why a key cannot be stored here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the object name is not valid for this bucket: {0}")]
    InvalidKey(&'static str),
    #[error("the object already exists")]
    AlreadyExists,
    #[error("the object name conflicts with an existing object or folder")]
    Conflict,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Most bytes of one upload received, or written, at once: with one batch being written while
/// the next arrives, 200 uploads in flight hold at most 50 MiB between them, even when the
/// disk lags behind the network.
pub const WRITE_BATCH: usize = 128 << 10;

#[derive(Clone, Debug)]
pub struct ObjectStore {
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
    /// Multipart uploads in progress, one folder each (kept across restarts).
    uploads: PathBuf,
}

impl ObjectStore {
    /// Opens (creating) the store under `root` and removes uploads a crash left behind.
    pub async fn open(root: &Path) -> io::Result<Self> {
        let store = ObjectStore {
            objects: root.join("objects"),
            meta: root.join("meta"),
            tmp: root.join("tmp"),
            uploads: root.join("multipart"),
        };
        for dir in [&store.objects, &store.meta, &store.uploads] {
            fs::create_dir_all(dir).await?;
        }
        if fs::try_exists(&store.tmp).await? {
            fs::remove_dir_all(&store.tmp).await?;
        }
        fs::create_dir_all(&store.tmp).await?;
        Ok(store)
    }

    /// The file that holds `key`'s bytes. Keys that cannot map safely onto a path are refused:
    /// empty segments, `.`/`..`, backslashes, control characters, over-long names.
    pub fn object_path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(StoreError::InvalidKey("it must be 1 to 1023 bytes long"));
        }
        if key.chars().any(|c| c.is_control() || c == '\\') {
            return Err(StoreError::InvalidKey(
                "it must not contain control characters or backslashes",
            ));
        }
        let mut path = self.objects.clone();
        for segment in key.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(StoreError::InvalidKey(
                    "it must not have empty, \".\" or \"..\" folder names",
                ));
            }
            if segment.len() > 255 {
                return Err(StoreError::InvalidKey(
                    "a folder or file name is longer than 255 bytes",
                ));
            }
            path.push(segment);
        }
        Ok(path)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.meta.join(format!("{name}.json"))
    }

    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(fs::metadata(self.object_path(key)?)
            .await
            .map(|m| m.is_file())
            .unwrap_or(false))
    }

    /// The folder that holds one folder per multipart upload.
    pub fn uploads_root(&self) -> &Path {
        &self.uploads
    }

    /// The folder of multipart upload `id` (ids are generated here: hex only).
    pub fn upload_dir(&self, id: &str) -> Option<PathBuf> {
        (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.uploads.join(id))
    }

    /// Moves a complete temp file to `path` (replacing what is there), e.g. a part.
    pub async fn place(&self, mut temp: TempObject, path: &Path) -> io::Result<()> {
        let source = temp.path.take().expect("unplaced temp has a path");
        if let Err(e) = fs::rename(&source, path).await {
            let _ = fs::remove_file(&source).await;
            return Err(e);
        }
        Ok(())
    }

    /// Streams `chunks` into a new temp file, computing the MD5 and CRC-64 on the way, and
    /// syncs it. Stops with `TooLarge` as soon as more than `limit` bytes arrive; a chunk error
    /// (the client went away) comes back as `Source`. The temp file goes unless committed.
    pub async fn receive<S, E>(&self, chunks: S, limit: u64) -> Result<Received, Intake<E>>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    {
        let (temp, out) = self.create_temp().await.map_err(Intake::Io)?;
        let written = write_at(chunks, limit, out.into_std().await, 0).await?;
        Ok(Received {
            temp,
            size: written.size,
            md5: written.md5,
            crc64: written.crc64,
        })
    }

    /// A new temp file for an upload; it is deleted unless committed.
    pub async fn create_temp(&self) -> io::Result<(TempObject, fs::File)> {
        let path = self
            .tmp
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok((TempObject { path: Some(path) }, file))
    }

    /// A temp name for the file at `path` (a second hard link: `path` stays as it is), to
    /// commit a file written elsewhere without copying it.
    pub async fn link_temp(&self, path: &Path) -> io::Result<TempObject> {
        let temp = self
            .tmp
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        fs::hard_link(path, &temp).await?;
        Ok(TempObject { path: Some(temp) })
    }

    /// Makes a complete temp file visible as `key`. With `overwrite` false it fails with
    /// `AlreadyExists` when the key exists, atomically (a hard link never replaces a file).
    pub async fn commit(
        &self,
        mut temp: TempObject,
        key: &str,
        meta: &ObjectMeta,
        overwrite: bool,
    ) -> Result<(), StoreError> {
        let target = self.object_path(key)?;
        let parent = target.parent().expect("object paths have a parent");
        fs::create_dir_all(parent).await.map_err(conflict_or_io)?;
        if fs::metadata(&target)
            .await
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            return Err(StoreError::Conflict);
        }
        // Metadata first: a crash between the two steps leaves an orphan meta file, never an
        // object without its headers.
        let meta_tmp = self
            .tmp
            .join(format!("{}.meta", uuid::Uuid::new_v4().simple()));
        let meta_json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        fs::write(&meta_tmp, meta_json).await?;
        let source = temp.path.as_ref().expect("uncommitted temp has a path");
        let placed = if overwrite {
            fs::rename(source, &target).await.map_err(conflict_or_io)
        } else {
            match fs::hard_link(source, &target).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err(StoreError::AlreadyExists)
                }
                Err(e) => Err(conflict_or_io(e)),
            }
        };
        if let Err(e) = placed {
            let _ = fs::remove_file(&meta_tmp).await;
            return Err(e);
        }
        fs::rename(&meta_tmp, self.meta_path(key)).await?;
        if !overwrite {
            fs::remove_file(source).await?;
        }
        temp.path = None;
        Ok(())
    }

    /// Removes `key`'s object and headers, and the folders it leaves empty; false when there
    /// was none.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.object_path(key)?;
        match fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        }
        let _ = fs::remove_file(self.meta_path(key)).await;
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(folder) = dir.filter(|d| *d != self.objects) {
            if fs::remove_dir(&folder).await.is_err() {
                break;
            }
            dir = folder.parent().map(Path::to_path_buf);
        }
        Ok(true)
    }

    /// Every key that starts with `prefix` and sorts after `after`, in byte order.
    pub async fn keys(&self, prefix: &str, after: &str) -> Result<Vec<String>, StoreError> {
        // Only the folder the prefix names can hold matching keys.
        let folder = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let start = if folder.is_empty() {
            self.objects.clone()
        } else {
            match self.object_path(folder) {
                Ok(path) => path,
                Err(_) => return Ok(Vec::new()),
            }
        };
        let objects = self.objects.clone();
        let (prefix, after) = (prefix.to_owned(), after.to_owned());
        let keys = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            walk_keys(&objects, &start, &mut keys);
            keys.retain(|k: &String| k.starts_with(&prefix) && k.as_str() > after.as_str());
            keys.sort();
            keys
        })
        .await
        .map_err(io::Error::other)?;
        Ok(keys)
    }

    /// The stored object's file and metadata, if it exists.
    pub async fn open_object(
        &self,
        key: &str,
    ) -> Result<Option<(fs::File, ObjectMeta)>, StoreError> {
        let path = self.object_path(key)?;
        let file = match fs::File::open(&path).await {
            Ok(file) if file.metadata().await?.is_file() => file,
            Ok(_) => return Ok(None),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata().await?.len();
        let meta = match fs::read(self.meta_path(key)).await {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => ObjectMeta::default(),
        };
        // Bytes on disk are the truth for the length, whatever the sidecar says.
        Ok(Some((file, ObjectMeta { size, ..meta })))
    }
}

/// What [`write_at`] wrote: its length and digests.
pub struct Written {
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
}

/// Streams `chunks` into `file` from byte `start` on, computing the MD5 and CRC-64 on the
/// way, and syncs the file. Stops with `TooLarge` as soon as more than `limit` bytes arrive; a
/// chunk error (the client went away) comes back as `Source`. Either way it returns only once
/// no write of it is under way.
///
/// Three stages at once: this task receives a batch while blocking threads take the one
/// before, one its MD5 (most of the CPU an upload costs), the other its CRC-64 and its write
/// (a batch under [`SPLIT_BATCH`] goes to one thread for both).
///
/// Memory stays small whatever the number of uploads: what has arrived is handed on as soon
/// as the socket has nothing more ready (a slow upload holds one chunk), and a fast one in
/// batches of up to [`WRITE_BATCH`] bytes, one being received while one is hashed and written.
pub async fn write_at<S, E>(
    mut chunks: S,
    limit: u64,
    file: std::fs::File,
    start: u64,
) -> Result<Written, Intake<E>>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let mut idle = Some(Stages {
        md5: md5::Md5::new(),
        writer: Writer {
            file,
            at: start,
            crc: CRC64.digest(),
        },
    });
    let mut busy: Option<Busy> = None;
    let mut size: u64 = 0;
    loop {
        let received = next_batch(&mut chunks, limit, &mut size).await;
        if let Some(batch) = busy.take() {
            idle = Some(batch.done().await?);
        }
        let (batch, ended) = received?;
        if !batch.is_empty() {
            busy = Some(idle.take().expect(STAGES_BACK).take(batch));
        }
        if ended {
            break;
        }
    }
    if let Some(batch) = busy.take() {
        idle = Some(batch.done().await?);
    }
    // Every byte received is written by now.
    let Stages { md5, writer } = idle.take().expect(STAGES_BACK);
    let crc64 = writer.crc.finalize();
    joined(tokio::task::spawn_blocking(move || writer.file.sync_data())).await?;
    Ok(Written {
        size,
        md5: md5.finalize().into(),
        crc64,
    })
}

const STAGES_BACK: &str = "the stages are back after each batch";

/// What has arrived: waits for one chunk, then takes whatever else is ready without waiting,
/// up to [`WRITE_BATCH`] bytes; true once the stream has ended.
async fn next_batch<S, E>(
    chunks: &mut S,
    limit: u64,
    size: &mut u64,
) -> Result<(Vec<bytes::Bytes>, bool), Intake<E>>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    use futures_util::{FutureExt, StreamExt};
    let mut batch = Vec::new();
    let mut batched = 0usize;
    let mut next = chunks.next().await;
    loop {
        let Some(chunk) = next else {
            return Ok((batch, true));
        };
        let chunk = chunk.map_err(Intake::Source)?;
        *size += chunk.len() as u64;
        if *size > limit {
            return Err(Intake::TooLarge);
        }
        batched += chunk.len();
        batch.push(chunk);
        if batched >= WRITE_BATCH {
            return Ok((batch, false));
        }
        match chunks.next().now_or_never() {
            Some(more) => next = more,
            None => return Ok((batch, false)),
        }
    }
}

/// An upload's running MD5 and its writer, between batches.
struct Stages {
    md5: md5::Md5,
    writer: Writer,
}

/// The file and the CRC-64 of what went into it.
struct Writer {
    file: std::fs::File,
    at: u64,
    crc: crc::Digest<'static, u64, crc::Table<16>>,
}

/// The least a batch splits its MD5 from its write for: the body of a fast upload arrives in
/// pieces of this order, a slow upload's and a small file's in less.
const SPLIT_BATCH: usize = 64 << 10;

/// A batch being hashed and written on blocking threads.
enum Busy {
    /// A batch under [`SPLIT_BATCH`], on one thread: a second hand-off would cost more than
    /// it saves.
    One(tokio::task::JoinHandle<io::Result<Stages>>),
    /// The MD5 on one thread, the CRC-64 and the write on another.
    Two {
        md5: tokio::task::JoinHandle<io::Result<md5::Md5>>,
        writer: tokio::task::JoinHandle<io::Result<Writer>>,
    },
}

impl Stages {
    fn take(self, batch: Vec<bytes::Bytes>) -> Busy {
        let Stages {
            mut md5,
            mut writer,
        } = self;
        if batch.iter().map(bytes::Bytes::len).sum::<usize>() < SPLIT_BATCH {
            return Busy::One(tokio::task::spawn_blocking(move || {
                batch.iter().for_each(|chunk| md5.update(chunk));
                writer.write(&batch)?;
                Ok(Stages { md5, writer })
            }));
        }
        let hashed = batch.clone();
        Busy::Two {
            md5: tokio::task::spawn_blocking(move || {
                hashed.iter().for_each(|chunk| md5.update(chunk));
                Ok(md5)
            }),
            writer: tokio::task::spawn_blocking(move || {
                writer.write(&batch)?;
                Ok(writer)
            }),
        }
    }
}

impl Writer {
    /// The batch's CRC-64 and its write, chunk by chunk (each read while it is in the cache).
    fn write(&mut self, batch: &[bytes::Bytes]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        for chunk in batch {
            self.crc.update(chunk);
            self.file.write_all_at(chunk, self.at)?;
            self.at += chunk.len() as u64;
        }
        Ok(())
    }
}

impl Busy {
    /// The stages back, each waited for even when another failed.
    async fn done<E>(self) -> Result<Stages, Intake<E>> {
        match self {
            Busy::One(both) => joined(both).await,
            Busy::Two { md5, writer } => {
                let md5 = joined(md5).await;
                let writer = joined(writer).await?;
                Ok(Stages { md5: md5?, writer })
            }
        }
    }
}

/// What a blocking thread gave back, its panic or refusal an I/O error.
async fn joined<T, E>(task: tokio::task::JoinHandle<io::Result<T>>) -> Result<T, Intake<E>> {
    task.await
        .map_err(|e| Intake::Io(io::Error::other(e)))?
        .map_err(Intake::Io)
}

/// Every object key under `dir` (a folder of `objects`), unsorted.
fn walk_keys(objects: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk_keys(objects, &path, out),
            Ok(kind) if kind.is_file() => {
                let key = path
                    .strip_prefix(objects)
                    .ok()
                    .and_then(|relative| relative.to_str())
                    .map(|relative| relative.replace(std::path::MAIN_SEPARATOR, "/"));
                out.extend(key);
            }
            _ => {}
        }
    }
}

fn conflict_or_io(e: io::Error) -> StoreError {
    match e.kind() {
        io::ErrorKind::NotADirectory
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::AlreadyExists => StoreError::Conflict,
        _ => StoreError::Io(e),
    }
}

/// Bytes received into a synced temp file.
pub struct Received {
    pub temp: TempObject,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
}

impl Received {
    /// The MD5 as upper-case hex (the ETag without quotes).
    pub fn md5_hex(&self) -> String {
        upper_hex(&self.md5)
    }
}

/// Upper-case hex, as OSS writes MD5s in ETags.
pub fn upper_hex(bytes: &[u8]) -> String {
    crate::server::protocol::signing::hex(bytes).to_ascii_uppercase()
}

/// Why `receive` stopped.
#[derive(Debug)]
pub enum Intake<E> {
    TooLarge,
    Source(E),
    Io(io::Error),
}

/// A temp file that is removed when dropped uncommitted: every error path, a client that
/// disconnects mid-upload, a panic.
#[derive(Debug)]
pub struct TempObject {
    path: Option<PathBuf>,
}

impl Drop for TempObject {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn keys_map_to_paths_safely() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).await.unwrap();
        assert!(store
            .object_path("uploads/a.jpg")
            .unwrap()
            .ends_with("objects/uploads/a.jpg"));
        for bad in [
            "", "/abs", "a//b", "a/../b", "..", "a/./b", "a\\b", "a\nb", "dir/",
        ] {
            assert!(store.object_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test]
    async fn commit_is_atomic_and_no_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).await.unwrap();
        let (temp, mut file) = store.create_temp().await.unwrap();
        file.write_all(b"one").await.unwrap();
        store
            .commit(temp, "a/b.txt", &ObjectMeta::default(), false)
            .await
            .unwrap();
        assert!(store.exists("a/b.txt").await.unwrap());

        let (temp, mut file) = store.create_temp().await.unwrap();
        file.write_all(b"two").await.unwrap();
        let err = store
            .commit(temp, "a/b.txt", &ObjectMeta::default(), false)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists));
        assert_eq!(
            std::fs::read(dir.path().join("objects/a/b.txt")).unwrap(),
            b"one"
        );
        // The refused temp file is gone.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );

        let (temp, mut file) = store.create_temp().await.unwrap();
        file.write_all(b"three").await.unwrap();
        let err = store
            .commit(temp, "a/b.txt/c", &ObjectMeta::default(), true)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict), "{err:?}");
        let (temp, _) = store.create_temp().await.unwrap();
        let err = store
            .commit(temp, "a", &ObjectMeta::default(), true)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict), "{err:?}");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    /// Chunks as a body stream gives them, then `end` (an error: the client went away).
    fn stream_of(
        chunks: Vec<Vec<u8>>,
        end: Option<&'static str>,
    ) -> impl futures_util::Stream<Item = Result<bytes::Bytes, &'static str>> + Unpin {
        let items = chunks
            .into_iter()
            .map(|c| Ok(bytes::Bytes::from(c)))
            .chain(end.map(Err));
        futures_util::stream::iter(items.collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn what_is_written_is_what_arrived_and_its_digests_are_of_it() {
        use md5::Digest;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        // After 5 bytes kept: four batches of three chunks (each hashed beside its write),
        // then one of 777 bytes (hashed and written on one thread).
        let bytes: Vec<u8> = (0..12 * 50_001 + 777)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let chunks: Vec<Vec<u8>> = bytes.chunks(50_001).map(<[u8]>::to_vec).collect();
        std::fs::write(&path, b"kept!").unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let written = write_at(stream_of(chunks, None), u64::MAX, file, 5)
            .await
            .unwrap();
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.md5, <[u8; 16]>::from(md5::Md5::digest(&bytes)));
        assert_eq!(written.crc64, CRC64.checksum(&bytes));
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[..5], b"kept!");
        assert_eq!(&on_disk[5..], &bytes[..]);
    }

    #[tokio::test]
    async fn more_than_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join("body")).unwrap();
        let chunks = vec![vec![1u8; 10], vec![2u8; 10]];
        let refused = write_at(stream_of(chunks, None), 15, file, 0).await;
        assert!(matches!(refused, Err(Intake::TooLarge)));
    }

    #[tokio::test]
    async fn a_refused_upload_returns_only_once_its_writes_have_ended() {
        // One large batch goes to the writer, then the client goes away at once: nothing may
        // still be writing into the file when the caller gets the refusal (a part's place in
        // an upload's body is free again then).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let file = std::fs::File::create(&path).unwrap();
        let large = vec![9u8; 64 << 20];
        let refused = write_at(stream_of(vec![large], Some("gone")), u64::MAX, file, 0).await;
        assert!(matches!(refused, Err(Intake::Source("gone"))));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 << 20);
    }

    #[tokio::test]
    async fn leftovers_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::open(dir.path()).await.unwrap();
        let (temp, _) = store.create_temp().await.unwrap();
        std::mem::forget(temp); // as a crash would
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            1
        );
        ObjectStore::open(dir.path()).await.unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
