//! What the uploader needs to draw itself: the rules, who is signed in and their limits, the
//! kind of browser. Reads only.

use leptos::prelude::*;

use crate::error::PortalError;
use crate::model::UploaderSettings;

/// The upload rules the page shows and pre-fills (the server enforces them again on signing),
/// who is signed in and their limits, and the kind of browser asking. Reads only: showing a
/// page signs and records nothing. Without a session: `Unauthenticated`.
#[server(endpoint = "portal_settings")]
pub async fn get_portal_settings() -> Result<UploaderSettings, PortalError> {
    use crate::model::{ClientKind, Limits};
    use crate::server::portal::access::limits::used_today;
    use crate::server::portal::state::signed_in;

    let (state, from, viewer) = signed_in().await?;
    let now = time::OffsetDateTime::now_utc();
    let rules = &state.rules;
    let settings = &state.limits.settings;
    // Without a daily limit there is nothing to show, and nothing to add up.
    let used = if settings.daily_bytes == 0 {
        0
    } else {
        used_today(&state.ledger, &viewer.name, now.unix_timestamp()).await?
    };
    let default_folder = if rules.default_folder.starts_with(&viewer.root) {
        rules.default_folder.clone()
    } else {
        viewer.root.clone()
    };
    Ok(UploaderSettings {
        default_folder,
        upload_root: viewer.root.clone(),
        max_file_size: rules.max_file_size,
        max_files: rules.max_files,
        parallel_uploads: rules.parallel_uploads,
        upload_retries: rules.upload_retries,
        multipart_threshold: rules.multipart_threshold,
        allowed_types: rules.allowed_types.clone(),
        client: ClientKind::from_user_agent(&from.user_agent),
        limits: Limits {
            signs_per_minute: settings.sign_rate,
            daily_bytes: settings.daily_bytes,
            used_bytes: used,
        },
        checksum: state.target.checksum(),
    })
}
