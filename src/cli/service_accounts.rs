//! `sa`, `sa-key`, `service` and `agent` (Project Management).

use clap::Subcommand;
use serde_json::{json, Value};

use super::keys::{key_json, key_rows, show_new_key};
use super::output::{local_time, table};
use super::{Context, Output};
use crate::console::service_accounts::SERVICES;
use crate::console::{Agent, Error, Result, SaStatus, ServiceAccount};
use crate::org::request::{KeyView, NewKeyView};
use crate::org::Request;

#[derive(Debug, Subcommand)]
pub enum SaCmd {
    /// Service accounts of a project (Org Admin, Org Reader, Project Admin)
    List {
        #[arg(long)]
        project: String,
    },
    /// Create a service account (Project Admin); its ID is NAME-PROJECTID@kc.serviceaccount.com
    Create {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Set Active or Inactive (Project Admin); inactive expires its keys and tokens at once
    SetStatus {
        sa_id: String,
        /// active or inactive
        status: String,
    },
    /// Delete service accounts (Project Admin): all the IDs given, or none of them
    Delete {
        #[arg(required = true, num_args = 1..)]
        sa_ids: Vec<String>,
        /// Must be exactly "Delete service account"
        #[arg(long)]
        confirm: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SaKeyCmd {
    /// A service account's IAM access keys
    List { sa_id: String },
    /// Create an IAM access key for a service account; prints the secret once (Project Admin)
    Create {
        sa_id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a service account's IAM access key, by its ID or name (Project Admin)
    Delete {
        sa_id: String,
        #[arg(value_name = "KEY_ID_OR_NAME")]
        key_id: String,
        /// Must be exactly "Delete IAM access key"
        #[arg(long)]
        confirm: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCmd {
    /// Start using a service in a project (Project Admin, Project Member)
    Enable {
        #[arg(long)]
        project: String,
        /// kubernetes-engine, data-query, data-catalog or hadoop-eco
        service: String,
    },
    /// Stop using a service in a project; its service agent becomes Inactive (Project Admin,
    /// Project Member)
    Disable {
        #[arg(long)]
        project: String,
        service: String,
    },
    /// The services that can be started
    List,
}

#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// Service agents of a project (Org Admin, Org Reader, Project Admin)
    List {
        #[arg(long)]
        project: String,
    },
}

fn sa_json(sa: &ServiceAccount) -> Value {
    json!({
        "id": sa.id(),
        "name": sa.name,
        "project_id": sa.project_id,
        "description": sa.description,
        "status": sa.status.label(),
        "role": sa.role().label(),
        "created_at": sa.created_at,
    })
}

fn agent_json(a: &Agent) -> Value {
    json!({"service": a.service, "id": a.id(), "status": a.status.label(), "created_at": a.created_at})
}

pub fn sa(ctx: &mut Context, out: Output, cmd: SaCmd) -> Result<String> {
    match cmd {
        SaCmd::List { project } => {
            let list: Vec<ServiceAccount> = ctx.call(Request::SaList { project })?;
            out.show(Value::Array(list.iter().map(sa_json).collect()), || {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|sa| {
                        vec![
                            sa.id(),
                            sa.name.clone(),
                            sa.status.dotted().into(),
                            local_time(&sa.created_at),
                        ]
                    })
                    .collect();
                table(&["ID", "NAME", "STATUS", "CREATED AT"], &rows)
            })
        }
        SaCmd::Create {
            project,
            name,
            description,
        } => {
            let sa: ServiceAccount = ctx.call(Request::SaCreate {
                project,
                name,
                description,
            })?;
            out.show(sa_json(&sa), || {
                format!("Created service account {} (role: Project Member).", sa.id())
            })
        }
        SaCmd::SetStatus { sa_id, status } => {
            let status = SaStatus::parse(&status)
                .ok_or_else(|| Error::Invalid(format!("status {status:?} must be active or inactive")))?;
            let sa: ServiceAccount = ctx.call(Request::SaSetStatus { sa: sa_id, status })?;
            out.show(sa_json(&sa), || match sa.status {
                SaStatus::Inactive => format!(
                    "{} is Inactive: its access keys and tokens have expired.",
                    sa.id()
                ),
                SaStatus::Active => format!(
                    "{} is Active. Keys expired while it was inactive stay expired.",
                    sa.id()
                ),
            })
        }
        SaCmd::Delete { sa_ids, confirm } => {
            let deleted: Vec<ServiceAccount> = ctx.call(Request::SaDelete {
                sas: sa_ids,
                confirmation: confirm,
            })?;
            let ids: Vec<String> = deleted.iter().map(ServiceAccount::id).collect();
            // One account keeps the contract's `{"deleted": ID}`; a batch lists them.
            let value = match ids.as_slice() {
                [one] => json!({"deleted": one}),
                many => json!({"deleted": many}),
            };
            out.show(value, || {
                ids.iter()
                    .map(|id| format!("Deleted {id} with its access keys and tokens."))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

pub fn sa_key(ctx: &mut Context, out: Output, cmd: SaKeyCmd) -> Result<String> {
    match cmd {
        SaKeyCmd::List { sa_id } => {
            let keys: Vec<KeyView> = ctx.call(Request::SaKeyList { sa: sa_id })?;
            out.show(Value::Array(keys.iter().map(key_json).collect()), || {
                table(
                    &[
                        "NAME",
                        "ACCESS KEY ID",
                        "PROJECT",
                        "ROLE",
                        "DESCRIPTION",
                        "CREATED AT",
                        "STATUS",
                    ],
                    &key_rows(&keys),
                )
            })
        }
        SaKeyCmd::Create {
            sa_id,
            name,
            description,
        } => {
            let new: NewKeyView = ctx.call(Request::SaKeyCreate {
                sa: sa_id,
                name,
                description,
            })?;
            show_new_key(out, &new)
        }
        SaKeyCmd::Delete {
            sa_id,
            key_id,
            confirm,
        } => {
            let key: KeyView = ctx.call(Request::SaKeyDelete {
                sa: sa_id,
                key: key_id,
                confirmation: confirm,
            })?;
            out.show(json!({"deleted": key.id, "name": key.name}), || {
                format!(
                    "Deleted IAM access key {:?}; its tokens no longer work.",
                    key.name
                )
            })
        }
    }
}

pub fn service(ctx: &mut Context, out: Output, cmd: ServiceCmd) -> Result<String> {
    match cmd {
        ServiceCmd::List => out.show(json!(SERVICES), || SERVICES.join("\n")),
        ServiceCmd::Disable { project, service } => {
            let agent: Agent = ctx.call(Request::ServiceDisable {
                project: project.clone(),
                service,
            })?;
            out.show(agent_json(&agent), || {
                format!(
                    "Stopped using {} in {project}; its service agent {} is Inactive.",
                    agent.service,
                    agent.id()
                )
            })
        }
        ServiceCmd::Enable { project, service } => {
            let agent: Agent = ctx.call(Request::ServiceEnable {
                project: project.clone(),
                service,
            })?;
            out.show(agent_json(&agent), || {
                format!(
                    "Started {} in {project}; its service agent is {}.",
                    agent.service,
                    agent.id()
                )
            })
        }
    }
}

pub fn agent(ctx: &mut Context, out: Output, cmd: AgentCmd) -> Result<String> {
    let AgentCmd::List { project } = cmd;
    let agents: Vec<Agent> = ctx.call(Request::AgentList { project })?;
    out.show(Value::Array(agents.iter().map(agent_json).collect()), || {
        let rows: Vec<Vec<String>> = agents
            .iter()
            .map(|a| {
                vec![
                    a.service.clone(),
                    a.id(),
                    a.status.dotted().into(),
                    local_time(&a.created_at),
                ]
            })
            .collect();
        table(&["SERVICE", "ID", "STATUS", "CREATED AT"], &rows)
    })
}
