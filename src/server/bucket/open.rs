//! Opening the embedded bucket from its settings: the object store on disk, the CORS rules kept
//! beside it, the key ring, and the RSA key that signs its upload callbacks.

use std::sync::Arc;

use super::callback::CallbackSigner;
use super::cors_config;
use super::keys::KeyRing;
use super::state::{Bucket, BucketSettings};
use super::store::ObjectStore;
use crate::server::protocol::cors::CorsRule;
use crate::server::protocol::signing;
use crate::server::protocol::MAX_OBJECT_SIZE;

/// Opens the bucket `settings` describe, creating its folder on first use.
pub async fn open(settings: &BucketSettings) -> std::io::Result<Arc<Bucket>> {
    let root = settings.data_dir.join(&settings.name);
    let store = ObjectStore::open(&root).await?;
    super::multipart::forget_ended(&store).await?;
    // Rules set with PutBucketCors are kept here; until then, the portal's own rule.
    let cors_file = root.join("cors.xml");
    let host_id = settings
        .public_url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(Arc::new(Bucket {
        name: settings.name.clone(),
        region: settings.region.clone(),
        public_url: settings.public_url.clone(),
        host_id,
        store,
        keys: Arc::new(KeyRing::new(vec![settings.credentials.clone()])),
        cors: std::sync::RwLock::new(
            cors_config::load(&cors_file)?
                .unwrap_or_else(|| vec![CorsRule::for_portal(settings.cors_origins.clone())]),
        ),
        cors_file,
        max_object_size: MAX_OBJECT_SIZE,
        callback: Some(Arc::new(CallbackSigner::new(
            callback_key(settings).await?,
            settings.callback_public_key_url.clone(),
        ))),
        uploads: Default::default(),
    }))
}

/// The callback-signing key: from the configured file, or generated once and kept in the
/// data folder.
async fn callback_key(settings: &BucketSettings) -> std::io::Result<rsa::RsaPrivateKey> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let invalid = |path: &std::path::Path| {
        std::io::Error::other(format!(
            "{} is not an RSA private key in PEM form",
            path.display()
        ))
    };
    if let Some(path) = &settings.callback_key_file {
        let pem = tokio::fs::read_to_string(path).await?;
        return signing::callback::parse_private_key(&pem).ok_or_else(|| invalid(path));
    }
    let path = settings
        .data_dir
        .join(format!("{}-callback-key.pem", settings.name));
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
    tokio::fs::create_dir_all(&settings.data_dir).await?;
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
