//! The one seam between the interactive console and the organization: every request the
//! console makes is in this file, in the request vocabulary every face shares (`crate::org`),
//! so the console works the same on a data directory it holds and as a client of the server
//! that holds one. `perform` carries out an effect and answers with a message of plain data.
//! The live console runs it on a worker thread so the UI never waits on argon2, a flush or the
//! network; tests run it inline.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::msg::{
    Command, Credential, DashboardData, Data, Done, Effect, Msg, OneTime, Query, Reloaded, ServiceUse,
    Session,
};
use crate::console::access::Permission;
use crate::console::audit::AuditPage;
use crate::console::service_accounts::SERVICES;
use crate::console::{Actor, Console, Error, Inquiry, KeyKind, Owner, Result, Secret};
use crate::org::request::{Draft, InquiryView, KeyView, NewKeyView, NewUser, Overview, SessionGrant};
use crate::org::{self, Auth, Borrowed, Org, Request};

/// How many audit events one page of the Audit log screen holds.
pub const AUDIT_PAGE: usize = 500;

fn ask<T: DeserializeOwned>(org: &dyn Org, auth: &Auth, request: Request) -> Result<T> {
    org::call(org, auth, request)
}

fn done_ok(org: &dyn Org, auth: &Auth, request: Request) -> Result<()> {
    ask::<serde_json::Value>(org, auth, request).map(drop)
}

/// The session of a signed-in user: who they are, their projects, and the current one —
/// `project` (name or ID) when they may still see it, else the project they start in.
pub fn session(org: &dyn Org, auth: Credential, project: Option<&str>) -> Result<Session> {
    let overview: Overview = ask(
        org,
        &auth,
        Request::Overview {
            project: project.map(str::to_string),
        },
    )?;
    // The overview keeps a project by ID; a name (the config file's) is matched here.
    let current = match project {
        Some(p) => overview
            .projects
            .iter()
            .find(|v| v.project.id == p || v.project.name == p)
            .cloned()
            .or(overview.current),
        None => overview.current,
    };
    Ok(Session {
        auth,
        email: overview.email,
        name: overview.name,
        org_name: overview.org_name,
        org_role: overview.org_role,
        projects: overview.projects,
        current,
    })
}

/// A session for an actor who has just signed in with a password, on a model in this process
/// (the demo's owner, tests and walkthroughs).
pub fn session_for(console: &Console, actor: Actor, project: Option<&str>) -> Result<Session> {
    let opened = console.open_session(&actor)?;
    let auth = Arc::new(Auth::Session { token: opened.token });
    session(&Borrowed::new(console), auth, project)
}

fn sign_in(org: &dyn Org, email: String, password: Secret, project: Option<&str>) -> Result<Session> {
    let grant: SessionGrant = ask(org, &Auth::Password { email, password }, Request::SessionOpen)?;
    session(org, Arc::new(Auth::Session { token: grant.token }), project)
}

/// Performs one effect other than those the terminal side keeps (`Copy`, `Watch`).
pub fn perform(org: &dyn Org, effect: Effect) -> Msg {
    let text = |e: Error| e.message().to_string();
    match effect {
        Effect::SignIn {
            email,
            password,
            project,
        } => Msg::SignedIn(sign_in(org, email, password, project.as_deref()).map_err(text)),
        Effect::Resume { auth, project } => {
            Msg::SignedIn(session(org, auth, project.as_deref()).map_err(text))
        }
        Effect::Load { auth, query } => Msg::Loaded {
            result: load(org, &auth, &query).map_err(text),
            query,
        },
        Effect::Reload { auth, project, query } => Msg::Reloaded(Box::new(Reloaded {
            screen: query.map(|q| (q.clone(), load(org, &auth, &q).map_err(text))),
            session: session(org, auth, project.as_deref()).map_err(text),
        })),
        Effect::VerifyPassword { auth, password } => {
            Msg::PasswordVerified(done_ok(org, &auth, Request::PasswordVerify { password }).map_err(text))
        }
        Effect::Run { auth, command } => Msg::Done(run(org, &auth, command).map_err(text)),
        Effect::SignOut { auth } => {
            // Ending it at the server is a courtesy: a session that already ended is fine.
            let _ = done_ok(org, &auth, Request::SessionClose);
            Msg::Tick
        }
        Effect::Copy { .. } | Effect::Watch { .. } => {
            unreachable!("the clipboard and the change feed are the terminal side's")
        }
    }
}

