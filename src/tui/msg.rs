//! What crosses the seam between the console's state and the model, both ways: plain data.
//! Effects go out to `effects::perform`, which alone calls the model; their results come back
//! as messages carrying model types (ProjectView, AccessKey, AuditEvent…), never a `Console`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::console::access::{allows, Permission};
use crate::console::inquiries::InquiryDraft;
use crate::console::projects::MemberView;
use crate::console::{
    Agent, AuditEvent, Change, Inquiry, KeyKind, OrgRole, PaymentMethod, Project, ProjectRole, ProjectView,
    SaStatus, Secret, ServiceAccount,
};
use crate::org::request::{KeyView, UserView};
use crate::org::Auth;

/// What proves who the console's user is: the session opened at sign-in (never the password).
pub type Credential = Arc<Auth>;

/// Who is signed in, and where they are.
#[derive(Debug, Clone)]
pub struct Session {
    pub auth: Credential,
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub org_role: Option<OrgRole>,
    /// The projects this user may see, for the switcher.
    pub projects: Vec<ProjectView>,
    pub current: Option<ProjectView>,
}

impl Session {
    pub fn project_id(&self) -> Option<String> {
        self.current.as_ref().map(|c| c.project.id.clone())
    }

    pub fn project_role(&self) -> Option<ProjectRole> {
        self.current.as_ref().and_then(|c| c.my_role)
    }

    /// Whether the matrix lets this user do `permission` where they are. Used to offer only
    /// what the model would allow; the model still decides. Own Credentials are about every
    /// project where the user holds a role, not only the current one.
    pub fn permits(&self, permission: Permission) -> bool {
        match permission {
            Permission::OwnCredentials => self.projects.iter().any(|v| v.my_role.is_some()),
            p => allows(self.org_role, self.project_role(), p),
        }
    }

    /// "Org Admin", "Project Reader in 웹 쇼핑몰", "no role here": for explanations.
    pub fn roles_here(&self) -> String {
        let mut parts = Vec::new();
        if let Some(org) = self.org_role {
            parts.push(org.label().to_string());
        }
        match (&self.current, self.project_role()) {
            (Some(c), Some(role)) => parts.push(format!("{} in {}", role.label(), c.project.nickname)),
            (Some(c), None) => parts.push(format!("no role in {}", c.project.nickname)),
            (None, _) => {}
        }
        if parts.is_empty() {
            "no role here".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What a screen asks the model for. Equal queries ask for the same thing, so an answer to an
/// older query (another project, another service account) is recognised and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Dashboard {
        project: Option<String>,
    },
    Projects,
    Users,
    Members {
        project: String,
    },
    ServiceAccounts {
        project: String,
    },
    SaKeys {
        sa_id: String,
    },
    Agents {
        project: String,
    },
    Services {
        project: String,
    },
    Payments,
    Inquiries,
    /// One page of the audit log: the events older than `before` (newest first).
    Audit {
        before: Option<u64>,
    },
    Credentials {
        kind: KeyKind,
    },
}

/// The dashboard's summary of the current project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardData {
    pub org_name: String,
    pub project: Option<Project>,
    pub role: Option<ProjectRole>,
    pub members: usize,
    /// Counted only where the role may see service accounts.
    pub service_accounts: Option<usize>,
}

/// A service and whether the current project uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUse {
    pub service: String,
    pub agent: Option<Agent>,
}

