//! The server that holds a data directory, so that many faces use one organization at once:
//! consoles and commands on this machine through its Unix socket, consoles elsewhere through
//! TCP (TLS for anything but loopback), and API clients through the Keystone API.
//!
//! # The management protocol (version [`PROTOCOL_VERSION`])
//!
//! HTTP/1.1; every request and reply carries the header `KC-Console-Protocol: 2`. A request
//! with another version is refused (400, kind `invalid`, saying which side to upgrade), and a
//! client refuses a reply with another version the same way.
//!
//! - `GET /kc-console/v1/hello` → `{"protocol": 2, "version": "0.2.0", "organization": NAME}`.
//! - `POST /kc-console/v1/call` with `{"auth": AUTH, "request": REQUEST}` (JSON, at most
//!   1 MiB) → `{"ok": REPLY}`, or `{"error": {"kind": KIND, "message": TEXT}}` with the HTTP
//!   status of the kind: `invalid` 400, `auth` 401, `denied` 403, `not_found` 404, `conflict`
//!   409, `storage` 503, `internal` 500 (the CLI's exit codes 2–7 and 1). `AUTH` is
//!   `{"method": "session", "token": T}`, `{"method": "password", "email": E, "password": P}`,
//!   `{"method": "none"}` (a token issue, which carries its key) or `{"method": "holder"}`
//!   (recovery; accepted only on the Unix socket from the OS user that runs the server).
//!   `REQUEST` is one of [`crate::org::Request`], tagged by `op` — the same values the
//!   embedded path carries out, so a command behaves alike either way.
//! - `GET /kc-console/v1/changes` with `Authorization: Bearer SESSION` → a stream of JSON
//!   lines: `{"change": {"seq", "at", "actor", "action", "target"}}` for each committed change
//!   (others' changes reach a user who may not read the whole audit log without actor and
//!   target), `{"missed": true}` when the reader fell behind (reload), and `{"ping": true}` every
//!   few seconds so a client can tell a live server from a dead connection.
//!
//! The server decides every permission from the credential it authenticated; nothing a client
//! says about itself is trusted.

mod listen;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::console::{Console, Error, Result, Secret};
use crate::org::remote::PROTOCOL_HEADER;
use crate::org::{execute, protocol_mismatch, socket_path, Auth, Request, PROTOCOL_VERSION};

pub use listen::Listening;

/// The largest request body: requests are small (an inquiry's details are the longest field).
const REQUEST_MAX: usize = 1024 * 1024;
/// How often a feed stream says it is alive.
pub const FEED_PING: Duration = Duration::from_secs(5);

/// What a connection proved by how it arrived.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    /// On the Unix socket, from the OS user that runs the server: holds the data directory.
    pub holder: bool,
}

#[derive(Clone)]
struct Shared {
    console: Arc<Console>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    auth: Auth,
    request: Request,
}

