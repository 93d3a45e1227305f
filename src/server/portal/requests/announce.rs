//! Where arrivals through upload requests are announced and heard: in this process, and on
//! PostgreSQL between every instance behind the load balancer (LISTEN/NOTIFY).

use std::time::Duration;

use tokio::sync::{broadcast, watch};

/// The PostgreSQL channel arrivals are announced on (the payload: the request's id).
const CHANNEL: &str = "portal_arrivals";

/// Where arrivals are announced, and heard.
#[derive(Clone)]
pub struct Arrivals {
    pub(super) local: broadcast::Sender<String>,
    /// Set when the portal stops: open streams end so the server can.
    pub(super) closing: watch::Sender<bool>,
    /// PostgreSQL: announcements go through the database to every instance (this one too).
    postgres: Option<sqlx::AnyPool>,
}

impl Arrivals {
    /// On PostgreSQL (`postgres_url`), also listens for other instances' announcements.
    pub fn new(postgres: Option<(sqlx::AnyPool, String)>) -> Self {
        let (local, _) = broadcast::channel(256);
        let (closing, _) = watch::channel(false);
        let pool = postgres.as_ref().map(|(pool, _)| pool.clone());
        if let Some((_, url)) = postgres {
            tokio::spawn(listen(url, local.clone(), closing.subscribe()));
        }
        Arrivals {
            local,
            closing,
            postgres: pool,
        }
    }

    /// An upload of request `id` completed.
    pub async fn announce(&self, id: &str) {
        match &self.postgres {
            Some(pool) => {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(id)
                    .execute(pool)
                    .await;
                if let Err(error) = sent {
                    tracing::warn!(%error, "could not announce an arrival");
                    let _ = self.local.send(id.to_owned());
                }
            }
            None => {
                let _ = self.local.send(id.to_owned());
            }
        }
    }

    /// Ends every open stream (the portal is stopping).
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }
}

/// Relays PostgreSQL's notifications to this instance's streams, reconnecting after a failure.
async fn listen(url: String, local: broadcast::Sender<String>, mut closing: watch::Receiver<bool>) {
    loop {
        let listener = async {
            let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
            listener.listen(CHANNEL).await?;
            loop {
                let note = listener.recv().await?;
                let _ = local.send(note.payload().to_owned());
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            outcome = listener => {
                if let Err(error) = outcome {
                    tracing::warn!(%error, "arrivals: the PostgreSQL listener failed; retrying");
                }
            }
            _ = closing.wait_for(|c| *c) => return,
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
