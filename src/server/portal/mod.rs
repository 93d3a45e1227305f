//! The portal: the app server that decides keys, signs uploads, records them in the ledger and
//! controls who may do what. It reaches its bucket only over the wire, through `target/`.

pub mod access;
pub mod callback;
pub mod callback_verifier;
pub mod completion;
pub mod deletion;
pub mod diagnosis;
pub mod health;
pub mod layers;
pub mod ledger;
pub mod ledger_pages;
pub mod multipart;
pub mod page_rules;
pub mod reference;
pub mod requests;
pub mod settings;
pub mod site;
pub mod state;
pub mod storage;
pub mod sweeps;
pub mod tickets;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use self::settings::PortalSettings;
pub use self::state::AppState;
use crate::app::{shell, App};

/// The portal's HTTP service: the pages, their server fns, static files, the CSV exports, the
/// arrivals' event streams, the callback endpoint, health checks, and the layers around them.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let site = (*state.site).clone();
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin/uploads.csv", get(ledger_pages::export_csv))
        .route("/object", get(ledger_pages::object))
        .route(
            "/requests/{id}/uploads.csv",
            get(requests::creating::export_csv),
        )
        .route("/requests/{id}/events", get(requests::arrivals::events))
        .route("/requests/{id}/qr.svg", get(requests::creating::qr_image))
        .route(
            "/oss/callback",
            post(callback::receive).layer(DefaultBodyLimit::max(callback::MAX_BODY)),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    // A sender's upload calls come under their pass's path: routed before the router looks.
    let app = Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(state::sender_calls)
            .service(app),
    );
    layers::portal(app, site)
}
