//! How long a refused token issue takes, by why it is refused (`spec/api.md` § Errors: one 401
//! for an unknown key ID, a wrong secret, an expired key and an inactive service account, "and
//! no timing difference worth measuring"), with a granted issue for reference.
//!
//! Measured twice: in the model (`Console::issue_token(key_id, secret)`), and over HTTP on
//! loopback against the real server (`kc_console::api::serve` on a runtime of its own with two
//! workers) with a keep-alive reqwest client. Both over the demo organization in a real sled
//! database in a temporary directory (a fresh one for each model case), with production time
//! and randomness:
//!
//! * unknown key ID — a fresh random 32-hex ID per call (from a pool of 4,096), 64-hex secret;
//! * wrong secret — an existing, usable key with a random 64-hex secret;
//! * expired key — dev's key in web-shop after dev was removed from web-shop;
//! * inactive service account — deploy-bot's key after deploy-bot was set Inactive;
//! * granted — the usable key with its secret (201), for reference.
//!
//! Criterion measures each case on its own. Every call's own duration is also recorded, and
//! at the end the median and p10/p90 per case are printed, then the cases are measured again
//! interleaved (one call of each kind per round, in a random order, so that drift — the audit
//! log growing, other load on the machine — affects them alike), with the spread of the 401
//! medians. The interleaved medians are the figures to quote.
//!
//! `cargo bench --bench auth_timing`; without `--bench` (`cargo test --benches`) criterion runs
//! each case once and the interleaved rounds are few.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use kc_console::api;
use kc_console::console::{
    Config, Console, Entropy, Error, KeyKind, Limits, OsEntropy, SaStatus, ServiceAccount, SystemClock,
};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;

const WEB_SHOP: &str = "web-shop";
const UNKNOWN_POOL: usize = 4096;

/// Lowercase hex of `n` random bytes.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsEntropy.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Granted,
    Refused,
}

/// One kind of token issue: the (key ID, secret) pairs it cycles through.
struct Case {
    name: &'static str,
    expect: Expect,
    pairs: Vec<(String, String)>,
    /// The JSON request body for each pair.
    bodies: Vec<String>,
}

impl Case {
    fn new(name: &'static str, expect: Expect, pairs: Vec<(String, String)>) -> Case {
        let bodies = pairs
            .iter()
            .map(|(id, secret)| {
                serde_json::json!({"auth": {"identity": {
                    "methods": ["application_credential"],
                    "application_credential": {"id": id, "secret": secret},
                }}})
                .to_string()
            })
            .collect();
        Case {
            name,
            expect,
            pairs,
            bodies,
        }
    }
}

/// A console over a fresh database: the demo organization with one key of each standing.
struct Fixture {
    console: Arc<Console>,
    cases: Vec<Case>,
    // Dropped last: the database lives here.
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let config = Config {
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            limits: Limits::default(),
        };
        let console = Arc::new(Console::open(dir.path(), config).expect("open the console"));
        console.load_demo().expect("load the demo organization");
        let cases = cases(&console);
        Fixture {
            console,
            cases,
            _dir: dir,
        }
    }
}

fn cases(console: &Console) -> Vec<Case> {
    let actor = |email: &str| Console::actor_for(&console.user_by_email(email).expect("demo user"));
    let (owner, admin, dev, viewer) = (
        actor("owner@pangyo.example"),
        actor("admin@pangyo.example"),
        actor("dev@pangyo.example"),
        actor("viewer@pangyo.example"),
    );
    let usable = console
        .create_credential(&viewer, KeyKind::Iam, WEB_SHOP, "timing", "auth_timing bench")
        .expect("the viewer's IAM key");
    let expired = console
        .create_credential(&dev, KeyKind::Iam, WEB_SHOP, "timing-expired", "")
        .expect("dev's IAM key");
    console
        .remove_member(&owner, WEB_SHOP, "dev@pangyo.example")
        .expect("dev removed from web-shop");
    let sa_id = ServiceAccount::id_for(
        "deploy-bot",
        &console.find_project(WEB_SHOP).expect("web-shop").id,
    );
    let inactive = console
        .create_sa_key(&admin, &sa_id, "timing-inactive", "")
        .expect("deploy-bot's IAM key");
    console
        .set_service_account_status(&admin, &sa_id, SaStatus::Inactive)
        .expect("deploy-bot set Inactive");

    let pair =
        |key: &kc_console::console::NewKey| vec![(key.key.id.clone(), key.secret.expose().to_string())];
    vec![
        Case::new(
            "unknown key ID",
            Expect::Refused,
            (0..UNKNOWN_POOL)
                .map(|_| (random_hex(16), random_hex(32)))
                .collect(),
        ),
        Case::new(
            "wrong secret",
            Expect::Refused,
            (0..UNKNOWN_POOL)
                .map(|_| (usable.key.id.clone(), random_hex(32)))
                .collect(),
        ),
        Case::new("expired key (member removed)", Expect::Refused, pair(&expired)),
        Case::new("inactive service account", Expect::Refused, pair(&inactive)),
        Case::new("granted (reference)", Expect::Granted, pair(&usable)),
    ]
}

