//! The interactive console's state and its one `update` function (Elm style): a message in, the
//! state changed, effects out. The app routes messages to the screens (`screens/`), holds what
//! they share — the session, the popups, the message log, the command line — and lays out the
//! frame. Effects (model calls, password checks, the clipboard) run elsewhere and come back as
//! messages, so nothing here waits on argon2 or the disk, and every flow can be driven in tests
//! without a terminal.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Local, Utc};
use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config as MatcherConfig, Matcher, Utf32Str};
use ratatui::layout::{Constraint, Layout, Rect};

use super::config::{Settings, Sidebar};
use super::keymap::{find_command, Action, Layer, COMMANDS, PROJECT_COMMAND, TEXT_KEYS};
use super::msg::{Command, Data, Done, Effect, Msg, Query, Session};
use super::popups::{Entry, Notice, Outcome, Popup, ProfileMenu, Reveal, Switcher, Viewer, ViewerKind};
use super::screens::{self, Component, Ctx, Reply, Screen};
use super::theme::Theme;
use super::widgets::field::TextField;
use super::widgets::form::{Field, Form, FormEvent, Request};
use super::widgets::table::{self, Hit, TableNav};
use super::widgets::text::{fit, shown, width, wrap};
use crate::console::access::{who_may, MATRIX};
use crate::console::{validate, Change, Clock, Secret, SystemClock};

/// Below this the console shows a "terminal too small" notice instead of its frame.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// A key and what it does here, as the footer shows it.
pub type Hint = (String, String);

/// Whether footer hints are counted for the footer's height (as if a row were selected and
/// every row checked) or as shown now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Steady {
    Yes,
    No,
}

/// `offered` then `globals` in rows of `columns` columns: a second row when the screen's own
/// actions do not fit on one, never a third; the global keys take what room is left (the help
/// lists every key).
fn pack_hints(offered: Vec<Hint>, globals: Vec<Hint>, columns: u16) -> Vec<Vec<Hint>> {
    let mut rows: Vec<Vec<Hint>> = vec![Vec::new()];
    let mut used = 0;
    let offered_count = offered.len();
    for (i, hint) in offered.into_iter().chain(globals).enumerate() {
        let piece = width(&format!(" {} {} ", hint.0, hint.1));
        if used + piece > columns as usize && !rows[rows.len() - 1].is_empty() {
            if rows.len() == 2 || i >= offered_count {
                break;
            }
            rows.push(Vec::new());
            used = 0;
        }
        used += piece;
        rows.last_mut().expect("one row at least").push(hint);
    }
    rows
}
pub const MENU_WIDTH: u16 = 22;
/// The message log keeps this many messages.
const LOG_KEEP: usize = 500;
/// Changes remembered to explain a dialog whose row went away.
const RECENT_KEEP: usize = 64;
const WHEEL_STEP: isize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Menu,
    Content,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Success => "OK",
            Level::Warning => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// The current message, shown in the status line until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub kind: Level,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub text: String,
}

/// One entry of the `:` palette: what it puts on the line, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaletteEntry {
    pub text: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct CommandLine {
    pub field: TextField,
    pub entries: Vec<PaletteEntry>,
    /// Indices into `entries` that match the typed text, best first.
    pub matches: Vec<usize>,
    pub selected: usize,
    /// Tab or ↓ has put an entry on the line.
    pub completing: bool,
}

#[derive(Debug, Clone)]
pub enum Input {
    None,
    Filter(TextField),
    Command(CommandLine),
}

impl PartialEq for Input {
    fn eq(&self, other: &Input) -> bool {
        matches!(
            (self, other),
            (Input::None, Input::None)
                | (Input::Filter(_), Input::Filter(_))
                | (Input::Command(_), Input::Command(_))
        )
    }
}

/// Where each part of the frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub menu: Option<Rect>,
    pub crumb: Rect,
    pub context: Rect,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

#[derive(Debug, Default)]
struct Reload {
    in_flight: bool,
    again: bool,
}

pub struct App {
    pub session: Option<Session>,
    pub signin: Form,
    pub screen: Screen,
    history: Vec<Screen>,
    pub focus: Focus,
    pub menu_index: usize,
    screens: Vec<Box<dyn Component>>,
    pub popup: Option<Popup>,
    pub input: Input,
    pub flash: Option<Flash>,
    pub log: VecDeque<LogEntry>,
    /// Set while a model call is on its way; keys other than Ctrl-C wait for it.
    pub busy: Option<String>,
    pub spinner: usize,
    pub theme: Theme,
    pub settings: Settings,
    /// The `b` key's choice, overriding the config's sidebar setting.
    sidebar: Option<bool>,
    pub quit: bool,
    /// The Credentials password re-check passed in this session.
    pub credentials_unlocked: bool,
    pub size: (u16, u16),
    reload: Reload,
    recent: VecDeque<Change>,
    clock: Arc<dyn Clock>,
    /// Set while the organization's server is out of reach: what is shown stays, and nothing
    /// is sent until it answers again.
    pub offline: Option<String>,
}

fn all_screens() -> Vec<Box<dyn Component>> {
    Screen::ALL
        .iter()
        .map(|s| -> Box<dyn Component> {
            match s {
                Screen::Dashboard => Box::<screens::dashboard::Dashboard>::default(),
                Screen::Projects => Box::<screens::projects::Projects>::default(),
                Screen::Users => Box::<screens::users::Users>::default(),
                Screen::Members => Box::<screens::members::Members>::default(),
                Screen::ServiceAccounts => Box::<screens::service_accounts::ServiceAccounts>::default(),
                Screen::ServiceAgents => Box::<screens::agents::Agents>::default(),
                Screen::Services => Box::<screens::services::Services>::default(),
                Screen::Payments => Box::<screens::payments::Payments>::default(),
                Screen::HelpDesk => Box::<screens::helpdesk::HelpDesk>::default(),
                Screen::Audit => Box::<screens::audit::Audit>::default(),
                Screen::Credentials => Box::<screens::credentials::Credentials>::default(),
                Screen::ServiceAccountDetail => Box::<screens::sa_detail::SaDetail>::default(),
            }
        })
        .collect()
}

fn sign_in_form(email: &str) -> Form {
    let mut form = Form::new(
        "Sign in",
        "Sign in",
        |f| {
            let email = f.value("Email").to_string();
            if f.value("Password").is_empty() {
                return Err("Enter your email and password.".into());
            }
            Ok(Request::SignIn {
                email,
                password: Secret::new(f.take("Password")),
            })
        },
        vec![
            Field {
                max: 0,
                ..Field::text("Email", validate::EMAIL_MAX, validate::email).with_value(email)
            },
            Field::masked("Password"),
        ],
    );
    if !email.is_empty() {
        form.focus = 1;
    }
    form
}

