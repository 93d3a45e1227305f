//! The portal's entry point: logging → configuration → state → routers → serve until a signal,
//! letting requests in flight finish.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use upload_portal::server;
use upload_portal::server::config::Config;
use upload_portal::server::portal::storage::Store;

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

async fn run(
    settings: server::config::Settings,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
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
    leptos_options.site_addr = settings.portal.addr;
    // Built with hashed asset names: the hashes are read from `hash.txt` beside the binary,
    // whether cargo-leptos runs it or it is started on its own.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none()
        && option_env!("LEPTOS_HASH_FILES") == Some("true")
    {
        leptos_options.hash_files = true;
    }
    server::portal::site::prepare(&leptos_options)?;

    let target = &settings.portal.target;
    if target.generated_credentials {
        tracing::info!(
            access_key_id = %target.credentials.access_key_id,
            "no OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET set: using generated development credentials"
        );
    }
    if let Store::Oss(_) = target.store {
        tracing::info!(
            "signing uploads for OSS bucket {} at {}",
            target.bucket,
            target.url
        );
    }
    let listeners = server::Listeners::bind(&settings).await?;
    let running = server::start(&settings, leptos_options, listeners).await?;
    tracing::info!(
        "ledger: {} (access: {})",
        running.state.ledger.engine,
        match running.state.access.login_kind() {
            None => "open",
            Some(upload_portal::model::LoginKind::Code) => "access codes",
            Some(upload_portal::model::LoginKind::Password) => "users file",
        }
    );
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    running.stop().await?;
    Ok(())
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
    match upload_portal::server::portal::access::accounts::hash_password(password) {
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
