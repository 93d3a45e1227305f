//! The portal's entry point: logging → configuration → state → routers → serve until a signal,
//! letting requests in flight finish.

use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use upload_portal::server::config::{Config, TargetKind};
use upload_portal::server::local_sts::{self, LocalSts};
use upload_portal::server::{self, AppState};

#[tokio::main]
async fn main() -> ExitCode {
    // Configuration first: it reads .env, which may set RUST_LOG.
    let config = Config::load();
    if config.hash_password {
        return hash_password();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let settings = match config.validate() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("upload-portal: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("upload-portal stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: server::config::Settings) -> Result<(), Box<dyn std::error::Error>> {
    let built_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut leptos_options = if built_by_cargo_leptos {
        leptos::config::get_configuration(None)?.leptos_options
    } else {
        // A plain `cargo build`: the names cargo-leptos would have used.
        leptos::config::LeptosOptions::builder()
            .output_name("upload-portal")
            .site_root(std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into()))
            .build()
    };
    leptos_options.site_addr = settings.site_addr;
    // Built with hashed asset names: the hashes are read from `hash.txt` beside the binary,
    // whether cargo-leptos runs it or it is started on its own.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none()
        && option_env!("LEPTOS_HASH_FILES") == Some("true")
    {
        leptos_options.hash_files = true;
    }

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(());
    let mut bucket_task = None;
    if let Some(bucket) = server::local_bucket(&settings).await? {
        let local = settings
            .local
            .as_ref()
            .expect("a local bucket has local settings");
        let listener = TcpListener::bind(local.addr)
            .await
            .map_err(|e| format!("PORTAL_BUCKET_ADDR {}: {e}", local.addr))?;
        tracing::info!(
            "embedded bucket {} at {} (data in {})",
            settings.bucket,
            local.public_url,
            local.data_dir.display()
        );
        if settings.generated_credentials {
            tracing::info!(
                access_key_id = %settings.credentials.access_key_id,
                "no OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET set: using generated development credentials"
            );
        }
        if let Some(addr) = settings.local_sts_addr {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("PORTAL_LOCAL_STS_ADDR {addr}: {e}"))?;
            tracing::info!(
                "local STS endpoint at http://{addr}/ (issues keys for the embedded bucket)"
            );
            let sts = Arc::new(LocalSts::new(bucket.keys.clone()));
            let mut rx = shutdown_rx.clone();
            tokio::spawn(async move {
                axum::serve(listener, local_sts::router(sts))
                    .with_graceful_shutdown(async move {
                        let _ = rx.changed().await;
                    })
                    .await
            });
        }
        let mut rx = shutdown_rx.clone();
        let app = server::bucket_router(bucket);
        bucket_task = Some(tokio::spawn(async move {
            server::serve_bucket(listener, app, async move {
                let _ = rx.changed().await;
            })
            .await
        }));
    } else if settings.target == TargetKind::Oss {
        tracing::info!(
            "signing uploads for OSS bucket {} at {}",
            settings.bucket,
            settings.bucket_url
        );
    }

    let state = AppState::new(&settings, leptos_options)
        .await
        .map_err(|e| format!("DATABASE_URL: the ledger could not be opened: {e}"))?;
    tracing::info!(
        "ledger: {} (access: {})",
        state.ledger.engine,
        match state.access.login_kind() {
            None => "open",
            Some(upload_portal::model::LoginKind::Code) => "access codes",
            Some(upload_portal::model::LoginKind::Password) => "users file",
        }
    );
    let listener = TcpListener::bind(settings.site_addr)
        .await
        .map_err(|e| format!("LEPTOS_SITE_ADDR {}: {e}", settings.site_addr))?;
    tracing::info!("Upload Portal listening on http://{}", settings.site_addr);
    if settings.rules.multipart_threshold > 0 {
        tokio::spawn(sweep_abandoned_uploads(state.clone()));
    }
    tokio::spawn(sweep_sessions_and_limits(state.clone()));
    tokio::spawn(diagnose_at_start(state.clone()));
    let mut rx = shutdown_rx;
    let app = server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let portal = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = rx.changed().await;
    });
    let signal = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = shutdown_tx.send(());
    };
    let (served, ()) = tokio::join!(portal, signal);
    served?;
    if let Some(task) = bucket_task {
        task.await??;
    }
    Ok(())
}

/// Aborts abandoned multipart uploads at start and then every hour (or a quarter of the
/// expiry, when shorter).
async fn sweep_abandoned_uploads(state: AppState) {
    let expiry = state.rules.multipart_expiry;
    let mut every = tokio::time::interval((expiry / 4).min(std::time::Duration::from_secs(3600)));
    loop {
        every.tick().await;
        let now = time::OffsetDateTime::now_utc();
        match server::multipart::abort_abandoned(
            &state.target,
            &state.rules.upload_root,
            expiry,
            now,
        )
        .await
        {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "abandoned multipart uploads aborted"),
            Err(error) => tracing::warn!(%error, "could not sweep abandoned multipart uploads"),
        }
    }
}

/// Forgets expired sessions and idle rate-limit state, every ten minutes.
async fn sweep_sessions_and_limits(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        state.limits.forget_idle();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(error) = state.ledger.sweep_sessions(now).await {
            tracing::warn!(%error, "could not sweep expired sessions");
        }
    }
}

/// The storage self-diagnosis, once at start, into the log (the admin page runs it again).
async fn diagnose_at_start(state: AppState) {
    // The embedded bucket starts alongside: give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for finding in server::diagnosis::run(&state).await {
        if finding.ok {
            tracing::info!(check = %finding.check, "{}", finding.detail);
        } else {
            tracing::warn!(check = %finding.check, "{}", finding.detail);
        }
    }
}

/// `--hash-password`: a password from standard input, its argon2 hash on standard output.
fn hash_password() -> ExitCode {
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() {
        eprintln!("upload-portal: could not read a password from standard input");
        return ExitCode::from(2);
    }
    let password = password.trim_end_matches(['\n', '\r']);
    if password.chars().count() < 8 {
        eprintln!("upload-portal: a password needs at least 8 characters");
        return ExitCode::from(2);
    }
    match upload_portal::server::access::accounts::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("upload-portal: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
