//! The simulated Help Desk operator: a principal of its own, not a user of the organization,
//! who reads every inquiry and approves or rejects them. It signs in with its e-mail and a
//! password like anyone else (`init` prints the password once; the demo organization's is in
//! the README), and every action it takes is audited under its e-mail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::users::PasswordHolder;
use super::{validate, Actor, Console, Error, Principal, Result, Secret, Via};
use crate::store::Table;

/// The operator's sign-in e-mail: KakaoCloud's Help Desk, the same for every organization.
pub const OPERATOR_EMAIL: &str = "helpdesk@kakaocloud.example";
const OPERATOR_KEY: &str = "helpdesk_operator";
/// The operator's lockout record, beside the users' (whose keys are 32-hex IDs).
const OPERATOR_LOCK: &str = "operator";

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct OperatorRecord {
    password_hash: String,
    /// Sessions issued before this moment are over (set when the password is reset).
    #[serde(default)]
    pub(super) sessions_valid_from: Option<DateTime<Utc>>,
}

pub(super) fn is_operator_email(email: &str) -> bool {
    email.eq_ignore_ascii_case(OPERATOR_EMAIL)
}

impl Actor {
    /// The Help Desk operator, signed in by `via`.
    pub fn operator(via: Via) -> Actor {
        Actor {
            principal: Principal::Operator,
            via,
            label: OPERATOR_EMAIL.into(),
        }
    }
}

impl Console {
    pub(super) fn operator_record(&self) -> Result<OperatorRecord> {
        self.store.get(Table::Meta, OPERATOR_KEY)?.ok_or_else(|| {
            Error::Auth(
                "this organization has no Help Desk operator yet; whoever holds the data directory can create one with `kc-console recover --operator`"
                    .into(),
            )
        })
    }

    pub(super) fn sign_in_operator(&self, password: &str) -> Result<Actor> {
        let record = self.operator_record()?;
        let actor = Actor::operator(Via::Password);
        let holder = PasswordHolder {
            lock_key: OPERATOR_LOCK,
            hash: &record.password_hash,
            label: OPERATOR_EMAIL,
        };
        self.check_password(&actor, &holder, password, "helpdesk.sign_in")
            .map_err(|e| match e {
                Error::Auth(m) if m.starts_with("wrong password") && !m.contains("now locked") => {
                    Error::Auth("wrong email or password".into())
                }
                other => other,
            })?;
        Ok(actor)
    }

    /// Gives the operator a new generated password, returned once; its sessions end. Only
    /// whoever holds the data directory may (`init`, `recover --operator`).
    pub fn reset_operator(&self, actor: &Actor) -> Result<Secret> {
        let password = Secret::new(self.generate_password());
        self.set_operator_password(actor, password.expose())?;
        Ok(password)
    }

    /// Sets the operator's password (the demo organization's published one).
    pub fn set_operator_password(&self, actor: &Actor, password: &str) -> Result<()> {
        let hash = validate::password(password).map(|()| self.hash_password(password));
        self.change(actor, "helpdesk.operator.reset", OPERATOR_EMAIL, |tx| {
            if actor.principal != Principal::System {
                return Err(Error::Denied(
                    "only whoever holds the data directory can set the Help Desk operator's password".into(),
                )
                .into());
            }
            let record = OperatorRecord {
                password_hash: hash.clone()?,
                sessions_valid_from: Some(self.now()),
            };
            tx.remove(Table::Lockouts, OPERATOR_LOCK)?;
            tx.put(Table::Meta, OPERATOR_KEY, &record)
        })
    }
}
