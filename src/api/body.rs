//! Keystone's JSON shapes: what requests carry and what responses say.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::console::{
    AccessKey, IdentityUser, KeyKind, NewKey, Project, ProjectRole, RoleAssignment, TokenInfo, TokenMethod,
};

const DOMAIN: &str = "default";
const REGION: &str = "kr-central-2";

/// Keystone writes times in UTC with microseconds: `2025-03-01T09:00:00.123456Z`.
fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A role's Keystone ID.
pub fn role_id(role: ProjectRole) -> &'static str {
    role.keystone_names().0
}

/// A role as Keystone lists it outside tokens: global roles have no domain.
fn role_value(role: ProjectRole) -> Value {
    let (id, name) = role.keystone_names();
    json!({"id": id, "name": name, "domain_id": null})
}

/// Why a request is refused before it reaches the model, and with which status.
pub enum Refusal {
    /// 400: the body is malformed or asks for what is not supported.
    Bad(String),
    /// 401: the identity named cannot authenticate (an unsupported method, an unknown domain).
    Unauthorized(String),
    /// 404: the request names a thing that does not exist (a role).
    NotFound(String),
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal::Bad(message)
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Refusal {
        Refusal::Bad(message.into())
    }
}

fn version_value(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    })
}

pub fn version(base: &str) -> Value {
    json!({"version": version_value(base)})
}

/// Keystone's root (`GET /identity/`, 300): the one version there is.
pub fn versions(base: &str) -> Value {
    json!({"versions": {"values": [version_value(base)]}})
}

/// A collection's `links`: Keystone names the request itself.
fn collection_links(href: &str) -> Value {
    json!({"self": href, "previous": null, "next": null})
}

/// `{"token": {...}}` as Keystone writes it. Typed rather than built as a `Value`: this body
/// answers every issue and validation, and serializing borrowed fields in place costs a
/// fraction of building a map of owned ones.
#[derive(Serialize)]
pub struct TokenBody<'a> {
    token: TokenView<'a>,
}

#[derive(Serialize)]
struct TokenView<'a> {
    methods: [&'static str; 1],
    issued_at: String,
    expires_at: String,
    audit_ids: [&'a str; 1],
    user: Scoped<'a>,
    /// An unscoped token has no project, no roles and no catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<Scoped<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<[RoleRef; 1]>,
    is_domain: bool,
    /// Keystone names the application credential only in the tokens made from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    application_credential: Option<CredentialView<'a>>,
    /// Left out for an unscoped token, and when the request said `?nocatalog`.
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<[Service<'a>; 1]>,
}

#[derive(Serialize)]
struct Scoped<'a> {
    id: &'a str,
    name: &'a str,
    domain: DomainRef,
}

#[derive(Serialize)]
struct DomainRef {
    id: &'static str,
    name: &'static str,
}

const DEFAULT_DOMAIN: DomainRef = DomainRef {
    id: DOMAIN,
    name: "Default",
};

#[derive(Serialize)]
struct RoleRef {
    id: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct CredentialView<'a> {
    id: &'a str,
    name: &'a str,
    restricted: bool,
}

#[derive(Serialize)]
struct Service<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    id: &'static str,
    endpoints: [Endpoint<'a>; 1],
}

#[derive(Serialize)]
struct Endpoint<'a> {
    id: &'static str,
    interface: &'static str,
    region: &'static str,
    region_id: &'static str,
    url: &'a str,
}

fn role_ref(role: ProjectRole) -> RoleRef {
    let (id, name) = role.keystone_names();
    RoleRef { id, name }
}

fn catalog(base: &str) -> [Service<'_>; 1] {
    [Service {
        kind: "identity",
        name: "keystone",
        id: "identity",
        endpoints: [Endpoint {
            id: "identity-public",
            interface: "public",
            region: REGION,
            region_id: REGION,
            url: base,
        }],
    }]
}

