//! Everything that runs only on the server: configuration, signing, storage targets, the
//! embedded bucket and the HTTP layers. `router(state)` is the portal tests call.

pub mod bucket;
pub mod config;
pub mod layers;
pub mod local_sts;
pub mod policy;
pub mod signing;
pub mod state;
pub mod sts;
pub mod targets;
pub mod tickets;

use std::sync::Arc;

use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

use self::bucket::cors::CorsRule;
use self::bucket::keys::KeyRing;
use self::bucket::store::ObjectStore;
use self::bucket::Bucket;
use self::config::Settings;
pub use self::state::AppState;
use crate::app::{shell, App};

/// The portal: the page, its server fns, static files, and the layers around them.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let app = Router::new()
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    layers::portal(app)
}

/// Opens the embedded bucket the settings describe (`None` unless the target is `local`).
pub async fn local_bucket(settings: &Settings) -> std::io::Result<Option<Arc<Bucket>>> {
    let Some(local) = &settings.local else {
        return Ok(None);
    };
    let store = ObjectStore::open(&local.data_dir.join(&settings.bucket)).await?;
    let host_id = local
        .public_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    Ok(Some(Arc::new(Bucket {
        name: settings.bucket.clone(),
        region: settings.region.clone(),
        public_url: local.public_url.clone(),
        host_id,
        store,
        keys: Arc::new(KeyRing::new(vec![settings.credentials.clone()])),
        cors: vec![CorsRule::for_portal(local.cors_origins.clone())],
        max_object_size: bucket::MAX_OBJECT_SIZE,
    })))
}

/// The embedded bucket's HTTP service.
pub fn bucket_router(bucket: Arc<Bucket>) -> Router {
    layers::bucket(bucket::router(bucket))
}
