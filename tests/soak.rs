//! A bounded soak of the token API (`spec/api.md`) under console churn.
//!
//! The real server (`kc_console::api::serve`) runs on 127.0.0.1:0 over a sled database in a
//! temporary directory, with production time and randomness and the console's default limits.
//! For `KC_SOAK_SECONDS` (default 20) seconds, concurrently:
//!
//! * 8 API clients (reqwest, one keep-alive connection pool each) issue tokens by key ID +
//!   secret, validate them (GET and HEAD, as an observer — an Org Admin, as validating another
//!   principal's token requires — or as themselves), revoke some, and check that revoked tokens
//!   stay dead. Issues that may name a key the console has just killed come from a loopback
//!   address of their own (127.0.0.3), whose failures may be throttled (429);
//! * one hostile client from 127.0.0.2 (issue 14's attacker): token issues for random key IDs
//!   (401, then 429 once its address is throttled), DELETEs with a 60,000-character key ID
//!   (414), requests with 150 headers (431), and a few dozen half-open connections that it
//!   reopens as the server closes them;
//! * one thread drives the model directly as the console would: it creates and deletes service
//!   accounts and their keys, deactivates and reactivates them, removes and re-adds a project
//!   member, and creates and deletes user keys. Those cascades kill keys and tokens the clients
//!   hold, which is expected.
//!
//! Every response is classified. Expected: 201/200/204, and 401/404 only for a key (or a token
//! of a key) that the console thread has marked as being killed *before* starting the change
//! that kills it. Unexpected, and fatal: any other status (5xx, 400, 403, …), a connection
//! error or a timeout, a 401/404 for a key nobody touched, a 200 for a revoked token, and a
//! success for a key whose killing change had already *returned* before the request was sent
//! (a cascade that did not take effect on the very next request).
//!
//! Deadlock: every client and the console thread must keep completing work — no 5-second
//! window without progress for any of them. Memory: this process's RSS (`/proc/self/statm`) is
//! sampled every second; after a warm-up third, its growth must stay under `RSS_GROWTH_BOUND`
//! (see there for why that figure, and for the growth known today).
//!
//! The summary line is written straight to stderr, past the test harness's capture, so a
//! plain `cargo test --test soak` shows it.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kc_console::api;
use kc_console::console::{
    Actor, Config, Console, KeyKind, Limits, NewKey, OrgRole, OsEntropy, ProjectRole, SaStatus,
    ServiceAccount, SystemClock,
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const CLIENTS: usize = 8;
const DEFAULT_SECONDS: u64 = 20;
/// No client and not the console thread may go this long without completing anything.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// Per-request timeout; a request that takes longer is an unexpected error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Tokens each client keeps to validate and revoke, and revoked tokens it re-checks.
const LIVE_TOKENS: usize = 32;
const REVOKED_TOKENS: usize = 8;
/// How long a killed key stays in the pool, so clients keep presenting dead keys for a while.
const DEAD_KEY_GRACE: Duration = Duration::from_millis(1500);
/// Allowed RSS growth after warm-up — the largest rise from one sample to a later one, so that
/// a step down (the allocator giving setup memory back) cannot hide growth after it — in bytes.
///
/// The bound is absolute, not proportional to the run's length: memory that levels off passes
/// at any `KC_SOAK_SECONDS`, memory that keeps growing fails once the run is long enough.
///
/// Why 30 MiB. Everything the test itself keeps is bounded (32 live + 8 revoked tokens per
/// client, a pool of a few dozen keys, counters), and so are the server's per-connection
/// buffers (16 KiB heads, at most 1,024 connections). What legitimately grows is the data:
/// every revocation writes a record and an audit event (~0.3 KiB of JSON), token issues one
/// counted audit record per key and second, and sled keeps what it writes in its page cache
/// (64 MiB at most). A leak of ≥ 2 KiB per request (a response body with its headers, a
/// connection's buffers) — ≥ 45 MiB over the ~24,000 requests after warm-up — exceeds it.
///
/// Known today: sled 0.34.7 keeps ~0.8–2.5 KiB per transaction until the database closes, and
/// the console thread's changes are transactions (~350 in 20 s); revocations and token issues
/// no longer are. A default 20 s run grows ~5 MiB after warm-up.
const RSS_GROWTH_BOUND: u64 = 30 * 1024 * 1024;
/// Allowed RSS rise while the server idles after the load (`KC_SOAK_IDLE_SECONDS`): flat, up to
/// the allocator's and sled's small background steps.
const IDLE_GROWTH_BOUND: u64 = 4 * 1024 * 1024;

const OWNER: &str = "owner@pangyo.example";
const OBSERVER: &str = "observer@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const WEB_SHOP: &str = "web-shop";
const DATA_LAKE: &str = "data-lake";
const SA_PHRASE: &str = "Delete service account";
const KEY_PHRASE: &str = "Delete IAM access key";

// ---------------------------------------------------------------------------------------------
// Shared state: the key pool, and what the console thread has done to each key
// ---------------------------------------------------------------------------------------------

/// An IAM access key the clients may present, with what the console thread did to it.
struct KeyEntry {
    id: String,
    secret: String,
    /// What made it, for messages.
    label: String,
    /// Set before the console thread starts the change that kills the key: from then on a 401
    /// or 404 involving it is expected.
    doomed: AtomicBool,
    /// Set after that change has returned: a request sent after this must not succeed.
    dead: AtomicBool,
}

impl KeyEntry {
    fn new(key: &NewKey, label: String) -> Arc<KeyEntry> {
        Arc::new(KeyEntry {
            id: key.key.id.clone(),
            secret: key.secret.expose().to_string(),
            label,
            doomed: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        })
    }

    fn doomed(&self) -> bool {
        self.doomed.load(Ordering::SeqCst)
    }

    fn dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }
}

