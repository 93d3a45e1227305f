//! How the portal and the embedded bucket hold their connections: HTTP/1.1 through hyper with
//! a bounded read buffer, a deadline for request headers (and for idle keep-alive), a minimum
//! body rate, and a cap on open connections, so slow or idle clients cannot pile up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::Router;
use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// What one server allows each connection.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Open connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// Largest read buffer of one connection.
    pub read_buffer: usize,
    /// A request's headers must arrive within this; an idle keep-alive connection is closed
    /// after it too.
    pub header_timeout: Duration,
}

/// The portal's requests are small: hyper's default read buffer is plenty.
pub const PORTAL: ConnectionLimits = ConnectionLimits {
    max_connections: 4096,
    read_buffer: 400 * 1024,
    header_timeout: Duration::from_secs(30),
};

/// The bucket holds many uploads at once: hyper's default buffer (about 400 KiB) is for
/// throughput on one connection, and hundreds of uploads in flight would each grow one.
pub const BUCKET: ConnectionLimits = ConnectionLimits {
    max_connections: 4096,
    read_buffer: 64 * 1024,
    header_timeout: Duration::from_secs(30),
};

/// Serves `app` on `listener` until `shutdown`, then lets requests in flight finish. Each
/// request carries its peer's address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(limits.read_buffer)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        // A connection is accepted only when there is room for it.
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, as axum::serve does.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app
            .clone()
            .map_request(move |mut request: Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// The slowest body a server waits for: at least `min_bytes` in every `window`.
#[derive(Clone, Copy, Debug)]
pub struct MinRate {
    pub min_bytes: usize,
    pub window: Duration,
}

/// Uploads to the bucket: 8 KiB in every 30 seconds (a phone on 2G sends that in one
/// second; a client trickling a byte at a time is cut off).
pub const UPLOAD_RATE: MinRate = MinRate {
    min_bytes: 8 * 1024,
    window: Duration::from_secs(30),
};

/// Too slow: the body ends in an error, which the handler answers as a broken upload.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {min_bytes} bytes in {seconds} s")]
pub struct TooSlow {
    min_bytes: usize,
    seconds: u64,
}

/// `body`, ended with [`TooSlow`] as soon as a window passes with less than the minimum.
pub fn with_min_rate(body: Body, rate: MinRate) -> Body {
    struct Progress<S> {
        chunks: S,
        window_end: Instant,
        received: usize,
        failed: bool,
    }
    let start = Progress {
        chunks: body.into_data_stream(),
        window_end: Instant::now() + rate.window,
        received: 0,
        failed: false,
    };
    let stream = futures_util::stream::unfold(start, move |mut state| async move {
        if state.failed {
            return None;
        }
        loop {
            let next = tokio::time::timeout_at(state.window_end, state.chunks.next()).await;
            if let Ok(Some(Ok(chunk))) = &next {
                state.received += chunk.len();
            }
            if Instant::now() >= state.window_end {
                if state.received < rate.min_bytes {
                    state.failed = true;
                    let slow = TooSlow {
                        min_bytes: rate.min_bytes,
                        seconds: rate.window.as_secs(),
                    };
                    return Some((Err(axum::Error::new(slow)), state));
                }
                state.received = 0;
                state.window_end = Instant::now() + rate.window;
            }
            match next {
                Ok(Some(Ok(chunk))) => return Some((Ok(chunk), state)),
                Ok(Some(Err(error))) => {
                    state.failed = true;
                    return Some((Err(error), state));
                }
                Ok(None) => return None,
                // The window ended with enough bytes: keep waiting in the next one.
                Err(_) => continue,
            }
        }
    });
    Body::from_stream(stream)
}

/// Middleware: every request body of the router it wraps arrives at least at `UPLOAD_RATE`.
pub async fn upload_rate(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    next.run(Request::from_parts(parts, with_min_rate(body, UPLOAD_RATE)))
        .await
}

/// The address a server fn's request came from, when the server recorded it.
pub fn peer(parts: &axum::http::request::Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn trickle(chunks: Vec<(u64, usize)>) -> Body {
        let stream = futures_util::stream::iter(chunks).then(|(wait_ms, size)| async move {
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; size]))
        });
        Body::from_stream(stream)
    }

    async fn read_all(body: Body) -> Result<usize, String> {
        let mut stream = body.into_data_stream();
        let mut total = 0;
        while let Some(chunk) = stream.next().await {
            total += chunk.map_err(|e| e.to_string())?.len();
        }
        Ok(total)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_slower_than_the_minimum_is_cut_off() {
        let rate = MinRate {
            min_bytes: 100,
            window: Duration::from_secs(10),
        };
        // Steady: 60 bytes every 5 s is 120 per window.
        let steady = trickle(vec![(5000, 60); 6]);
        assert_eq!(read_all(with_min_rate(steady, rate)).await, Ok(360));
        // A trickle: 10 bytes every 4 s is 30 per window.
        let slow = trickle(vec![(4000, 10); 10]);
        let error = read_all(with_min_rate(slow, rate)).await.unwrap_err();
        assert!(error.contains("slower than 100 bytes in 10 s"), "{error}");
        // Silence: nothing for a whole window.
        let silent = trickle(vec![(1000, 200), (25_000, 200)]);
        assert!(read_all(with_min_rate(silent, rate)).await.is_err());
    }
}
