//! The demo organization shipped in `assets/demo-org.json`, loaded through the model itself —
//! every entry is made by the user the asset names, so the demo obeys every rule it teaches.

use std::collections::HashMap;

use serde::Deserialize;

use super::inquiries::{InquiryDraft, InquiryKind};
use super::keys::KeyKind;
use super::service_accounts::{SaStatus, ServiceAccount};
use super::{Actor, Console, Error, OrgRole, ProjectRole, Result};

pub const DEMO_ORG_JSON: &str = include_str!("../../assets/demo-org.json");

#[derive(Deserialize)]
struct DemoUser {
    email: String,
    name: String,
    #[serde(default)]
    org_role: Option<String>,
    password: String,
}

#[derive(Deserialize)]
struct DemoPayment {
    brand: String,
    last4: String,
    expiry: String,
}

#[derive(Deserialize)]
struct DemoProject {
    name: String,
    nickname: String,
    description: String,
}

#[derive(Deserialize)]
struct DemoMember {
    project: String,
    email: String,
    role: String,
}

#[derive(Deserialize)]
struct DemoServiceAccount {
    project: String,
    name: String,
    #[serde(default)]
    description: String,
    by: String,
}

#[derive(Deserialize)]
struct DemoSaKey {
    project: String,
    service_account: String,
    name: String,
    description: String,
    by: String,
}

#[derive(Deserialize)]
struct DemoUserKey {
    email: String,
    kind: KeyKind,
    project: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct DemoService {
    project: String,
    service: String,
    by: String,
}

#[derive(Deserialize)]
struct DemoInquiry {
    by: String,
    kind: String,
    detail_type: String,
    #[serde(default)]
    project: Option<String>,
    title: String,
    details: String,
    private: bool,
}

#[derive(Deserialize)]
struct DemoOrg {
    organization: String,
    owner: DemoUser,
    /// The Help Desk operator's password (its e-mail is the same everywhere).
    operator_password: String,
    users: Vec<DemoUser>,
    payment_methods: Vec<DemoPayment>,
    projects: Vec<DemoProject>,
    default_project: String,
    members: Vec<DemoMember>,
    service_accounts: Vec<DemoServiceAccount>,
    service_account_keys: Vec<DemoSaKey>,
    inactive_service_accounts: Vec<DemoServiceAccount>,
    user_keys: Vec<DemoUserKey>,
    services: Vec<DemoService>,
    inquiries: Vec<DemoInquiry>,
}

/// The demo organization's owner, as the bundled file has it: (e-mail, password). Both are
/// public (the README lists them); a first start shows them to whoever chose the demo.
pub fn demo_owner() -> Result<(String, String)> {
    let demo = demo_org()?;
    Ok((demo.owner.email, demo.owner.password))
}

/// The bundled demo organization, read.
fn demo_org() -> Result<DemoOrg> {
    serde_json::from_str(DEMO_ORG_JSON).map_err(|e| bad_asset(e.to_string()))
}

fn bad_asset(what: String) -> Error {
    Error::Internal(format!("the demo organization asset is inconsistent: {what}"))
}

impl Console {
    /// Creates the demo organization in this (empty) data directory.
    pub fn load_demo(&self) -> Result<()> {
        let demo = demo_org()?;
        let owner = self.init_org(
            &demo.organization,
            &demo.owner.email,
            &demo.owner.name,
            &demo.owner.password,
        )?;
        self.set_operator_password(&Actor::system(), &demo.operator_password)?;
        let mut actors: HashMap<String, Actor> = HashMap::new();
        let owner_actor = Console::actor_for(&owner);
        actors.insert(owner.email.clone(), owner_actor.clone());
        for u in &demo.users {
            let role = match u.org_role.as_deref() {
                None => None,
                Some(r) => Some(OrgRole::parse(r).ok_or_else(|| bad_asset(format!("org role {r}")))?),
            };
            let user = self.add_user_with_password(&owner_actor, &u.email, &u.name, role, &u.password)?;
            actors.insert(user.email.clone(), Console::actor_for(&user));
        }
        let actor = |email: &str| {
            actors
                .get(email)
                .cloned()
                .ok_or_else(|| bad_asset(format!("unknown user {email}")))
        };
        for p in &demo.payment_methods {
            self.add_payment_method(&owner_actor, &p.brand, &p.last4, &p.expiry)?;
        }
        for p in &demo.projects {
            self.create_project(&owner_actor, &p.name, &p.nickname, &p.description)?;
        }
        self.set_default_project(&owner_actor, &demo.default_project)?;
        for m in &demo.members {
            let role =
                ProjectRole::parse(&m.role).ok_or_else(|| bad_asset(format!("project role {}", m.role)))?;
            self.add_member(&owner_actor, &m.project, &m.email, role)?;
        }
        for sa in &demo.service_accounts {
            self.create_service_account(&actor(&sa.by)?, &sa.project, &sa.name, &sa.description)?;
        }
        for k in &demo.service_account_keys {
            let sa_id = ServiceAccount::id_for(&k.service_account, &self.find_project(&k.project)?.id);
            self.create_sa_key(&actor(&k.by)?, &sa_id, &k.name, &k.description)?;
        }
        for sa in &demo.inactive_service_accounts {
            let sa_id = ServiceAccount::id_for(&sa.name, &self.find_project(&sa.project)?.id);
            self.set_service_account_status(&actor(&sa.by)?, &sa_id, SaStatus::Inactive)?;
        }
        for k in &demo.user_keys {
            self.create_credential(&actor(&k.email)?, k.kind, &k.project, &k.name, &k.description)?;
        }
        for s in &demo.services {
            self.enable_service(&actor(&s.by)?, &s.project, &s.service)?;
        }
        for i in &demo.inquiries {
            let draft = InquiryDraft {
                kind: InquiryKind::parse(&i.kind)
                    .ok_or_else(|| bad_asset(format!("inquiry kind {}", i.kind)))?,
                detail_type: i.detail_type.clone(),
                project: i.project.clone(),
                title: i.title.clone(),
                details: i.details.clone(),
                private: i.private,
                attachment: None,
            };
            self.submit_inquiry(&actor(&i.by)?, &draft)?;
        }
        Ok(())
    }
}
