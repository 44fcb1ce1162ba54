//! The model's hot operations, on a real sled database in a temporary directory.
//!
//! Every change is measured whole: permission and limit checks, the sled transaction with its
//! audit event, and the flush before success. The big fixtures (10,000 service accounts, audit
//! logs of 10,000 and — with `KC_BENCH_AUDIT_EVENTS=1000000` — a million events) are written
//! once through the public store API in batches of 1,000 records, in the same tables and layout
//! the model uses (checked by reading them back through the model), because building them one
//! flushed change at a time would take minutes (a million: hours).
//!
//! Beside criterion's timings, the audit benchmark runs the real binary on each log and prints
//! its wall time and peak RSS (from `wait4`): starting up (a refused token issue, which signs
//! nobody in), and `audit list` for an Org Admin and for a user with few events of their own.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use kc_console::console::audit::layout;
use kc_console::console::{
    Actor, AuditEvent, Config, Console, KeyKind, Limits, OsEntropy, Project, ProjectRole, SaStatus,
    ServiceAccount, SystemClock,
};
use kc_console::store::{Batch, Table, TxFail};

const PASSWORD: &str = "Owner-Passw0rd!";
const PROJECT: &str = "web-shop";
const BATCH: usize = 1_000;
const DEV: &str = "dev@acme.example";
const DEV_PASSWORD: &str = "Dev-Passw0rd!";
/// One event in this many is the developer's (a Project Member, who sees only their own).
const DEV_EVERY: usize = 1_000;

/// Production time and randomness; limits raised so no loop runs into them.
fn config() -> Config {
    Config {
        clock: Arc::new(SystemClock),
        entropy: Arc::new(OsEntropy),
        limits: Limits {
            service_accounts_per_project: 1_000_000,
            keys_per_user_per_project: 1_000_000,
            keys_per_service_account: 1_000_000,
            ..Limits::default()
        },
    }
}

/// An organization whose owner has a payment method and is Project Admin of `web-shop`.
fn organization(dir: &Path) -> (Console, Actor) {
    let console = Console::open(dir, config()).expect("open");
    let owner = console
        .init_org("Acme", "owner@acme.example", "Owner", PASSWORD)
        .expect("init_org");
    let actor = Console::actor_for(&owner);
    console
        .add_payment_method(&actor, "Visa", "4242", "09/28")
        .expect("payment method");
    console
        .create_project(&actor, PROJECT, "Web", "")
        .expect("project");
    (console, actor)
}

/// Adds `count` service accounts to `web-shop`, 1,000 per transaction, writing the records and
/// the project's name set exactly as `create_service_account` does.
fn bulk_service_accounts(console: &Console, count: usize) {
    let project_id = console.find_project(PROJECT).expect("project").id;
    let now = console.now();
    for batch in 0..count.div_ceil(BATCH) {
        let names: Vec<String> = (batch * BATCH..((batch + 1) * BATCH).min(count))
            .map(|i| format!("bulk-sa-{i:05}"))
            .collect();
        console
            .store()
            .transact::<(), ()>(|tx| {
                let mut project: Project = tx.get(Table::Projects, &project_id)?.ok_or(TxFail::Abort(()))?;
                for name in &names {
                    let sa = ServiceAccount {
                        name: name.clone(),
                        project_id: project_id.clone(),
                        description: "bulk fixture".into(),
                        status: SaStatus::Active,
                        created_at: now,
                    };
                    tx.put(Table::ServiceAccounts, &format!("{project_id}/{name}"), &sa)?;
                    project.service_accounts.insert(name.clone());
                }
                tx.put(Table::Projects, &project_id, &project)
            })
            .expect("bulk service accounts");
    }
    console.store().flush().expect("flush");
}

/// Appends `count` audit events, 1,000 per atomic batch, keyed and shaped as the model's own,
/// with their index entries and counts: one in `DEV_EVERY` is the developer's, the rest the
/// owner's.
fn bulk_audit_events(console: &Console, owner: &Actor, dev: &Actor, count: usize) {
    let now = console.now();
    let store = console.store();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for batch_start in (0..count).step_by(BATCH) {
        let mut batch = Batch::default();
        for i in batch_start..(batch_start + BATCH).min(count) {
            let seq = store.next_sequence().expect("a sequence number");
            let actor = if i % DEV_EVERY == 0 { dev } else { owner };
            let event = AuditEvent {
                seq,
                at: now,
                actor: actor.label.clone(),
                via: "password".into(),
                action: "service_account.create".into(),
                target: format!("bot-{i} in {PROJECT}"),
                outcome: "ok".into(),
                count: 1,
            };
            let digest = layout::actor_digest(&event.actor);
            batch.put(&layout::event_key(seq), &event);
            batch.put(&layout::actor_key(&digest, seq), &seq);
            *counts.entry(layout::count_key(&digest)).or_default() += 1;
            *counts.entry(layout::COUNT.to_string()).or_default() += 1;
        }
        store.apply(Table::Audit, batch).expect("bulk audit events");
    }
    let mut batch = Batch::default();
    for (key, added) in counts {
        let had: u64 = store.get(Table::Audit, &key).expect("a count").unwrap_or(0);
        batch.put(&key, &(had + added));
    }
    store.apply(Table::Audit, batch).expect("the counts");
    store.flush().expect("flush");
}