/// `GET /auth/catalog`.
pub fn catalog_body(base: &str) -> Value {
    json!({"catalog": catalog(base), "links": collection_links(&format!("{base}/auth/catalog"))})
}

/// The token body; `with_catalog` is false for `?nocatalog`.
pub fn token<'a>(info: &'a TokenInfo, base: &'a str, with_catalog: bool) -> TokenBody<'a> {
    let scoped = info.scope().is_some();
    TokenBody {
        token: TokenView {
            methods: [info.method.keystone_name()],
            issued_at: time(&info.issued_at),
            expires_at: time(&info.expires_at),
            audit_ids: [&info.audit_id],
            user: Scoped {
                id: &info.principal_id,
                name: &info.principal_name,
                domain: DEFAULT_DOMAIN,
            },
            project: scoped.then_some(Scoped {
                id: &info.project_id,
                name: &info.project_name,
                domain: DEFAULT_DOMAIN,
            }),
            roles: info.role.map(|role| [role_ref(role)]),
            is_domain: false,
            application_credential: (info.method == TokenMethod::ApplicationCredential).then_some(
                CredentialView {
                    id: &info.key_id,
                    name: &info.key_name,
                    restricted: true,
                },
            ),
            catalog: (scoped && with_catalog).then(|| catalog(base)),
        },
    }
}

fn project_value(p: &Project, base: &str) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "domain_id": DOMAIN,
        "enabled": true,
        "is_domain": false,
        "parent_id": DOMAIN,
        "tags": [],
        "options": {},
        "links": {"self": format!("{base}/projects/{}", p.id)},
    })
}

/// A collection of projects; `path` is the request's own (`/auth/projects`, `/projects`, …).
pub fn projects(projects: &[Project], base: &str, path: &str) -> Value {
    let list: Vec<Value> = projects.iter().map(|p| project_value(p, base)).collect();
    json!({"projects": list, "links": collection_links(&format!("{base}{path}"))})
}

pub fn project(project: &Project, base: &str) -> Value {
    json!({"project": project_value(project, base)})
}

/// `GET /domains/default`: the one domain.
pub fn domain(base: &str) -> Value {
    json!({"domain": {
        "id": DOMAIN,
        "name": DEFAULT_DOMAIN.name,
        "description": "The default domain",
        "enabled": true,
        "tags": [],
        "options": {},
        "links": {"self": format!("{base}/domains/{DOMAIN}")},
    }})
}

/// `GET /users/{id}`: Keystone's user; a service account has no e-mail.
pub fn user(user: &IdentityUser, base: &str) -> Value {
    json!({"user": user_value(user, base)})
}

/// `GET /users`.
pub fn users(users: &[IdentityUser], base: &str) -> Value {
    let list: Vec<Value> = users.iter().map(|u| user_value(u, base)).collect();
    json!({"users": list, "links": collection_links(&format!("{base}/users"))})
}

fn user_value(user: &IdentityUser, base: &str) -> Value {
    let mut value = json!({
        "id": user.id,
        "name": user.name,
        "domain_id": DOMAIN,
        "enabled": user.enabled,
        "password_expires_at": null,
        "options": {},
        "links": {"self": format!("{base}/users/{}", user.id)},
    });
    if let Some(email) = &user.email {
        value["email"] = json!(email);
    }
    value
}

/// `GET /role_assignments`; `include_names` adds the names of the role, user and project.
pub fn role_assignments(
    assignments: &[RoleAssignment],
    base: &str,
    query: &str,
    include_names: bool,
) -> Value {
    let list: Vec<Value> = assignments
        .iter()
        .map(|a| {
            let (role_id, role_name) = a.role.keystone_names();
            let mut role = json!({"id": role_id});
            let mut user = json!({"id": a.principal_id});
            let mut project = json!({"id": a.project_id});
            if include_names {
                role["name"] = json!(role_name);
                user["name"] = json!(a.principal_name);
                user["domain"] = json!({"id": DOMAIN, "name": DEFAULT_DOMAIN.name});
                project["name"] = json!(a.project_name);
                project["domain"] = json!({"id": DOMAIN, "name": DEFAULT_DOMAIN.name});
            }
            json!({
                "role": role,
                "user": user,
                "scope": {"project": project},
                "links": {"assignment": format!("{base}/projects/{}/users/{}/roles/{role_id}", a.project_id, a.principal_id)},
            })
        })
        .collect();
    let href = if query.is_empty() {
        format!("{base}/role_assignments")
    } else {
        format!("{base}/role_assignments?{query}")
    };
    json!({"role_assignments": list, "links": collection_links(&href)})
}

