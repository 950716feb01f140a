//! One client connection, from accept to close: hyper (HTTP/1.1 and HTTP/2, through
//! hyper-util) does the protocol; this module bounds how long a client may hold the
//! connection without doing its part.
//!
//! [`ClientStream`] wraps the socket: it notes when bytes arrive and when writes stall, and
//! holds the connection's place under the cap until the socket is really closed. A watchdog
//! beside hyper closes the connection when
//! - a request head (or the TLS handshake) takes longer than `header_timeout` from its first
//!   byte (slowloris);
//! - no request is under way and nothing arrives for `idle_timeout` (idle keep-alive);
//! - a response cannot be written for `idle_timeout` (a client that stopped reading).
//!
//! A request's body is bounded where it is read (crate::body). When the server stops, idle
//! connections close at once and busy ones finish their requests (crate::http bounds that).
//!
//! Closing a socket whose client is still sending (a 413 answered before the body was read)
//! makes the kernel reset the connection, and the client loses the response it has not read
//! yet ("Broken pipe" in Python's urllib). So a closed connection first lingers: its write
//! side is shut, and what the client still sends is read and discarded for a bounded time
//! and size, so the client reads the response before the connection goes away.

use crate::notice::Notice;
use crate::Nixweb;
use axum::body::{Body, Bytes};
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use nixweb_app::request::TlsInfo;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// How long a client may take over each part of a connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// From the first byte of a request head (or of the TLS handshake) to its end.
    pub header: Duration,
    /// With no request under way, until the next byte; also, how long a write may stall.
    pub idle: Duration,
}

/// A lingering close ends when the client closes, or after this long…
const LINGER_MAX: Duration = Duration::from_secs(10);
/// …or after this long without a byte from the client…
const LINGER_QUIET: Duration = Duration::from_secs(2);
/// …or after discarding this much.
const LINGER_BYTES: usize = 64 << 20;

/// Milliseconds since the connection was accepted; [`NEVER`] for "not now".
const NEVER: u64 = u64::MAX;