/// Answers a screen's query.
pub fn load(org: &dyn Org, auth: &Auth, query: &Query) -> Result<Data> {
    Ok(match query {
        Query::Dashboard { project } => Data::Dashboard(dashboard(org, auth, project.as_deref())?),
        Query::Projects => Data::Projects(ask(org, auth, Request::ProjectList)?),
        Query::Users => Data::Users(ask(org, auth, Request::UserList)?),
        Query::Members { project } => Data::Members(ask(
            org,
            auth,
            Request::MemberList {
                project: project.clone(),
            },
        )?),
        Query::ServiceAccounts { project } => Data::ServiceAccounts(ask(
            org,
            auth,
            Request::SaList {
                project: project.clone(),
            },
        )?),
        Query::SaKeys { sa_id } => Data::SaKeys(ask(org, auth, Request::SaKeyList { sa: sa_id.clone() })?),
        Query::Agents { project } => Data::Agents(ask(
            org,
            auth,
            Request::AgentList {
                project: project.clone(),
            },
        )?),
        Query::Services { project } => {
            let view: crate::console::ProjectView = ask(
                org,
                auth,
                Request::ProjectGet {
                    project: project.clone(),
                },
            )?;
            Data::Services(
                SERVICES
                    .iter()
                    .map(|s| ServiceUse {
                        service: (*s).to_string(),
                        agent: view.project.agents.get(*s).cloned(),
                    })
                    .collect(),
            )
        }
        Query::Payments => Data::Payments(ask(org, auth, Request::PaymentList)?),
        Query::Inquiries => {
            let listed: Vec<InquiryView> = ask(org, auth, Request::InquiryList)?;
            let submitters = listed
                .iter()
                .filter_map(|v| Some((v.inquiry.submitted_by.clone(), v.submitter_email.clone()?)))
                .collect();
            Data::Inquiries(listed.into_iter().map(|v| v.inquiry).collect(), submitters)
        }
        Query::Audit { before } => {
            let page: AuditPage = ask(
                org,
                auth,
                Request::AuditList {
                    limit: AUDIT_PAGE,
                    before: *before,
                },
            )?;
            Data::Audit {
                events: page.events,
                older: page.older,
                total: ask(org, auth, Request::AuditCount)?,
            }
        }
        Query::Credentials { kind } => {
            Data::Credentials(ask(org, auth, Request::CredentialList { kind: Some(*kind) })?)
        }
    })
}

