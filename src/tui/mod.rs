//! The interactive console: ratatui + crossterm over the organization every face shares — the
//! model in this process, or the server that holds the data directory (`crate::org`).
//!
//! Four threads: this one owns the terminal and the state; a worker carries out effects
//! (`effects::perform`, the one place that makes requests: argon2, sled flushes, the network),
//! so no key press waits on them; an input thread turns terminal events into messages; a watcher
//! follows the organization's change feed, says when the server is out of reach and when it is
//! back. The screen is redrawn after each burst of messages, not on a timer.

pub mod app;
pub mod clipboard;
pub mod config;
pub mod effects;
pub mod frame;
pub mod headless;
pub mod keymap;
pub mod msg;
pub mod popups;
pub mod screens;
pub mod theme;
pub mod widgets;

use std::io::IsTerminal;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    KeyEventKind,
};
use crossterm::execute;

use crate::console::{Error, Result, Secret};
use crate::org::{Auth, FeedEvent, Org};
use app::{App, Level};
use clipboard::Clipboard;
use msg::{Credential, Effect, Msg};
use theme::ThemeName;

/// How the console starts: on the sign-in screen, signing in at once, or with a session opened
/// before (`kc-console login`, or the demo's owner).
pub enum Start {
    SignIn { email: Option<String> },
    Password { email: String, password: Secret },
    Session(Secret),
}

