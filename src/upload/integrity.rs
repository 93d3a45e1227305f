//! The file's MD5, computed in the page while it uploads, to compare with the bucket's ETag:
//! read in slices so the page never freezes (each slice is an await, which yields).

use md5::{Digest, Md5};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Bytes read per step: large enough to be fast, small enough to keep the page responsive.
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

/// Upper-case hex MD5 of a whole file or of a slice of one. The next slice is being read
/// while this one is hashed (reading was about as slow as hashing, one after the other).
pub async fn md5_hex(file: web_sys::Blob) -> Result<String, String> {
    let mut hasher = Md5::new();
    let size = file.size();
    let mut start = 0.0;
    let mut read_next = || -> Result<Option<JsFuture>, String> {
        if start >= size {
            return Ok(None);
        }
        let end = (start + SLICE).min(size);
        let reading = start_reading(&file, start, end)?;
        start = end;
        Ok(Some(reading))
    };
    let mut reading = read_next()?;
    while let Some(current) = reading {
        let bytes = bytes_of(current).await?;
        reading = read_next()?;
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect())
}
