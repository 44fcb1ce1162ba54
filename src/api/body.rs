//! Keystone's JSON shapes: what requests carry and what responses say.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::console::{AccessKey, KeyKind, NewKey, Project, ProjectRole, TokenInfo, TokenMethod};

const DOMAIN: &str = "default";
const REGION: &str = "kr-central-2";

/// Keystone writes times in UTC with microseconds: `2025-03-01T09:00:00.123456Z`.
fn time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn role_names(role: ProjectRole) -> (&'static str, &'static str) {
    match role {
        ProjectRole::Admin => ("project-admin", "project_admin"),
        ProjectRole::Member => ("project-member", "project_member"),
        ProjectRole::Reader => ("project-reader", "project_reader"),
    }
}

pub fn version(base: &str) -> Value {
    json!({"version": {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }})
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
    project: Scoped<'a>,
    roles: [RoleRef; 1],
    is_domain: bool,
    /// Keystone names the application credential only in the tokens made from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    application_credential: Option<CredentialView<'a>>,
    catalog: [Service<'a>; 1],
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
    let (id, name) = role_names(role);
    RoleRef { id, name }
}

pub fn token<'a>(info: &'a TokenInfo, base: &'a str) -> TokenBody<'a> {
    TokenBody {
        token: TokenView {
            methods: [info.method.keystone_name()],
            issued_at: time(&info.issued_at),
            expires_at: time(&info.expires_at),
            audit_ids: [&info.key_id[..16.min(info.key_id.len())]],
            user: Scoped {
                id: &info.principal_id,
                name: &info.principal_name,
                domain: DEFAULT_DOMAIN,
            },
            project: Scoped {
                id: &info.project_id,
                name: &info.project_name,
                domain: DEFAULT_DOMAIN,
            },
            roles: [role_ref(info.role)],
            is_domain: false,
            application_credential: (info.method == TokenMethod::ApplicationCredential).then_some(
                CredentialView {
                    id: &info.key_id,
                    name: &info.key_name,
                    restricted: true,
                },
            ),
            catalog: [Service {
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
            }],
        },
    }
}

pub fn projects(projects: &[Project], base: &str) -> Value {
    let list: Vec<Value> = projects
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "domain_id": DOMAIN,
                "enabled": true,
                "is_domain": false,
                "parent_id": DOMAIN,
                "tags": [],
                "links": {"self": format!("{base}/projects/{}", p.id)},
            })
        })
        .collect();
    json!({"projects": list, "links": {"self": format!("{base}/auth/projects"), "previous": null, "next": null}})
}

fn application_credential(key: &AccessKey, base: &str) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "description": key.description,
        "project_id": key.project_id,
        "user_id": key.owner.id(),
        "expires_at": null,
        "unrestricted": false,
        "status": match key.status { crate::console::KeyStatus::Active => "active", crate::console::KeyStatus::Expired => "expired" },
        "links": {"self": format!("{base}/users/{}/application_credentials/{}", key.owner.id(), key.id)},
    })
}

/// A list never carries a secret: the model does not have one to give.
pub fn application_credentials(keys: &[AccessKey], base: &str) -> Value {
    let list: Vec<Value> = keys.iter().map(|k| application_credential(k, base)).collect();
    json!({"application_credentials": list, "links": {"self": null, "previous": null, "next": null}})
}

