//! The interactive console's state and its one `update` function (Elm style): a message in,
//! the state changed, effects out. Effects — model calls, password checks, the clipboard — run
//! elsewhere and come back as messages, so nothing here waits on argon2 or the disk, and every
//! flow can be driven in tests without a terminal.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::form::{Field, Form, Submit};
use super::keymap::{binding_for, Action, Scope};
use super::screens::{ListRow, Roles, Screen};
use super::theme::Theme;
use crate::console::access::Permission;
use crate::console::inquiries::{InquiryDraft, InquiryKind, PROJECT_DELETION};
use crate::console::keys::DELETE_KEY_PHRASE;
use crate::console::service_accounts::DELETE_SA_PHRASE;
use crate::console::{validate, Actor, KeyKind, OrgRole, ProjectRole, ProjectView, SaStatus, Secret};

/// Who is signed in, and where they are.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub org_role: Option<OrgRole>,
    /// The projects this user may see, for the switcher.
    pub projects: Vec<ProjectView>,
    pub current: Option<ProjectView>,
}

impl Session {
    pub fn roles(&self) -> Roles {
        Roles {
            org: self.org_role,
            project: self.current.as_ref().and_then(|c| c.my_role),
        }
    }

    pub fn project_id(&self) -> Option<String> {
        self.current.as_ref().map(|c| c.project.id.clone())
    }
}

/// A model change the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    CreateProject {
        name: String,
        nickname: String,
        description: String,
    },
    EditProject {
        project_id: String,
        nickname: String,
        description: String,
    },
    SetDefaultProject {
        project_id: String,
    },
    SubmitInquiry(InquiryDraft),
    AddUser {
        email: String,
        name: String,
        org_role: Option<OrgRole>,
    },
    RemoveUser {
        email: String,
    },
    AddPayment {
        brand: String,
        last4: String,
        expiry: String,
    },
    AddMember {
        project_id: String,
        email: String,
        role: ProjectRole,
    },
    SetMemberRole {
        project_id: String,
        email: String,
        role: ProjectRole,
    },
    RemoveMember {
        project_id: String,
        email: String,
    },
    CreateServiceAccount {
        project_id: String,
        name: String,
        description: String,
    },
    SetServiceAccountStatus {
        sa_id: String,
        status: SaStatus,
    },
    DeleteServiceAccount {
        sa_id: String,
        confirmation: String,
    },
    EnableService {
        project_id: String,
        service: String,
    },
    CreateCredential {
        kind: KeyKind,
        project: String,
        name: String,
        description: String,
    },
    DeleteCredential {
        kind: KeyKind,
        key_id: String,
    },
    CreateSaKey {
        sa_id: String,
        name: String,
        description: String,
    },
    DeleteSaKey {
        sa_id: String,
        key_id: String,
        confirmation: String,
    },
}

/// What a successful change reports: a flash message, and a one-time secret to reveal.
#[derive(Debug)]
pub struct Done {
    pub flash: String,
    pub reveal: Option<Reveal>,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Tick,
    SignedIn(Result<Session, String>),
    SessionRefreshed(Result<Session, String>),
    Loaded {
        screen: Screen,
        project: Option<String>,
        subject: Option<String>,
        result: Result<Vec<ListRow>, String>,
    },
    PasswordVerified(Result<(), String>),
    Done(Result<Done, String>),
    Copied(String),
}

#[derive(Debug)]
pub enum Effect {
    SignIn {
        email: String,
        password: Secret,
    },
    RefreshSession {
        actor: Actor,
        project: Option<String>,
    },
    Load {
        actor: Actor,
        screen: Screen,
        project: Option<String>,
        subject: Option<String>,
    },
    VerifyPassword {
        actor: Actor,
        password: Secret,
    },
    Run {
        actor: Actor,
        command: Command,
    },
    Copy {
        text: String,
        what: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct TableView {
    pub rows: Vec<ListRow>,
    /// Indices into `rows` that pass the filter, in order.
    pub visible: Vec<usize>,
    pub selected: usize,
    pub filter: String,
    pub loading: bool,
    pub error: Option<String>,
}

impl TableView {
    fn refilter(&mut self) {
        let needle = self.filter.to_lowercase();
        self.visible = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| needle.is_empty() || r.cells.iter().any(|c| c.to_lowercase().contains(&needle)))
            .map(|(i, _)| i)
            .collect();
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }

    pub fn selected_row(&self) -> Option<&ListRow> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Menu,
    Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub command: Command,
}

/// A destructive action held by its dialog: enabled only when the typed phrase matches exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedConfirm {
    pub title: String,
    pub lines: Vec<String>,
    pub phrase: &'static str,
    pub typed: String,
    /// The command to run, with the typed phrase filled in at submit.
    pub command: Command,
}

impl TypedConfirm {
    pub fn matches(&self) -> bool {
        self.typed == self.phrase
    }
}

/// A one-time secret: shown until the user confirms it is saved, then dropped (zeroized).
#[derive(Debug)]
pub struct Reveal {
    pub title: String,
    pub lines: Vec<(String, String)>,
    /// The identifier that goes with the secret (access key ID, authentication key, email).
    pub id: (String, String),
    pub secret_label: String,
    pub secret: Secret,
    pub warning: String,
    pub saved: bool,
    pub note: Option<String>,
}

