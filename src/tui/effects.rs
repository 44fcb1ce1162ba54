//! The one seam between the interactive console and the model: every model call the console
//! makes is in this file. `perform` carries out an effect and answers with a message of plain
//! data. The live console runs it on a worker thread so the UI never waits on argon2 or a
//! flush; tests run it inline.

use std::collections::BTreeMap;

use super::msg::{
    Command, DashboardData, Data, Done, Effect, Msg, OneTime, Query, Reloaded, ServiceUse, Session,
};
use crate::console::access::Permission;
use crate::console::service_accounts::SERVICES;
use crate::console::{Actor, AuditEvent, Console, Error, KeyKind, Result};

/// Builds the session for a signed-in actor, keeping `project` (name or ID) current when they
/// may see it, else the project they start in.
pub fn session_for(console: &Console, actor: Actor, project: Option<&str>) -> Result<Session> {
    let uid = actor
        .user_id()
        .ok_or_else(|| Error::Denied("only users can use the console".into()))?
        .to_string();
    let user = console.user_by_id(&uid)?;
    let org = console.organization()?;
    let projects = console.list_projects(&actor)?;
    let kept = project.and_then(|p| {
        projects
            .iter()
            .find(|v| v.project.id == p || v.project.name == p)
            .cloned()
    });
    let current = match kept {
        Some(view) => Some(view),
        None => console
            .starting_project(&actor)?
            .and_then(|p| projects.iter().find(|v| v.project.id == p.id).cloned()),
    };
    Ok(Session {
        actor,
        email: user.email,
        name: user.name,
        org_name: org.name,
        org_role: user.org_role,
        projects,
        current,
    })
}

/// Performs one effect other than `Copy` (the clipboard belongs to the terminal side).
pub fn perform(console: &Console, effect: Effect) -> Msg {
    let text = |e: Error| e.message().to_string();
    match effect {
        Effect::SignIn {
            email,
            password,
            project,
        } => Msg::SignedIn(
            console
                .sign_in(&email, password.expose())
                .and_then(|actor| session_for(console, actor, project.as_deref()))
                .map_err(text),
        ),
        Effect::Load { actor, query } => Msg::Loaded {
            result: load(console, &actor, &query).map_err(text),
            query,
        },
        Effect::Reload {
            actor,
            project,
            query,
        } => Msg::Reloaded(Box::new(Reloaded {
            screen: query.map(|q| (q.clone(), load(console, &actor, &q).map_err(text))),
            session: session_for(console, actor, project.as_deref()).map_err(text),
        })),
        Effect::VerifyPassword { actor, password } => {
            Msg::PasswordVerified(console.verify_password(&actor, password.expose()).map_err(text))
        }
        Effect::Run { actor, command } => Msg::Done(run(console, &actor, command).map_err(text)),
        Effect::Copy { .. } => unreachable!("the clipboard is handled by the terminal side"),
    }
}

/// The audit log as the Audit screen shows it. One function, so that moving the screen onto
/// the model's paged audit call is one edit.
pub fn load_audit(console: &Console, actor: &Actor) -> Result<Vec<AuditEvent>> {
    console.list_audit(actor, usize::MAX)
}

