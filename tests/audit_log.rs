//! The audit log is bounded and read by pages: events past the retention period or over the
//! maximum count are pruned (at open and as events are appended), pages walk the log newest
//! first with a cursor, a non-admin's pages and count come from an index of their own events,
//! and the index and counts always agree with the events — under concurrent appends, after a
//! prune, and after an upgrade from a log that had neither.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kc_console::console::audit::{layout, PAGE_MAX, PRUNE_EVERY};
use kc_console::console::{
    Actor, AuditEvent, Clock, Config, Console, Error, FixedClock, Limits, ProjectRole, SeededEntropy,
};
use kc_console::store::{Batch, Order, Table};

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");
const OWNER: &str = "owner@acme.example";
const DEV: &str = "dev@acme.example";
const PASSWORD: &str = "Owner-Passw0rd!";
const PROJECT: &str = "web-shop";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn config(clock: &Arc<FixedClock>, limits: Limits) -> Config {
    Config {
        clock: clock.clone(),
        entropy: Arc::new(SeededEntropy::new(7)),
        limits,
    }
}

/// The owner (Org Admin, Project Admin of web-shop) and a developer (Project Member only).
fn organization(console: &Console) -> (Actor, Actor) {
    let owner = Console::actor_for(&console.init_org("Acme", OWNER, "Owner", PASSWORD).unwrap());
    console
        .add_payment_method(&owner, "Visa", "4242", "09/28")
        .unwrap();
    console.create_project(&owner, PROJECT, "Web", "").unwrap();
    console
        .add_user_with_password(&owner, DEV, "Dev", None, "Dev-Passw0rd!")
        .unwrap();
    console
        .add_member(&owner, PROJECT, DEV, ProjectRole::Member)
        .unwrap();
    (owner, Console::actor_for(&console.user_by_email(DEV).unwrap()))
}

/// One refused attempt by `actor`: an audited event that changes nothing else.
fn refused_attempt(console: &Console, actor: &Actor, i: usize) {
    let refused = console.create_project(actor, &format!("Not A Name {i}"), "N", "");
    assert!(refused.is_err());
}

/// Every page of `actor`'s view, `size` events at a time.
fn all_pages(console: &Console, actor: &Actor, size: usize) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let mut before = None;
    loop {
        let page = console.audit_page(actor, before, size).unwrap();
        assert!(page.events.len() <= size);
        events.extend(page.events);
        match page.older {
            Some(seq) => before = Some(seq),
            None => return events,
        }
    }
}

/// The index and the counts agree with the events: every user's event has its index entry,
/// every entry its event (by that actor), each count is what it counts, and nothing else is
/// indexed.
fn assert_consistent(console: &Console) {
    let store = console.store();
    let events: Vec<(String, AuditEvent)> = store
        .page(Table::Audit, &layout::events(), Order::Ascending, usize::MAX)
        .unwrap();
    let derived: Vec<(String, serde_json::Value)> = store
        .page(Table::Audit, &layout::derived(), Order::Ascending, usize::MAX)
        .unwrap();
    let by_seq: BTreeMap<u64, &AuditEvent> = events.iter().map(|(_, e)| (e.seq, e)).collect();
    let mut indexed: BTreeMap<String, u64> = BTreeMap::new();
    for (key, value) in derived.iter().filter(|(k, _)| k.starts_with("~actor/")) {
        let seq = value.as_u64().unwrap();
        let event = by_seq
            .get(&seq)
            .unwrap_or_else(|| panic!("{key} points at no event"));
        let digest = layout::actor_digest(&event.actor);
        assert_eq!(
            key,
            &layout::actor_key(&digest, seq),
            "{key} is the entry of its event"
        );
        *indexed.entry(digest).or_default() += 1;
    }
    for (key, event) in &events {
        assert_eq!(key, &layout::event_key(event.seq));
        if [OWNER, DEV].contains(&event.actor.as_str()) {
            let entry = layout::actor_key(&layout::actor_digest(&event.actor), event.seq);
            assert!(
                derived.iter().any(|(k, _)| k == &entry),
                "user event {} has no index entry",
                event.seq
            );
        }
    }
    let count: u64 = store.get(Table::Audit, layout::COUNT).unwrap().unwrap_or(0);
    assert_eq!(count, events.len() as u64, "the count is the number of events");
    let counts = derived.iter().filter(|(k, _)| k.starts_with("~count/")).count();
    assert_eq!(counts, indexed.len(), "one count per indexed actor");
    for (digest, n) in indexed {
        let kept: u64 = store
            .get(Table::Audit, &layout::count_key(&digest))
            .unwrap()
            .unwrap();
        assert_eq!(kept, n, "the count of actor {digest}");
    }
}

