use leptos::prelude::*;

use crate::model::PortalError;

/// The link to an uploaded object (a presigned GET for S3 buckets), for keys under the
/// signed-in user's root only.
#[server(endpoint = "object_link")]
pub async fn object_link(key: String) -> Result<String, PortalError> {
    use crate::server::state::signed_in;

    let (state, _, viewer) = signed_in().await?;
    let inside = key.starts_with(&viewer.root) && !key.is_empty() && key.len() <= 1023;
    if inside && !key.split('/').any(|s| s == ".." || s == ".") && !key.contains(['\\', '\0']) {
        Ok(state.target.object_url(&key))
    } else {
        Err(PortalError::Invalid(crate::model::Notice::NotAnUpload))
    }
}
