//! Carrying out a [`Request`]: authenticate, then call the model. The embedded path and the
//! server both come here, so every face gets the same checks, made by the model with the actor
//! this function establishes — never with one a client claims to be.

use serde::Serialize;
use serde_json::{json, Value};

use super::request::{
    Auth, Draft, InquiryView, IssuedTokenView, KeyView, NewKeyView, NewUser, Overview, Recovered, Request,
    SessionGrant, UserView,
};
use crate::console::{
    AccessKey, Actor, Change, Console, Error, InquiryDraft, Principal, Result, Secret, Via,
};

/// Who may carry out `request`: checks the credential the request came with.
fn authenticate(console: &Console, auth: &Auth, holder: bool, request: &Request) -> Result<Actor> {
    let needs_holder = matches!(request, Request::RecoverUser { .. } | Request::RecoverOperator);
    match auth {
        Auth::Holder if needs_holder && holder => Ok(Actor::holder()),
        Auth::Holder => Err(Error::Denied(if needs_holder {
            "recovery is only for whoever holds the data directory: run it on the server's machine, as the OS user that owns the data directory".into()
        } else {
            "sign in first: pass --user EMAIL with a password, or `kc-console login`".into()
        })),
        _ if needs_holder => Err(Error::Denied(
            "recovery is only for whoever holds the data directory, not for a signed-in user".into(),
        )),
        Auth::None => Err(Error::Auth(
            "sign in first: pass --user EMAIL with a password, or `kc-console login`".into(),
        )),
        Auth::Password { email, password } => console.sign_in(email, password.expose()),
        Auth::Session { .. } if matches!(request, Request::SessionOpen) => Err(Error::Invalid(
            "a session is opened with an e-mail and password".into(),
        )),
        Auth::Session { token } => console.session_actor(token.expose()),
    }
}

/// Who watches the change feed: every change reaches them (so they reload), in full when
/// they may read the whole audit log (Org Admin, Org Reader) or made it themselves; others
/// learn only that something of that kind changed, as the audit log would tell them.
pub struct Viewer {
    label: String,
    sees_all: bool,
}

impl Viewer {
    pub fn shown(&self, mut change: Change) -> Change {
        if !self.sees_all && change.actor != self.label {
            change.actor = "another user".into();
            change.target = String::new();
        }
        change
    }
}

/// The viewer `auth` stands for.
pub fn feed_viewer(console: &Console, auth: &Auth) -> Result<Viewer> {
    let actor = authenticate(console, auth, false, &Request::Overview { project: None })?;
    let sees_all = match actor.user_id() {
        Some(uid) => console.user_by_id(uid)?.org_role.is_some(),
        None => false,
    };
    Ok(Viewer {
        label: actor.label,
        sees_all,
    })
}

fn reply<T: Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("a reply could not be encoded: {e}")))
}

fn key_views(console: &Console, keys: Vec<AccessKey>) -> Result<Vec<KeyView>> {
    let names = console.project_names()?;
    keys.iter()
        .map(|k| {
            Ok(KeyView::listed(
                k,
                names.get(&k.project_id).cloned(),
                console.key_role(k)?,
            ))
        })
        .collect()
}

fn new_key(console: &Console, new: crate::console::NewKey) -> Result<Value> {
    let project = console.project_names()?.get(&new.key.project_id).cloned();
    reply(NewKeyView {
        key: KeyView::with_id(&new.key, project, console.key_role(&new.key)?),
        secret: new.secret,
    })
}

fn draft(d: Draft) -> InquiryDraft {
    InquiryDraft {
        kind: d.kind,
        detail_type: d.detail_type,
        project: d.project,
        title: d.title,
        details: d.details,
        private: d.private,
        attachment: d.attachment,
    }
}

