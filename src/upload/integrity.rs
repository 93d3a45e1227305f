//! The file's digest, computed in the page while it uploads, to compare with what the bucket
//! says it stored: CRC-64 where the store answers one (OSS, the embedded bucket), MD5 otherwise.

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

/// Feeds every byte of `file` to `update`, slice by slice. The next slice is being read while
/// this one is hashed (reading was about as slow as hashing, one after the other).
/// (`dyn`: one copy of this loop in the page's WASM for every digest.)
async fn each_slice(file: &web_sys::Blob, update: &mut dyn FnMut(&[u8])) -> Result<(), String> {
    let size = file.size();
    let mut start = 0.0;
    let mut read_next = || -> Result<Option<JsFuture>, String> {
        if start >= size {
            return Ok(None);
        }
        let end = (start + SLICE).min(size);
        let reading = start_reading(file, start, end)?;
        start = end;
        Ok(Some(reading))
    };
    let mut reading = read_next()?;
    while let Some(current) = reading {
        let bytes = bytes_of(current).await?;
        reading = read_next()?;
        update(&bytes);
    }
    Ok(())
}

/// Upper-case hex MD5 of a whole file or of a slice of one.
pub async fn md5_hex(file: web_sys::Blob) -> Result<String, String> {
    let mut hasher = Md5::new();
    each_slice(&file, &mut |bytes| hasher.update(bytes)).await?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect())
}

/// The digest `checksum` asks for, of a whole file or of a slice of one.
pub async fn digest(file: web_sys::Blob, checksum: Checksum) -> Result<Digest, String> {
    match checksum {
        Checksum::Md5 => md5_hex(file).await.map(Digest::Md5),
        Checksum::Crc64 => {
            let mut crc = super::check::crc64().digest();
            each_slice(&file, &mut |bytes| crc.update(bytes)).await?;
            Ok(Digest::Crc64(crc.finalize()))
        }
    }
}

/// Whether the bucket stored `sent` as it is: the reply against the digest hashed while it went
/// up. A reply without the CRC header (a CORS rule hiding it) is checked by the file's MD5
/// against its ETag instead, read once more. `Ok(false)`: nothing to compare (a multipart ETag,
/// or the file could not be read again); a difference is a `Mismatch`.
pub async fn verify(
    sent: &web_sys::Blob,
    reply: &Reply,
    digest: Result<Digest, String>,
) -> Result<bool, Problem> {
    let Ok(digest) = digest else {
        return Ok(false);
    };
    let compared = match super::check::stored_matches(&reply.etag, reply.crc64.as_deref(), &digest)
    {
        Some(compared) => Some(compared),
        None if matches!(digest, Digest::Crc64(_)) => match md5_hex(sent.clone()).await {
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