/// An application credential as Keystone writes one; `role` is what its tokens carry now
/// (none once its owner holds no role in its project).
fn application_credential(key: &AccessKey, role: Option<ProjectRole>, base: &str) -> Value {
    let roles: Vec<Value> = role.into_iter().map(role_value).collect();
    json!({
        "id": key.id,
        "name": key.name,
        "description": key.description,
        "project_id": key.project_id,
        "user_id": key.owner.id(),
        "roles": roles,
        "expires_at": null,
        "unrestricted": false,
        "access_rules": [],
        "system": null,
        "status": match key.status { crate::console::KeyStatus::Active => "active", crate::console::KeyStatus::Expired => "expired" },
        "links": {"self": format!("{base}/users/{}/application_credentials/{}", key.owner.id(), key.id)},
    })
}

/// A list never carries a secret: the model does not have one to give.
pub fn application_credentials(
    keys: &[(AccessKey, Option<ProjectRole>)],
    base: &str,
    user_id: &str,
) -> Value {
    let list: Vec<Value> = keys
        .iter()
        .map(|(k, role)| application_credential(k, *role, base))
        .collect();
    let href = format!("{base}/users/{user_id}/application_credentials");
    json!({"application_credentials": list, "links": collection_links(&href)})
}

pub fn one_application_credential(key: &AccessKey, role: Option<ProjectRole>, base: &str) -> Value {
    json!({"application_credential": application_credential(key, role, base)})
}

/// The one response that carries the secret.
pub fn created_application_credential(new: &NewKey, role: Option<ProjectRole>, base: &str) -> Value {
    let mut value = application_credential(&new.key, role, base);
    value["secret"] = json!(new.secret.expose());
    json!({"application_credential": value})
}

fn ec2_credential(key: &AccessKey, base: &str) -> Value {
    json!({
        "user_id": key.owner.id(),
        "tenant_id": key.project_id,
        "access": key.id,
        "trust_id": null,
        "links": {"self": format!("{base}/users/{}/credentials/OS-EC2/{}", key.owner.id(), key.id)},
    })
}

pub fn ec2_credentials(keys: &[AccessKey], base: &str, user_id: &str) -> Value {
    let list: Vec<Value> = keys
        .iter()
        .filter(|k| k.kind == KeyKind::S3)
        .map(|k| ec2_credential(k, base))
        .collect();
    let href = format!("{base}/users/{user_id}/credentials/OS-EC2");
    json!({"credentials": list, "links": collection_links(&href)})
}

/// `GET /users/{id}/credentials/OS-EC2/{access}`: never the secret.
pub fn one_ec2_credential(key: &AccessKey, base: &str) -> Value {
    json!({"credential": ec2_credential(key, base)})
}

pub fn created_ec2_credential(new: &NewKey, base: &str) -> Value {
    let mut value = ec2_credential(&new.key, base);
    value["secret"] = json!(new.secret.expose());
    json!({"credential": value})
}

/// How a token request names its application credential.
pub enum CredentialRef {
    Id(String),
    /// By name, with its owner: by ID, or by name (a user's e-mail) in the default domain.
    Name {
        name: String,
        owner: OwnerRef,
    },
}

pub enum OwnerRef {
    Id(String),
    Name(String),
}