/// What the watchdog knows about a connection, updated by the socket and the requests.
pub struct Activity {
    born: Instant,
    /// Requests under way (HTTP/2 runs several at once).
    active: AtomicUsize,
    /// When the last request ended (or the connection began).
    idle_since: AtomicU64,
    /// The first byte since `idle_since`: a request head is arriving.
    read_since_idle: AtomicU64,
    /// When a write found the socket full, with no write succeeding since.
    write_blocked_since: AtomicU64,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            born: Instant::now(),
            active: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            read_since_idle: AtomicU64::new(NEVER),
            write_blocked_since: AtomicU64::new(NEVER),
        })
    }

    fn now(&self) -> u64 {
        self.born.elapsed().as_millis() as u64
    }

    fn bytes_arrived(&self) {
        if self.active.load(Ordering::Relaxed) == 0
            && self.read_since_idle.load(Ordering::Relaxed) == NEVER
        {
            let _ = self.read_since_idle.compare_exchange(
                NEVER,
                self.now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn write_stalled(&self) {
        if self.write_blocked_since.load(Ordering::Relaxed) == NEVER {
            let _ = self.write_blocked_since.compare_exchange(
                NEVER,
                self.now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn write_went_through(&self) {
        if self.write_blocked_since.load(Ordering::Relaxed) != NEVER {
            self.write_blocked_since.store(NEVER, Ordering::Relaxed);
        }
    }

    /// A request began; it lasts until the guard (held by its response body) is dropped.
    pub fn request_started(self: &Arc<Self>) -> RequestUnderWay {
        self.active.fetch_add(1, Ordering::Relaxed);
        RequestUnderWay(self.clone())
    }

    pub fn is_idle(&self) -> bool {
        self.active.load(Ordering::Relaxed) == 0
    }

    /// The rule that would close the connection soonest and when, if one applies now.
    fn next_rule(&self, timeouts: &Timeouts) -> Option<(u64, Expired)> {
        let idle = timeouts.idle.as_millis() as u64;
        let header = timeouts.header.as_millis() as u64;
        let blocked = self.write_blocked_since.load(Ordering::Relaxed);
        let stalled =
            (blocked != NEVER).then(|| (blocked.saturating_add(idle), Expired::StalledWrite));
        let waiting = self.is_idle().then(|| {
            let head = self.read_since_idle.load(Ordering::Relaxed);
            if head != NEVER {
                (head.saturating_add(header), Expired::SlowHead)
            } else {
                let since = self.idle_since.load(Ordering::Relaxed);
                (since.saturating_add(idle), Expired::Idle)
            }
        });
        [stalled, waiting]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }

    /// Resolves when a rule says the connection must close.
    ///
    /// Nothing wakes the watchdog early (a wake-up per request would cost every request):
    /// it looks every half of the shorter timeout, so it sees a rule begin to apply before
    /// that rule's deadline, and then sleeps until exactly that deadline.
    pub async fn expired(&self, timeouts: &Timeouts) -> Expired {
        let look = (timeouts.header.min(timeouts.idle) / 2).max(Duration::from_millis(1));
        loop {
            let now = self.now();
            let wake = match self.next_rule(timeouts) {
                Some((deadline, rule)) if now >= deadline => return rule,
                Some((deadline, _)) => Duration::from_millis(deadline - now).min(look),
                None => look,
            };
            tokio::time::sleep(wake).await;
        }
    }
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    Idle,
    SlowHead,
    StalledWrite,
}

/// Marks a request under way on its connection until dropped.
pub struct RequestUnderWay(Arc<Activity>);

impl Drop for RequestUnderWay {
    fn drop(&mut self) {
        let activity = &self.0;
        if activity.active.fetch_sub(1, Ordering::Relaxed) == 1 {
            activity.read_since_idle.store(NEVER, Ordering::Relaxed);
            activity.idle_since.store(activity.now(), Ordering::Relaxed);
        }
    }
}

/// A response body that keeps its request marked as under way until it is sent.
pub struct TrackedBody {
    body: Body,
    _request: RequestUnderWay,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The client's socket: reports activity, and lingers when dropped (see the module doc).
pub struct ClientStream {
    stream: Option<TcpStream>,
    activity: Arc<Activity>,
    /// The connection's place under the cap, given back once the socket is closed.
    place: Option<OwnedSemaphorePermit>,
}

impl ClientStream {
    pub fn new(stream: TcpStream, activity: Arc<Activity>, place: OwnedSemaphorePermit) -> Self {
        ClientStream {
            stream: Some(stream),
            activity,
            place: Some(place),
        }
    }

    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("the stream is there until dropped"),
        )
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = this.stream().poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_arrived();
        }
        result
    }
}

impl ClientStream {
    fn note_write<T>(&self, result: &Poll<io::Result<T>>) {
        match result {
            Poll::Pending => self.activity.write_stalled(),
            Poll::Ready(_) => self.activity.write_went_through(),
        }
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = this.stream().poll_write(cx, buf);
        this.note_write(&result);
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = this.stream().poll_write_vectored(cx, bufs);
        this.note_write(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = this.stream().poll_flush(cx);
        this.note_write(&result);
        result
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stream().poll_shutdown(cx)
    }
}

impl Drop for ClientStream {
    fn drop(&mut self) {
        let (Some(stream), place) = (self.stream.take(), self.place.take()) else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                linger(stream).await;
                drop(place);
            });
        }
    }
}

/// Shuts the write side, then reads and discards what the client still sends, within
/// bounds, so that closing does not reset a connection whose response is unread.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let until = Instant::now() + LINGER_MAX;
    // Read into spare capacity: zeroing a buffer on every close cost more than the rest
    // of a short connection's teardown, and most clients have nothing left to send.
    let mut buffer = Vec::with_capacity(16 * 1024);
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        let quiet = until.min(Instant::now() + LINGER_QUIET);
        buffer.clear();
        match tokio::time::timeout_at(quiet, stream.read_buf(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => discarded += n,
            _ => break,
        }
    }
}

/// What every connection of a server shares.
pub struct Connections {
    pub app: Arc<Nixweb>,
    pub builder: hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    pub timeouts: Timeouts,
    pub slow_heads: Notice,
    pub stalled_writes: Notice,
    pub failed_handshakes: Notice,
}

/// [`serve`] after a TLS handshake, which must finish within the header timeout.
pub async fn serve_tls(
    client: ClientStream,
    peer: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
    activity: Arc<Activity>,
    server: &Connections,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(server.timeouts.header, acceptor.accept(client));
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                server.failed_handshakes.record(|| format!("{peer}: {e}"));
                return;
            }
            Err(_) => {
                server.slow_heads.record(|| format!(
                    "{peer} did not finish its TLS handshake within {:?} (--header-timeout)",
                    server.timeouts.header
                ));
                return;
            }
        },
        _ = stopping.changed() => return,
    };
    let facts = Arc::new(crate::tls::connection_facts(stream.get_ref().1));
    serve(stream, peer, Some(facts), activity, server, stopping).await
}

