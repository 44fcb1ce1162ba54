//! A slowloris against the token API (issue 14): 2,000 connections that never finish a
//! request head, some silent, some sending a little, some sending far more head than allowed.
//! A normal client still gets a token at once, the process's memory stays bounded, and
//! the server closes every one of them (evicted to make room, refused with 431, or timed out).
//!
//! In a file of its own: it measures this process's memory, which other tests would disturb.

#[path = "support/api_server.rs"]
mod api_server;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use api_server::{serve_demo, Running, Served};

use kc_console::api;
use kc_console::console::{Config, Console, KeyKind, NewKey};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The demo organization behind a server with `limits`; a key of dev's to issue with.
async fn start(limits: api::ServerLimits) -> (SocketAddr, NewKey, Running) {
    let Served {
        console,
        addr,
        running,
    } = serve_demo(Config::default(), limits).await;
    let dev = Console::actor_for(&console.user_by_email("dev@pangyo.example").expect("dev"));
    let key = console
        .create_credential(&dev, KeyKind::Iam, "web-shop", "patient", "")
        .expect("a key");
    (addr, key, running)
}

async fn issue_from(source: &str, addr: SocketAddr, key: &NewKey) -> reqwest::Response {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().expect("an address"))
        .build()
        .expect("client")
        .post(format!("http://{addr}/identity/v3/auth/tokens"))
        .json(&json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": key.key.id, "secret": key.secret.expose()},
        }}}))
        .send()
        .await
        .expect("POST /auth/tokens")
}

/// Raises this process's open-file limit to what the slowloris needs (both ends are here).
fn raise_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given, nothing else.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
}

/// Resident memory of this process in bytes.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("resident");
    pages * 4096
}

/// Opens a connection from `source` and sends `bytes` of an unfinished request head.
async fn half_open(addr: SocketAddr, source: &str, bytes: &[u8]) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(format!("{source}:0").parse().ok()?).ok()?;
    let mut stream = socket.connect(addr).await.ok()?;
    // A server that refuses the head may close before all of it is written: that is fine, the
    // read below sees the close.
    let _ = stream.write_all(bytes).await;
    Some(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slowloris_of_2000_connections_neither_starves_a_client_nor_holds_memory() {
    raise_fd_limit(8192);
    // Both timeouts outlast the client's 3 s below, so only eviction can let it in that soon.
    let limits = api::ServerLimits {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(8),
        ..api::ServerLimits::default()
    };
    let (addr, key, _server) = start(limits).await;
    let rss_before = rss_bytes();

    // 1,000 connections that never send a byte, 1,000 that send part of a head and stop; a
    // quarter of those a large one (200 KiB of headers, never finished).
    let mut open = Vec::new();
    let started = b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1";
    let large: Vec<u8> = {
        let mut head = started.to_vec();
        for n in 0..1600 {
            head.extend_from_slice(format!("\r\nX-Large-{n}: {}", "l".repeat(110)).as_bytes());
        }
        head
    };
    for n in 0..2000 {
        let source = format!("127.0.{}.{}", 10 + n / 250, 1 + n % 250);
        let bytes: &[u8] = match n % 8 {
            0..=3 => b"",
            7 => &large,
            _ => started,
        };
        if let Some(stream) = half_open(addr, &source, bytes).await {
            open.push((!bytes.is_empty(), stream));
        }
    }
    let opened = open.len();
    assert!(opened >= 1900, "only {opened} of 2,000 connections opened");

    // A real client still gets its token at once, a held connection evicted to make room: on
    // loopback it takes milliseconds; 3 s leaves room for a loaded CI machine.
    let began = Instant::now();
    let issued = tokio::time::timeout(Duration::from_secs(3), issue_from("127.0.0.3", addr, &key))
        .await
        .expect("a token within 3 s during the slowloris");
    assert_eq!(
        issued.status(),
        StatusCode::CREATED,
        "issued in {:?}",
        began.elapsed()
    );
    let grown = rss_bytes().saturating_sub(rss_before);
    assert!(
        grown < 48 * 1024 * 1024,
        "2,000 held connections grew this process by {} MiB",
        grown / (1024 * 1024)
    );

    // Every one of them is closed by the server: evicted, refused (431) or timed out. Those
    // that began a head go first, by the header timeout (5 s), before the idle timeout (8 s)
    // that closes the silent ones.
    let (began, silent): (Vec<_>, Vec<_>) = open.into_iter().partition(|(began, _)| *began);
    let (began, silent): (Vec<TcpStream>, Vec<TcpStream>) = (
        began.into_iter().map(|(_, s)| s).collect(),
        silent.into_iter().map(|(_, s)| s).collect(),
    );
    let began_count = began.len();
    let closed = closed_by(began, Instant::now() + Duration::from_secs(8)).await;
    assert_eq!(
        closed, began_count,
        "connections that began a head, closed by the header timeout"
    );
    let silent_count = silent.len();
    let closed = closed_by(silent, Instant::now() + Duration::from_secs(20)).await;
    assert_eq!(
        closed, silent_count,
        "silent connections, closed by eviction or the idle timeout"
    );
}

/// How many of `streams` the server closes before `deadline`.
async fn closed_by(streams: Vec<TcpStream>, deadline: Instant) -> usize {
    let mut closed = 0;
    for mut stream in streams {
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed += 1;
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => break,
            }
        }
    }
    closed
}
