//! Everything that runs only on the server: configuration, signing, storage targets, the
//! embedded bucket and the HTTP layers. `start` runs it all, for `main` and the tests alike.

pub mod access;
pub mod bucket;
pub mod callback;
pub mod completion;
pub mod config;
pub mod diagnosis;
pub mod health;
pub mod http;
pub mod layers;
pub mod ledger;
pub mod ledger_pages;
pub mod local_sts;
pub mod multipart;
pub mod policy;
pub mod reference;
pub mod signing;
pub mod site;
pub mod state;
pub mod sts;
pub mod sweeps;
pub mod targets;
pub mod tickets;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;

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
    let site = (*state.site).clone();
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/admin/uploads.csv", get(ledger_pages::export_csv))
        .route("/object", get(ledger_pages::object))
        .route(
            "/oss/callback",
            post(callback::endpoint::receive)
                .layer(DefaultBodyLimit::max(callback::endpoint::MAX_BODY)),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    layers::portal(app, site)
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

/// The sockets one portal serves on: its own, and the embedded bucket's and the local STS
/// endpoint's when the settings have them. Tests bind port 0 and pass their own.
pub struct Listeners {
    pub portal: TcpListener,
    pub bucket: Option<TcpListener>,
    pub sts: Option<TcpListener>,
}

impl Listeners {
    /// Binds every address the settings name; the error names the variable.
    pub async fn bind(settings: &Settings) -> Result<Self, String> {
        async fn bind(addr: std::net::SocketAddr, variable: &str) -> Result<TcpListener, String> {
            TcpListener::bind(addr)
                .await
                .map_err(|e| format!("{variable} {addr}: {e}"))
        }
        let bucket = match &settings.local {
            Some(local) => Some(bind(local.addr, "PORTAL_BUCKET_ADDR").await?),
            None => None,
        };
        let sts = match settings.local_sts_addr {
            Some(addr) if settings.local.is_some() => {
                Some(bind(addr, "PORTAL_LOCAL_STS_ADDR").await?)
            }
            _ => None,
        };
        Ok(Listeners {
            portal: bind(settings.site_addr, "LEPTOS_SITE_ADDR").await?,
            bucket,
            sts,
        })
    }
}

/// A started portal: its state, and the servers and background loops that run until `stop`.
pub struct Running {
    pub state: AppState,
    stop: tokio::sync::watch::Sender<()>,
    servers: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and ends the background loops.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        for task in self.loops {
            task.abort();
        }
        for server in self.servers {
            server.await.map_err(std::io::Error::other)??;
        }
        Ok(())
    }
}

/// Starts everything the settings describe, as `main` runs it and the tests use it: the
/// embedded bucket and the local STS endpoint (target `local`), the portal, and the sweeps.
pub async fn start(
    settings: &Settings,
    leptos_options: leptos::config::LeptosOptions,
    listeners: Listeners,
) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let (stop, stopped) = tokio::sync::watch::channel(());
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.changed().await;
        }
    };
    let mut servers = Vec::new();
    if let (Some(bucket), Some(listener)) = (local_bucket(settings).await?, listeners.bucket) {
        tracing::info!(
            "embedded bucket {} at {}",
            settings.bucket,
            bucket.public_url
        );
        if let Some(listener) = listeners.sts {
            tracing::info!(
                "local STS endpoint at http://{}/ (issues keys for the embedded bucket)",
                listener.local_addr()?
            );
            let sts = Arc::new(local_sts::LocalSts::new(bucket.keys.clone()));
            let app = layers::sts(local_sts::router(sts));
            servers.push(tokio::spawn(http::serve(
                listener,
                app,
                http::PORTAL,
                until_stopped(),
            )));
        }
        servers.push(tokio::spawn(http::serve(
            listener,
            bucket_router(bucket),
            http::BUCKET,
            until_stopped(),
        )));
    }
    let state = AppState::new(settings, leptos_options)
        .await
        .map_err(|e| format!("DATABASE_URL: the ledger could not be opened: {e}"))?;
    let loops = sweeps::start(&state);
    tracing::info!(
        "Upload Portal listening on http://{}",
        listeners.portal.local_addr()?
    );
    servers.push(tokio::spawn(http::serve(
        listeners.portal,
        router(state.clone()),
        http::PORTAL,
        until_stopped(),
    )));
    Ok(Running {
        state,
        stop,
        servers,
        loops,
    })
}
