//! Live playback for an audience: the console runs for real (on a throwaway copy of the demo
//! organization, in demo mode), the script's keys arrive at a human pace, and the narration
//! band sits below the console — it never covers what is being shown. The viewer's keys drive
//! the player: space pauses and resumes, n steps while paused, + and - change the speed, q quits.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Terminal;

use super::{demo_config, start, Script, Step};
use crate::console::{Console, Error, Result};
use crate::tui::app::App;
use crate::tui::headless::{buffer_text, parse_key};
use crate::tui::msg::{Effect, Msg};
use crate::tui::theme::ThemeName;
use crate::tui::widgets::text::{fit, wrap};
use crate::tui::{effects, frame, require_terminal};

/// Rows the narration band takes below the console.
const BAND: u16 = 4;

/// One thing the player does, with the pause that follows it at normal speed.
enum Beat {
    Key(KeyEvent, u64),
    Caption(String, u64),
    Pause(u64),
    Expect(String, usize),
}

fn beats(script: &Script) -> Vec<Beat> {
    let mut beats = Vec::new();
    for (line, step) in &script.steps {
        match step {
            Step::Caption(text) => {
                let reading = if text.is_empty() {
                    0
                } else {
                    1200 + 45 * text.chars().count() as u64
                };
                beats.push(Beat::Caption(text.clone(), reading));
            }
            Step::Press(keys) => {
                for key in keys {
                    beats.push(Beat::Key(parse_key(key).expect("checked when parsed"), 450));
                }
            }
            Step::Type(text) => {
                for c in text.chars() {
                    beats.push(Beat::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), 75));
                }
                beats.push(Beat::Pause(300));
            }
            Step::Wait(ms) => beats.push(Beat::Pause(*ms)),
            Step::Expect(text) => beats.push(Beat::Expect(text.clone(), *line)),
            Step::Snapshot(_) => {}
        }
    }
    beats
}

struct Player {
    beats: Vec<Beat>,
    next: usize,
    paused: bool,
    speed: f64,
    caption: String,
    due: Instant,
    /// Set while an `expect` waits for the screen to catch up.
    expecting_since: Option<Instant>,
    problem: Option<String>,
}

impl Player {
    fn delay(&self, ms: u64) -> Duration {
        Duration::from_millis((ms as f64 / self.speed) as u64)
    }

    fn status(&self, title: &str) -> String {
        let state = if self.problem.is_some() {
            "stopped"
        } else if self.next >= self.beats.len() {
            "finished"
        } else if self.paused {
            "paused"
        } else {
            "playing"
        };
        format!(
            "{title} · {state} {}/{} · {:.2}× · space pause · n step · +/- speed · q quit",
            self.next,
            self.beats.len(),
            self.speed
        )
    }
}

fn screen_text(app: &App, area: Rect) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(area.width, area.height)).expect("a test terminal opens");
    let _ = terminal.draw(|f| frame::draw(app, f));
    buffer_text(terminal.backend().buffer())
}

