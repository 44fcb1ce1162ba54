//! The permission matrix of console.md §3, cell by cell, enforced through the model.
//!
//! For every action row and every column — Org Admin, Org Reader, Project Admin, Project Member,
//! Project Reader, and a user with no role at all — a user holding exactly that role really
//! attempts the action, and the outcome must be success (✓) or `Error::Denied` (blank). The
//! table below is written from the spec, not from `access::MATRIX`; a separate test checks that
//! `MATRIX` (what the help screen prints) agrees with it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use kc_console::console::access::{self, Permission};
use kc_console::console::{
    Actor, Config, Console, Error, FixedClock, KeyKind, Limits, OrgRole, ProjectRole, SaStatus,
    SeededEntropy, ServiceAccount,
};
use tempfile::TempDir;

const SA_PHRASE: &str = "Delete service account";
const KEY_PHRASE: &str = "Delete IAM access key";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    OrgAdmin,
    OrgReader,
    ProjectAdmin,
    ProjectMember,
    ProjectReader,
    Nobody,
}

const ROLES: [Role; 6] = [
    Role::OrgAdmin,
    Role::OrgReader,
    Role::ProjectAdmin,
    Role::ProjectMember,
    Role::ProjectReader,
    Role::Nobody,
];

impl Role {
    fn slug(self) -> &'static str {
        match self {
            Role::OrgAdmin => "org-admin",
            Role::OrgReader => "org-reader",
            Role::ProjectAdmin => "p-admin",
            Role::ProjectMember => "p-member",
            Role::ProjectReader => "p-reader",
            Role::Nobody => "no-role",
        }
    }

    fn email(self) -> String {
        format!("{}@example.com", self.slug())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    ViewProjects,
    CreateProject,
    EditProject,
    SetDefaultProject,
    RequestProjectDeletion,
    ManageOrgUsers,
    ManageBilling,
    ManageMembers,
    ViewServiceAccounts,
    ManageServiceAccounts,
    ManageServiceAccountKeys,
    UseService,
    OwnCredentials,
}

const Y: bool = true;
const N: bool = false;

/// One row of console.md §3. Columns: Org Admin, Org Reader, Project Admin, Project Member,
/// Project Reader; a user with no role is refused everything. Project columns mean the role in
/// the project the action is about. "view projects": ✓ = all projects, blank = only their own.
struct Row {
    action: Action,
    permission: Permission,
    label: &'static str,
    cells: [bool; 5],
}

const TABLE: &[Row] = &[
    Row {
        action: Action::ViewProjects,
        permission: Permission::ViewAllProjects,
        label: "view projects (all / own)",
        cells: [Y, Y, N, N, N],
    },
    Row {
        action: Action::CreateProject,
        permission: Permission::CreateProject,
        label: "create project",
        cells: [Y, N, N, N, N],
    },
    Row {
        action: Action::EditProject,
        permission: Permission::EditProject,
        label: "edit project nickname / description",
        cells: [Y, N, N, N, N],
    },
    Row {
        action: Action::SetDefaultProject,
        permission: Permission::SetDefaultProject,
        label: "set default project",
        cells: [Y, N, N, N, N],
    },
    Row {
        action: Action::RequestProjectDeletion,
        permission: Permission::RequestProjectDeletion,
        label: "request project deletion",
        cells: [Y, N, N, N, N],
    },
    Row {
        action: Action::ManageOrgUsers,
        permission: Permission::ManageOrgUsers,
        label: "add / remove users in the organization",
        cells: [Y, N, N, N, N],
    },
    // Not a row of §3: Billing › Payment methods is an Org Admin task *(replica, org.rs)*.
    Row {
        action: Action::ManageBilling,
        permission: Permission::ManageBilling,
        label: "add payment methods (replica)",
        cells: [Y, N, N, N, N],
    },
    Row {
        action: Action::ManageMembers,
        permission: Permission::ManageMembers,
        label: "manage project members and their roles",
        cells: [Y, N, Y, N, N],
    },
    Row {
        action: Action::ViewServiceAccounts,
        permission: Permission::ViewServiceAccounts,
        label: "view service accounts, their keys, service agents",
        cells: [Y, Y, Y, N, N],
    },
    Row {
        action: Action::ManageServiceAccounts,
        permission: Permission::ManageServiceAccounts,
        label: "create service account, change its status, delete it",
        cells: [N, N, Y, N, N],
    },
    Row {
        action: Action::ManageServiceAccountKeys,
        permission: Permission::ManageServiceAccountKeys,
        label: "create / delete a service account's access keys",
        cells: [N, N, Y, N, N],
    },
    Row {
        action: Action::UseService,
        permission: Permission::UseService,
        label: "start using a service in a project (creates its agent)",
        cells: [N, N, Y, Y, N],
    },
    Row {
        action: Action::OwnCredentials,
        permission: Permission::OwnCredentials,
        label: "own Credentials: IAM and S3 access keys (any project role there)",
        cells: [N, N, Y, Y, Y],
    },
];