/// Serves HTTP on `io` until the client closes, a timeout closes it, or the server stops
/// (`stopping` turns true) and the requests under way are done.
pub async fn serve<I>(
    io: I,
    peer: SocketAddr,
    tls: Option<Arc<TlsInfo>>,
    activity: Arc<Activity>,
    server: &Connections,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = server.app.clone();
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let under_way = requests.request_started();
        let app = app.clone();
        let tls = tls.clone();
        async move {
            let mut request = request.map(Body::new);
            if let Some(tls) = tls {
                request.extensions_mut().insert(tls);
            }
            let response = app.respond(request, Some(peer.ip())).await;
            Ok::<_, Infallible>(response.map(|body| TrackedBody {
                body,
                _request: under_way,
            }))
        }
    });
    let connection = server.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut draining = *stopping.borrow();
    if draining {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            finished = connection.as_mut() => {
                if let Err(e) = finished {
                    tracing::debug!(target: "nixweb::http", "connection from {peer} ended: {e}");
                }
                return;
            }
            rule = activity.expired(&server.timeouts) => {
                match rule {
                    Expired::Idle => {}
                    Expired::SlowHead => server.slow_heads.record(|| format!(
                        "{peer} did not finish its request head within {:?} (--header-timeout)",
                        server.timeouts.header
                    )),
                    Expired::StalledWrite => server.stalled_writes.record(|| format!(
                        "{peer} read nothing of its response for {:?} (--idle-timeout)",
                        server.timeouts.idle
                    )),
                }
                return;
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
        if draining && activity.is_idle() {
            // Nothing under way (at most a request head arriving): close now.
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_secs(2),
        idle: Duration::from_secs(10),
    };

    /// Runs `script` against a fresh connection's activity while the watchdog watches;
    /// returns the rule that closed it and when (time is simulated).
    async fn watch(
        script: impl FnOnce(Arc<Activity>) -> tokio::task::JoinHandle<()>,
    ) -> (Expired, Duration) {
        let activity = Activity::new();
        let started = Instant::now();
        let _script = script(activity.clone());
        let rule = activity.expired(&TIMEOUTS).await;
        (rule, started.elapsed())
    }

    async fn at(seconds: f64) {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_idle_after_the_idle_timeout() {
        let closed = watch(|_| tokio::spawn(async {})).await;
        assert_eq!(closed, (Expired::Idle, Duration::from_secs(10)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_that_began_must_end_within_the_header_timeout() {
        let closed = watch(|a| {
            tokio::spawn(async move {
                at(3.0).await;
                a.bytes_arrived();
                at(1.0).await;
                a.bytes_arrived();
            })
        })
        .await;
        assert_eq!(closed, (Expired::SlowHead, Duration::from_secs(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_under_way_is_not_idle_and_a_slow_head_after_it_is_caught() {
        let closed = watch(|a| {
            tokio::spawn(async move {
                a.bytes_arrived();
                let request = a.request_started();
                at(30.0).await;
                drop(request);
                // The next head on the kept-alive connection begins, and stops.
                at(0.5).await;
                a.bytes_arrived();
            })
        })
        .await;
        assert_eq!(closed, (Expired::SlowHead, Duration::from_millis(32_500)));
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_request_the_idle_timeout_starts_again() {
        let closed = watch(|a| {
            tokio::spawn(async move {
                let request = a.request_started();
                at(7.0).await;
                drop(request);
            })
        })
        .await;
        assert_eq!(closed, (Expired::Idle, Duration::from_secs(17)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_stalls_for_the_idle_timeout_closes_and_progress_resets_it() {
        let closed = watch(|a| {
            tokio::spawn(async move {
                let request = a.request_started();
                at(5.0).await;
                a.write_stalled();
                at(8.0).await;
                a.write_went_through();
                a.write_stalled();
                at(60.0).await;
                drop(request);
            })
        })
        .await;
        assert_eq!(closed, (Expired::StalledWrite, Duration::from_secs(23)));
    }
}