#[test]
fn pages_walk_the_log_newest_first_and_a_non_admin_sees_only_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let console = Console::open(dir.path(), config(&clock, Limits::default())).unwrap();
    let (owner, dev) = organization(&console);
    for i in 0..60 {
        refused_attempt(&console, &dev, i);
        if i % 3 == 0 {
            refused_attempt(&console, &owner, i);
        }
    }
    let everything = console.list_audit(&owner, usize::MAX).unwrap();
    assert_eq!(console.audit_count(&owner).unwrap(), everything.len() as u64);
    for size in [1, 7, 50, PAGE_MAX] {
        assert_eq!(all_pages(&console, &owner, size), everything, "pages of {size}");
    }
    assert!(everything.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");

    let mine = all_pages(&console, &dev, 7);
    assert_eq!(
        mine.len(),
        60,
        "the developer's own refusals (nothing else is theirs)"
    );
    assert!(mine.iter().all(|e| e.actor == DEV), "only their own events");
    let theirs: Vec<AuditEvent> = everything.iter().filter(|e| e.actor == DEV).cloned().collect();
    assert_eq!(
        mine, theirs,
        "the same events, in the same order, as the full log holds"
    );
    assert_eq!(console.audit_count(&dev).unwrap(), 60);
    // A cursor from the middle continues from there.
    let page = console.audit_page(&dev, Some(mine[9].seq), 5).unwrap();
    assert_eq!(page.events, mine[10..15]);
    assert_eq!(page.older, Some(mine[14].seq));

    for limit in [0, PAGE_MAX + 1] {
        assert!(matches!(
            console.audit_page(&owner, None, limit),
            Err(Error::Invalid(_))
        ));
    }
    assert_consistent(&console);
}

#[test]
fn the_log_keeps_at_most_its_maximum_count_pruning_the_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let limits = Limits {
        audit_max_events: 100,
        ..Limits::default()
    };
    let console = Console::open(dir.path(), config(&clock, limits.clone())).unwrap();
    let (owner, dev) = organization(&console);
    for i in 0..400 {
        refused_attempt(&console, if i % 2 == 0 { &dev } else { &owner }, i);
        let count = console.audit_count(&owner).unwrap();
        assert!(
            count <= 100 + PRUNE_EVERY,
            "{count} events kept after {i} appends"
        );
    }
    assert_consistent(&console);
    let newest = console.list_audit(&owner, 1).unwrap()[0].seq;
    drop(console);

    // A new console prunes what is over the cap; what is kept is the newest.
    let console = Console::open(dir.path(), config(&clock, limits)).unwrap();
    let kept = console.list_audit(&owner, usize::MAX).unwrap();
    assert_eq!(kept.len(), 100);
    assert_eq!(kept[0].seq, newest);
    assert_eq!(console.audit_count(&owner).unwrap(), 100);
    assert_eq!(
        console.audit_count(&dev).unwrap() as usize,
        kept.iter().filter(|e| e.actor == DEV).count()
    );
    assert_consistent(&console);
}

#[test]
fn events_past_the_retention_period_are_pruned_at_open_and_as_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let console = Console::open(dir.path(), config(&clock, Limits::default())).unwrap();
    let (owner, dev) = organization(&console);
    for i in 0..40 {
        refused_attempt(&console, &dev, i);
    }
    clock.advance(Duration::days(45));
    for i in 0..10 {
        refused_attempt(&console, &dev, i);
    }
    drop(console);

    // 91 days after the first events, 46 after the last ones: the first go at open.
    clock.advance(Duration::days(46));
    let console = Console::open(dir.path(), config(&clock, Limits::default())).unwrap();
    let kept = console.list_audit(&owner, usize::MAX).unwrap();
    let cutoff = clock.now() - Duration::days(90);
    assert!(
        kept.iter().all(|e| e.at >= cutoff),
        "nothing older than 90 days is kept"
    );
    assert_eq!(kept.len(), 10);
    assert_eq!(console.audit_count(&owner).unwrap(), 10);
    assert_eq!(console.audit_count(&dev).unwrap(), 10);
    assert_eq!(all_pages(&console, &dev, 3).len(), 10);
    assert_consistent(&console);

    // And as events are appended, without a reopen.
    clock.advance(Duration::days(60));
    for i in 0..PRUNE_EVERY as usize {
        refused_attempt(&console, &owner, i);
    }
    let kept = console.list_audit(&owner, usize::MAX).unwrap();
    assert!(
        kept.iter().all(|e| e.actor == OWNER),
        "the developer's old events are gone"
    );
    assert_eq!(console.audit_count(&dev).unwrap(), 0);
    assert!(console.audit_page(&dev, None, 10).unwrap().events.is_empty());
    assert_consistent(&console);
}

