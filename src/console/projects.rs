//! Projects (IAM › Projects) and their members (Project Management › Members).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{Permission, ProjectRole};
use super::keys::{index_key, AccessKey, KeyKind, KeyStatus, Owner};
use super::org::{Organization, PaymentMethod, ORG_KEY};
use super::service_accounts::{Agent, ServiceAccount};
use super::users::email_key;
use super::{validate, Actor, Console, Error, Principal, Result, TxResult, Via};
use crate::store::{Table, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// 32 lowercase hex, assigned at creation, never changes.
    pub id: String,
    /// Unique in the organization, used by APIs, immutable.
    pub name: String,
    pub nickname: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    /// Names of the project's service accounts, so the per-project limit is checked inside
    /// the transaction that creates one.
    pub service_accounts: BTreeSet<String>,
    /// Service agents, by service name; created when a service is first used.
    pub agents: BTreeMap<String, Agent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub project_id: String,
    pub user_id: String,
    pub role: ProjectRole,
    pub added_at: DateTime<Utc>,
}

/// A project's memberships and key indexes, read before the transaction that deletes them.
#[derive(Debug, Default)]
pub(super) struct ProjectContents {
    members: Vec<Membership>,
    key_indexes: Vec<(String, Vec<String>)>,
}

/// A project as one user sees it in IAM › Projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub project: Project,
    pub my_role: Option<ProjectRole>,
    pub is_default: bool,
}

/// A member with the user's details, for Project Management › Members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: ProjectRole,
    pub added_at: DateTime<Utc>,
}

pub(super) fn member_key(project_id: &str, user_id: &str) -> String {
    format!("{project_id}/{user_id}")
}

pub(super) fn load_project(tx: &Tx, project_id: &str) -> TxResult<Project> {
    tx.get(Table::Projects, project_id)?
        .ok_or_else(|| Error::NotFound(format!("project {project_id} no longer exists")).into())
}

impl Console {
    /// Finds a project by its name or its ID.
    pub fn find_project(&self, name_or_id: &str) -> Result<Project> {
        validate::bounded("project", name_or_id, validate::ID_INPUT_MAX)?;
        if validate::is_id(name_or_id) {
            if let Some(p) = self.store.get::<Project>(Table::Projects, name_or_id)? {
                return Ok(p);
            }
        }
        let id: Option<String> = self.store.get(Table::ProjectNames, name_or_id)?;
        match id {
            Some(id) => self
                .store
                .get(Table::Projects, &id)?
                .ok_or_else(|| Error::Storage(format!("the name index points at a missing project {id}"))),
            None => Err(Error::NotFound(format!(
                "no project named or with ID {name_or_id:?}; `kc-console project list` shows them"
            ))),
        }
    }

