//! Project Management › Service Account and › Service Agent, and Services.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::Permission;
use super::keys::Owner;
use super::projects::{load_project, Project};
use super::{validate, Actor, Console, Error, Result, TxResult};
use crate::store::{Table, Tx, TxFail};

pub const DELETE_SA_PHRASE: &str = "Delete service account";
pub const SA_DOMAIN: &str = "kc.serviceaccount.com";

/// The services that can be started in a project, each creating its agent *(replica)*.
pub const SERVICES: &[&str] = &["kubernetes-engine", "data-query", "data-catalog", "hadoop-eco"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaStatus {
    Active,
    Inactive,
}

impl SaStatus {
    pub fn parse(s: &str) -> Option<SaStatus> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Some(SaStatus::Active),
            "inactive" => Some(SaStatus::Inactive),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SaStatus::Active => "Active",
            SaStatus::Inactive => "Inactive",
        }
    }

    /// The status as the guides show it, with its dot (one spelling for every face).
    pub fn dotted(self) -> &'static str {
        match self {
            SaStatus::Active => "🟢 Active",
            SaStatus::Inactive => "⚪ Inactive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub name: String,
    pub project_id: String,
    pub description: String,
    pub status: SaStatus,
    pub created_at: DateTime<Utc>,
}

impl ServiceAccount {
    pub fn id_for(name: &str, project_id: &str) -> String {
        format!("{name}-{project_id}@{SA_DOMAIN}")
    }

    /// `{name}-{project-id}@kc.serviceaccount.com`; also its principal ID in the token API.
    pub fn id(&self) -> String {
        Self::id_for(&self.name, &self.project_id)
    }

    pub(super) fn storage_key(project_id: &str, name: &str) -> String {
        format!("{project_id}/{name}")
    }

    /// The project role of every service account.
    pub fn role(&self) -> super::ProjectRole {
        super::ProjectRole::Member
    }
}

/// A service agent: made by a service, never by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub service: String,
    pub project_id: String,
    pub status: SaStatus,
    pub created_at: DateTime<Utc>,
}

impl Agent {
    /// `{project-id}@{service-name}.kc.serviceaccount.com`.
    pub fn id(&self) -> String {
        format!("{}@{}.{SA_DOMAIN}", self.project_id, self.service)
    }
}

/// Splits a service-account ID into (name, project ID).
pub fn parse_sa_id(sa_id: &str) -> Result<(String, String)> {
    validate::bounded("service account ID", sa_id, validate::ID_INPUT_MAX)?;
    let bad = || {
        Error::NotFound(format!(
            "{sa_id:?} is not a service account ID (expected NAME-PROJECTID@{SA_DOMAIN})"
        ))
    };
    let local = sa_id.strip_suffix(&format!("@{SA_DOMAIN}")).ok_or_else(bad)?;
    let (name, project_id) = local.rsplit_once('-').ok_or_else(bad)?;
    if project_id.len() != 32 || name.is_empty() {
        return Err(bad());
    }
    Ok((name.into(), project_id.into()))
}

pub(super) fn project_of(sa_id: &str) -> Option<&str> {
    let local = sa_id.strip_suffix(SA_DOMAIN)?.strip_suffix('@')?;
    let (_, project_id) = local.rsplit_once('-')?;
    Some(project_id)
}

pub(super) fn load_service_account(tx: &Tx, sa_id: &str) -> TxResult<ServiceAccount> {
    let (name, project_id) = parse_sa_id(sa_id)?;
    tx.get(
        Table::ServiceAccounts,
        &ServiceAccount::storage_key(&project_id, &name),
    )?
    .ok_or_else(|| Error::NotFound(format!("no service account {sa_id}")).into())
}

impl Console {
    /// Reads run their permission check in a transaction of their own, like changes, so the
    /// same `require` serves both; nothing is written unless the check refuses.
    fn check_view(
        &self,
        actor: &Actor,
        project_id: &str,
        action: &str,
        target: &str,
        permission: Permission,
        doing: &str,
    ) -> Result<()> {
        self.guard(actor, action, target, || {
            self.store
                .transact(|tx| self.require(tx, actor, Some(project_id), permission, doing))
                .map_err(Error::from)
        })
    }

    pub fn get_service_account(&self, sa_id: &str) -> Result<Option<ServiceAccount>> {
        let (name, project_id) = parse_sa_id(sa_id)?;
        Ok(self.store.get(
            Table::ServiceAccounts,
            &ServiceAccount::storage_key(&project_id, &name),
        )?)
    }

    /// One service account, for a viewer with the right to see it.
    pub fn service_account(&self, actor: &Actor, sa_id: &str) -> Result<ServiceAccount> {
        let (_, project_id) = parse_sa_id(sa_id)?;
        self.check_view(
            actor,
            &project_id,
            "service_account.view",
            sa_id,
            Permission::ViewServiceAccounts,
            "viewing service accounts",
        )?;
        self.get_service_account(sa_id)?
            .ok_or_else(|| Error::NotFound(format!("no service account {sa_id}")))
    }