/// Milliseconds since the run started, for progress stamps.
fn millis_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// One participant's progress: completed units of work and the time of the last one.
struct Progress {
    done: AtomicU64,
    last_ms: AtomicU64,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            done: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    fn tick(&self, start: Instant) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.last_ms.store(millis_since(start), Ordering::Relaxed);
    }
}

struct Shared {
    start: Instant,
    stop: AtomicBool,
    pool: Mutex<Vec<Arc<KeyEntry>>>,
    clients: Vec<Progress>,
    console_progress: Progress,
    /// Requests that write to the database: revocations (one record and one audit event
    /// each). Token issues are counted in memory and written as one audit record per key and
    /// second.
    writes: AtomicU64,
    /// Unexpected outcomes: a count and the first few descriptions.
    unexpected: AtomicU64,
    unexpected_samples: Mutex<Vec<String>>,
}

impl Shared {
    fn unexpected(&self, what: String) {
        let n = self.unexpected.fetch_add(1, Ordering::SeqCst);
        if n < 20 {
            self.unexpected_samples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(what);
        }
    }

    /// A key from the pool: three times in four one the console thread has not doomed (the
    /// never-touched keys are always among them), else any, dead ones included.
    fn pick_key(&self, roll: u64) -> Arc<KeyEntry> {
        let pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if roll.is_multiple_of(4) {
            return pool[(roll / 4 % pool.len() as u64) as usize].clone();
        }
        let alive: Vec<&Arc<KeyEntry>> = pool.iter().filter(|k| !k.doomed()).collect();
        alive[(roll / 4 % alive.len() as u64) as usize].clone()
    }

    fn publish(&self, key: Arc<KeyEntry>) {
        self.pool.lock().unwrap_or_else(|p| p.into_inner()).push(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Tallies
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Issue,
    ValidateGet,
    ValidateHead,
    Revoke,
}

const KINDS: [Kind; 4] = [Kind::Issue, Kind::ValidateGet, Kind::ValidateHead, Kind::Revoke];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::ValidateGet => "validate-GET",
            Kind::ValidateHead => "validate-HEAD",
            Kind::Revoke => "revoke",
        }
    }
}

/// What one client saw, per kind: (successes, expected 401/404s, unexpected).
#[derive(Default, Clone, Copy)]
struct Tally {
    ok: [u64; 4],
    refused: [u64; 4],
    unexpected: [u64; 4],
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        for i in 0..4 {
            self.ok[i] += other.ok[i];
            self.refused[i] += other.refused[i];
            self.unexpected[i] += other.unexpected[i];
        }
    }

    fn total(&self, i: usize) -> u64 {
        self.ok[i] + self.refused[i] + self.unexpected[i]
    }
}

#[derive(Default)]
struct ConsoleTally {
    changes: u64,
    service_accounts: u64,
    keys_created: u64,
    keys_killed: u64,
    member_cycles: u64,
}

// ---------------------------------------------------------------------------------------------
// The API clients
// ---------------------------------------------------------------------------------------------

/// xorshift64*: cheap, reproducible per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

struct Held {
    token: String,
    key: Arc<KeyEntry>,
}

struct ApiClient {
    index: usize,
    http: Client,
    base: String,
    shared: Arc<Shared>,
    rng: Rng,
    /// A token of a key no one touches, used as the caller (`X-Auth-Token`) of validations.
    observer: Held,
    /// Connections from 127.0.0.3, for issues that may name a key just killed.
    risky: Client,
    live: VecDeque<Held>,
    revoked: VecDeque<Held>,
    tally: Tally,
}

fn by_id(key_id: &str, secret: &str) -> Value {
    json!({"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": key_id, "secret": secret},
    }}})
}

