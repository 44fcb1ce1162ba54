//! Who may do what: the permission matrix of the console (spec §3), as one table. The help
//! screen prints this same table, so what is shown and what is enforced cannot disagree.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub enum OrgRole {
    #[serde(rename = "Org Admin")]
    Admin,
    #[serde(rename = "Org Reader")]
    Reader,
}

/// Project roles, ordered: Admin ⊃ Member ⊃ Reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub enum ProjectRole {
    #[serde(rename = "Project Admin")]
    Admin,
    #[serde(rename = "Project Member")]
    Member,
    #[serde(rename = "Project Reader")]
    Reader,
}

impl OrgRole {
    pub fn label(self) -> &'static str {
        match self {
            OrgRole::Admin => "Org Admin",
            OrgRole::Reader => "Org Reader",
        }
    }

    pub fn parse(s: &str) -> Option<OrgRole> {
        match s.to_ascii_lowercase().as_str() {
            "admin" | "org admin" => Some(OrgRole::Admin),
            "reader" | "org reader" => Some(OrgRole::Reader),
            _ => None,
        }
    }
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 3] = [ProjectRole::Admin, ProjectRole::Member, ProjectRole::Reader];

    /// The role's Keystone ID and name (`project-admin`, `project_admin`), which OpenStack
    /// clients send exactly.
    pub fn keystone_names(self) -> (&'static str, &'static str) {
        match self {
            ProjectRole::Admin => ("project-admin", "project_admin"),
            ProjectRole::Member => ("project-member", "project_member"),
            ProjectRole::Reader => ("project-reader", "project_reader"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProjectRole::Admin => "Project Admin",
            ProjectRole::Member => "Project Member",
            ProjectRole::Reader => "Project Reader",
        }
    }

    /// `admin`, `Project Admin`, `project_admin` (Keystone's name) or `project-admin`, in any case.
    pub fn parse(s: &str) -> Option<ProjectRole> {
        match s.to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
            "admin" | "project admin" => Some(ProjectRole::Admin),
            "member" | "project member" => Some(ProjectRole::Member),
            "reader" | "project reader" => Some(ProjectRole::Reader),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ViewAllProjects,
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

/// One row of the matrix: which of Org Admin, Org Reader, Project Admin, Project Member and
/// Project Reader hold the permission.
pub struct Row {
    pub permission: Permission,
    pub action: &'static str,
    pub org_admin: bool,
    pub org_reader: bool,
    pub project_admin: bool,
    pub project_member: bool,
    pub project_reader: bool,
}

const fn row(
    permission: Permission,
    action: &'static str,
    [org_admin, org_reader, project_admin, project_member, project_reader]: [bool; 5],
) -> Row {
    Row {
        permission,
        action,
        org_admin,
        org_reader,
        project_admin,
        project_member,
        project_reader,
    }
}

const Y: bool = true;
const N: bool = false;

/// The matrix. Columns: Org Admin, Org Reader, Project Admin, Project Member, Project Reader.
/// Project columns apply in the project where the user holds that role. Project Member and
/// Project Reader lost the service-account and agent views on 2024-11-15.
pub const MATRIX: &[Row] = &[
    row(
        Permission::ViewAllProjects,
        "view all projects (others: their own)",
        [Y, Y, N, N, N],
    ),
    row(Permission::CreateProject, "create project", [Y, N, N, N, N]),
    row(
        Permission::EditProject,
        "edit project nickname / description",
        [Y, N, N, N, N],
    ),
    row(
        Permission::SetDefaultProject,
        "set default project",
        [Y, N, N, N, N],
    ),
    row(
        Permission::RequestProjectDeletion,
        "request project deletion",
        [Y, N, N, N, N],
    ),
    row(
        Permission::ManageOrgUsers,
        "add / remove users in the organization",
        [Y, N, N, N, N],
    ),
    row(
        Permission::ManageBilling,
        "add payment methods (Billing)",
        [Y, N, N, N, N],
    ),
    row(
        Permission::ManageMembers,
        "manage project members and their roles",
        [Y, N, Y, N, N],
    ),
    row(
        Permission::ViewServiceAccounts,
        "view service accounts, their keys, service agents",
        [Y, Y, Y, N, N],
    ),
    row(
        Permission::ManageServiceAccounts,
        "create service account, change its status, delete it",
        [N, N, Y, N, N],
    ),
    row(
        Permission::ManageServiceAccountKeys,
        "create / delete a service account's access keys",
        [N, N, Y, N, N],
    ),
    row(
        Permission::UseService,
        "start using a service in a project (creates its agent)",
        [N, N, Y, Y, N],
    ),
    row(
        Permission::OwnCredentials,
        "own Credentials: IAM and S3 access keys",
        [N, N, Y, Y, Y],
    ),
];

pub fn matrix_row(permission: Permission) -> &'static Row {
    MATRIX
        .iter()
        .find(|r| r.permission == permission)
        .expect("every permission has a row in the matrix")
}

/// Whether a user with `org` role, and `project` role in the project concerned, may act.
pub fn allows(org: Option<OrgRole>, project: Option<ProjectRole>, permission: Permission) -> bool {
    let r = matrix_row(permission);
    let by_org = match org {
        Some(OrgRole::Admin) => r.org_admin,
        Some(OrgRole::Reader) => r.org_reader,
        None => false,
    };
    let by_project = match project {
        Some(ProjectRole::Admin) => r.project_admin,
        Some(ProjectRole::Member) => r.project_member,
        Some(ProjectRole::Reader) => r.project_reader,
        None => false,
    };
    by_org || by_project
}

/// The less privileged of two project roles: a key limited to a role, or a token carrying one,
/// never acts above it, nor above what its owner holds now. (`Ord` runs Admin < Member < Reader.)
pub fn weaker(a: ProjectRole, b: ProjectRole) -> ProjectRole {
    a.max(b)
}

/// Whether holding `held` grants `wanted`: Admin implies Member implies Reader, as Keystone's
/// default roles imply each other.
pub fn implies(held: ProjectRole, wanted: ProjectRole) -> bool {
    held <= wanted
}

/// Names the roles that hold `permission`, for refusal messages.
pub fn who_may(permission: Permission) -> String {
    let r = matrix_row(permission);
    let names: Vec<&str> = [
        (r.org_admin, "Org Admin"),
        (r.org_reader, "Org Reader"),
        (r.project_admin, "Project Admin"),
        (r.project_member, "Project Member"),
        (r.project_reader, "Project Reader"),
    ]
    .iter()
    .filter(|(held, _)| *held)
    .map(|(_, name)| *name)
    .collect();
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::ProjectRole;

    #[test]
    fn project_roles_are_read_in_the_consoles_and_keystones_spellings() {
        for (spelling, role) in [
            ("reader", ProjectRole::Reader),
            ("Project Reader", ProjectRole::Reader),
            ("project_reader", ProjectRole::Reader),
            ("PROJECT-ADMIN", ProjectRole::Admin),
            ("member", ProjectRole::Member),
        ] {
            assert_eq!(ProjectRole::parse(spelling), Some(role), "{spelling}");
        }
        for bad in ["", "owner", "project", "project__reader", "reader "] {
            assert_eq!(ProjectRole::parse(bad), None, "{bad:?}");
        }
    }
}