fn overview(console: &Console, actor: &Actor, keep: Option<&str>) -> Result<Overview> {
    let uid = actor
        .user_id()
        .ok_or_else(|| Error::Denied("only users of the organization use the console's screens".into()))?;
    let user = console.user_by_id(uid)?;
    let projects = console.list_projects(actor)?;
    let kept = keep.and_then(|id| projects.iter().find(|v| v.project.id == id).cloned());
    let current = match kept {
        Some(view) => Some(view),
        None => console
            .starting_project(actor)?
            .and_then(|p| projects.iter().find(|v| v.project.id == p.id).cloned()),
    };
    Ok(Overview {
        email: user.email,
        name: user.name,
        org_name: console.organization()?.name,
        org_role: user.org_role,
        projects,
        current,
    })
}

/// Carries out one request. `holder` says whether the caller proved it holds the data
/// directory (the embedded path; a same-user client on the Unix socket).
pub fn execute(console: &Console, auth: &Auth, holder: bool, request: Request) -> Result<Value> {
    // A token issue carries its own credential: the key ID and secret.
    if let Request::TokenIssue {
        access_key_id,
        secret,
    } = request
    {
        let issued = console.issue_token(&access_key_id, secret.expose())?;
        return reply(IssuedTokenView {
            token: issued.token,
            info: issued.info,
        });
    }
    let actor = authenticate(console, auth, holder, &request)?;
    let a = &actor;
    match request {
        Request::TokenIssue { .. } => unreachable!("answered above"),
        Request::SessionOpen => {
            let session = console.open_session(a)?;
            reply(SessionGrant {
                token: session.token,
                expires_at: session.expires_at,
                email: a.label.clone(),
            })
        }
        Request::SessionClose => match auth {
            Auth::Session { token } => {
                console.close_session(token.expose())?;
                reply(json!({"closed": true}))
            }
            _ => Err(Error::Invalid("there is no session to close".into())),
        },
        Request::Overview { project } => reply(overview(console, a, project.as_deref())?),
        Request::PasswordVerify { password } => {
            console.verify_password(a, password.expose())?;
            reply(json!({"verified": true}))
        }
        Request::PasswordChange { old, new } => {
            console.change_password(a, old.expose(), new.expose())?;
            reply(json!({"changed": true}))
        }
        Request::PaymentList => reply(console.list_payment_methods(a)?),
        Request::PaymentAdd { brand, last4, expiry } => {
            reply(console.add_payment_method(a, &brand, &last4, &expiry)?)
        }
        Request::UserList => reply(
            console
                .list_users(a)?
                .iter()
                .map(UserView::from)
                .collect::<Vec<_>>(),
        ),
        Request::UserAdd {
            email,
            name,
            org_role,
        } => {
            let (user, password) = console.add_user(a, &email, &name, org_role)?;
            reply(NewUser {
                user: UserView::from(&user),
                initial_password: password,
            })
        }
        Request::UserRemove { email } => {
            console.remove_user(a, &email)?;
            reply(json!({"removed": email}))
        }
        Request::UserUnlock { email } => {
            console.unlock_user(a, &email)?;
            reply(json!({"unlocked": email}))
        }
        Request::ProjectList => reply(console.list_projects(a)?),
        Request::ProjectGet { project } => reply(console.project_view(a, &project)?),
        Request::ProjectCreate {
            name,
            nickname,
            description,
        } => reply(console.create_project(a, &name, &nickname, &description)?),
        Request::ProjectEdit {
            project,
            nickname,
            description,
        } => reply(console.edit_project(a, &project, nickname.as_deref(), description.as_deref())?),
        Request::ProjectSetDefault { project } => {
            console.set_default_project(a, &project)?;
            reply(console.project_view(a, &project)?)
        }
        Request::MemberList { project } => reply(console.list_members(a, &project)?),
        Request::MemberAdd { project, email, role } => {
            console.add_member(a, &project, &email, role)?;
            reply(json!({"added": email, "role": role}))
        }
        Request::MemberSetRole { project, email, role } => {
            console.set_member_role(a, &project, &email, role)?;
            reply(json!({"email": email, "role": role}))
        }
        Request::MemberRemove { project, email } => {
            let expired = console.remove_member(a, &project, &email)?;
            reply(json!({"removed": email, "expired_keys": expired}))
        }
        Request::CredentialList { kind } => reply(key_views(console, console.list_credentials(a, kind)?)?),
        Request::CredentialCreate {
            kind,
            project,
            name,
            description,
            role,
        } => new_key(
            console,
            console.create_credential_with_role(a, kind, &project, &name, &description, role)?,
        ),
        Request::CredentialDelete { kind, key } => {
            let deleted = console.delete_credential(a, kind, &key)?;
            reply(key_views(console, vec![deleted])?.remove(0))
        }
        Request::SaList { project } => reply(console.list_service_accounts(a, &project)?),
        Request::SaGet { sa } => reply(console.service_account(a, &sa)?),
        Request::SaCreate {
            project,
            name,
            description,
        } => reply(console.create_service_account(a, &project, &name, &description)?),
        Request::SaSetStatus { sa, status } => reply(console.set_service_account_status(a, &sa, status)?),
        Request::SaDelete { sas, confirmation } => {
            reply(console.delete_service_accounts(a, &sas, &confirmation)?)
        }
        Request::SaKeyList { sa } => reply(key_views(console, console.list_sa_keys(a, &sa)?)?),
        Request::SaKeyCreate {
            sa,
            name,
            description,
        } => new_key(console, console.create_sa_key(a, &sa, &name, &description)?),
        Request::SaKeyDelete {
            sa,
            key,
            confirmation,
        } => {
            let deleted = console.delete_sa_key(a, &sa, &key, &confirmation)?;
            reply(key_views(console, vec![deleted])?.remove(0))
        }
        Request::ServiceEnable { project, service } => reply(console.enable_service(a, &project, &service)?),
        Request::ServiceDisable { project, service } => {
            reply(console.disable_service(a, &project, &service)?)
        }
        Request::AgentList { project } => reply(console.list_agents(a, &project)?),
        Request::TokenVerify { token } => reply(console.verify_token_for(a, token.expose())?),
        Request::TokenRevoke { token } => reply(console.revoke_token(a, token.expose())?),
        Request::InquiryList => reply(
            console
                .list_inquiries(a)?
                .into_iter()
                .map(|inquiry| InquiryView {
                    submitter_email: console.user_by_id(&inquiry.submitted_by).ok().map(|u| u.email),
                    inquiry,
                })
                .collect::<Vec<_>>(),
        ),
        Request::InquirySubmit(d) => reply(console.submit_inquiry(a, &draft(d))?),
        Request::HelpdeskList => reply(console.helpdesk_queue(a)?),
        Request::HelpdeskApprove { inquiry } => reply(console.approve_inquiry(a, &inquiry)?),
        Request::HelpdeskReject { inquiry } => reply(console.reject_inquiry(a, &inquiry)?),
        Request::AuditList { limit, before } => reply(console.audit_page(a, before, limit)?),
        Request::AuditCount => reply(console.audit_count(a)?),
        Request::RecoverUser {
            email,
            reset_password,
        } => {
            let password = console.recover_user(a, &email, reset_password)?;
            reply(Recovered { email, password })
        }
        Request::RecoverOperator => {
            let password = console.reset_operator(a)?;
            reply(Recovered {
                email: crate::console::operator::OPERATOR_EMAIL.into(),
                password: Some(password),
            })
        }
    }
}

impl Actor {
    /// Whoever holds the data directory, acting to recover it.
    pub fn holder() -> Actor {
        Actor {
            principal: Principal::System,
            via: Via::Setup,
            label: "data directory holder".into(),
        }
    }
}

/// Secrets cross the wire only inside requests and one-time replies.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}
