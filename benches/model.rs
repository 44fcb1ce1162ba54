//! The model's hot operations, on a real sled database in a temporary directory.
//!
//! Every change is measured whole: permission and limit checks, the sled transaction with its
//! audit event, and the flush before success. The big fixtures (10,000 service accounts,
//! 100,000 records) are written once through the public `Store::transact` API in batches of
//! 1,000 records per transaction, in the same tables and layout the model uses (checked by
//! reading them back through the model), because building them one flushed change at a time
//! would take minutes.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use kc_console::console::{
    Actor, AuditEvent, Config, Console, KeyKind, Limits, OsEntropy, Project, SaStatus, ServiceAccount,
    SystemClock,
};
use kc_console::store::{sequence_key, Table, TxFail};

const PASSWORD: &str = "Owner-Passw0rd!";
const PROJECT: &str = "web-shop";
const BATCH: usize = 1_000;

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

/// Appends `count` audit events, 1,000 per transaction, keyed and shaped as the model's own.
fn bulk_audit_events(console: &Console, actor: &Actor, count: usize) {
    let now = console.now();
    for batch in 0..count.div_ceil(BATCH) {
        let n = BATCH.min(count - batch * BATCH);
        console
            .store()
            .transact::<(), ()>(|tx| {
                for i in 0..n {
                    let seq = tx.next_sequence()?;
                    let event = AuditEvent {
                        seq,
                        at: now,
                        actor: actor.label.clone(),
                        via: "password".into(),
                        action: "service_account.create".into(),
                        target: format!("bot-{batch}-{i} in {PROJECT}"),
                        outcome: "ok".into(),
                        count: 1,
                    };
                    tx.put(Table::Audit, &sequence_key(seq), &event)?;
                }
                Ok(())
            })
            .expect("bulk audit events");
    }
    console.store().flush().expect("flush");
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

fn open_100k_records(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    {
        let (console, actor) = organization(dir.path());
        bulk_audit_events(&console, &actor, 100_000);
    }
    {
        // What the benchmark opens really holds the records.
        let console = Console::open(dir.path(), config()).unwrap();
        assert!(console.store().count(Table::Audit) > 100_000);
    }
    c.bench_function("open_100k_records", |b| {
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
    targets = list_10k_service_accounts, open_100k_records, argon2_verify
}

criterion_main!(changes, heavy);