fn create_service_account(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (console, actor) = organization(dir.path());
    // A project that already holds some service accounts, as a used one would.
    for i in 0..50 {
        console
            .create_service_account(&actor, PROJECT, &format!("existing-{i}"), "")
            .unwrap();
    }
    let mut n = 0u64;
    c.bench_function("create_service_account", |b| {
        // Only the create is timed; deleting the account afterwards keeps the project at 50,
        // so every create sees the same state (the project record lists its accounts' names,
        // so a create costs more in a fuller project).
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let name = format!("bench-{n}");
                let start = Instant::now();
                let sa = console
                    .create_service_account(&actor, PROJECT, &name, "benchmark")
                    .unwrap();
                timed += start.elapsed();
                console
                    .delete_service_account(&actor, &sa.id(), "Delete service account")
                    .unwrap();
            }
            timed
        })
    });
}

fn create_access_key(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (console, actor) = organization(dir.path());
    let mut n = 0u64;
    c.bench_function("create_access_key", |b| {
        // Only the create is timed; deleting the key afterwards keeps the owner at one key,
        // so every create sees the same state.
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let name = format!("bench-{n}");
                let start = Instant::now();
                let key = console
                    .create_credential(&actor, KeyKind::Iam, PROJECT, &name, "benchmark")
                    .unwrap();
                timed += start.elapsed();
                console
                    .delete_credential(&actor, KeyKind::Iam, &key.key.id)
                    .unwrap();
            }
            timed
        })
    });
}

fn list_10k_service_accounts(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (console, actor) = organization(dir.path());
    bulk_service_accounts(&console, 10_000);
    assert_eq!(
        console.list_service_accounts(&actor, PROJECT).unwrap().len(),
        10_000,
        "the fixture must be visible through the model"
    );
    c.bench_function("list_10k_service_accounts", |b| {
        b.iter(|| black_box(console.list_service_accounts(&actor, PROJECT).unwrap()))
    });
}

/// A closed organization with an audit log of `events` (plus its own few), and its owner and
/// developer.
fn audit_fixture(events: usize) -> (tempfile::TempDir, Actor, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let (console, owner) = organization(dir.path());
    console
        .add_user_with_password(&owner, DEV, "Dev", None, DEV_PASSWORD)
        .unwrap();
    console
        .add_member(&owner, PROJECT, DEV, ProjectRole::Member)
        .unwrap();
    let dev = Console::actor_for(&console.user_by_email(DEV).unwrap());
    let built = Instant::now();
    bulk_audit_events(&console, &owner, &dev, events);
    println!(
        "audit log of {events} events written in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    assert!(
        console.audit_count(&owner).unwrap() as usize > events,
        "the fixture must be visible through the model"
    );
    assert_eq!(
        console.audit_count(&dev).unwrap() as usize,
        events.div_ceil(DEV_EVERY),
        "the developer's index must be complete"
    );
    drop(console);
    (dir, owner, dev)
}

/// Runs the release binary on `dir` under GNU time; returns its wall time and peak RSS (KiB).
/// (The peak RSS `wait4` reports for a child of this process would include this process's own:
/// Rust spawns with `CLONE_VM`, and the kernel counts the shared memory's high-water mark.)
fn run_binary(dir: &Path, user: Option<(&str, &str)>, args: &[&str]) -> (Duration, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%e %M", "-o"])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_kc-console"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("KC_CONSOLE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((email, password)) = user {
        command
            .args(["--user", email])
            .env("KC_CONSOLE_PASSWORD", password);
    }
    let mut child = command
        .spawn()
        .expect("the figures need GNU time at /usr/bin/time");
    // A token issue reads its secret from standard input (a wrong one: refused, exit 3).
    let mut stdin = child.stdin.take().expect("a pipe");
    let _ = std::io::Write::write_all(&mut stdin, b"not the secret\n");
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 3)), "{args:?}: {status}");
    let report = std::fs::read_to_string(report.path()).unwrap();
    let (seconds, kib) = report.trim().rsplit_once(' ').expect("time's report");
    let seconds: f64 = seconds.rsplit('\n').next().unwrap().parse().unwrap();
    (Duration::from_secs_f64(seconds), kib.parse().unwrap())
}

