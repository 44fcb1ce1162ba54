//! What a token may read about its principal and the organization through Keystone's identity
//! API (`GET /users/{id}`, `/projects`, `/role_assignments`), judged as Keystone's default
//! policies judge it: a principal reads itself and the projects it holds a role in; an Org
//! Admin (Keystone's admin) reads everything. Refusals are audited like every other.

use super::access::{OrgRole, ProjectRole};
use super::projects::{Membership, Project};
use super::service_accounts::{parse_sa_id, ServiceAccount};
use super::{Console, Error, Result, TokenInfo};
use crate::store::Table;

/// A principal as Keystone's `user` shows it: a user, or a service account (a principal with
/// its own user ID, no e-mail and no password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityUser {
    pub id: String,
    /// The e-mail of a user, the name of a service account.
    pub name: String,
    pub email: Option<String>,
    pub enabled: bool,
}

impl From<super::User> for IdentityUser {
    fn from(user: super::User) -> IdentityUser {
        IdentityUser {
            id: user.id,
            name: user.email.clone(),
            email: Some(user.email),
            enabled: true,
        }
    }
}

/// A service account is enabled while Active: an inactive one's keys issue no tokens.
impl From<ServiceAccount> for IdentityUser {
    fn from(sa: ServiceAccount) -> IdentityUser {
        IdentityUser {
            id: sa.id(),
            enabled: sa.status == super::SaStatus::Active,
            name: sa.name,
            email: None,
        }
    }
}

/// One project role held by one principal (Keystone's role assignment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub principal_id: String,
    pub principal_name: String,
    pub project_id: String,
    pub project_name: String,
    pub role: ProjectRole,
}

/// Keystone's `ForbiddenAction` for a policy rule.
fn forbidden(rule: &str) -> Error {
    Error::Denied(format!(
        "You are not authorized to perform the requested action: {rule}."
    ))
}

/// What a refusal records of a user ID sent from outside: the ID if it is one (a user's or a
/// service account's), one shared name otherwise — never arbitrary text, which could be a
/// password pasted into the wrong field.
fn shown_user_id(user_id: &str) -> &str {
    if super::validate::is_id(user_id) || parse_sa_id(user_id).is_ok() {
        user_id
    } else {
        "<not a user ID>"
    }
}

fn is_org_admin(caller: &TokenInfo) -> bool {
    caller.org_role == Some(OrgRole::Admin)
}

impl Console {
    /// `GET /users/{id}`: the caller's own principal; anyone for an Org Admin.
    pub fn identity_user(&self, caller: &TokenInfo, user_id: &str) -> Result<IdentityUser> {
        let actor = caller.actor();
        self.guard(&actor, "identity.user.read", shown_user_id(user_id), || {
            if caller.principal_id == user_id || is_org_admin(caller) {
                Ok(())
            } else {
                Err(forbidden("identity:get_user"))
            }
        })?;
        let not_found = || Error::NotFound(format!("Could not find user: {user_id}."));
        if let Some(user) = self.store.get::<super::User>(Table::Users, user_id)? {
            return Ok(user.into());
        }
        if parse_sa_id(user_id).is_err() {
            return Err(not_found());
        }
        let sa: ServiceAccount = self.get_service_account(user_id)?.ok_or_else(not_found)?;
        Ok(sa.into())
    }

    /// `GET /users`: every principal (users and service accounts), for an Org Admin only (as
    /// Keystone's admin-only `identity:list_users`); `name` keeps the one of that name.
    pub fn identity_users(&self, caller: &TokenInfo, name: Option<&str>) -> Result<Vec<IdentityUser>> {
        self.guard(&caller.actor(), "identity.user.list", "", || {
            if is_org_admin(caller) {
                Ok(())
            } else {
                Err(forbidden("identity:list_users"))
            }
        })?;
        let users = self
            .store
            .scan::<super::User>(Table::Users, "")?
            .into_iter()
            .map(|(_, user)| IdentityUser::from(user));
        let accounts = self
            .store
            .scan::<ServiceAccount>(Table::ServiceAccounts, "")?
            .into_iter()
            .map(|(_, sa)| IdentityUser::from(sa));
        Ok(users
            .chain(accounts)
            .filter(|u| name.is_none_or(|name| u.name == name))
            .collect())
    }