/// The dashboard: a summary of the current project.
fn dashboard(org: &dyn Org, auth: &Auth, project: Option<&str>) -> Result<DashboardData> {
    let overview: Overview = ask(org, auth, Request::Overview { project: None })?;
    let Some(project) = project else {
        return Ok(DashboardData {
            org_name: overview.org_name,
            project: None,
            role: None,
            members: 0,
            service_accounts: None,
        });
    };
    let view: crate::console::ProjectView = ask(
        org,
        auth,
        Request::ProjectGet {
            project: project.into(),
        },
    )?;
    let members: Vec<crate::console::projects::MemberView> = ask(
        org,
        auth,
        Request::MemberList {
            project: view.project.id.clone(),
        },
    )?;
    // Only ask for what the role may see, so the dashboard never causes refusals.
    let service_accounts =
        if crate::console::access::allows(overview.org_role, view.my_role, Permission::ViewServiceAccounts) {
            let list: Vec<crate::console::ServiceAccount> = ask(
                org,
                auth,
                Request::SaList {
                    project: view.project.id.clone(),
                },
            )?;
            Some(list.len())
        } else {
            None
        };
    Ok(DashboardData {
        org_name: overview.org_name,
        role: view.my_role,
        project: Some(view.project),
        members: members.len(),
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

fn one_time(title: String, lines: Vec<(String, String)>, id: (String, String), secret: Secret) -> OneTime {
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

/// The popup for a key just made: a user's key shows its ID only now (the Credentials guide:
/// neither the ID nor the secret can be retrieved after the popup closes), a service account's
/// key keeps its ID listed and only the secret is shown once.
fn key_reveal(new: NewKeyView, title: String, mut lines: Vec<(String, String)>) -> (OneTime, String) {
    let key: KeyView = new.key;
    let id_label = match key.kind {
        KeyKind::Iam => "Access key ID",
        KeyKind::S3 => "Authentication key",
    };
    let id = key.id.clone().unwrap_or_default();
    let (select, warning) = match key.owner {
        Owner::User(_) => (
            key.name.clone(),
            format!(
                "After closing this popup, you will not be able to retrieve the {id_label} and Secret access key again (lists show only a hint of the ID). Copy both now and keep them safe."
            ),
        ),
        Owner::ServiceAccount(_) => (
            id.clone(),
            "After closing this popup, you will not be able to retrieve the Secret access key again. Copy it now and keep it safe.".into(),
        ),
    };
    lines.push(("Name".into(), key.name.clone()));
    (
        OneTime {
            warning,
            ..one_time(title, lines, (id_label.into(), id), new.secret)
        },
        select,
    )
}

fn run(org: &dyn Org, auth: &Auth, command: Command) -> Result<Done> {
    Ok(match command {
        Command::CreateProject {
            name,
            nickname,
            description,
        } => {
            let p: crate::console::Project = ask(
                org,
                auth,
                Request::ProjectCreate {
                    name,
                    nickname,
                    description,
                },
            )?;
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
            let p: crate::console::Project = ask(
                org,
                auth,
                Request::ProjectEdit {
                    project: project_id,
                    nickname: Some(nickname),
                    description: Some(description),
                },
            )?;
            done(format!("Saved project {}.", p.name))
        }
        Command::SetDefaultProject { project_id } => {
            let view: crate::console::ProjectView =
                ask(org, auth, Request::ProjectSetDefault { project: project_id })?;
            done(format!("{} is now the default project.", view.project.name))
        }
        Command::SubmitInquiry(draft) => {
            let i: Inquiry = ask(
                org,
                auth,
                Request::InquirySubmit(Draft {
                    kind: draft.kind,
                    detail_type: draft.detail_type,
                    project: draft.project,
                    title: draft.title,
                    details: draft.details,
                    private: draft.private,
                    attachment: draft.attachment,
                }),
            )?;
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
            let added: NewUser = ask(
                org,
                auth,
                Request::UserAdd {
                    email,
                    name,
                    org_role,
                },
            )?;
            Done {
                message: format!("Added {}.", added.user.email),
                reveal: Some(OneTime {
                    secret_label: "Initial password".into(),
                    warning:
                        "The initial password is shown only now. Give it to the user over a safe channel."
                            .into(),
                    ..one_time(
                        "User added".into(),
                        vec![("Name".into(), added.user.name.clone())],
                        ("Email".into(), added.user.email.clone()),
                        added.initial_password,
                    )
                }),
                select: Some(added.user.email),
            }
        }
        Command::RemoveUser { email } => {
            done_ok(org, auth, Request::UserRemove { email: email.clone() })?;
            done(format!("Removed {email}."))
        }
        Command::AddPayment { brand, last4, expiry } => {
            let p: crate::console::PaymentMethod =
                ask(org, auth, Request::PaymentAdd { brand, last4, expiry })?;
            made(format!("Registered {} •••• {}.", p.brand, p.last4), p.id)
        }
        Command::AddMember {
            project_id,
            email,
            role,
        } => {
            done_ok(
                org,
                auth,
                Request::MemberAdd {
                    project: project_id,
                    email: email.clone(),
                    role,
                },
            )?;
            made(format!("Added {email} as {}.", role.label()), email)
        }
        Command::SetMemberRole {
            project_id,
            email,
            role,
        } => {
            done_ok(
                org,
                auth,
                Request::MemberSetRole {
                    project: project_id,
                    email: email.clone(),
                    role,
                },
            )?;
            done(format!("{email} is now {}.", role.label()))
        }
        Command::RemoveMember { project_id, email } => {
            let removed: serde_json::Value = ask(
                org,
                auth,
                Request::MemberRemove {
                    project: project_id,
                    email: email.clone(),
                },
            )?;
            let expired = removed["expired_keys"].as_u64().unwrap_or_default();
            done(format!(
                "Removed {email}; {expired} of their access keys stopped working."
            ))
        }
        Command::CreateServiceAccount {
            project_id,
            name,
            description,
        } => {
            let sa: crate::console::ServiceAccount = ask(
                org,
                auth,
                Request::SaCreate {
                    project: project_id,
                    name,
                    description,
                },
            )?;
            made(format!("Created service account {}.", sa.id()), sa.id())
        }
        Command::SetServiceAccountStatus { sa_id, status } => {
            let sa: crate::console::ServiceAccount =
                ask(org, auth, Request::SaSetStatus { sa: sa_id, status })?;
            done(format!("{} is {}.", sa.name, sa.status.label()))
        }
        Command::DeleteServiceAccounts { sa_ids, confirmation } => {
            let deleted: Vec<crate::console::ServiceAccount> = ask(
                org,
                auth,
                Request::SaDelete {
                    sas: sa_ids,
                    confirmation,
                },
            )?;
            let names: Vec<String> = deleted.iter().map(|sa| sa.name.clone()).collect();
            done(match names.len() {
                1 => format!("Deleted service account {}.", names[0]),
                n => format!("Deleted {n} service accounts: {}.", names.join(", ")),
            })
        }
        Command::CreateCredential {
            kind,
            project,
            name,
            description,
        } => {
            let new: NewKeyView = ask(
                org,
                auth,
                Request::CredentialCreate {
                    kind,
                    project: project.clone(),
                    name,
                    description,
                    role: None,
                },
            )?;
            let message = format!("Created {} {:?}.", kind.label(), new.key.name);
            let (reveal, select) = key_reveal(
                new,
                format!("{} created", kind.label()),
                vec![("Project".into(), project)],
            );
            Done {
                message,
                select: Some(select),
                reveal: Some(reveal),
            }
        }
        Command::DeleteCredential { kind, key_id } => {
            let key: KeyView = ask(org, auth, Request::CredentialDelete { kind, key: key_id })?;
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
            let new: NewKeyView = ask(
                org,
                auth,
                Request::SaKeyCreate {
                    sa: sa_id.clone(),
                    name,
                    description,
                },
            )?;
            let message = format!("Created IAM access key {:?} for {sa_id}.", new.key.name);
            let (reveal, select) = key_reveal(
                new,
                "IAM access key created".into(),
                vec![("Service account ID".into(), sa_id)],
            );
            Done {
                message,
                select: Some(select),
                reveal: Some(reveal),
            }
        }
        Command::DeleteSaKey {
            sa_id,
            key_id,
            confirmation,
        } => {
            let key: KeyView = ask(
                org,
                auth,
                Request::SaKeyDelete {
                    sa: sa_id,
                    key: key_id,
                    confirmation,
                },
            )?;
            done(format!(
                "Deleted IAM access key {:?}; its tokens no longer work.",
                key.name
            ))
        }
        Command::EnableService { project_id, service } => {
            let agent: crate::console::Agent = ask(
                org,
                auth,
                Request::ServiceEnable {
                    project: project_id,
                    service: service.clone(),
                },
            )?;
            made(
                format!("Started {}; its service agent is {}.", agent.service, agent.id()),
                service,
            )
        }
        Command::DisableService { project_id, service } => {
            let agent: crate::console::Agent = ask(
                org,
                auth,
                Request::ServiceDisable {
                    project: project_id,
                    service,
                },
            )?;
            done(format!(
                "Stopped using {}; its service agent {} is Inactive.",
                agent.service,
                agent.id()
            ))
        }
    })
}