impl OwnerRef {
    /// The owner as failed attempts count it: an e-mail in the one form the model stores
    /// (any letter case names the same user, so it may not buy another budget).
    fn budget(&self) -> String {
        match self {
            OwnerRef::Id(id) => id.clone(),
            OwnerRef::Name(email) => crate::console::users::email_key(email),
        }
    }
}

impl CredentialRef {
    /// What failed attempts are counted under: the key ID, or the owner and key name.
    pub fn throttle_key(&self) -> String {
        match self {
            CredentialRef::Id(id) => id.clone(),
            CredentialRef::Name { name, owner } => format!("{}/{name}", owner.budget()),
        }
    }
}

pub struct PresentedCredential {
    pub by: CredentialRef,
    pub secret: String,
}

/// A `password` identity: the user by ID or by name (the console e-mail) in the default
/// domain, the password, and the project asked for.
pub struct PresentedPassword {
    pub user: OwnerRef,
    pub password: String,
    /// A project ID, or a name in the default domain; none to let the server choose.
    pub project: Option<String>,
}

impl PresentedPassword {
    /// What failed attempts are counted under, apart from application credentials' keys.
    pub fn throttle_key(&self) -> String {
        format!("password/{}", self.user.budget())
    }
}

pub enum Presented {
    ApplicationCredential(PresentedCredential),
    Password(PresentedPassword),
}

/// The longest ID, name or secret accepted in a request; the model's own limits are far
/// shorter (names 30 characters), this keeps absurd values out of every message and log.
const MAX_FIELD_BYTES: usize = 256;
/// The longest description accepted (the model allows 30 characters for keys).
const MAX_DESCRIPTION_BYTES: usize = 1024;
/// Keystone's refusal of a method it does not offer (`AuthMethodNotSupported`, 401).
const UNSUPPORTED_METHOD: &str = "Attempted to authenticate with an unsupported method.";

/// A text field of at most `max` bytes: absent or null is `None`; longer, or present as
/// anything but text (a number, a list), is refused rather than read as absent.
fn bounded_field(value: &Value, field: &str, max: usize) -> Result<Option<String>, String> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.len() > max => Err(format!("{field} is longer than {max} bytes")),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

fn text_field(value: &Value, field: &str) -> Result<Option<String>, String> {
    bounded_field(value, field, MAX_FIELD_BYTES)
}

/// The one domain, named by ID `default` or name `Default`; any other is unknown (401, as
/// Keystone answers a domain it cannot find during authentication).
fn check_domain(owner: &Value, what: &str) -> Result<(), Refusal> {
    let domain = owner
        .get("domain")
        .ok_or_else(|| Refusal::Bad(format!("{what} named by name needs its domain")))?;
    let known = match (text_field(domain, "id")?, text_field(domain, "name")?) {
        (Some(id), _) => id == DOMAIN,
        (None, Some(name)) => name == DEFAULT_DOMAIN.name,
        (None, None) => return Err(Refusal::Bad(format!("{what}.domain needs an id or a name"))),
    };
    if known {
        Ok(())
    } else {
        Err(Refusal::Unauthorized(
            "Could not find domain: the only domain is \"default\" (\"Default\")".into(),
        ))
    }
}

/// A user named by `id`, or by `name` with its domain.
fn owner_ref(user: &Value, what: &str) -> Result<Option<OwnerRef>, Refusal> {
    if let Some(id) = text_field(user, "id")? {
        return Ok(Some(OwnerRef::Id(id)));
    }
    match text_field(user, "name")? {
        Some(name) => {
            check_domain(user, what)?;
            Ok(Some(OwnerRef::Name(name)))
        }
        None => Ok(None),
    }
}

