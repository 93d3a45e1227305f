use leptos::prelude::*;

use crate::model::{PortalError, PortalSettings};

/// The upload rules the page shows and pre-fills (the server enforces them again on signing).
#[server(endpoint = "portal_settings")]
pub async fn get_portal_settings() -> Result<PortalSettings, PortalError> {
    use crate::server::state::{app_state, respond};

    respond(app_state().map(|state| {
        let rules = &state.rules;
        PortalSettings {
            default_folder: rules.default_folder.clone(),
            upload_root: rules.upload_root.clone(),
            max_file_size: rules.max_file_size,
            max_files: rules.max_files,
            parallel_uploads: rules.parallel_uploads,
            allowed_types: rules.allowed_types.clone(),
        }
    }))
}
