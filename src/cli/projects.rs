//! `project` (IAM › Projects) and `member` (Project Management › Members).

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{json, Value};

use super::helpdesk::inquiry_json;
use super::output::{local_time, table};
use super::{Context, Output};
use crate::console::inquiries::PROJECT_DELETION;
use crate::console::projects::MemberView;
use crate::console::{Attachment, Error, Inquiry, InquiryKind, Project, ProjectRole, ProjectView, Result};
use crate::org::request::Draft;
use crate::org::Request;

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Projects you may see (all of them for Org Admin and Org Reader)
    List,
    /// Create a project (Org Admin; a payment method must be registered first)
    Create {
        /// Unique, immutable identifier used by APIs
        #[arg(long)]
        name: String,
        /// Display name
        #[arg(long)]
        nickname: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Edit a project's nickname or description (Org Admin); the name never changes
    Edit {
        /// Project name or ID
        project: String,
        #[arg(long)]
        nickname: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Make a project the organization's default (Org Admin)
    SetDefault { project: String },
    /// Ask the Help Desk to delete a project and everything in it (Org Admin)
    RequestDeletion {
        project: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        details: String,
        #[arg(long)]
        private: bool,
        #[arg(long, value_name = "FILE")]
        attachment: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Members of a project and their roles
    List {
        #[arg(long)]
        project: String,
    },
    /// Add a user to a project (Org Admin, Project Admin)
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        email: String,
        /// admin, member or reader
        #[arg(long)]
        role: String,
    },
    /// Change a member's role (Org Admin, Project Admin)
    SetRole {
        #[arg(long)]
        project: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Remove a member; their keys for the project stop working (Org Admin, Project Admin)
    Remove {
        #[arg(long)]
        project: String,
        #[arg(long)]
        email: String,
    },
}

pub(super) fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "nickname": p.nickname,
        "description": p.description,
        "created_at": p.created_at,
    })
}

fn view_json(v: &ProjectView) -> Value {
    let mut value = project_json(&v.project);
    value["default"] = json!(v.is_default);
    value["my_role"] = json!(v.my_role.map(ProjectRole::label));
    value
}

fn member_json(m: &MemberView) -> Value {
    json!({"user_id": m.user_id, "email": m.email, "name": m.name, "role": m.role.label(), "added_at": m.added_at})
}

pub(super) fn parse_role(role: &str) -> Result<ProjectRole> {
    ProjectRole::parse(role).ok_or_else(|| {
        // Not echoed back whole, and never raw.
        let shown = crate::console::audit::excerpt(role, 48);
        Error::Invalid(format!("role \"{shown}\" must be admin, member or reader"))
    })
}

pub fn project(ctx: &mut Context, out: Output, cmd: ProjectCmd) -> Result<String> {
    match cmd {
        ProjectCmd::List => {
            let views: Vec<ProjectView> = ctx.call(Request::ProjectList)?;
            out.show(Value::Array(views.iter().map(view_json).collect()), || {
                let rows: Vec<Vec<String>> = views
                    .iter()
                    .map(|v| {
                        vec![
                            v.project.nickname.clone(),
                            v.project.name.clone(),
                            v.project.id.clone(),
                            if v.is_default { "★".into() } else { String::new() },
                            v.my_role.map(ProjectRole::label).unwrap_or("-").into(),
                            local_time(&v.project.created_at),
                        ]
                    })
                    .collect();
                table(
                    &["NICKNAME", "NAME", "ID", "DEFAULT", "MY ROLE", "CREATED AT"],
                    &rows,
                )
            })
        }
        ProjectCmd::Create {
            name,
            nickname,
            description,
        } => {
            let p: Project = ctx.call(Request::ProjectCreate {
                name,
                nickname,
                description,
            })?;
            out.show(project_json(&p), || {
                format!("Created project {} ({}) with ID {}.", p.name, p.nickname, p.id)
            })
        }
        ProjectCmd::Edit {
            project,
            nickname,
            description,
        } => {
            let p: Project = ctx.call(Request::ProjectEdit {
                project,
                nickname,
                description,
            })?;
            out.show(project_json(&p), || {
                format!(
                    "Saved project {}: nickname {:?}, description {:?}.",
                    p.name, p.nickname, p.description
                )
            })
        }
        ProjectCmd::SetDefault { project } => {
            let view: ProjectView = ctx.call(Request::ProjectSetDefault { project })?;
            let p = view.project;
            out.show(json!({"default_project": {"id": p.id, "name": p.name}}), || {
                format!("{} is now the default project.", p.name)
            })
        }
        ProjectCmd::RequestDeletion {
            project,
            title,
            details,
            private,
            attachment,
        } => {
            let attachment = attachment.as_deref().map(Attachment::from_file).transpose()?;
            let inquiry: Inquiry = ctx.call(Request::InquirySubmit(Draft {
                kind: InquiryKind::Technical,
                detail_type: PROJECT_DELETION.into(),
                project: Some(project.clone()),
                title,
                details,
                private,
                attachment,
            }))?;
            out.show(inquiry_json(&inquiry), || {
                format!(
                    "Submitted deletion request {} for project {} to the Help Desk. When it is approved, the project and everything in it are deleted permanently.",
                    inquiry.id, project
                )
            })
        }
    }
}

pub fn member(ctx: &mut Context, out: Output, cmd: MemberCmd) -> Result<String> {
    match cmd {
        MemberCmd::List { project } => {
            let members: Vec<MemberView> = ctx.call(Request::MemberList { project })?;
            out.show(Value::Array(members.iter().map(member_json).collect()), || {
                let rows: Vec<Vec<String>> = members
                    .iter()
                    .map(|m| {
                        vec![
                            m.email.clone(),
                            m.name.clone(),
                            m.role.label().into(),
                            local_time(&m.added_at),
                        ]
                    })
                    .collect();
                table(&["EMAIL", "NAME", "ROLE", "ADDED AT"], &rows)
            })
        }
        MemberCmd::Add { project, email, role } => {
            let role = parse_role(&role)?;
            let _: Value = ctx.call(Request::MemberAdd {
                project: project.clone(),
                email: email.clone(),
                role,
            })?;
            out.show(
                json!({"project": project, "email": email, "role": role.label()}),
                || format!("Added {email} to {project} as {}.", role.label()),
            )
        }
        MemberCmd::SetRole { project, email, role } => {
            let role = parse_role(&role)?;
            let _: Value = ctx.call(Request::MemberSetRole {
                project: project.clone(),
                email: email.clone(),
                role,
            })?;
            out.show(
                json!({"project": project, "email": email, "role": role.label()}),
                || format!("{email} is now {} in {project}.", role.label()),
            )
        }
        MemberCmd::Remove { project, email } => {
            let removed: Value = ctx.call(Request::MemberRemove {
                project: project.clone(),
                email: email.clone(),
            })?;
            let expired = removed["expired_keys"].as_u64().unwrap_or_default();
            out.show(json!({"project": project, "email": email, "expired_keys": expired}), || {
                format!("Removed {email} from {project}; {expired} of their access keys for it stopped working.")
            })
        }
    }
}
