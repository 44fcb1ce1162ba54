//! The console's menus: what each screen is called, where it sits, its columns, and how its
//! rows are loaded from the model.

use crate::cli::output::local_time;
use crate::console::access::{allows, Permission};
use crate::console::service_accounts::SERVICES;
use crate::console::{Actor, Console, KeyKind, KeyStatus, OrgRole, ProjectRole, Result, SaStatus};

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
    /// Profile › Credentials, IAM access key tab.
    CredentialsIam,
    /// Profile › Credentials, S3 access key tab.
    CredentialsS3,
    /// A service account's detail page: its IAM access keys.
    ServiceAccountDetail,
}

/// A table column. Columns with a higher `drop_order` disappear first as the terminal narrows.
pub struct Column {
    pub title: &'static str,
    pub min_width: u16,
    pub drop_order: u8,
}

const fn col(title: &'static str, min_width: u16, drop_order: u8) -> Column {
    Column {
        title,
        min_width,
        drop_order,
    }
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
        Screen::CredentialsIam,
    ];

    /// The menu entry that is lit while this screen is shown.
    pub fn menu_entry(self) -> Screen {
        match self {
            Screen::CredentialsS3 => Screen::CredentialsIam,
            Screen::ServiceAccountDetail => Screen::ServiceAccounts,
            other => other,
        }
    }

    pub fn is_credentials(self) -> bool {
        matches!(self, Screen::CredentialsIam | Screen::CredentialsS3)
    }

    /// The menu group heading the screen sits under, if any.
    pub fn group(self) -> Option<&'static str> {
        match self {
            Screen::Projects | Screen::Users => Some("IAM"),
            Screen::Members
            | Screen::ServiceAccounts
            | Screen::ServiceAgents
            | Screen::ServiceAccountDetail => Some("Project Management"),
            Screen::CredentialsIam | Screen::CredentialsS3 => Some("Profile"),
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
            Screen::CredentialsIam | Screen::CredentialsS3 => "Credentials",
            Screen::ServiceAccountDetail => "Service Account › Credentials › IAM access key",
        }
    }

    /// The `:` command that opens the screen.
    pub fn command(self) -> &'static str {
        match self {
            Screen::Dashboard => "dashboard",
            Screen::Projects => "projects",
            Screen::Users => "users",
            Screen::Members => "members",
            Screen::ServiceAccounts => "sa",
            Screen::ServiceAgents => "agents",
            Screen::Services => "services",
            Screen::Payments => "payment",
            Screen::HelpDesk => "helpdesk",
            Screen::Audit => "audit",
            Screen::CredentialsIam | Screen::CredentialsS3 => "credentials",
            Screen::ServiceAccountDetail => "sa",
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

    pub fn columns(self) -> &'static [Column] {
        match self {
            Screen::CredentialsIam => {
                const {
                    &[
                        col("NAME", 8, 0),
                        col("ACCESS KEY ID", 32, 0),
                        col("PROJECT", 8, 1),
                        col("DESCRIPTION", 11, 3),
                        col("CREATED AT", 19, 2),
                        col("STATUS", 7, 0),
                    ]
                }
            }
            Screen::CredentialsS3 => {
                const {
                    &[
                        col("NAME", 8, 0),
                        col("AUTHENTICATION KEY", 32, 0),
                        col("PROJECT", 8, 1),
                        col("DESCRIPTION", 11, 3),
                        col("CREATED AT", 19, 2),
                        col("STATUS", 7, 0),
                    ]
                }
            }
            Screen::ServiceAccountDetail => {
                const {
                    &[
                        col("NAME", 8, 0),
                        col("ACCESS KEY ID", 32, 0),
                        col("DESCRIPTION", 11, 1),
                        col("CREATED AT", 19, 2),
                        col("STATUS", 7, 0),
                    ]
                }
            }
            Screen::Dashboard => const { &[col("ITEM", 16, 0), col("VALUE", 20, 0)] },
            Screen::Projects => {
                const {
                    &[
                        col("NICKNAME", 10, 0),
                        col("NAME", 8, 0),
                        col("ID", 32, 3),
                        col("DEFAULT", 7, 2),
                        col("MY ROLE", 14, 1),
                        col("CREATED AT", 19, 4),
                    ]
                }
            }
            Screen::Users => {
                const {
                    &[
                        col("EMAIL", 16, 0),
                        col("NAME", 10, 0),
                        col("ORG ROLE", 10, 1),
                        col("CREATED AT", 19, 2),
                    ]
                }
            }
            Screen::Members => {
                const {
                    &[
                        col("EMAIL", 16, 0),
                        col("NAME", 10, 2),
                        col("ROLE", 14, 0),
                        col("ADDED AT", 19, 2),
                    ]
                }
            }
            Screen::ServiceAccounts => {
                const {
                    &[
                        col("ID", 24, 0),
                        col("NAME", 10, 1),
                        col("STATUS", 10, 0),
                        col("CREATED AT", 19, 2),
                    ]
                }
            }
            Screen::ServiceAgents => {
                const {
                    &[
                        col("SERVICE", 12, 0),
                        col("ID", 24, 0),
                        col("STATUS", 10, 1),
                        col("CREATED AT", 19, 2),
                    ]
                }
            }
            Screen::Services => const { &[col("SERVICE", 17, 0), col("IN THIS PROJECT", 15, 0)] },
            Screen::Payments => {
                const {
                    &[
                        col("BRAND", 6, 0),
                        col("CARD", 9, 0),
                        col("EXPIRY", 6, 0),
                        col("ADDED AT", 19, 1),
                    ]
                }
            }
            Screen::HelpDesk => {
                const {
                    &[
                        col("TYPE", 9, 2),
                        col("DETAILED TYPE", 13, 0),
                        col("PROJECT", 8, 1),
                        col("TITLE", 12, 0),
                        col("STATE", 8, 0),
                        col("SUBMITTED AT", 19, 3),
                    ]
                }
            }
            Screen::Audit => {
                const {
                    &[
                        col("TIME", 19, 0),
                        col("ACTOR", 10, 0),
                        col("VIA", 8, 3),
                        col("ACTION", 12, 0),
                        col("TARGET", 10, 1),
                        col("OUTCOME", 7, 0),
                    ]
                }
            }
        }
    }
}

