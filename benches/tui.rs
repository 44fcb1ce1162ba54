//! Rendering budgets: the first frame on a database of 10,000 records under 100 ms; any screen
//! at 200×50 under 2 ms whatever the row count; sorting 10,000 rows under 10 ms.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use crossterm::event::{KeyCode, KeyEvent};
use kc_console::console::{
    AuditEvent, Config, Console, FixedClock, Limits, Project, ProjectRole, ProjectView, SeededEntropy,
};
use kc_console::store::{sequence_key, Table};
use kc_console::tui::app::App;
use kc_console::tui::config::Settings;
use kc_console::tui::effects::session_for;
use kc_console::tui::frame;
use kc_console::tui::msg::{Data, Msg, Query};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn config() -> Config {
    Config {
        clock: Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
        )),
        entropy: Arc::new(SeededEntropy::new(9)),
        limits: Limits::default(),
    }
}

/// The demo organization plus 10,000 audit events, written in batches of 1,000.
fn database_of_10k_records() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), config()).unwrap();
    console.load_demo().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    for batch in 0..10u64 {
        console
            .store()
            .transact::<(), ()>(|tx| {
                for i in 0..1_000u64 {
                    let seq = 1_000_000 + batch * 1_000 + i;
                    let event = AuditEvent {
                        seq,
                        at,
                        actor: "owner@pangyo.example".into(),
                        via: "password".into(),
                        action: "service_account.create".into(),
                        target: format!("bot-{seq} in web-shop"),
                        outcome: "ok".into(),
                        count: 1,
                    };
                    tx.put(Table::Audit, &sequence_key(seq), &event)?;
                }
                Ok(())
            })
            .unwrap();
    }
    console.store().flush().unwrap();
    dir
}

/// 10,000 projects as IAM › Projects would list them, with Korean nicknames.
fn projects(count: usize) -> Vec<ProjectView> {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    (0..count)
        .map(|i| ProjectView {
            project: Project {
                id: format!("{i:032x}"),
                name: format!("project-{i}"),
                nickname: format!("프로젝트 {i}"),
                description: format!("설명 {i}"),
                created_at: at - chrono::Duration::seconds(i as i64),
                service_accounts: Default::default(),
                agents: Default::default(),
            },
            my_role: Some(ProjectRole::Admin),
            is_default: i == 0,
        })
        .collect()
}

fn events(count: usize) -> Vec<AuditEvent> {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    (0..count as u64)
        .map(|seq| AuditEvent {
            seq,
            at: at - chrono::Duration::seconds(seq as i64),
            actor: format!("user{}@pangyo.example", seq % 97),
            via: "password".into(),
            action: ["service_account.create", "credential.iam.create", "member.add"][seq as usize % 3]
                .into(),
            target: format!("bot-{seq} in web-shop"),
            outcome: "ok".into(),
            count: 1,
        })
        .collect()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(code))
}

fn signed_in_app(console: &Console, screen_command: &str) -> App {
    let owner = console.user_by_email("owner@pangyo.example").unwrap();
    let session = session_for(console, Console::actor_for(&owner), None).unwrap();
    let mut app = App::new(Settings::default(), "");
    app.update(Msg::SignedIn(Ok(session)));
    app.update(key(KeyCode::Char(':')));
    for c in screen_command.chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter));
    app.update(Msg::Resize(200, 50));
    app
}

fn benches(c: &mut Criterion) {
    let dir = database_of_10k_records();
    let mut group = c.benchmark_group("tui");
    group.sample_size(20);
    group.bench_function("first_frame_on_10k_records", |b| {
        b.iter(|| {
            // What `kc-console --user … ` does before its first frame: open the database, build
            // the session, draw (the dashboard's rows load after the first frame).
            let console = Console::open(dir.path(), config()).unwrap();
            let owner = console.user_by_email("owner@pangyo.example").unwrap();
            let session = session_for(&console, Console::actor_for(&owner), None).unwrap();
            let mut app = App::new(Settings::default(), "");
            app.update(Msg::SignedIn(Ok(session)));
            let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
            terminal.draw(|f| frame::draw(&app, f)).unwrap();
            drop(console);
        })
    });
    let console = Console::open(dir.path(), config()).unwrap();
    group.bench_function("audit_log_page_of_10k_records_loaded_and_drawn", |b| {
        let owner = Console::actor_for(&console.user_by_email("owner@pangyo.example").unwrap());
        let session = session_for(&console, owner, None).unwrap();
        let org = kc_console::org::Borrowed::new(&console);
        b.iter(|| {
            let mut app = signed_in_app(&console, "audit");
            let query = Query::Audit { before: None };
            let result =
                kc_console::tui::effects::load(&org, &session.auth, &query).map_err(|e| e.to_string());
            app.update(Msg::Loaded { query, result });
            let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
            terminal.draw(|f| frame::draw(&app, f)).unwrap();
        })
    });
    group.sample_size(100);
    let screens = [
        ("projects", Query::Projects, Data::Projects(projects(10_000))),
        (
            "audit",
            Query::Audit { before: None },
            Data::Audit {
                events: events(10_000),
                older: None,
                total: 10_000,
            },
        ),
    ];
    for (command, query, data) in screens {
        let mut app = signed_in_app(&console, command);
        app.update(Msg::Loaded {
            query: query.clone(),
            result: Ok(data),
        });
        assert_eq!(
            app.table(app.screen).map(|t| t.len()),
            Some(10_000),
            "{command} took the rows"
        );
        app.update(key(KeyCode::PageDown));
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
        group.bench_function(format!("frame_{command}_10k_rows_200x50"), |b| {
            b.iter(|| {
                terminal.draw(|f| frame::draw(&app, f)).unwrap();
            })
        });
        // `o` sorts by the next column (text, time or number); each press sorts all 10,000.
        group.bench_function(format!("sort_{command}_10k_rows"), |b| {
            b.iter(|| {
                app.update(key(KeyCode::Char('o')));
            })
        });
    }
    group.finish();
}

criterion_group!(tui, benches);
criterion_main!(tui);