/// How a change reads in the log: "admin@… service_account.delete deploy-bot-…".
fn describe(change: &Change) -> String {
    format!(
        "{} {} {}",
        shown(&change.actor),
        shown(&change.action),
        shown(&change.target)
    )
}

impl App {
    /// The console on its sign-in screen (with `email` filled in), with these settings.
    pub fn new(settings: Settings, email: &str) -> App {
        App {
            session: None,
            signin: sign_in_form(email),
            screen: Screen::Dashboard,
            history: Vec::new(),
            focus: Focus::Content,
            menu_index: 0,
            screens: all_screens(),
            popup: None,
            input: Input::None,
            flash: None,
            log: VecDeque::new(),
            busy: None,
            spinner: 0,
            theme: Theme::new(settings.theme),
            settings,
            sidebar: None,
            quit: false,
            credentials_unlocked: false,
            size: (80, 24),
            reload: Reload::default(),
            recent: VecDeque::new(),
            clock: Arc::new(SystemClock),
            offline: None,
        }
    }

    /// Stamps the message log with `clock` (tests pin it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.clock = clock;
        self
    }

    /// Starts signing in straight away (`--user` with `KC_CONSOLE_PASSWORD`).
    pub fn sign_in_now(&mut self, email: &str, password: Secret) -> Vec<Effect> {
        self.busy = Some("Verifying password…".into());
        vec![Effect::SignIn {
            email: email.into(),
            password,
            project: self.settings.default_project.clone(),
        }]
    }

    pub fn component(&self, screen: Screen) -> &dyn Component {
        self.screens[screen.index()].as_ref()
    }

    pub fn table(&self, screen: Screen) -> Option<&dyn TableNav> {
        self.component(screen).table()
    }

    pub fn ctx(&self) -> Option<Ctx<'_>> {
        Some(Ctx {
            session: self.session.as_ref()?,
            theme: &self.theme,
            keymap: &self.settings.keymap,
            dates: &self.settings.dates,
            focused: self.focus == Focus::Content,
            credentials_unlocked: self.credentials_unlocked,
            offline: self.offline.is_some(),
        })
    }

    /// Runs `f` on a screen's component with the shared context beside it.
    fn with<R>(&mut self, screen: Screen, f: impl FnOnce(&mut dyn Component, &Ctx) -> R) -> Option<R> {
        let session = self.session.as_ref()?;
        let ctx = Ctx {
            session,
            theme: &self.theme,
            keymap: &self.settings.keymap,
            dates: &self.settings.dates,
            focused: self.focus == Focus::Content,
            credentials_unlocked: self.credentials_unlocked,
            offline: self.offline.is_some(),
        };
        Some(f(self.screens[screen.index()].as_mut(), &ctx))
    }

    /// Records a message in the log and shows it as the current one.
    pub fn note(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        self.log_only(level, text.clone());
        self.flash = Some(Flash { text, kind: level });
    }

    fn log_only(&mut self, level: Level, text: String) {
        if self.log.len() == LOG_KEEP {
            self.log.pop_front();
        }
        self.log.push_back(LogEntry {
            at: self.clock.now(),
            level,
            text,
        });
    }

    // ───────────────────────────── update ─────────────────────────────

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = match msg {
            Msg::Watched { msg, .. } => return self.update(*msg),
            Msg::Key(key) => self.on_key(key),
            Msg::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Msg::Mouse(event) => self.on_mouse(event),
            Msg::Resize(width, height) => {
                self.size = (width, height);
                Vec::new()
            }
            Msg::Tick => {
                if self.busy.is_some() {
                    self.spinner = self.spinner.wrapping_add(1);
                }
                Vec::new()
            }
            Msg::SignedIn(result) => self.signed_in(result),
            Msg::Loaded { query, result } => {
                self.loaded(&query, result);
                Vec::new()
            }
            Msg::Reloaded(reloaded) => {
                let reloaded = *reloaded;
                self.reloaded(reloaded.session, reloaded.screen)
            }
            Msg::PasswordVerified(result) => self.password_verified(result),
            Msg::Done(result) => self.done(result),
            Msg::Copied(message) => {
                match &mut self.popup {
                    Some(Popup::Reveal(reveal)) => {
                        self.log.push_back(LogEntry {
                            at: self.clock.now(),
                            level: Level::Info,
                            text: message.clone(),
                        });
                        reveal.note = Some(message);
                    }
                    _ => self.note(Level::Info, message),
                }
                Vec::new()
            }
            Msg::Changed(change) => self.changed(change),
            Msg::Missed => {
                self.log_only(
                    Level::Warning,
                    "Some changes made elsewhere went by unseen; reloading what is shown.".to_string(),
                );
                self.request_reload()
            }
            Msg::Offline(why) => {
                if self.offline.is_none() {
                    self.note(
                        Level::Error,
                        format!("The server is out of reach ({why}); what is shown stays, read-only, until it is back."),
                    );
                }
                self.offline = Some(why);
                self.reload = Reload::default();
                Vec::new()
            }
            Msg::Online => {
                let was_offline = self.offline.take().is_some();
                if was_offline {
                    self.note(Level::Success, "The server is back; reloading what is shown.");
                }
                self.request_reload()
            }
        };
        self.sync_viewport();
        effects
    }

    fn signed_in(&mut self, result: Result<Session, String>) -> Vec<Effect> {
        self.busy = None;
        match result {
            Ok(session) => {
                self.signin = sign_in_form(&session.email);
                self.log_only(Level::Info, format!("Signed in as {}.", session.email));
                let watch = Effect::Watch {
                    auth: Arc::clone(&session.auth),
                };
                self.session = Some(session);
                let mut effects = self.goto(Screen::Dashboard);
                effects.push(watch);
                effects
            }
            Err(message) => {
                self.signin.clear("Password");
                self.signin.focus = 1;
                self.signin.error = Some(message);
                Vec::new()
            }
        }
    }

    fn loaded(&mut self, query: &Query, result: Result<Data, String>) {
        let screen = self.screen_for(query);
        self.with(screen, |c, ctx| c.loaded(query, result, ctx));
    }

    /// The screen a query's answer belongs to.
    fn screen_for(&self, query: &Query) -> Screen {
        match query {
            Query::Dashboard { .. } => Screen::Dashboard,
            Query::Projects => Screen::Projects,
            Query::Users => Screen::Users,
            Query::Members { .. } => Screen::Members,
            Query::ServiceAccounts { .. } => Screen::ServiceAccounts,
            Query::SaKeys { .. } => Screen::ServiceAccountDetail,
            Query::Agents { .. } => Screen::ServiceAgents,
            Query::Services { .. } => Screen::Services,
            Query::Payments => Screen::Payments,
            Query::Inquiries => Screen::HelpDesk,
            Query::Audit { .. } => Screen::Audit,
            Query::Credentials { .. } => Screen::Credentials,
        }
    }

    fn reloaded(
        &mut self,
        session: Result<Session, String>,
        screen: Option<(Query, Result<Data, String>)>,
    ) -> Vec<Effect> {
        self.reload.in_flight = false;
        let mut effects = Vec::new();
        match session {
            Ok(session) => {
                let before = self.session.as_ref().and_then(Session::project_id);
                let moved = before != session.project_id();
                self.session = Some(session);
                if moved {
                    // The screen's answer is about the old project: ask again.
                    self.forget_project();
                    effects.extend(self.load(self.screen));
                } else if let Some((query, result)) = screen {
                    self.loaded(&query, result);
                    self.explain_vanished_subject();
                }
            }
            Err(message) => self.note(Level::Error, message),
        }
        if self.reload.again {
            self.reload.again = false;
            effects.extend(self.request_reload());
        }
        effects
    }

    /// A dialog about a row that a change (by someone else) has removed: say so, rather than
    /// let its action fail obscurely.
    fn explain_vanished_subject(&mut self) {
        let Some(subject) = self.popup.as_ref().and_then(|p| p.subject()).cloned() else {
            return;
        };
        let table = self.component(self.screen).table();
        let gone = table.is_some_and(|t| t.error().is_none() && !t.loading() && !t.contains(&subject.key));
        if !gone {
            return;
        }
        let by = self
            .recent
            .iter()
            .rev()
            .find(|c| c.target.contains(&subject.key) || c.target.contains(&subject.label));
        let line = match by {
            Some(change) => {
                let verb = match change.action.rsplit('.').next().unwrap_or_default() {
                    "delete" => "deleted",
                    "remove" => "removed",
                    _ => "changed",
                };
                format!(
                    "{} was {verb} by {} while this dialog was open; nothing was done.",
                    shown(&subject.label),
                    shown(&change.actor)
                )
            }
            None => format!(
                "{} is no longer there (changed elsewhere) while this dialog was open; nothing was done.",
                shown(&subject.label)
            ),
        };
        self.log_only(Level::Warning, line.clone());
        self.popup = Some(Popup::Notice(Notice {
            title: "Changed elsewhere".into(),
            lines: vec![line],
        }));
    }

    fn password_verified(&mut self, result: Result<(), String>) -> Vec<Effect> {
        self.busy = None;
        match result {
            Ok(()) => {
                self.credentials_unlocked = true;
                self.popup = None;
                self.load(self.screen)
            }
            Err(message) => {
                if let Some(Popup::Form(form)) = &mut self.popup {
                    form.clear("Password");
                    form.error = Some(message.clone());
                }
                self.log_only(Level::Error, message);
                Vec::new()
            }
        }
    }

    fn done(&mut self, result: Result<Done, String>) -> Vec<Effect> {
        self.busy = None;
        match result {
            Ok(done) => {
                self.popup = done.reveal.map(|r| Popup::Reveal(Reveal::new(r)));
                self.note(Level::Success, done.message);
                if let Some(key) = done.select {
                    if let Some(table) = self.screens[self.screen.index()].table_mut() {
                        table.want(key);
                    }
                }
                self.request_reload()
            }
            Err(message) => {
                match &mut self.popup {
                    Some(Popup::Form(form)) => {
                        form.error = Some(message.clone());
                        self.log_only(Level::Error, message);
                    }
                    Some(Popup::TypedConfirm(dialog)) => {
                        dialog.why = Some(message.clone());
                        self.log_only(Level::Error, message);
                    }
                    _ => {
                        self.popup = None;
                        self.note(Level::Error, message);
                    }
                }
                Vec::new()
            }
        }
    }

    fn changed(&mut self, change: Change) -> Vec<Effect> {
        let mine = self.session.as_ref().is_some_and(|s| s.email == change.actor);
        let text = describe(&change);
        if mine {
            self.log_only(Level::Info, format!("Change: {text}"));
        } else if self.session.is_some() {
            // Shown briefly, without taking the place of an error the user has not read.
            let quiet = matches!(&self.flash, Some(f) if f.kind == Level::Error);
            self.log_only(Level::Info, format!("Changed elsewhere: {text}"));
            if !quiet {
                self.flash = Some(Flash {
                    text: format!(
                        "Changed elsewhere: {text} ({} for the message log)",
                        self.settings.keymap.press(Action::Messages)
                    ),
                    kind: Level::Info,
                });
            }
        }
        if self.recent.len() == RECENT_KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back(change);
        self.request_reload()
    }

    /// Reloads the session and the screen shown; while a reload is on its way, one more is
    /// asked for when it lands, so a burst of changes costs at most two reloads.
    fn request_reload(&mut self) -> Vec<Effect> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        if self.reload.in_flight {
            self.reload.again = true;
            return Vec::new();
        }
        if self.offline.is_some() {
            return Vec::new();
        }
        let auth = Arc::clone(&session.auth);
        let project = session.project_id();
        let screen = self.screen;
        let query = if self.component(screen).table().is_some()
            && self.with(screen, |c, ctx| c.unavailable(ctx)).flatten().is_none()
        {
            self.with(screen, |c, ctx| c.request(ctx)).flatten()
        } else {
            None
        };
        self.reload.in_flight = true;
        vec![Effect::Reload { auth, project, query }]
    }

    fn forget_project(&mut self) {
        for screen in Screen::ALL.iter().filter(|s| s.per_project()) {
            self.screens[screen.index()].forget();
        }
        if self.screen == Screen::ServiceAccountDetail {
            self.screen = Screen::ServiceAccounts;
        }
    }

    fn load(&mut self, screen: Screen) -> Vec<Effect> {
        let Some(auth) = self.session.as_ref().map(|s| Arc::clone(&s.auth)) else {
            return Vec::new();
        };
        if self.offline.is_some() {
            return Vec::new();
        }
        if self.with(screen, |c, ctx| c.unavailable(ctx)).flatten().is_some() {
            return Vec::new();
        }
        match self.with(screen, |c, ctx| c.request(ctx)).flatten() {
            Some(query) => vec![Effect::Load { auth, query }],
            None => Vec::new(),
        }
    }

    pub fn goto(&mut self, screen: Screen) -> Vec<Effect> {
        if screen != self.screen {
            self.history.push(self.screen);
        }
        self.screen = screen;
        self.menu_index = Screen::MENU
            .iter()
            .position(|s| *s == screen.menu_entry())
            .unwrap_or(0);
        self.focus = Focus::Content;
        self.input = Input::None;
        if self.with(screen, |c, ctx| c.unavailable(ctx)).flatten().is_some() {
            return Vec::new();
        }
        let reply = self
            .with(screen, |c, ctx| c.entered(ctx))
            .unwrap_or(Reply::Nothing);
        self.reply(reply)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::Nothing => Vec::new(),
            Reply::Popup(popup) => {
                self.popup = Some(popup);
                Vec::new()
            }
            Reply::Run(command) => self.run(command),
            Reply::Goto(screen) => self.goto(screen),
            Reply::Open(screen, subject) => {
                self.screens[screen.index()].open(&subject);
                self.goto(screen)
            }
            Reply::SwitchProject(id) => self.switch_project(&id),
            Reply::Copy { text, what } => vec![Effect::Copy { text, what }],
            Reply::Info(text) => {
                self.note(Level::Info, text);
                Vec::new()
            }
            Reply::Load => self.load(self.screen),
        }
    }

    /// True, having said why, when the server is out of reach and nothing that needs it may
    /// be done.
    fn refused_offline(&mut self) -> bool {
        let Some(why) = &self.offline else {
            return false;
        };
        let text =
            format!("Nothing was done: the server is out of reach ({why}); try again when it is back.");
        self.note(Level::Error, text);
        true
    }

    /// Whether the server being out of reach withholds `offer` (taken as `action`).
    fn offline_withholds(&self, offer: &screens::Offer, action: Action) -> bool {
        self.offline.is_some() && offer.needs_server_for(action)
    }

    fn run(&mut self, command: Command) -> Vec<Effect> {
        if self.refused_offline() {
            return Vec::new();
        }
        let Some(session) = &self.session else {
            return Vec::new();
        };
        self.busy = Some("Working…".into());
        vec![Effect::Run {
            auth: Arc::clone(&session.auth),
            command,
        }]
    }

    fn switch_project(&mut self, project_id: &str) -> Vec<Effect> {
        // What the other project's screens show would have to be loaded.
        if self.refused_offline() {
            return Vec::new();
        }
        let Some(session) = &mut self.session else {
            return Vec::new();
        };
        let Some(view) = session
            .projects
            .iter()
            .find(|v| v.project.id == project_id)
            .cloned()
        else {
            self.note(
                Level::Error,
                format!("No project {} that you may see.", shown(project_id)),
            );
            return Vec::new();
        };
        let name = format!(
            "{} ({})",
            shown(&view.project.nickname),
            shown(&view.project.name)
        );
        session.current = Some(view);
        self.popup = None;
        self.forget_project();
        self.note(Level::Info, format!("Current project: {name}"));
        // The screen stays; it shows the new project.
        let screen = self.screen;
        if self.with(screen, |c, ctx| c.unavailable(ctx)).flatten().is_some() {
            return Vec::new();
        }
        let reply = self
            .with(screen, |c, ctx| c.entered(ctx))
            .unwrap_or(Reply::Nothing);
        self.reply(reply)
    }

    fn sign_out(&mut self) -> Vec<Effect> {
        let Some(session) = self.session.take() else {
            return Vec::new();
        };
        let email = session.email;
        self.signin = sign_in_form(&email);
        self.screens = all_screens();
        self.screen = Screen::Dashboard;
        self.history.clear();
        self.popup = None;
        self.input = Input::None;
        self.credentials_unlocked = false;
        self.reload = Reload::default();
        // The next session watches the server afresh; offline, its sign-in says so.
        self.offline = None;
        self.note(
            Level::Info,
            format!("Signed out {email}. Sign in again, or as another user."),
        );
        vec![Effect::SignOut { auth: session.auth }]
    }

    // ───────────────────────────── keys ─────────────────────────────

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let keymap = &self.settings.keymap;
        if keymap.action(Layer::Always, &key) == Some(Action::Interrupt) {
            match &mut self.popup {
                Some(Popup::Reveal(reveal)) if !reveal.saved && !reveal.quit_asked => {
                    reveal.quit_asked = true
                }
                _ => self.quit = true,
            }
            return Vec::new();
        }
        if self.busy.is_some() {
            return Vec::new();
        }
        if self.session.is_none() {
            return self.on_signin_key(key);
        }
        if self.popup.is_some() {
            return self.on_popup_key(key);
        }
        if self.input != Input::None {
            return self.on_input_key(key);
        }
        let Some(action) = self.settings.keymap.action(Layer::Global, &key) else {
            return Vec::new();
        };
        self.flash = None;
        self.global_action(action)
    }

    fn on_signin_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Enter on the email field moves on to the password.
        if self.signin.focus == 0 && self.settings.keymap.action(Layer::Form, &key) == Some(Action::Submit) {
            self.signin.next();
            return Vec::new();
        }
        match self.signin.key(&key, &self.settings.keymap) {
            FormEvent::Cancel => self.quit = true,
            FormEvent::Submit(Request::SignIn { email, password }) => {
                return self.sign_in_now(&email, password)
            }
            FormEvent::Submit(_) | FormEvent::Nothing => {}
        }
        Vec::new()
    }

    fn on_popup_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(popup) = self.popup.as_mut() else {
            return Vec::new();
        };
        let outcome = popup.key(&key, &self.settings.keymap, self.session.as_ref());
        self.outcome(outcome)
    }

    fn outcome(&mut self, outcome: Outcome) -> Vec<Effect> {
        match outcome {
            Outcome::Stay => Vec::new(),
            Outcome::Close => {
                // Dropping a reveal popup drops its Secret, which zeroizes it.
                self.popup = None;
                Vec::new()
            }
            Outcome::Run(command) => self.run(command),
            Outcome::Submit(Request::Run(command)) => self.run(command),
            Outcome::Submit(Request::VerifyPassword(password)) => {
                let Some(session) = &self.session else {
                    return Vec::new();
                };
                self.busy = Some("Verifying password…".into());
                vec![Effect::VerifyPassword {
                    auth: Arc::clone(&session.auth),
                    password,
                }]
            }
            Outcome::Submit(Request::SignIn { email, password }) => self.sign_in_now(&email, password),
            Outcome::Copy { text, what } => vec![Effect::Copy { text, what }],
            Outcome::SwitchProject(id) => self.switch_project(&id),
            Outcome::Goto(screen) => {
                self.popup = None;
                self.goto(screen)
            }
            Outcome::SignOut => self.sign_out(),
            Outcome::Quit => {
                self.quit = true;
                Vec::new()
            }
        }
    }

    fn global_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.popup = Some(Popup::Viewer(Viewer::new(
                    ViewerKind::Help,
                    "Help",
                    self.help_entries(),
                )));
                Vec::new()
            }
            Action::Messages => {
                self.popup = Some(Popup::Viewer(self.log_viewer()));
                Vec::new()
            }
            Action::CommandLine => {
                self.input = Input::Command(self.command_line());
                Vec::new()
            }
            Action::Filter => {
                let current = self
                    .component(self.screen)
                    .table()
                    .map(|t| t.filter().to_string());
                match current {
                    Some(filter) => {
                        self.focus = Focus::Content;
                        self.input = Input::Filter(TextField::new(&filter));
                    }
                    None => self.note(Level::Info, "This screen has no table to filter."),
                }
                Vec::new()
            }
            Action::SwitchProject => {
                if !self.refused_offline() {
                    self.popup = Some(Popup::Switcher(Switcher::default()));
                }
                Vec::new()
            }
            Action::Sidebar => {
                self.sidebar = Some(!self.sidebar_shown());
                Vec::new()
            }
            Action::SignOut => self.sign_out(),
            Action::Profile => {
                self.popup = Some(Popup::Profile(ProfileMenu::default()));
                Vec::new()
            }
            Action::FocusMenu => {
                if self.sidebar_shown() {
                    self.focus = Focus::Menu;
                }
                Vec::new()
            }
            Action::FocusContent => {
                self.focus = Focus::Content;
                Vec::new()
            }
            Action::Back => self.back(),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
                self.navigate(action);
                Vec::new()
            }
            Action::SortNext | Action::SortReverse => {
                if let Some(table) = self.screens[self.screen.index()].table_mut() {
                    if action == Action::SortNext {
                        table.sort_next();
                    } else {
                        table.sort_reverse();
                    }
                }
                Vec::new()
            }
            Action::Open if self.focus == Focus::Menu => self.goto(Screen::MENU[self.menu_index]),
            other => self.screen_action(other),
        }
    }

    fn back(&mut self) -> Vec<Effect> {
        if let Some(table) = self.screens[self.screen.index()].table_mut() {
            if !table.filter().is_empty() {
                table.set_filter("");
                return Vec::new();
            }
        }
        match self.history.pop() {
            Some(previous) => {
                self.screen = previous;
                self.menu_index = Screen::MENU
                    .iter()
                    .position(|s| *s == previous.menu_entry())
                    .unwrap_or(0);
                self.load(previous)
            }
            None => Vec::new(),
        }
    }

    fn navigate(&mut self, action: Action) {
        if self.focus == Focus::Menu {
            let last = Screen::MENU.len() - 1;
            self.menu_index = match action {
                Action::Up => self.menu_index.saturating_sub(1),
                Action::Down => (self.menu_index + 1).min(last),
                Action::Top | Action::PageUp => 0,
                _ => last,
            };
            return;
        }
        if let Some(table) = self.screens[self.screen.index()].table_mut() {
            let page = table.viewport() as isize;
            match action {
                Action::Up => table.move_by(-1),
                Action::Down => table.move_by(1),
                Action::PageUp => table.move_by(-page),
                Action::PageDown => table.move_by(page),
                Action::Top => table.select(0),
                _ => table.select(usize::MAX),
            }
        }
    }

    /// What `action` means on the current screen for this user: its label when offered and
    /// permitted.
    pub fn offered(&self, action: Action) -> Option<&'static str> {
        let ctx = self.ctx()?;
        let offer = self.component(self.screen).offer(action, &ctx)?;
        (offer.refusal(ctx.session).is_none() && !self.offline_withholds(&offer, action))
            .then_some(offer.label)
    }

    fn screen_action(&mut self, action: Action) -> Vec<Effect> {
        if let Some(why) = self.with(self.screen, |c, ctx| c.unavailable(ctx)).flatten() {
            self.note(Level::Error, format!("Not available: {why}"));
            return Vec::new();
        }
        let Some(ctx) = self.ctx() else {
            return Vec::new();
        };
        let Some(offer) = self.component(self.screen).offer(action, &ctx) else {
            return Vec::new();
        };
        if let Some(why) = offer.refusal(ctx.session) {
            self.note(Level::Error, format!("Not available: {why}."));
            return Vec::new();
        }
        let has_row = self
            .component(self.screen)
            .table()
            .is_some_and(|t| t.selected_key().is_some());
        if offer.on_row && !has_row {
            self.note(Level::Info, "Nothing selected.");
            return Vec::new();
        }
        if self.offline_withholds(&offer, action) {
            self.refused_offline();
            return Vec::new();
        }
        if action == Action::Detail || (action == Action::Open && offer.label == "details") {
            let popup = self.component(self.screen).detail(&ctx);
            self.popup = popup;
            return Vec::new();
        }
        let reply = self
            .with(self.screen, |c, ctx| c.act(action, ctx))
            .unwrap_or(Reply::Nothing);
        self.reply(reply)
    }

    fn on_input_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let form_action = self.settings.keymap.action(Layer::Form, &key);
        match &mut self.input {
            Input::None => Vec::new(),
            Input::Filter(field) => {
                match form_action {
                    Some(Action::Cancel) => {
                        field.clear();
                        let screen = self.screen;
                        if let Some(table) = self.screens[screen.index()].table_mut() {
                            table.set_filter("");
                        }
                        self.input = Input::None;
                    }
                    Some(Action::Submit) => self.input = Input::None,
                    _ => {
                        if field.edit(&key) {
                            let filter = field.value().to_string();
                            if let Some(table) = self.screens[self.screen.index()].table_mut() {
                                table.set_filter(&filter);
                            }
                        }
                    }
                }
                Vec::new()
            }
            Input::Command(line) => {
                match form_action {
                    Some(Action::Cancel) => self.input = Input::None,
                    Some(Action::Submit) => {
                        let typed = line.field.value().trim().to_string();
                        let chosen = (line.completing || !is_command(&typed))
                            .then(|| {
                                line.matches
                                    .get(line.selected)
                                    .map(|&i| line.entries[i].text.trim().to_string())
                            })
                            .flatten();
                        self.input = Input::None;
                        return self.run_command_line(chosen.as_deref().unwrap_or(&typed));
                    }
                    Some(Action::NextField) | Some(Action::PrevField) => {
                        if !line.matches.is_empty() {
                            let n = line.matches.len();
                            // An entry that is what is typed already completes nothing: skip it.
                            let typed = line.field.value().trim().to_string();
                            let same = line.entries[line.matches[line.selected]].text.trim() == typed;
                            if line.completing || (same && n > 1) {
                                line.selected = if form_action == Some(Action::NextField) {
                                    (line.selected + 1) % n
                                } else {
                                    (line.selected + n - 1) % n
                                };
                            }
                            line.completing = true;
                            let text = line.entries[line.matches[line.selected]].text.clone();
                            line.field.set(&text);
                        }
                    }
                    _ => {
                        if line.field.edit(&key) {
                            line.completing = false;
                            line.selected = 0;
                            line.matches = palette_matches(&line.entries, line.field.value());
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        if self.session.is_none() {
            self.signin.paste(text);
            return;
        }
        if let Some(popup) = &mut self.popup {
            popup.paste(text);
            return;
        }
        match &mut self.input {
            Input::Filter(field) => {
                field.paste(text);
                let filter = field.value().to_string();
                if let Some(table) = self.screens[self.screen.index()].table_mut() {
                    table.set_filter(&filter);
                }
            }
            Input::Command(line) => {
                line.field.paste(text);
                line.selected = 0;
                line.completing = false;
                line.matches = palette_matches(&line.entries, line.field.value());
            }
            Input::None => {}
        }
    }

    // ───────────────────────────── command line ─────────────────────────────

    /// Every command and screen, and `project NAME` for each project this user may see.
    fn command_line(&self) -> CommandLine {
        let mut entries: Vec<PaletteEntry> = Screen::MENU
            .iter()
            .map(|s| PaletteEntry {
                text: s.command().to_string(),
                description: s.breadcrumb(),
            })
            .collect();
        entries.push(PaletteEntry {
            text: "project ".into(),
            description: format!(
                "{}: {PROJECT_COMMAND}",
                self.settings.keymap.description(Action::SwitchProject)
            ),
        });
        entries.extend(COMMANDS.iter().map(|c| PaletteEntry {
            text: c.name.to_string(),
            description: self.settings.keymap.description(c.action).to_string(),
        }));
        if let Some(session) = &self.session {
            entries.extend(session.projects.iter().map(|v| PaletteEntry {
                text: format!("project {}", v.project.name),
                description: format!("switch to {}", shown(&v.project.nickname)),
            }));
        }
        let matches = palette_matches(&entries, "");
        CommandLine {
            field: TextField::default(),
            entries,
            matches,
            selected: 0,
            completing: false,
        }
    }

    fn run_command_line(&mut self, line: &str) -> Vec<Effect> {
        if let Some(command) = find_command(line) {
            return self.global_action(command.action);
        }
        if let Some(name) = line.strip_prefix("project ") {
            let name = name.trim();
            let found = self.session.as_ref().and_then(|s| {
                s.projects
                    .iter()
                    .find(|v| v.project.name == name || v.project.id == name)
                    .map(|v| v.project.id.clone())
            });
            return match found {
                Some(id) => self.switch_project(&id),
                None => {
                    self.note(
                        Level::Error,
                        format!("No project named {:?} that you may see.", shown(name)),
                    );
                    Vec::new()
                }
            };
        }
        match Screen::MENU.iter().find(|s| s.command() == line) {
            Some(screen) => self.goto(*screen),
            None => {
                self.note(
                    Level::Error,
                    format!(
                        "Unknown command :{} — try :projects, :sa, :audit or :project NAME (Tab completes)",
                        shown(line)
                    ),
                );
                Vec::new()
            }
        }
    }

    // ───────────────────────────── mouse ─────────────────────────────

    fn on_mouse(&mut self, event: MouseEvent) -> Vec<Effect> {
        if !self.settings.mouse || self.busy.is_some() || self.session.is_none() {
            return Vec::new();
        }
        let frame = Rect::new(0, 0, self.size.0, self.size.1);
        // None when only the "too small" notice is drawn: nothing there can be clicked.
        let Some(areas) = self.areas(frame) else {
            return Vec::new();
        };
        let (x, y) = (event.column, event.row);
        let wheel = match event.kind {
            MouseEventKind::ScrollDown => Some(WHEEL_STEP),
            MouseEventKind::ScrollUp => Some(-WHEEL_STEP),
            _ => None,
        };
        if let (Some(Popup::Profile(menu)), MouseEventKind::Down(MouseButton::Left)) =
            (&self.popup, event.kind)
        {
            let email = self
                .session
                .as_ref()
                .map(|s| s.email.as_str())
                .unwrap_or_default();
            let outcome = match ProfileMenu::hit(frame, email, &self.settings.keymap, x, y) {
                Some(entry) => menu.choose(entry),
                None => Outcome::Close,
            };
            return self.outcome(outcome);
        }
        if let Some(popup) = &mut self.popup {
            if let (Some(step), Popup::Viewer(viewer)) = (wheel, popup) {
                viewer.scroll = (viewer.scroll as isize + step).max(0) as usize;
            }
            return Vec::new();
        }
        if self.input != Input::None {
            return Vec::new();
        }
        let inside = |r: Rect| x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
        if let Some(step) = wheel {
            if inside(areas.body) {
                if let Some(table) = self.screens[self.screen.index()].table_mut() {
                    table.move_by(step);
                }
            }
            return Vec::new();
        }
        if event.kind != MouseEventKind::Down(MouseButton::Left) {
            return Vec::new();
        }
        self.flash = None;
        if y == areas.header.y && x >= areas.header.right().saturating_sub(self.header_user_width()) {
            self.popup = Some(Popup::Profile(ProfileMenu::default()));
            return Vec::new();
        }
        if let Some(menu) = areas.menu.filter(|m| inside(*m)) {
            let row = (y - menu.y) as usize;
            if let Some(Some(screen)) = self.menu_rows(menu.height as usize).get(row).copied() {
                return self.goto(screen);
            }
            return Vec::new();
        }
        if inside(areas.context) {
            let line = (y - areas.context.y) as usize;
            let column = x - areas.context.x;
            let reply = self
                .with(self.screen, |c, ctx| c.context_click(line, column, ctx))
                .unwrap_or(Reply::Nothing);
            return self.reply(reply);
        }
        if inside(areas.body) {
            self.focus = Focus::Content;
            if let Some(table) = self.screens[self.screen.index()].table_mut() {
                match table::hit(&*table, areas.body, x, y) {
                    Hit::Row(position) => table.select(position),
                    Hit::Header(column) => table.sort_by(column),
                    Hit::Nothing => {}
                }
            }
        }
        Vec::new()
    }

    // ───────────────────────────── layout ─────────────────────────────

    /// Where the user is: the screen's place in the menu, and what a detail page is about.
    pub fn breadcrumb(&self) -> String {
        match self.component(self.screen).subject_crumb() {
            Some(subject) => format!("{} › {}", self.screen.breadcrumb(), shown(&subject)),
            None => self.screen.breadcrumb(),
        }
    }

    /// The signed-in user at the header's right end; a click there (or `u`) opens the profile
    /// menu, as the console's upper right corner does.
    pub fn header_user(&self) -> String {
        // At most half the width; a long e-mail is cut, the ▾ stays.
        let room = (self.size.0 as usize / 2).saturating_sub(3);
        self.session
            .as_ref()
            .map(|s| format!("{} ▾ ", fit(&shown(&s.email), room)))
            .unwrap_or_default()
    }

    /// The columns the header gives the user: at most half the width (see `header_user`).
    pub fn header_user_width(&self) -> u16 {
        width(&self.header_user()) as u16
    }

    pub fn sidebar_shown(&self) -> bool {
        self.sidebar.unwrap_or(match self.settings.sidebar {
            Sidebar::Show => true,
            Sidebar::Hide => false,
            Sidebar::Auto => self.size.0 >= Sidebar::AUTO_WIDTH,
        })
    }

    /// The status line's rows: the current message wraps onto a second row when it needs to.
    pub fn status_rows(&self, width: u16) -> Vec<String> {
        let width = width as usize;
        match (&self.input, &self.busy, &self.flash) {
            (Input::None, None, Some(flash)) => {
                let mut rows = wrap(&format!(" {}", shown(&flash.text)), width);
                if rows.len() > 2 {
                    let marker = format!(
                        " … ({} for all of it)",
                        self.settings.keymap.press(Action::Messages)
                    );
                    let keep = width.saturating_sub(super::widgets::text::width(&marker));
                    rows.truncate(2);
                    rows[1] = format!(
                        "{}{marker}",
                        super::widgets::text::fit(&rows[1], keep).trim_end_matches('…')
                    );
                }
                rows
            }
            _ => vec![String::new()],
        }
    }

    /// The frame's parts for `area`; `None` when the area is below the minimum size.
    pub fn areas(&self, area: Rect) -> Option<Areas> {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT || self.session.is_none() {
            return None;
        }
        let status_height = self.status_rows(area.width).len() as u16;
        let footer_height = self.footer_height(area.width) as u16;
        let [header, main, status, footer] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(1),
            Constraint::Length(status_height),
            Constraint::Length(footer_height),
        ])
        .areas(area);
        let (menu, content) = if self.sidebar_shown() {
            let [menu, content] =
                Layout::horizontal([Constraint::Length(MENU_WIDTH), Constraint::Min(1)]).areas(main);
            (Some(menu), content)
        } else {
            (None, main)
        };
        let context_lines = self
            .ctx()
            .map(|ctx| self.component(self.screen).context(&ctx).len())
            .unwrap_or(0) as u16;
        let [crumb, context, body] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(context_lines),
            Constraint::Min(1),
        ])
        .areas(content);
        // The menu's border takes its right column.
        let menu = menu.map(|m| Rect {
            width: m.width.saturating_sub(1),
            ..m
        });
        Some(Areas {
            header,
            menu,
            crumb,
            context,
            body,
            status,
            footer,
        })
    }

    /// The menu's rows for `height` rows: a screen, or a group heading (`None`). Headings are
    /// left out when the menu would not fit with them.
    pub fn menu_rows(&self, height: usize) -> Vec<Option<Screen>> {
        let groups = Screen::MENU
            .iter()
            .filter_map(|s| s.group())
            .collect::<std::collections::BTreeSet<_>>();
        let headings = height >= Screen::MENU.len() + groups.len();
        let mut rows = Vec::new();
        let mut group = None;
        for screen in Screen::MENU {
            if screen.group() != group {
                group = screen.group();
                if group.is_some() && headings {
                    rows.push(None);
                }
            }
            rows.push(Some(screen));
        }
        rows
    }

    /// Keeps the current table's viewport the height its area has.
    fn sync_viewport(&mut self) {
        let Some(areas) = self.areas(Rect::new(0, 0, self.size.0, self.size.1)) else {
            return;
        };
        let rows = areas.body.height.saturating_sub(1) as usize;
        if let Some(table) = self.screens[self.screen.index()].table_mut() {
            table.set_viewport(rows);
        }
    }

    // ───────────────────────────── help and log ─────────────────────────────

    pub fn log_viewer(&self) -> Viewer {
        let entries = if self.log.is_empty() {
            vec![Entry {
                lines: vec![("No messages yet.".into(), self.theme.dim)],
            }]
        } else {
            self.log
                .iter()
                .rev()
                .map(|e| {
                    let style = match e.level {
                        Level::Error => self.theme.error,
                        Level::Warning => self.theme.warning,
                        Level::Success => self.theme.success,
                        Level::Info => self.theme.base,
                    };
                    let at = e.at.with_timezone(&Local).format("%H:%M:%S");
                    Entry {
                        lines: vec![(format!("{at} {:<5} {}", e.level.label(), e.text), style)],
                    }
                })
                .collect()
        };
        Viewer::new(ViewerKind::Log, "Message log (newest first)", entries)
    }

    /// The help: every key of the current screen and the popups, from the keymap; the text
    /// field keys; the commands; and the permission matrix.
    pub fn help_entries(&self) -> Vec<Entry> {
        let theme = &self.theme;
        let heading = |s: String| Entry {
            lines: vec![(s, theme.accent)],
        };
        let line = |s: String, style| Entry {
            lines: vec![(s, style)],
        };
        let keymap = &self.settings.keymap;
        let mut out = vec![heading(format!("Keys on {}", self.breadcrumb()))];
        let ctx = self.ctx();
        for layer in [
            Layer::Always,
            Layer::Global,
            Layer::Form,
            Layer::Confirm,
            Layer::Reveal,
            Layer::Viewer,
        ] {
            if layer != Layer::Always && layer != Layer::Global {
                out.push(line(String::new(), theme.base));
                out.push(heading(layer.title().to_string()));
            }
            for bound in keymap.bound().iter().filter(|b| b.layer == layer) {
                let keys = keymap.keys(bound.action);
                let offer = ctx
                    .as_ref()
                    .and_then(|c| self.component(self.screen).offer(bound.action, c).map(|o| (o, c)));
                let screen_specific = matches!(
                    bound.action,
                    Action::Open
                        | Action::NextTab
                        | Action::PrevTab
                        | Action::Create
                        | Action::Edit
                        | Action::Settings
                        | Action::Delete
                        | Action::Mark
                        | Action::Copy
                        | Action::Detail
                );
                let text = match (screen_specific, offer) {
                    (false, _) => format!("  {keys:<14} {}", bound.description),
                    (true, None) => continue,
                    (true, Some((offer, ctx))) => match offer.needs.filter(|p| !ctx.session.permits(*p)) {
                        None => format!("  {keys:<14} {}", offer.label),
                        Some(p) => format!(
                            "  {keys:<14} {} — not available to you: requires {}",
                            offer.label,
                            who_may(p)
                        ),
                    },
                };
                out.push(line(text, theme.base));
            }
        }
        out.push(line(String::new(), theme.base));
        out.push(heading(
            "Text fields (forms, the : line, filters, typed phrases)".into(),
        ));
        for (keys, what) in TEXT_KEYS {
            out.push(line(format!("  {keys:<22} {what}"), theme.base));
        }
        out.push(line(String::new(), theme.base));
        out.push(heading(
            "Commands (: then Tab completes; the palette is fuzzy)".into(),
        ));
        for s in Screen::MENU {
            out.push(line(
                format!("  :{:<14} {}", s.command(), s.breadcrumb()),
                theme.base,
            ));
        }
        let what = self.settings.keymap.description(Action::SwitchProject);
        out.push(line(format!("  :{PROJECT_COMMAND:<14} {what}"), theme.base));
        for c in COMMANDS {
            let what = self.settings.keymap.description(c.action);
            out.push(line(format!("  :{:<14} {what}", c.name), theme.base));
        }
        out.push(line(String::new(), theme.base));
        out.push(heading("Who may do what".into()));
        out.push(line(format!("  {:<58} OA OR PA PM PR", "action"), theme.dim));
        for row in MATRIX {
            let mark = |b: bool| if b { "✓ " } else { "· " };
            out.push(line(
                format!(
                    "  {:<58} {} {} {} {} {}",
                    row.action,
                    mark(row.org_admin),
                    mark(row.org_reader),
                    mark(row.project_admin),
                    mark(row.project_member),
                    mark(row.project_reader)
                ),
                theme.base,
            ));
        }
        out.push(line(
            "  OA Org Admin · OR Org Reader · PA Project Admin · PM Project Member · PR Project Reader"
                .into(),
            theme.dim,
        ));
        out.push(line(format!("  {}", screens::RESTRICTED_2024), theme.dim));
        out
    }

    /// How many rows the footer takes at `columns`: one, or two when the screen's own actions
    /// do not fit on one. Counted as if a row were selected and every row checked, so filtering,
    /// checking rows or opening a popup never moves the screen.
    pub fn footer_height(&self, columns: u16) -> usize {
        let (offered, globals) = self.screen_hints(Steady::Yes);
        pack_hints(offered, globals, columns).len()
    }

    /// The footer's hints as drawn, in rows of `columns` columns (see [`pack_hints`]); none
    /// while a popup or a line of input has the keys.
    pub fn footer_rows(&self, columns: u16) -> Vec<Vec<Hint>> {
        if self.popup.is_some() || self.input != Input::None {
            return Vec::new();
        }
        let (offered, globals) = self.screen_hints(Steady::No);
        pack_hints(offered, globals, columns)
    }

    /// Help, quit and the current screen's offered actions (with the seeds' button names); then
    /// the global keys any screen has.
    fn screen_hints(&self, steady: Steady) -> (Vec<Hint>, Vec<Hint>) {
        let mut hints = Vec::new();
        let keymap = &self.settings.keymap;
        let global = |action: Action| (keymap.key(action), super::keymap::hint(action).to_string());
        // Help and quit come first so the narrowest footer still shows them.
        hints.push(global(Action::Help));
        hints.push(global(Action::Quit));
        if !self.sidebar_shown() {
            hints.push((keymap.key(Action::Sidebar), "menu".into()));
        }
        let has_row = steady == Steady::Yes
            || self
                .component(self.screen)
                .table()
                .is_some_and(|t| t.selected_key().is_some());
        let available = self.unavailable_reason().is_none();
        if let (Some(ctx), true) = (self.ctx(), available) {
            for action in [
                Action::Open,
                Action::NextTab,
                Action::Create,
                Action::Edit,
                Action::Settings,
                Action::Mark,
                Action::Delete,
                Action::Copy,
            ] {
                let Some(offer) = self.component(self.screen).offer(action, &ctx) else {
                    continue;
                };
                if (offer.on_row && !has_row)
                    || offer.refusal(ctx.session).is_some()
                    || self.offline_withholds(&offer, action)
                {
                    continue;
                }
                let table = self.component(self.screen).table();
                let marked = match steady {
                    // Every row, the most that can be checked.
                    Steady::Yes => table.map_or(0, |t| t.len()),
                    Steady::No => table.map_or(0, |t| t.marked()),
                };
                let label = match action {
                    Action::Mark if marked > 0 => format!("{} ({marked} checked)", offer.label),
                    _ => offer.label.to_string(),
                };
                hints.push((keymap.key(action), label));
            }
        }
        let mut globals = Vec::new();
        for action in [
            Action::Filter,
            Action::CommandLine,
            Action::SwitchProject,
            Action::Messages,
        ] {
            if action == Action::SwitchProject && self.offline.is_some() {
                continue;
            }
            globals.push(global(action));
        }
        // An action whose key the config file gave away has no hint.
        hints.retain(|(key, _)| !key.is_empty());
        globals.retain(|(key, _)| !key.is_empty());
        (hints, globals)
    }

    /// Why the current screen is not available to this user, if it is not.
    pub fn unavailable_reason(&self) -> Option<String> {
        let ctx = self.ctx()?;
        self.component(self.screen).unavailable(&ctx)
    }

    /// The actions of the current screen this user is not offered, grouped by who may: for
    /// the line under the breadcrumb, where a user looks for the missing button.
    pub fn withheld(&self) -> Option<String> {
        let ctx = self.ctx()?;
        let mut by_role: Vec<(String, Vec<&'static str>)> = Vec::new();
        for action in [
            Action::Create,
            Action::Edit,
            Action::Settings,
            Action::Delete,
            Action::Open,
        ] {
            let Some(offer) = self.component(self.screen).offer(action, &ctx) else {
                continue;
            };
            let Some(p) = offer.needs.filter(|p| !ctx.session.permits(*p)) else {
                continue;
            };
            let who = who_may(p);
            match by_role.iter_mut().find(|(w, _)| *w == who) {
                Some((_, labels)) => labels.push(offer.label),
                None => by_role.push((who, vec![offer.label])),
            }
        }
        if by_role.is_empty() {
            return None;
        }
        let parts: Vec<String> = by_role
            .into_iter()
            .map(|(who, labels)| format!("{} need {who}", labels.join(", ")))
            .collect();
        Some(format!("read-only for you: {}", parts.join("; ")))
    }

    pub fn command_line_open(&self) -> Option<&CommandLine> {
        match &self.input {
            Input::Command(line) => Some(line),
            _ => None,
        }
    }
}

