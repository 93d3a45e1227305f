//! The file's digest, hashed in the page at its upload's pace, against what the bucket says it
//! stored: CRC-64 where the store answers one (OSS, the embedded bucket), MD5 otherwise.

use std::cell::Cell;
use std::rc::Rc;
use std::task::{Poll, Waker};

use md5::{Digest as _, Md5};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::check::Digest;
use super::problem::Problem;
use super::xhr::Reply;
use crate::model::Checksum;

/// Bytes read per step: large enough to be fast, small enough that hashing one step keeps the
/// page responsive (each step is an await, which yields).
const SLICE: f64 = 4.0 * 1024.0 * 1024.0;

/// Starts reading the bytes `[start, end)` of a file (or of a slice of one): the browser
/// reads them off the main thread from the moment this returns.
fn start_reading(blob: &web_sys::Blob, start: f64, end: f64) -> Result<JsFuture, String> {
    let slice = blob
        .slice_with_f64_and_f64(start, end)
        .map_err(|_| unreadable())?;
    Ok(JsFuture::from(slice.array_buffer()))
}

/// How far the hash may read ahead of the bytes its upload has sent.
const LEAD: f64 = 2.0 * SLICE;

/// How many bytes its POST has sent (the form's body: fields, then file); `INFINITY` once the
/// first attempt is over, sent or not (retries are not followed). A hash given one follows the
/// upload instead of racing it: hashing ahead takes the cores the browser needs to send it.
#[derive(Clone)]
pub struct Sent(Rc<(Cell<f64>, Cell<Option<Waker>>)>);

impl Sent {
    pub fn new() -> Self {
        Sent(Rc::new((Cell::new(0.0), Cell::new(None))))
    }

    /// `bytes` have gone up (never less than before).
    pub fn reached(&self, bytes: f64) {
        let (sent, waiting) = &*self.0;
        sent.set(sent.get().max(bytes));
        if let Some(waker) = waiting.take() {
            waker.wake();
        }
    }

    /// Waits until the upload has sent all but [`LEAD`] bytes of the first `end` (woken by
    /// the upload's progress, not by a timer, which a hidden tab slows down).
    fn covers(&self, end: f64) -> impl std::future::Future<Output = ()> + '_ {
        futures::future::poll_fn(move |context| {
            let (sent, waiting) = &*self.0;
            if sent.get() + LEAD >= end {
                return Poll::Ready(());
            }
            waiting.set(Some(context.waker().clone()));
            Poll::Pending
        })
    }
}

fn unreadable() -> String {
    "The file could not be read.".to_owned()
}

async fn bytes_of(reading: JsFuture) -> Result<Vec<u8>, String> {
    let buffer = reading.await.map_err(|_| unreadable())?;
    Ok(js_sys::Uint8Array::new(buffer.unchecked_ref()).to_vec())
}

/// The bytes `[start, end)` of a file (or of a slice of one).
pub async fn read(blob: &web_sys::Blob, start: f64, end: f64) -> Result<Vec<u8>, String> {
    bytes_of(start_reading(blob, start, end)?).await
}

/// The next slice of `file` from `start` on, reading; `start` moves past it. A file of one
/// slice is read as it is: a slice of it would cost the browser a new blob for nothing.
fn read_next(file: &web_sys::Blob, start: &mut f64) -> Result<Option<JsFuture>, String> {
    let size = file.size();
    if *start >= size {
        return Ok(None);
    }
    let end = (*start + SLICE).min(size);
    let reading = match *start == 0.0 && end == size {
        true => JsFuture::from(file.array_buffer()),
        false => start_reading(file, *start, end)?,
    };
    *start = end;
    Ok(Some(reading))
}

/// Feeds every byte of `file` to `update`, slice by slice. The next slice is being read while
/// this one is hashed (reading was about as slow as hashing, one after the other); given
/// `follow`, once the upload nears that slice's end (a whole slice's, even for a short last).
/// (`dyn`: one copy of this loop in the page's WASM for every digest.)
async fn each_slice(
    file: &web_sys::Blob,
    follow: Option<&Sent>,
    update: &mut dyn FnMut(&[u8]),
) -> Result<(), String> {
    let mut start = 0.0;
    let mut reading = read_next(file, &mut start)?;
    while let Some(current) = reading {
        let bytes = bytes_of(current).await?;
        if let Some(sent) = follow {
            sent.covers(start + SLICE).await;
        }
        reading = read_next(file, &mut start)?;
        update(&bytes);
    }
    Ok(())
}

/// Upper-case hex MD5 of a whole file or of a slice of one, following `follow` when given.
pub async fn md5_hex(file: &web_sys::Blob, follow: Option<&Sent>) -> Result<String, String> {
    let mut hasher = Md5::new();
    each_slice(file, follow, &mut |bytes| hasher.update(bytes)).await?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect())
}

/// The digest `checksum` asks for, of a whole file or of a slice of one, following `follow`
/// when given.
pub async fn digest(
    file: web_sys::Blob,
    checksum: Checksum,
    follow: Option<Sent>,
) -> Result<Digest, String> {
    let follow = follow.as_ref();
    match checksum {
        Checksum::Md5 => md5_hex(&file, follow).await.map(Digest::Md5),
        Checksum::Crc64 => {
            let mut crc = super::check::crc64().digest();
            each_slice(&file, follow, &mut |bytes| crc.update(bytes)).await?;
            Ok(Digest::Crc64(crc.finalize()))
        }
    }
}

/// Whether the bucket stored `file` as it is: the reply against the digest hashed while it went
/// up. A reply without the CRC header (a CORS rule hiding it) is checked by the file's MD5
/// against its ETag instead, read once more. `Ok(false)`: nothing to compare (a multipart ETag,
/// or the file could not be read again); a difference is a `Mismatch`.
pub async fn verify(
    file: &web_sys::Blob,
    reply: &Reply,
    digest: Result<Digest, String>,
) -> Result<bool, Problem> {
    let Ok(digest) = digest else {
        return Ok(false);
    };
    let compared = match super::check::stored_matches(&reply.etag, reply.crc64.as_deref(), &digest)
    {
        Some(compared) => Some(compared),
        None if matches!(digest, Digest::Crc64(_)) => match md5_hex(file, None).await {
            Ok(md5) => super::check::stored_matches(&reply.etag, None, &Digest::Md5(md5)),
            Err(_) => None,
        },
        None => None,
    };
    match compared {
        Some(Err(stored)) => Err(Problem::Mismatch { stored }),
        Some(Ok(())) => Ok(true),
        None => Ok(false),
    }
}