    /// `GET /projects/{id}`: a project the caller's principal holds a role in; any for an Org
    /// Admin. An unknown ID is not found whoever asks (Keystone reads the target first).
    pub fn identity_project(&self, caller: &TokenInfo, project_id: &str) -> Result<Project> {
        let project: Project =
            super::validate::bounded("project ID", project_id, super::validate::ID_INPUT_MAX)
                .and_then(|()| Ok(self.store.get(Table::Projects, project_id)?))?
                .ok_or_else(|| Error::NotFound(format!("Could not find project: {project_id}.")))?;
        let actor = caller.actor();
        self.guard(&actor, "identity.project.read", &project.name, || {
            let holds_role = self
                .principal_projects(&actor)?
                .iter()
                .any(|p| p.id == project.id);
            if holds_role || is_org_admin(caller) {
                Ok(())
            } else {
                Err(forbidden("identity:get_project"))
            }
        })?;
        Ok(project)
    }

    /// `GET /projects`: every project, for an Org Admin only (as Keystone's admin-only
    /// `identity:list_projects`; others list theirs with `/users/{id}/projects`).
    pub fn identity_projects(&self, caller: &TokenInfo) -> Result<Vec<Project>> {
        self.guard(&caller.actor(), "identity.project.list", "", || {
            if is_org_admin(caller) {
                Ok(())
            } else {
                Err(forbidden("identity:list_projects"))
            }
        })?;
        let mut projects: Vec<Project> = self
            .store
            .scan::<Project>(Table::Projects, "")?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        projects.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(projects)
    }

    /// `GET /role_assignments`: every project role held, filtered by principal and project.
    /// An Org Admin sees all; others only their own, and must ask for them by `user.id`.
    pub fn role_assignments(
        &self,
        caller: &TokenInfo,
        user_id: Option<&str>,
        project_id: Option<&str>,
    ) -> Result<Vec<RoleAssignment>> {
        self.guard(
            &caller.actor(),
            "identity.role_assignment.list",
            user_id.map_or("", shown_user_id),
            || {
                if is_org_admin(caller) || user_id == Some(caller.principal_id.as_str()) {
                    Ok(())
                } else {
                    Err(forbidden("identity:list_role_assignments"))
                }
            },
        )?;
        let mut assignments = Vec::new();
        for (_, project) in self.store.scan::<Project>(Table::Projects, "")? {
            if project_id.is_some_and(|p| p != project.id) {
                continue;
            }
            for membership in self.members_of(&project.id)? {
                let Membership {
                    user_id: uid, role, ..
                } = membership;
                if user_id.is_some_and(|u| u != uid) {
                    continue;
                }
                if let Some(user) = self.store.get::<super::User>(Table::Users, &uid)? {
                    assignments.push(RoleAssignment {
                        principal_id: uid,
                        principal_name: user.email,
                        project_id: project.id.clone(),
                        project_name: project.name.clone(),
                        role,
                    });
                }
            }
            let prefix = format!("{}/", project.id);
            for (_, sa) in self
                .store
                .scan::<ServiceAccount>(Table::ServiceAccounts, &prefix)?
            {
                if user_id.is_some_and(|u| u != sa.id()) {
                    continue;
                }
                assignments.push(RoleAssignment {
                    principal_id: sa.id(),
                    principal_name: sa.name.clone(),
                    project_id: project.id.clone(),
                    project_name: project.name.clone(),
                    role: sa.role(),
                });
            }
        }
        Ok(assignments)
    }
}