/// One table row: the ID actions act on, and the cells shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub cells: Vec<String>,
}

impl ListRow {
    fn new(id: impl Into<String>, cells: Vec<String>) -> ListRow {
        ListRow { id: id.into(), cells }
    }
}

/// What the signed-in user can do where they are: their org role and their role in the current
/// project. Used to offer only what the model would allow; the model still decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roles {
    pub org: Option<OrgRole>,
    pub project: Option<ProjectRole>,
}

impl Roles {
    pub fn may(self, permission: Permission) -> bool {
        allows(self.org, self.project, permission)
    }
}

/// Loads a screen's rows for `actor`, in `project_id` where the screen is per project.
/// `subject` is the service account a detail page shows.
pub fn load(
    console: &Console,
    actor: &Actor,
    screen: Screen,
    project_id: Option<&str>,
    subject: Option<&str>,
) -> Result<Vec<ListRow>> {
    let need_project = || {
        project_id.ok_or_else(|| {
            crate::console::Error::NotFound("no current project: press p to choose one".into())
        })
    };
    Ok(match screen {
        Screen::Dashboard => dashboard(console, actor, project_id)?,
        Screen::CredentialsIam | Screen::CredentialsS3 => {
            let kind = if screen == Screen::CredentialsIam {
                KeyKind::Iam
            } else {
                KeyKind::S3
            };
            let names = console.project_names()?;
            console
                .list_credentials(actor, Some(kind))?
                .into_iter()
                .map(|k| {
                    let project = names
                        .get(&k.project_id)
                        .cloned()
                        .unwrap_or_else(|| "(deleted)".into());
                    ListRow::new(
                        k.id.clone(),
                        vec![
                            k.name,
                            k.id,
                            project,
                            k.description,
                            local_time(&k.created_at),
                            key_status(k.status).into(),
                        ],
                    )
                })
                .collect()
        }
        Screen::ServiceAccountDetail => {
            let sa_id =
                subject.ok_or_else(|| crate::console::Error::NotFound("no service account chosen".into()))?;
            console
                .list_sa_keys(actor, sa_id)?
                .into_iter()
                .map(|k| {
                    ListRow::new(
                        k.id.clone(),
                        vec![
                            k.name,
                            k.id,
                            k.description,
                            local_time(&k.created_at),
                            key_status(k.status).into(),
                        ],
                    )
                })
                .collect()
        }
        Screen::Projects => console
            .list_projects(actor)?
            .into_iter()
            .map(|v| {
                ListRow::new(
                    v.project.id.clone(),
                    vec![
                        v.project.nickname,
                        v.project.name,
                        v.project.id,
                        if v.is_default {
                            "★ default".into()
                        } else {
                            String::new()
                        },
                        v.my_role.map(ProjectRole::label).unwrap_or("-").into(),
                        local_time(&v.project.created_at),
                    ],
                )
            })
            .collect(),
        Screen::Users => console
            .list_users(actor)?
            .into_iter()
            .map(|u| {
                ListRow::new(
                    u.email.clone(),
                    vec![
                        u.email,
                        u.name,
                        u.org_role.map(OrgRole::label).unwrap_or("-").into(),
                        local_time(&u.created_at),
                    ],
                )
            })
            .collect(),
        Screen::Members => console
            .list_members(actor, need_project()?)?
            .into_iter()
            .map(|m| {
                ListRow::new(
                    m.email.clone(),
                    vec![m.email, m.name, m.role.label().into(), local_time(&m.added_at)],
                )
            })
            .collect(),
        Screen::ServiceAccounts => console
            .list_service_accounts(actor, need_project()?)?
            .into_iter()
            .map(|sa| {
                ListRow::new(
                    sa.id(),
                    vec![
                        sa.id(),
                        sa.name.clone(),
                        status_dot(sa.status).into(),
                        local_time(&sa.created_at),
                    ],
                )
            })
            .collect(),
        Screen::ServiceAgents => console
            .list_agents(actor, need_project()?)?
            .into_iter()
            .map(|a| {
                ListRow::new(
                    a.id(),
                    vec![
                        a.service.clone(),
                        a.id(),
                        status_dot(a.status).into(),
                        local_time(&a.created_at),
                    ],
                )
            })
            .collect(),
        Screen::Services => {
            let project = console.find_project(need_project()?)?;
            SERVICES
                .iter()
                .map(|s| {
                    let used = if project.agents.contains_key(*s) {
                        "● in use"
                    } else {
                        "○ not used"
                    };
                    ListRow::new(*s, vec![(*s).into(), used.into()])
                })
                .collect()
        }
        Screen::Payments => console
            .list_payment_methods(actor)?
            .into_iter()
            .map(|p| {
                ListRow::new(
                    p.id,
                    vec![
                        p.brand,
                        format!("•••• {}", p.last4),
                        p.expiry,
                        local_time(&p.added_at),
                    ],
                )
            })
            .collect(),
        Screen::HelpDesk => console
            .list_inquiries(actor)?
            .into_iter()
            .map(|i| {
                ListRow::new(
                    i.id.clone(),
                    vec![
                        format!("{:?}", i.kind),
                        i.detail_type,
                        i.project_name.unwrap_or_default(),
                        i.title,
                        format!("{:?}", i.state),
                        local_time(&i.submitted_at),
                    ],
                )
            })
            .collect(),
        Screen::Audit => console
            .list_audit(actor, usize::MAX)?
            .into_iter()
            .map(|e| {
                ListRow::new(
                    e.seq.to_string(),
                    vec![local_time(&e.at), e.actor, e.via, e.action, e.target, e.outcome],
                )
            })
            .collect(),
    })
}

