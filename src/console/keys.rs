//! Access keys: a user's own IAM and S3 keys (Profile › Credentials) and a service account's
//! IAM keys. The secret is shown once, at creation; only its digest is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{Permission, ProjectRole};
use super::projects::load_project;
use super::service_accounts::{load_service_account, parse_sa_id, SaStatus};
use super::{secret, validate, Actor, Console, Error, Principal, Result, Secret, TxResult};
use crate::store::{Table, Tx};

pub const DELETE_KEY_PHRASE: &str = "Delete IAM access key";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// An IAM access key (Keystone application credential).
    Iam,
    /// An S3 access key (Keystone EC2 credential).
    S3,
}

impl KeyKind {
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Iam => "IAM access key",
            KeyKind::S3 => "S3 access key",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            KeyKind::Iam => "iam",
            KeyKind::S3 => "s3",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    /// Invalidated by a cascade (member removed, service account deactivated); still listed,
    /// still counted toward the limit, can be deleted *(replica)*.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Owner {
    User(String),
    ServiceAccount(String),
}

impl Owner {
    pub fn id(&self) -> &str {
        match self {
            Owner::User(id) | Owner::ServiceAccount(id) => id,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    /// The access key ID (IAM) or authentication key (S3): 32 lowercase hex.
    pub id: String,
    pub kind: KeyKind,
    pub owner: Owner,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub status: KeyStatus,
    /// The role the key was limited to when it was made (Keystone's application credential
    /// `roles`); none for a key that acts with its owner's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ProjectRole>,
    /// SHA-256 of the secret. Never shown; never leaves the model.
    pub(super) secret_digest: String,
    /// An S3 key's secret, sealed for signature checks (see `ec2`); none for IAM keys and for
    /// S3 keys created before kc-console kept them. Never leaves the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sealed_secret: Option<super::ec2::SealedSecret>,
}

impl AccessKey {
    /// The role its tokens act with while its owner holds `held`: the role it was limited
    /// to, unless the owner now holds a lesser one.
    pub(super) fn acting_role(&self, held: ProjectRole) -> ProjectRole {
        self.role.map_or(held, |limit| super::access::weaker(limit, held))
    }
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("owner", &self.owner)
            .field("project_id", &self.project_id)
            .field("name", &self.name)
            .field("status", &self.status)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A key just created, with its secret — the only time the secret exists outside the caller.
#[derive(Debug)]
pub struct NewKey {
    pub key: AccessKey,
    pub secret: Secret,
}

/// The index record listing the keys one owner has of one kind in one project.
pub(super) fn index_key(owner: &Owner, project_id: &str, kind: KeyKind) -> String {
    format!("{}/{}/{}", owner.id(), project_id, kind.tag())
}

struct KeyRequest<'a> {
    owner: Owner,
    project_id: &'a str,
    kind: KeyKind,
    name: &'a str,
    description: &'a str,
    role: Option<ProjectRole>,
    limit: usize,
    limit_text: String,
}

impl Console {
    fn new_secret(&self) -> Secret {
        Secret::new(hex::encode(self.random_bytes::<32>()))
    }

    /// All keys of one owner, every project and kind.
    pub(super) fn key_indexes_of(&self, owner_id: &str) -> Result<Vec<(String, Vec<String>)>> {
        Ok(self.store.scan(Table::KeyIndex, &format!("{owner_id}/"))?)
    }

    pub(super) fn keys_of(&self, owner_id: &str) -> Result<Vec<AccessKey>> {
        let mut keys = Vec::new();
        for (_, ids) in self.key_indexes_of(owner_id)? {
            for id in ids {
                if let Some(key) = self.store.get::<AccessKey>(Table::Keys, &id)? {
                    keys.push(key);
                }
            }
        }
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(keys)
    }

    /// Names of the keys `owner_id` already has of `kind`, read before a create's transaction.
    fn key_names(&self, owner_id: &str, kind: KeyKind) -> Result<Vec<String>> {
        Ok(self
            .keys_of(owner_id)?
            .into_iter()
            .filter(|k| k.kind == kind)
            .map(|k| k.name)
            .collect())
    }

    pub fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        validate::bounded("access key ID", id, validate::ID_INPUT_MAX)?;
        Ok(self.store.get(Table::Keys, id)?)
    }

    /// Writes a new key inside the caller's transaction, enforcing the limit and name rules.
    fn insert_key(
        &self,
        tx: &Tx,
        request: &KeyRequest,
        taken_names: &[String],
        id: &str,
        secret: &Secret,
    ) -> TxResult<AccessKey> {
        validate::text("access key name", request.name, validate::KEY_NAME_MAX, true)?;
        validate::text(
            "access key description",
            request.description,
            validate::KEY_DESCRIPTION_MAX,
            false,
        )?;
        let index = index_key(&request.owner, request.project_id, request.kind);
        let mut ids: Vec<String> = tx.get(Table::KeyIndex, &index)?.unwrap_or_default();
        if ids.len() >= request.limit {
            return Err(Error::Conflict(request.limit_text.clone()).into());
        }
        // Names are unique per owner and kind, so a key can be named in a token request.
        if taken_names.iter().any(|n| n == request.name) {
            return Err(Error::Conflict(format!(
                "an {} named {:?} already exists; key names must be unique",
                request.kind.label(),
                request.name
            ))
            .into());
        }
        let key = AccessKey {
            id: id.into(),
            kind: request.kind,
            owner: request.owner.clone(),
            project_id: request.project_id.into(),
            name: request.name.into(),
            description: request.description.into(),
            created_at: self.now(),
            status: KeyStatus::Active,
            role: request.role,
            secret_digest: secret::digest(secret.expose()),
            sealed_secret: (request.kind == KeyKind::S3).then(|| self.seal_s3_secret(id, secret.expose())),
        };
        ids.push(key.id.clone());
        tx.put(Table::KeyIndex, &index, &ids)?;
        tx.put(Table::Keys, &key.id, &key)?;
        Ok(key)
    }

    fn unindex_key(tx: &Tx, key: &AccessKey) -> TxResult<()> {
        let index = index_key(&key.owner, &key.project_id, key.kind);
        let mut ids: Vec<String> = tx.get(Table::KeyIndex, &index)?.unwrap_or_default();
        ids.retain(|id| id != &key.id);
        if ids.is_empty() {
            tx.remove(Table::KeyIndex, &index)?;
        } else {
            tx.put(Table::KeyIndex, &index, &ids)?;
        }
        tx.remove(Table::Keys, &key.id)
    }

    // ---- Profile › Credentials ----

    /// The actor's own keys — a user's, or through its token a service account's (the token
    /// API lists a principal's application credentials); `kind` narrows to one tab.
    pub fn list_credentials(&self, actor: &Actor, kind: Option<KeyKind>) -> Result<Vec<AccessKey>> {
        let owner = self.guard(actor, "credential.list", &actor.label, || {
            match &actor.principal {
                Principal::User(id) | Principal::ServiceAccount(id) => Ok(id.clone()),
                _ => Err(Error::Denied(
                    "only users and service accounts have access keys".into(),
                )),
            }
        })?;
        Ok(self
            .keys_of(&owner)?
            .into_iter()
            .filter(|k| kind.is_none_or(|kind| k.kind == kind))
            .collect())
    }

    /// Issues an IAM or S3 access key for the signed-in user in a project where they hold a
    /// role. Up to two of each kind per project.
    pub fn create_credential(
        &self,
        actor: &Actor,
        kind: KeyKind,
        project: &str,
        name: &str,
        description: &str,
    ) -> Result<NewKey> {
        self.create_credential_with_role(actor, kind, project, name, description, None)
    }

    /// `create_credential_with_role` in the project a token is scoped to, as Keystone creates
    /// application credentials; an unscoped token has no project to offer and is refused (and
    /// audited).
    pub fn create_credential_in_scope(
        &self,
        actor: &Actor,
        kind: KeyKind,
        name: &str,
        description: &str,
        role: Option<ProjectRole>,
    ) -> Result<NewKey> {
        let super::Via::Token {
            project_id: Some(project),
            ..
        } = &actor.via
        else {
            let refusal = Error::Denied(
                "an unscoped token acts in no project: ask for a token scoped to the project to create the key in".into(),
            );
            let action = format!("credential.{}.create", kind.tag());
            self.record_refusal(actor, &action, &format!("{name} in no project"), &refusal)?;
            return Err(refusal);
        };
        self.create_credential_with_role(actor, kind, project, name, description, role)
    }

    /// `create_credential` for a key limited to `role` (Keystone's application credential
    /// `roles`), which the user must hold in the project (or a role that implies it); `None`
    /// makes a key that acts with the owner's role.
    pub fn create_credential_with_role(
        &self,
        actor: &Actor,
        kind: KeyKind,
        project: &str,
        name: &str,
        description: &str,
        role: Option<ProjectRole>,
    ) -> Result<NewKey> {
        self.bound_inputs(
            actor,
            &format!("credential.{}.create", kind.tag()),
            &[
                ("access key name", name, validate::TEXT_INPUT_MAX),
                ("access key description", description, validate::TEXT_INPUT_MAX),
            ],
        )?;
        let project = self.find_project(project)?;
        let (id, secret) = (self.new_id(), self.new_secret());
        let limit = self.config.limits.keys_per_user_per_project;
        let action = format!("credential.{}.create", kind.tag());
        let target = format!("{name} in {}", project.name);
        let taken = || self.key_names(actor.user_id().unwrap_or_default(), kind);
        let key = self.change_with(actor, &action, &target, taken, |tx, taken| {
            super::users::refuse_restricted(actor)?;
            if let super::Via::Token { project_id: scope, .. } = &actor.via {
                if scope.as_deref() != Some(project.id.as_str()) {
                    return Err(Error::Denied(format!(
                        "project {} ({}) does not match the token's scope ({}): a token creates keys only in the project it is scoped to",
                        project.name,
                        project.id,
                        scope.as_deref().unwrap_or("unscoped"),
                    ))
                    .into());
                }
            }
            self.require(tx, actor, Some(&project.id), Permission::OwnCredentials, &format!("creating an {}", kind.label()))?;
            if let Some(wanted) = role {
                let (_, held) = self.roles_in(tx, actor, Some(&project.id))?;
                if !held.is_some_and(|held| super::access::implies(held, wanted)) {
                    return Err(Error::Denied(format!(
                        "you do not hold {} in project {}; a key can be limited only to a role you hold there",
                        wanted.label(),
                        project.name
                    ))
                    .into());
                }
            }
            let uid = actor.user_id().ok_or_else(|| Error::Denied("only users have Credentials".into()))?;
            load_project(tx, &project.id)?;
            let request = KeyRequest {
                owner: Owner::User(uid.into()),
                project_id: &project.id,
                kind,
                name,
                description,
                role,
                limit,
                limit_text: format!(
                    "you can create up to {limit} {}s per project, and you have {limit} in {}; delete one first",
                    kind.label(),
                    project.name
                ),
            };
            self.insert_key(tx, &request, taken, &id, &secret)
        })?;
        Ok(NewKey { key, secret })
    }

    /// The ID of `owner_id`'s key of `kind` named by `key_ref`: its full ID, or its name (names
    /// are unique per owner and kind). Lists show only a hint of a user key's ID, so a key is
    /// usually named.
    fn resolve_key(&self, owner_id: &str, kind: KeyKind, key_ref: &str) -> Result<Option<String>> {
        Ok(self
            .keys_of(owner_id)?
            .into_iter()
            .find(|k| k.kind == kind && (k.id == key_ref || k.name == key_ref))
            .map(|k| k.id))
    }

    /// Deletes one of the signed-in user's own keys, named by its full ID or its name; tokens
    /// issued from it stop working.
    pub fn delete_credential(&self, actor: &Actor, kind: KeyKind, key_ref: &str) -> Result<AccessKey> {
        let action = format!("credential.{}.delete", kind.tag());
        self.bound_inputs(
            actor,
            &action,
            &[("access key ID or name", key_ref, validate::ID_INPUT_MAX)],
        )?;
        let owner = actor.user_id().unwrap_or_default().to_string();
        let resolve = || self.resolve_key(&owner, kind, key_ref);
        self.change_with(actor, &action, key_ref, resolve, |tx, resolved| {
            super::users::refuse_restricted(actor)?;
            if let Principal::ServiceAccount(_) = actor.principal {
                self.require(
                    tx,
                    actor,
                    None,
                    Permission::OwnCredentials,
                    "deleting an access key",
                )?;
            }
            let uid = actor
                .user_id()
                .ok_or_else(|| Error::Denied("only users have Credentials".into()))?;
            let not_found = || {
                Error::NotFound(format!(
                    "you have no {} with ID or name {key_ref:?}",
                    kind.label()
                ))
            };
            let key_id = resolved.as_deref().ok_or_else(not_found)?;
            let key: AccessKey = tx.get(Table::Keys, key_id)?.ok_or_else(not_found)?;
            if key.owner != Owner::User(uid.into()) || key.kind != kind {
                return Err(not_found().into());
            }
            if let super::Via::Token { project_id, .. } = &actor.via {
                if project_id.as_deref() != Some(key.project_id.as_str()) {
                    return Err(
                        Error::Denied("a token can manage keys only in its own project".into()).into(),
                    );
                }
            }
            Self::unindex_key(tx, &key)?;
            Ok(key)
        })
    }

    // ---- Service account › Credentials › IAM access key ----

    pub fn list_sa_keys(&self, actor: &Actor, sa_id: &str) -> Result<Vec<AccessKey>> {
        let sa = self.service_account(actor, sa_id)?;
        self.keys_of(&sa.id())
    }

    pub fn create_sa_key(&self, actor: &Actor, sa_id: &str, name: &str, description: &str) -> Result<NewKey> {
        let (_, project_id) = parse_sa_id(sa_id)?;
        self.bound_inputs(
            actor,
            "sa_key.create",
            &[
                ("access key name", name, validate::TEXT_INPUT_MAX),
                ("access key description", description, validate::TEXT_INPUT_MAX),
            ],
        )?;
        let (id, secret) = (self.new_id(), self.new_secret());
        let limit = self.config.limits.keys_per_service_account;
        let taken = || self.key_names(sa_id, KeyKind::Iam);
        let key = self.change_with(actor, "sa_key.create", &format!("{name} for {sa_id}"), taken, |tx, taken| {
            self.require(tx, actor, Some(&project_id), Permission::ManageServiceAccountKeys, "creating a service account's access key")?;
            let sa = load_service_account(tx, sa_id)?;
            if sa.status == SaStatus::Inactive {
                return Err(Error::Conflict(format!(
                    "service account {} is inactive; set it Active before creating keys",
                    sa.name
                ))
                .into());
            }
            let request = KeyRequest {
                owner: Owner::ServiceAccount(sa_id.into()),
                project_id: &project_id,
                kind: KeyKind::Iam,
                name,
                description,
                role: None,
                limit,
                limit_text: format!(
                    "you can create up to {limit} IAM access keys per service account, and {} has {limit}; delete one first",
                    sa.name
                ),
            };
            self.insert_key(tx, &request, taken, &id, &secret)
        })?;
        Ok(NewKey { key, secret })
    }

    /// Deletes a service account's key, named by its ID or its name, after the typed
    /// confirmation `Delete IAM access key`.
    pub fn delete_sa_key(
        &self,
        actor: &Actor,
        sa_id: &str,
        key_ref: &str,
        confirmation: &str,
    ) -> Result<AccessKey> {
        let (_, project_id) = parse_sa_id(sa_id)?;
        self.bound_inputs(
            actor,
            "sa_key.delete",
            &[
                ("access key ID or name", key_ref, validate::ID_INPUT_MAX),
                ("confirmation", confirmation, validate::PHRASE_INPUT_MAX),
            ],
        )?;
        let resolve = || self.resolve_key(sa_id, KeyKind::Iam, key_ref);
        let target = format!("{key_ref} of {sa_id}");
        self.change_with(actor, "sa_key.delete", &target, resolve, |tx, resolved| {
            self.require(
                tx,
                actor,
                Some(&project_id),
                Permission::ManageServiceAccountKeys,
                "deleting a service account's access key",
            )?;
            validate::confirmation(DELETE_KEY_PHRASE, confirmation)?;
            load_service_account(tx, sa_id)?;
            let not_found =
                || Error::NotFound(format!("service account {sa_id} has no access key {key_ref:?}"));
            let key_id = resolved.as_deref().ok_or_else(not_found)?;
            let key: AccessKey = tx.get(Table::Keys, key_id)?.ok_or_else(not_found)?;
            if key.owner != Owner::ServiceAccount(sa_id.into()) {
                return Err(not_found().into());
            }
            Self::unindex_key(tx, &key)?;
            Ok(key)
        })
    }
}
