//! Everything that runs only on the server: configuration, signing, storage targets, the
//! embedded bucket and the HTTP layers. `router(state)` is the portal tests call.

pub mod access;
pub mod bucket;
pub mod callback;
pub mod config;
pub mod diagnosis;
pub mod health;
pub mod layers;
pub mod ledger;
pub mod ledger_pages;
pub mod local_sts;
pub mod multipart;
pub mod policy;
pub mod signing;
pub mod state;
pub mod sts;
pub mod targets;
pub mod tickets;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

use self::bucket::callback::CallbackSigner;
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
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin/uploads.csv", get(ledger_pages::export_csv))
        .route(
            "/oss/callback",
            post(callback::endpoint::receive)
                .layer(DefaultBodyLimit::max(callback::endpoint::MAX_BODY)),
        )
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
    let root = local.data_dir.join(&settings.bucket);
    let store = ObjectStore::open(&root).await?;
    // Rules set with PutBucketCors are kept here; until then, the portal's own rule.
    let cors_file = root.join("cors.xml");
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
        cors: std::sync::RwLock::new(
            bucket::cors_config::load(&cors_file)?
                .unwrap_or_else(|| vec![CorsRule::for_portal(local.cors_origins.clone())]),
        ),
        cors_file,
        max_object_size: bucket::MAX_OBJECT_SIZE,
        callback: Some(Arc::new(CallbackSigner::new(
            callback_key(settings, local).await?,
            local.callback_public_key_url.clone(),
        ))),
    })))
}

/// The embedded bucket's callback-signing key: from the configured file, or generated once
/// and kept in the data folder.
async fn callback_key(
    settings: &Settings,
    local: &config::LocalBucketSettings,
) -> std::io::Result<rsa::RsaPrivateKey> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let invalid = |path: &std::path::Path| {
        std::io::Error::other(format!(
            "{} is not an RSA private key in PEM form",
            path.display()
        ))
    };
    if let Some(path) = &local.callback_key_file {
        let pem = tokio::fs::read_to_string(path).await?;
        return signing::callback::parse_private_key(&pem).ok_or_else(|| invalid(path));
    }
    let path = local
        .data_dir
        .join(format!("{}-callback-key.pem", settings.bucket));
    if let Ok(pem) = tokio::fs::read_to_string(&path).await {
        return signing::callback::parse_private_key(&pem).ok_or_else(|| invalid(&path));
    }
    let key = tokio::task::spawn_blocking(|| rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048))
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(std::io::Error::other)?;
    tokio::fs::create_dir_all(&local.data_dir).await?;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    use tokio::io::AsyncWriteExt;
    options.open(&path).await?.write_all(pem.as_bytes()).await?;
    tracing::info!(
        "generated the embedded bucket's callback key in {}",
        path.display()
    );
    Ok(key)
}

/// The embedded bucket's HTTP service.
pub fn bucket_router(bucket: Arc<Bucket>) -> Router {
    layers::bucket(bucket::router(bucket))
}

/// Largest read buffer of one bucket connection. hyper's default (about 400 KiB) is for
/// throughput on one connection; hundreds of uploads in flight would each grow one that big.
const BUCKET_READ_BUFFER: usize = 64 * 1024;

/// Serves the embedded bucket (HTTP/1.1) until `shutdown`, then lets requests in flight
/// finish. Like `axum::serve`, with a smaller read buffer per connection.
pub async fn serve_bucket(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(BUCKET_READ_BUFFER);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, as axum::serve does.
                        tracing::warn!(%error, "the bucket could not accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    graceful.shutdown().await;
    Ok(())
}