/// What a query returns.
#[derive(Debug, Clone)]
pub enum Data {
    Dashboard(DashboardData),
    Projects(Vec<ProjectView>),
    Users(Vec<UserView>),
    Members(Vec<MemberView>),
    ServiceAccounts(Vec<ServiceAccount>),
    SaKeys(Vec<KeyView>),
    Agents(Vec<Agent>),
    Services(Vec<ServiceUse>),
    Payments(Vec<PaymentMethod>),
    /// Inquiries, with the email of each submitter (by user ID).
    Inquiries(Vec<Inquiry>, BTreeMap<String, String>),
    /// A page of the audit log, the cursor to the next (older) one, and how many events the
    /// user may see in all (counted, not loaded).
    Audit {
        events: Vec<AuditEvent>,
        older: Option<u64>,
        total: u64,
    },
    /// The user's own keys: for each, a hint of its ID, never the ID.
    Credentials(Vec<KeyView>),
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
    /// The checked service accounts (or the selected one), after one typed phrase.
    DeleteServiceAccounts {
        sa_ids: Vec<String>,
        confirmation: String,
    },
    EnableService {
        project_id: String,
        service: String,
    },
    /// Stops using a service: its agent becomes Inactive.
    DisableService {
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

impl Command {
    /// The command with the phrase the user typed in its confirmation dialog; the model checks
    /// the phrase itself.
    pub fn confirmed(self, typed: &str) -> Command {
        match self {
            Command::DeleteServiceAccounts { sa_ids, .. } => Command::DeleteServiceAccounts {
                sa_ids,
                confirmation: typed.into(),
            },
            Command::DeleteSaKey { sa_id, key_id, .. } => Command::DeleteSaKey {
                sa_id,
                key_id,
                confirmation: typed.into(),
            },
            other => other,
        }
    }
}

/// A one-time secret to show, with the identifier that goes with it.
#[derive(Debug)]
pub struct OneTime {
    pub title: String,
    pub lines: Vec<(String, String)>,
    /// The identifier that goes with the secret (access key ID, authentication key, email).
    pub id: (String, String),
    pub secret_label: String,
    pub secret: Secret,
    pub warning: String,
}

/// What a successful change reports: a message, a one-time secret to reveal, and the row it
/// made (selected once the screen has reloaded).
#[derive(Debug)]
pub struct Done {
    pub message: String,
    pub reveal: Option<OneTime>,
    pub select: Option<String>,
}

/// The answer to `Effect::Reload`.
#[derive(Debug)]
pub struct Reloaded {
    pub session: Result<Session, String>,
    pub screen: Option<(Query, Result<Data, String>)>,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick,
    SignedIn(Result<Session, String>),
    Loaded {
        query: Query,
        result: Result<Data, String>,
    },
    /// The session and the screen, reloaded after a change.
    Reloaded(Box<Reloaded>),
    PasswordVerified(Result<(), String>),
    Done(Result<Done, String>),
    Copied(String),
    /// A change committed by anyone (the model's change feed).
    Changed(Change),
    /// The feed dropped some changes (a slow reader, a reconnection): reload what is shown.
    Missed,
    /// The organization's server is out of reach: what is shown stays, read-only.
    Offline(String),
    /// The server answers again.
    Online,
    /// One of the above from the change-feed watcher numbered `watcher`: the event loop drops
    /// it once that watcher is no longer the session's (a sign-out, another sign-in), so a
    /// late "offline" from an old session never marks a new one read-only.
    Watched {
        watcher: u64,
        msg: Box<Msg>,
    },
}

#[derive(Debug)]
pub enum Effect {
    SignIn {
        email: String,
        password: Secret,
        /// The project to start in (the config file's default_project).
        project: Option<String>,
    },
    /// Signs in with a session kept earlier (`kc-console login`, or the demo's owner).
    Resume {
        auth: Credential,
        project: Option<String>,
    },
    Load {
        auth: Credential,
        query: Query,
    },
    Reload {
        auth: Credential,
        project: Option<String>,
        query: Option<Query>,
    },
    VerifyPassword {
        auth: Credential,
        password: Secret,
    },
    Run {
        auth: Credential,
        command: Command,
    },
    /// Follows the organization's change feed for this session (the terminal side does it).
    Watch {
        auth: Credential,
    },
    /// Ends the session at the server (sign out).
    SignOut {
        auth: Credential,
    },
    Copy {
        text: String,
        what: String,
    },
}
