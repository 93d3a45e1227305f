//! A photo before it goes up: its location taken out of a JPEG's head, the rest of the file
//! untouched (the browser joins the new head and the old tail without copying the tail).

use js_sys::{Array, Uint8Array};
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FilePropertyBag};

use super::location::{strip_location, HEAD};
use super::problem::Problem;

/// A JPEG, by the browser's type or else by the name's extension.
pub fn is_jpeg(name: &str, content_type: &str) -> bool {
    let extension = super::row::extension_of(name);
    content_type == "image/jpeg"
        || extension.eq_ignore_ascii_case("jpg")
        || extension.eq_ignore_ascii_case("jpeg")
}

/// `file` without where it was taken, when it is a JPEG whose EXIF says so; else `file`
/// itself. Same name, type, size and date: the ticket, the list and a resumed upload see the
/// same file.
pub async fn without_location(file: &File) -> Result<File, Problem> {
    let cut = file.size().min(f64::from(HEAD));
    let head = file
        .slice_with_f64_and_f64(0.0, cut)
        .map_err(|_| Problem::Browser)?;
    let read = JsFuture::from(head.array_buffer())
        .await
        .map_err(|_| Problem::Browser)?;
    let mut bytes = Uint8Array::new(&read).to_vec();
    if !strip_location(&mut bytes) {
        return Ok(file.clone());
    }
    let tail = file.slice_with_f64(cut).map_err(|_| Problem::Browser)?;
    let parts = Array::of2(&Uint8Array::from(bytes.as_slice()), &tail);
    let options = FilePropertyBag::new();
    options.set_type(&file.type_());
    options.set_last_modified(file.last_modified());
    File::new_with_blob_sequence_and_options(&parts, &file.name(), &options)
        .map_err(|_| Problem::Browser)
}
