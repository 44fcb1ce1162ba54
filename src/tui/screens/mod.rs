//! The console's menus, one file each. A screen owns its state (its table of model rows), its
//! keys (what each action means there, and the permission it needs), its forms and dialogs, and
//! its drawing; the app routes messages to it and draws the frame around it.

pub mod agents;
pub mod audit;
pub mod credentials;
pub mod dashboard;
pub mod helpdesk;
pub mod members;
pub mod payments;
pub mod projects;
pub mod sa_detail;
pub mod service_accounts;
pub mod services;
pub mod users;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::config::Dates;
use super::keymap::{Action, Keymap};
use super::msg::{Command, Data, Query, Session};
use super::popups::{Entry, Popup, Viewer, ViewerKind};
use super::theme::Theme;
use super::widgets::form::Subject;
use super::widgets::table::{self, TableNav};
use super::widgets::text::shown;
use crate::console::access::{who_may, Permission};

/// The seed's notice about the roles that lost the service-account views.
pub const RESTRICTED_2024: &str =
    "As of November 15, 2024, permissions for Project Member and Project Reader roles have been partially restricted.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Projects,
    Users,
    Members,
    ServiceAccounts,
    ServiceAgents,
    Services,
    Payments,
    HelpDesk,
    Audit,
    /// Profile › Credentials (IAM and S3 access key tabs).
    Credentials,
    /// A service account's detail page: its IAM access keys.
    ServiceAccountDetail,
}

impl Screen {
    /// The left menu, in the console's order.
    pub const MENU: [Screen; 11] = [
        Screen::Dashboard,
        Screen::Projects,
        Screen::Users,
        Screen::Members,
        Screen::ServiceAccounts,
        Screen::ServiceAgents,
        Screen::Services,
        Screen::Payments,
        Screen::HelpDesk,
        Screen::Audit,
        Screen::Credentials,
    ];

    pub const ALL: [Screen; 12] = [
        Screen::Dashboard,
        Screen::Projects,
        Screen::Users,
        Screen::Members,
        Screen::ServiceAccounts,
        Screen::ServiceAgents,
        Screen::Services,
        Screen::Payments,
        Screen::HelpDesk,
        Screen::Audit,
        Screen::Credentials,
        Screen::ServiceAccountDetail,
    ];

    pub fn index(self) -> usize {
        Screen::ALL
            .iter()
            .position(|s| *s == self)
            .expect("every screen is in ALL")
    }

    /// The menu entry that is lit while this screen is shown.
    pub fn menu_entry(self) -> Screen {
        match self {
            Screen::ServiceAccountDetail => Screen::ServiceAccounts,
            other => other,
        }
    }

    /// The menu group heading the screen sits under, if any.
    pub fn group(self) -> Option<&'static str> {
        match self {
            // The guides' path: KakaoCloud Console > Management > IAM.
            Screen::Projects | Screen::Users => Some("Management › IAM"),
            Screen::Members
            | Screen::ServiceAccounts
            | Screen::ServiceAgents
            | Screen::ServiceAccountDetail => Some("Project Management"),
            Screen::Credentials => Some("Profile"),
            Screen::Payments => Some("Billing"),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Projects => "Projects",
            Screen::Users => "Users",
            Screen::Members => "Members",
            Screen::ServiceAccounts => "Service Account",
            Screen::ServiceAgents => "Service Agent",
            Screen::Services => "Services",
            Screen::Payments => "Payment methods",
            Screen::HelpDesk => "Help Desk",
            Screen::Audit => "Audit log",
            Screen::Credentials => "Credentials",
            Screen::ServiceAccountDetail => "Service Account",
        }
    }

    pub fn breadcrumb(self) -> String {
        match self.group() {
            Some(g) => format!("{g} › {}", self.title()),
            None => self.title().to_string(),
        }
    }

    /// The `:` command that opens the screen.
    pub fn command(self) -> &'static str {
        match self {
            Screen::Dashboard => "dashboard",
            Screen::Projects => "projects",
            Screen::Users => "users",
            Screen::Members => "members",
            Screen::ServiceAccounts | Screen::ServiceAccountDetail => "sa",
            Screen::ServiceAgents => "agents",
            Screen::Services => "services",
            Screen::Payments => "payment",
            Screen::HelpDesk => "helpdesk",
            Screen::Audit => "audit",
            Screen::Credentials => "credentials",
        }
    }

    /// Whether the screen is about the current project (and so reloads when it changes).
    pub fn per_project(self) -> bool {
        matches!(
            self,
            Screen::Dashboard
                | Screen::Members
                | Screen::ServiceAccounts
                | Screen::ServiceAccountDetail
                | Screen::ServiceAgents
                | Screen::Services
        )
    }
}