/// The binary on a log of `events`: the first start after the fixture was written (sled reads
/// the log written since its last snapshot), then steady starts and listings; medians of 5.
fn binary_figures(dir: &Path, events: usize) {
    let start_up = [
        "token",
        "issue",
        "--access-key-id",
        "0123456789abcdef0123456789abcdef",
        "--secret-stdin",
    ];
    let (first, first_rss) = run_binary(dir, None, &start_up);
    println!(
        "{events} events: first start after writing them {:.0} ms, {} MiB",
        first.as_secs_f64() * 1e3,
        first_rss / 1024
    );
    let median = |user: Option<(&str, &str)>, args: &[&str]| {
        let mut runs: Vec<(Duration, u64)> = (0..5).map(|_| run_binary(dir, user, args)).collect();
        runs.sort();
        runs[2]
    };
    for (what, user, args) in [
        ("start (refused token issue)", None, &start_up[..]),
        (
            "audit list --limit 50, Org Admin",
            Some(("owner@acme.example", PASSWORD)),
            &["audit", "list", "--limit", "50"][..],
        ),
        (
            "audit list --limit 50, Project Member",
            Some((DEV, DEV_PASSWORD)),
            &["audit", "list", "--limit", "50"][..],
        ),
    ] {
        let (took, rss) = median(user, args);
        println!(
            "{events} events: {what}: {:.0} ms, {} MiB",
            took.as_secs_f64() * 1e3,
            rss / 1024
        );
    }
    let size: u64 = std::fs::read_dir(dir.join("db"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("{events} events: data directory {} MiB", size / (1024 * 1024));
}

/// The audit log at 10,000 events, and at `KC_BENCH_AUDIT_EVENTS` when set (a million for the
/// README's figures): opening, the first page, a deep page, a non-admin's page, the count.
fn audit_log(c: &mut Criterion) {
    let mut sizes = vec![10_000];
    if let Some(big) = std::env::var("KC_BENCH_AUDIT_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        sizes.push(big);
    }
    for events in sizes {
        let (dir, owner, dev) = audit_fixture(events);
        binary_figures(dir.path(), events);
        c.bench_function(&format!("open_{events}_audit_events"), |b| {
            // Only the open is timed; the console is dropped (releasing the directory) untimed.
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let console = Console::open(dir.path(), config()).unwrap();
                    timed += start.elapsed();
                    drop(black_box(console));
                }
                timed
            })
        });
        let console = Console::open(dir.path(), config()).unwrap();
        let middle = console.audit_page(&owner, None, 1).unwrap().events[0].seq - events as u64 / 2;
        c.bench_function(&format!("audit_page_newest_50_of_{events}"), |b| {
            b.iter(|| black_box(console.audit_page(&owner, None, 50).unwrap()))
        });
        c.bench_function(&format!("audit_page_50_mid_log_of_{events}"), |b| {
            b.iter(|| black_box(console.audit_page(&owner, Some(middle), 50).unwrap()))
        });
        c.bench_function(&format!("audit_page_own_50_of_{events}"), |b| {
            b.iter(|| black_box(console.audit_page(&dev, None, 50).unwrap()))
        });
        c.bench_function(&format!("audit_count_of_{events}"), |b| {
            b.iter(|| black_box(console.audit_count(&dev).unwrap()))
        });
    }
}

fn argon2_verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (console, _) = organization(dir.path());
    c.bench_function("argon2_verify", |b| {
        b.iter(|| black_box(console.sign_in("owner@acme.example", PASSWORD).unwrap()))
    });
}

fn tokens(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (console, actor) = organization(dir.path());
    let key = console
        .create_credential(&actor, KeyKind::Iam, PROJECT, "api", "")
        .unwrap();
    let secret = key.secret.expose().to_string();
    c.bench_function("issue_token", |b| {
        b.iter(|| black_box(console.issue_token(&key.key.id, &secret).unwrap()))
    });
    let token = console
        .issue_token(&key.key.id, &secret)
        .unwrap()
        .token
        .expose()
        .to_string();
    c.bench_function("validate_token", |b| {
        b.iter(|| black_box(console.validate_token(&token).unwrap()))
    });
}

criterion_group! {
    name = changes;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = create_service_account, create_access_key, tokens
}

criterion_group! {
    name = heavy;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = list_10k_service_accounts, audit_log, argon2_verify
}

criterion_main!(changes, heavy);
