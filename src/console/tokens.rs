//! API tokens: issued for an IAM access key ID + secret, scoped to the key's project, valid
//! for 12 hours.
//!
//! A token is signed, not stored: `kct1.{key}.{issued µs}.{nonce}.{HMAC-SHA256}`. Validation
//! re-reads the key, its owner and the project every time, so every cascade of the rules — a
//! deleted or expired key, a removed member, an inactive or deleted service account, a deleted
//! project — invalidates the key's tokens on the very next request without touching them.
//! Explicit revocations are the only token state kept (until the token would have expired).

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::access::{Permission, ProjectRole};
use super::keys::{AccessKey, KeyKind, KeyStatus, Owner};
use super::projects::Project;
use super::service_accounts::SaStatus;
use super::{audit, secret, Actor, Console, Entropy, Error, Principal, Result, Secret, Via};
use crate::store::{Store, StoreError, Table};

const TOKEN_PREFIX: &str = "kct1";
/// A key record nobody holds, decoded when a request names an unknown key ID so that the
/// refusal costs what a wrong secret costs.
const DECOY_KEY: &str = r#"{"id":"00000000000000000000000000000000","kind":"iam","owner":{"type":"user","id":"00000000000000000000000000000000"},"project_id":"00000000000000000000000000000000","name":"decoy","description":"","created_at":"2026-01-01T00:00:00Z","status":"Active","secret_digest":"0000000000000000000000000000000000000000000000000000000000000000"}"#;
const SIGNING_KEY: &str = "token_signing_key";

/// How a token was obtained: Keystone's `methods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMethod {
    /// From an IAM access key's ID and secret.
    ApplicationCredential,
    /// From an AWS signature made with an S3 access key (`ec2tokens`).
    Ec2Credential,
}

impl TokenMethod {
    pub fn keystone_name(self) -> &'static str {
        match self {
            TokenMethod::ApplicationCredential => "application_credential",
            TokenMethod::Ec2Credential => "ec2credential",
        }
    }

    /// A token names its key, and only `ec2tokens` mints tokens for S3 keys, so the key's kind
    /// says by which method a token was issued.
    fn of(kind: KeyKind) -> TokenMethod {
        match kind {
            KeyKind::Iam => TokenMethod::ApplicationCredential,
            KeyKind::S3 => TokenMethod::Ec2Credential,
        }
    }
}

/// What a valid token stands for, re-derived from the current state at every validation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenInfo {
    pub method: TokenMethod,
    pub key_id: String,
    pub key_name: String,
    /// The user ID, or the service account's ID.
    pub principal_id: String,
    /// The user's email, or the service account's name.
    pub principal_name: String,
    pub from_service_account: bool,
    pub project_id: String,
    pub project_name: String,
    pub role: ProjectRole,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl TokenInfo {
    /// The actor a request carrying this token acts as: confined to the token's project.
    pub fn actor(&self) -> Actor {
        let principal = if self.from_service_account {
            Principal::ServiceAccount(self.principal_id.clone())
        } else {
            Principal::User(self.principal_id.clone())
        };
        Actor {
            principal,
            via: Via::Token {
                project_id: self.project_id.clone(),
            },
            label: if self.from_service_account {
                self.principal_id.clone()
            } else {
                self.principal_name.clone()
            },
        }
    }
}

#[derive(Debug)]
pub struct IssuedToken {
    pub token: Secret,
    pub info: TokenInfo,
}

pub(super) fn load_or_create_signing_key(
    store: &Store,
    entropy: &dyn Entropy,
) -> Result<[u8; 32], StoreError> {
    if let Some(hex_key) = store.get::<String>(Table::Meta, SIGNING_KEY)? {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(&hex_key, &mut key).is_ok() {
            return Ok(key);
        }
        return Err(StoreError(
            "the database is corrupted: the token signing key cannot be read".into(),
        ));
    }
    let mut key = [0u8; 32];
    entropy.fill(&mut key);
    store
        .transact::<(), ()>(|tx| tx.put(Table::Meta, SIGNING_KEY, &hex::encode(key)))
        .map_err(|e| match e {
            crate::store::TxError::Storage(e) => e,
            crate::store::TxError::Abort(()) => StoreError("could not store the token signing key".into()),
        })?;
    store.flush()?;
    Ok(key)
}

/// What a refused token request records of the key ID it was given: the ID if it looks like
/// one, never anything else — a secret pasted into the ID field must not reach the audit log.
fn presented_key_id(s: &str) -> String {
    if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        s.to_string()
    } else {
        "<not an access key ID>".into()
    }
}