fn expected(row: &Row, role: Role) -> bool {
    match role {
        Role::OrgAdmin => row.cells[0],
        Role::OrgReader => row.cells[1],
        Role::ProjectAdmin => row.cells[2],
        Role::ProjectMember => row.cells[3],
        Role::ProjectReader => row.cells[4],
        Role::Nobody => false,
    }
}

fn row(action: Action) -> &'static Row {
    TABLE
        .iter()
        .find(|r| r.action == action)
        .expect("every action has a row")
}

/// The outcome of one attempt: allowed, refused for permission, or something else (a failure).
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Denied,
    Other(String),
}

fn outcome<T>(r: Result<T, Error>) -> Outcome {
    match r {
        Ok(_) => Outcome::Allowed,
        Err(Error::Denied(_)) => Outcome::Denied,
        Err(e) => Outcome::Other(format!("{e:?}")),
    }
}

/// An organization with a user for every column. "target" is the project the project roles are
/// held in; "other" exists so that "all projects" and "own projects" differ. The owner creates
/// both, so the owner is Project Admin of both; the Org Admin column is a second Org Admin who
/// holds no project role, as the Org Reader holds none.
struct World {
    _dir: TempDir,
    console: Console,
    owner: Actor,
    actors: Vec<(Role, Actor)>,
    standing_sa: ServiceAccount,
    standing_key_id: String,
}

const SPARE: &str = "spare@example.com";

impl World {
    fn new() -> World {
        let dir = TempDir::new().expect("temp dir");
        let console = Console::open(
            dir.path(),
            Config {
                clock: Arc::new(FixedClock::new(
                    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap(),
                )),
                entropy: Arc::new(SeededEntropy::new(7)),
                limits: Limits::default(),
            },
        )
        .expect("open");
        let owner_user = console
            .init_org("Matrix Org", "owner@example.com", "Owner", "owner-password-1")
            .expect("init_org");
        let owner = Console::actor_for(&owner_user);
        console
            .add_payment_method(&owner, "Visa", "4242", "09/28")
            .unwrap();
        console.create_project(&owner, "target", "Target", "").unwrap();
        console.create_project(&owner, "other", "Other", "").unwrap();

        let mut actors = Vec::new();
        for role in ROLES {
            let org_role = match role {
                Role::OrgAdmin => Some(OrgRole::Admin),
                Role::OrgReader => Some(OrgRole::Reader),
                _ => None,
            };
            let user = console
                .add_user_with_password(&owner, &role.email(), role.slug(), org_role, "user-password-1")
                .unwrap();
            let project_role = match role {
                Role::ProjectAdmin => Some(ProjectRole::Admin),
                Role::ProjectMember => Some(ProjectRole::Member),
                Role::ProjectReader => Some(ProjectRole::Reader),
                _ => None,
            };
            if let Some(pr) = project_role {
                console.add_member(&owner, "target", &role.email(), pr).unwrap();
            }
            actors.push((role, Console::actor_for(&user)));
        }
        console
            .add_user_with_password(&owner, SPARE, "Spare", None, "user-password-1")
            .unwrap();

        let standing_sa = console
            .create_service_account(&owner, "target", "standing", "")
            .unwrap();
        let standing_key_id = console
            .create_sa_key(&owner, &standing_sa.id(), "standing-key", "")
            .unwrap()
            .key
            .id;
        console.enable_service(&owner, "target", "hadoop-eco").unwrap();
        World {
            _dir: dir,
            console,
            owner,
            actors,
            standing_sa,
            standing_key_id,
        }
    }

    fn c(&self) -> &Console {
        &self.console
    }

