//! `credential` (Profile › Credentials) and `token`.

use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};

use super::output::{fields, local_time, table};
use super::projects::parse_role;
use super::{Context, Output};
use crate::console::{Error, KeyKind, KeyStatus, Owner, Result, Secret, TokenInfo, TokenMethod};
use crate::org::request::{IssuedTokenView, KeyView, NewKeyView};
use crate::org::Request;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Iam,
    S3,
}

impl From<Kind> for KeyKind {
    fn from(k: Kind) -> KeyKind {
        match k {
            Kind::Iam => KeyKind::Iam,
            Kind::S3 => KeyKind::S3,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CredentialCmd {
    /// Your access keys (never their secrets)
    List {
        #[arg(long, value_enum)]
        kind: Option<Kind>,
    },
    /// Issue an access key in a project where you hold a role; prints the secret once
    Create {
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Limit the key's tokens to this role, one you hold in the project (admin, member or
        /// reader); without it they follow your role there
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
    },
    /// Delete one of your access keys, by its full ID or its name; tokens issued from it stop
    /// working
    Delete {
        #[arg(long, value_enum)]
        kind: Kind,
        /// The key's full ID (as shown when it was created) or its name
        #[arg(value_name = "KEY_ID_OR_NAME")]
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Exchange an IAM access key ID and secret (first line of standard input) for a token
    Issue {
        #[arg(long, value_name = "ID")]
        access_key_id: String,
        /// Read the secret access key from the first line of standard input
        #[arg(long, required = true)]
        secret_stdin: bool,
    },
    /// Check a token and show what it stands for
    Verify { token: String },
    /// Revoke a token
    Revoke { token: String },
}

fn status_label(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "Active",
        KeyStatus::Expired => "Expired",
    }
}

/// A key as lists show it: never the secret, which is not even in the model's record.
pub(super) fn key_json(k: &KeyView) -> Value {
    let mut value = json!({
        "id_hint": k.id_hint,
        "kind": match k.kind { KeyKind::Iam => "iam", KeyKind::S3 => "s3" },
        "name": k.name,
        "description": k.description,
        "project_id": k.project_id,
        "project_name": k.project_name,
        "created_at": k.created_at,
        "status": status_label(k.status),
        "role": k.role.map(|r| r.label()),
    });
    if let Some(id) = &k.id {
        value["id"] = json!(id);
    }
    value
}

pub(super) fn key_rows(keys: &[KeyView]) -> Vec<Vec<String>> {
    keys.iter()
        .map(|k| {
            vec![
                k.name.clone(),
                k.id.clone().unwrap_or_else(|| k.id_hint.clone()),
                k.project_name.clone().unwrap_or_default(),
                k.role.map_or("-", |r| r.label()).into(),
                k.description.clone(),
                local_time(&k.created_at),
                status_label(k.status).into(),
            ]
        })
        .collect()
}

/// What creating a key prints: the only time its secret is ever shown. IAM keys (user and
/// service account) print `id`, S3 keys print `access` (the authentication key).
pub(super) fn show_new_key(out: Output, new: &NewKeyView) -> Result<String> {
    let mut value = key_json(&new.key);
    if new.key.kind == KeyKind::S3 {
        let id = value
            .as_object_mut()
            .and_then(|o| o.remove("id"))
            .unwrap_or_default();
        value["access"] = id;
    }
    value["secret"] = json!(new.secret.expose());
    out.show(value, || {
        let id_label = match new.key.kind {
            KeyKind::Iam => "Access key ID",
            KeyKind::S3 => "Authentication key",
        };
        let warning = match new.key.owner {
            Owner::User(_) => format!(
                "You will not be able to retrieve the {id_label} and Secret access key again (lists show only a hint of the ID): copy both now and keep them safe."
            ),
            Owner::ServiceAccount(_) => {
                "You will not be able to retrieve the Secret access key again: copy it now and keep it safe.".to_string()
            }
        };
        format!(
            "Created {} {:?}.\n{}\n{warning}",
            new.key.kind.label(),
            new.key.name,
            fields(&[
                (id_label, new.key.id.clone().unwrap_or_default()),
                ("Role", new.key.role.map_or("-", |r| r.label()).into()),
                ("Secret access key", new.secret.expose().to_string())
            ])
        )
    })
}

fn token_json(info: &TokenInfo) -> Value {
    json!({
        "key_id": info.key_id,
        "key_name": info.key_name,
        "principal_id": info.principal_id,
        "principal_name": info.principal_name,
        "service_account": info.from_service_account,
        "project_id": info.project_id,
        "project_name": info.project_name,
        "role": info.role.map(|r| r.label()),
        "issued_at": info.issued_at,
        "expires_at": info.expires_at,
    })
}

fn token_fields(info: &TokenInfo) -> String {
    fields(&[
        (
            "Principal",
            format!("{} ({})", info.principal_name, info.principal_id),
        ),
        (
            "Project",
            info.scope().map_or("none (unscoped)".to_string(), |id| {
                format!("{} ({id})", info.project_name)
            }),
        ),
        ("Role", info.role.map_or("none (unscoped)", |r| r.label()).into()),
        (
            "Access key",
            if info.method == TokenMethod::Password {
                "none (a password token)".to_string()
            } else {
                format!("{} ({})", info.key_name, info.key_id)
            },
        ),
        ("Issued at", local_time(&info.issued_at)),
        ("Expires at", local_time(&info.expires_at)),
    ])
}

pub fn credential(ctx: &mut Context, out: Output, cmd: CredentialCmd) -> Result<String> {
    match cmd {
        CredentialCmd::List { kind } => {
            let kind: Option<KeyKind> = kind.map(Into::into);
            let keys: Vec<KeyView> = ctx.call(Request::CredentialList { kind })?;
            // The screen's words: an S3 key's ID is its authentication key.
            let id_header = match kind {
                Some(KeyKind::Iam) => "ACCESS KEY ID",
                Some(KeyKind::S3) => "AUTHENTICATION KEY",
                None => "ACCESS KEY ID / AUTHENTICATION KEY",
            };
            out.show(Value::Array(keys.iter().map(key_json).collect()), || {
                let mut rows = key_rows(&keys);
                for (row, key) in rows.iter_mut().zip(&keys) {
                    row.insert(0, key.kind.label().into());
                }
                table(
                    &[
                        "KIND",
                        "NAME",
                        id_header,
                        "PROJECT",
                        "ROLE",
                        "DESCRIPTION",
                        "CREATED AT",
                        "STATUS",
                    ],
                    &rows,
                )
            })
        }
        CredentialCmd::Create {
            kind,
            project,
            name,
            description,
            role,
        } => {
            let role = role.as_deref().map(parse_role).transpose()?;
            let new: NewKeyView = ctx.call(Request::CredentialCreate {
                kind: kind.into(),
                project,
                name,
                description,
                role,
            })?;
            show_new_key(out, &new)
        }
        CredentialCmd::Delete { kind, key_id } => {
            let key: KeyView = ctx.call(Request::CredentialDelete {
                kind: kind.into(),
                key: key_id,
            })?;
            out.show(json!({"deleted": key.name, "id_hint": key.id_hint}), || {
                format!(
                    "Deleted {} {:?}; tokens issued from it no longer work.",
                    key.kind.label(),
                    key.name
                )
            })
        }
    }
}

pub fn token(ctx: &mut Context, out: Output, cmd: TokenCmd) -> Result<String> {
    match cmd {
        TokenCmd::Issue { access_key_id, .. } => {
            let secret = Secret::new(ctx.stdin_line(0, "the secret access key")?);
            let issued: IssuedTokenView = ctx.call_anonymous(Request::TokenIssue {
                access_key_id,
                secret,
            })?;
            let mut value = token_json(&issued.info);
            value["token"] = json!(issued.token.expose());
            out.show(value, || issued.token.expose().to_string())
        }
        TokenCmd::Verify { token } => {
            let info: TokenInfo = ctx.call(Request::TokenVerify {
                token: Secret::new(token),
            })?;
            out.show(token_json(&info), || {
                format!("The token is valid.\n{}", token_fields(&info))
            })
        }
        TokenCmd::Revoke { token } => {
            let info: TokenInfo = ctx
                .call(Request::TokenRevoke {
                    token: Secret::new(token),
                })
                .map_err(|e| match e {
                    Error::Auth(m) => Error::Auth(format!("{m}; nothing to revoke")),
                    other => other,
                })?;
            out.show(json!({"revoked": true, "key_id": info.key_id}), || {
                "Revoked the token.".into()
            })
        }
    }
}