impl Console {
    fn sign(&self, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.token_key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// What a key currently stands for, or why it cannot be used. One message for every
    /// reason, so a caller learns nothing about which part was wrong.
    fn key_standing(
        &self,
        key: &AccessKey,
        method: TokenMethod,
    ) -> Result<(String, bool, Project, ProjectRole)> {
        let unusable = || Error::Auth("the access key is invalid, expired or wrong".into());
        if key.status != KeyStatus::Active || TokenMethod::of(key.kind) != method {
            return Err(unusable());
        }
        let project: Project = self
            .store
            .get(Table::Projects, &key.project_id)?
            .ok_or_else(unusable)?;
        match &key.owner {
            Owner::User(uid) => {
                let user = self.user_by_id(uid).map_err(|_| unusable())?;
                let role = self.project_role(&key.project_id, uid)?.ok_or_else(unusable)?;
                Ok((user.email, false, project, role))
            }
            Owner::ServiceAccount(sa_id) => {
                let sa = self.get_service_account(sa_id)?.ok_or_else(unusable)?;
                if sa.status != SaStatus::Active {
                    return Err(unusable());
                }
                Ok((sa.name.clone(), true, project, sa.role()))
            }
        }
    }

    fn token_info(
        &self,
        key: &AccessKey,
        issued_at: DateTime<Utc>,
        method: TokenMethod,
    ) -> Result<TokenInfo> {
        let (principal_name, from_service_account, project, role) = self.key_standing(key, method)?;
        Ok(TokenInfo {
            method,
            key_id: key.id.clone(),
            key_name: key.name.clone(),
            principal_id: key.owner.id().into(),
            principal_name,
            from_service_account,
            project_id: project.id,
            project_name: project.name,
            role,
            issued_at,
            expires_at: issued_at + Duration::hours(self.config.limits.token_hours),
        })
    }

    /// Exchanges an IAM access key ID and secret for a token. Unknown ID, wrong secret,
    /// expired key and inactive service account are refused alike, after the same work.
    pub fn issue_token(&self, key_id: &str, secret_text: &str) -> Result<IssuedToken> {
        let key = self.store.get::<AccessKey>(Table::Keys, key_id)?;
        let secret_ok = match &key {
            Some(key) => secret::matches(secret_text, &key.secret_digest),
            None => {
                // The same work as for a real key: decode a record, digest and compare.
                let decoy: AccessKey =
                    serde_json::from_str(DECOY_KEY).expect("the decoy key record is valid");
                let _ = secret::matches(secret_text, &decoy.secret_digest);
                false
            }
        };
        let now = self.now();
        let standing = match key {
            Some(key) if secret_ok => self.token_info(&key, now, TokenMethod::ApplicationCredential),
            _ => Err(Error::Auth("the access key is invalid, expired or wrong".into())),
        };
        let info = match standing {
            Ok(info) => info,
            Err(e @ Error::Auth(_)) => {
                let stranger = Actor {
                    principal: Principal::System,
                    via: Via::Token {
                        project_id: String::new(),
                    },
                    label: format!("access key {}", presented_key_id(key_id)),
                };
                self.audit_token_event(
                    &stranger,
                    "token.issue",
                    &presented_key_id(key_id),
                    &format!("refused: {}", e.message()),
                )?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.audit_token_event(&info.actor(), "token.issue", &info.key_id, "ok")?;
        Ok(self.mint_token(info))
    }

    /// Signs a token for what `info` says, issued at `info.issued_at`.
    pub(super) fn mint_token(&self, info: TokenInfo) -> IssuedToken {
        let nonce = hex::encode(self.random_bytes::<16>());
        let payload = format!(
            "{TOKEN_PREFIX}.{}.{}.{nonce}",
            info.key_id,
            info.issued_at.timestamp_micros()
        );
        let token = format!("{payload}.{}", hex::encode(self.sign(&payload)));
        tracing::trace!(key = %info.key_id, principal = %info.principal_id, "token issued");
        IssuedToken {
            token: Secret::new(token),
            info,
        }
    }

    /// What a token from the S3 key `key` stands for now (`ec2credential`), or the one refusal
    /// for a key that no longer stands.
    pub(super) fn ec2_token_info(&self, key: &AccessKey) -> Result<TokenInfo> {
        self.token_info(key, self.now(), TokenMethod::Ec2Credential)
    }

    /// Checks a token presented as a caller's credential (`X-Auth-Token`). A token from an S3
    /// signature only tells a gateway whom the signature proves: as Keystone does since 2026, it
    /// authorizes nothing (it may still be validated as a subject).
    pub fn caller_token(&self, token: &str) -> Result<TokenInfo> {
        let info = self.validate_token(token)?;
        if info.method == TokenMethod::Ec2Credential {
            return Err(Error::Denied(
                "EC2 credential tokens cannot be used for authorization".into(),
            ));
        }
        Ok(info)
    }

    /// Issues a token for the key called `name` that belongs to `principal_id` (a user ID or a
    /// service account's ID).
    pub fn issue_token_by_name(
        &self,
        principal_id: &str,
        name: &str,
        secret_text: &str,
    ) -> Result<IssuedToken> {
        let key_id = self
            .key_indexes_of(principal_id)?
            .into_iter()
            .flat_map(|(_, ids)| ids)
            .find(|id| {
                matches!(self.store.get::<AccessKey>(Table::Keys, id), Ok(Some(k)) if k.name == name && k.kind == KeyKind::Iam)
            });
        self.issue_token(key_id.as_deref().unwrap_or(""), secret_text)
    }

    /// Token issues are audited without waiting for a flush: they change nothing, sled writes
    /// them out within half a second, and the token API must not wait on the disk per request.
    fn audit_token_event(&self, actor: &Actor, action: &str, target: &str, outcome: &str) -> Result<()> {
        audit::append_alone(self, actor, action, target, outcome)
    }

    /// Checks a token and says what it stands for now.
    pub fn validate_token(&self, token: &str) -> Result<TokenInfo> {
        let invalid = || Error::Auth("the token is invalid or has expired".into());
        let parts: Vec<&str> = token.split('.').collect();
        let [prefix, key_id, issued, _nonce, mac] = parts[..] else {
            return Err(invalid());
        };
        if prefix != TOKEN_PREFIX {
            return Err(invalid());
        }
        let payload = &token[..token.len() - mac.len() - 1];
        let presented = hex::decode(mac).map_err(|_| invalid())?;
        if !bool::from(self.sign(payload).ct_eq(&presented)) {
            return Err(invalid());
        }
        let issued_at = issued
            .parse::<i64>()
            .ok()
            .and_then(|us| Utc.timestamp_micros(us).single())
            .ok_or_else(invalid)?;
        let now = self.now();
        if now >= issued_at + Duration::hours(self.config.limits.token_hours)
            || issued_at > now + Duration::minutes(5)
        {
            return Err(invalid());
        }
        if self
            .store
            .get::<DateTime<Utc>>(Table::RevokedTokens, &secret::digest(token))?
            .is_some()
        {
            return Err(invalid());
        }
        let key = self
            .store
            .get::<AccessKey>(Table::Keys, key_id)?
            .ok_or_else(invalid)?;
        self.token_info(&key, issued_at, TokenMethod::of(key.kind))
            .map_err(|e| match e {
                Error::Auth(_) => invalid(),
                other => other,
            })
    }

    /// Revokes a token. Its own holder may revoke it, and so may whoever manages the members
    /// of its project.
    pub fn revoke_token(&self, actor: &Actor, token: &str) -> Result<TokenInfo> {
        let info = self.validate_token(token)?;
        let digest = secret::digest(token);
        let holder = match &actor.principal {
            Principal::User(id) | Principal::ServiceAccount(id) => id == &info.principal_id,
            _ => false,
        };
        self.change(actor, "token.revoke", &info.key_id, |tx| {
            if !holder {
                self.require(
                    tx,
                    actor,
                    Some(&info.project_id),
                    Permission::ManageMembers,
                    "revoking another principal's token",
                )?;
            }
            tx.put(Table::RevokedTokens, &digest, &info.expires_at)
        })?;
        Ok(info)
    }

    /// Checks a token for a signed-in actor: its own principal's tokens, or any token for an
    /// Org Admin (Keystone's `service_admin_or_token_subject`).
    pub fn verify_token_for(&self, actor: &Actor, token: &str) -> Result<TokenInfo> {
        let info = self.validate_token(token)?;
        let own = match &actor.principal {
            Principal::User(id) | Principal::ServiceAccount(id) => id == &info.principal_id,
            _ => false,
        };
        let org_admin = match &actor.principal {
            Principal::User(uid) => self.user_by_id(uid)?.org_role == Some(super::OrgRole::Admin),
            _ => false,
        };
        if own || org_admin {
            return Ok(info);
        }
        let e = Error::Denied("checking another principal's token requires Org Admin".into());
        self.record_refusal(actor, "token.verify", &info.key_id, &e)?;
        Err(e)
    }
}
