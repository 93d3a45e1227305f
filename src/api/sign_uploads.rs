//! The two server fns of a single upload: signing a batch (one ticket per file, recorded
//! before it leaves) and confirming what the bucket stored.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::PortalError;
use crate::model::{CompletedUpload, UploadBatch, UploadTicket};

/// Signs one upload ticket per file of the batch: the server picks every key (under the
/// signed-in user's root), pins it, the exact size and the content type in a short-lived
/// policy, records it in the ledger, and signs it. The secret stays here.
#[server(endpoint = "sign_uploads", input = Json)]
pub async fn sign_uploads(batch: UploadBatch) -> Result<Vec<UploadTicket>, PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, from, viewer, sender) = uploader().await?;
    crate::server::portal::tickets::issue(&state, &from, &viewer, sender.as_ref(), batch).await
}

/// The page stored `key` and the bucket answered `etag`: the portal checks the object (HEAD:
/// the declared size and this ETag) and completes its ledger entry. The page gets back what
/// it shows (key, link, ETag), not the whole entry: the uploader's WASM decodes only that.
#[server(endpoint = "confirm_upload", input = Json)]
pub async fn confirm_upload(key: String, etag: String) -> Result<CompletedUpload, PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, _, viewer, _) = uploader().await?;
    let entry = crate::server::portal::completion::confirm(&state, &viewer, &key, &etag).await?;
    Ok(CompletedUpload {
        key: entry.key,
        url: entry.url,
        etag: entry.etag.unwrap_or_default(),
    })
}
