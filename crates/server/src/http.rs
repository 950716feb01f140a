//! The HTTP side: accepting connections under a cap, serving each (crate::connection) until
//! the server is asked to stop, then draining. Every request, whatever its path or method,
//! goes to [`Nixweb::respond`].

use crate::connection::{self, Activity, ClientStream, Connections, Timeouts};
use crate::descriptors;
use crate::notice::Notice;
use crate::signals::Signals;
use crate::tls::Tls;
use crate::Nixweb;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// The longest request head accepted (request line and headers), in bytes; longer: 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields a request may have; more: 431.
pub const MAX_HEADERS: usize = 100;
/// Requests one HTTP/2 connection may have under way at once.
pub const MAX_STREAMS: u32 = 64;

/// How connections are bounded; `nixweb serve` fills it from its flags.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionLimits {
    pub timeouts: Timeouts,
    /// Connections at once; `None`: derived from the descriptor limit (crate::descriptors).
    pub max_connections: Option<usize>,
    /// After SIGTERM or Ctrl-C, how long requests under way may take before the server
    /// closes anyway.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            timeouts: Timeouts {
                header: Duration::from_secs(10),
                idle: Duration::from_secs(60),
            },
            max_connections: None,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// The warnings a client can cause at will, each written at most once a second.
struct Notices {
    refused: Notice,
    accept_failed: Notice,
}

/// Serves until SIGTERM or Ctrl-C, then lets the requests under way finish (for at most
/// the shutdown timeout) and returns.
/// With `tls`, every connection speaks TLS (see crate::tls).
pub async fn serve(
    listener: TcpListener,
    app: Arc<Nixweb>,
    mut signals: Signals,
    tls: Option<Arc<Tls>>,
) -> io::Result<()> {
    let limits = app.config().connections.clone();
    let descriptor_limit = descriptors::raise_limit();
    let (cap, lowered) = descriptors::connection_cap(descriptor_limit, limits.max_connections);
    if let Some(why) = lowered {
        tracing::warn!(target: "nixweb::http", "{why}");
    }
    tracing::debug!(target: "nixweb::http", "at most {cap} connections at once (descriptor limit {descriptor_limit})");
    let places = Arc::new(Semaphore::new(cap));
    let connections = Arc::new(Connections {
        app,
        builder: protocol_builder(),
        timeouts: limits.timeouts,
        slow_heads: Notice::new("closed a connection whose request head was too slow"),
        stalled_writes: Notice::new("closed a connection that stopped reading its response"),
        failed_handshakes: Notice::new("a TLS handshake failed"),
    });
    let notices = Notices {
        refused: Notice::new("refused a connection: the server holds as many as it may"),
        accept_failed: Notice::new("cannot accept connections"),
    };
    let tracker = TaskTracker::new();
    let (stop, stopping) = tokio::sync::watch::channel(false);

    let signal = loop {
        tokio::select! {
            signal = signals.shutdown_requested() => break signal,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match places.clone().try_acquire_owned() {
                    Ok(place) => {
                        let _ = stream.set_nodelay(true);
                        let activity = Activity::new();
                        let client = ClientStream::new(stream, activity.clone(), place);
                        let connections = connections.clone();
                        let stopping = stopping.clone();
                        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
                        tracker.spawn(async move {
                            match acceptor {
                                None => connection::serve(client, peer, None, activity, &connections, stopping).await,
                                Some(acceptor) => connection::serve_tls(client, peer, acceptor, activity, &connections, stopping).await,
                            }
                        });
                    }
                    Err(_) => {
                        notices.refused.record(|| format!(
                            "{peer} turned away; {cap} connections are open (--max-connections)"
                        ));
                        // Over TLS a plain-text 503 would be noise: just close.
                        if tls.is_none() {
                            refuse(stream);
                        }
                    }
                },
                Err(e) => {
                    let exhausted = matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    );
                    if exhausted {
                        notices.accept_failed.record(|| format!("{e}; retrying"));
                        // The connection waits in the backlog; give closing ones time to free
                        // their descriptors rather than spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    } else {
                        tracing::debug!(target: "nixweb::http", "accept failed: {e}");
                    }
                }
            }
        }
    };
    drop(listener);
    let busy = cap - places.available_permits();
    tracing::info!(
        target: "nixweb",
        "{signal}: shutting down; {busy} connection(s) open, requests under way may take up to {:?} (--shutdown-timeout)",
        limits.shutdown_timeout
    );
    let _ = stop.send(true);
    tracker.close();
    if tokio::time::timeout(limits.shutdown_timeout, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            target: "nixweb",
            "{} connection(s) still busy after {:?}; closing them",
            tracker.len(),
            limits.shutdown_timeout
        );
    }
    Ok(())
}

/// HTTP/1.1 and HTTP/2 (by ALPN over TLS, by its preface otherwise), with bounded heads.
/// The timeouts are the watchdog's (crate::connection), not hyper's: hyper's head timeout
/// also runs while a keep-alive connection waits for its next request.
fn protocol_builder() -> hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor> {
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .max_concurrent_streams(MAX_STREAMS);
    builder
}

/// Turns a connection away without waiting on it: whatever request bytes have arrived are
/// read (so closing does not reset the connection), a 503 is written if the socket takes
/// it at once, and the socket is closed.
fn refuse(stream: TcpStream) {
    let mut scratch = [0u8; 4096];
    for _ in 0..16 {
        match stream.try_read(&mut scratch) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = stream.try_write(REFUSAL);
}

const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 45\r\nretry-after: 1\r\nconnection: close\r\n\r\n503 Service Unavailable\ntoo many connections\n";

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_is_well_framed() {
        let text = std::str::from_utf8(super::REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{text}"
        );
    }
}