/// What the command line adds to the config file for this run.
#[derive(Debug, Default)]
pub struct Options {
    /// Shown as the first message (e.g. where the token API listens).
    pub notice: Option<String>,
    /// `--no-mouse`: leave the mouse to the terminal (selecting text) whatever the config says.
    pub no_mouse: bool,
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

/// The app as configured: the config file's settings (or the defaults, with the problem as the
/// first message), the theme the environment asks for.
pub fn configured_app(email: &str, no_mouse: bool) -> App {
    let (mut settings, problem) = config::load();
    settings.theme = ThemeName::resolve(settings.theme);
    if no_mouse {
        settings.mouse = false;
    }
    let mut app = App::new(settings, email);
    if let Some(problem) = problem {
        app.note(Level::Error, problem);
    }
    app
}

/// How long the watcher waits before asking a server that went away again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// Follows the change feed of the session `auth` for as long as `generation` is `mine` (a new
/// sign-in starts a new watcher). When the feed ends — the server stopped, was killed, the
/// network went — the console is told it is offline, and the watcher asks again every second;
/// when the server answers, the console is told it is back (and reloads what it shows).
fn watch(
    org: Arc<dyn Org>,
    auth: Credential,
    messages: mpsc::Sender<Msg>,
    generation: Arc<std::sync::atomic::AtomicU64>,
    mine: u64,
) {
    use std::sync::atomic::Ordering;
    let current = || generation.load(Ordering::SeqCst) == mine;
    let send = |msg: Msg| {
        messages
            .send(Msg::Watched {
                watcher: mine,
                msg: Box::new(msg),
            })
            .is_ok()
    };
    let mut lost = false;
    while current() {
        let feed = match org.changes(&auth) {
            Ok(feed) => feed,
            Err(e) => {
                if !lost && !send(Msg::Offline(e.message().to_string())) {
                    return;
                }
                lost = true;
                std::thread::sleep(RECONNECT_EVERY);
                continue;
            }
        };
        if lost && !send(Msg::Online) {
            return;
        }
        lost = false;
        for event in feed.iter() {
            if !current() {
                return;
            }
            let msg = match event {
                FeedEvent::Changed(change) => Msg::Changed(change),
                FeedEvent::Missed => Msg::Missed,
                FeedEvent::Lost(why) => {
                    lost = true;
                    Msg::Offline(why)
                }
            };
            if !send(msg) {
                return;
            }
        }
        if !lost {
            // The feed ended without a word (an embedded model closing): nothing to follow.
            return;
        }
        std::thread::sleep(RECONNECT_EVERY);
    }
}

/// Runs the console until the user quits.
pub fn run(org: Arc<dyn Org>, start: Start, options: Options) -> Result<()> {
    require_terminal()?;
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (effect_tx, effect_rx) = mpsc::channel::<Effect>();

    let worker_org = Arc::clone(&org);
    let worker_tx = msg_tx.clone();
    std::thread::spawn(move || {
        for effect in effect_rx {
            if worker_tx
                .send(effects::perform(worker_org.as_ref(), effect))
                .is_err()
            {
                break;
            }
        }
    });
    let input_tx = msg_tx.clone();
    std::thread::spawn(move || loop {
        let msg = match event::read() {
            Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
            Ok(Event::Paste(text)) => Msg::Paste(text),
            Ok(Event::Mouse(mouse)) => Msg::Mouse(mouse),
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

    let email = match &start {
        Start::SignIn { email } => email.clone().unwrap_or_default(),
        Start::Password { email, .. } => email.clone(),
        Start::Session(_) => String::new(),
    };
    let mut app = configured_app(&email, options.no_mouse);
    let initial = match start {
        Start::SignIn { .. } => Vec::new(),
        Start::Password { email, password } => app.sign_in_now(&email, password),
        Start::Session(token) => {
            app.busy = Some("Signing in…".into());
            vec![Effect::Resume {
                auth: Arc::new(Auth::Session { token }),
                project: app.settings.default_project.clone(),
            }]
        }
    };
    if let Some(text) = options.notice {
        app.note(Level::Info, text);
    }
    let mouse = app.settings.mouse;
    // ratatui's init restores the terminal on panic as well as on the way out below.
    let mut terminal =
        ratatui::try_init().map_err(|e| Error::Internal(format!("cannot set up the terminal: {e}")))?;
    let _ = execute!(std::io::stdout(), EnableBracketedPaste);
    if mouse {
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
    let feed = Feed {
        org,
        messages: msg_tx,
        generation: Arc::default(),
    };
    let result = event_loop(&mut terminal, &mut app, initial, &msg_rx, &effect_tx, &feed);
    if mouse {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
    }
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    result
}

/// What starts a watcher for a session (see [`watch`]).
struct Feed {
    org: Arc<dyn Org>,
    messages: mpsc::Sender<Msg>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Feed {
    fn follow(&self, auth: Credential) {
        let mine = self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let (org, messages, generation) = (
            Arc::clone(&self.org),
            self.messages.clone(),
            Arc::clone(&self.generation),
        );
        std::thread::spawn(move || watch(org, auth, messages, generation, mine));
    }

    fn stop(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether `watcher` still follows the session shown.
    fn is_current(&self, watcher: u64) -> bool {
        self.generation.load(std::sync::atomic::Ordering::SeqCst) == watcher
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    initial: Vec<Effect>,
    messages: &mpsc::Receiver<Msg>,
    effects: &mpsc::Sender<Effect>,
    feed: &Feed,
) -> Result<()> {
    let mut clipboard: Option<Clipboard> = None;
    let mut dispatch = |app: &mut App, pending: Vec<Effect>| {
        let mut queue = pending;
        while let Some(effect) = queue.pop() {
            match effect {
                Effect::Copy { text, what } => {
                    let outcome = clipboard.get_or_insert_with(Clipboard::new).copy(&text);
                    queue.extend(app.update(Msg::Copied(outcome.describe(&what))));
                }
                Effect::Watch { auth } => feed.follow(auth),
                Effect::SignOut { auth } => {
                    feed.stop();
                    let _ = effects.send(Effect::SignOut { auth });
                }
                other => {
                    let _ = effects.send(other);
                }
            }
        }
    };
    let draw = |terminal: &mut ratatui::DefaultTerminal, app: &App| {
        terminal
            .draw(|frame| frame::draw(app, frame))
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
            if let Msg::Watched { watcher, .. } = msg {
                if !feed.is_current(watcher) {
                    continue;
                }
            }
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