/// `{"auth": {"identity": {"methods": [one method], …}, "scope"?}}`. A method other than
/// `application_credential` and `password`, or both at once, is Keystone's 401.
pub fn token_request(request: &Value) -> Result<Presented, Refusal> {
    let auth = request
        .get("auth")
        .ok_or("the body must be {\"auth\": {\"identity\": …}}")?;
    let identity = auth
        .get("identity")
        .ok_or("the body must be {\"auth\": {\"identity\": …}}")?;
    let methods = identity
        .get("methods")
        .and_then(Value::as_array)
        .ok_or("auth.identity.methods is required")?;
    // `"scope": null` is no scope, for every method.
    let scope = auth.get("scope").filter(|s| !s.is_null());
    match methods.as_slice() {
        // A key's token is scoped to the key's project: asking for a scope is Keystone's 401.
        [m] if m == "application_credential" && scope.is_some() => Err(Refusal::Unauthorized(
            "Application credentials cannot request a scope.".into(),
        )),
        [m] if m == "application_credential" => {
            application_credential_request(identity).map(Presented::ApplicationCredential)
        }
        [m] if m == "password" => password_request(identity, scope).map(Presented::Password),
        _ => Err(Refusal::Unauthorized(UNSUPPORTED_METHOD.into())),
    }
}

fn application_credential_request(identity: &Value) -> Result<PresentedCredential, Refusal> {
    let credential = identity
        .get("application_credential")
        .ok_or("auth.identity.application_credential is required")?;
    let secret = text_field(credential, "secret")?.ok_or("application_credential.secret is required")?;
    let by = match (text_field(credential, "id")?, text_field(credential, "name")?) {
        (Some(id), _) => CredentialRef::Id(id),
        (None, Some(name)) => {
            let owner = match credential.get("user") {
                Some(user) => owner_ref(user, "application_credential.user")?,
                None => None,
            }
            .ok_or(
                "an application credential named without its id needs user.id, or user.name and user.domain",
            )?;
            CredentialRef::Name { name, owner }
        }
        (None, None) => return Err("application_credential needs an id, or a name and its user".into()),
    };
    Ok(PresentedCredential { by, secret })
}

fn password_request(identity: &Value, scope: Option<&Value>) -> Result<PresentedPassword, Refusal> {
    let user = identity
        .get("password")
        .and_then(|p| p.get("user"))
        .ok_or("auth.identity.password.user is required")?;
    let password = text_field(user, "password")?.ok_or("password.user.password is required")?;
    let owner =
        owner_ref(user, "password.user")?.ok_or("password.user needs an id, or a name and a domain")?;
    let project = match scope {
        None => None,
        Some(scope) => {
            let project = scope.get("project").ok_or_else(|| {
                Refusal::Unauthorized(
                    "only project scope is offered: there are no domain or system roles".into(),
                )
            })?;
            match (text_field(project, "id")?, text_field(project, "name")?) {
                (Some(id), _) => Some(id),
                (None, Some(name)) => {
                    check_domain(project, "scope.project")?;
                    Some(name)
                }
                (None, None) => return Err("scope.project needs an id, or a name and a domain".into()),
            }
        }
    };
    Ok(PresentedPassword {
        user: owner,
        password,
        project,
    })
}

/// What creating an application credential asks for.
pub struct NewApplicationCredential {
    pub name: String,
    pub description: String,
    /// The strongest role asked for (holding it means holding the weaker ones asked with it).
    pub role: Option<ProjectRole>,
}

fn role_of(reference: &Value) -> Result<ProjectRole, Refusal> {
    let wanted = match (text_field(reference, "id")?, text_field(reference, "name")?) {
        (Some(id), _) => id,
        (None, Some(name)) => name,
        (None, None) => return Err("each role needs an id or a name".into()),
    };
    ProjectRole::ALL
        .into_iter()
        .find(|role| {
            let (id, name) = role.keystone_names();
            wanted == id || wanted == name
        })
        .ok_or_else(|| Refusal::NotFound(format!("Could not find role: {wanted}.")))
}

