//! The upload ledger as the pages read and change it: one's own uploads, everyone's for
//! admins, and deleting an upload.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::PortalError;
use crate::model::{Finding, LedgerPage, LedgerQuery};

/// The signed-in user's uploads, newest first, one page at a time (1-based).
#[server(endpoint = "my_uploads")]
pub async fn my_uploads(page: u32) -> Result<LedgerPage, PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    // Stored uploads only: a ticket signed but never used is not an upload of theirs.
    let query = crate::server::portal::ledger_pages::checked_query(LedgerQuery {
        page,
        state: crate::model::EntryState::Completed,
        ..LedgerQuery::default()
    })?;
    let mut page =
        crate::server::portal::ledger_pages::page(&state, &query, Some(&viewer.name)).await?;
    page.deletable = viewer.admin || viewer.signed_in;
    Ok(page)
}

/// Deletes a stored upload (a signed-in viewer's own, or any for an administrator): its object leaves
/// the storage, its entry stays marked deleted. A plain form post: back to the page it was on.
#[server(endpoint = "delete_upload")]
pub async fn delete_upload(id: String) -> Result<(), PortalError> {
    use crate::server::portal::state::{back_to_form, signed_in};
    let result = async {
        let (state, _, viewer) = signed_in().await?;
        crate::server::portal::deletion::delete(&state, &viewer, &id).await
    }
    .await;
    back_to_form(&result, "/uploads");
    result
}

/// Every user's uploads, filtered; for administrators.
#[server(endpoint = "admin_uploads", input = Json)]
pub async fn admin_uploads(query: LedgerQuery) -> Result<LedgerPage, PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    if !viewer.admin {
        return Err(PortalError::Forbidden);
    }
    let query = crate::server::portal::ledger_pages::checked_query(query)?;
    let mut page = crate::server::portal::ledger_pages::page(&state, &query, None).await?;
    page.deletable = true;
    Ok(page)
}

/// The storage self-diagnosis (CORS rules for this portal's origin, clock skew, credentials)
/// and the database; for administrators.
#[server(endpoint = "diagnose")]
pub async fn diagnose() -> Result<Vec<Finding>, PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    if !viewer.admin {
        return Err(PortalError::Forbidden);
    }
    Ok(crate::server::portal::diagnosis::run(&state).await)
}