/// The one response that carries the secret.
pub fn created_application_credential(new: &NewKey, base: &str) -> Value {
    let mut value = application_credential(&new.key, base);
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

pub fn ec2_credentials(keys: &[AccessKey], base: &str) -> Value {
    let list: Vec<Value> = keys
        .iter()
        .filter(|k| k.kind == KeyKind::S3)
        .map(|k| ec2_credential(k, base))
        .collect();
    json!({"credentials": list, "links": {"self": null, "previous": null, "next": null}})
}

pub fn created_ec2_credential(new: &NewKey, base: &str) -> Value {
    let mut value = ec2_credential(&new.key, base);
    value["secret"] = json!(new.secret.expose());
    json!({"credential": value})
}

/// How a token request names its application credential.
pub enum CredentialRef {
    Id(String),
    Name { name: String, user_id: String },
}

impl CredentialRef {
    /// What failed attempts are counted under: the key ID, or the owner and key name.
    pub fn throttle_key(&self) -> String {
        match self {
            CredentialRef::Id(id) => id.clone(),
            CredentialRef::Name { name, user_id } => format!("{user_id}/{name}"),
        }
    }
}

pub struct PresentedCredential {
    pub by: CredentialRef,
    pub secret: String,
}

/// The longest ID, name or secret accepted in a request; the model's own limits are far
/// shorter (names 30 characters), this keeps absurd values out of every message and log.
const MAX_FIELD_BYTES: usize = 256;
/// The longest description accepted (the model allows 30 characters for keys).
const MAX_DESCRIPTION_BYTES: usize = 1024;

/// A text field of at most `max` bytes: absent or not text is `None`, longer is an error.
fn bounded_field(value: &Value, field: &str, max: usize) -> Result<Option<String>, String> {
    match value.get(field).and_then(Value::as_str) {
        Some(text) if text.len() > max => Err(format!("{field} is longer than {max} bytes")),
        Some(text) => Ok(Some(text.to_string())),
        None => Ok(None),
    }
}

fn text_field(value: &Value, field: &str) -> Result<Option<String>, String> {
    bounded_field(value, field, MAX_FIELD_BYTES)
}

/// `{"auth": {"identity": {"methods": ["application_credential"], "application_credential": …}}}`.
pub fn application_credential_request(request: &Value) -> Result<PresentedCredential, String> {
    let identity = request
        .get("auth")
        .and_then(|a| a.get("identity"))
        .ok_or("the body must be {\"auth\": {\"identity\": …}}")?;
    let methods = identity
        .get("methods")
        .and_then(Value::as_array)
        .ok_or("auth.identity.methods is required")?;
    if !methods.iter().any(|m| m == "application_credential") {
        return Err("only the application_credential method is supported: exchange an IAM access key".into());
    }
    let credential = identity
        .get("application_credential")
        .ok_or("auth.identity.application_credential is required")?;
    let secret = text_field(credential, "secret")?.ok_or("application_credential.secret is required")?;
    let by = match (text_field(credential, "id")?, text_field(credential, "name")?) {
        (Some(id), _) => CredentialRef::Id(id),
        (None, Some(name)) => {
            let user_id = match credential.get("user") {
                Some(user) => text_field(user, "id")?,
                None => None,
            }
            .ok_or("an application credential named without its id needs user.id")?;
            CredentialRef::Name { name, user_id }
        }
        (None, None) => return Err("application_credential needs an id, or a name and user.id".into()),
    };
    Ok(PresentedCredential { by, secret })
}

/// `{"application_credential": {"name", "description"?}}` → (name, description).
pub fn new_application_credential(request: &Value) -> Result<(String, String), String> {
    let credential = request
        .get("application_credential")
        .ok_or("the body must be {\"application_credential\": {\"name\": …}}")?;
    if credential.get("secret").is_some_and(|s| !s.is_null()) {
        return Err("kc-console generates every secret; leave out \"secret\"".into());
    }
    if credential.get("expires_at").is_some_and(|e| !e.is_null()) {
        return Err("IAM access keys cannot have an expiration date; leave out \"expires_at\"".into());
    }
    let name = text_field(credential, "name")?.ok_or("application_credential.name is required")?;
    let description = bounded_field(credential, "description", MAX_DESCRIPTION_BYTES)?.unwrap_or_default();
    Ok((name, description))
}

/// `{"tenant_id": PROJECT_ID, "name"?}` → (project, name). S3 keys need a name in the console;
/// Keystone's request has none, so a random one is made if not given (names are unique per
/// user, so two creates at the same moment must not pick the same one).
pub fn new_ec2_credential(request: &Value) -> Result<(String, String), String> {
    let project = text_field(request, "tenant_id")?.ok_or("tenant_id (the project ID) is required")?;
    let name = text_field(request, "name")?.unwrap_or_else(|| format!("ec2-{:08x}", rand::random::<u32>()));
    Ok((project, name))
}