fn kind(e: &Error) -> (&'static str, StatusCode) {
    match e {
        Error::Invalid(_) => ("invalid", StatusCode::BAD_REQUEST),
        Error::Auth(_) => ("auth", StatusCode::UNAUTHORIZED),
        Error::Denied(_) => ("denied", StatusCode::FORBIDDEN),
        Error::NotFound(_) => ("not_found", StatusCode::NOT_FOUND),
        Error::Conflict(_) => ("conflict", StatusCode::CONFLICT),
        Error::Storage(_) => ("storage", StatusCode::SERVICE_UNAVAILABLE),
        Error::Internal(_) => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn error_reply(e: &Error) -> Response {
    let (kind, status) = kind(e);
    (
        status,
        Json(json!({"error": {"kind": kind, "message": e.message()}})),
    )
        .into_response()
}

/// Every reply says the protocol version; a request in another version is refused.
async fn protocol(request: HttpRequest, next: Next) -> Response {
    let theirs = request
        .headers()
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut response = match theirs.as_deref() {
        Some(v) if v == PROTOCOL_VERSION.to_string() => next.run(request).await,
        Some(v) => error_reply(&Error::Invalid(protocol_mismatch(v, PROTOCOL_VERSION))),
        None if request.uri().path() == "/kc-console/v1/hello" => next.run(request).await,
        None => error_reply(&Error::Invalid(format!(
            "send the header {PROTOCOL_HEADER}: {PROTOCOL_VERSION}"
        ))),
    };
    response
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    response
}

async fn hello(State(shared): State<Shared>) -> Json<Value> {
    let organization = shared.console.organization().map(|o| o.name).ok();
    Json(json!({
        "protocol": PROTOCOL_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
        "organization": organization,
    }))
}

async fn call(State(shared): State<Shared>, Extension(peer): Extension<Peer>, body: Body) -> Response {
    let bytes = match axum::body::to_bytes(body, REQUEST_MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return error_reply(&Error::Invalid(format!(
                "the request is larger than {REQUEST_MAX} bytes"
            )))
        }
    };
    let call: Call = match serde_json::from_slice(&bytes) {
        Ok(call) => call,
        Err(e) => {
            return error_reply(&Error::Invalid(format!(
            "the request is not one this server knows ({}); this server is kc-console {}: use the same version on both sides",
            crate::text::visible(&e.to_string().chars().take(200).collect::<String>()),
            env!("CARGO_PKG_VERSION")
        )))
        }
    };
    let console = Arc::clone(&shared.console);
    // argon2 and flushes block: off the async workers.
    let done =
        tokio::task::spawn_blocking(move || execute(&console, &call.auth, peer.holder, call.request)).await;
    match done {
        Ok(Ok(value)) => Json(json!({"ok": value})).into_response(),
        Ok(Err(e)) => error_reply(&e),
        Err(e) => error_reply(&Error::Internal(format!("the request failed: {e}"))),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

async fn changes(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return error_reply(&Error::Auth(
            "the change feed needs a session (Authorization: Bearer …)".into(),
        ));
    };
    let auth = Auth::Session {
        token: Secret::new(token.chars().take(512).collect()),
    };
    let console = Arc::clone(&shared.console);
    let viewer = match tokio::task::spawn_blocking(move || crate::org::feed_viewer(&console, &auth)).await {
        Ok(Ok(viewer)) => viewer,
        Ok(Err(e)) => return error_reply(&e),
        Err(e) => return error_reply(&Error::Internal(e.to_string())),
    };
    let feed = shared.console.subscribe();
    let mut ping = tokio::time::interval(FEED_PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lines =
        futures_util::stream::unfold((feed, ping, viewer), |(mut feed, mut ping, viewer)| async move {
            use tokio::sync::broadcast::error::RecvError;
            let line = tokio::select! {
                received = feed.recv() => match received {
                    Ok(change) => json!({"change": viewer.shown(change)}),
                    Err(RecvError::Lagged(_)) => json!({"missed": true}),
                    Err(RecvError::Closed) => return None,
                },
                _ = ping.tick() => json!({"ping": true}),
            };
            let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
            bytes.push(b'\n');
            Some((Ok::<_, std::io::Error>(bytes), (feed, ping, viewer)))
        });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|e| error_reply(&Error::Internal(e.to_string())))
}

/// The management API's routes.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/kc-console/v1/hello", get(hello))
        .route("/kc-console/v1/call", post(call))
        .route("/kc-console/v1/changes", get(changes))
        .fallback(|| async {
            error_reply(&Error::NotFound(
                "no such endpoint of the kc-console server".into(),
            ))
        })
        .layer(axum::middleware::from_fn(protocol))
        .with_state(Shared { console })
}

/// What `serve` listens on besides the Unix socket.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The Keystone-compatible token API (`--listen`).
    pub keystone: Option<String>,
    /// The management API on TCP (`--listen-admin`): TLS unless the address is loopback.
    pub admin: Option<String>,
}

/// Where a started server answers, for the start-up message.
#[derive(Debug, Clone)]
pub struct Started {
    pub socket: PathBuf,
    pub keystone: Option<SocketAddr>,
    pub admin: Option<(SocketAddr, Option<String>)>,
}

impl Started {
    pub fn describe(&self) -> String {
        let mut lines = vec![format!("management socket {}", self.socket.display())];
        if let Some(addr) = self.keystone {
            lines.push(format!("token API http://{addr}/identity/v3"));
        }
        if let Some((addr, fingerprint)) = &self.admin {
            lines.push(match fingerprint {
                Some(f) => format!("management API https://{addr} (certificate {f}; clients pin it with --server-fingerprint)"),
                None => format!("management API http://{addr}"),
            });
        }
        lines.join("; ")
    }
}

/// Starts every listener on `runtime` and returns once they are bound; they serve until the
/// runtime is dropped. The socket file is removed when the returned guard is dropped.
pub fn start(
    console: Arc<Console>,
    options: &Options,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Started, Listening)> {
    let dir = console.store().dir().to_path_buf();
    let socket = socket_path(&dir);
    let management = router(Arc::clone(&console));
    let mut listening = runtime.block_on(listen::unix(&socket, management.clone()))?;
    let keystone = match &options.keystone {
        Some(addr) => Some(runtime.block_on(listen::keystone(addr, Arc::clone(&console), &mut listening))?),
        None => None,
    };
    let admin = match &options.admin {
        Some(addr) => Some(runtime.block_on(listen::admin(addr, &dir, management, &mut listening))?),
        None => None,
    };
    Ok((
        Started {
            socket,
            keystone,
            admin,
        },
        listening,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kc-console-server")
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the server's runtime: {e}")))
}

/// `kc-console serve`: holds the data directory and serves until Ctrl-C or SIGTERM.
pub fn run(console: Console, options: &Options) -> Result<()> {
    let runtime = runtime()?;
    let (started, listening) = start(Arc::new(console), options, &runtime)?;
    eprintln!("kc-console: serving {} (Ctrl-C stops)", started.describe());
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::Internal(format!("cannot wait for signals: {e}")))?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        Ok::<(), Error>(())
    })?;
    drop(listening);
    Ok(())
}

/// The console's `--serve`: the server on a runtime of its own beside the console, which
/// keeps using the model directly. Returns what was started, and what keeps it running.
pub fn spawn(console: Arc<Console>, options: &Options) -> Result<(Started, Background)> {
    let runtime = runtime()?;
    let (started, listening) = start(console, options, &runtime)?;
    Ok((
        started,
        Background {
            _listening: listening,
            _runtime: runtime,
        },
    ))
}

/// A server running in the background of this process until dropped.
pub struct Background {
    _listening: Listening,
    _runtime: tokio::runtime::Runtime,
}
