//! Sign-in sessions: what `kc-console login` keeps and what a console holds after its sign-in,
//! so that later requests do not pay for a password hash each time (like `gh` or `kubectl`
//! credentials).
//!
//! A session is signed, not stored: `kcs1.{principal}.{issued µs}.{nonce}.{HMAC-SHA256}`,
//! where the principal is a user ID or `operator`, with the same key as API tokens (the `kcs1`
//! prefix keeps the two apart). Every use re-reads the principal, so a session ends when it
//! expires, when it is closed (logout: a revocation record until it would have expired), when
//! the password changes (sessions issued before are over), and when the user is removed.
//! Only the canonical spelling is accepted (lowercase hex, no padding).

use chrono::{DateTime, Duration, TimeZone, Utc};
use subtle::ConstantTimeEq;

use super::operator::OPERATOR_EMAIL;
use super::{secret, Actor, Console, Error, Principal, Result, Secret, Via};
use crate::store::Table;

const SESSION_PREFIX: &str = "kcs1";
const OPERATOR_PRINCIPAL: &str = "operator";
/// Why a session is refused, whatever the reason (so a client can tell it from other refusals).
pub const SESSION_OVER: &str = "the session is invalid or has ended; sign in again (kc-console login)";
/// The longest text that can be a session; anything longer is refused before any work.
const SESSION_MAX: usize = 160;

/// A session just opened: shown to its holder once, kept by the client.
#[derive(Debug)]
pub struct NewSession {
    pub token: Secret,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

/// Microseconds as the issuer writes them: digits, no sign, no leading zero.
fn canonical_micros(s: &str) -> Option<i64> {
    let canonical = !s.is_empty()
        && s.len() <= 19
        && s.bytes().all(|b| b.is_ascii_digit())
        && !(s.len() > 1 && s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

impl Console {
    fn sign_session(&self, payload: &str) -> [u8; 32] {
        self.tokens.mac(payload)
    }

    /// Opens a session for an actor who has just signed in with a password.
    pub fn open_session(&self, actor: &Actor) -> Result<NewSession> {
        let principal = match (&actor.principal, &actor.via) {
            (Principal::User(id), Via::Password) => id.clone(),
            (Principal::Operator, Via::Password) => OPERATOR_PRINCIPAL.to_string(),
            _ => {
                return Err(Error::Denied(
                    "a session is opened by signing in with a password".into(),
                ))
            }
        };
        let issued = self.now();
        let nonce = hex::encode(self.random_bytes::<16>());
        let payload = format!(
            "{SESSION_PREFIX}.{principal}.{}.{nonce}",
            issued.timestamp_micros()
        );
        let token = format!("{payload}.{}", hex::encode(self.sign_session(&payload)));
        Ok(NewSession {
            token: Secret::new(token),
            expires_at: issued + Duration::hours(self.config.limits.session_hours),
            actor: Actor {
                via: Via::Session,
                ..actor.clone()
            },
        })
    }

    /// The actor a session stands for now, or why it is over. One message for every reason.
    pub fn session_actor(&self, token: &str) -> Result<Actor> {
        let over = || Error::Auth(SESSION_OVER.into());
        if token.len() > SESSION_MAX {
            return Err(over());
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [prefix, principal, issued, nonce, mac] = parts[..] else {
            return Err(over());
        };
        let well_formed = prefix == SESSION_PREFIX
            && (principal == OPERATOR_PRINCIPAL || super::validate::is_id(principal))
            && super::validate::is_lower_hex(nonce, 32)
            && super::validate::is_lower_hex(mac, 64);
        if !well_formed {
            return Err(over());
        }
        let payload = &token[..token.len() - mac.len() - 1];
        let presented = hex::decode(mac).map_err(|_| over())?;
        if !bool::from(self.sign_session(payload).ct_eq(&presented)) {
            return Err(over());
        }
        let issued_at = canonical_micros(issued)
            .and_then(|us| Utc.timestamp_micros(us).single())
            .ok_or_else(over)?;
        let now = self.now();
        if now >= issued_at + Duration::hours(self.config.limits.session_hours)
            || issued_at > now + Duration::minutes(5)
        {
            return Err(over());
        }
        if self
            .store
            .get::<DateTime<Utc>>(Table::RevokedTokens, &secret::digest(token))?
            .is_some()
        {
            return Err(over());
        }
        let (actor, valid_from) = if principal == OPERATOR_PRINCIPAL {
            let record = self.operator_record().map_err(|_| over())?;
            (Actor::operator(Via::Session), record.sessions_valid_from)
        } else {
            let user = self.user_by_id(principal).map_err(|_| over())?;
            let actor = Actor {
                principal: Principal::User(user.id.clone()),
                via: Via::Session,
                label: user.email.clone(),
            };
            (actor, user.sessions_valid_from)
        };
        if valid_from.is_some_and(|from| issued_at <= from) {
            return Err(over());
        }
        Ok(actor)
    }

    /// Ends a session (logout); it is refused from then on.
    pub fn close_session(&self, token: &str) -> Result<()> {
        let actor = self.session_actor(token)?;
        let expires = self.now() + Duration::hours(self.config.limits.session_hours);
        let digest = secret::digest(token);
        let label = if actor.principal == Principal::Operator {
            OPERATOR_EMAIL.to_string()
        } else {
            actor.label.clone()
        };
        self.change(&actor, "session.close", &label, |tx| {
            tx.put(Table::RevokedTokens, &digest, &expires)
        })
    }
}