fn subject_header(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// What a response meant.
enum Outcome {
    Ok,
    Refused,
    Unexpected(String),
}

impl ApiClient {
    fn url(&self) -> String {
        format!("{}/auth/tokens", self.base)
    }

    fn record(&mut self, kind: Kind, outcome: Outcome) {
        let i = kind as usize;
        match outcome {
            Outcome::Ok => self.tally.ok[i] += 1,
            Outcome::Refused => self.tally.refused[i] += 1,
            Outcome::Unexpected(what) => {
                self.tally.unexpected[i] += 1;
                self.shared
                    .unexpected(format!("client {} {}: {what}", self.index, kind.name()));
            }
        }
        self.shared.clients[self.index].tick(self.shared.start);
    }

    async fn run(mut self) -> Tally {
        while !self.shared.stop.load(Ordering::Relaxed) {
            let roll = self.rng.next() % 100;
            if self.live.is_empty() || roll < 35 {
                self.issue().await;
            } else if roll < 60 {
                self.validate(Method::GET).await;
            } else if roll < 85 {
                self.validate(Method::HEAD).await;
            } else if roll < 95 {
                self.revoke().await;
            } else if !self.revoked.is_empty() {
                self.recheck_revoked().await;
            } else {
                self.issue().await;
            }
        }
        self.tally
    }

    async fn issue(&mut self) {
        let roll = self.rng.next();
        let key = self.shared.pick_key(roll);
        let dead_before = key.dead();
        // `pick_key` may pick a killed key when the roll is a multiple of 4: those issues come
        // from the address whose failures may spend its budget.
        let risky = roll.is_multiple_of(4);
        let http = if risky { &self.risky } else { &self.http };
        let sent = http
            .post(self.url())
            .json(&by_id(&key.id, &key.secret))
            .send()
            .await;
        let outcome = match sent {
            Err(e) => Outcome::Unexpected(format!("key {}: request failed: {e}", key.label)),
            Ok(response) => {
                let status = response.status();
                let token = subject_header(&response);
                let body = response.bytes().await;
                match (status, token, body) {
                    (_, _, Err(e)) => {
                        Outcome::Unexpected(format!("key {}: reading the body: {e}", key.label))
                    }
                    (StatusCode::CREATED, Some(token), Ok(_)) => {
                        if dead_before {
                            Outcome::Unexpected(format!(
                                "key {} issued a token after the console had killed it",
                                key.label
                            ))
                        } else {
                            self.live.push_back(Held { token, key });
                            if self.live.len() > LIVE_TOKENS {
                                self.live.pop_front();
                            }
                            Outcome::Ok
                        }
                    }
                    (StatusCode::CREATED, None, Ok(_)) => {
                        Outcome::Unexpected("201 without X-Subject-Token".into())
                    }
                    (StatusCode::UNAUTHORIZED, _, Ok(_)) if key.doomed() => Outcome::Refused,
                    // A killed key's failures spend its budget, and the risky address's.
                    (StatusCode::TOO_MANY_REQUESTS, _, Ok(_)) if key.doomed() || risky => Outcome::Refused,
                    (status, _, Ok(body)) => Outcome::Unexpected(format!(
                        "key {} (doomed: {}): {status} {}",
                        key.label,
                        key.doomed(),
                        String::from_utf8_lossy(&body)
                    )),
                }
            }
        };
        self.record(Kind::Issue, outcome);
    }

    /// Validates one held token, as the observer or as itself.
    async fn validate(&mut self, method: Method) {
        let at = (self.rng.next() % self.live.len() as u64) as usize;
        let as_itself = self.rng.next().is_multiple_of(2);
        let subject = &self.live[at];
        let (caller_token, caller_key) = if as_itself {
            (subject.token.clone(), subject.key.clone())
        } else {
            (self.observer.token.clone(), self.observer.key.clone())
        };
        let subject_token = subject.token.clone();
        let subject_key = subject.key.clone();
        let dead_before = subject_key.dead() || caller_key.dead();
        let kind = if method == Method::HEAD {
            Kind::ValidateHead
        } else {
            Kind::ValidateGet
        };
        let sent = self
            .http
            .request(method, self.url())
            .header("X-Auth-Token", &caller_token)
            .header("X-Subject-Token", &subject_token)
            .send()
            .await;
        let mut drop_subject = false;
        let outcome = match sent {
            Err(e) => Outcome::Unexpected(format!("key {}: request failed: {e}", subject_key.label)),
            Ok(response) => {
                let status = response.status();
                let echoed = subject_header(&response);
                match response.bytes().await {
                    Err(e) => Outcome::Unexpected(format!("reading the body: {e}")),
                    Ok(body) => match status {
                        StatusCode::OK if dead_before => Outcome::Unexpected(format!(
                            "a token of key {} validated after the console had killed the key",
                            subject_key.label
                        )),
                        StatusCode::OK if echoed.as_deref() != Some(subject_token.as_str()) => {
                            Outcome::Unexpected("200 without the subject token echoed".into())
                        }
                        StatusCode::OK if kind == Kind::ValidateGet => {
                            let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                                v["token"]["application_credential"]["id"]
                                    .as_str()
                                    .map(str::to_string)
                            });
                            if id.as_deref() == Some(subject_key.id.as_str()) {
                                Outcome::Ok
                            } else {
                                Outcome::Unexpected(format!("200 naming key {id:?}, not {}", subject_key.id))
                            }
                        }
                        StatusCode::OK => Outcome::Ok,
                        StatusCode::UNAUTHORIZED if caller_key.doomed() => {
                            drop_subject = true;
                            Outcome::Refused
                        }
                        StatusCode::NOT_FOUND if subject_key.doomed() => {
                            drop_subject = true;
                            Outcome::Refused
                        }
                        other => Outcome::Unexpected(format!(
                            "subject key {} (doomed: {}), caller key {} (doomed: {}): {other} {}",
                            subject_key.label,
                            subject_key.doomed(),
                            caller_key.label,
                            caller_key.doomed(),
                            String::from_utf8_lossy(&body)
                        )),
                    },
                }
            }
        };
        if drop_subject {
            self.live.remove(at);
        }
        self.record(kind, outcome);
    }

    /// The holder revokes one of its tokens.
    async fn revoke(&mut self) {
        let at = (self.rng.next() % self.live.len() as u64) as usize;
        let held = self.live.remove(at).expect("a held token");
        let dead_before = held.key.dead();
        let sent = self
            .http
            .delete(self.url())
            .header("X-Auth-Token", &held.token)
            .header("X-Subject-Token", &held.token)
            .send()
            .await;
        let outcome = match sent {
            Err(e) => Outcome::Unexpected(format!("key {}: request failed: {e}", held.key.label)),
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Err(e) => Outcome::Unexpected(format!("reading the body: {e}")),
                    Ok(body) => match status {
                        StatusCode::NO_CONTENT if dead_before => Outcome::Unexpected(format!(
                            "a token of key {} was revoked after the console had killed the key",
                            held.key.label
                        )),
                        StatusCode::NO_CONTENT => {
                            self.shared.writes.fetch_add(1, Ordering::Relaxed);
                            self.revoked.push_back(held);
                            if self.revoked.len() > REVOKED_TOKENS {
                                self.revoked.pop_front();
                            }
                            Outcome::Ok
                        }
                        StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND if held.key.doomed() => {
                            Outcome::Refused
                        }
                        other => Outcome::Unexpected(format!(
                            "key {} (doomed: {}): {other} {}",
                            held.key.label,
                            held.key.doomed(),
                            String::from_utf8_lossy(&body)
                        )),
                    },
                }
            }
        };
        self.record(Kind::Revoke, outcome);
    }

    /// A revoked token must stay dead: 404 from the observer.
    async fn recheck_revoked(&mut self) {
        let at = (self.rng.next() % self.revoked.len() as u64) as usize;
        let subject = self.revoked[at].token.clone();
        let sent = self
            .http
            .get(self.url())
            .header("X-Auth-Token", &self.observer.token)
            .header("X-Subject-Token", &subject)
            .send()
            .await;
        let outcome = match sent {
            Err(e) => Outcome::Unexpected(format!("re-checking a revoked token: {e}")),
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Err(e) => Outcome::Unexpected(format!("reading the body: {e}")),
                    Ok(_) if status == StatusCode::NOT_FOUND => Outcome::Refused,
                    Ok(body) => Outcome::Unexpected(format!(
                        "a revoked token answered {status} {}",
                        String::from_utf8_lossy(&body)
                    )),
                }
            }
        };
        self.record(Kind::ValidateGet, outcome);
    }
}

