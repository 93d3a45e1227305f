//! The portal's record of completed uploads, one JSON line each. A repeated callback for the
//! same object and ETag is recorded once. (A database ledger replaces this file later.)

use std::collections::HashSet;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub size: u64,
    pub mime_type: String,
    pub ticket: String,
    /// Seconds since the Unix epoch.
    pub recorded_at: i64,
}

pub struct UploadLog {
    path: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    seen: HashSet<(String, String, String)>,
    records: Vec<UploadRecord>,
}

impl UploadLog {
    /// Opens (creating its folder) and reads the existing records.
    pub fn open(path: &Path) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut inner = Inner {
            seen: HashSet::new(),
            records: Vec::new(),
        };
        if let Ok(file) = std::fs::File::open(path) {
            for line in io::BufReader::new(file).lines() {
                // A torn last line (crash mid-write) is skipped, not fatal.
                if let Ok(record) = serde_json::from_str::<UploadRecord>(&line?) {
                    inner.seen.insert((
                        record.bucket.clone(),
                        record.key.clone(),
                        record.etag.clone(),
                    ));
                    inner.records.push(record);
                }
            }
        }
        Ok(UploadLog {
            path: path.to_owned(),
            inner: Mutex::new(inner),
        })
    }

    /// Appends `record` unless its bucket, key and ETag are already recorded; true when new.
    pub fn record(&self, record: &UploadRecord) -> io::Result<bool> {
        let mut inner = self.inner.lock().expect("upload log lock");
        let id = (
            record.bucket.clone(),
            record.key.clone(),
            record.etag.clone(),
        );
        if inner.seen.contains(&id) {
            return Ok(false);
        }
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&line)?;
        inner.seen.insert(id);
        inner.records.push(record.clone());
        Ok(true)
    }

    pub fn records(&self) -> Vec<UploadRecord> {
        self.inner.lock().expect("upload log lock").records.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_records_are_kept_once_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log/uploads.jsonl");
        let record = UploadRecord {
            bucket: "b".into(),
            key: "uploads/a.jpg".into(),
            etag: "ABC".into(),
            size: 3,
            mime_type: "image/jpeg".into(),
            ticket: "t".into(),
            recorded_at: 1,
        };
        let log = UploadLog::open(&path).unwrap();
        assert!(log.record(&record).unwrap());
        assert!(!log.record(&record).unwrap());
        let reopened = UploadLog::open(&path).unwrap();
        assert!(!reopened.record(&record).unwrap());
        assert_eq!(reopened.records(), vec![record]);
    }
}
