//! The server's listeners: the management API on the data directory's Unix socket (0600) and,
//! when asked, on TCP (TLS unless loopback); the Keystone API on TCP. Each connection is served
//! by hyper with a header-read timeout, and the number of connections at once is bounded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{watch, Semaphore};

use super::Peer;
use crate::console::{Console, Error, Result};

/// Connections served at once on one management listener; more wait in the kernel's backlog.
const CONNECTIONS_MAX: usize = 1024;
/// A client that has not finished its request headers by then is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The running listeners: dropping this stops them and removes the socket file.
pub struct Listening {
    stop: watch::Sender<bool>,
    socket: Option<PathBuf>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
    }
}

impl Listening {
    fn stopped(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }
}

fn serve_connection<S>(
    stream: S,
    app: Router,
    permit: tokio::sync::OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        let connection =
            builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app));
        tokio::select! {
            _ = connection => {}
            _ = stop.changed() => {}
        }
        drop(permit);
    });
}

/// The management API on the data directory's socket. Whoever holds the lock is the only
/// server, so a socket file already there is stale and is replaced.
pub async fn unix(path: &Path, app: Router) -> Result<Listening> {
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path).map_err(|e| {
        Error::Storage(format!(
            "cannot open the server's socket {}: {e}{}",
            path.display(),
            if path.as_os_str().len() > 100 {
                " (a socket's path is limited to about 100 bytes: use a shorter --data-dir)"
            } else {
                ""
            }
        ))
    })?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::Storage(format!("cannot restrict {}: {e}", path.display())))?;
    let (stop, _) = watch::channel(false);
    let listening = Listening {
        stop,
        socket: Some(path.to_path_buf()),
    };
    let mut stopped = listening.stopped();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let holder = stream.peer_cred().is_ok_and(|cred| cred.uid() == me);
            let app = app.clone().layer(Extension(Peer { holder }));
            serve_connection(stream, app, permit, stopped.clone());
        }
    });
    Ok(listening)
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on {}: {e}", crate::text::visible(addr))))
}

/// The Keystone-compatible token API on TCP.
pub async fn keystone(addr: &str, console: Arc<Console>, listening: &mut Listening) -> Result<SocketAddr> {
    let listener = bind(addr).await?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let mut stopped = listening.stopped();
    tokio::spawn(async move {
        let _ = crate::api::serve(listener, console, async move {
            let _ = stopped.changed().await;
        })
        .await;
    });
    Ok(local)
}

/// The management API on TCP: plain on a loopback address, TLS anywhere else, with the
/// certificate's fingerprint returned for the start-up message.
pub async fn admin(
    addr: &str,
    dir: &Path,
    app: Router,
    listening: &mut Listening,
) -> Result<(SocketAddr, Option<String>)> {
    let listener = bind(addr).await?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let tls = if local.ip().is_loopback() {
        None
    } else {
        Some(super::tls::server_config(dir)?)
    };
    let fingerprint = tls.as_ref().map(|(_, f)| f.clone());
    let acceptor = tls.map(|(config, _)| tokio_rustls::TlsAcceptor::from(config));
    let mut stopped = listening.stopped();
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    // Nobody on TCP holds the data directory, whatever they claim.
    let app = app.layer(Extension(Peer { holder: false }));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
                return;
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let _ = stream.set_nodelay(true);
            match &acceptor {
                None => serve_connection(stream, app.clone(), permit, stopped.clone()),
                Some(acceptor) => {
                    let (acceptor, app, stop) = (acceptor.clone(), app.clone(), stopped.clone());
                    tokio::spawn(async move {
                        // A handshake that does not finish in time holds no slot for long.
                        if let Ok(Ok(tls)) =
                            tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await
                        {
                            serve_connection(tls, app, permit, stop);
                        }
                    });
                }
            }
        }
    });
    Ok((local, fingerprint))
}
