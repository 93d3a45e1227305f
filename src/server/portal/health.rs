//! `/healthz` (the process answers) and `/readyz` (the database answers and the storage is
//! reachable), for load balancers and orchestrators. Neither needs a session; neither says
//! more than which check failed.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let limit = Duration::from_secs(5);
    let database = matches!(
        tokio::time::timeout(limit, state.ledger.ping()).await,
        Ok(Ok(()))
    );
    // Any HTTP answer from the storage (even a refusal) means it is reachable.
    let storage = matches!(
        tokio::time::timeout(limit, state.target.storage_date()).await,
        Ok(Ok(_))
    );
    let status = if database && storage {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "ready": database && storage,
            "database": if database { "ok" } else { "unreachable" },
            "storage": if storage { "ok" } else { "unreachable" },
        })),
    )
        .into_response()
}