#[test]
fn counts_and_index_agree_with_the_events_under_concurrent_appends() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let limits = Limits {
        audit_max_events: 300,
        ..Limits::default()
    };
    let console = Arc::new(Console::open(dir.path(), config(&clock, limits)).unwrap());
    let (owner, dev) = organization(&console);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (console, owner, dev) = (console.clone(), owner.clone(), dev.clone());
            std::thread::spawn(move || {
                for i in 0..150 {
                    match (t + i) % 3 {
                        // Outside any transaction (the token API's path).
                        0 => assert!(console
                            .issue_token(&format!("{:032x}", t * 1000 + i), "wrong")
                            .is_err()),
                        1 => refused_attempt(&console, &dev, i),
                        _ => refused_attempt(&console, &owner, i),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_consistent(&console);
    let count = console.audit_count(&owner).unwrap();
    assert!(count <= 300 + PRUNE_EVERY, "{count}");
}

/// Takes the index and counts away and marks the database version 1, as an older kc-console
/// left it.
fn make_version_1(dir: &Path, clock: &Arc<FixedClock>) {
    {
        let console = Console::open(dir, config(clock, Limits::default())).unwrap();
        let store = console.store();
        let derived: Vec<(String, serde_json::Value)> = store
            .page(Table::Audit, &layout::derived(), Order::Ascending, usize::MAX)
            .unwrap();
        let mut batch = Batch::default();
        for (key, _) in &derived {
            batch.remove(key);
        }
        store.apply(Table::Audit, batch).unwrap();
        store.flush().unwrap();
    }
    let db = sled::open(dir.join("db")).unwrap();
    db.open_tree("meta")
        .unwrap()
        .insert("schema_version", &b"1"[..])
        .unwrap();
    db.flush().unwrap();
}

#[test]
fn a_version_1_log_gets_its_index_and_counts_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let (owner, dev, everything) = {
        let console = Console::open(dir.path(), config(&clock, Limits::default())).unwrap();
        let (owner, dev) = organization(&console);
        for i in 0..30 {
            refused_attempt(&console, &dev, i);
        }
        let everything = console.list_audit(&owner, usize::MAX).unwrap();
        (owner, dev, everything)
    };
    make_version_1(dir.path(), &clock);
    let console = Console::open(dir.path(), config(&clock, Limits::default())).unwrap();
    assert_consistent(&console);
    assert_eq!(console.list_audit(&owner, usize::MAX).unwrap(), everything);
    assert_eq!(console.audit_count(&owner).unwrap(), everything.len() as u64);
    assert_eq!(all_pages(&console, &dev, 4).len(), 30);
    let version: u32 = console
        .store()
        .get(Table::Meta, "schema_version")
        .unwrap()
        .unwrap();
    assert_eq!(version, 2);
}

fn kc(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("KC_CONSOLE_") {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["--user", "admin@pangyo.example"])
        .env("KC_CONSOLE_PASSWORD", "admin-demo-pw")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn listed(dir: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = kc(dir, &[&["--json", "audit", "list"], args].concat(), &[], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn audit_list_pages_with_before_and_honours_the_maximum_count_setting() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let console = Console::open(&data, Config::default()).unwrap();
        console.load_demo().unwrap();
        let admin = Console::actor_for(&console.user_by_email("admin@pangyo.example").unwrap());
        for i in 0..150 {
            assert!(console
                .create_project(&admin, &format!("Not A Name {i}"), "N", "")
                .is_err());
        }
    }
    let everything = listed(&data, &["--limit", "10000"]);
    assert!(everything.len() > 150);
    // Started with a cap, kc-console prunes what is over it (then adds its own sign-in).
    let cap = [("KC_CONSOLE_AUDIT_MAX_EVENTS", "100")];
    let out = kc(&data, &["--json", "audit", "list", "--limit", "10000"], &cap, "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let capped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let capped = capped.as_array().unwrap();
    assert_eq!(capped.len(), 101, "the newest 100, and the listing's own sign-in");
    assert_eq!(capped[1], everything[0], "the newest are kept");

    // Pages continue with --before, without gaps or repeats.
    let seqs = |events: &[serde_json::Value]| -> Vec<u64> {
        events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
    };
    let first = listed(&data, &["--limit", "30"]);
    let before = first.last().unwrap()["seq"].to_string();
    let second = listed(&data, &["--limit", "30", "--before", &before]);
    let both = listed(
        &data,
        &["--limit", "60", "--before", &(seqs(&first)[0] + 1).to_string()],
    );
    assert_eq!([seqs(&first), seqs(&second)].concat(), seqs(&both));
    let human = kc(&data, &["audit", "list", "--limit", "3"], &[], "");
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("(older events: kc-console audit list --before "),
        "{text}"
    );

    for bad in [
        [("KC_CONSOLE_AUDIT_MAX_EVENTS", "lots")],
        [("KC_CONSOLE_AUDIT_RETENTION_DAYS", "0")],
    ] {
        let out = kc(&data, &["audit", "list"], &bad, "");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(bad[0].0));
    }
    let out = kc(&data, &["audit", "list", "--limit", "0"], &[], "");
    assert_eq!(out.status.code(), Some(2));
}
