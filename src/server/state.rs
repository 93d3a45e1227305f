//! What every request can reach: the upload rules, the storage target, Leptos's options.
//! Server fns read it through `app_state()`, which fails cleanly instead of panicking.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::*;

use super::callback::verify::CallbackVerifier;
use super::callback::CallbackSpec;
use super::config::{Settings, UploadRules};
use super::targets::Target;
use super::upload_log::UploadLog;
use crate::model::PortalError;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub rules: Arc<UploadRules>,
    pub target: Arc<Target>,
    /// The callback every ticket asks for, when callbacks are on.
    pub callback: Option<Arc<CallbackSpec>>,
    /// Verifies callback requests, when callbacks are on.
    pub callbacks: Option<Arc<CallbackVerifier>>,
    pub uploads: Arc<UploadLog>,
    /// Stamps the multipart references the browser holds.
    pub multipart_key: super::multipart::TokenKey,
}

impl AppState {
    /// Opens the upload log; fails when it cannot be read or created.
    pub fn new(settings: &Settings, leptos_options: LeptosOptions) -> std::io::Result<Self> {
        Ok(AppState {
            leptos_options,
            rules: Arc::new(settings.rules.clone()),
            target: Arc::new(Target::new(settings)),
            callback: settings.callback.as_ref().map(|c| Arc::new(c.spec.clone())),
            callbacks: settings
                .callback
                .as_ref()
                .map(|c| Arc::new(CallbackVerifier::new(c.allowed_key_urls.clone()))),
            uploads: Arc::new(UploadLog::open(&settings.upload_log)?),
            multipart_key: super::multipart::TokenKey::from_settings(settings),
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, from the request's context.
pub fn app_state() -> Result<AppState, PortalError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server fn context");
        PortalError::Internal
    })
}

/// Sets the HTTP status of a server fn's reply from its error, so that clients other than the
/// page (curl, monitoring) see a 4xx/5xx and not a 500 for every refusal.
pub fn respond<T>(result: Result<T, PortalError>) -> Result<T, PortalError> {
    if let Err(error) = &result {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.set_status(
                axum::http::StatusCode::from_u16(error.status_code())
                    .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    result
}
