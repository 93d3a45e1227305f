//! A photo before it goes up: redrawn smaller on request, or its location taken out of a
//! JPEG's head with the rest of the file untouched (the browser joins head and tail).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, File, FilePropertyBag, ImageBitmap, ImageBitmapOptions, ImageEncodeOptions,
    ImageOrientation, OffscreenCanvas, OffscreenCanvasRenderingContext2d,
};

use super::location::{strip_location, HEAD};
use super::photo_size::fitted;
use super::problem::Problem;

/// `file` redrawn by the browser with its longest edge at most `edge` pixels, upright (its EXIF
/// orientation applied), in its own `kind` at `quality` percent. `None` keeps the original: it
/// is that small already, the browser cannot decode or encode it, or the result is no smaller.
pub async fn smaller(file: &File, kind: &str, edge: u32, quality: u32) -> Option<File> {
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    let decoding = web_sys::window()?
        .create_image_bitmap_with_blob_and_image_bitmap_options(file, &options)
        .ok()?;
    let bitmap: ImageBitmap = JsFuture::from(decoding).await.ok()?.unchecked_into();
    let fit = fitted(bitmap.width(), bitmap.height(), edge);
    let drawn = fit.and_then(|(width, height)| {
        let canvas = OffscreenCanvas::new(width, height).ok()?;
        let context: OffscreenCanvasRenderingContext2d =
            canvas.get_context("2d").ok()??.unchecked_into();
        // The finest resampling the browser has (web-sys has no setter for it).
        let _ = js_sys::Reflect::set(&context, &"imageSmoothingQuality".into(), &"high".into());
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(
                &bitmap,
                0.0,
                0.0,
                f64::from(width),
                f64::from(height),
            )
            .ok()?;
        Some(canvas)
    });
    // The decoded pixels (48 MB for 12 MP) go now, not when the collector gets to them.
    bitmap.close();
    let encode = ImageEncodeOptions::new();
    encode.set_type(kind);
    encode.set_quality(f64::from(quality) / 100.0);
    let encoding = drawn?.convert_to_blob_with_options(&encode).ok()?;
    let blob: Blob = JsFuture::from(encoding).await.ok()?.unchecked_into();
    // A browser that cannot write the type writes PNG instead: keep the original then.
    if blob.type_() != kind || blob.size() >= file.size() {
        return None;
    }
    let properties = FilePropertyBag::new();
    properties.set_type(kind);
    properties.set_last_modified(file.last_modified());
    File::new_with_blob_sequence_and_options(&Array::of1(&blob), &file.name(), &properties).ok()
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