/// `{"application_credential": {"name", "description"?, "roles"?, …}}`. Every field Keystone
/// defines is either honoured or refused: a value the replica cannot keep (a secret chosen
/// by the client, an expiry, unrestricted, access rules) is a 400, never silently dropped;
/// so is a field Keystone does not define.
pub fn new_application_credential(request: &Value) -> Result<NewApplicationCredential, Refusal> {
    let credential = request
        .get("application_credential")
        .ok_or("the body must be {\"application_credential\": {\"name\": …}}")?;
    let fields = credential
        .as_object()
        .ok_or("application_credential must be an object")?;
    for (field, value) in fields {
        match field.as_str() {
            "name" | "description" | "roles" => {}
            "secret" if !value.is_null() => {
                return Err("kc-console generates every secret; leave out \"secret\"".into())
            }
            "expires_at" if !value.is_null() => {
                return Err("IAM access keys cannot have an expiration date; leave out \"expires_at\"".into())
            }
            "unrestricted" if value.as_bool() == Some(true) => {
                return Err("unrestricted application credentials are not offered: a key's token may never create or delete credentials".into())
            }
            "unrestricted" if !value.is_boolean() && !value.is_null() => {
                return Err("unrestricted must be true or false".into())
            }
            "access_rules" if value.as_array().is_some_and(|rules| !rules.is_empty()) => {
                return Err("access rules are not offered: an IAM access key acts with its role in its project".into())
            }
            "access_rules" if !value.is_array() && !value.is_null() => {
                return Err("access_rules must be a list".into())
            }
            "secret" | "expires_at" | "unrestricted" | "access_rules" => {}
            // Clients send null for what they leave unset: nothing is asked, nothing dropped.
            _ if value.is_null() => {}
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(Refusal::Bad(format!("application_credential.{shown} is not a field kc-console knows")));
            }
        }
    }
    let name = text_field(credential, "name")?.ok_or("application_credential.name is required")?;
    let description = bounded_field(credential, "description", MAX_DESCRIPTION_BYTES)?.unwrap_or_default();
    let role = match credential.get("roles") {
        None | Some(Value::Null) => None,
        Some(Value::Array(roles)) => {
            let roles = roles.iter().map(role_of).collect::<Result<Vec<_>, _>>()?;
            // `Ord` runs Admin < Member < Reader: the least is the strongest.
            roles.into_iter().min()
        }
        Some(_) => return Err("roles must be a list of {\"id\"} or {\"name\"}".into()),
    };
    Ok(NewApplicationCredential {
        name,
        description,
        role,
    })
}

/// `{"user": {"original_password", "password"}}` → (original, new).
pub fn password_change(request: &Value) -> Result<(String, String), String> {
    let user = request
        .get("user")
        .ok_or("the body must be {\"user\": {\"original_password\", \"password\"}}")?;
    let original = text_field(user, "original_password")?.ok_or("user.original_password is required")?;
    let new = text_field(user, "password")?.ok_or("user.password is required")?;
    Ok((original, new))
}

/// `{"tenant_id": PROJECT_ID, "name"?}` → (project, name). S3 keys need a name in the console;
/// Keystone's request has none, so a random one is made if not given (names are unique per
/// user, so two creates at the same moment must not pick the same one).
pub fn new_ec2_credential(request: &Value) -> Result<(String, String), String> {
    let project = text_field(request, "tenant_id")?.ok_or("tenant_id (the project ID) is required")?;
    let name = text_field(request, "name")?.unwrap_or_else(|| format!("ec2-{:08x}", rand::random::<u32>()));
    Ok((project, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_name(owner: &str) -> Presented {
        token_request(
            &json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"name": "ci", "secret": "s",
                "user": {"name": owner, "domain": {"id": "default"}}}}}}),
        )
        .unwrap_or_else(|_| panic!("a request by name"))
    }

    fn budget(presented: &Presented) -> String {
        match presented {
            Presented::ApplicationCredential(c) => c.by.throttle_key(),
            Presented::Password(p) => p.throttle_key(),
        }
    }

    /// Letter case names the same user, so it buys no second budget of failed attempts.
    #[test]
    fn an_emails_letter_case_shares_one_throttle_budget() {
        assert_eq!(
            budget(&by_name("Dev@Pangyo.Example")),
            budget(&by_name("dev@pangyo.example"))
        );
    }
}