// ---------------------------------------------------------------------------------------------
// The hostile client (issue 14)
// ---------------------------------------------------------------------------------------------

/// A reqwest client whose connections come from `source`, a loopback address.
fn loopback_client(source: &str) -> Client {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .local_address(source.parse::<std::net::IpAddr>().expect("a loopback address"))
        .build()
        .expect("reqwest client")
}

/// Half-open connections the hostile client keeps.
const HALF_OPEN: usize = 48;
const HOSTILE_SOURCE: &str = "127.0.0.2";

#[derive(Default, Debug)]
struct HostileTally {
    /// Token issues for random key IDs: refused (401), throttled (429).
    refused: u64,
    throttled: u64,
    /// DELETEs with a 60,000-character key ID (414) and requests with 150 headers (431).
    long_deletes: u64,
    many_headers: u64,
    /// Half-open connections opened, and seen closed by the server.
    half_open: u64,
    closed_by_server: u64,
}

struct Hostile {
    http: Client,
    addr: SocketAddr,
    token: String,
    user_id: String,
    shared: Arc<Shared>,
    rng: Rng,
    slow: Vec<tokio::net::TcpStream>,
    tally: HostileTally,
}

impl Hostile {
    async fn new(addr: SocketAddr, key: &NewKey, user_id: &str, shared: Arc<Shared>) -> Hostile {
        let http = loopback_client(HOSTILE_SOURCE);
        let token = first_token(
            &http,
            &format!("http://{addr}/identity/v3"),
            &KeyEntry::new(key, "hostile".into()),
        )
        .await;
        Hostile {
            http,
            addr,
            token,
            user_id: user_id.to_string(),
            shared,
            rng: Rng(0x0BAD_5EED_0BAD_5EED),
            slow: Vec::new(),
            tally: HostileTally::default(),
        }
    }

    fn unexpected(&self, what: String) {
        self.shared.unexpected(format!("hostile client: {what}"));
    }

    async fn run(mut self) -> HostileTally {
        let base = format!("http://{}/identity/v3", self.addr);
        let long_id = "A".repeat(60_000);
        let mut many_headers =
            String::from("GET /identity/v3 HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n");
        for n in 0..150 {
            many_headers.push_str(&format!("X-Filler-{n}: {n}\r\n"));
        }
        many_headers.push_str("\r\n");
        while !self.shared.stop.load(Ordering::Relaxed) {
            match self.rng.next() % 8 {
                0..=4 => {
                    let random_id = format!("{:016x}{:016x}", self.rng.next(), self.rng.next());
                    let sent = self
                        .http
                        .post(format!("{base}/auth/tokens"))
                        .json(&by_id(&random_id, "guess"))
                        .send()
                        .await;
                    match sent.map(|r| r.status()) {
                        Ok(StatusCode::UNAUTHORIZED) => self.tally.refused += 1,
                        Ok(StatusCode::TOO_MANY_REQUESTS) => self.tally.throttled += 1,
                        other => self.unexpected(format!("a random key ID answered {other:?}")),
                    }
                }
                5 => {
                    let url = format!("{base}/users/{}/application_credentials/{long_id}", self.user_id);
                    let sent = self
                        .http
                        .delete(url)
                        .header("X-Auth-Token", &self.token)
                        .send()
                        .await;
                    match sent.map(|r| r.status()) {
                        Ok(StatusCode::URI_TOO_LONG) => self.tally.long_deletes += 1,
                        other => self.unexpected(format!("a 60,000-character key ID answered {other:?}")),
                    }
                }
                6 => match self.raw(many_headers.as_bytes()).await {
                    Some(431) => self.tally.many_headers += 1,
                    other => self.unexpected(format!("150 headers answered {other:?}")),
                },
                _ => self.keep_half_open().await,
            }
        }
        self.tally
    }

