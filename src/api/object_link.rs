use leptos::prelude::*;

use crate::model::PortalError;

/// The link to an uploaded object (a presigned GET for S3 buckets), for keys under the upload
/// root only.
#[server(endpoint = "object_link")]
pub async fn object_link(key: String) -> Result<String, PortalError> {
    use crate::server::state::{app_state, respond};

    respond(app_state().and_then(|state| {
        let inside =
            key.starts_with(&state.rules.upload_root) && !key.is_empty() && key.len() <= 1023;
        if inside && !key.split('/').any(|s| s == ".." || s == ".") && !key.contains(['\\', '\0']) {
            Ok(state.target.object_url(&key))
        } else {
            Err(PortalError::Invalid(crate::model::Notice::NotAnUpload))
        }
    }))
}