    pub(super) fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>> {
        Ok(self
            .store
            .scan::<Membership>(Table::Members, "")?
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| m.user_id == user_id)
            .collect())
    }

    pub(super) fn members_of(&self, project_id: &str) -> Result<Vec<Membership>> {
        Ok(self
            .store
            .scan::<Membership>(Table::Members, &format!("{project_id}/"))?
            .into_iter()
            .map(|(_, m)| m)
            .collect())
    }

    /// The role `user_id` holds in `project_id`, if any.
    pub fn project_role(&self, project_id: &str, user_id: &str) -> Result<Option<ProjectRole>> {
        validate::bounded("project ID", project_id, validate::ID_INPUT_MAX)?;
        validate::bounded("user ID", user_id, validate::ID_INPUT_MAX)?;
        Ok(self
            .store
            .get::<Membership>(Table::Members, &member_key(project_id, user_id))?
            .map(|m| m.role))
    }

    /// Whether the actor may see this project at all: an org role, a membership, or a token
    /// scoped to it.
    pub(super) fn can_view_project(&self, actor: &Actor, project_id: &str) -> Result<bool> {
        Ok(match (&actor.principal, &actor.via) {
            (
                Principal::User(_),
                Via::Token {
                    project_id: scope, ..
                },
            ) => scope.as_deref() == Some(project_id),
            (Principal::User(uid), _) => {
                self.user_by_id(uid)?.org_role.is_some() || self.project_role(project_id, uid)?.is_some()
            }
            (Principal::ServiceAccount(sa), _) => super::service_accounts::project_of(sa) == Some(project_id),
            _ => false,
        })
    }

    /// One project as the actor sees it in IAM › Projects; refused when the actor may not see it.
    pub fn project_view(&self, actor: &Actor, name_or_id: &str) -> Result<ProjectView> {
        let project = self.visible_project(actor, name_or_id, "project.view")?;
        let my_role = match actor.user_id() {
            Some(uid) => self.project_role(&project.id, uid)?,
            None => None,
        };
        Ok(ProjectView {
            is_default: self.organization()?.default_project.as_deref() == Some(project.id.as_str()),
            my_role,
            project,
        })
    }

    /// Resolves a project the actor may see; one the actor may not see is refused by name.
    pub(super) fn visible_project(&self, actor: &Actor, name_or_id: &str, action: &str) -> Result<Project> {
        let project = self.find_project(name_or_id)?;
        self.guard(actor, action, &project.name, || {
            if self.can_view_project(actor, &project.id)? {
                Ok(())
            } else {
                Err(Error::Denied(format!(
                    "you are not a member of project {}; ask its Project Admin or an Org Admin to add you",
                    project.name
                )))
            }
        })?;
        Ok(project)
    }

    /// The projects where the actor's principal holds a role: a user's memberships, or a
    /// service account's own project (Keystone's `/users/{id}/projects`).
    pub fn principal_projects(&self, actor: &Actor) -> Result<Vec<Project>> {
        let ids: Vec<String> = match &actor.principal {
            Principal::User(uid) => self
                .memberships_of(uid)?
                .into_iter()
                .map(|m| m.project_id)
                .collect(),
            Principal::ServiceAccount(sa) => super::service_accounts::project_of(sa)
                .map(str::to_string)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        let mut projects = Vec::new();
        for id in ids {
            if let Some(p) = self.store.get::<Project>(Table::Projects, &id)? {
                projects.push(p);
            }
        }
        projects.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(projects)
    }

    /// IAM › Projects: all projects for Org Admin and Org Reader, otherwise the user's own.
    pub fn list_projects(&self, actor: &Actor) -> Result<Vec<ProjectView>> {
        let org = self.organization()?;
        let org_role = self.require_org_member(actor)?;
        let mut views = Vec::new();
        for (_, project) in self.store.scan::<Project>(Table::Projects, "")? {
            let my_role = match actor.user_id() {
                Some(uid) => self.project_role(&project.id, uid)?,
                None => None,
            };
            let sees_all = org_role.is_some() && matches!(actor.via, Via::Password | Via::Session);
            if sees_all || self.can_view_project(actor, &project.id)? {
                views.push(ProjectView {
                    is_default: org.default_project.as_deref() == Some(project.id.as_str()),
                    my_role,
                    project,
                });
            }
        }
        views.sort_by(|a, b| {
            a.project
                .created_at
                .cmp(&b.project.created_at)
                .then(a.project.name.cmp(&b.project.name))
        });
        Ok(views)
    }

    /// Creates a project; the creator becomes its Project Admin *(replica)*, and the first
    /// project becomes the default.
    pub fn create_project(
        &self,
        actor: &Actor,
        name: &str,
        nickname: &str,
        description: &str,
    ) -> Result<Project> {
        self.bound_inputs(
            actor,
            "project.create",
            &[
                ("project name", name, validate::ID_INPUT_MAX),
                ("project nickname", nickname, validate::TEXT_INPUT_MAX),
                ("project description", description, validate::TEXT_INPUT_MAX),
            ],
        )?;
        let id = self.new_id();
        let now = self.now();
        let max = self.config.limits.projects_per_org;
        let has_payment_method = || Ok(!self.store.scan::<PaymentMethod>(Table::Payments, "")?.is_empty());
        self.change_with(actor, "project.create", name, has_payment_method, |tx, has_payment_method| {
            self.require_org_permission(tx, actor, Permission::CreateProject, "creating a project")?;
            validate::project_name(name)?;
            validate::text("project nickname", nickname, validate::NICKNAME_MAX, true)?;
            validate::text("project description", description, validate::PROJECT_DESCRIPTION_MAX, false)?;
            if !has_payment_method {
                return Err(Error::Conflict(
                    "register a payment method first (Billing › Payment methods, or `kc-console payment add`)".into(),
                )
                .into());
            }
            if tx.get::<String, _>(Table::ProjectNames, name)?.is_some() {
                return Err(Error::Conflict(format!("a project named {name} already exists; project names are unique")).into());
            }
            let mut org: Organization = tx
                .get(Table::Meta, ORG_KEY)?
                .ok_or_else(|| Error::Internal("the organization record is missing".into()))?;
            if org.project_ids.len() >= max {
                return Err(Error::Conflict(format!("an organization can have up to {max} projects")).into());
            }
            let project = Project {
                id: id.clone(),
                name: name.into(),
                nickname: nickname.into(),
                description: description.into(),
                created_at: now,
                service_accounts: BTreeSet::new(),
                agents: BTreeMap::new(),
            };
            org.project_ids.push(id.clone());
            if org.default_project.is_none() {
                org.default_project = Some(id.clone());
            }
            tx.put(Table::Meta, ORG_KEY, &org)?;
            tx.put(Table::Projects, &id, &project)?;
            tx.put(Table::ProjectNames, name, &id)?;
            if let Some(uid) = actor.user_id() {
                let membership = Membership {
                    project_id: id.clone(),
                    user_id: uid.into(),
                    role: ProjectRole::Admin,
                    added_at: now,
                };
                tx.put(Table::Members, &member_key(&id, uid), &membership)?;
            }
            Ok(project)
        })
    }

    /// Edits nickname and/or description; the name can never change.
    pub fn edit_project(
        &self,
        actor: &Actor,
        name_or_id: &str,
        nickname: Option<&str>,
        description: Option<&str>,
    ) -> Result<Project> {
        self.bound_inputs(
            actor,
            "project.edit",
            &[
                (
                    "project nickname",
                    nickname.unwrap_or_default(),
                    validate::TEXT_INPUT_MAX,
                ),
                (
                    "project description",
                    description.unwrap_or_default(),
                    validate::TEXT_INPUT_MAX,
                ),
            ],
        )?;
        let project = self.find_project(name_or_id)?;
        self.change(actor, "project.edit", &project.name, |tx| {
            self.require(
                tx,
                actor,
                Some(&project.id),
                Permission::EditProject,
                "editing a project",
            )?;
            if nickname.is_none() && description.is_none() {
                return Err(
                    Error::Invalid("nothing to change: give a new nickname or description".into()).into(),
                );
            }
            let mut current = load_project(tx, &project.id)?;
            if let Some(nickname) = nickname {
                validate::text("project nickname", nickname, validate::NICKNAME_MAX, true)?;
                current.nickname = nickname.into();
            }
            if let Some(description) = description {
                validate::text(
                    "project description",
                    description,
                    validate::PROJECT_DESCRIPTION_MAX,
                    false,
                )?;
                current.description = description.into();
            }
            tx.put(Table::Projects, &current.id, &current)?;
            Ok(current)
        })
    }

    pub fn set_default_project(&self, actor: &Actor, name_or_id: &str) -> Result<()> {
        let project = self.find_project(name_or_id)?;
        self.change(actor, "project.set_default", &project.name, |tx| {
            self.require(
                tx,
                actor,
                Some(&project.id),
                Permission::SetDefaultProject,
                "setting the default project",
            )?;
            let mut org: Organization = tx
                .get(Table::Meta, ORG_KEY)?
                .ok_or_else(|| Error::Internal("the organization record is missing".into()))?;
            load_project(tx, &project.id)?;
            org.default_project = Some(project.id.clone());
            tx.put(Table::Meta, ORG_KEY, &org)
        })
    }

    /// The project selected at sign-in: the default if the user may see it, else their first.
    pub fn starting_project(&self, actor: &Actor) -> Result<Option<Project>> {
        let org = self.organization()?;
        let visible = self.list_projects(actor)?;
        let default = visible
            .iter()
            .find(|v| org.default_project.as_deref() == Some(v.project.id.as_str()) && (v.my_role.is_some()));
        Ok(default
            .or_else(|| visible.iter().find(|v| v.my_role.is_some()))
            .or(visible.first())
            .map(|v| v.project.clone()))
    }

    /// What deleting a project deletes besides its own record: memberships and every key
    /// index in it — current members', former members' (Expired) and service accounts'.
    pub(super) fn project_contents(&self, project_id: &str) -> Result<ProjectContents> {
        let key_indexes = self
            .store
            .scan::<Vec<String>>(Table::KeyIndex, "")?
            .into_iter()
            .filter(|(index, _)| index.split('/').nth(1) == Some(project_id))
            .collect();
        Ok(ProjectContents {
            members: self.members_of(project_id)?,
            key_indexes,
        })
    }

    /// Deletes a project and everything in it: memberships, keys, service accounts, agents.
    /// Tokens die with their keys. Called when a deletion request is approved; `contents` is
    /// what `project_contents` read before the transaction.
    pub(super) fn purge_project(
        &self,
        tx: &Tx,
        project_id: &str,
        contents: &ProjectContents,
    ) -> TxResult<Project> {
        let project = load_project(tx, project_id)?;
        for member in &contents.members {
            tx.remove(Table::Members, &member_key(project_id, &member.user_id))?;
        }
        for (index, key_ids) in &contents.key_indexes {
            for key_id in key_ids {
                tx.remove(Table::Keys, key_id)?;
            }
            tx.remove(Table::KeyIndex, index)?;
        }
        for sa_name in &project.service_accounts {
            tx.remove(
                Table::ServiceAccounts,
                &ServiceAccount::storage_key(project_id, sa_name),
            )?;
        }
        let mut org: Organization = tx
            .get(Table::Meta, ORG_KEY)?
            .ok_or_else(|| Error::Internal("the organization record is missing".into()))?;
        org.project_ids.retain(|p| p != project_id);
        if org.default_project.as_deref() == Some(project_id) {
            org.default_project = None;
        }
        tx.put(Table::Meta, ORG_KEY, &org)?;
        tx.remove(Table::ProjectNames, &project.name)?;
        tx.remove(Table::Projects, project_id)?;
        Ok(project)
    }

    /// Deletes every key `owner` has in `project_id`, of both kinds.
    pub(super) fn remove_keys(&self, tx: &Tx, owner: &Owner, project_id: &str) -> TxResult<()> {
        for kind in [KeyKind::Iam, KeyKind::S3] {
            let index = index_key(owner, project_id, kind);
            let ids: Vec<String> = tx.get(Table::KeyIndex, &index)?.unwrap_or_default();
            for id in ids {
                tx.remove(Table::Keys, &id)?;
            }
            tx.remove(Table::KeyIndex, &index)?;
        }
        Ok(())
    }

    /// Marks every key `owner` has in `project_id` Expired (rules 3 and 6).
    pub(super) fn expire_keys(&self, tx: &Tx, owner: &Owner, project_id: &str) -> TxResult<usize> {
        let mut expired = 0;
        for kind in [KeyKind::Iam, KeyKind::S3] {
            let ids: Vec<String> = tx
                .get(Table::KeyIndex, &index_key(owner, project_id, kind))?
                .unwrap_or_default();
            for id in ids {
                if let Some(mut key) = tx.get::<AccessKey, _>(Table::Keys, &id)? {
                    if key.status == KeyStatus::Active {
                        key.status = KeyStatus::Expired;
                        tx.put(Table::Keys, &id, &key)?;
                        expired += 1;
                    }
                }
            }
        }
        Ok(expired)
    }

    // ---- Project Management › Members ----

    pub fn list_members(&self, actor: &Actor, name_or_id: &str) -> Result<Vec<MemberView>> {
        let project = self.visible_project(actor, name_or_id, "member.list")?;
        let mut views = Vec::new();
        for m in self.members_of(&project.id)? {
            let user = self.user_by_id(&m.user_id)?;
            views.push(MemberView {
                user_id: user.id,
                email: user.email,
                name: user.name,
                role: m.role,
                added_at: m.added_at,
            });
        }
        views.sort_by(|a, b| a.role.cmp(&b.role).then(a.email.cmp(&b.email)));
        Ok(views)
    }

    fn user_id_in_tx(tx: &Tx, email: &str) -> TxResult<String> {
        tx.get(Table::Emails, &email_key(email))?
            .ok_or_else(|| Error::NotFound(format!("no user with email {email} in this organization")).into())
    }

    pub fn add_member(&self, actor: &Actor, name_or_id: &str, email: &str, role: ProjectRole) -> Result<()> {
        self.bound_inputs(actor, "member.add", &[("email", email, validate::EMAIL_MAX)])?;
        let project = self.find_project(name_or_id)?;
        let now = self.now();
        let target = format!("{} in {}", email, project.name);
        self.change(actor, "member.add", &target, |tx| {
            self.require(
                tx,
                actor,
                Some(&project.id),
                Permission::ManageMembers,
                "adding a project member",
            )?;
            let uid = Self::user_id_in_tx(tx, email)?;
            let key = member_key(&project.id, &uid);
            if let Some(existing) = tx.get::<Membership, _>(Table::Members, &key)? {
                return Err(Error::Conflict(format!(
                    "{email} is already a member of {} as {}; use set-role to change it",
                    project.name,
                    existing.role.label()
                ))
                .into());
            }
            load_project(tx, &project.id)?;
            let membership = Membership {
                project_id: project.id.clone(),
                user_id: uid.clone(),
                role,
                added_at: now,
            };
            tx.put(Table::Members, &key, &membership)
        })
    }

    /// Refuses a change that would leave the project without a Project Admin.
    fn keep_an_admin(project: &Project, members: &[Membership], leaving_uid: &str) -> Result<()> {
        let admins = members
            .iter()
            .filter(|m| m.role == ProjectRole::Admin && m.user_id != leaving_uid)
            .count();
        if admins == 0 {
            return Err(Error::Conflict(format!(
                "{} must keep at least one Project Admin; make someone else Project Admin first",
                project.name
            )));
        }
        Ok(())
    }

    pub fn set_member_role(
        &self,
        actor: &Actor,
        name_or_id: &str,
        email: &str,
        role: ProjectRole,
    ) -> Result<()> {
        self.bound_inputs(actor, "member.set_role", &[("email", email, validate::EMAIL_MAX)])?;
        let project = self.find_project(name_or_id)?;
        let target = format!("{} in {} to {}", email, project.name, role.label());
        let members = || self.members_of(&project.id);
        self.change_with(actor, "member.set_role", &target, members, |tx, members| {
            self.require(
                tx,
                actor,
                Some(&project.id),
                Permission::ManageMembers,
                "changing a member's role",
            )?;
            let uid = Self::user_id_in_tx(tx, email)?;
            let key = member_key(&project.id, &uid);
            let mut membership: Membership = tx
                .get(Table::Members, &key)?
                .ok_or_else(|| Error::NotFound(format!("{email} is not a member of {}", project.name)))?;
            if membership.role == ProjectRole::Admin && role != ProjectRole::Admin {
                Self::keep_an_admin(&project, members, &uid)?;
            }
            membership.role = role;
            tx.put(Table::Members, &key, &membership)
        })
    }

    /// Removes a member; their IAM and S3 access keys for the project stop working at once
    /// (rule 6) and stay listed as Expired until they delete them.
    pub fn remove_member(&self, actor: &Actor, name_or_id: &str, email: &str) -> Result<usize> {
        self.bound_inputs(actor, "member.remove", &[("email", email, validate::EMAIL_MAX)])?;
        let project = self.find_project(name_or_id)?;
        let target = format!("{} from {}", email, project.name);
        let members = || self.members_of(&project.id);
        self.change_with(actor, "member.remove", &target, members, |tx, members| {
            self.require(
                tx,
                actor,
                Some(&project.id),
                Permission::ManageMembers,
                "removing a project member",
            )?;
            let uid = Self::user_id_in_tx(tx, email)?;
            let key = member_key(&project.id, &uid);
            let membership: Membership = tx
                .get(Table::Members, &key)?
                .ok_or_else(|| Error::NotFound(format!("{email} is not a member of {}", project.name)))?;
            if membership.role == ProjectRole::Admin {
                Self::keep_an_admin(&project, members, &uid)?;
            }
            tx.remove(Table::Members, &key)?;
            self.expire_keys(tx, &Owner::User(uid), &project.id)
        })
    }

    /// Projects by ID, for faces that show a project name next to a key.
    pub fn project_names(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .store
            .scan::<Project>(Table::Projects, "")?
            .into_iter()
            .map(|(id, p)| (id, p.name))
            .collect())
    }
}