/// Plays `script` in this terminal until the viewer quits.
pub fn play(script: &Script) -> Result<()> {
    require_terminal()?;
    let dir = tempfile::Builder::new()
        .prefix("kc-console-walkthrough-")
        .tempdir()
        .map_err(|e| Error::Storage(format!("cannot create a throwaway data directory: {e}")))?;
    let console = Console::open(dir.path(), demo_config())?;
    console.load_demo()?;
    let console = Arc::new(console);
    let (mut app, initial) = start(&console, &script.user, ThemeName::resolve(ThemeName::Dark))?;

    let (msg_tx, messages) = mpsc::channel::<Msg>();
    let (effect_tx, effect_rx) = mpsc::channel::<Effect>();
    let worker_console = Arc::clone(&console);
    std::thread::spawn(move || {
        for effect in effect_rx {
            let reply = match effect {
                // Walkthroughs never touch the real clipboard.
                Effect::Copy { what, .. } => {
                    Msg::Copied(format!("(walkthrough) {what} would be copied here."))
                }
                Effect::Watch { .. } => continue,
                other => effects::perform(&crate::org::Borrowed::new(&worker_console), other),
            };
            if msg_tx.send(reply).is_err() {
                break;
            }
        }
    });
    let (key_tx, viewer_keys) = mpsc::channel::<Event>();
    std::thread::spawn(move || {
        while let Ok(event) = event::read() {
            if key_tx.send(event).is_err() {
                break;
            }
        }
    });
    let dispatch = |effects: Vec<Effect>| {
        for e in effects {
            let _ = effect_tx.send(e);
        }
    };
    dispatch(initial);

    let mut player = Player {
        beats: beats(script),
        next: 0,
        paused: false,
        speed: 1.0,
        caption: format!("{} — press space to pause, q to quit.", script.title),
        due: Instant::now() + Duration::from_millis(1500),
        expecting_since: None,
        problem: None,
    };
    let mut terminal =
        ratatui::try_init().map_err(|e| Error::Internal(format!("cannot set up the terminal: {e}")))?;
    let theme = app.theme;
    let result = loop {
        let size = terminal.size().map_err(|e| Error::Internal(e.to_string()))?;
        let area = Rect::new(0, 0, size.width, size.height);
        let [console_area, band_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(BAND)]).areas(area);
        app.update(Msg::Resize(console_area.width, console_area.height));
        let drawn = terminal.draw(|frame| {
            frame::draw_in(&app, frame, console_area);
            // The caption first, so a long one wraps into the band; the player's state last.
            let text = player.problem.clone().unwrap_or_else(|| player.caption.clone());
            let style = if player.problem.is_some() {
                theme.error
            } else {
                theme.accent
            };
            let status = fit(&player.status(&script.title), usize::from(band_area.width));
            let mut lines = vec![Line::from(Span::styled(text, style))];
            if wrap(&player.caption, usize::from(band_area.width)).len() < usize::from(BAND - 1) {
                lines.push(Line::from(Span::styled(status, theme.dim)));
            }
            let band = Paragraph::new(lines)
                .block(
                    Block::default()
                        .borders(Borders::TOP)
                        .border_style(theme.popup_border),
                )
                .wrap(Wrap { trim: true });
            frame.render_widget(band, band_area);
        });
        if let Err(e) = drawn {
            break Err(Error::Internal(format!("cannot draw: {e}")));
        }

        let wait = player
            .due
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        if let Ok(msg) = messages.recv_timeout(wait) {
            dispatch(app.update(msg));
            for msg in messages.try_iter() {
                dispatch(app.update(msg));
            }
        }
        let mut step_now = false;
        for event in viewer_keys.try_iter() {
            if let Event::Key(key) = event {
                if key.kind == KeyEventKind::Release {
                    continue;
                }
                match key.code {
                    KeyCode::Char('q') | KeyCode::Esc => return finish(Ok(())),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        return finish(Ok(()))
                    }
                    KeyCode::Char(' ') => player.paused = !player.paused,
                    KeyCode::Char('n') | KeyCode::Right => step_now = true,
                    KeyCode::Char('+') | KeyCode::Char('=') => player.speed = (player.speed * 1.5).min(8.0),
                    KeyCode::Char('-') => player.speed = (player.speed / 1.5).max(0.25),
                    _ => {}
                }
            }
        }
        let ready = (step_now || (!player.paused && Instant::now() >= player.due))
            && app.busy.is_none()
            && player.problem.is_none();
        if !ready || player.next >= player.beats.len() {
            if player.next >= player.beats.len() && player.problem.is_none() {
                player.caption = "The end. Press q to quit.".into();
            }
            continue;
        }
        match &player.beats[player.next] {
            Beat::Key(key, ms) => {
                dispatch(app.update(Msg::Key(*key)));
                player.due = Instant::now() + player.delay(*ms);
                player.next += 1;
            }
            Beat::Caption(text, ms) => {
                player.caption = text.clone();
                player.due = Instant::now() + player.delay(*ms);
                player.next += 1;
            }
            Beat::Pause(ms) => {
                player.due = Instant::now() + player.delay(*ms);
                player.next += 1;
            }
            Beat::Expect(text, line) => {
                if screen_text(&app, console_area).contains(text.as_str()) {
                    player.expecting_since = None;
                    player.next += 1;
                } else {
                    let since = *player.expecting_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(10) {
                        player.problem = Some(format!(
                            "line {line}: {text:?} never appeared on screen; press q to quit"
                        ));
                    }
                }
            }
        }
    };
    finish(result)
}

fn finish(result: Result<()>) -> Result<()> {
    ratatui::restore();
    result
}
