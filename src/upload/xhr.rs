//! One form POST with XMLHttpRequest, whose `upload` events give byte progress (fetch has none).
//! Dropping the future aborts the request: that is how an upload is cancelled.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DomParser, FormData, ProgressEvent, SupportedType, XmlHttpRequest};

use super::problem::Problem;
use crate::model::UploadTicket;
use crate::upload::row::Note;

pub struct Reply {
    pub status: u16,
    pub etag: String,
    /// `x-oss-hash-crc64ecma`: the CRC-64 of what OSS stored (absent from S3 stores, and
    /// where a CORS rule does not expose it).
    pub crc64: Option<String>,
    pub body: String,
}

impl Reply {
    /// The bucket's refusal, when the status is not 2xx.
    pub fn refusal(&self) -> Option<Problem> {
        if (200..300).contains(&self.status) {
            return None;
        }
        let (code, message) = error_code_and_message(&self.body);
        Some(Problem::Refused {
            status: self.status,
            code,
            message,
        })
    }
}

fn js_error(_: JsValue) -> Problem {
    Problem::Browser
}

/// Aborts the request if the future is dropped before it ends (handlers detached first).
struct InFlight(Option<XmlHttpRequest>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(xhr) = self.0.take() {
            xhr.set_onload(None);
            xhr.set_onerror(None);
            xhr.set_onabort(None);
            let _ = xhr.abort();
        }
    }
}

/// POSTs the ticket's fields and then the file to the bucket; `on_progress(loaded, total)`
/// follows the bytes sent.
pub async fn post_form(
    ticket: &UploadTicket,
    file: &web_sys::File,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Result<Reply, Problem> {
    let form = FormData::new().map_err(js_error)?;
    for (name, value) in &ticket.fields {
        form.append_with_str(name, value).map_err(js_error)?;
    }
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(js_error)?;
    send("POST", &ticket.url, Body::Form(&form), on_progress).await
}

/// PUTs a slice of a file to a presigned URL (a multipart part). A slice has no type, so no
/// Content-Type is sent, as the URL was signed.
pub async fn put_blob(
    url: &str,
    blob: &web_sys::Blob,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Result<Reply, Problem> {
    send("PUT", url, Body::Blob(blob), on_progress).await
}

enum Body<'a> {
    Form(&'a FormData),
    Blob(&'a web_sys::Blob),
}

async fn send(
    method: &str,
    url: &str,
    body: Body<'_>,
    on_progress: impl Fn(f64, f64) + 'static,
) -> Result<Reply, Problem> {
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open(method, url).map_err(js_error)?;

    let (sender, receiver) = futures::channel::oneshot::channel::<Result<(), Problem>>();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let finish = |outcome: Result<(), Problem>| {
        let sender = sender.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(outcome.clone());
            }
        })
    };
    let on_load = finish(Ok(()));
    let on_error = finish(Err(Problem::Network));
    // Only the browser aborts on its own (we detach this before aborting): a network fault.
    let on_abort = finish(Err(Problem::Network));
    let on_upload_progress =
        Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            if event.length_computable() {
                on_progress(event.loaded(), event.total());
            }
        });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    xhr.upload()
        .map_err(js_error)?
        .set_onprogress(Some(on_upload_progress.as_ref().unchecked_ref()));
    match body {
        Body::Form(form) => xhr.send_with_opt_form_data(Some(form)),
        Body::Blob(blob) => xhr.send_with_opt_blob(Some(blob)),
    }
    .map_err(js_error)?;
    // Declared after the closures, so dropped (aborting) while they are still alive.
    let mut in_flight = InFlight(Some(xhr.clone()));

    let outcome = receiver.await.unwrap_or(Err(Problem::Network));
    in_flight.0 = None;
    // The closures must live until the request has ended; drop them explicitly after it.
    drop((on_load, on_error, on_abort, on_upload_progress));
    outcome?;
    let header = |name: &str| xhr.get_response_header(name).ok().flatten();
    Ok(Reply {
        status: xhr.status().unwrap_or(0),
        etag: header("ETag").unwrap_or_default(),
        crc64: header("x-oss-hash-crc64ecma"),
        body: xhr.response_text().ok().flatten().unwrap_or_default(),
    })
}

/// `Code` and `Message` of an OSS `<Error>` document, read with the browser's own XML parser.
pub fn error_code_and_message(body: &str) -> (String, String) {
    let Ok(parser) = DomParser::new() else {
        return Default::default();
    };
    let Ok(document) = parser.parse_from_string(body, SupportedType::ApplicationXml) else {
        return Default::default();
    };
    let text = |tag: &str| {
        document
            .get_elements_by_tag_name(tag)
            .item(0)
            .and_then(|element| element.text_content())
            .unwrap_or_default()
    };
    (text("Code"), text("Message"))
}

/// What an upload callback's JSON reply (passed through by the bucket) says: that our portal
/// recorded the upload, or another app server's `message`.
pub fn callback_note(body: &str) -> Option<Note> {
    if body.is_empty() {
        return None;
    }
    let reply = js_sys::JSON::parse(body).ok()?;
    let field = |name: &str| js_sys::Reflect::get(&reply, &JsValue::from_str(name)).ok();
    if field("recorded").and_then(|value| value.as_bool()) == Some(true) {
        return Some(Note::Recorded);
    }
    field("message")?.as_string().map(Note::Said)
}