/// What a screen reads from the rest of the app.
pub struct Ctx<'a> {
    pub session: &'a Session,
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub dates: &'a Dates,
    /// The screen has the focus (not the menu).
    pub focused: bool,
    pub credentials_unlocked: bool,
    /// The server is out of reach: what is shown stays, read-only.
    pub offline: bool,
}

impl Ctx<'_> {
    pub fn project_id(&self) -> Option<String> {
        self.session.project_id()
    }

    /// "Project: 웹 쇼핑몰 (web-shop) (auto-filled)", the seed's Project Name (Nickname) order
    /// being the service-account form's own concern.
    pub fn project_line(&self) -> String {
        match &self.session.current {
            Some(c) => format!(
                "Project: {} ({}) (auto-filled)",
                shown(&c.project.nickname),
                shown(&c.project.name)
            ),
            None => "Project: none".into(),
        }
    }
}

/// What an action means on a screen: the hint's label, the permission it needs, and whether it
/// acts on the selected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub label: &'static str,
    pub needs: Option<Permission>,
    pub on_row: bool,
    /// It needs the server (a change, or a password check), though its key is not one that
    /// always changes something (create, edit, settings, delete): not offered while offline.
    pub needs_server: bool,
}

pub const fn offer(label: &'static str) -> Offer {
    Offer {
        label,
        needs: None,
        on_row: false,
        needs_server: false,
    }
}

impl Offer {
    pub const fn needs_server(mut self) -> Offer {
        self.needs_server = true;
        self
    }

    /// Whether taking it as `action` needs the server (which a console may have lost).
    pub fn needs_server_for(&self, action: Action) -> bool {
        self.needs_server
            || matches!(
                action,
                Action::Create | Action::Edit | Action::Settings | Action::Delete
            )
    }

    pub const fn needs(mut self, permission: Permission) -> Offer {
        self.needs = Some(permission);
        self
    }

    pub const fn on_row(mut self) -> Offer {
        self.on_row = true;
        self
    }

    /// Why this user may not: "creating a service account needs Project Admin".
    pub fn refusal(&self, session: &Session) -> Option<String> {
        let p = self.needs?;
        (!session.permits(p)).then(|| format!("{} requires {}", self.label, who_may(p)))
    }
}

/// What a screen asks the app to do. A short-lived return value, never stored, so its size
/// (a popup is the largest variant) costs nothing worth a box.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Reply {
    Nothing,
    Popup(Popup),
    Run(Command),
    Goto(Screen),
    /// Show a screen about one thing (a service account's page).
    Open(Screen, String),
    SwitchProject(String),
    Copy {
        text: String,
        what: String,
    },
    Info(String),
    /// Load this screen's rows (again).
    Load,
}

pub trait Component {
    fn screen(&self) -> Screen;

    /// Why this user cannot use the screen at all, shown in place of its table; `None` when
    /// they can. The model decides anyway: this only avoids offering what it would refuse.
    fn unavailable(&self, _ctx: &Ctx) -> Option<String> {
        None
    }

    /// The screen was shown: load it, or first ask for something (Credentials' password).
    fn entered(&mut self, _ctx: &Ctx) -> Reply {
        Reply::Load
    }

    /// The query that loads the screen now; remembered, so answers to older ones are dropped.
    fn request(&mut self, ctx: &Ctx) -> Option<Query>;

    /// An answer to `query`; false when it was not this screen's current query.
    fn loaded(&mut self, query: &Query, result: Result<Data, String>, ctx: &Ctx) -> bool;

    /// What `action` means here; `None`: the screen does not offer it.
    fn offer(&self, action: Action, ctx: &Ctx) -> Option<Offer>;

    /// Carries out an offered, permitted action.
    fn act(&mut self, action: Action, ctx: &Ctx) -> Reply;

    fn table(&self) -> Option<&dyn TableNav>;
    fn table_mut(&mut self) -> Option<&mut dyn TableNav>;

    /// Every field of the selected row, in full.
    fn detail(&self, ctx: &Ctx) -> Option<Popup>;

    /// What a detail page is about, ending its breadcrumb (a service account's name).
    fn subject_crumb(&self) -> Option<String> {
        None
    }

