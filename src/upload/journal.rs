//! The batch as the page keeps it in the browser's storage while it runs, so that after a
//! reload (WeChat killed the page behind the camera, the reader closed it) the page can say
//! which files finished and take the rest when they are picked again. Pure; both sides.

use leptos::prelude::*;

use super::row::{RowStatus, UploadRow};
use crate::model::NamingMode;

/// How long a journal is listed again: a page killed behind the camera comes back within
/// minutes; a batch left for a day is not brought back.
pub const KEPT_MS: u64 = 24 * 3600 * 1000;

/// The batch: where it goes, how it names, and its files.
#[derive(Clone, Debug, PartialEq)]
pub struct Journal {
    /// The folder field as it was (what follows the root).
    pub folder: String,
    pub naming: NamingMode,
    /// When it was written, in milliseconds since the epoch.
    pub written: u64,
    pub files: Vec<Entry>,
}

/// A file of the batch; `stored` once the bucket holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// `File.lastModified`, in milliseconds.
    pub modified: u64,
    pub stored: Option<Stored>,
}

/// Where a finished file is, as its row showed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub key: String,
    pub url: String,
    pub etag: String,
    pub verified: bool,
}

/// Text as one field of a line: control characters (tabs and line ends among them) become
/// spaces.
fn field(text: &str) -> String {
    text.replace(char::is_control, " ")
}

impl Journal {
    /// The batch the list holds, with where the finished files are: every row but the
    /// cancelled ones, and but those a reload left missing that were not picked again before
    /// this run (the reader chose not to).
    pub fn of_rows(rows: &[UploadRow], folder: &str, naming: NamingMode, now_ms: u64) -> Self {
        let files = rows
            .iter()
            .filter_map(|row| {
                let stored = match row.status.get_untracked() {
                    RowStatus::Cancelled | RowStatus::Missing => return None,
                    RowStatus::Done {
                        key,
                        url,
                        etag,
                        verified,
                        ..
                    } => Some(Stored {
                        key,
                        url,
                        etag,
                        verified,
                    }),
                    _ => None,
                };
                Some(Entry {
                    name: field(&row.name),
                    size: row.size,
                    modified: row.modified as u64,
                    stored,
                })
            })
            .collect();
        Journal {
            folder: folder.to_owned(),
            naming,
            written: now_ms,
            files,
        }
    }