    pub fn list_service_accounts(&self, actor: &Actor, project: &str) -> Result<Vec<ServiceAccount>> {
        let project = self.find_project(project)?;
        self.check_view(
            actor,
            &project.id,
            "service_account.list",
            &project.name,
            Permission::ViewServiceAccounts,
            "viewing service accounts",
        )?;
        let mut list: Vec<ServiceAccount> = self
            .store
            .scan::<ServiceAccount>(Table::ServiceAccounts, &format!("{}/", project.id))?
            .into_iter()
            .map(|(_, sa)| sa)
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.name.cmp(&b.name)));
        Ok(list)
    }

    /// Creates a service account (role: Project Member). Up to 100 per project, inactive
    /// ones included.
    pub fn create_service_account(
        &self,
        actor: &Actor,
        project: &str,
        name: &str,
        description: &str,
    ) -> Result<ServiceAccount> {
        self.bound_inputs(
            actor,
            "service_account.create",
            &[
                ("service account name", name, validate::ID_INPUT_MAX),
                (
                    "service account description",
                    description,
                    validate::TEXT_INPUT_MAX,
                ),
            ],
        )?;
        let project = self.find_project(project)?;
        let now = self.now();
        let max = self.config.limits.service_accounts_per_project;
        self.change(actor, "service_account.create", &format!("{name} in {}", project.name), |tx| {
            self.require(tx, actor, Some(&project.id), Permission::ManageServiceAccounts, "creating a service account")?;
            validate::service_account_name(name)?;
            validate::text("service account description", description, validate::SA_DESCRIPTION_MAX, false)?;
            let mut current: Project = load_project(tx, &project.id)?;
            if current.service_accounts.contains(name) {
                return Err(Error::Conflict(format!(
                    "a service account named {name} already exists in {}",
                    project.name
                ))
                .into());
            }
            if current.service_accounts.len() >= max {
                return Err(Error::Conflict(format!(
                    "a project can have up to {max} service accounts, inactive ones included; delete one first"
                ))
                .into());
            }
            let sa = ServiceAccount {
                name: name.into(),
                project_id: project.id.clone(),
                description: description.into(),
                status: SaStatus::Active,
                created_at: now,
            };
            current.service_accounts.insert(name.into());
            tx.put(Table::Projects, &project.id, &current)?;
            tx.put(Table::ServiceAccounts, &ServiceAccount::storage_key(&project.id, name), &sa)?;
            Ok(sa)
        })
    }

    /// Active ↔ Inactive. Going inactive expires every key and token at once (rule 3);
    /// going active again does not revive them *(replica)*.
    pub fn set_service_account_status(
        &self,
        actor: &Actor,
        sa_id: &str,
        status: SaStatus,
    ) -> Result<ServiceAccount> {
        let (_, project_id) = parse_sa_id(sa_id)?;
        let action = format!("service_account.set_{}", status.label().to_lowercase());
        self.change(actor, &action, sa_id, |tx| {
            self.require(
                tx,
                actor,
                Some(&project_id),
                Permission::ManageServiceAccounts,
                "changing a service account's status",
            )?;
            let mut sa = load_service_account(tx, sa_id)?;
            if sa.status == status {
                return Ok(sa);
            }
            sa.status = status;
            if status == SaStatus::Inactive {
                self.expire_keys(tx, &Owner::ServiceAccount(sa_id.into()), &project_id)?;
            }
            tx.put(
                Table::ServiceAccounts,
                &ServiceAccount::storage_key(&project_id, &sa.name),
                &sa,
            )?;
            Ok(sa)
        })
    }

    /// Deletes a service account after the typed confirmation `Delete service account`; its
    /// keys and tokens die with it (rule 4).
    pub fn delete_service_account(
        &self,
        actor: &Actor,
        sa_id: &str,
        confirmation: &str,
    ) -> Result<ServiceAccount> {
        let mut deleted = self.delete_service_accounts(actor, &[sa_id.to_string()], confirmation)?;
        Ok(deleted.remove(0))
    }

    /// Deletes the service accounts the user checked, after one typed confirmation (the
    /// guide: "check the box for the service account to delete and click the [Delete]
    /// button"). All or nothing *(replica)*: when any of them cannot be deleted, nothing is,
    /// and the refusal names each one and why — so a batch never stops half-way.
    pub fn delete_service_accounts(
        &self,
        actor: &Actor,
        sa_ids: &[String],
        confirmation: &str,
    ) -> Result<Vec<ServiceAccount>> {
        if sa_ids.is_empty() {
            return Err(Error::Invalid(
                "choose at least one service account to delete".into(),
            ));
        }
        self.bound_inputs(
            actor,
            "service_account.delete",
            &[("confirmation", confirmation, validate::PHRASE_INPUT_MAX)],
        )?;
        let mut unique = sa_ids.to_vec();
        unique.sort();
        unique.dedup();
        let parsed = unique
            .iter()
            .map(|id| parse_sa_id(id).map(|(_, project)| (id.clone(), project)))
            .collect::<Result<Vec<_>>>()?;
        let delete_one = |tx: &Tx, sa_id: &str, project_id: &str| -> TxResult<ServiceAccount> {
            self.require(
                tx,
                actor,
                Some(project_id),
                Permission::ManageServiceAccounts,
                "deleting a service account",
            )?;
            let sa = load_service_account(tx, sa_id)?;
            self.remove_keys(tx, &Owner::ServiceAccount(sa_id.into()), project_id)?;
            let mut project = load_project(tx, project_id)?;
            project.service_accounts.remove(&sa.name);
            tx.put(Table::Projects, project_id, &project)?;
            tx.remove(
                Table::ServiceAccounts,
                &ServiceAccount::storage_key(project_id, &sa.name),
            )?;
            Ok(sa)
        };
        self.change_each(
            actor,
            "service_account.delete",
            &unique,
            || Ok(()),
            |tx, ()| {
                validate::confirmation(DELETE_SA_PHRASE, confirmation)?;
                let mut deleted = Vec::new();
                let mut refused = Vec::new();
                for (sa_id, project_id) in &parsed {
                    match delete_one(tx, sa_id, project_id) {
                        Ok(sa) => deleted.push(sa),
                        Err(TxFail::Abort(e)) if parsed.len() > 1 => {
                            refused.push(format!("{sa_id}: {}", e.message()))
                        }
                        Err(other) => return Err(other),
                    }
                }
                if refused.is_empty() {
                    return Ok(deleted);
                }
                Err(Error::Conflict(format!(
                    "nothing was deleted: {} of the {} service accounts cannot be deleted ({})",
                    refused.len(),
                    parsed.len(),
                    refused.join("; ")
                ))
                .into())
            },
        )
    }

    // ---- Services and Service Agent ----

    /// Starts using a service in a project; its service agent appears.
    pub fn enable_service(&self, actor: &Actor, project: &str, service: &str) -> Result<Agent> {
        self.bound_inputs(
            actor,
            "service.enable",
            &[("service", service, validate::ID_INPUT_MAX)],
        )?;
        let project = self.find_project(project)?;
        let now = self.now();
        self.change(
            actor,
            "service.enable",
            &format!("{service} in {}", project.name),
            |tx| {
                self.require(
                    tx,
                    actor,
                    Some(&project.id),
                    Permission::UseService,
                    "starting to use a service",
                )?;
                if !SERVICES.contains(&service) {
                    return Err(Error::Invalid(format!(
                        "unknown service {service:?}; the services are {}",
                        SERVICES.join(", ")
                    ))
                    .into());
                }
                let mut current = load_project(tx, &project.id)?;
                if let Some(agent) = current.agents.get_mut(service) {
                    if agent.status == SaStatus::Active {
                        return Err(Error::Conflict(format!(
                            "{service} is already in use in {}; its agent is {}",
                            project.name,
                            agent.id()
                        ))
                        .into());
                    }
                    // Used again: the agent it had comes back Active.
                    agent.status = SaStatus::Active;
                    let agent = agent.clone();
                    tx.put(Table::Projects, &project.id, &current)?;
                    return Ok(agent);
                }
                let agent = Agent {
                    service: service.into(),
                    project_id: project.id.clone(),
                    status: SaStatus::Active,
                    created_at: now,
                };
                current.agents.insert(service.into(), agent.clone());
                tx.put(Table::Projects, &project.id, &current)?;
                Ok(agent)
            },
        )
    }

    /// Stops using a service in a project: its agent stays, Inactive (the guide's ⚪ Inactive,
    /// "the account is restricted"), until the service is used again.
    pub fn disable_service(&self, actor: &Actor, project: &str, service: &str) -> Result<Agent> {
        let project = self.find_project(project)?;
        self.change(
            actor,
            "service.disable",
            &format!("{service} in {}", project.name),
            |tx| {
                self.require(
                    tx,
                    actor,
                    Some(&project.id),
                    Permission::UseService,
                    "stopping the use of a service",
                )?;
                let mut current = load_project(tx, &project.id)?;
                let agent = current
                    .agents
                    .get_mut(service)
                    .ok_or_else(|| Error::NotFound(format!("{service} is not in use in {}", project.name)))?;
                if agent.status == SaStatus::Inactive {
                    return Err(Error::Conflict(format!(
                        "{service} is already stopped in {}; its agent is Inactive",
                        project.name
                    ))
                    .into());
                }
                agent.status = SaStatus::Inactive;
                let agent = agent.clone();
                tx.put(Table::Projects, &project.id, &current)?;
                Ok(agent)
            },
        )
    }

    pub fn list_agents(&self, actor: &Actor, project: &str) -> Result<Vec<Agent>> {
        let project = self.find_project(project)?;
        self.check_view(
            actor,
            &project.id,
            "agent.list",
            &project.name,
            Permission::ViewServiceAccounts,
            "viewing service agents",
        )?;
        let mut agents: Vec<Agent> = project.agents.into_values().collect();
        agents.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.service.cmp(&b.service)));
        Ok(agents)
    }
}
