//! Which multipart uploads this process is writing now: the lock each upload's parts, its
//! completion and its abort take, so that no two of them write the same bytes at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// The uploads this process is writing: who writes into a body now, and which completion
/// waits for them. (The embedded bucket is one process; its uploads folder is its own.)
#[derive(Default)]
pub struct Uploads {
    open: Mutex<HashMap<String, Weak<UploadLock>>>,
}

#[derive(Default)]
pub(super) struct UploadLock {
    /// Shared by each part being written into the body; taken alone by completing and
    /// aborting, which wait for those parts. Parts that come meanwhile get files of their own.
    pub body: Arc<tokio::sync::RwLock<()>>,
    /// Part numbers being written into the body now: the same part sent twice at once gets a
    /// file of its own the second time.
    pub writing: Mutex<HashSet<u32>>,
    /// Held while a part is placed and recorded (and the file the old record named removed),
    /// and while the upload ends: no part is recorded in an upload that is going.
    pub records: tokio::sync::Mutex<()>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Upload `id` held alone (completing or aborting it): no part is being written into its
/// body, and none starts to until this is dropped.
pub(super) struct Alone {
    _body: tokio::sync::OwnedRwLockWriteGuard<()>,
    /// Kept so that anyone who looks the upload up meanwhile finds this same lock.
    pub upload: Arc<UploadLock>,
}

impl Uploads {
    /// Waits for the parts being written into upload `id`'s body, then holds it alone.
    pub(super) async fn alone(&self, id: &str) -> Alone {
        let upload = self.lock(id);
        let body = Arc::clone(&upload.body).write_owned().await;
        Alone {
            _body: body,
            upload,
        }
    }

    /// Upload `id`'s lock, shared by everyone who holds it now.
    pub(super) fn lock(&self, id: &str) -> Arc<UploadLock> {
        let mut open = lock(&self.open);
        if let Some(held) = open.get(id).and_then(Weak::upgrade) {
            return held;
        }
        open.retain(|_, held| held.strong_count() > 0);
        let fresh = Arc::new(UploadLock::default());
        open.insert(id.to_owned(), Arc::downgrade(&fresh));
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_held_alone_takes_no_part_into_its_body() {
        let uploads = Uploads::default();
        // A part being written holds the upload's lock and its body shared.
        let part = uploads.lock("a");
        let writing = Arc::clone(&part.body).try_read_owned().unwrap();
        let waiting = tokio::spawn(async move {
            let uploads = uploads;
            let alone = uploads.alone("a").await;
            // Whoever looks the upload up while it is held finds it held.
            assert!(uploads.lock("a").body.try_read().is_err());
            assert!(uploads.lock("b").body.try_read().is_ok());
            drop(alone);
            assert!(uploads.lock("a").body.try_read().is_ok());
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the part being written is waited for"
        );
        drop((writing, part));
        waiting.await.unwrap();
    }
}
