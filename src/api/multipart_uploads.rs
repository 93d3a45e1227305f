//! The four steps of a resumable multipart upload, each its own endpoint. The server decides
//! the key and signs; the browser only ever names an upload by the stamped reference it got.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::PortalError;
use crate::model::{
    CompletedUpload, FileSpec, MultipartPlan, MultipartUpload, NamingMode, StoredPart,
};

/// Starts a multipart upload of one large file: its key (by the same rules as any upload) and a
/// presigned URL per part.
#[server(endpoint = "start_multipart", input = Json)]
pub async fn start_multipart(
    file: FileSpec,
    naming: NamingMode,
    folder: String,
) -> Result<MultipartPlan, PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, from, viewer, sender) = uploader().await?;
    crate::server::portal::multipart::start(
        &state,
        &from,
        &viewer,
        sender.as_ref(),
        file,
        naming,
        folder,
    )
    .await
}

/// Continues an upload (after a reload, or when its URLs expired): the parts already stored
/// and fresh URLs for the others.
#[server(endpoint = "resume_multipart", input = Json)]
pub async fn resume_multipart(upload: MultipartUpload) -> Result<MultipartPlan, PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, from, viewer, _) = uploader().await?;
    crate::server::portal::multipart::resume(&state, &from, &viewer, upload).await
}

/// Assembles the uploaded parts into the object.
#[server(endpoint = "complete_multipart", input = Json)]
pub async fn complete_multipart(
    upload: MultipartUpload,
    parts: Vec<StoredPart>,
) -> Result<CompletedUpload, PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, _, viewer, _) = uploader().await?;
    crate::server::portal::multipart::complete(&state, &viewer, upload, parts).await
}

/// Drops a cancelled upload and its parts.
#[server(endpoint = "abort_multipart", input = Json)]
pub async fn abort_multipart(upload: MultipartUpload) -> Result<(), PortalError> {
    use crate::server::portal::requests::sending::uploader;
    let (state, _, viewer, _) = uploader().await?;
    crate::server::portal::multipart::abort(&state, &viewer, upload).await
}