    /// Lines between the breadcrumb and the table (tabs, the subject of a detail page).
    fn context(&self, _ctx: &Ctx) -> Vec<Line<'static>> {
        Vec::new()
    }

    /// A click on context line `line` at column `x` (a tab).
    fn context_click(&mut self, _line: usize, _x: u16, _ctx: &Ctx) -> Reply {
        Reply::Nothing
    }

    /// Shows the screen about one thing (see `Reply::Open`).
    fn open(&mut self, _subject: &str) {}

    /// The project changed: what was loaded is about another project.
    fn forget(&mut self) {}

    /// The text shown in place of the table when it has no rows.
    fn empty(&self) -> &'static str {
        "(none yet)"
    }

    /// Draws the screen's body below its breadcrumb and context lines.
    fn draw(&self, ctx: &Ctx, frame: &mut Frame, area: Rect) {
        if let Some(table) = self.table() {
            draw_table(ctx, table, self.empty(), frame, area);
        }
    }
}

/// The default body: the table, or what stands in its place.
pub fn draw_table(ctx: &Ctx, table: &dyn TableNav, empty: &str, frame: &mut Frame, area: Rect) {
    use ratatui::text::Span;
    use ratatui::widgets::{Paragraph, Wrap};
    if let Some(error) = table.error() {
        let text = vec![
            Line::from(""),
            Line::from(Span::styled(format!(" {}", shown(error)), ctx.theme.error)),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
        return;
    }
    if table.loading() && table.is_empty() {
        let text = if ctx.offline {
            " Not loaded: the server is out of reach."
        } else {
            " Loading…"
        };
        frame.render_widget(Paragraph::new(Span::styled(text, ctx.theme.dim)), area);
        return;
    }
    let empty = if table.filter().is_empty() {
        empty
    } else {
        "(no rows match the filter)"
    };
    table::draw(table, ctx.theme, ctx.focused, empty, frame, area);
}

pub fn date(dates: &Dates, at: &DateTime<Utc>) -> String {
    dates.show(at)
}

/// A row's details as a viewer: each field's label, then its value in full.
pub fn detail(ctx: &Ctx, title: &str, subject: Option<Subject>, fields: Vec<(&str, String)>) -> Popup {
    let entries = fields
        .into_iter()
        .map(|(label, value)| Entry {
            lines: vec![
                (label.to_string(), ctx.theme.dim),
                (
                    format!("  {}", shown(if value.is_empty() { "-" } else { &value })),
                    ctx.theme.base,
                ),
            ],
        })
        .collect();
    let mut viewer = Viewer::new(ViewerKind::Detail, title, entries);
    viewer.subject = subject;
    Popup::Viewer(viewer)
}

pub fn nothing_selected() -> Reply {
    Reply::Info("Nothing selected.".into())
}

/// The subject of a dialog about the selected row.
pub fn subject(key: &str, label: &str) -> Subject {
    Subject {
        key: key.to_string(),
        label: label.to_string(),
    }
}

/// Accepts `result` for `table` when `query` is the one last asked.
pub fn accept<T>(
    asked: &Option<Query>,
    query: &Query,
    result: Result<Vec<T>, String>,
    table: &mut table::Table<T>,
    dates: &Dates,
) -> bool {
    if asked.as_ref() != Some(query) {
        return false;
    }
    match result {
        Ok(rows) => table.set_rows(rows, dates),
        Err(message) => table.fail(message),
    }
    true
}

/// Asks for `query` about the current project, remembered in `asked`; with no current project
/// the table says how to choose one and nothing is asked.
pub fn ask_about_project<T>(
    ctx: &Ctx,
    table: &mut table::Table<T>,
    asked: &mut Option<Query>,
    query: fn(String) -> Query,
) -> Option<Query> {
    *asked = None;
    let Some(project) = ctx.project_id() else {
        let how = ctx.keymap.press(Action::SwitchProject);
        table.fail(format!("No current project: {how} to choose one."));
        return None;
    };
    table.set_loading();
    *asked = Some(query(project));
    asked.clone()
}

/// The rows a `Data` holds for a screen, or the error that it was the wrong kind.
pub fn expect<T>(
    result: Result<Data, String>,
    take: impl FnOnce(Data) -> Option<Vec<T>>,
) -> Result<Vec<T>, String> {
    result
        .and_then(|data| take(data).ok_or_else(|| "the console received the wrong kind of data".to_string()))
}

/// The Project role a user holds here, for "read-only" explanations.
pub fn view_refusal(ctx: &Ctx, permission: Permission, what: &str) -> Option<String> {
    if ctx.session.permits(permission) {
        return None;
    }
    Some(format!(
        "{what} requires {}; you are {}. {RESTRICTED_2024}",
        who_may(permission),
        ctx.session.roles_here()
    ))
}
