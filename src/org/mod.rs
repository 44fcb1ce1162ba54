//! One organization, many faces: the command line and the console speak to an [`Org`] —
//! the model in this process ([`Embedded`]), or the server that holds the data directory
//! ([`remote::Remote`], over its Unix socket or TCP) — with the same [`Request`]s, so every
//! command behaves the same either way, down to its output and exit code.
//!
//! Which one a command gets is decided by [`connect`]: `--server URL` names a server; else a
//! data directory whose server is running (its socket answers) is used through that server;
//! else the data directory is opened here, as before there were servers.

mod execute;
pub mod remote;
pub mod request;
pub mod saved;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use execute::{execute, feed_viewer, Viewer};
pub use request::{Auth, Request};

use crate::console::{Change, Config, Console, Error, Result};

/// The version of the request vocabulary on the wire; a client and a server that disagree
/// refuse each other with a message saying which side to upgrade.
/// 2: `credential.create` takes `role`, which an older server would drop silently (kc-console
/// 0.2.0; 0.1.0 spoke 1).
pub const PROTOCOL_VERSION: u32 = 2;

/// What a client and a server speaking different protocol versions say: which side is older
/// and so is the one to upgrade. `client` is what the client sent, unparsed on the server.
pub fn protocol_mismatch(client: &str, server: u32) -> String {
    let older = match client.parse::<u32>() {
        Ok(client) if client < server => "upgrade the client",
        Ok(_) => "upgrade the server",
        Err(_) => "the client sent no version number",
    };
    format!(
        "the client speaks kc-console protocol {} and the server protocol {server}: {older} (kc-console {} speaks protocol {PROTOCOL_VERSION})",
        crate::text::visible(&client.chars().take(20).collect::<String>()),
        env!("CARGO_PKG_VERSION")
    )
}
/// A feed that says nothing for this long has lost its server (which pings every 5 s).
pub const FEED_SILENCE: std::time::Duration = std::time::Duration::from_secs(15);
/// The server's socket, inside the data directory it holds.
pub const SOCKET_NAME: &str = crate::store::SERVER_SOCKET;

/// Where an organization is: this machine's data directory, or a server's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Directory(PathBuf),
    Server(String),
}

impl Location {
    /// A data directory, by its canonical path, so every spelling of it is one organization.
    pub fn directory(dir: &Path) -> Location {
        Location::Directory(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
    }

    /// The name sessions are kept under (see [`saved`]).
    pub fn key(&self) -> String {
        match self {
            Location::Directory(dir) => dir.display().to_string(),
            Location::Server(url) => url.clone(),
        }
    }
}

/// What a console hears from the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    Changed(Change),
    /// Some changes went by unseen (a slow reader, a reconnection): reload what is shown.
    Missed,
    /// The server is gone; the stream ends here.
    Lost(String),
}

pub trait Org: Send + Sync {
    /// Carries out one request as whoever `auth` proves to be; the reply as JSON.
    fn call(&self, auth: &Auth, request: Request) -> Result<Value>;
    /// Every change from now on that `auth`'s principal may know of, until the returned
    /// receiver is dropped or the connection ends (`FeedEvent::Lost`).
    fn changes(&self, auth: &Auth) -> Result<mpsc::Receiver<FeedEvent>>;
    fn location(&self) -> &Location;
    /// The model itself, when it is in this process.
    fn local_console(&self) -> Option<&Arc<Console>> {
        None
    }
}

/// Calls `org` and reads the reply as `T`.
pub fn call<T: DeserializeOwned>(org: &dyn Org, auth: &Auth, request: Request) -> Result<T> {
    let op = request.op();
    let value = org.call(auth, request)?;
    serde_json::from_value(value)
        .map_err(|e| Error::Internal(format!("the reply to {op} could not be read: {e}")))
}

/// The model in this process, over the data directory it holds.
pub struct Embedded {
    console: Arc<Console>,
    location: Location,
}

impl Embedded {
    pub fn new(console: Arc<Console>) -> Embedded {
        let location = Location::directory(console.store().dir());
        Embedded { console, location }
    }

    pub fn console(&self) -> &Arc<Console> {
        &self.console
    }
}

impl Org for Embedded {
    fn call(&self, auth: &Auth, request: Request) -> Result<Value> {
        // Opening the data directory is proof of holding it.
        execute(&self.console, auth, true, request)
    }

    fn changes(&self, auth: &Auth) -> Result<mpsc::Receiver<FeedEvent>> {
        let viewer = execute::feed_viewer(&self.console, auth)?;
        let mut feed = self.console.subscribe();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || loop {
            use tokio::sync::broadcast::error::RecvError;
            let event = match feed.blocking_recv() {
                Ok(change) => FeedEvent::Changed(viewer.shown(change)),
                Err(RecvError::Lagged(_)) => FeedEvent::Missed,
                Err(RecvError::Closed) => return,
            };
            if tx.send(event).is_err() {
                return;
            }
        });
        Ok(rx)
    }

    fn location(&self) -> &Location {
        &self.location
    }

    fn local_console(&self) -> Option<&Arc<Console>> {
        Some(&self.console)
    }
}

/// The model borrowed for the length of a call (a console driven headless, in tests and
/// walkthroughs): the same requests as [`Embedded`], without a change feed.
pub struct Borrowed<'a> {
    console: &'a Console,
    location: Location,
}

impl<'a> Borrowed<'a> {
    pub fn new(console: &'a Console) -> Borrowed<'a> {
        Borrowed {
            console,
            location: Location::directory(console.store().dir()),
        }
    }
}

impl Org for Borrowed<'_> {
    fn call(&self, auth: &Auth, request: Request) -> Result<Value> {
        execute(self.console, auth, true, request)
    }

    fn changes(&self, _auth: &Auth) -> Result<mpsc::Receiver<FeedEvent>> {
        Err(Error::Internal("a borrowed model has no change feed".into()))
    }

    fn location(&self) -> &Location {
        &self.location
    }
}

/// How to reach the organization a command names.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub data_dir: Option<PathBuf>,
    /// `--server URL` (env `KC_CONSOLE_SERVER`).
    pub server: Option<String>,
    /// The TLS certificate fingerprint to pin for an `https://` server.
    pub fingerprint: Option<String>,
}

/// The socket of a data directory's server.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_NAME)
}

/// The organization `target` names: its server when one answers, else the data directory
/// opened here. A socket left by a killed server is recognised (nothing answers, and its data
/// directory's lock is free) and removed.
pub fn connect(target: &Target, config: Config) -> Result<Box<dyn Org>> {
    if let Some(url) = &target.server {
        return Ok(Box::new(remote::Remote::to_url(
            url,
            target.fingerprint.as_deref(),
        )?));
    }
    let dir = target
        .data_dir
        .clone()
        .ok_or_else(|| Error::Invalid("no data directory: pass --data-dir DIR or --server URL".into()))?;
    // A server that has just taken the directory's lock opens its socket a moment later (and
    // one that is stopping lets go of the lock a moment after its socket): wait that out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        if let Some(remote) = remote::Remote::to_socket_if_served(&dir)? {
            return Ok(Box::new(remote));
        }
        // Opening takes the directory's lock; the store then removes a stale server socket.
        match Console::open(&dir, config.clone()) {
            Ok(console) => return Ok(Box::new(Embedded::new(Arc::new(console)))),
            Err(Error::Storage(m)) if m.contains("is in use") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}
