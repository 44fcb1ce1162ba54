//! A demo organization in a temporary directory, served by the token API on a loopback port
//! until the handle is dropped: the setup the API tests share.

use std::net::SocketAddr;
use std::sync::Arc;

use kc_console::api::{self, ServerLimits};
use kc_console::console::{Config, Console};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct Served {
    pub console: Arc<Console>,
    pub addr: SocketAddr,
    /// Stops the server and removes the directory when dropped.
    pub running: Running,
}

pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Opens the demo organization with `config` (off the async threads: argon2 and disk) and
/// serves it with `limits`.
pub async fn serve_demo(config: Config, limits: ServerLimits) -> Served {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().to_path_buf();
    let console = tokio::task::spawn_blocking(move || {
        let console = Console::open(&path, config).expect("the console opens");
        console.load_demo().expect("the demo organization loads");
        console
    })
    .await
    .expect("setup thread");
    let console = Arc::new(console);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(api::serve_with(listener, console.clone(), limits, async {
        let _ = stopped.await;
    }));
    Served {
        console,
        addr,
        running: Running {
            stop: Some(stop),
            _dir: dir,
        },
    }
}