/// Answers a screen's query.
pub fn load(console: &Console, actor: &Actor, query: &Query) -> Result<Data> {
    Ok(match query {
        Query::Dashboard { project } => Data::Dashboard(dashboard(console, actor, project.as_deref())?),
        Query::Projects => Data::Projects(console.list_projects(actor)?),
        Query::Users => Data::Users(console.list_users(actor)?),
        Query::Members { project } => Data::Members(console.list_members(actor, project)?),
        Query::ServiceAccounts { project } => {
            Data::ServiceAccounts(console.list_service_accounts(actor, project)?)
        }
        Query::SaKeys { sa_id } => Data::SaKeys(console.list_sa_keys(actor, sa_id)?),
        Query::Agents { project } => Data::Agents(console.list_agents(actor, project)?),
        Query::Services { project } => {
            let project = console.find_project(project)?;
            Data::Services(
                SERVICES
                    .iter()
                    .map(|s| ServiceUse {
                        service: (*s).to_string(),
                        agent: project.agents.get(*s).cloned(),
                    })
                    .collect(),
            )
        }
        Query::Payments => Data::Payments(console.list_payment_methods(actor)?),
        Query::Inquiries => {
            let inquiries = console.list_inquiries(actor)?;
            let mut submitters = BTreeMap::new();
            for i in &inquiries {
                if !submitters.contains_key(&i.submitted_by) {
                    // A submitter who has since been removed is shown by ID.
                    if let Ok(user) = console.user_by_id(&i.submitted_by) {
                        submitters.insert(i.submitted_by.clone(), user.email);
                    }
                }
            }
            Data::Inquiries(inquiries, submitters)
        }
        Query::Audit => Data::Audit(load_audit(console, actor)?),
        Query::Credentials { kind } => Data::Credentials(
            console.list_credentials(actor, Some(*kind))?,
            console.project_names()?.into_iter().collect(),
        ),
    })
}

/// The dashboard: a summary of the current project.
fn dashboard(console: &Console, actor: &Actor, project_id: Option<&str>) -> Result<DashboardData> {
    let org = console.organization()?;
    let Some(project_id) = project_id else {
        return Ok(DashboardData {
            org_name: org.name,
            project: None,
            role: None,
            members: 0,
            service_accounts: None,
        });
    };
    let project = console.find_project(project_id)?;
    let uid = actor.user_id().unwrap_or_default();
    let role = console.project_role(&project.id, uid)?;
    let org_role = console.user_by_id(uid)?.org_role;
    let members = console.list_members(actor, &project.id)?.len();
    // Only ask for what the role may see, so the dashboard never causes refusals.
    let service_accounts = if crate::console::access::allows(org_role, role, Permission::ViewServiceAccounts)
    {
        Some(console.list_service_accounts(actor, &project.id)?.len())
    } else {
        None
    };
    Ok(DashboardData {
        org_name: org.name,
        project: Some(project),
        role,
        members,
        service_accounts,
    })
}

fn done(message: String) -> Done {
    Done {
        message,
        reveal: None,
        select: None,
    }
}

fn made(message: String, select: String) -> Done {
    Done {
        message,
        reveal: None,
        select: Some(select),
    }
}

fn one_time(
    title: String,
    lines: Vec<(String, String)>,
    id: (String, String),
    secret: crate::console::Secret,
) -> OneTime {
    OneTime {
        title,
        lines,
        id,
        secret_label: "Secret access key".into(),
        secret,
        warning: "The secret access key cannot be shown again once this window closes. Copy it now and keep it safe."
            .into(),
    }
}

