//! The one vocabulary of requests: every operation of the model that a face (the command line,
//! the console) asks for, as data. The embedded path and the server carry out the very same
//! values through [`super::execute`], so no rule is implemented twice.
//!
//! On the wire a request is JSON tagged by `op` (`{"op": "project.create", "name": ...}`);
//! replies are the JSON of the types below. Adding a request or a field with a default is
//! compatible one way: an older server refuses what it does not know (unknown fields are
//! refused, not dropped); renaming or removing one bumps [`super::PROTOCOL_VERSION`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::console::{
    AccessKey, Attachment, InquiryKind, KeyKind, KeyStatus, OrgRole, Owner, ProjectRole, ProjectView,
    SaStatus, Secret, User,
};

/// How a request proves who sends it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// Nobody: only requests that carry their own credential (a token issue).
    None,
    /// An e-mail and password: a user of the organization or the Help Desk operator.
    Password { email: String, password: Secret },
    /// A session opened by an earlier password sign-in (`kc-console login`, a console).
    Session { token: Secret },
    /// Whoever holds the data directory: the embedded path, or a client on the server's Unix
    /// socket running as the same OS user. Only recovery requests accept it.
    Holder,
}

/// A field this build does not know is refused, never dropped: a newer client's field would
/// otherwise be ignored without a word.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", deny_unknown_fields)]
pub enum Request {
    // ---- sessions and the signed-in principal ----
    /// Opens a session for `Auth::Password` → [`SessionGrant`].
    #[serde(rename = "session.open")]
    SessionOpen,
    /// Ends the session it is sent with (logout).
    #[serde(rename = "session.close")]
    SessionClose,
    /// What a console needs after sign-in → [`Overview`]; `project` is kept current when the
    /// user may still see it.
    #[serde(rename = "overview")]
    Overview { project: Option<String> },
    /// The Credentials page's password re-check.
    #[serde(rename = "password.verify")]
    PasswordVerify { password: Secret },
    #[serde(rename = "password.change")]
    PasswordChange { old: Secret, new: Secret },

    // ---- Billing ----
    #[serde(rename = "payment.list")]
    PaymentList,
    #[serde(rename = "payment.add")]
    PaymentAdd {
        brand: String,
        last4: String,
        expiry: String,
    },

    // ---- IAM › Users ----
    #[serde(rename = "user.list")]
    UserList,
    /// → [`NewUser`], with the initial password once.
    #[serde(rename = "user.add")]
    UserAdd {
        email: String,
        name: String,
        org_role: Option<OrgRole>,
    },
    #[serde(rename = "user.remove")]
    UserRemove { email: String },
    /// Ends a user's password lockout (Org Admin).
    #[serde(rename = "user.unlock")]
    UserUnlock { email: String },

    // ---- IAM › Projects ----
    #[serde(rename = "project.list")]
    ProjectList,
    /// One project the signed-in user may see → [`ProjectView`].
    #[serde(rename = "project.get")]
    ProjectGet { project: String },
    #[serde(rename = "project.create")]
    ProjectCreate {
        name: String,
        nickname: String,
        description: String,
    },
    #[serde(rename = "project.edit")]
    ProjectEdit {
        project: String,
        nickname: Option<String>,
        description: Option<String>,
    },
    #[serde(rename = "project.set_default")]
    ProjectSetDefault { project: String },

    // ---- Project Management › Members ----
    #[serde(rename = "member.list")]
    MemberList { project: String },
    #[serde(rename = "member.add")]
    MemberAdd {
        project: String,
        email: String,
        role: ProjectRole,
    },
    #[serde(rename = "member.set_role")]
    MemberSetRole {
        project: String,
        email: String,
        role: ProjectRole,
    },
    /// → the number of the member's keys that stopped working.
    #[serde(rename = "member.remove")]
    MemberRemove { project: String, email: String },

    // ---- Profile › Credentials ----
    #[serde(rename = "credential.list")]
    CredentialList { kind: Option<KeyKind> },
    /// → [`NewKeyView`], with the secret once.
    #[serde(rename = "credential.create")]
    CredentialCreate {
        kind: KeyKind,
        project: String,
        name: String,
        description: String,
        /// Limits the key's tokens to this role (one its owner holds); none: they follow the
        /// owner's role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<ProjectRole>,
    },
    #[serde(rename = "credential.delete")]
    CredentialDelete { kind: KeyKind, key: String },

    // ---- Project Management › Service Account ----
    #[serde(rename = "sa.list")]
    SaList { project: String },
    #[serde(rename = "sa.get")]
    SaGet { sa: String },
    #[serde(rename = "sa.create")]
    SaCreate {
        project: String,
        name: String,
        description: String,
    },
    #[serde(rename = "sa.set_status")]
    SaSetStatus { sa: String, status: SaStatus },
    /// Deletes the service accounts checked together, after one typed phrase: all or none.
    #[serde(rename = "sa.delete")]
    SaDelete { sas: Vec<String>, confirmation: String },
    #[serde(rename = "sa_key.list")]
    SaKeyList { sa: String },
    #[serde(rename = "sa_key.create")]
    SaKeyCreate {
        sa: String,
        name: String,
        description: String,
    },
    #[serde(rename = "sa_key.delete")]
    SaKeyDelete {
        sa: String,
        key: String,
        confirmation: String,
    },

