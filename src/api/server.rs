//! The connection layer under the router: an accept loop over hyper's HTTP/1.1 connection
//! builder, so that what a client can make the server hold is bounded.
//!
//! - **Connections**: at most `max_connections` at once; the listening socket's backlog is
//!   bounded (`accept_backlog`). When the limit is full, the connection that has waited longest
//!   for a request head (a slowloris, or an idle keep-alive client) is closed to make room, so a
//!   real client never queues behind connections that send nothing. When every connection is in
//!   the middle of a request, the server stops accepting until one ends (the kernel's bounded
//!   backlog holds the rest).
//! - **Timeouts**: a request head must be complete within `header_read_timeout` of its first
//!   byte; a connection waiting for a request (new, or keep-alive between requests) is closed
//!   after `idle_timeout`; a request's handling, body reading included, is cut at
//!   `request_timeout` (tower-http, answered 408).
//! - **Head size**: hyper reads at most `max_head_bytes` of a request head and at most 100
//!   headers. hyper answers a head it cannot accept itself, with an empty body; [`ErrorBodies`]
//!   gives those answers Keystone's JSON error body.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

/// What one client, or all of them together, can make the server hold.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Open connections at most; beyond it the longest-waiting idle one is closed.
    pub max_connections: usize,
    /// The listening socket's backlog (`kc-console serve` and `--serve` bind with it).
    pub accept_backlog: u32,
    /// A request head must be complete this long after its first byte.
    pub header_read_timeout: Duration,
    /// A connection without a request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// A request's handling, reading its body included, may take this long (then 408).
    pub request_timeout: Duration,
    /// The largest request head (request line and headers) read, in bytes (then 431).
    pub max_head_bytes: usize,
    /// Failed token issues naming one key ID (or key name) before it is throttled.
    pub failures_per_key: super::throttle::Budget,
    /// Failed token issues from one client address (an IPv6 /64) before it is throttled.
    pub failures_per_address: super::throttle::Budget,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 1024,
            accept_backlog: 512,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
            max_head_bytes: 16 * 1024,
            failures_per_key: super::throttle::Budget {
                failures: 10,
                per: Duration::from_secs(60),
            },
            failures_per_address: super::throttle::Budget {
                failures: 100,
                per: Duration::from_secs(60),
            },
        }
    }
}

/// The peer of a request, put in its extensions for the handlers (throttling).
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer(pub SocketAddr);

const WAITING: u8 = 0;
const HEAD_STARTED: u8 = 1;
const BUSY: u8 = 2;

const FATE_NONE: u8 = 0;
const FATE_EVICT: u8 = 1;
const FATE_SHUTDOWN: u8 = 2;

/// One connection as the accept loop and its watchdog see it.
struct Tracked {
    /// WAITING for a request head, HEAD_STARTED (bytes of one arrived), or BUSY with a request.
    state: AtomicU8,
    /// When the current state began, in nanoseconds since the server started.
    since: AtomicU64,
    /// Why the connection is being told to stop (evicted, or the server shuts down).
    fate: AtomicU8,
    signal: Notify,
    epoch: Instant,
}

impl Tracked {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn enter(&self, state: u8) {
        self.since.store(self.now(), Ordering::Relaxed);
        self.state.store(state, Ordering::Release);
    }

    /// When the connection must be closed unless its state changes.
    fn deadline(&self, limits: &ServerLimits) -> Option<Instant> {
        let allowed = match self.state.load(Ordering::Acquire) {
            WAITING => limits.idle_timeout,
            HEAD_STARTED => limits.header_read_timeout,
            // The request timeout bounds the handler; the idle timeout starts again after it.
            _ => return None,
        };
        let since = Duration::from_nanos(self.since.load(Ordering::Relaxed));
        Some(self.epoch + since + allowed)
    }

    /// When to look again: the deadline, or sooner while waiting, since a head may start (and
    /// its shorter deadline begin) at any moment without waking the watchdog.
    fn next_check(&self, limits: &ServerLimits) -> Instant {
        let soon = Instant::now() + limits.header_read_timeout.min(limits.idle_timeout);
        match self.deadline(limits) {
            Some(deadline) if self.state.load(Ordering::Acquire) == WAITING => deadline.min(soon),
            Some(deadline) => deadline,
            None => soon,
        }
    }

