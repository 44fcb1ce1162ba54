//! A demo organization in a temporary directory, served by the token API on a loopback port
//! until the handle is dropped: the setup the API tests share.

use std::net::SocketAddr;
use std::sync::Arc;

use kc_console::api::{self, ServerLimits};
use kc_console::console::{Config, Console};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Served {
    pub console: Arc<Console>,
    pub addr: SocketAddr,
    /// Stops the server and removes the directory when dropped.
    pub running: Running,
}

pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

impl Running {
    /// Stops the server and waits for it: it must end within 10 s, without an I/O error.
    #[allow(dead_code)] // Only tests/api.rs checks the shutdown itself.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(std::time::Duration::from_secs(10), task)
                .await
                .expect("the server stops within 10 s of its shutdown signal");
            result
                .expect("server task")
                .expect("the server ran without an I/O error");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Opens the demo organization with `config` (off the async threads: the demo's passwords are
/// hashed with argon2) and serves it with `limits`.
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
    let task = tokio::spawn(api::serve_with(listener, console.clone(), limits, async {
        let _ = stopped.await;
    }));
    Served {
        console,
        addr,
        running: Running {
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        },
    }
}
