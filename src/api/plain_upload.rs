//! The upload without JavaScript, in two steps so that no page view writes anything: a form
//! post asks for a ticket (recorded, counted against the quota), then its page signs it.

use leptos::prelude::*;

use crate::error::PortalError;
use crate::model::UploadTicket;

/// Records a plain-form ticket into `folder` and sends the browser to the page that shows it
/// (`/upload/plain?ticket=…`). Refused, a plain form post goes back to that page with what
/// went wrong (`refused`, figures only; a folder is checked again there).
#[server(endpoint = "start_plain_upload")]
pub async fn start_plain_upload(folder: String) -> Result<String, PortalError> {
    use crate::error::FormRefusal;
    use crate::server::portal::state::signed_in;
    use crate::server::portal::tickets::issue_plain_form;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

    let result = async {
        let (state, from, viewer) = signed_in().await?;
        issue_plain_form(&state, &from, &viewer, &folder).await
    }
    .await;
    let page = match &result {
        Ok(id) => format!("/upload/plain?ticket={id}"),
        Err(PortalError::Unauthenticated) => "/".to_owned(),
        Err(error) => format!(
            "/upload/plain?folder={}&refused={}",
            utf8_percent_encode(&folder, NON_ALPHANUMERIC),
            FormRefusal::query_value(error)
        ),
    };
    leptos_axum::redirect(&page);
    result
}

/// The signed fields of the reader's plain-form ticket `ticket` (signing again writes
/// nothing); `FormExpired` once it expired or was used.
#[server(endpoint = "plain_form", input = leptos::server_fn::codec::Json)]
pub async fn plain_form(ticket: String) -> Result<UploadTicket, PortalError> {
    use crate::server::portal::state::signed_in;
    let (state, _, viewer) = signed_in().await?;
    crate::server::portal::tickets::plain_form(&state, &viewer, &ticket).await
}