fn is_command(line: &str) -> bool {
    find_command(line).is_some()
        || line.starts_with("project ")
        || Screen::MENU.iter().any(|s| s.command() == line)
}

/// The palette entries that match `typed`, best first: fuzzy (nucleo, as helix and television
/// use), with entries that start with the typed text first and shorter ones before longer.
pub fn palette_matches(entries: &[PaletteEntry], typed: &str) -> Vec<usize> {
    let typed = typed.trim_start();
    if typed.trim().is_empty() {
        return (0..entries.len())
            .filter(|&i| !entries[i].text.starts_with("project ") || entries[i].text == "project ")
            .collect();
    }
    let mut matcher = Matcher::new(MatcherConfig::DEFAULT);
    let pattern = Pattern::parse(typed, CaseMatching::Ignore, Normalization::Smart);
    let mut buffer = Vec::new();
    let mut scored: Vec<(usize, u32)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            pattern
                .score(Utf32Str::new(&e.text, &mut buffer), &mut matcher)
                .map(|score| (i, score))
        })
        .collect();
    scored.sort_by_key(|&(i, score)| {
        (
            !entries[i].text.starts_with(typed),
            std::cmp::Reverse(score),
            entries[i].text.len(),
            i,
        )
    });
    scored.into_iter().map(|(i, _)| i).collect()
}
