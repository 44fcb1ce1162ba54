//! Carrying out effects against the model. The live console runs these on a worker thread so
//! the UI never waits on argon2 or a flush; tests run them inline.

use super::app::{Command, Done, Effect, Msg, Reveal, Session};
use super::screens;
use crate::console::{Actor, Console, Error, KeyKind, Result};

/// Builds the session for a signed-in actor, keeping `project` current when they may see it.
pub fn session_for(console: &Console, actor: Actor, project: Option<&str>) -> Result<Session> {
    let uid = actor
        .user_id()
        .ok_or_else(|| Error::Denied("only users can use the console".into()))?
        .to_string();
    let user = console.user_by_id(&uid)?;
    let org = console.organization()?;
    let projects = console.list_projects(&actor)?;
    let kept = project.and_then(|id| projects.iter().find(|v| v.project.id == id).cloned());
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
    match effect {
        Effect::SignIn { email, password } => Msg::SignedIn(
            console
                .sign_in(&email, password.expose())
                .and_then(|actor| session_for(console, actor, None))
                .map_err(|e| e.message().to_string()),
        ),
        Effect::RefreshSession { actor, project } => Msg::SessionRefreshed(
            session_for(console, actor, project.as_deref()).map_err(|e| e.message().to_string()),
        ),
        Effect::Load {
            actor,
            screen,
            project,
            subject,
        } => Msg::Loaded {
            screen,
            result: screens::load(console, &actor, screen, project.as_deref(), subject.as_deref())
                .map_err(|e| e.message().to_string()),
            project,
            subject,
        },
        Effect::VerifyPassword { actor, password } => Msg::PasswordVerified(
            console
                .verify_password(&actor, password.expose())
                .map_err(|e| e.message().to_string()),
        ),
        Effect::Run { actor, command } => {
            Msg::Done(run(console, &actor, command).map_err(|e| e.message().to_string()))
        }
        Effect::Copy { .. } => unreachable!("the clipboard is handled by the terminal side"),
    }
}

fn done(flash: String) -> Done {
    Done { flash, reveal: None }
}

fn run(console: &Console, actor: &Actor, command: Command) -> Result<Done> {
    Ok(match command {
        Command::CreateProject {
            name,
            nickname,
            description,
        } => {
            let p = console.create_project(actor, &name, &nickname, &description)?;
            done(format!(
                "Created project {} ({}) — ID {}",
                p.nickname, p.name, p.id
            ))
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
            done(format!(
                "Submitted inquiry \"{}\" to the Help Desk (state: Pending).",
                i.title
            ))
        }
        Command::AddUser {
            email,
            name,
            org_role,
        } => {
            let (user, password) = console.add_user(actor, &email, &name, org_role)?;
            Done {
                flash: format!("Added {}.", user.email),
                reveal: Some(Reveal {
                    secret_label: "Initial password".into(),
                    warning:
                        "The initial password is shown only now. Give it to the user over a safe channel."
                            .into(),
                    ..Reveal::new(
                        "User added".into(),
                        vec![("Name".into(), user.name.clone())],
                        ("Email".into(), user.email.clone()),
                        password,
                    )
                }),
            }
        }
        Command::RemoveUser { email } => {
            console.remove_user(actor, &email)?;
            done(format!("Removed {email}."))
        }
        Command::AddPayment { brand, last4, expiry } => {
            let p = console.add_payment_method(actor, &brand, &last4, &expiry)?;
            done(format!("Registered {} •••• {}.", p.brand, p.last4))
        }
        Command::AddMember {
            project_id,
            email,
            role,
        } => {
            console.add_member(actor, &project_id, &email, role)?;
            done(format!("Added {email} as {}.", role.label()))
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
            done(format!("Created service account {}.", sa.id()))
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
                flash: format!("Created {} {:?}.", kind.label(), new.key.name),
                reveal: Some(Reveal::new(
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
                flash: format!("Created IAM access key {:?} for {sa_id}.", new.key.name),
                reveal: Some(Reveal::new(
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
            done(format!(
                "Started {}; its service agent is {}.",
                agent.service,
                agent.id()
            ))
        }
    })
}
