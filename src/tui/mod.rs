//! The interactive console: ratatui + crossterm over the same model as every other face.
//!
//! Three threads: this one owns the terminal and the state; a worker owns the model calls
//! (argon2, sled flushes), so no key press waits on them; an input thread turns terminal
//! events into messages. The screen is redrawn after each burst of messages, not on a timer.

pub mod app;
pub mod clipboard;
pub mod effects;
pub mod form;
pub mod headless;
pub mod keymap;
pub mod screens;
pub mod theme;
pub mod view;

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste, Event, KeyEventKind};
use crossterm::execute;

use crate::console::{Actor, Console, Error, Result, Secret};
use app::{App, Effect, Msg};
use clipboard::Clipboard;
use theme::{Theme, ThemeName};

/// How the console starts: on the sign-in screen, signing in at once, or already signed in.
pub enum Start {
    SignIn { email: Option<String> },
    Password { email: String, password: Secret },
    SignedIn(Actor),
}

/// Refuses early, before any data is touched, when there is no terminal to draw on.
pub fn require_terminal() -> Result<()> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Error::Invalid(
            "the interactive console needs a terminal; for scripts use the commands (kc-console --help)"
                .into(),
        ))
    }
}

/// Runs the console until the user quits; `notice` is shown as the first flash message.
pub fn run(console: Arc<Console>, start: Start, notice: Option<String>) -> Result<()> {
    require_terminal()?;
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (effect_tx, effect_rx) = mpsc::channel::<Effect>();

    let worker_console = Arc::clone(&console);
    let worker_tx = msg_tx.clone();
    std::thread::spawn(move || {
        for effect in effect_rx {
            if worker_tx.send(effects::perform(&worker_console, effect)).is_err() {
                break;
            }
        }
    });
    let input_tx = msg_tx.clone();
    std::thread::spawn(move || loop {
        let msg = match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
            Ok(Event::Paste(text)) => Msg::Paste(text),
            Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
            Ok(_) => continue,
            Err(_) => break,
        };
        if input_tx.send(msg).is_err() {
            break;
        }
    });
    let tick_tx = msg_tx.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        if tick_tx.send(Msg::Tick).is_err() {
            break;
        }
    });

    let mut app = App::new(Theme::new(ThemeName::from_env()), "");
    let initial = match start {
        Start::SignIn { email } => {
            app = App::new(app.theme, email.as_deref().unwrap_or_default());
            Vec::new()
        }
        Start::Password { email, password } => {
            app = App::new(app.theme, &email);
            app.sign_in_now(&email, password)
        }
        Start::SignedIn(actor) => {
            let session = effects::session_for(&console, actor, None)?;
            app.update(Msg::SignedIn(Ok(session)))
        }
    };

    if let Some(text) = notice {
        app.flash = Some(app::Flash {
            text,
            kind: app::FlashKind::Info,
        });
    }
    // ratatui's init restores the terminal on panic as well as on the way out below.
    let mut terminal =
        ratatui::try_init().map_err(|e| Error::Internal(format!("cannot set up the terminal: {e}")))?;
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    let result = event_loop(&mut terminal, &mut app, initial, &msg_rx, &effect_tx);
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    initial: Vec<Effect>,
    messages: &mpsc::Receiver<Msg>,
    effects: &mpsc::Sender<Effect>,
) -> Result<()> {
    let mut clipboard: Option<Clipboard> = None;
    let mut dispatch = |app: &mut App, pending: Vec<Effect>| {
        for effect in pending {
            match effect {
                Effect::Copy { text, what } => {
                    let outcome = clipboard.get_or_insert_with(Clipboard::new).copy(&text);
                    let follow = app.update(Msg::Copied(outcome.describe(&what)));
                    for e in follow {
                        let _ = effects.send(e);
                    }
                }
                other => {
                    let _ = effects.send(other);
                }
            }
        }
    };
    let draw = |terminal: &mut ratatui::DefaultTerminal, app: &App| {
        terminal
            .draw(|frame| view::draw(app, frame))
            .map(|_| ())
            .map_err(|e| Error::Internal(format!("cannot draw: {e}")))
    };
    if let Ok(size) = terminal.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    draw(terminal, app)?;
    dispatch(app, initial);
    while !app.quit {
        let Ok(first) = messages.recv() else {
            break;
        };
        let mut changed = false;
        // Handle the whole burst before drawing once.
        for msg in std::iter::once(first).chain(messages.try_iter()) {
            let is_tick = matches!(msg, Msg::Tick);
            if !is_tick || app.busy.is_some() {
                changed = true;
            }
            let pending = app.update(msg);
            dispatch(app, pending);
            if app.quit {
                break;
            }
        }
        if changed && !app.quit {
            draw(terminal, app)?;
        }
    }
    Ok(())
}