    /// Attempts `action` as `actor` (holding `role`); every sub-attempt's outcome, named.
    fn attempt(&self, action: Action, role: Role, actor: &Actor) -> Vec<(&'static str, Outcome)> {
        let c = self.c();
        let tag = role.slug();
        match action {
            Action::ViewProjects => {
                let uid = actor.user_id().unwrap();
                let all: BTreeSet<String> = c.project_names().unwrap().into_keys().collect();
                let own: BTreeSet<String> = all
                    .iter()
                    .filter(|p| c.project_role(p, uid).unwrap().is_some())
                    .cloned()
                    .collect();
                assert_ne!(all, own, "the fixture must tell 'all' from 'own' for {role:?}");
                let seen: BTreeSet<String> = match c.list_projects(actor) {
                    Ok(views) => views.into_iter().map(|v| v.project.id).collect(),
                    Err(e) => return vec![("list_projects", Outcome::Other(format!("{e:?}")))],
                };
                let o = if seen == all {
                    Outcome::Allowed
                } else if seen == own {
                    Outcome::Denied
                } else {
                    Outcome::Other(format!("saw {seen:?}; all {all:?}, own {own:?}"))
                };
                vec![("list_projects", o)]
            }
            Action::CreateProject => {
                vec![(
                    "create_project",
                    outcome(c.create_project(actor, &format!("new-{tag}"), "New", "")),
                )]
            }
            Action::EditProject => vec![(
                "edit_project",
                outcome(c.edit_project(actor, "target", Some(&format!("edited by {tag}")), Some("d"))),
            )],
            Action::SetDefaultProject => {
                let o = outcome(c.set_default_project(actor, "other"));
                // Back to "target", so the next attempt is a real change again.
                c.set_default_project(&self.owner, "target").unwrap();
                vec![("set_default_project", o)]
            }
            Action::RequestProjectDeletion => vec![(
                "request_project_deletion",
                outcome(c.request_project_deletion(actor, "target", "Delete target", "", false, None)),
            )],
            Action::ManageOrgUsers => {
                let email = format!("added-by-{tag}@example.com");
                let add = outcome(c.add_user_with_password(actor, &email, "Added", None, "user-password-1"));
                // Remove the user just added, or, if adding was refused, the standing spare user.
                let remove = if add == Outcome::Allowed {
                    outcome(c.remove_user(actor, &email))
                } else {
                    outcome(c.remove_user(actor, SPARE))
                };
                vec![("add_user", add), ("remove_user", remove)]
            }
            Action::ManageBilling => vec![(
                "add_payment_method",
                outcome(c.add_payment_method(actor, "Mastercard", "5555", "01/30")),
            )],
            Action::ManageMembers => {
                let add = outcome(c.add_member(actor, "target", SPARE, ProjectRole::Reader));
                if add != Outcome::Allowed {
                    // The spare user is made a member, so changing and removing are real attempts.
                    c.add_member(&self.owner, "target", SPARE, ProjectRole::Reader)
                        .unwrap();
                }
                let set = outcome(c.set_member_role(actor, "target", SPARE, ProjectRole::Member));
                let remove = outcome(c.remove_member(actor, "target", SPARE));
                if remove != Outcome::Allowed {
                    c.remove_member(&self.owner, "target", SPARE).unwrap();
                }
                vec![
                    ("add_member", add),
                    ("set_member_role", set),
                    ("remove_member", remove),
                ]
            }
            Action::ViewServiceAccounts => {
                let sa_id = self.standing_sa.id();
                let list = c.list_service_accounts(actor, "target");
                let one = c.service_account(actor, &sa_id);
                let keys = c.list_sa_keys(actor, &sa_id);
                let agents = c.list_agents(actor, "target");
                if let Ok(list) = &list {
                    assert!(
                        list.iter().any(|s| s.id() == sa_id),
                        "{role:?} sees the service account"
                    );
                }
                if let Ok(keys) = &keys {
                    assert!(
                        keys.iter().any(|k| k.id == self.standing_key_id),
                        "{role:?} sees its key"
                    );
                }
                if let Ok(agents) = &agents {
                    assert!(
                        agents.iter().any(|a| a.service == "hadoop-eco"),
                        "{role:?} sees the agent"
                    );
                }
                vec![
                    ("list_service_accounts", outcome(list)),
                    ("service_account", outcome(one)),
                    ("list_sa_keys", outcome(keys)),
                    ("list_agents", outcome(agents)),
                ]
            }
            Action::ManageServiceAccounts => {
                let created = c.create_service_account(actor, "target", &format!("sa-{tag}"), "");
                // Change and delete the account just created, or, if creating was refused, the
                // standing one.
                let sa_id = match &created {
                    Ok(sa) => sa.id(),
                    Err(_) => self.standing_sa.id(),
                };
                let create = outcome(created);
                let deactivate = outcome(c.set_service_account_status(actor, &sa_id, SaStatus::Inactive));
                let reactivate = outcome(c.set_service_account_status(actor, &sa_id, SaStatus::Active));
                let delete = outcome(c.delete_service_account(actor, &sa_id, SA_PHRASE));
                vec![
                    ("create_service_account", create),
                    ("set_service_account_status inactive", deactivate),
                    ("set_service_account_status active", reactivate),
                    ("delete_service_account", delete),
                ]
            }
            Action::ManageServiceAccountKeys => {
                let sa_id = self.standing_sa.id();
                let created = c.create_sa_key(actor, &sa_id, &format!("key-{tag}"), "");
                let key_id = match &created {
                    Ok(k) => k.key.id.clone(),
                    Err(_) => self.standing_key_id.clone(),
                };
                let create = outcome(created);
                let delete = outcome(c.delete_sa_key(actor, &sa_id, &key_id, KEY_PHRASE));
                vec![("create_sa_key", create), ("delete_sa_key", delete)]
            }
            Action::UseService => {
                // A service not yet in use in "target" for each allowed column; the refused columns
                // try one nobody may have started.
                let service = match role {
                    Role::ProjectAdmin => "data-query",
                    Role::ProjectMember => "data-catalog",
                    _ => "kubernetes-engine",
                };
                let result = c.enable_service(actor, "target", service);
                if let Ok(agent) = &result {
                    let agents = c.list_agents(&self.owner, "target").unwrap();
                    assert!(agents.contains(agent), "the new agent is listed");
                }
                vec![("enable_service", outcome(result))]
            }
            Action::OwnCredentials => {
                let mut outcomes = Vec::new();
                for kind in [KeyKind::Iam, KeyKind::S3] {
                    let created = c.create_credential(actor, kind, "target", &format!("{tag}-key"), "");
                    if let Ok(k) = &created {
                        assert!(c.list_credentials(actor, Some(kind)).unwrap().contains(&k.key));
                        c.delete_credential(actor, kind, &k.key.id).unwrap();
                    }
                    outcomes.push(("create_credential", outcome(created)));
                }
                outcomes
            }
        }
    }
}

