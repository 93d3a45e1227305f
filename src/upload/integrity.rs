//! The file's MD5, computed in the page while it uploads, to compare with the bucket's ETag:
//! read in slices so the page never freezes (each slice is an await, which yields).

use md5::{Digest, Md5};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Bytes read per step: large enough to be fast, small enough to keep the page responsive.
const SLICE: f64 = 4.0 * 1024.0 * 1024.0;

/// The bytes `[start, end)` of a file (or of a slice of one).
pub async fn read(blob: &web_sys::Blob, start: f64, end: f64) -> Result<Vec<u8>, String> {
    let unreadable = |_| "The file could not be read.".to_owned();
    let slice = blob
        .slice_with_f64_and_f64(start, end)
        .map_err(unreadable)?;
    let buffer = JsFuture::from(slice.array_buffer())
        .await
        .map_err(unreadable)?;
    Ok(js_sys::Uint8Array::new(buffer.unchecked_ref()).to_vec())
}

/// Upper-case hex MD5 of a whole file or of a slice of one.
pub async fn md5_hex(file: web_sys::Blob) -> Result<String, String> {
    let mut hasher = Md5::new();
    let size = file.size();
    let mut start = 0.0;
    while start < size {
        let end = (start + SLICE).min(size);
        hasher.update(read(&file, start, end).await?);
        start = end;
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect())
}
