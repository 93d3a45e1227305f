use leptos::prelude::*;

use crate::model::{PortalError, PortalSettings};

/// The upload rules the page shows and pre-fills (the server enforces them again on signing),
/// the kind of browser asking, and a freshly signed form for browsers without JavaScript.
#[server(endpoint = "portal_settings")]
pub async fn get_portal_settings() -> Result<PortalSettings, PortalError> {
    use crate::model::ClientKind;
    use crate::server::state::{app_state, respond};
    use crate::server::tickets::sign_fallback;

    let result = async {
        let state = app_state()?;
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let user_agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let rules = &state.rules;
        let fallback = sign_fallback(rules, &state.target, time::OffsetDateTime::now_utc()).await?;
        Ok(PortalSettings {
            default_folder: rules.default_folder.clone(),
            upload_root: rules.upload_root.clone(),
            max_file_size: rules.max_file_size,
            max_files: rules.max_files,
            parallel_uploads: rules.parallel_uploads,
            upload_retries: rules.upload_retries,
            multipart_threshold: rules.multipart_threshold,
            allowed_types: rules.allowed_types.clone(),
            client: ClientKind::from_user_agent(user_agent),
            fallback,
        })
    }
    .await;
    respond(result)
}
