//! Everything that runs only on the server, in three wings: `portal/` (the app server),
//! `bucket/` (the embedded OSS-compatible bucket) and `protocol/` (what both speak). `config`
//! reads the settings; `start` runs it all, for `main` and the tests alike.

pub mod bucket;
pub mod config;
pub mod http;
pub mod layers;
pub mod portal;
pub mod protocol;

use std::sync::Arc;

use tokio::net::TcpListener;

use self::config::Settings;
use self::portal::AppState;

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
        let bucket = match &settings.bucket {
            Some(bucket) => Some(bind(bucket.addr, "PORTAL_BUCKET_ADDR").await?),
            None => None,
        };
        let sts = match settings.bucket.as_ref().and_then(|b| b.sts_addr) {
            Some(addr) => Some(bind(addr, "PORTAL_LOCAL_STS_ADDR").await?),
            None => None,
        };
        Ok(Listeners {
            portal: bind(settings.portal.addr, "LEPTOS_SITE_ADDR").await?,
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
    /// Stops accepting, ends open event streams, lets requests in flight finish, and ends the
    /// background loops.
    pub async fn stop(self) -> std::io::Result<()> {
        // Open event streams (live arrivals) end, or the servers would wait for them.
        self.state.arrivals.close();
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
    if let (Some(bucket_settings), Some(listener)) = (&settings.bucket, listeners.bucket) {
        let bucket = bucket::open(bucket_settings).await?;
        tracing::info!("embedded bucket {} at {}", bucket.name, bucket.public_url);
        if let Some(listener) = listeners.sts {
            tracing::info!(
                "local STS endpoint at http://{}/ (issues keys for the embedded bucket)",
                listener.local_addr()?
            );
            let sts = Arc::new(bucket::sts::LocalSts::new(bucket.keys.clone()));
            let app = layers::sts(bucket::sts::router(sts));
            servers.push(tokio::spawn(http::serve(
                listener,
                app,
                http::PORTAL,
                until_stopped(),
            )));
        }
        servers.push(tokio::spawn(http::serve(
            listener,
            layers::bucket(bucket::router(bucket)),
            http::BUCKET,
            until_stopped(),
        )));
    }
    let state = AppState::new(&settings.portal, leptos_options)
        .await
        .map_err(|e| format!("DATABASE_URL: the ledger could not be opened: {e}"))?;
    let loops = portal::sweeps::start(&state);
    tracing::info!(
        "Upload Portal listening on http://{}",
        listeners.portal.local_addr()?
    );
    servers.push(tokio::spawn(http::serve(
        listeners.portal,
        portal::router(state.clone()),
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