/// Calls the model once; checks the outcome.
fn issue_in_model(console: &Console, case: &Case, i: usize) {
    let (id, secret) = &case.pairs[i % case.pairs.len()];
    let result = console.issue_token(id, secret);
    match (case.expect, result) {
        (Expect::Granted, Ok(issued)) => {
            std::hint::black_box(issued);
        }
        (Expect::Refused, Err(Error::Auth(_))) => {}
        (_, other) => panic!("{}: unexpected outcome {other:?}", case.name),
    }
}

/// The server, and a client on a runtime of its own.
struct Http {
    client: reqwest::Client,
    url: String,
    client_rt: tokio::runtime::Runtime,
    server_rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Http {
    fn start(console: Arc<Console>) -> Http {
        let server_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("auth-timing-server")
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = server_rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // The throttle (issue 14) would answer 429 after a few refusals of one key: set it out
        // of the way, to time the check itself.
        let limits = api::ServerLimits {
            failures_per_key: api::Budget {
                failures: u32::MAX,
                per: Duration::from_secs(1),
            },
            failures_per_address: api::Budget {
                failures: u32::MAX,
                per: Duration::from_secs(1),
            },
            ..api::ServerLimits::default()
        };
        server_rt.spawn(api::serve_with(listener, console, limits, async {
            let _ = stopped.await;
        }));
        let client_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client");
        Http {
            client,
            url: format!("http://{addr}/identity/v3/auth/tokens"),
            client_rt,
            server_rt,
            stop: Some(stop),
        }
    }

    /// One POST /auth/tokens, body read whole; checks the status.
    fn issue(&self, case: &Case, i: usize) {
        let body = case.bodies[i % case.bodies.len()].clone();
        let status = self.client_rt.block_on(async {
            let response = self
                .client
                .post(&self.url)
                .header(CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .expect("POST /auth/tokens");
            let status = response.status();
            std::hint::black_box(response.bytes().await.expect("the response body"));
            status
        });
        let expected = match case.expect {
            Expect::Granted => StatusCode::CREATED,
            Expect::Refused => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(status, expected, "{} over HTTP", case.name);
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server_rt.shutdown_timeout(Duration::from_secs(5));
    }
}

/// Per-call durations in ns, by (layer, case).
type Recorded = RefCell<BTreeMap<(&'static str, &'static str), Vec<u64>>>;

/// Median, p10, p90 of `ns`, in µs.
fn quantiles(ns: &mut [u64]) -> (f64, f64, f64) {
    if ns.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1e3;
    (at(0.5), at(0.1), at(0.9))
}

/// Times `op(i)` per call inside criterion's loop, recording each call.
fn bench_case(c: &mut Criterion, recorded: &Recorded, layer: &'static str, case: &Case, op: &dyn Fn(usize)) {
    let mut next = 0usize;
    c.bench_function(&format!("issue_token_{layer}/{}", case.name), |b| {
        b.iter_custom(|iters| {
            let mut calls = Vec::with_capacity(iters as usize);
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let started = Instant::now();
                op(next);
                let took = started.elapsed();
                next = next.wrapping_add(1);
                total += took;
                calls.push(took.as_nanos().min(u128::from(u64::MAX)) as u64);
            }
            recorded
                .borrow_mut()
                .entry((layer, case.name))
                .or_default()
                .extend(calls);
            total
        })
    });
}

/// One call of each case per round, `rounds` times; per-case durations in ns.
fn interleaved(cases: &[Case], rounds: usize, op: &dyn Fn(&Case, usize)) -> Vec<Vec<u64>> {
    let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
    let mut order: Vec<usize> = (0..cases.len()).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..rounds {
        // A fresh random order each round (Fisher–Yates on xorshift64), so that no case always
        // comes first or always follows the same other.
        for k in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        for &at in &order {
            let started = Instant::now();
            op(&cases[at], round);
            samples[at].push(started.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64);
        }
    }
    samples
}

fn print_layer(title: &str, cases: &[Case], criterion_runs: &[Vec<u64>], interleaved_runs: &[Vec<u64>]) {
    println!("{title}");
    println!(
        "  {:<30} {:>12} {:>12} {:>22}",
        "case", "median (c.)", "median (i.)", "p10–p90 (i.)"
    );
    let mut refused_medians = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let (c_med, _, _) = quantiles(&mut criterion_runs[k].clone());
        let (i_med, i_p10, i_p90) = quantiles(&mut interleaved_runs[k].clone());
        if case.expect == Expect::Refused {
            refused_medians.push((c_med, i_med));
        }
        println!(
            "  {:<30} {:>9.2} µs {:>9.2} µs {:>9.2}–{:.2} µs  (n = {} / {})",
            case.name,
            c_med,
            i_med,
            i_p10,
            i_p90,
            criterion_runs[k].len(),
            interleaved_runs[k].len()
        );
    }
    for (label, pick) in [("criterion", 0usize), ("interleaved", 1usize)] {
        let medians: Vec<f64> = refused_medians
            .iter()
            .map(|m| if pick == 0 { m.0 } else { m.1 })
            .filter(|m| m.is_finite())
            .collect();
        if medians.is_empty() {
            continue;
        }
        let lo = medians.iter().cloned().fold(f64::MAX, f64::min);
        let hi = medians.iter().cloned().fold(0.0, f64::max);
        println!(
            "  spread of the four 401 medians ({label}): {:.2} µs ({:.1}% of the fastest)",
            hi - lo,
            (hi - lo) / lo * 100.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let measuring = args.iter().any(|a| a == "--bench");
    // A filter (a free argument) that names none of our cases means: not us.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let ours = |f: &str| {
        ["auth_timing", "issue_token_model", "issue_token_http"]
            .iter()
            .any(|name| name.contains(f) || f.contains(name))
    };
    if !filters.is_empty() && !filters.iter().any(|f| ours(f)) {
        return;
    }

    let recorded: Recorded = RefCell::new(BTreeMap::new());
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let (model_rounds, http_rounds) = if measuring { (20_000, 4_000) } else { (50, 20) };

    // The model: each case on a fresh database, so that every case starts from the same state
    // and the memory sled keeps per transaction (about 2 KiB per issue, see the soak test) is
    // given back between cases; then all cases interleaved, on another fresh one.
    let case_count = Fixture::new().cases.len();
    for k in 0..case_count {
        let fixture = Fixture::new();
        let case = &fixture.cases[k];
        bench_case(&mut c, &recorded, "model", case, &|i| {
            issue_in_model(&fixture.console, case, i)
        });
    }
    let fixture = Fixture::new();
    let model_runs = interleaved(&fixture.cases, model_rounds, &|case, i| {
        issue_in_model(&fixture.console, case, i)
    });
    drop(fixture);

    // HTTP: far fewer calls, one database for all.
    let fixture = Fixture::new();
    let cases = &fixture.cases;
    let http = Http::start(fixture.console.clone());
    for case in cases {
        bench_case(&mut c, &recorded, "http", case, &|i| http.issue(case, i));
    }
    let http_runs = interleaved(cases, http_rounds, &|case, i| http.issue(case, i));

    let recorded = recorded.into_inner();
    let of = |layer: &'static str| -> Vec<Vec<u64>> {
        cases
            .iter()
            .map(|case| recorded.get(&(layer, case.name)).cloned().unwrap_or_default())
            .collect()
    };
    println!();
    println!(
        "token issue time by outcome — median per call, from criterion's runs (c.) and from {model_rounds} / {http_rounds} interleaved rounds (i.):"
    );
    print_layer("model: Console::issue_token", cases, &of("model"), &model_runs);
    print_layer(
        "HTTP: POST /identity/v3/auth/tokens on loopback (keep-alive, body read whole)",
        cases,
        &of("http"),
        &http_runs,
    );

    http.stop();
    c.final_summary();
}