fn key_status(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "Active",
        KeyStatus::Expired => "Expired",
    }
}

fn status_dot(s: SaStatus) -> &'static str {
    match s {
        SaStatus::Active => "● Active",
        SaStatus::Inactive => "○ Inactive",
    }
}

/// The dashboard: a summary of the current project, as label/value rows.
fn dashboard(console: &Console, actor: &Actor, project_id: Option<&str>) -> Result<Vec<ListRow>> {
    let org = console.organization()?;
    let mut rows = vec![ListRow::new("org", vec!["Organization".into(), org.name])];
    let Some(project_id) = project_id else {
        rows.push(ListRow::new(
            "none",
            vec!["Current project".into(), "none — press p to choose one".into()],
        ));
        return Ok(rows);
    };
    let project = console.find_project(project_id)?;
    let role = actor
        .user_id()
        .map(|uid| console.project_role(&project.id, uid))
        .transpose()?
        .flatten();
    let org_role = actor
        .user_id()
        .map(|uid| console.user_by_id(uid))
        .transpose()?
        .and_then(|u| u.org_role);
    let roles = Roles {
        org: org_role,
        project: role,
    };
    rows.push(ListRow::new(
        "nickname",
        vec!["Current project".into(), project.nickname.clone()],
    ));
    rows.push(ListRow::new(
        "name",
        vec!["Project name".into(), project.name.clone()],
    ));
    rows.push(ListRow::new("id", vec!["Project ID".into(), project.id.clone()]));
    rows.push(ListRow::new(
        "role",
        vec![
            "Your role".into(),
            role.map(ProjectRole::label).unwrap_or("no project role").into(),
        ],
    ));
    if !project.description.is_empty() {
        rows.push(ListRow::new(
            "description",
            vec!["Description".into(), project.description.clone()],
        ));
    }
    rows.push(ListRow::new(
        "services",
        vec![
            "Services in use".into(),
            if project.agents.is_empty() {
                "none".into()
            } else {
                project.agents.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        ],
    ));
    let members = console.list_members(actor, &project.id)?;
    rows.push(ListRow::new(
        "members",
        vec!["Members".into(), members.len().to_string()],
    ));
    // Only ask for what the role may see, so the dashboard never causes refusals.
    if roles.may(Permission::ViewServiceAccounts) {
        let count = console.list_service_accounts(actor, &project.id)?.len();
        rows.push(ListRow::new(
            "sas",
            vec!["Service accounts".into(), count.to_string()],
        ));
    }
    rows.push(ListRow::new(
        "go",
        vec!["".into(), "▸ Go to Project Management (Enter)".into()],
    ));
    Ok(rows)
}
