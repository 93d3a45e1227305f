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