    /// Sends `request` on a new connection; the status of the answer.
    async fn raw(&self, request: &[u8]) -> Option<u16> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = self.connect().await?;
        let _ = stream.write_all(request).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).split(' ').nth(1)?.parse().ok()
    }

    async fn connect(&self) -> Option<tokio::net::TcpStream> {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(format!("{HOSTILE_SOURCE}:0").parse().ok()?).ok()?;
        socket.connect(self.addr).await.ok()
    }

    /// Drops the half-open connections the server has closed; opens new ones up to
    /// `HALF_OPEN`, each with part of a request head.
    async fn keep_half_open(&mut self) {
        use tokio::io::AsyncWriteExt;
        let before = self.slow.len();
        self.slow.retain(|stream| {
            // Still open exactly when there is nothing to read: the server closes (or answers
            // and closes) a connection whose head never completes.
            let mut probe = [0u8; 64];
            matches!(stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        });
        self.tally.closed_by_server += (before - self.slow.len()) as u64;
        while self.slow.len() < HALF_OPEN {
            let Some(mut stream) = self.connect().await else {
                return;
            };
            let _ = stream
                .write_all(b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: soak\r\n")
                .await;
            self.slow.push(stream);
            self.tally.half_open += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The console thread
// ---------------------------------------------------------------------------------------------

struct ConsoleDriver {
    console: Arc<Console>,
    shared: Arc<Shared>,
    owner: Actor,
    admin: Actor,
    dev: Actor,
    web_shop_id: String,
    /// Keys killed, with when, to drop from the pool after `DEAD_KEY_GRACE`.
    graveyard: VecDeque<(Instant, Arc<KeyEntry>)>,
    /// dev's keys in web-shop made by this thread; they die when dev is removed.
    dev_keys: Vec<Arc<KeyEntry>>,
    tally: ConsoleTally,
    errors: Vec<String>,
}

impl ConsoleDriver {
    /// Runs one console change, counting it; a failure is an unexpected error.
    fn change<T>(&mut self, what: &str, result: kc_console::console::Result<T>) -> Option<T> {
        self.shared.console_progress.tick(self.shared.start);
        match result {
            Ok(value) => {
                self.tally.changes += 1;
                Some(value)
            }
            Err(e) => {
                self.shared.unexpected(format!("console thread: {what}: {e}"));
                self.errors.push(format!("{what}: {e}"));
                None
            }
        }
    }

    fn doom(keys: &[Arc<KeyEntry>]) {
        for key in keys {
            key.doomed.store(true, Ordering::SeqCst);
        }
    }

    fn bury(&mut self, keys: &[Arc<KeyEntry>]) {
        let now = Instant::now();
        for key in keys {
            key.dead.store(true, Ordering::SeqCst);
            self.graveyard.push_back((now, key.clone()));
        }
        self.tally.keys_killed += keys.len() as u64;
    }

    fn clear_graveyard(&mut self) {
        let mut gone = Vec::new();
        while let Some((at, _)) = self.graveyard.front() {
            if at.elapsed() < DEAD_KEY_GRACE {
                break;
            }
            let (_, key) = self.graveyard.pop_front().expect("front");
            gone.push(key.id.clone());
        }
        if !gone.is_empty() {
            self.shared
                .pool
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|k| !gone.contains(&k.id));
        }
    }

    /// Sleeps `ms` in short steps, so a stop is noticed; false once stopping.
    fn pause(&self, ms: u64) -> bool {
        let until = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < until {
            if self.shared.stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
            self.shared
                .console_progress
                .last_ms
                .store(millis_since(self.shared.start), Ordering::Relaxed);
        }
        !self.shared.stop.load(Ordering::Relaxed)
    }

    fn sa_key(&mut self, sa_id: &str, name: &str) -> Option<Arc<KeyEntry>> {
        let admin = self.admin.clone();
        let made = self.console.create_sa_key(&admin, sa_id, name, "soak");
        let key = self.change(&format!("create key {name} for {sa_id}"), made)?;
        let entry = KeyEntry::new(&key, format!("{name} of service account {sa_id}"));
        self.shared.publish(entry.clone());
        self.tally.keys_created += 1;
        Some(entry)
    }

    /// One round of console changes; `cycle` makes the names unique.
    fn cycle(&mut self, cycle: u64) -> bool {
        self.clear_graveyard();
        let admin = self.admin.clone();

        // A service account with two keys, and keys of two users.
        let sa_name = format!("soak-sa-{cycle}");
        let made = self
            .console
            .create_service_account(&admin, WEB_SHOP, &sa_name, "soak test");
        let Some(_) = self.change(&format!("create service account {sa_name}"), made) else {
            return self.pause(100);
        };
        self.tally.service_accounts += 1;
        let sa_id = ServiceAccount::id_for(&sa_name, &self.web_shop_id);
        let mut sa_keys: Vec<Arc<KeyEntry>> = Vec::new();
        for n in 0..2 {
            sa_keys.extend(self.sa_key(&sa_id, &format!("soak-{cycle}-{n}")));
        }
        let dev = self.dev.clone();
        let made = self.console.create_credential(
            &dev,
            KeyKind::Iam,
            WEB_SHOP,
            &format!("soak-dev-{cycle}"),
            "soak",
        );
        if let Some(key) = self.change("dev creates an IAM key in web-shop", made) {
            let entry = KeyEntry::new(&key, format!("dev's soak-dev-{cycle} in web-shop"));
            self.shared.publish(entry.clone());
            self.dev_keys.push(entry);
            self.tally.keys_created += 1;
        }
        let made = self.console.create_credential(
            &admin,
            KeyKind::Iam,
            DATA_LAKE,
            &format!("soak-admin-{cycle}"),
            "soak",
        );
        let admin_key = self
            .change("admin creates an IAM key in data-lake", made)
            .map(|key| {
                let entry = KeyEntry::new(&key, format!("admin's soak-admin-{cycle} in data-lake"));
                self.shared.publish(entry.clone());
                self.tally.keys_created += 1;
                entry
            });
        if !self.pause(150) {
            return false;
        }

        // Delete one service-account key.
        if let Some(first) = sa_keys.first().cloned() {
            Self::doom(std::slice::from_ref(&first));
            let deleted = self.console.delete_sa_key(&admin, &sa_id, &first.id, KEY_PHRASE);
            if self.change("delete a service account key", deleted).is_some() {
                self.bury(std::slice::from_ref(&first));
            }
        }
        if !self.pause(100) {
            return false;
        }

        // Deactivate: every key of the account expires. Reactivate and give it a fresh key.
        Self::doom(&sa_keys);
        let status = self
            .console
            .set_service_account_status(&admin, &sa_id, SaStatus::Inactive);
        if self.change("deactivate a service account", status).is_some() {
            let alive: Vec<_> = sa_keys.iter().filter(|k| !k.dead()).cloned().collect();
            self.bury(&alive);
        }
        if !self.pause(100) {
            return false;
        }
        let status = self
            .console
            .set_service_account_status(&admin, &sa_id, SaStatus::Active);
        self.change("reactivate a service account", status);
        let fresh = self.sa_key(&sa_id, &format!("soak-{cycle}-fresh"));
        sa_keys.extend(fresh);
        if !self.pause(150) {
            return false;
        }

        // Delete admin's user key.
        if let Some(key) = admin_key {
            Self::doom(std::slice::from_ref(&key));
            let deleted = self.console.delete_credential(&admin, KeyKind::Iam, &key.id);
            if self.change("admin deletes an IAM key", deleted).is_some() {
                self.bury(std::slice::from_ref(&key));
            }
        }

        // Remove dev from web-shop (every key of dev's there expires), delete the expired keys
        // this thread made, and add dev back.
        let dev_keys = std::mem::take(&mut self.dev_keys);
        Self::doom(&dev_keys);
        let owner = self.owner.clone();
        let removed = self.console.remove_member(&owner, WEB_SHOP, DEV);
        if self.change("remove dev from web-shop", removed).is_some() {
            self.bury(&dev_keys);
            for key in &dev_keys {
                let deleted = self.console.delete_credential(&dev, KeyKind::Iam, &key.id);
                self.change("dev deletes an expired IAM key", deleted);
            }
            let added = self
                .console
                .add_member(&owner, WEB_SHOP, DEV, ProjectRole::Member);
            self.change("re-add dev to web-shop", added);
            self.tally.member_cycles += 1;
        } else {
            self.dev_keys = dev_keys;
        }
        if !self.pause(100) {
            return false;
        }

        // Delete the service account: its remaining key dies with it.
        let alive: Vec<_> = sa_keys.iter().filter(|k| !k.dead()).cloned().collect();
        Self::doom(&alive);
        let deleted = self.console.delete_service_account(&admin, &sa_id, SA_PHRASE);
        if self.change("delete a service account", deleted).is_some() {
            self.bury(&alive);
        }
        self.pause(100)
    }

    fn run(mut self) -> (ConsoleTally, Vec<String>) {
        let mut cycle = 0;
        while self.cycle(cycle) {
            cycle += 1;
        }
        (self.tally, self.errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/// The page size, from the auxiliary vector (`AT_PAGESZ`); 4 KiB if it cannot be read.
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 4096;
    };
    for pair in auxv.chunks_exact(16) {
        let key = u64::from_ne_bytes(pair[..8].try_into().expect("8 bytes"));
        let value = u64::from_ne_bytes(pair[8..].try_into().expect("8 bytes"));
        if key == AT_PAGESZ {
            return value;
        }
    }
    4096
}

/// This process's resident set, in bytes, from `/proc/self/statm`.
fn rss_bytes(page: u64) -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let resident: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("the resident field of statm");
    resident * page
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------------------------------------
// The soak
// ---------------------------------------------------------------------------------------------

/// `KC_SOAK_IDLE_SECONDS` (default 0): how long the server idles after the load while its
/// memory is sampled.
fn idle_seconds() -> u64 {
    std::env::var("KC_SOAK_IDLE_SECONDS")
        .ok()
        .map(|text| {
            text.trim()
                .parse()
                .unwrap_or_else(|_| panic!("KC_SOAK_IDLE_SECONDS={text:?}: a whole number of seconds"))
        })
        .unwrap_or(0)
}

fn soak_seconds() -> u64 {
    match std::env::var("KC_SOAK_SECONDS") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&s| s >= 3)
            .unwrap_or_else(|| panic!("KC_SOAK_SECONDS={text:?}: a whole number of seconds, at least 3")),
        Err(_) => DEFAULT_SECONDS,
    }
}

fn actor(console: &Console, email: &str) -> Actor {
    Console::actor_for(&console.user_by_email(email).expect("demo user"))
}

fn runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn first_token(http: &Client, base: &str, key: &KeyEntry) -> String {
    let response = http
        .post(format!("{base}/auth/tokens"))
        .json(&by_id(&key.id, &key.secret))
        .send()
        .await
        .expect("the first token issue");
    assert_eq!(response.status(), StatusCode::CREATED, "the observer's token");
    subject_header(&response).expect("X-Subject-Token")
}

#[test]
fn token_api_soak_under_console_churn() {
    let seconds = soak_seconds();
    let duration = Duration::from_secs(seconds);
    let page = page_size();

    // The console: demo organization, production clock and randomness, default limits.
    let dir = tempfile::TempDir::new().expect("temp dir");
    let config = Config {
        clock: Arc::new(SystemClock),
        entropy: Arc::new(OsEntropy),
        limits: Limits::default(),
    };
    let console = Arc::new(Console::open(dir.path(), config).expect("the console opens"));
    console.load_demo().expect("the demo organization loads");
    let (owner, admin, dev, viewer) = (
        actor(&console, OWNER),
        actor(&console, ADMIN),
        actor(&console, DEV),
        actor(&console, VIEWER),
    );
    let web_shop_id = console.find_project(WEB_SHOP).expect("web-shop").id;
    console
        .add_user_with_password(
            &owner,
            OBSERVER,
            "Observer",
            Some(OrgRole::Admin),
            "observer-soak-pw",
        )
        .expect("an Org Admin for the observers");
    console
        .add_member(&owner, WEB_SHOP, OBSERVER, ProjectRole::Reader)
        .expect("the observer joins web-shop");
    let observer_actor = actor(&console, OBSERVER);

    // Two keys of an Org Admin (a Project Reader of web-shop) that nothing touches: the
    // observers' keys, and part of the pool the clients issue from.
    let stable: Vec<Arc<KeyEntry>> = (0..2)
        .map(|n| {
            let key = console
                .create_credential(
                    &observer_actor,
                    KeyKind::Iam,
                    WEB_SHOP,
                    &format!("soak-observer-{n}"),
                    "",
                )
                .expect("the observer's IAM key");
            KeyEntry::new(&key, format!("observer's soak-observer-{n} (never touched)"))
        })
        .collect();
    // The hostile client's token: a Project Reader's, as in the attack of issue 14.
    let hostile_key = console
        .create_credential(&viewer, KeyKind::Iam, WEB_SHOP, "soak-hostile", "")
        .expect("the viewer's IAM key");

    // The server on its own runtime, two workers like the two-core budget machine.
    let server_rt = runtime("soak-server", 2);
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a loopback port");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    assert!(addr.ip().is_loopback());
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(api::serve(listener, console.clone(), async {
        let _ = server_stopped.await;
    }));
    let base = format!("http://{addr}/identity/v3");

    let shared = Arc::new(Shared {
        start: Instant::now(),
        stop: AtomicBool::new(false),
        pool: Mutex::new(stable.clone()),
        clients: (0..CLIENTS).map(|_| Progress::new()).collect(),
        console_progress: Progress::new(),
        writes: AtomicU64::new(0),
        unexpected: AtomicU64::new(0),
        unexpected_samples: Mutex::new(Vec::new()),
    });

    // The clients, on a runtime of their own.
    let client_rt = runtime("soak-clients", 2);
    let mut clients = Vec::new();
    for index in 0..CLIENTS {
        let http = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("reqwest client");
        let observer_key = stable[index % stable.len()].clone();
        let observer = client_rt.block_on(first_token(&http, &base, &observer_key));
        let client = ApiClient {
            index,
            http,
            base: base.clone(),
            shared: shared.clone(),
            rng: Rng(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)),
            observer: Held {
                token: observer,
                key: observer_key,
            },
            risky: loopback_client("127.0.0.3"),
            live: VecDeque::new(),
            revoked: VecDeque::new(),
            tally: Tally::default(),
        };
        clients.push(client);
    }

    let rss_start = rss_bytes(page);
    let started = Instant::now();
    let shared_start = shared.start;
    let client_tasks: Vec<_> = clients
        .into_iter()
        .map(|client| client_rt.spawn(client.run()))
        .collect();
    let hostile = client_rt.block_on(Hostile::new(
        addr,
        &hostile_key,
        viewer.user_id().expect("a user"),
        shared.clone(),
    ));
    let hostile_task = client_rt.spawn(hostile.run());
    let driver = ConsoleDriver {
        console: console.clone(),
        shared: shared.clone(),
        owner,
        admin,
        dev,
        web_shop_id,
        graveyard: VecDeque::new(),
        dev_keys: Vec::new(),
        tally: ConsoleTally::default(),
        errors: Vec::new(),
    };
    let (console_done_tx, console_done) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("soak-console".into())
        .spawn(move || {
            let _ = console_done_tx.send(driver.run());
        })
        .expect("the console thread");

    // Watch: progress every 250 ms, RSS every second.
    let warm_up = duration / 3;
    // (seconds, RSS, database writes so far)
    let mut samples: Vec<(f64, u64, u64)> = vec![(0.0, rss_start, 0)];
    let mut rss_warm: Option<u64> = None;
    let mut next_sample = Duration::from_secs(1);
    let mut stalls: Vec<String> = Vec::new();
    let mut max_gap_ms = [0u64; CLIENTS + 1];
    while started.elapsed() < duration {
        std::thread::sleep(Duration::from_millis(250));
        let now_ms = millis_since(shared_start);
        let progresses = shared
            .clients
            .iter()
            .chain(std::iter::once(&shared.console_progress));
        for (i, progress) in progresses.enumerate() {
            let gap = now_ms.saturating_sub(progress.last_ms.load(Ordering::Relaxed));
            max_gap_ms[i] = max_gap_ms[i].max(gap);
            if gap > STALL_LIMIT.as_millis() as u64 {
                let who = if i < CLIENTS {
                    format!("client {i}")
                } else {
                    "the console thread".to_string()
                };
                stalls.push(format!(
                    "{who} made no progress for {gap} ms (after {} completed)",
                    progress.done.load(Ordering::Relaxed)
                ));
            }
        }
        if !stalls.is_empty() {
            break;
        }
        let elapsed = started.elapsed();
        if elapsed >= next_sample {
            let rss = rss_bytes(page);
            let writes = shared.writes.load(Ordering::Relaxed);
            samples.push((elapsed.as_secs_f64(), rss, writes));
            if rss_warm.is_none() && elapsed >= warm_up {
                rss_warm = Some(rss);
            }
            next_sample += Duration::from_secs(1);
        }
    }
    shared.stop.store(true, Ordering::SeqCst);
    let elapsed = started.elapsed();

    // Everyone stops within a bound: a client waits at most REQUEST_TIMEOUT for its last reply.
    let mut tally = Tally::default();
    let joined = client_rt.block_on(async {
        tokio::time::timeout(REQUEST_TIMEOUT + Duration::from_secs(5), async {
            let mut tallies = Vec::new();
            for task in client_tasks {
                tallies.push(task.await);
            }
            tallies
        })
        .await
    });
    match joined {
        Ok(tallies) => {
            for t in tallies {
                tally.add(&t.expect("a client task panicked"));
            }
        }
        Err(_) => stalls.push("the clients did not stop within 15 s of the end".into()),
    }
    let hostile_tally = client_rt
        .block_on(async {
            tokio::time::timeout(REQUEST_TIMEOUT + Duration::from_secs(5), hostile_task).await
        })
        .map(|t| t.expect("the hostile task panicked"))
        .unwrap_or_else(|_| {
            stalls.push("the hostile client did not stop within 15 s of the end".into());
            HostileTally::default()
        });
    let (console_tally, console_errors) = match console_done.recv_timeout(Duration::from_secs(15)) {
        Ok(done) => done,
        Err(_) => {
            stalls.push("the console thread did not stop within 15 s of the end".into());
            (ConsoleTally::default(), Vec::new())
        }
    };
    let rss_end = rss_bytes(page);
    let disk_end = dir_bytes(dir.path());
    let writes_end = shared.writes.load(Ordering::Relaxed);
    // Idle: the server stays up with nothing to do; its memory must not grow.
    let idle = idle_seconds();
    let mut idle_samples = vec![rss_end];
    for _ in 0..idle {
        std::thread::sleep(Duration::from_secs(1));
        idle_samples.push(rss_bytes(page));
    }
    let idle_growth = idle_samples
        .iter()
        .max()
        .copied()
        .unwrap_or(rss_end)
        .saturating_sub(rss_end);

    let _ = stop_server.send(());
    let server_result =
        server_rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await });
    client_rt.shutdown_timeout(Duration::from_secs(5));
    server_rt.shutdown_timeout(Duration::from_secs(5));

    // The figures.
    let rss_warm = rss_warm.unwrap_or(rss_start);
    // Growth after warm-up: the largest rise from one sample to a later one. A step down (the
    // allocator returning setup memory, say) does not hide a rise after it.
    let after_warm: Vec<(u64, u64)> = samples
        .iter()
        .filter(|(t, _, _)| *t >= warm_up.as_secs_f64())
        .map(|&(_, rss, writes)| (rss, writes))
        .chain(std::iter::once((rss_end, writes_end)))
        .collect();
    let (mut growth, mut growth_writes) = (0u64, 0u64);
    let mut low = after_warm.first().copied().unwrap_or((rss_end, writes_end));
    for &(rss, writes) in &after_warm {
        if rss < low.0 {
            low = (rss, writes);
        } else if rss - low.0 > growth {
            growth = rss - low.0;
            growth_writes = writes.saturating_sub(low.1);
        }
    }
    let bytes_per_write = growth as f64 / growth_writes.max(1) as f64;
    let total: u64 = (0..4).map(|i| tally.total(i)).sum();
    let mut by_kind = String::new();
    for kind in KINDS {
        let i = kind as usize;
        let _ = write!(
            by_kind,
            "{} {} ({} ok, {} expected 401/404); ",
            kind.name(),
            tally.total(i),
            tally.ok[i],
            tally.refused[i]
        );
    }
    let unexpected = shared.unexpected.load(Ordering::SeqCst);
    let summary = format!(
        "soak summary: {:.1} s, {CLIENTS} clients, {total} requests ({:.0} req/s): {by_kind}\
         console thread: {} changes ({} service accounts created and deleted, {} keys created, {} killed by cascades, {} member remove/re-add cycles); \
         hostile client: {hostile_tally:?}; \
         unexpected errors: {unexpected}; \
         data directory {:.1} MiB ({} revocation records); \
         RSS start {:.1} MiB, after warm-up ({:.0} s) {:.1} MiB, end {:.1} MiB, growth after warm-up {:.1} MiB (bound {:.0} MiB; {:.0} bytes per database write over {} writes); \
         longest pause without progress: clients {} ms, console thread {} ms",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        console_tally.changes,
        console_tally.service_accounts,
        console_tally.keys_created,
        console_tally.keys_killed,
        console_tally.member_cycles,
        mib(disk_end),
        console.revocation_count(),
        mib(rss_start),
        warm_up.as_secs_f64(),
        mib(rss_warm),
        mib(rss_end),
        mib(growth),
        mib(RSS_GROWTH_BOUND),
        bytes_per_write,
        growth_writes,
        max_gap_ms[..CLIENTS].iter().max().copied().unwrap_or(0),
        max_gap_ms[CLIENTS],
    );
    let rss_series = samples
        .iter()
        .map(|(t, rss, _)| format!("{t:.0}s={:.1}", mib(*rss)))
        .collect::<Vec<_>>()
        .join(" ");
    // Past the harness's capture, so that the figures show without --nocapture.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{summary}\nsoak RSS samples (MiB): {rss_series}");
    if idle > 0 {
        let _ = writeln!(
            err,
            "soak idle: {idle} s after the load, RSS {:.1} MiB → {:.1} MiB (largest rise {:.1} MiB)",
            mib(rss_end),
            mib(*idle_samples.last().unwrap_or(&rss_end)),
            mib(idle_growth)
        );
    }
    drop(err);

    assert!(stalls.is_empty(), "deadlock or stall: {stalls:?}\n{summary}");
    let samples_text = shared
        .unexpected_samples
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .join("\n  ");
    assert_eq!(
        unexpected, 0,
        "unexpected outcomes (first ones):\n  {samples_text}\n{summary}"
    );
    assert!(
        console_errors.is_empty(),
        "console changes failed: {console_errors:?}"
    );
    for kind in KINDS {
        assert!(
            tally.ok[kind as usize] > 0,
            "at least one successful {} in {seconds} s",
            kind.name()
        );
    }
    assert!(
        console_tally.member_cycles > 0 && console_tally.keys_killed > 0,
        "the console thread completed at least one full round of changes"
    );
    assert!(
        hostile_tally.refused > 0
            && hostile_tally.throttled > 0
            && hostile_tally.long_deletes > 0
            && hostile_tally.many_headers > 0
            && hostile_tally.closed_by_server > 0,
        "the hostile client met every defence: {hostile_tally:?}"
    );
    assert!(
        idle_growth < IDLE_GROWTH_BOUND,
        "RSS grew by {:.1} MiB while idle",
        mib(idle_growth)
    );
    assert!(
        growth < RSS_GROWTH_BOUND,
        "RSS grew by {:.1} MiB after warm-up (bound {:.0} MiB)\n{summary}",
        mib(growth),
        mib(RSS_GROWTH_BOUND)
    );
    match server_result {
        Ok(Ok(Ok(()))) => {}
        other => panic!("the server did not stop cleanly: {other:?}"),
    }
}
