use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::{PortalError, UploadBatch, UploadTicket};

/// Signs one upload ticket per file of the batch: the server picks every key, pins it, the
/// exact size and the content type in a short-lived policy, and signs it. The secret stays here.
#[server(endpoint = "sign_uploads", input = Json)]
pub async fn sign_uploads(batch: UploadBatch) -> Result<Vec<UploadTicket>, PortalError> {
    use crate::server::state::{app_state, respond};
    use crate::server::tickets::sign_batch;

    let result = async {
        let state = app_state()?;
        sign_batch(
            &state.rules,
            &state.target,
            state.callback.as_deref(),
            batch,
            time::OffsetDateTime::now_utc(),
        )
        .await
    }
    .await;
    respond(result)
}
