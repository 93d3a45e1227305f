//! What every request can reach: the upload rules, the storage target, Leptos's options.
//! Server fns read it through `app_state()`, which fails cleanly instead of panicking.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos::prelude::*;

use super::access::limits::Limiters;
use super::access::AccessSettings;
use super::callback_verifier::CallbackVerifier;
use super::ledger::Ledger;
use super::settings::{PortalSettings, UploadRules};
use super::storage::Target;
use crate::error::PortalError;
use crate::server::protocol::callback::CallbackSpec;

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
    pub site: Arc<super::settings::Site>,
    /// Makes upload requests' link tokens and senders' passes.
    pub links: super::requests::links::LinkKey,
    /// Announces what arrives through upload requests to their creators' open pages.
    pub arrivals: super::requests::announce::Arrivals,
}

impl AppState {
    /// Opens (and migrates) the ledger; fails when the database cannot be reached.
    pub async fn new(
        settings: &PortalSettings,
        leptos_options: LeptosOptions,
    ) -> Result<Self, sqlx::Error> {
        use secrecy::ExposeSecret;
        let ledger = Ledger::open(settings.database_url.expose_secret()).await?;
        let arrivals = super::requests::announce::Arrivals::new(
            ledger
                .postgres_pool()
                .map(|pool| (pool, settings.database_url.expose_secret().to_owned())),
        );
        Ok(AppState {
            leptos_options,
            rules: Arc::new(settings.rules.clone()),
            target: Arc::new(Target::new(&settings.target, settings.rules.policy_ttl)),
            callback: settings.callback.as_ref().map(|c| Arc::new(c.spec.clone())),
            callbacks: settings
                .callback
                .as_ref()
                .map(|c| Arc::new(CallbackVerifier::new(c.allowed_key_urls.clone()))),
            ledger,
            access: Arc::new(settings.access.clone()),
            limits: Arc::new(Limiters::new(settings.limits)),
            multipart_key: super::reference::ReferenceKey::new(&settings.target.credentials.secret),
            site: Arc::new(settings.site.clone()),
            links: super::requests::links::LinkKey::new(&settings.target.credentials.secret),
            arrivals,
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

/// A sender's pass, from the path the page called (`/r/<pass>/api/...`, see [`sender_calls`];
/// read by `requests::sending::uploader`).
#[derive(Clone, Debug)]
pub struct SenderPass(pub String);

/// The upload server fns a sender's page calls, under `/r/<pass>/api/<name>`.
const SENDER_CALLS: [&str; 7] = [
    "sign_uploads",
    "confirm_upload",
    "start_multipart",
    "resume_multipart",
    "complete_multipart",
    "abort_multipart",
    "end_batch",
];

/// Routes a sender's upload call (`/r/<pass>/api/<name>`) to its server fn, with the pass
/// beside it; any other `/r/<pass>/...` path is left alone (and finds no route).
pub fn sender_calls(mut request: axum::extract::Request) -> axum::extract::Request {
    let path = request.uri().path();
    let Some((pass, call)) = path
        .strip_prefix("/r/")
        .and_then(|rest| rest.split_once("/api/"))
    else {
        return request;
    };
    if pass.is_empty() || pass.contains('/') || !SENDER_CALLS.contains(&call) {
        return request;
    }
    let pass = SenderPass(pass.to_owned());
    let mut target = format!("/api/{call}");
    if let Some(query) = request.uri().query() {
        target.push('?');
        target.push_str(query);
    }
    if let Ok(uri) = target.parse() {
        *request.uri_mut() = uri;
        request.extensions_mut().insert(pass);
    }
    request
}

/// After a plain form post (a browser asking for HTML): back to the page the form was on, or
/// to `fallback`, with why it was refused (`?refused=`). Only the portal's own paths.
pub fn back_to_form<T>(result: &Result<T, PortalError>, fallback: &str) {
    let Some(parts) = use_context::<axum::http::request::Parts>() else {
        return;
    };
    let header = |name: axum::http::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if !header(axum::http::header::ACCEPT).contains("text/html") {
        return;
    }
    let site = use_context::<AppState>().map(|state| state.site.clone());
    let page = site
        .and_then(|site| referer_path(header(axum::http::header::REFERER), &site))
        .unwrap_or(fallback.to_owned());
    let location = match result {
        Ok(_) => page,
        Err(error) => {
            let separator = if page.contains('?') { '&' } else { '?' };
            let refused = crate::error::FormRefusal::query_value(error);
            format!("{page}{separator}refused={refused}")
        }
    };
    leptos_axum::redirect(&location);
}

/// The path and query of a `Referer` (without an earlier `refused`), when it is a page of the
/// portal.
fn referer_path(referer: &str, site: &super::settings::Site) -> Option<String> {
    let rest = referer.split_once("://")?.1;
    let slash = rest.find('/')?;
    if !site.is_own(&rest[..slash]) {
        return None;
    }
    let path = &rest[slash..];
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if !super::layers::is_own_path(path) {
        return None;
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("refused="))
        .collect();
    Some(if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    })
}

/// A path of this portal to send a browser to: `back` when it is one, else `/`.
pub fn own_path(back: &str) -> &str {
    if super::layers::is_own_path(back) {
        back
    } else {
        "/"
    }
}

/// Called while a page renders: sets the page's Content-Security-Policy with the nonce
/// Leptos put on its inline scripts.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(state), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<AppState>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = super::layers::page_policy(&nonce, &super::layers::origin_of(&state.target.url));
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::{own_path, referer_path};
    use crate::server::portal::settings::Site;

    #[test]
    fn forms_send_browsers_back_to_the_portal_only() {
        let site = Site {
            hosts: vec!["127.0.0.1:3000".into(), "h".into()],
            https: false,
        };
        assert_eq!(
            referer_path("http://127.0.0.1:3000/uploads?page=2&refused=%7B%7D", &site).as_deref(),
            Some("/uploads?page=2")
        );
        assert_eq!(referer_path("http://h/", &site).as_deref(), Some("/"));
        assert_eq!(referer_path("http://h//evil.test/x", &site), None);
        assert_eq!(referer_path("https://evil.test/x", &site), None);
        assert_eq!(referer_path("not a url", &site), None);
        assert_eq!(own_path("/admin?state=all"), "/admin?state=all");
        for other in ["//evil.test", "https://evil.test/", "/\\evil.test", ""] {
            assert_eq!(own_path(other), "/", "{other}");
        }
    }
}
