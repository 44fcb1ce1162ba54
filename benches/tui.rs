//! Rendering budgets: the first frame on a database of 10,000 records under 100 ms; any screen
//! at 200×50 under 2 ms whatever the row count.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use kc_console::console::{AuditEvent, Config, Console, FixedClock, Limits, SeededEntropy};
use kc_console::store::{sequence_key, Table};
use kc_console::tui::app::{App, Msg};
use kc_console::tui::effects::session_for;
use kc_console::tui::screens::{ListRow, Screen};
use kc_console::tui::theme::{Theme, ThemeName};
use kc_console::tui::view;
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

fn rows(count: usize, columns: usize) -> Vec<ListRow> {
    (0..count)
        .map(|i| ListRow {
            id: format!("{i:032x}"),
            cells: (0..columns)
                .map(|c| {
                    if c == 0 {
                        format!("프로젝트 {i}")
                    } else {
                        format!("cell {c} of row {i}")
                    }
                })
                .collect(),
        })
        .collect()
}

fn signed_in_app(console: &Console, screen_command: &str) -> App {
    let owner = console.user_by_email("owner@pangyo.example").unwrap();
    let session = session_for(console, Console::actor_for(&owner), None).unwrap();
    let mut app = App::new(Theme::new(ThemeName::Dark), "");
    app.update(Msg::SignedIn(Ok(session)));
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char(':'),
    )));
    for c in screen_command.chars().chain(std::iter::once('\n')) {
        let code = if c == '\n' {
            crossterm::event::KeyCode::Enter
        } else {
            crossterm::event::KeyCode::Char(c)
        };
        app.update(Msg::Key(crossterm::event::KeyEvent::from(code)));
    }
    app
}

fn benches(c: &mut Criterion) {
    let dir = database_of_10k_records();
    let mut group = c.benchmark_group("tui");
    group.sample_size(20);
    group.bench_function("first_frame_on_10k_records", |b| {
        b.iter(|| {
            // What `kc-console` does before its first frame: open the database, draw.
            let console = Console::open(dir.path(), config()).unwrap();
            let app = App::new(Theme::new(ThemeName::Dark), "");
            let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
            terminal.draw(|f| view::draw(&app, f)).unwrap();
            drop(console);
        })
    });
    let console = Console::open(dir.path(), config()).unwrap();
    group.sample_size(100);
    for (screen, command, columns) in [(Screen::Projects, "projects", 6), (Screen::Audit, "audit", 6)] {
        let mut app = signed_in_app(&console, command);
        app.update(Msg::Loaded {
            screen,
            project: None,
            subject: None,
            result: Ok(rows(10_000, columns)),
        });
        app.update(Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::PageDown,
        )));
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
        group.bench_function(format!("frame_{command}_10k_rows_200x50"), |b| {
            b.iter(|| {
                terminal.draw(|f| view::draw(&app, f)).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(tui, benches);
criterion_main!(tui);