    // ---- Services and Service Agent ----
    #[serde(rename = "service.enable")]
    ServiceEnable { project: String, service: String },
    #[serde(rename = "service.disable")]
    ServiceDisable { project: String, service: String },
    #[serde(rename = "agent.list")]
    AgentList { project: String },

    // ---- API tokens ----
    /// Needs no sign-in: the key is the credential → [`IssuedTokenView`].
    #[serde(rename = "token.issue")]
    TokenIssue { access_key_id: String, secret: Secret },
    #[serde(rename = "token.verify")]
    TokenVerify { token: Secret },
    #[serde(rename = "token.revoke")]
    TokenRevoke { token: Secret },

    // ---- Help Desk ----
    #[serde(rename = "inquiry.list")]
    InquiryList,
    #[serde(rename = "inquiry.submit")]
    InquirySubmit(Draft),
    /// The operator's queue: every inquiry.
    #[serde(rename = "helpdesk.list")]
    HelpdeskList,
    #[serde(rename = "helpdesk.approve")]
    HelpdeskApprove { inquiry: String },
    #[serde(rename = "helpdesk.reject")]
    HelpdeskReject { inquiry: String },

    // ---- Audit log ----
    /// One page, newest first, older than `before` → [`crate::console::audit::AuditPage`].
    #[serde(rename = "audit.list")]
    AuditList { limit: usize, before: Option<u64> },
    /// How many events the signed-in user may see, counted without reading them.
    #[serde(rename = "audit.count")]
    AuditCount,

    // ---- Recovery, for whoever holds the data directory (`Auth::Holder`) ----
    /// Ends a user's lockout, and with `reset_password` gives them a new password (returned
    /// once) → [`Recovered`].
    #[serde(rename = "recover.user")]
    RecoverUser { email: String, reset_password: bool },
    /// Gives the Help Desk operator a new password (returned once) → [`Recovered`].
    #[serde(rename = "recover.operator")]
    RecoverOperator,
}

impl Request {
    /// The request's name on the wire, for logs and messages.
    pub fn op(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("op").and_then(|op| op.as_str().map(str::to_string)))
            .unwrap_or_default()
    }
}

/// A Help Desk inquiry as the form fills it in; an attachment travels as its name and size
/// (the file itself stays with the client, as the console stores only those).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub kind: InquiryKind,
    pub detail_type: String,
    pub project: Option<String>,
    pub title: String,
    pub details: String,
    pub private: bool,
    pub attachment: Option<Attachment>,
}

// ---- replies ----

/// An inquiry as its lists show it, with its submitter's e-mail (gone when they were removed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InquiryView {
    #[serde(flatten)]
    pub inquiry: crate::console::Inquiry,
    pub submitter_email: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionGrant {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
    /// Who signed in: a user's e-mail or the operator's.
    pub email: String,
}

/// What a console shows around every screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overview {
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub org_role: Option<OrgRole>,
    pub projects: Vec<ProjectView>,
    pub current: Option<ProjectView>,
}

/// A user as lists show one: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_role: Option<OrgRole>,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            org_role: u.org_role,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NewUser {
    pub user: UserView,
    pub initial_password: Secret,
}

/// An access key as lists show one: never its secret nor the secret's digest, and for a
/// user's own keys not even the full ID (the Credentials guide: "After closing the Create IAM
/// access key popup, you will not be able to retrieve the Access key ID and Secret access key
/// again") — a hint to match against what was saved. A service account's keys keep their IDs
/// (their guide says only the secret cannot be retrieved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    /// The full ID: a service account's keys only (and a key just created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The first and last four characters, e.g. `1bff…5d74`.
    pub id_hint: String,
    pub kind: KeyKind,
    pub owner: Owner,
    pub project_id: String,
    /// The project's name, or none when the project is gone.
    pub project_name: Option<String>,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub status: KeyStatus,
    /// The role the key's tokens carry now (the one it was limited to, or its owner's); none
    /// when its owner holds no role in its project.
    #[serde(default)]
    pub role: Option<ProjectRole>,
}

/// `1bff…5d74`: enough to match against a saved ID, not enough to use.
pub fn id_hint(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "…".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

impl KeyView {
    /// A key as lists show it.
    pub fn listed(key: &AccessKey, project_name: Option<String>, role: Option<ProjectRole>) -> KeyView {
        let shown = matches!(key.owner, Owner::ServiceAccount(_));
        KeyView {
            id: shown.then(|| key.id.clone()),
            ..KeyView::with_id(key, project_name, role)
        }
    }

    /// A key with its full ID: the one time its owner sees it, in the creation popup.
    pub fn with_id(key: &AccessKey, project_name: Option<String>, role: Option<ProjectRole>) -> KeyView {
        KeyView {
            id: Some(key.id.clone()),
            id_hint: id_hint(&key.id),
            kind: key.kind,
            owner: key.owner.clone(),
            project_id: key.project_id.clone(),
            project_name,
            name: key.name.clone(),
            description: key.description.clone(),
            created_at: key.created_at,
            status: key.status,
            role,
        }
    }
}

/// A key just created, with its secret: the only time the secret is ever shown.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewKeyView {
    pub key: KeyView,
    pub secret: Secret,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IssuedTokenView {
    pub token: Secret,
    pub info: crate::console::TokenInfo,
}

/// What a recovery did, with a new password when it made one (shown once).
#[derive(Debug, Serialize, Deserialize)]
pub struct Recovered {
    pub email: String,
    pub password: Option<Secret>,
}