/// Attempts one row in every column and reports every cell that disagrees with the table.
fn check_row(action: Action) {
    let row = row(action);
    let world = World::new();
    let mut wrong = Vec::new();
    for (role, actor) in &world.actors {
        let want = if expected(row, *role) {
            Outcome::Allowed
        } else {
            Outcome::Denied
        };
        for (what, got) in world.attempt(action, *role, actor) {
            if got != want {
                wrong.push(format!("{role:?} / {what}: expected {want:?}, got {got:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "row {:?} disagrees with console.md §3:\n{}",
        row.label,
        wrong.join("\n")
    );
}

#[test]
fn view_projects_all_for_org_roles_own_for_project_roles() {
    check_row(Action::ViewProjects);
}

#[test]
fn create_project() {
    check_row(Action::CreateProject);
}

#[test]
fn edit_project() {
    check_row(Action::EditProject);
}

#[test]
fn set_default_project() {
    check_row(Action::SetDefaultProject);
}

#[test]
fn request_project_deletion() {
    check_row(Action::RequestProjectDeletion);
}

#[test]
fn add_and_remove_users_in_the_organization() {
    check_row(Action::ManageOrgUsers);
}

#[test]
fn add_payment_methods_replica() {
    check_row(Action::ManageBilling);
}

#[test]
fn manage_project_members_and_their_roles() {
    check_row(Action::ManageMembers);
}

#[test]
fn view_service_accounts_their_keys_and_service_agents() {
    check_row(Action::ViewServiceAccounts);
}

#[test]
fn create_service_account_change_its_status_delete_it() {
    check_row(Action::ManageServiceAccounts);
}

#[test]
fn create_and_delete_a_service_accounts_access_keys() {
    check_row(Action::ManageServiceAccountKeys);
}

#[test]
fn start_using_a_service() {
    check_row(Action::UseService);
}

#[test]
fn own_credentials_in_projects_where_the_user_holds_a_project_role() {
    check_row(Action::OwnCredentials);
}

#[test]
fn every_action_of_the_table_has_exactly_one_row_and_is_tested() {
    let all = [
        Action::ViewProjects,
        Action::CreateProject,
        Action::EditProject,
        Action::SetDefaultProject,
        Action::RequestProjectDeletion,
        Action::ManageOrgUsers,
        Action::ManageBilling,
        Action::ManageMembers,
        Action::ViewServiceAccounts,
        Action::ManageServiceAccounts,
        Action::ManageServiceAccountKeys,
        Action::UseService,
        Action::OwnCredentials,
    ];
    assert_eq!(TABLE.len(), all.len());
    for action in all {
        assert_eq!(
            TABLE.iter().filter(|r| r.action == action).count(),
            1,
            "{action:?}"
        );
    }
}

#[test]
fn access_matrix_agrees_with_the_spec_table() {
    // Same rows, same cells: what the help screen shows is what is enforced above.
    assert_eq!(
        access::MATRIX.len(),
        TABLE.len(),
        "access::MATRIX and the spec table have different rows"
    );
    for spec in TABLE {
        let rows: Vec<_> = access::MATRIX
            .iter()
            .filter(|m| m.permission == spec.permission)
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "access::MATRIX must hold exactly one row for {:?}",
            spec.permission
        );
        let m = rows[0];
        assert_eq!(
            [
                m.org_admin,
                m.org_reader,
                m.project_admin,
                m.project_member,
                m.project_reader
            ],
            spec.cells,
            "access::MATRIX row {:?} ({}) disagrees with console.md §3 ({})",
            spec.permission,
            m.action,
            spec.label
        );
    }
}