    fn stop(&self, fate: u8) {
        self.fate.store(fate, Ordering::Release);
        self.signal.notify_one();
    }
}

/// The open connections, for the limit and for eviction.
struct Registry {
    connections: Mutex<HashMap<u64, Arc<Tracked>>>,
    /// Connection tasks still running (evicted ones included, until they have closed).
    live: AtomicUsize,
    changed: Notify,
}

impl Registry {
    fn len(&self) -> usize {
        self.connections.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Closes the connection that has waited longest for a request head; false if every
    /// connection is busy with a request.
    fn evict_longest_waiting(&self) -> bool {
        let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = connections
            .iter()
            .filter(|(_, c)| c.state.load(Ordering::Acquire) != BUSY)
            .min_by_key(|(_, c)| c.since.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match oldest.and_then(|id| connections.remove(&id)) {
            Some(evicted) => {
                evicted.stop(FATE_EVICT);
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        self.connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.live.fetch_sub(1, Ordering::AcqRel);
        self.changed.notify_waiters();
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in progress
/// finish and closes every connection.
pub(super) async fn run(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let registry = Arc::new(Registry {
        connections: Mutex::new(HashMap::new()),
        live: AtomicUsize::new(0),
        changed: Notify::new(),
    });
    let epoch = Instant::now();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(limits.max_head_bytes)
        .keep_alive(true)
        // One contiguous buffer per write: `ErrorBodies` recognises hyper's own answers whole.
        .writev(false);
    let http = Arc::new(http);
    tokio::pin!(shutdown);
    let mut next_id: u64 = 0;
    loop {
        // Room for one more: below the limit, or made by closing the longest-waiting idle
        // connection; else wait for one to end.
        loop {
            if registry.len() < limits.max_connections || registry.evict_longest_waiting() {
                break;
            }
            let changed = registry.changed.notified();
            tokio::select! {
                _ = changed => {}
                _ = &mut shutdown => return drain(&registry).await,
            }
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return drain(&registry).await,
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let tracked = Arc::new(Tracked {
            state: AtomicU8::new(WAITING),
            since: AtomicU64::new(epoch.elapsed().as_nanos() as u64),
            fate: AtomicU8::new(FATE_NONE),
            signal: Notify::new(),
            epoch,
        });
        registry
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(next_id, Arc::clone(&tracked));
        registry.live.fetch_add(1, Ordering::AcqRel);
        let connection = Connection {
            id: next_id,
            stream,
            peer,
            tracked,
            router: router.clone(),
            http: Arc::clone(&http),
            limits: Arc::clone(&limits),
            registry: Arc::clone(&registry),
        };
        tokio::spawn(connection.serve());
    }
}

/// Stops every connection (those in a request finish it) and waits until all have closed.
async fn drain(registry: &Registry) -> io::Result<()> {
    for tracked in registry
        .connections
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
    {
        tracked.stop(FATE_SHUTDOWN);
    }
    while registry.live.load(Ordering::Acquire) > 0 {
        let changed = registry.changed.notified();
        if registry.live.load(Ordering::Acquire) == 0 {
            break;
        }
        changed.await;
    }
    Ok(())
}

struct Connection {
    id: u64,
    stream: TcpStream,
    peer: SocketAddr,
    tracked: Arc<Tracked>,
    router: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    limits: Arc<ServerLimits>,
    registry: Arc<Registry>,
}

impl Connection {
    async fn serve(self) {
        let Connection {
            id,
            stream,
            peer,
            tracked,
            router,
            http,
            limits,
            registry,
        } = self;
        let io = TokioIo::new(ErrorBodies::new(stream, Arc::clone(&tracked)));
        let service = RequestService {
            router,
            peer,
            tracked: Arc::clone(&tracked),
        };
        let conn = http.serve_connection(io, service);
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            let timer = tokio::time::sleep_until(tokio::time::Instant::from_std(tracked.next_check(&limits)));
            tokio::select! {
                _ = conn.as_mut() => break,
                _ = tracked.signal.notified() => {
                    if tracked.fate.load(Ordering::Acquire) == FATE_EVICT {
                        break;
                    }
                    if !stopping {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
                // Re-checked on waking: the state may have moved on since the timer was set.
                _ = timer => {
                    if tracked.deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                        break;
                    }
                }
            }
        }
        registry.remove(id);
    }
}

/// Hands each request to the router, marking the connection busy while it runs.
#[derive(Clone)]
struct RequestService {
    router: Router,
    peer: SocketAddr,
    tracked: Arc<Tracked>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for RequestService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.tracked.enter(BUSY);
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(Peer(self.peer));
        let tracked = Arc::clone(&self.tracked);
        let answer = self.router.clone().oneshot(request);
        Box::pin(async move {
            let response = answer.await;
            tracked.enter(WAITING);
            response
        })
    }
}

/// The socket as hyper sees it: reads mark the start of a request head for the watchdog, and
/// hyper's own answers to a head it could not accept (400, 414, 431 with an empty body) are
/// replaced by the same status with Keystone's JSON error body.
struct ErrorBodies {
    stream: TcpStream,
    tracked: Arc<Tracked>,
    /// A replacement answer still to be written.
    pending: Vec<u8>,
    written: usize,
    /// The request line of the head being read has not ended yet: a head too large while this
    /// holds was too large because of its request line (414, not 431).
    request_line_open: bool,
}

impl ErrorBodies {
    fn new(stream: TcpStream, tracked: Arc<Tracked>) -> ErrorBodies {
        ErrorBodies {
            stream,
            tracked,
            pending: Vec::new(),
            written: 0,
            request_line_open: false,
        }
    }

    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                std::task::ready!(Pin::new(&mut self.stream).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// hyper's automatic answer to an unacceptable head: a whole buffer holding only a status
/// line of 400, 414 or 431 and headers saying `content-length: 0`. Answers of this API always
/// carry a JSON body, so nothing else matches. Returns the status code.
fn automatic_error(buf: &[u8]) -> Option<u16> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
    let code = match rest.get(..3)? {
        b"400" => 400,
        b"414" => 414,
        b"431" => 431,
        _ => return None,
    };
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let empty = buf[..head_end]
        .windows(19)
        .any(|w| w.eq_ignore_ascii_case(b"\r\ncontent-length: 0"));
    (head_end == buf.len() && empty).then_some(code)
}

fn replacement(code: u16) -> Vec<u8> {
    let (reason, message) = match code {
        414 => ("URI Too Long", "the request line is too long".to_string()),
        431 => (
            "Request Header Fields Too Large",
            "the request's headers are too large: at most 100 headers and 16 KiB in all".to_string(),
        ),
        _ => ("Bad Request", "the request is not valid HTTP/1.1".to_string()),
    };
    let body = serde_json::json!({"error": {"code": code, "title": reason, "message": message}}).to_string();
    format!(
        "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl AsyncRead for ErrorBodies {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = &buf.filled()[before..];
        if read.is_empty() {
            return result;
        }
        if this
            .tracked
            .state
            .compare_exchange(WAITING, HEAD_STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            this.tracked.since.store(this.tracked.now(), Ordering::Relaxed);
            this.request_line_open = true;
        }
        if this.request_line_open && read.contains(&b'\n') {
            this.request_line_open = false;
        }
        result
    }
}

impl AsyncWrite for ErrorBodies {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending(cx))?;
        if let Some(code) = automatic_error(buf) {
            let code = if code == 431 && this.request_line_open {
                414
            } else {
                code
            };
            this.pending = replacement(code);
            this.written = 0;
            // hyper's bytes count as written: the replacement goes out in their place.
            let _ = this.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::automatic_error;

    #[test]
    fn only_hypers_bodiless_head_errors_are_replaced() {
        let auto = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        assert_eq!(automatic_error(auto), Some(431));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 80\r\n\r\n{\"error\":{}}";
        assert_eq!(automatic_error(ours), None);
        let ok = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_error(ok), None);
    }
}
