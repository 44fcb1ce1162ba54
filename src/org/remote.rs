//! A client of a kc-console server: the same [`Request`]s as the embedded path, carried over
//! HTTP/1.1 on the server's Unix socket, on TCP to a loopback address, or on TLS with the
//! server's certificate pinned by its fingerprint. The protocol is documented in
//! `src/server/mod.rs`.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::{socket_path, Auth, FeedEvent, Location, Org, Request, PROTOCOL_VERSION};
use crate::console::{Error, Result};

/// The header both sides send with their protocol version.
pub const PROTOCOL_HEADER: &str = "kc-console-protocol";
/// The largest reply a client reads (a page of 10,000 rows is far below it).
const REPLY_MAX: usize = 64 * 1024 * 1024;
/// No call waits longer than this on a server that does not answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
    Tls {
        address: String,
        server_name: rustls::pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
}

pub struct Remote {
    location: Location,
    endpoint: Endpoint,
    runtime: tokio::runtime::Runtime,
    /// One kept-alive connection, reused while it stays open.
    connection: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

fn unreachable(location: &Location, why: impl std::fmt::Display) -> Error {
    let place = match location {
        Location::Directory(dir) => format!("for {}", dir.display()),
        Location::Server(url) => format!("at {url}"),
    };
    Error::Storage(format!(
        "the kc-console server {place} is not reachable ({why}); it may have stopped — start it again with `kc-console serve`"
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kc-console-client")
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the client's runtime: {e}")))
}

/// An error reply's kind, as the server writes it, back into the model's error.
fn error_from(kind: &str, message: String) -> Error {
    match kind {
        "invalid" => Error::Invalid(message),
        "auth" => Error::Auth(message),
        "denied" => Error::Denied(message),
        "not_found" => Error::NotFound(message),
        "conflict" => Error::Conflict(message),
        "storage" => Error::Storage(message),
        _ => Error::Internal(message),
    }
}

impl Remote {
    fn new(location: Location, endpoint: Endpoint) -> Result<Remote> {
        Ok(Remote {
            location,
            endpoint,
            runtime: runtime()?,
            connection: Mutex::new(None),
        })
    }

    /// The server holding `dir`, when its socket answers. `None` when there is no socket or
    /// nothing listens on it any more (a server killed without cleaning up).
    pub fn to_socket_if_served(dir: &Path) -> Result<Option<Remote>> {
        let socket = socket_path(dir);
        match std::os::unix::net::UnixStream::connect(&socket) {
            Ok(_) => Ok(Some(Remote::new(
                Location::directory(dir),
                Endpoint::Unix(socket),
            )?)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(Error::Storage(format!(
                "the server of {} does not let you in (its socket belongs to another OS user): use that user, or --server URL",
                dir.display()
            ))),
            Err(e) => Err(Error::Storage(format!(
                "cannot reach the server of {} through {}: {e}",
                dir.display(),
                socket.display()
            ))),
        }
    }

    /// A server named by URL: `http://` on a loopback address, `https://` anywhere, with the
    /// certificate's SHA-256 fingerprint pinned.
    pub fn to_url(url: &str, fingerprint: Option<&str>) -> Result<Remote> {
        let bad = |why: &str| Error::Invalid(format!("--server {:?}: {why}", crate::text::visible(url)));
        if url.len() > 512 {
            return Err(bad("too long"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected http://HOST:PORT or https://HOST:PORT"))?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(bad(
                "expected http://HOST:PORT or https://HOST:PORT, with no path",
            ));
        }
        let (host, _port) = authority
            .rsplit_once(':')
            .filter(|(_, p)| p.parse::<u16>().is_ok())
            .ok_or_else(|| bad("the port is missing"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let location = Location::Server(format!("{scheme}://{authority}"));
        let endpoint = match scheme {
            "http" => {
                if !is_loopback(host) {
                    return Err(bad("plain http:// is only for a server on this machine (a loopback address); use https:// with --server-fingerprint"));
                }
                Endpoint::Tcp(authority.to_string())
            }
            "https" => {
                let fingerprint = fingerprint.ok_or_else(|| {
                    bad("an https:// server needs its certificate pinned: pass --server-fingerprint SHA256:… (the server prints it when it starts)")
                })?;
                let pinned = super::tls::parse_fingerprint(fingerprint)?;
                let server_name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|_| bad("the host is not a valid name or address"))?;
                Endpoint::Tls {
                    address: authority.to_string(),
                    server_name,
                    config: super::tls::pinned_client(pinned)?,
                }
            }
            _ => return Err(bad("the scheme must be http:// or https://")),
        };
        Remote::new(location, endpoint)
    }

    async fn open(endpoint: &Endpoint) -> std::io::Result<SendRequest<Full<Bytes>>> {
        async fn handshake<S>(stream: S) -> std::io::Result<SendRequest<Full<Bytes>>>
        where
            S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        {
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(std::io::Error::other)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(sender)
        }
        match endpoint {
            Endpoint::Unix(path) => handshake(tokio::net::UnixStream::connect(path).await?).await,
            Endpoint::Tcp(address) => {
                let stream = tokio::net::TcpStream::connect(address).await?;
                stream.set_nodelay(true)?;
                handshake(stream).await
            }
            Endpoint::Tls {
                address,
                server_name,
                config,
            } => {
                let stream = tokio::net::TcpStream::connect(address).await?;
                stream.set_nodelay(true)?;
                let tls = tokio_rustls::TlsConnector::from(Arc::clone(config))
                    .connect(server_name.clone(), stream)
                    .await?;
                handshake(tls).await
            }
        }
    }

    fn request(
        path: &str,
        method: hyper::Method,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> Result<hyper::Request<Full<Bytes>>> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "kc-console")
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json");
        if let Some(token) = bearer {
            builder = builder.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::Internal(format!("cannot build a request: {e}")))
    }

    /// Sends one request on the kept connection (opening one if needed) and reads the reply.
    async fn exchange(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> std::result::Result<(u16, Option<u32>, Bytes), String> {
        let sender = self.connection.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut sender = match sender {
            Some(mut kept) => match kept.ready().await {
                Ok(()) => kept,
                Err(_) => Self::open(&self.endpoint).await.map_err(|e| e.to_string())?,
            },
            None => Self::open(&self.endpoint).await.map_err(|e| e.to_string())?,
        };
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let protocol = response
            .headers()
            .get(PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = http_body_util::Limited::new(response.into_body(), REPLY_MAX)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = Some(sender);
        Ok((status, protocol, body))
    }

    fn check_protocol(&self, protocol: Option<u32>) -> Result<()> {
        match protocol {
            Some(PROTOCOL_VERSION) => Ok(()),
            Some(theirs) => Err(Error::Invalid(super::protocol_mismatch(
                &PROTOCOL_VERSION.to_string(),
                theirs,
            ))),
            None => Err(Error::Invalid(format!(
                "{} does not answer as a kc-console server (no protocol header); check the address",
                self.location.key()
            ))),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Org for Remote {
    fn call(&self, auth: &Auth, request: Request) -> Result<Value> {
        let body = serde_json::to_vec(&json!({"auth": auth, "request": request}))
            .map_err(|e| Error::Internal(format!("cannot encode a request: {e}")))?;
        let http = Self::request("/kc-console/v1/call", hyper::Method::POST, body, None)?;
        let exchanged = self
            .runtime
            .block_on(async { tokio::time::timeout(CALL_TIMEOUT, self.exchange(http)).await });
        let (status, protocol, bytes) = match exchanged {
            Ok(Ok(reply)) => reply,
            Ok(Err(why)) => return Err(unreachable(&self.location, why)),
            Err(_) => return Err(unreachable(&self.location, "no answer within 30 seconds")),
        };
        self.check_protocol(protocol)?;
        let reply: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("the server's reply is not JSON ({e}, status {status})")))?;
        if let Some(ok) = reply.get("ok") {
            return Ok(ok.clone());
        }
        let kind = reply["error"]["kind"].as_str().unwrap_or("internal");
        let message = reply["error"]["message"]
            .as_str()
            .unwrap_or("the server gave no reason")
            .to_string();
        Err(error_from(kind, message))
    }

    fn changes(&self, auth: &Auth) -> Result<mpsc::Receiver<FeedEvent>> {
        let Auth::Session { token } = auth else {
            return Err(Error::Invalid("the change feed needs a session".into()));
        };
        let http = Self::request(
            "/kc-console/v1/changes",
            hyper::Method::GET,
            Vec::new(),
            Some(token.expose()),
        )?;
        let endpoint = self.endpoint.clone();
        let location = self.location.clone();
        let (tx, rx) = mpsc::channel();
        // The feed has a connection of its own, read by a task until it ends.
        let opened = self.runtime.block_on(async move {
            let mut sender = Self::open(&endpoint)
                .await
                .map_err(|e| unreachable(&location, e))?;
            let response = sender
                .send_request(http)
                .await
                .map_err(|e| unreachable(&location, e))?;
            Ok::<_, Error>(response)
        })?;
        let protocol = opened
            .headers()
            .get(PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        self.check_protocol(protocol)?;
        if !opened.status().is_success() {
            let bytes = self
                .runtime
                .block_on(http_body_util::Limited::new(opened.into_body(), 64 * 1024).collect())
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let reply: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let kind = reply["error"]["kind"].as_str().unwrap_or("internal");
            let message = reply["error"]["message"]
                .as_str()
                .unwrap_or("refused")
                .to_string();
            return Err(error_from(kind, message));
        }
        self.runtime.spawn(async move {
            let mut body = opened.into_body();
            let mut pending: Vec<u8> = Vec::new();
            let why = loop {
                // The server sends a line at least every few seconds; silence means it is gone.
                let frame = match tokio::time::timeout(super::FEED_SILENCE, body.frame()).await {
                    Err(_) => break "the server stopped answering".to_string(),
                    Ok(None) => break "the server closed the connection".to_string(),
                    Ok(Some(Err(e))) => break e.to_string(),
                    Ok(Some(Ok(frame))) => frame,
                };
                let Ok(data) = frame.into_data() else { continue };
                pending.extend_from_slice(&data);
                if pending.len() > 1024 * 1024 {
                    break "the feed sent an over-long line".to_string();
                }
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let Ok(value) = serde_json::from_slice::<Value>(&line) else {
                        continue;
                    };
                    let event = if let Some(change) = value.get("change") {
                        match serde_json::from_value(change.clone()) {
                            Ok(change) => FeedEvent::Changed(change),
                            Err(_) => continue,
                        }
                    } else if value.get("missed").is_some() {
                        FeedEvent::Missed
                    } else {
                        continue;
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            };
            let _ = tx.send(FeedEvent::Lost(why));
        });
        Ok(rx)
    }

    fn location(&self) -> &Location {
        &self.location
    }
}
