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
    use crate::server::portal::state::signed_in;
    let (state, from, viewer) = signed_in().await?;
    crate::server::portal::page_rules::uploader_settings(&state, &from, &viewer).await
}

/// The folders the reader uploaded to lately (after their root), newest first: offered beside
/// the folder field. Reads only.
#[server(endpoint = "recent_folders")]
pub async fn recent_folders() -> Result<Vec<String>, PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    crate::server::portal::page_rules::recent_folders(&state, &viewer).await
}