impl Reveal {
    pub fn new(title: String, lines: Vec<(String, String)>, id: (String, String), secret: Secret) -> Reveal {
        Reveal {
            title,
            lines,
            id,
            secret_label: "Secret access key".into(),
            secret,
            warning: "The secret access key cannot be shown again once this window closes. Copy it now and keep it safe."
                .into(),
            saved: false,
            note: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switcher {
    pub filter: String,
    pub selected: usize,
}

#[derive(Debug)]
pub enum Popup {
    Form(Form),
    Confirm(Confirm),
    TypedConfirm(TypedConfirm),
    Reveal(Reveal),
    Help { scroll: u16 },
    Switcher(Switcher),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    None,
    Filter,
    Command(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub kind: FlashKind,
}

/// The `:` commands, for completion; `project NAME` switches the current project.
pub const COMMANDS: &[&str] = &[
    "dashboard",
    "projects",
    "users",
    "members",
    "sa",
    "agents",
    "services",
    "payment",
    "helpdesk",
    "audit",
    "credentials",
    "project ",
    "quit",
];

pub struct App {
    pub session: Option<Session>,
    pub signin: Form,
    pub screen: Screen,
    history: Vec<Screen>,
    pub focus: Focus,
    pub menu_index: usize,
    pub tables: HashMap<Screen, TableView>,
    pub popup: Option<Popup>,
    pub input: Input,
    pub flash: Option<Flash>,
    /// Set while a model call is on its way; keys other than quit wait for it.
    pub busy: Option<String>,
    pub spinner: usize,
    pub theme: Theme,
    pub quit: bool,
    /// The Credentials password re-check passed in this session.
    pub credentials_unlocked: bool,
    /// The service account whose detail page is open.
    pub sa_detail: Option<String>,
    page: usize,
}

fn sign_in_form(email: &str) -> Form {
    let mut form = Form::new(
        "Sign in",
        Submit::SignIn,
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

impl App {
    pub fn new(theme: Theme, email: &str) -> App {
        App {
            session: None,
            signin: sign_in_form(email),
            screen: Screen::Dashboard,
            history: Vec::new(),
            focus: Focus::Content,
            menu_index: 0,
            tables: HashMap::new(),
            popup: None,
            input: Input::None,
            flash: None,
            busy: None,
            spinner: 0,
            theme,
            quit: false,
            credentials_unlocked: false,
            sa_detail: None,
            page: 10,
        }
    }

    /// Starts signing in straight away (`--user` with `KC_CONSOLE_PASSWORD`).
    pub fn sign_in_now(&mut self, email: &str, password: Secret) -> Vec<Effect> {
        self.busy = Some("Verifying password…".into());
        vec![Effect::SignIn {
            email: email.into(),
            password,
        }]
    }

    pub fn table(&self, screen: Screen) -> Option<&TableView> {
        self.tables.get(&screen)
    }

    fn roles(&self) -> Roles {
        self.session.as_ref().map(Session::roles).unwrap_or_default()
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Paste(text) => {
                self.on_paste(&text);
                Vec::new()
            }
            Msg::Resize(_, height) => {
                self.page = usize::from(height.saturating_sub(8)).max(1);
                Vec::new()
            }
            Msg::Tick => {
                if self.busy.is_some() {
                    self.spinner = self.spinner.wrapping_add(1);
                }
                Vec::new()
            }
            Msg::SignedIn(result) => {
                self.busy = None;
                match result {
                    Ok(session) => {
                        self.signin = sign_in_form(&session.email);
                        self.session = Some(session);
                        self.goto(Screen::Dashboard)
                    }
                    Err(message) => {
                        self.signin.fields[1].value.clear();
                        self.signin.focus = 1;
                        self.signin.error = Some(message);
                        Vec::new()
                    }
                }
            }
            Msg::SessionRefreshed(result) => match result {
                Ok(session) => {
                    let project_changed =
                        self.session.as_ref().and_then(Session::project_id) != session.project_id();
                    self.session = Some(session);
                    if project_changed {
                        self.tables.retain(|screen, _| !screen.per_project());
                    }
                    self.load(self.screen)
                }
                Err(message) => {
                    self.flash(FlashKind::Error, message);
                    Vec::new()
                }
            },
            Msg::Loaded {
                screen,
                project,
                subject,
                result,
            } => {
                let current_project = self.session.as_ref().and_then(Session::project_id);
                let stale_subject = screen == Screen::ServiceAccountDetail && subject != self.sa_detail;
                if (screen.per_project() && project != current_project) || stale_subject {
                    return Vec::new();
                }
                let table = self.tables.entry(screen).or_default();
                table.loading = false;
                match result {
                    Ok(rows) => {
                        table.rows = rows;
                        table.error = None;
                    }
                    Err(message) => {
                        table.rows.clear();
                        table.error = Some(message);
                    }
                }
                table.refilter();
                Vec::new()
            }
            Msg::PasswordVerified(result) => {
                self.busy = None;
                match result {
                    Ok(()) => {
                        self.credentials_unlocked = true;
                        self.popup = None;
                        self.load(self.screen)
                    }
                    Err(message) => {
                        if let Some(Popup::Form(form)) = &mut self.popup {
                            form.fields[0].value.clear();
                            form.error = Some(message);
                        }
                        Vec::new()
                    }
                }
            }
            Msg::Done(result) => {
                self.busy = None;
                match result {
                    Ok(done) => {
                        self.popup = done.reveal.map(Popup::Reveal);
                        self.flash(FlashKind::Success, done.flash);
                        self.refresh()
                    }
                    Err(message) => {
                        match &mut self.popup {
                            Some(Popup::Form(form)) => form.error = Some(message),
                            _ => {
                                self.popup = None;
                                self.flash(FlashKind::Error, message);
                            }
                        }
                        Vec::new()
                    }
                }
            }
            Msg::Copied(message) => {
                match &mut self.popup {
                    Some(Popup::Reveal(reveal)) => reveal.note = Some(message),
                    _ => self.flash(FlashKind::Info, message),
                }
                Vec::new()
            }
        }
    }

    fn flash(&mut self, kind: FlashKind, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            kind,
        });
    }

    /// Reloads the session (projects may have changed) and, through it, the screen.
    fn refresh(&mut self) -> Vec<Effect> {
        match &self.session {
            Some(s) => vec![Effect::RefreshSession {
                actor: s.actor.clone(),
                project: s.project_id(),
            }],
            None => Vec::new(),
        }
    }

    fn load(&mut self, screen: Screen) -> Vec<Effect> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        if screen.is_credentials() && !self.credentials_unlocked {
            self.popup = Some(Popup::Form(password_gate()));
            return Vec::new();
        }
        let effect = Effect::Load {
            actor: session.actor.clone(),
            screen,
            project: session.project_id(),
            subject: self.sa_detail.clone(),
        };
        self.tables.entry(screen).or_default().loading = true;
        vec![effect]
    }

    fn goto(&mut self, screen: Screen) -> Vec<Effect> {
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
        self.load(screen)
    }

    fn on_paste(&mut self, text: &str) {
        let line: String = text.chars().filter(|c| !c.is_control()).collect();
        match (&mut self.popup, &mut self.input) {
            (Some(Popup::Form(form)), _) => form.paste(&line),
            (Some(Popup::TypedConfirm(dialog)), _) => dialog.typed.push_str(&line),
            (Some(Popup::Switcher(switcher)), _) => switcher.filter.push_str(&line),
            (Some(_), _) => {}
            (None, Input::Filter) => {
                if let Some(table) = self.tables.get_mut(&self.screen) {
                    table.filter.push_str(&line);
                    table.refilter();
                }
            }
            (None, Input::Command(text)) => text.push_str(&line),
            (None, Input::None) if self.session.is_none() => self.signin.paste(&line),
            (None, Input::None) => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
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
        let Some(binding) = binding_for(&key) else {
            return Vec::new();
        };
        self.flash = None;
        match binding.action {
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::Help => {
                self.popup = Some(Popup::Help { scroll: 0 });
                Vec::new()
            }
            Action::CommandLine => {
                self.input = Input::Command(String::new());
                Vec::new()
            }
            Action::Filter => {
                if self.screen != Screen::Dashboard {
                    self.focus = Focus::Content;
                    self.input = Input::Filter;
                }
                Vec::new()
            }
            Action::SwitchProject => {
                self.popup = Some(Popup::Switcher(Switcher::default()));
                Vec::new()
            }
            Action::FocusMenu => {
                self.focus = Focus::Menu;
                Vec::new()
            }
            Action::FocusContent => {
                self.focus = Focus::Content;
                Vec::new()
            }
            Action::Back => self.back(),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
                self.navigate(binding.action);
                Vec::new()
            }
            Action::Open if self.focus == Focus::Menu => self.goto(Screen::MENU[self.menu_index]),
            action if binding.scope == Scope::Screen => self.screen_action(action),
            _ => Vec::new(),
        }
    }

    fn back(&mut self) -> Vec<Effect> {
        if let Some(table) = self.tables.get_mut(&self.screen) {
            if !table.filter.is_empty() {
                table.filter.clear();
                table.refilter();
                return Vec::new();
            }
        }
        match self.history.pop() {
            Some(previous) => {
                self.screen = previous;
                self.menu_index = Screen::MENU.iter().position(|s| *s == previous).unwrap_or(0);
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
        let page = self.page as isize;
        if let Some(table) = self.tables.get_mut(&self.screen) {
            match action {
                Action::Up => table.move_by(-1),
                Action::Down => table.move_by(1),
                Action::PageUp => table.move_by(-page),
                Action::PageDown => table.move_by(page),
                Action::Top => table.selected = 0,
                _ => table.selected = table.visible.len().saturating_sub(1),
            }
        }
    }

    /// What `action` means on the current screen, and the permission it needs (`None`: anyone).
    /// `None` overall: the screen does not offer the action.
    pub fn screen_action_label(&self, action: Action) -> Option<(&'static str, Option<Permission>)> {
        use Action::*;
        use Screen::*;
        Some(match (self.screen, action) {
            (Dashboard, Open) => ("go to Project Management", None),
            (Dashboard, Copy) => ("copy project ID", None),
            (Projects, Open) => ("make current", None),
            (Projects, Create) => ("create project", Some(Permission::CreateProject)),
            (Projects, Edit) => ("edit", Some(Permission::EditProject)),
            (Projects, Settings) => ("set as default", Some(Permission::SetDefaultProject)),
            (Projects, Delete) => ("request deletion", Some(Permission::RequestProjectDeletion)),
            (Users, Create) => ("add user", Some(Permission::ManageOrgUsers)),
            (Users, Delete) => ("remove user", Some(Permission::ManageOrgUsers)),
            (Members, Create) => ("add member", Some(Permission::ManageMembers)),
            (Members, Edit) => ("change role", Some(Permission::ManageMembers)),
            (Members, Delete) => ("remove member", Some(Permission::ManageMembers)),
            (ServiceAccounts, Create) => ("create service account", Some(Permission::ManageServiceAccounts)),
            (ServiceAccounts, Settings) => ("settings", Some(Permission::ManageServiceAccounts)),
            (ServiceAccounts, Delete) => ("delete", Some(Permission::ManageServiceAccounts)),
            (Services, Open) => ("start using", Some(Permission::UseService)),
            (Payments, Create) => ("add payment method", Some(Permission::ManageBilling)),
            (HelpDesk, Create) => ("submit inquiry", None),
            (CredentialsIam | CredentialsS3, Open) if !self.credentials_unlocked => ("verify password", None),
            (CredentialsIam, Create) => ("create IAM access key", Some(Permission::OwnCredentials)),
            (CredentialsS3, Create) => ("create S3 access key", Some(Permission::OwnCredentials)),
            (CredentialsIam | CredentialsS3, Delete) => ("delete", Some(Permission::OwnCredentials)),
            (CredentialsIam, NextTab | PrevTab) => ("S3 access key tab", None),
            (CredentialsS3, NextTab | PrevTab) => ("IAM access key tab", None),
            (ServiceAccounts, Open) => ("open", Some(Permission::ViewServiceAccounts)),
            (ServiceAccountDetail, Create) => (
                "create IAM access key",
                Some(Permission::ManageServiceAccountKeys),
            ),
            (ServiceAccountDetail, Delete) => ("delete", Some(Permission::ManageServiceAccountKeys)),
            (
                Projects | Users | Members | ServiceAccounts | ServiceAccountDetail | ServiceAgents
                | Services | HelpDesk | Audit | CredentialsIam | CredentialsS3,
                Copy,
            ) => ("copy ID", None),
            _ => return None,
        })
    }

    /// The screen's actions this user is offered, for the footer and help.
    pub fn offered(&self, action: Action) -> Option<&'static str> {
        let (label, permission) = self.screen_action_label(action)?;
        self.permits(permission).then_some(label)
    }

    /// Own Credentials are about every project where the user holds a role, not only the
    /// current one; everything else is judged in the current project.
    fn permits(&self, permission: Option<Permission>) -> bool {
        match permission {
            None => true,
            Some(Permission::OwnCredentials) => self
                .session
                .as_ref()
                .is_some_and(|s| s.projects.iter().any(|v| v.my_role.is_some())),
            Some(p) => self.roles().may(p),
        }
    }

    fn screen_action(&mut self, action: Action) -> Vec<Effect> {
        let Some((label, permission)) = self.screen_action_label(action) else {
            return Vec::new();
        };
        if let Some(p) = permission.filter(|_| !self.permits(permission)) {
            {
                let who = crate::console::access::who_may(p);
                self.flash(
                    FlashKind::Error,
                    format!("Not available: {label} requires {who}."),
                );
                return Vec::new();
            }
        }
        let selected = self
            .tables
            .get(&self.screen)
            .and_then(|t| t.selected_row())
            .cloned();
        let session = self.session.clone().expect("screen actions need a session");
        let project_id = session.project_id().unwrap_or_default();
        let need_row = |app: &mut App| {
            app.flash(FlashKind::Info, "Nothing selected.");
            Vec::new()
        };
        use Action::*;
        use Screen::*;
        match (self.screen, action) {
            (_, Copy) => {
                let text = match self.screen {
                    Dashboard => project_id,
                    _ => match selected {
                        Some(row) => row.id,
                        None => return need_row(self),
                    },
                };
                if text.is_empty() {
                    return need_row(self);
                }
                vec![Effect::Copy {
                    text,
                    what: "the ID".into(),
                }]
            }
            (Dashboard, Open) => {
                if session.current.is_none() {
                    self.flash(FlashKind::Info, "Choose a project first: press p.");
                    return Vec::new();
                }
                self.goto(Members)
            }
            (Projects, Open) => match selected {
                Some(row) => self.switch_project(&row.id),
                None => need_row(self),
            },
            (Projects, Create) => {
                self.popup = Some(Popup::Form(
                    Form::new(
                        "Create project",
                        Submit::CreateProject,
                        vec![
                            Field::text("Project name", validate::PROJECT_NAME_MAX, validate::project_name),
                            Field::text("Project nickname", validate::NICKNAME_MAX, |v| {
                                validate::text("project nickname", v, validate::NICKNAME_MAX, true)
                            }),
                            Field::text("Description (optional)", validate::PROJECT_DESCRIPTION_MAX, |v| {
                                validate::text("description", v, validate::PROJECT_DESCRIPTION_MAX, false)
                            }),
                        ],
                    )
                    .with_intro(vec![
                        format!("Organization name: {} (auto-filled)", session.org_name),
                        "The project name is used by APIs and cannot be changed later.".into(),
                    ]),
                ));
                Vec::new()
            }
            (Projects, Edit) => {
                let Some(view) = selected
                    .and_then(|row| session.projects.iter().find(|v| v.project.id == row.id).cloned())
                else {
                    return need_row(self);
                };
                self.popup = Some(Popup::Form(
                    Form::new(
                        "Edit project",
                        Submit::EditProject {
                            project_id: view.project.id.clone(),
                        },
                        vec![
                            Field::text("Project nickname", validate::NICKNAME_MAX, |v| {
                                validate::text("project nickname", v, validate::NICKNAME_MAX, true)
                            })
                            .with_value(&view.project.nickname),
                            Field::text("Description (optional)", validate::PROJECT_DESCRIPTION_MAX, |v| {
                                validate::text("description", v, validate::PROJECT_DESCRIPTION_MAX, false)
                            })
                            .with_value(&view.project.description),
                        ],
                    )
                    .with_intro(vec![format!(
                        "Project name: {} (cannot be changed)",
                        view.project.name
                    )]),
                ));
                Vec::new()
            }
            (Projects, Settings) => match selected {
                Some(row) => {
                    self.busy = Some("Saving…".into());
                    vec![Effect::Run {
                        actor: session.actor,
                        command: Command::SetDefaultProject { project_id: row.id },
                    }]
                }
                None => need_row(self),
            },
            (Projects, Delete) => {
                let Some(name) = selected.map(|row| row.cells[1].clone()) else {
                    return need_row(self);
                };
                self.popup = Some(Popup::Form(inquiry_form(Some(&name))));
                Vec::new()
            }
            (HelpDesk, Create) => {
                self.popup = Some(Popup::Form(inquiry_form(None)));
                Vec::new()
            }
            (Users, Create) => {
                self.popup = Some(Popup::Form(Form::new(
                    "Add user",
                    Submit::AddUser,
                    vec![
                        Field::text("Email", validate::EMAIL_MAX, validate::email),
                        Field::text("Name", validate::USER_NAME_MAX, |v| {
                            validate::text("name", v, validate::USER_NAME_MAX, true)
                        }),
                        Field::choice("Org role", ["none", "Org Reader", "Org Admin"]),
                    ],
                )));
                Vec::new()
            }
            (Users, Delete) => match selected {
                Some(row) => {
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: "Remove user".into(),
                        lines: vec![
                            format!("Remove {} from the organization?", row.id),
                            "Their project memberships and access keys are deleted with them.".into(),
                        ],
                        command: Command::RemoveUser { email: row.id },
                    }));
                    Vec::new()
                }
                None => need_row(self),
            },
            (Payments, Create) => {
                self.popup = Some(Popup::Form(Form::new(
                    "Add payment method",
                    Submit::AddPayment,
                    vec![
                        Field::text("Card brand", 20, |v| validate::text("card brand", v, 20, true)),
                        Field::text("Last four digits", 4, validate::card_last4),
                        Field::text("Expiry (MM/YY)", 5, |v| validate::card_expiry(v).map(|_| ())),
                    ],
                )));
                Vec::new()
            }
            (Members, Create) => {
                self.popup = Some(Popup::Form(
                    Form::new(
                        "Add member",
                        Submit::AddMember,
                        vec![
                            Field::text("Email", validate::EMAIL_MAX, validate::email),
                            Field::choice("Role", ["Project Member", "Project Reader", "Project Admin"]),
                        ],
                    )
                    .with_intro(vec![project_line(&session)]),
                ));
                Vec::new()
            }
            (Members, Edit) => match selected {
                Some(row) => {
                    let current = row.cells[2].clone();
                    let options = ["Project Admin", "Project Member", "Project Reader"];
                    self.popup = Some(Popup::Form(
                        Form::new(
                            "Change role",
                            Submit::SetMemberRole {
                                email: row.id.clone(),
                            },
                            vec![Field::choice("Role", options).with_value(&current)],
                        )
                        .with_intro(vec![project_line(&session), format!("Member: {}", row.id)]),
                    ));
                    Vec::new()
                }
                None => need_row(self),
            },
            (Members, Delete) => match selected {
                Some(row) => {
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: "Remove member".into(),
                        lines: vec![
                            format!("Remove {} from this project?", row.id),
                            "Their IAM and S3 access keys for this project stop working at once,".into(),
                            "and so do the API tokens issued from them.".into(),
                        ],
                        command: Command::RemoveMember {
                            project_id,
                            email: row.id,
                        },
                    }));
                    Vec::new()
                }
                None => need_row(self),
            },
            (ServiceAccounts, Create) => {
                self.popup = Some(Popup::Form(
                    Form::new(
                        "Create service account",
                        Submit::CreateServiceAccount,
                        vec![
                            Field::text(
                                "Service account name",
                                validate::SA_NAME_MAX,
                                validate::service_account_name,
                            ),
                            Field::text("Description (optional)", validate::SA_DESCRIPTION_MAX, |v| {
                                validate::text("description", v, validate::SA_DESCRIPTION_MAX, false)
                            }),
                        ],
                    )
                    .with_intro(vec![
                        project_line(&session),
                        "Project role: Project Member".into(),
                    ]),
                ));
                Vec::new()
            }
            (ServiceAccounts, Settings) => match selected {
                Some(row) => {
                    let status = if row.cells[2].contains("Inactive") {
                        "Inactive"
                    } else {
                        "Active"
                    };
                    self.popup = Some(Popup::Form(
                        Form::new(
                            "Service account settings",
                            Submit::ServiceAccountStatus {
                                sa_id: row.id.clone(),
                            },
                            vec![Field::choice("Status", ["Active", "Inactive"]).with_value(status)],
                        )
                        .with_intro(vec![
                            format!("Service account: {}", row.id),
                            "Inactive expires all of its access keys and API tokens at once;".into(),
                            "setting it Active again does not bring them back.".into(),
                        ]),
                    ));
                    Vec::new()
                }
                None => need_row(self),
            },
            (ServiceAccounts, Delete) => match selected {
                Some(row) => {
                    self.popup = Some(Popup::TypedConfirm(TypedConfirm {
                        title: "Delete service account".into(),
                        lines: vec![
                            format!("Delete {}?", row.id),
                            "Its access keys and API tokens expire at once. This cannot be undone.".into(),
                        ],
                        phrase: DELETE_SA_PHRASE,
                        typed: String::new(),
                        command: Command::DeleteServiceAccount {
                            sa_id: row.id,
                            confirmation: String::new(),
                        },
                    }));
                    Vec::new()
                }
                None => need_row(self),
            },
            (CredentialsIam | CredentialsS3, Open) => self.load(self.screen),
            (CredentialsIam, NextTab | PrevTab) => self.switch_tab(CredentialsS3),
            (CredentialsS3, NextTab | PrevTab) => self.switch_tab(CredentialsIam),
            (CredentialsIam | CredentialsS3, Create) => {
                let kind = if self.screen == CredentialsIam {
                    KeyKind::Iam
                } else {
                    KeyKind::S3
                };
                let projects: Vec<String> = session
                    .projects
                    .iter()
                    .filter(|v| v.my_role.is_some())
                    .map(|v| v.project.name.clone())
                    .collect();
                let current = session
                    .current
                    .as_ref()
                    .map(|c| c.project.name.clone())
                    .unwrap_or_default();
                let mut project = Field::choice("Project", projects.clone());
                if projects.contains(&current) {
                    project = project.with_value(&current);
                }
                self.popup = Some(Popup::Form(
                    Form::new(
                        format!("Create {}", kind.label()),
                        Submit::CreateCredential { kind },
                        vec![
                            project,
                            Field::text("Name", validate::KEY_NAME_MAX, |v| {
                                validate::text("access key name", v, validate::KEY_NAME_MAX, true)
                            }),
                            Field::text("Description (optional)", validate::KEY_DESCRIPTION_MAX, |v| {
                                validate::text("description", v, validate::KEY_DESCRIPTION_MAX, false)
                            }),
                        ],
                    )
                    .with_focus(1)
                    .with_intro(vec![
                        "The key inherits your role in the project you choose.".into(),
                        "You can create up to 2 of each kind of access key per project.".into(),
                    ]),
                ));
                Vec::new()
            }
            (CredentialsIam | CredentialsS3, Delete) => match selected {
                Some(row) => {
                    let kind = if self.screen == CredentialsIam {
                        KeyKind::Iam
                    } else {
                        KeyKind::S3
                    };
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: format!("Delete {}", kind.label()),
                        lines: vec![
                            format!("Delete {} {:?} ({})?", kind.label(), row.cells[0], row.id),
                            "API tokens issued with it stop working at once. This cannot be undone.".into(),
                        ],
                        command: Command::DeleteCredential { kind, key_id: row.id },
                    }));
                    Vec::new()
                }
                None => need_row(self),
            },
            (ServiceAccounts, Open) => match selected {
                Some(row) => {
                    self.sa_detail = Some(row.id);
                    self.tables.remove(&ServiceAccountDetail);
                    self.goto(ServiceAccountDetail)
                }
                None => need_row(self),
            },
            (ServiceAccountDetail, Create) => {
                let Some(sa_id) = self.sa_detail.clone() else {
                    return need_row(self);
                };
                self.popup = Some(Popup::Form(
                    Form::new(
                        "Create IAM access key",
                        Submit::CreateSaKey { sa_id: sa_id.clone() },
                        vec![
                            Field::text("IAM access key name", validate::KEY_NAME_MAX, |v| {
                                validate::text("access key name", v, validate::KEY_NAME_MAX, true)
                            }),
                            Field::text("Description (optional)", validate::KEY_DESCRIPTION_MAX, |v| {
                                validate::text("description", v, validate::KEY_DESCRIPTION_MAX, false)
                            }),
                        ],
                    )
                    .with_intro(vec![
                        project_line(&session),
                        format!("Service account ID: {sa_id}"),
                    ]),
                ));
                Vec::new()
            }
            (ServiceAccountDetail, Delete) => match (selected, self.sa_detail.clone()) {
                (Some(row), Some(sa_id)) => {
                    self.popup = Some(Popup::TypedConfirm(TypedConfirm {
                        title: "Delete IAM access key".into(),
                        lines: vec![
                            format!("Delete IAM access key {:?} ({})?", row.cells[0], row.id),
                            "API tokens issued with it expire at once. This cannot be undone.".into(),
                        ],
                        phrase: DELETE_KEY_PHRASE,
                        typed: String::new(),
                        command: Command::DeleteSaKey {
                            sa_id,
                            key_id: row.id,
                            confirmation: String::new(),
                        },
                    }));
                    Vec::new()
                }
                _ => need_row(self),
            },
            (Services, Open) => match selected {
                Some(row) => {
                    let project = session
                        .current
                        .as_ref()
                        .map(|c| c.project.name.clone())
                        .unwrap_or_default();
                    self.popup = Some(Popup::Confirm(Confirm {
                        title: "Start using a service".into(),
                        lines: vec![
                            format!("Start using {} in project {project}?", row.id),
                            "Its service agent is created in this project.".into(),
                        ],
                        command: Command::EnableService {
                            project_id,
                            service: row.id,
                        },
                    }));
                    Vec::new()
                }
                None => need_row(self),
            },
            _ => Vec::new(),
        }
    }

    /// Credentials tabs replace each other rather than stacking in the history.
    fn switch_tab(&mut self, screen: Screen) -> Vec<Effect> {
        self.screen = screen;
        self.load(screen)
    }

    fn switch_project(&mut self, project_id: &str) -> Vec<Effect> {
        let Some(session) = &mut self.session else {
            return Vec::new();
        };
        let Some(view) = session
            .projects
            .iter()
            .find(|v| v.project.id == project_id)
            .cloned()
        else {
            self.flash(
                FlashKind::Error,
                format!("No project {project_id} that you may see."),
            );
            return Vec::new();
        };
        let name = format!("{} ({})", view.project.nickname, view.project.name);
        session.current = Some(view);
        self.tables.retain(|screen, _| !screen.per_project());
        self.flash(FlashKind::Info, format!("Current project: {name}"));
        self.goto(Screen::Dashboard)
    }

    fn on_signin_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let form = &mut self.signin;
        match key.code {
            KeyCode::Esc => self.quit = true,
            KeyCode::Tab | KeyCode::Down => form.next(),
            KeyCode::BackTab | KeyCode::Up => form.prev(),
            KeyCode::Backspace => form.backspace(),
            KeyCode::Char(c) => form.type_char(c),
            KeyCode::Enter => {
                if form.focus == 0 {
                    form.next();
                    return Vec::new();
                }
                let email = form.value("Email").to_string();
                if !form.check() || form.value("Password").is_empty() {
                    form.error = Some("Enter your email and password.".into());
                    return Vec::new();
                }
                let password = Secret::new(std::mem::take(&mut form.fields[1].value));
                return self.sign_in_now(&email, password);
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_input_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match &mut self.input {
            Input::Filter => {
                let Some(table) = self.tables.get_mut(&self.screen) else {
                    self.input = Input::None;
                    return Vec::new();
                };
                match key.code {
                    KeyCode::Esc => {
                        table.filter.clear();
                        self.input = Input::None;
                    }
                    KeyCode::Enter => self.input = Input::None,
                    KeyCode::Backspace => {
                        table.filter.pop();
                    }
                    KeyCode::Char(c) => table.filter.push(c),
                    _ => return Vec::new(),
                }
                table.refilter();
                Vec::new()
            }
            Input::Command(text) => match key.code {
                KeyCode::Esc => {
                    self.input = Input::None;
                    Vec::new()
                }
                KeyCode::Backspace => {
                    text.pop();
                    Vec::new()
                }
                KeyCode::Tab => {
                    if let Some(completion) = complete(text) {
                        *text = completion;
                    }
                    Vec::new()
                }
                KeyCode::Char(c) => {
                    text.push(c);
                    Vec::new()
                }
                KeyCode::Enter => {
                    let line = text.trim().to_string();
                    self.input = Input::None;
                    self.run_command_line(&line)
                }
                _ => Vec::new(),
            },
            Input::None => Vec::new(),
        }
    }

    fn run_command_line(&mut self, line: &str) -> Vec<Effect> {
        if line == "quit" || line == "q" {
            self.quit = true;
            return Vec::new();
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
                    self.flash(
                        FlashKind::Error,
                        format!("No project named {name:?} that you may see."),
                    );
                    Vec::new()
                }
            };
        }
        match Screen::MENU.iter().find(|s| s.command() == line) {
            Some(screen) => self.goto(*screen),
            None => {
                self.flash(
                    FlashKind::Error,
                    format!("Unknown command :{line} — try :projects, :sa, :audit or :project NAME (Tab completes)"),
                );
                Vec::new()
            }
        }
    }

    fn on_switcher_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let matches = self.switcher_matches();
        let Some(Popup::Switcher(switcher)) = self.popup.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.popup = None,
            KeyCode::Up => switcher.selected = switcher.selected.saturating_sub(1),
            KeyCode::Down => switcher.selected = (switcher.selected + 1).min(matches.len().saturating_sub(1)),
            KeyCode::Backspace => {
                switcher.filter.pop();
                switcher.selected = 0;
            }
            KeyCode::Char(c) => {
                switcher.filter.push(c);
                switcher.selected = 0;
            }
            KeyCode::Enter => {
                if let Some(id) = matches.get(switcher.selected).cloned() {
                    self.popup = None;
                    return self.switch_project(&id);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_popup_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(Popup::Switcher(_)) = self.popup {
            return self.on_switcher_key(key);
        }
        // The help popup scrolls no further than its last line.
        let help_rows = crate::tui::view::help_lines(self).len() as u16;
        let Some(popup) = self.popup.as_mut() else {
            return Vec::new();
        };
        match popup {
            Popup::Help { scroll } => {
                match key.code {
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') => self.popup = None,
                    KeyCode::Down | KeyCode::Char('j') => *scroll = scroll.saturating_add(1).min(help_rows),
                    KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                    KeyCode::PageDown => *scroll = scroll.saturating_add(10).min(help_rows),
                    KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                    _ => {}
                }
                Vec::new()
            }
            Popup::Confirm(confirm) => match key.code {
                KeyCode::Char('y') | KeyCode::Enter => {
                    let command = confirm.command.clone();
                    self.run(command)
                }
                KeyCode::Char('n') | KeyCode::Esc => {
                    self.popup = None;
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Popup::TypedConfirm(dialog) => match key.code {
                KeyCode::Esc => {
                    self.popup = None;
                    Vec::new()
                }
                KeyCode::Backspace => {
                    dialog.typed.pop();
                    Vec::new()
                }
                KeyCode::Char(c) => {
                    dialog.typed.push(c);
                    Vec::new()
                }
                KeyCode::Enter if dialog.matches() => {
                    let command = match dialog.command.clone() {
                        Command::DeleteServiceAccount { sa_id, .. } => Command::DeleteServiceAccount {
                            sa_id,
                            confirmation: dialog.typed.clone(),
                        },
                        Command::DeleteSaKey { sa_id, key_id, .. } => Command::DeleteSaKey {
                            sa_id,
                            key_id,
                            confirmation: dialog.typed.clone(),
                        },
                        other => other,
                    };
                    self.run(command)
                }
                _ => Vec::new(),
            },
            Popup::Reveal(reveal) => match key.code {
                KeyCode::Char('s') | KeyCode::Char('y') => vec![Effect::Copy {
                    text: reveal.secret.expose().to_string(),
                    what: format!("the {}", reveal.secret_label.to_lowercase()),
                }],
                KeyCode::Char('i') => vec![Effect::Copy {
                    text: reveal.id.1.clone(),
                    what: format!("the {}", reveal.id.0.to_lowercase()),
                }],
                KeyCode::Char(' ') => {
                    reveal.saved = !reveal.saved;
                    Vec::new()
                }
                KeyCode::Enter | KeyCode::Esc => {
                    if reveal.saved {
                        // Dropping the popup drops the Secret, which zeroizes it.
                        self.popup = None;
                    } else {
                        reveal.note = Some("Press Space to confirm you have saved it first.".into());
                    }
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Popup::Switcher(_) => Vec::new(),
            Popup::Form(form) => match key.code {
                KeyCode::Esc => {
                    self.popup = None;
                    Vec::new()
                }
                KeyCode::Tab | KeyCode::Down => {
                    form.next();
                    Vec::new()
                }
                KeyCode::BackTab | KeyCode::Up => {
                    form.prev();
                    Vec::new()
                }
                KeyCode::Left => {
                    form.cycle(-1);
                    Vec::new()
                }
                KeyCode::Right => {
                    form.cycle(1);
                    Vec::new()
                }
                KeyCode::Backspace => {
                    form.backspace();
                    Vec::new()
                }
                KeyCode::Char(c) => {
                    form.type_char(c);
                    Vec::new()
                }
                KeyCode::Enter => {
                    if !form.check() {
                        return Vec::new();
                    }
                    if form.submit == Submit::VerifyPassword {
                        let password = Secret::new(std::mem::take(&mut form.fields[0].value));
                        let Some(session) = &self.session else {
                            return Vec::new();
                        };
                        self.busy = Some("Verifying password…".into());
                        return vec![Effect::VerifyPassword {
                            actor: session.actor.clone(),
                            password,
                        }];
                    }
                    let form = form.clone();
                    match self.command_from_form(&form) {
                        Some(command) => self.run(command),
                        None => Vec::new(),
                    }
                }
                _ => Vec::new(),
            },
        }
    }

    /// IDs of the projects the switcher shows for its filter.
    pub fn switcher_matches(&self) -> Vec<String> {
        let (Some(session), Some(Popup::Switcher(switcher))) = (&self.session, &self.popup) else {
            return Vec::new();
        };
        let needle = switcher.filter.to_lowercase();
        session
            .projects
            .iter()
            .filter(|v| {
                needle.is_empty()
                    || v.project.name.to_lowercase().contains(&needle)
                    || v.project.nickname.to_lowercase().contains(&needle)
                    || v.project.id.starts_with(&needle)
            })
            .map(|v| v.project.id.clone())
            .collect()
    }

    fn run(&mut self, command: Command) -> Vec<Effect> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        self.busy = Some("Working…".into());
        vec![Effect::Run {
            actor: session.actor.clone(),
            command,
        }]
    }

    fn command_from_form(&mut self, form: &Form) -> Option<Command> {
        let project_id = self
            .session
            .as_ref()
            .and_then(Session::project_id)
            .unwrap_or_default();
        let v = |label: &str| form.value(label).to_string();
        Some(match &form.submit {
            Submit::SignIn | Submit::VerifyPassword => return None,
            Submit::CreateCredential { kind } => Command::CreateCredential {
                kind: *kind,
                project: v("Project"),
                name: v("Name"),
                description: v("Description (optional)"),
            },
            Submit::CreateSaKey { sa_id } => Command::CreateSaKey {
                sa_id: sa_id.clone(),
                name: v("IAM access key name"),
                description: v("Description (optional)"),
            },
            Submit::CreateProject => Command::CreateProject {
                name: v("Project name"),
                nickname: v("Project nickname"),
                description: v("Description (optional)"),
            },
            Submit::EditProject { project_id } => Command::EditProject {
                project_id: project_id.clone(),
                nickname: v("Project nickname"),
                description: v("Description (optional)"),
            },
            Submit::Inquiry => {
                let kind = if v("Inquiry type") == "Technical" {
                    InquiryKind::Technical
                } else {
                    InquiryKind::General
                };
                let project = v("Project name");
                Command::SubmitInquiry(InquiryDraft {
                    kind,
                    detail_type: v("Detailed type"),
                    project: (!project.is_empty()).then_some(project),
                    title: v("Title"),
                    details: v("Inquiry details"),
                    private: v("Private") == "yes",
                    attachment: None,
                })
            }
            Submit::AddUser => Command::AddUser {
                email: v("Email"),
                name: v("Name"),
                org_role: OrgRole::parse(&v("Org role")),
            },
            Submit::AddPayment => Command::AddPayment {
                brand: v("Card brand"),
                last4: v("Last four digits"),
                expiry: v("Expiry (MM/YY)"),
            },
            Submit::AddMember => Command::AddMember {
                project_id,
                email: v("Email"),
                role: ProjectRole::parse(&v("Role"))?,
            },
            Submit::ServiceAccountStatus { sa_id } => Command::SetServiceAccountStatus {
                sa_id: sa_id.clone(),
                status: SaStatus::parse(&v("Status"))?,
            },
            Submit::SetMemberRole { email } => Command::SetMemberRole {
                project_id,
                email: email.clone(),
                role: ProjectRole::parse(&v("Role"))?,
            },
            Submit::CreateServiceAccount => Command::CreateServiceAccount {
                project_id,
                name: v("Service account name"),
                description: v("Description (optional)"),
            },
        })
    }
}

/// Profile › Credentials asks for the password again before showing anything.
fn password_gate() -> Form {
    Form::new(
        "Verify password",
        Submit::VerifyPassword,
        vec![Field::masked("Password")],
    )
    .with_intro(vec![
        "Re-enter your password to manage your access keys.".into(),
        "After 5 wrong answers in a row, verification locks for 15 minutes.".into(),
    ])
}

fn project_line(session: &Session) -> String {
    match &session.current {
        Some(c) => format!(
            "Project: {} ({}) (auto-filled)",
            c.project.nickname, c.project.name
        ),
        None => "Project: none".into(),
    }
}

/// The Help Desk form; "Request deletion" opens it pre-filled for the project.
fn inquiry_form(project: Option<&str>) -> Form {
    let draft = project.map(InquiryDraft::project_deletion);
    let (kind, detail, title) = match &draft {
        Some(d) => ("Technical", d.detail_type.as_str(), d.title.as_str()),
        None => ("General", "", ""),
    };
    let mut form = Form::new(
        if project.is_some() {
            "Request project deletion"
        } else {
            "Submit inquiry"
        },
        Submit::Inquiry,
        vec![
            Field::choice("Inquiry type", ["General", "Technical"]).with_value(kind),
            Field::text("Detailed type", 50, |v| {
                validate::text("detailed type", v, 50, true)
            })
            .with_value(detail),
            Field::text("Project name", validate::PROJECT_NAME_MAX, |v| {
                validate::text("project name", v, validate::PROJECT_NAME_MAX, false)
            })
            .with_value(project.unwrap_or_default()),
            Field::text("Title", validate::INQUIRY_TITLE_MAX, |v| {
                validate::text("title", v, validate::INQUIRY_TITLE_MAX, true)
            })
            .with_value(title),
            Field::text("Inquiry details", validate::INQUIRY_DETAILS_MAX, |v| {
                if v.chars().count() > validate::INQUIRY_DETAILS_MAX {
                    validate::text("details", v, validate::INQUIRY_DETAILS_MAX, false)
                } else {
                    Ok(())
                }
            }),
            Field::choice("Private", ["no", "yes"]),
        ],
    );
    if project.is_some() {
        form.intro = vec![
            format!(
                "Detailed type \"{PROJECT_DELETION}\" under Service, for project {}.",
                project.unwrap_or_default()
            ),
            "When approved, the project and everything in it are deleted permanently.".into(),
        ];
        form.focus = 4;
    }
    form
}

/// Completes a `:` command from its prefix, when exactly one command fits.
pub fn complete(prefix: &str) -> Option<String> {
    let fits: Vec<&&str> = COMMANDS.iter().filter(|c| c.starts_with(prefix)).collect();
    match fits.as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}
