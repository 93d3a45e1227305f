//! What every request can reach: the upload rules, the storage target, Leptos's options.
//! Server fns read it through `app_state()`, which fails cleanly instead of panicking.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::*;

use super::access::limits::Limiters;
use super::access::AccessSettings;
use super::callback::verify::CallbackVerifier;
use super::callback::CallbackSpec;
use super::config::{Settings, UploadRules};
use super::ledger::Ledger;
use super::targets::Target;
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
    /// Every signed upload and its completion; the sign-in sessions.
    pub ledger: Ledger,
    pub access: Arc<AccessSettings>,
    pub limits: Arc<Limiters>,
    /// Stamps the multipart references the browser holds.
    pub multipart_key: super::reference::ReferenceKey,
    /// The host names the portal answers to.
    pub site: Arc<super::layers::Site>,
}

impl AppState {
    /// Opens (and migrates) the ledger; fails when the database cannot be reached.
    pub async fn new(
        settings: &Settings,
        leptos_options: LeptosOptions,
    ) -> Result<Self, sqlx::Error> {
        use secrecy::ExposeSecret;
        let ledger = Ledger::open(settings.database_url.expose_secret()).await?;
        Ok(AppState {
            leptos_options,
            rules: Arc::new(settings.rules.clone()),
            target: Arc::new(Target::new(settings)),
            callback: settings.callback.as_ref().map(|c| Arc::new(c.spec.clone())),
            callbacks: settings
                .callback
                .as_ref()
                .map(|c| Arc::new(CallbackVerifier::new(c.allowed_key_urls.clone()))),
            ledger,
            access: Arc::new(settings.access.clone()),
            limits: Arc::new(Limiters::new(settings.limits)),
            multipart_key: super::reference::ReferenceKey::from_settings(settings),
            site: Arc::new(settings.site.clone()),
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

/// The state, the requester, and who they are: what every server fn that signs starts with.
pub async fn signed_in(
) -> Result<(AppState, super::access::Requester, crate::model::Viewer), PortalError> {
    let state = app_state()?;
    let from = super::access::requester(&state.access).await;
    let viewer = super::access::viewer(&state.access, &state.ledger, &from).await?;
    Ok((state, from, viewer))
}