    /// Whether a page opening at `now_ms` lists it again (written in the last `KEPT_MS`).
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.written) < KEPT_MS
    }

    /// Files the bucket does not hold yet.
    pub fn unfinished(&self) -> usize {
        self.files.iter().filter(|f| f.stored.is_none()).count()
    }

    /// Lines of tab-separated fields: `batch`, the folder, the naming and when first, then one
    /// line per file (name, size, date, and for a stored one its key, URL, ETag and `1` if verified).
    pub fn to_text(&self) -> String {
        let naming = match self.naming {
            NamingMode::Random => "random",
            NamingMode::Original => "original",
        };
        let mut text = format!("batch\t{}\t{naming}\t{}", field(&self.folder), self.written);
        for file in &self.files {
            text.push_str(&format!(
                "\n{}\t{}\t{}",
                field(&file.name),
                file.size,
                file.modified
            ));
            if let Some(stored) = &file.stored {
                text.push_str(&format!(
                    "\t{}\t{}\t{}\t{}",
                    field(&stored.key),
                    field(&stored.url),
                    field(&stored.etag),
                    u8::from(stored.verified)
                ));
            }
        }
        text
    }

    /// What `to_text` wrote; `None` for anything else (another version's journal, a damaged
    /// one): the page then starts afresh.
    pub fn from_text(text: &str) -> Option<Self> {
        let mut lines = text.split('\n');
        let head: Vec<&str> = lines.next()?.split('\t').collect();
        let ["batch", folder, naming, written] = head[..] else {
            return None;
        };
        let naming = match naming {
            "random" => NamingMode::Random,
            "original" => NamingMode::Original,
            _ => return None,
        };
        let mut files = Vec::new();
        for line in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            let (name, size, modified, stored) = match fields[..] {
                [name, size, modified] => (name, size, modified, None),
                [name, size, modified, key, url, etag, verified] => (
                    name,
                    size,
                    modified,
                    Some(Stored {
                        key: key.into(),
                        // Only a web link becomes the row's link again, whatever the storage
                        // was made to hold.
                        url: if url.starts_with("https://") || url.starts_with("http://") {
                            url.into()
                        } else {
                            String::new()
                        },
                        etag: etag.into(),
                        verified: verified == "1",
                    }),
                ),
                _ => return None,
            };
            files.push(Entry {
                name: name.into(),
                size: size.parse().ok()?,
                modified: modified.parse().ok()?,
                stored,
            });
        }
        Some(Journal {
            folder: folder.into(),
            naming,
            written: written.parse().ok()?,
            files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u32, name: &str, status: RowStatus) -> UploadRow {
        let row = UploadRow::new(id, name.into(), 100 + u64::from(id), String::new(), 1.7e12);
        row.status.set(status);
        row
    }

    #[test]
    fn the_list_is_kept_without_its_cancelled_rows() {
        let done = RowStatus::Done {
            key: "uploads/a/x1.jpg".into(),
            url: "http://127.0.0.1:9300/b/uploads/a/x1.jpg".into(),
            etag: "E1".into(),
            note: None,
            verified: true,
        };
        let rows = [
            row(1, "one.jpg", done),
            row(2, "two\tjpg", RowStatus::Uploading),
            row(3, "three.jpg", RowStatus::Cancelled),
            row(4, "four.jpg", RowStatus::Queued),
            row(5, "five.jpg", RowStatus::Missing),
        ];
        let journal = Journal::of_rows(&rows, "photos/", NamingMode::Original, 1_700_000_000_000);
        assert!(journal.is_fresh(1_700_000_000_000 + KEPT_MS - 1));
        assert!(!journal.is_fresh(1_700_000_000_000 + KEPT_MS));
        assert_eq!(journal.files.len(), 3);
        assert_eq!(journal.unfinished(), 2);
        assert_eq!(
            journal.files[0].stored.as_ref().unwrap().key,
            "uploads/a/x1.jpg"
        );
        assert!(journal.files[0].stored.as_ref().unwrap().verified);
        // A name with a tab is kept with a space in its place, its size and date as they were.
        let second = &journal.files[1];
        assert_eq!(
            (second.name.as_str(), second.size, second.modified),
            ("two jpg", 102, 1_700_000_000_000)
        );
        assert_eq!(journal.files[2].name, "four.jpg");
        let text = journal.to_text();
        assert_eq!(text.lines().count(), 4);
        assert_eq!(Journal::from_text(&text), Some(journal));
    }

    #[test]
    fn a_damaged_journal_is_none() {
        for text in [
            "",
            "batch\tphotos/\trandom",
            "batch\tphotos/\tsideways\t1",
            "batch\tphotos/\trandom\tsoon",
            "journal\tphotos/\trandom\t1",
            "batch\tphotos/\trandom\t1\na.jpg\t12",
            "batch\tphotos/\trandom\t1\na.jpg\ttwelve\t1",
            "batch\tphotos/\trandom\t1\na.jpg\t12\t1\tkey",
        ] {
            assert_eq!(Journal::from_text(text), None, "{text:?}");
        }
        let sneaky = "batch\tf/\trandom\t1\na.jpg\t1\t2\tk\tjavascript:alert(1)\tE\t1";
        let read = Journal::from_text(sneaky).unwrap();
        assert_eq!(read.files[0].stored.as_ref().unwrap().url, "");
        let empty = Journal::from_text("batch\t\trandom\t5").unwrap();
        assert_eq!((empty.folder.as_str(), empty.files.len()), ("", 0));
    }
}