fn run(console: &Console, actor: &Actor, command: Command) -> Result<Done> {
    Ok(match command {
        Command::CreateProject {
            name,
            nickname,
            description,
        } => {
            let p = console.create_project(actor, &name, &nickname, &description)?;
            made(
                format!("Created project {} ({}) — ID {}", p.nickname, p.name, p.id),
                p.id,
            )
        }
        Command::EditProject {
            project_id,
            nickname,
            description,
        } => {
            let p = console.edit_project(actor, &project_id, Some(&nickname), Some(&description))?;
            done(format!("Saved project {}.", p.name))
        }
        Command::SetDefaultProject { project_id } => {
            console.set_default_project(actor, &project_id)?;
            done(format!(
                "{} is now the default project.",
                console.find_project(&project_id)?.name
            ))
        }
        Command::SubmitInquiry(draft) => {
            let i = console.submit_inquiry(actor, &draft)?;
            made(
                format!(
                    "Submitted inquiry \"{}\" to the Help Desk (ID {}, state: Pending).",
                    i.title, i.id
                ),
                i.id,
            )
        }
        Command::AddUser {
            email,
            name,
            org_role,
        } => {
            let (user, password) = console.add_user(actor, &email, &name, org_role)?;
            Done {
                message: format!("Added {}.", user.email),
                reveal: Some(OneTime {
                    secret_label: "Initial password".into(),
                    warning:
                        "The initial password is shown only now. Give it to the user over a safe channel."
                            .into(),
                    ..one_time(
                        "User added".into(),
                        vec![("Name".into(), user.name.clone())],
                        ("Email".into(), user.email.clone()),
                        password,
                    )
                }),
                select: Some(user.email),
            }
        }
        Command::RemoveUser { email } => {
            console.remove_user(actor, &email)?;
            done(format!("Removed {email}."))
        }
        Command::AddPayment { brand, last4, expiry } => {
            let p = console.add_payment_method(actor, &brand, &last4, &expiry)?;
            made(format!("Registered {} •••• {}.", p.brand, p.last4), p.id)
        }
        Command::AddMember {
            project_id,
            email,
            role,
        } => {
            console.add_member(actor, &project_id, &email, role)?;
            made(format!("Added {email} as {}.", role.label()), email)
        }
        Command::SetMemberRole {
            project_id,
            email,
            role,
        } => {
            console.set_member_role(actor, &project_id, &email, role)?;
            done(format!("{email} is now {}.", role.label()))
        }
        Command::RemoveMember { project_id, email } => {
            let expired = console.remove_member(actor, &project_id, &email)?;
            done(format!(
                "Removed {email}; {expired} of their access keys stopped working."
            ))
        }
        Command::CreateServiceAccount {
            project_id,
            name,
            description,
        } => {
            let sa = console.create_service_account(actor, &project_id, &name, &description)?;
            made(format!("Created service account {}.", sa.id()), sa.id())
        }
        Command::SetServiceAccountStatus { sa_id, status } => {
            let sa = console.set_service_account_status(actor, &sa_id, status)?;
            done(format!("{} is {}.", sa.name, sa.status.label()))
        }
        Command::DeleteServiceAccount { sa_id, confirmation } => {
            let sa = console.delete_service_account(actor, &sa_id, &confirmation)?;
            done(format!("Deleted service account {}.", sa.name))
        }
        Command::CreateCredential {
            kind,
            project,
            name,
            description,
        } => {
            let new = console.create_credential(actor, kind, &project, &name, &description)?;
            let id_label = match kind {
                KeyKind::Iam => "Access key ID",
                KeyKind::S3 => "Authentication key",
            };
            Done {
                message: format!("Created {} {:?}.", kind.label(), new.key.name),
                select: Some(new.key.id.clone()),
                reveal: Some(one_time(
                    format!("{} created", kind.label()),
                    vec![("Project".into(), project), ("Name".into(), new.key.name.clone())],
                    (id_label.into(), new.key.id.clone()),
                    new.secret,
                )),
            }
        }
        Command::DeleteCredential { kind, key_id } => {
            let key = console.delete_credential(actor, kind, &key_id)?;
            done(format!(
                "Deleted {} {:?}; its tokens no longer work.",
                kind.label(),
                key.name
            ))
        }
        Command::CreateSaKey {
            sa_id,
            name,
            description,
        } => {
            let new = console.create_sa_key(actor, &sa_id, &name, &description)?;
            Done {
                message: format!("Created IAM access key {:?} for {sa_id}.", new.key.name),
                select: Some(new.key.id.clone()),
                reveal: Some(one_time(
                    "IAM access key created".into(),
                    vec![
                        ("Service account ID".into(), sa_id),
                        ("Name".into(), new.key.name.clone()),
                    ],
                    ("Access key ID".into(), new.key.id.clone()),
                    new.secret,
                )),
            }
        }
        Command::DeleteSaKey {
            sa_id,
            key_id,
            confirmation,
        } => {
            let key = console.delete_sa_key(actor, &sa_id, &key_id, &confirmation)?;
            done(format!(
                "Deleted IAM access key {:?}; its tokens no longer work.",
                key.name
            ))
        }
        Command::EnableService { project_id, service } => {
            let agent = console.enable_service(actor, &project_id, &service)?;
            made(
                format!("Started {}; its service agent is {}.", agent.service, agent.id()),
                service,
            )
        }
    })
}
