//! What the uploader is told: the upload rules it shows and pre-fills for a viewer (the server
//! enforces them again on signing), their limits, and the kind of browser asking.

use time::OffsetDateTime;

use super::access::{limits, Requester};
use super::state::AppState;
use crate::error::PortalError;
use crate::model::{ClientKind, Limits, UploaderSettings, Viewer};

/// The upload rules as the page shows and pre-fills them for `viewer` (the server enforces
/// them again on signing), their limits, and the kind of browser asking.
pub async fn uploader_settings(
    state: &AppState,
    from: &Requester,
    viewer: &Viewer,
) -> Result<UploaderSettings, PortalError> {
    let now = OffsetDateTime::now_utc();
    let rules = &state.rules;
    let settings = &state.limits.settings;
    // Without a daily limit there is nothing to show, and nothing to add up.
    let used = if settings.daily_bytes == 0 {
        0
    } else {
        limits::used_today(&state.ledger, &viewer.name, now.unix_timestamp()).await?
    };
    let default_folder = if rules.default_folder.starts_with(&viewer.root) {
        rules.default_folder.clone()
    } else {
        viewer.root.clone()
    };
    let client = ClientKind::from_user_agent(&from.user_agent);
    Ok(UploaderSettings {
        default_folder,
        upload_root: viewer.root.clone(),
        max_file_size: rules.max_file_size,
        max_files: rules.max_files,
        parallel_uploads: rules.parallel_uploads,
        upload_retries: rules.upload_retries,
        multipart_threshold: rules.multipart_threshold,
        allowed_types: rules.allowed_types.clone(),
        client,
        limits: Limits {
            signs_per_minute: settings.sign_rate,
            daily_bytes: settings.daily_bytes,
            used_bytes: used,
        },
        checksum: state.target.checksum(),
        sender: None,
        // A phone has no other phone to continue on.
        phone: client == ClientKind::Desktop && state.access.may_create_requests(viewer),
    })
}
