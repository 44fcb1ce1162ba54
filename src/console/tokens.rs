//! API tokens: issued for an IAM access key ID + secret, scoped to the key's project, valid
//! for 12 hours.
//!
//! # Format
//!
//! A token is signed, not stored. It has exactly one spelling:
//!
//! ```text
//! kct2.{method}.{subject}.{scope}.{issued}.{nonce}.{mac}
//! ```
//!
//! | field | what | form |
//! |---|---|---|
//! | `kct2` | format version | literal |
//! | `method` | how the token was earned | `ac` (application credential, subject an IAM key), `ec2` (`ec2credential`, subject an S3 key); reserved: `pw` (Keystone's `password`, subject a user ID) |
//! | `subject` | whose proof it is | 32 lowercase hex: the access key ID (`ac`, `ec2`) or the user ID (`pw`) |
//! | `scope` | the project it acts in | 32 lowercase hex project ID, or `-` for an unscoped token |
//! | `issued` | issue time | 16 lowercase hex: microseconds since the Unix epoch |
//! | `nonce` | uniqueness | 32 lowercase hex (128 random bits) |
//! | `mac` | HMAC-SHA256 of everything before its `.` with the database's signing key | 64 lowercase hex |
//!
//! Anything else — upper case, padding, whitespace, percent-encoding, extra or missing dots,
//! another length — is not a token and is refused exactly like a forged one, before any lookup.
//! So revocation, which keys on the canonical text, cannot be dodged by respelling a token.
//! The method tag and the scope are inside the signed payload: adding the `password` and
//! `ec2credential` methods needed no format change. `ac` and `ec2` tokens are always scoped to
//! their key's project.
//!
//! # Validity
//!
//! Validation re-derives what a token stands for from the current state — the key, its owner,
//! the membership and the project — so every cascade of the rules (a deleted or expired key, a
//! removed member, an inactive or deleted service account, a deleted project) ends the key's
//! tokens on the very next request. That derivation is memoized per key, tagged with the
//! store's write generation: any committed write makes every memo stale, so nothing is cached
//! past a change. Explicit revocations are the only token state kept, one record each, keyed by
//! issue time so that expired ones are pruned with one range removal.
//!
//! # Audit of token issues
//!
//! Issues (granted, refused or throttled) and refused validations are not changes: they are
//! counted in memory per (actor, target, outcome) and written as one audit event with a `count`
//! when a change is flushed, when the server's timer fires (every second), when the tally is
//! full, and when the console closes. A crash can lose the last second of these counts — never
//! a change, nor its audit event — which is what the old per-issue append already risked (it
//! was not flushed either), and it is what keeps 300,000 refused issues a minute from becoming
//! 300,000 records.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::access::{self, OrgRole, Permission, ProjectRole};
use super::feed::Change;
use super::keys::{AccessKey, KeyKind, KeyStatus, Owner};
use super::projects::Project;
use super::service_accounts::{project_of, SaStatus};
use super::users::User;
use super::{audit, secret, Actor, Console, Entropy, Error, Principal, Result, Secret, Via};
use crate::store::{Batch, Store, StoreError, Table};

const TOKEN_VERSION: &str = "kct2";
/// The longest canonical token (the `ec2` tag is the longest method tag).
pub const MAX_TOKEN_LEN: usize = 4 + 1 + 3 + 1 + 32 + 1 + 32 + 1 + 16 + 1 + 32 + 1 + 64;
/// A key record nobody holds, decoded when a request names an unknown key ID so that the
/// refusal costs what a wrong secret costs.
const DECOY_KEY: &str = r#"{"id":"00000000000000000000000000000000","kind":"iam","owner":{"type":"user","id":"00000000000000000000000000000000"},"project_id":"00000000000000000000000000000000","name":"decoy","description":"","created_at":"2026-01-01T00:00:00Z","status":"Active","secret_digest":"0000000000000000000000000000000000000000000000000000000000000000"}"#;
const SIGNING_KEY: &str = "token_signing_key";
/// Entries a memo keeps at most; it is emptied when full (it refills at one derivation each).
const MEMO_MAX: usize = 4096;
/// Distinct token audit tallies held before they are written out on the spot.
const TALLY_MAX: usize = 4096;
/// How often touching the revocation table also prunes it.
const PRUNE_EVERY_SECONDS: i64 = 60;
const UNUSABLE_KEY: &str = "the access key is invalid, expired or wrong";
const INVALID_TOKEN: &str = "the token is invalid or has expired";

/// How a token was earned: the `method` tag of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMethod {
    /// An IAM access key (Keystone's `application_credential`).
    ApplicationCredential,
    /// An AWS signature made with an S3 access key (`ec2tokens`).
    Ec2Credential,
    /// A user's e-mail and console password (Keystone's `password`).
    Password,
}

impl TokenMethod {
    fn tag(self) -> &'static str {
        match self {
            TokenMethod::ApplicationCredential => "ac",
            TokenMethod::Ec2Credential => "ec2",
            TokenMethod::Password => "pw",
        }
    }

    fn from_tag(tag: &str) -> Option<TokenMethod> {
        match tag {
            "ac" => Some(TokenMethod::ApplicationCredential),
            "ec2" => Some(TokenMethod::Ec2Credential),
            "pw" => Some(TokenMethod::Password),
            _ => None,
        }
    }

    /// Keystone's name of the method, as `token.methods` lists it.
    pub fn keystone_name(self) -> &'static str {
        match self {
            TokenMethod::ApplicationCredential => "application_credential",
            TokenMethod::Ec2Credential => "ec2credential",
            TokenMethod::Password => "password",
        }
    }

    /// A key-based token names its key, and only `ec2tokens` mints tokens for S3 keys, so the
    /// key's kind says by which method a token was earned.
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
    /// The access key the token was made from; empty for a password token.
    pub key_id: String,
    pub key_name: String,
    /// The user ID, or the service account's ID.
    pub principal_id: String,
    /// The user's email, or the service account's name.
    pub principal_name: String,
    pub from_service_account: bool,
    /// The principal's organization role now (users only).
    pub org_role: Option<OrgRole>,
    /// The project the token is scoped to; empty (as its name) for an unscoped password token.
    pub project_id: String,
    pub project_name: String,
    /// The role the token carries in its project: the owner's, or the lesser one its key was
    /// limited to; none for an unscoped token.
    pub role: Option<ProjectRole>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Keystone's `audit_ids`: this token's own random nonce, so two tokens never share one.
    /// (The nonce is not what makes a token hard to forge — the MAC is — so it may be shown.)
    pub audit_id: String,
}

impl TokenInfo {
    /// The project the token is scoped to, if any.
    pub fn scope(&self) -> Option<&str> {
        Some(self.project_id.as_str()).filter(|p| !p.is_empty())
    }

    /// What audit records name as the token's subject: its key, or its user.
    pub fn subject(&self) -> &str {
        if self.key_id.is_empty() {
            &self.principal_id
        } else {
            &self.key_id
        }
    }

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
                project_id: self.scope().map(str::to_string),
                method: self.method,
                role: self.role,
            },
            label: if self.from_service_account {
                self.principal_id.clone()
            } else {
                self.principal_name.clone()
            },
        }
    }
}

/// How a `password` token request names its user.
#[derive(Debug, Clone, Copy)]
pub enum PasswordUser<'a> {
    /// The console e-mail (Keystone's `user.name`).
    Email(&'a str),
    Id(&'a str),
}

#[derive(Debug)]
pub struct IssuedToken {
    pub token: Secret,
    pub info: TokenInfo,
}

/// Keystone's `identity:validate_token` policy (`service_admin_or_token_subject`), for every
/// face: a principal may check its own tokens; another principal's need an Org Admin.
fn may_check(principal: &str, org_role: Option<OrgRole>, subject: &TokenInfo) -> bool {
    (!principal.is_empty() && principal == subject.principal_id) || org_role == Some(OrgRole::Admin)
}

const NOT_ITS_TOKEN: &str =
    "validating another principal's token needs an Org Admin's token; a token may check only its own principal's tokens";

/// A token in its canonical form, split into its fields (see the module doc).
struct ParsedToken<'a> {
    method: TokenMethod,
    subject: &'a str,
    scope: Option<&'a str>,
    issued_micros: u64,
    nonce: &'a str,
    /// The signed text: everything before the MAC's `.`.
    payload: &'a str,
    mac: &'a str,
}

impl<'a> ParsedToken<'a> {
    /// The one spelling of a token, or nothing.
    fn parse(token: &'a str) -> Option<ParsedToken<'a>> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut fields = token.split('.');
        if fields.next()? != TOKEN_VERSION {
            return None;
        }
        let method = TokenMethod::from_tag(fields.next()?)?;
        let subject = fields.next().filter(|s| super::validate::is_id(s))?;
        let scope = match fields.next()? {
            "-" => None,
            s if super::validate::is_id(s) => Some(s),
            _ => return None,
        };
        let issued = fields.next().filter(|s| super::validate::is_lower_hex(s, 16))?;
        let nonce = fields.next().filter(|s| super::validate::is_lower_hex(s, 32))?;
        let mac = fields.next().filter(|s| super::validate::is_lower_hex(s, 64))?;
        if fields.next().is_some() {
            return None;
        }
        Some(ParsedToken {
            method,
            subject,
            scope,
            issued_micros: u64::from_str_radix(issued, 16).ok()?,
            nonce,
            payload: &token[..token.len() - mac.len() - 1],
            mac,
        })
    }

    /// The key of its revocation record: issue time first, so expired records sort first.
    fn revocation_key(&self) -> String {
        revocation_key_prefix(self.issued_micros) + self.mac
    }
}

/// Revocation records are `r/{issued µs, 16 hex}/{mac}`. Records of the first format (a bare
/// 64-hex digest) sort before every one of these and are pruned with the first expired range.
fn revocation_key_prefix(issued_micros: u64) -> String {
    format!("r/{issued_micros:016x}/")
}

/// What a key stands for now: its record, its owner and the project it acts in.
struct Standing {
    key: AccessKey,
    principal_name: String,
    from_service_account: bool,
    org_role: Option<OrgRole>,
    project: Project,
    role: ProjectRole,
}

/// What was derived at one write generation of the store, by key: key standings (by key ID)
/// and whole validations (by token).
struct Memo<T> {
    generation: u64,
    entries: HashMap<String, Arc<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            generation: 0,
            entries: HashMap::new(),
        }
    }
}

impl<T> Memo<T> {
    fn get(&self, key: &str, generation: u64) -> Option<Arc<T>> {
        if self.generation != generation {
            return None;
        }
        self.entries.get(key).cloned()
    }

    /// Remembers a value derived at `generation` — unless the store has moved on since.
    fn put(&mut self, key: String, generation: u64, value: Arc<T>) {
        if self.generation != generation {
            if generation < self.generation {
                return;
            }
            self.generation = generation;
            self.entries.clear();
        }
        if self.entries.len() >= MEMO_MAX {
            self.entries.clear();
        }
        self.entries.insert(key, value);
    }
}

#[derive(Hash, PartialEq, Eq)]
struct TallyKey {
    actor: String,
    /// Whether the actor is a user (whose events are indexed for them to read).
    by_user: bool,
    via: &'static str,
    action: &'static str,
    target: String,
    outcome: String,
}

struct Tally {
    first_at: DateTime<Utc>,
    count: u64,
}

/// The token machinery's state in a console: the signing key, the standing memo, the audit
/// tallies and when revocations were last pruned.
pub(super) struct TokenState {
    /// HMAC-SHA256 already keyed: cloning it skips the key schedule on every token.
    mac: Hmac<Sha256>,
    standings: Mutex<Memo<Standing>>,
    validations: Mutex<Memo<TokenInfo>>,
    tallies: Mutex<HashMap<TallyKey, Tally>>,
    /// Held while tallies are written out, so that when one write returns, every event
    /// counted before it is in the audit log, even those another thread took first.
    tally_writer: Mutex<()>,
    last_prune_micros: AtomicI64,
}

impl TokenState {
    pub(super) fn new(key: &[u8; 32]) -> TokenState {
        TokenState {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length"),
            standings: Mutex::new(Memo::default()),
            validations: Mutex::new(Memo::default()),
            tallies: Mutex::new(HashMap::new()),
            tally_writer: Mutex::new(()),
            last_prune_micros: AtomicI64::new(i64::MIN),
        }
    }

    /// The HMAC of `payload` with the signing key (sessions are signed with it too).
    pub(super) fn mac(&self, payload: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn sign(&self, payload: &str) -> String {
        lower_hex(&self.mac(payload))
    }

    fn verify(&self, parsed: &ParsedToken) -> bool {
        let mut presented = [0u8; 32];
        if hex::decode_to_slice(parsed.mac, &mut presented).is_err() {
            return false;
        }
        let mut mac = self.mac.clone();
        mac.update(parsed.payload.as_bytes());
        bool::from(mac.finalize().into_bytes().as_slice().ct_eq(&presented))
    }

    fn remembered(&self, key_id: &str, generation: u64) -> Option<Arc<Standing>> {
        lock(&self.standings).get(key_id, generation)
    }

    fn remember(&self, generation: u64, standing: Arc<Standing>) {
        lock(&self.standings).put(standing.key.id.clone(), generation, standing);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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

/// What a throttled token issue is counted against.
#[derive(Debug, Clone, Copy)]
pub enum ThrottledBy<'a> {
    /// The key ID presented ("" when the key was named by user and name).
    Key(&'a str),
    /// The user named by a password issue: an e-mail or ID, as typed.
    User(&'a str),
    /// The client's address.
    Address(&'a str),
}

/// What a refused token request records of the key ID it was given: the ID if it is one,
/// never anything else — a secret pasted into the ID field must not reach the audit log.
fn presented_key_id(s: &str) -> String {
    if super::validate::is_id(s) {
        s.to_string()
    } else {
        "<not an access key ID>".into()
    }
}

/// Lowercase hex of `bytes` (the `hex` crate's `encode` goes a char at a time; this runs on
/// every token issue).
fn lower_hex(bytes: &[u8]) -> String {
    let mut text = vec![0u8; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut text).expect("twice as many hex digits as bytes");
    String::from_utf8(text).expect("hex digits are ASCII")
}

fn micros(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_micros()).unwrap_or(0)
}

impl Console {
    /// What a key currently stands for, or why it cannot be used. One message for every
    /// reason, so a caller learns nothing about which part was wrong.
    fn key_standing(&self, key: AccessKey) -> Result<Standing> {
        let unusable = || Error::Auth(UNUSABLE_KEY.into());
        if key.status != KeyStatus::Active {
            return Err(unusable());
        }
        let project: Project = self
            .store
            .get(Table::Projects, &key.project_id)?
            .ok_or_else(unusable)?;
        let (principal_name, from_service_account, org_role, role) = match &key.owner {
            Owner::User(uid) => {
                // A user gone is an unusable key; a failed read is a failure, said as one.
                let user = self.user_by_id(uid).map_err(|e| match e {
                    Error::NotFound(_) => unusable(),
                    other => other,
                })?;
                let role = self.project_role(&key.project_id, uid)?.ok_or_else(unusable)?;
                (user.email, false, user.org_role, role)
            }
            Owner::ServiceAccount(sa_id) => {
                let sa = self.get_service_account(sa_id)?.ok_or_else(unusable)?;
                if sa.status != SaStatus::Active {
                    return Err(unusable());
                }
                (sa.name.clone(), true, None, sa.role())
            }
        };
        let role = key.acting_role(role);
        Ok(Standing {
            key,
            principal_name,
            from_service_account,
            org_role,
            project,
            role,
        })
    }

    /// The role a key's tokens carry now (see `AccessKey::acting_role`); none when it issues
    /// no tokens — judged by the token issue's own [`Self::key_standing`].
    pub fn key_role(&self, key: &AccessKey) -> Result<Option<ProjectRole>> {
        match self.key_standing(key.clone()) {
            Ok(standing) => Ok(Some(standing.role)),
            Err(Error::Auth(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The standing of `key_id` as of now: remembered for this write generation, else read.
    fn standing(&self, key_id: &str) -> Result<Arc<Standing>> {
        // Read the generation before the records: a write that lands in between makes the
        // memo entry stale at once.
        let generation = self.store.generation();
        if let Some(standing) = self.tokens.remembered(key_id, generation) {
            return Ok(standing);
        }
        let key = self
            .store
            .get::<AccessKey>(Table::Keys, key_id)?
            .ok_or_else(|| Error::Auth(UNUSABLE_KEY.into()))?;
        self.standing_of(key, generation)
    }

    /// The standing of a key record read at `generation` (read before the record was).
    fn standing_of(&self, key: AccessKey, generation: u64) -> Result<Arc<Standing>> {
        if let Some(standing) = self.tokens.remembered(&key.id, generation) {
            return Ok(standing);
        }
        let standing = Arc::new(self.key_standing(key)?);
        self.tokens.remember(generation, Arc::clone(&standing));
        Ok(standing)
    }

    fn token_info(&self, standing: &Standing, issued_at: DateTime<Utc>, audit_id: String) -> TokenInfo {
        TokenInfo {
            method: TokenMethod::of(standing.key.kind),
            key_id: standing.key.id.clone(),
            key_name: standing.key.name.clone(),
            principal_id: standing.key.owner.id().into(),
            principal_name: standing.principal_name.clone(),
            from_service_account: standing.from_service_account,
            org_role: standing.org_role,
            project_id: standing.project.id.clone(),
            project_name: standing.project.name.clone(),
            role: Some(standing.role),
            issued_at,
            expires_at: issued_at + Duration::hours(self.config.limits.token_hours),
            audit_id,
        }
    }

    /// A fresh token nonce, which is also the token's audit ID.
    fn new_nonce(&self) -> String {
        lower_hex(&self.random_bytes::<16>())
    }

    /// Exchanges an IAM access key ID and secret for a token. Unknown ID, wrong secret,
    /// expired key and inactive service account are refused alike, after the same work.
    pub fn issue_token(&self, key_id: &str, secret_text: &str) -> Result<IssuedToken> {
        let generation = self.store.generation();
        let key = if super::validate::is_id(key_id) {
            self.store.get::<AccessKey>(Table::Keys, key_id)?
        } else {
            None
        };
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
            Some(key) if secret_ok && key.kind == KeyKind::Iam => self.standing_of(key, generation),
            _ => Err(Error::Auth(UNUSABLE_KEY.into())),
        };
        let standing = match standing {
            Ok(standing) => standing,
            Err(e @ Error::Auth(_)) => {
                self.tally_refused_issue(
                    "access key",
                    presented_key_id(key_id),
                    format!("refused: {}", e.message()),
                )?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let info = self.token_info(&standing, now, self.new_nonce());
        self.tally_by(&info.actor(), "token.issue", &info.key_id, "ok".into())?;
        Ok(self.mint_token(info))
    }

    /// Signs a token for what `info` says, issued at `info.issued_at`, with its audit ID as
    /// the nonce.
    pub(super) fn mint_token(&self, info: TokenInfo) -> IssuedToken {
        let payload = format!(
            "{TOKEN_VERSION}.{}.{}.{}.{:016x}.{}",
            info.method.tag(),
            info.subject(),
            info.scope().unwrap_or("-"),
            micros(info.issued_at),
            info.audit_id,
        );
        let token = format!("{payload}.{}", self.tokens.sign(&payload));
        tracing::trace!(key = %info.key_id, principal = %info.principal_id, "token issued");
        IssuedToken {
            token: Secret::new(token),
            info,
        }
    }

    /// What a token from the S3 key `key` stands for now (`ec2credential`), or the one refusal
    /// for a key that no longer stands.
    pub(super) fn ec2_token_info(&self, key: &AccessKey) -> Result<TokenInfo> {
        if key.kind != KeyKind::S3 {
            return Err(Error::Auth(UNUSABLE_KEY.into()));
        }
        let standing = self.standing_of(key.clone(), self.store.generation())?;
        Ok(self.token_info(&standing, self.now(), self.new_nonce()))
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

    /// Checks a token for a signed-in actor of the management API or the CLI: its own
    /// principal's tokens, or any token for an Org Admin (Keystone's
    /// `service_admin_or_token_subject`, as `validate_token_for` for the token API).
    pub fn verify_token_for(&self, actor: &Actor, token: &str) -> Result<TokenInfo> {
        let info = self.validate_token(token)?;
        let (principal, org_role) = match &actor.principal {
            Principal::User(uid) => (uid.as_str(), self.user_by_id(uid)?.org_role),
            Principal::ServiceAccount(id) => (id.as_str(), None),
            _ => ("", None),
        };
        if may_check(principal, org_role, &info) {
            return Ok(info);
        }
        let e = Error::Denied(NOT_ITS_TOKEN.into());
        self.record_refusal(actor, "token.verify", info.subject(), &e)?;
        Err(e)
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
            .keys_of(principal_id)?
            .into_iter()
            .find(|k| k.name == name && k.kind == KeyKind::Iam)
            .map(|k| k.id);
        self.issue_token(key_id.as_deref().unwrap_or(""), secret_text)
    }

    /// Checks a token and says what it stands for now. A token already validated at the
    /// store's current write generation is only checked against the clock again.
    pub fn validate_token(&self, token: &str) -> Result<TokenInfo> {
        let generation = self.store.generation();
        let remembered = lock(&self.tokens.validations).get(token, generation);
        if let Some(info) = remembered {
            return if self.within_lifetime(info.issued_at) {
                Ok((*info).clone())
            } else {
                Err(Error::Auth(INVALID_TOKEN.into()))
            };
        }
        let info = self.check_token(token)?;
        lock(&self.tokens.validations).put(token.to_string(), generation, Arc::new(info.clone()));
        Ok(info)
    }

    /// Whether a token issued at `issued_at` is within its lifetime now (with five minutes of
    /// leeway for a clock that was behind when it was issued).
    fn within_lifetime(&self, issued_at: DateTime<Utc>) -> bool {
        let now = self.now();
        now < issued_at + Duration::hours(self.config.limits.token_hours)
            && issued_at <= now + Duration::minutes(5)
    }

    /// The whole check: spelling, signature, lifetime, revocation, and the key's standing.
    fn check_token(&self, token: &str) -> Result<TokenInfo> {
        let invalid = || Error::Auth(INVALID_TOKEN.into());
        let parsed = ParsedToken::parse(token).ok_or_else(invalid)?;
        if !self.tokens.verify(&parsed) {
            return Err(invalid());
        }
        let issued_at = i64::try_from(parsed.issued_micros)
            .ok()
            .and_then(|us| Utc.timestamp_micros(us).single())
            .ok_or_else(invalid)?;
        if !self.within_lifetime(issued_at) {
            return Err(invalid());
        }
        if self
            .store
            .get::<DateTime<Utc>>(Table::RevokedTokens, &parsed.revocation_key())?
            .is_some()
        {
            return Err(invalid());
        }
        if parsed.method == TokenMethod::Password {
            return self.password_token_info(parsed.subject, parsed.scope, issued_at, parsed.nonce.into());
        }
        let standing = self.standing(parsed.subject).map_err(|e| match e {
            Error::Auth(_) => invalid(),
            other => other,
        })?;
        // The key's project is the scope it was issued for, and its kind the method; a key
        // never moves nor changes kind, so anything else was never issued here.
        if parsed.scope != Some(standing.project.id.as_str())
            || TokenMethod::of(standing.key.kind) != parsed.method
        {
            return Err(invalid());
        }
        Ok(self.token_info(&standing, issued_at, parsed.nonce.into()))
    }

    /// What a password token of `user_id` stands for now: the user exists, has not changed
    /// their password since (a change ends their password tokens as it ends their sessions),
    /// and still holds a role in the project it is scoped to.
    fn password_token_info(
        &self,
        user_id: &str,
        scope: Option<&str>,
        issued_at: DateTime<Utc>,
        audit_id: String,
    ) -> Result<TokenInfo> {
        let invalid = || Error::Auth(INVALID_TOKEN.into());
        let user: User = self.store.get(Table::Users, user_id)?.ok_or_else(invalid)?;
        if user.sessions_valid_from.is_some_and(|from| issued_at < from) {
            return Err(invalid());
        }
        let (project, role) = match scope {
            Some(project_id) => {
                let project: Project = self.store.get(Table::Projects, project_id)?.ok_or_else(invalid)?;
                let role = self.project_role(project_id, user_id)?.ok_or_else(invalid)?;
                (Some(project), Some(role))
            }
            None => (None, None),
        };
        Ok(self.user_token_info(user, project, role, issued_at, audit_id))
    }

    fn user_token_info(
        &self,
        user: User,
        project: Option<Project>,
        role: Option<ProjectRole>,
        issued_at: DateTime<Utc>,
        audit_id: String,
    ) -> TokenInfo {
        let (project_id, project_name) = project.map(|p| (p.id, p.name)).unwrap_or_default();
        TokenInfo {
            method: TokenMethod::Password,
            key_id: String::new(),
            key_name: String::new(),
            principal_id: user.id,
            principal_name: user.email,
            from_service_account: false,
            org_role: user.org_role,
            project_id,
            project_name,
            role,
            issued_at,
            expires_at: issued_at + Duration::hours(self.config.limits.token_hours),
            audit_id,
        }
    }

    /// Keystone's `password` method: a user's e-mail (or ID) and console password, checked as
    /// the console's sign-in checks it (argon2, lockout, an unknown user answered alike), for a
    /// token scoped to `project` (an ID or name) where the user holds a role — or, when none
    /// is named, to the organization's default project if they hold a role there, else an
    /// unscoped token. Service accounts have no password.
    pub fn issue_password_token(
        &self,
        user: PasswordUser<'_>,
        password: &str,
        project: Option<&str>,
    ) -> Result<IssuedToken> {
        const ACTION: &str = "token.issue";
        let named = match user {
            PasswordUser::Email(email) => ("email", email, super::validate::EMAIL_MAX),
            PasswordUser::Id(id) => ("user ID", id, super::validate::ID_INPUT_MAX),
        };
        let scope = (
            "project",
            project.unwrap_or_default(),
            super::validate::ID_INPUT_MAX,
        );
        self.bound_credentials(
            ACTION,
            &[
                named,
                ("password", password, super::validate::PASSWORD_MAX),
                scope,
            ],
        )?;
        let email = match user {
            PasswordUser::Email(email) => email.to_string(),
            PasswordUser::Id(id) => match self.user_by_id(id) {
                Ok(user) => user.email,
                Err(Error::NotFound(_) | Error::Invalid(_)) => {
                    return Err(self.refuse_unknown_email(id, password, ACTION));
                }
                Err(e) => return Err(e),
            },
        };
        let actor = self.password_sign_in(&email, password, ACTION)?;
        let uid = actor
            .user_id()
            .ok_or_else(|| Error::Auth("wrong email or password".into()))?;
        let user = self.user_by_id(uid)?;
        let scoped = match project {
            Some(name_or_id) => {
                // Quoted as sent: the audit log and the API's replies escape and bound it.
                let no_access = || Error::Auth(format!("{email} has no role in project {name_or_id}"));
                let found = match self.find_project(name_or_id) {
                    Ok(project) => Ok(project),
                    Err(Error::NotFound(_) | Error::Invalid(_)) => Err(no_access()),
                    Err(e) => return Err(e),
                };
                match found.and_then(|p| match self.project_role(&p.id, uid)? {
                    Some(role) => Ok((p, role)),
                    None => Err(no_access()),
                }) {
                    Ok(scoped) => Some(scoped),
                    Err(refusal) => {
                        self.record_refusal(&actor, ACTION, name_or_id, &refusal)?;
                        return Err(refusal);
                    }
                }
            }
            None => match self.organization()?.default_project {
                Some(default) => match self.project_role(&default, uid)? {
                    Some(role) => self
                        .store
                        .get::<Project>(Table::Projects, &default)?
                        .map(|p| (p, role)),
                    None => None,
                },
                None => None,
            },
        };
        let (project, role) = scoped.map_or((None, None), |(p, r)| (Some(p), Some(r)));
        let info = self.user_token_info(user, project, role, self.now(), self.new_nonce());
        Ok(self.mint_token(info))
    }

    /// Validates `subject` on behalf of `caller`, as Keystone's `identity:validate_token`
    /// policy does (`service_admin_or_token_subject`): a token may check itself and the other
    /// tokens of its own principal; another principal's token needs an Org Admin. An invalid
    /// subject is `NotFound` whoever asks (as Keystone, which reads the token before judging).
    pub fn validate_token_for(&self, caller: &TokenInfo, subject: &str) -> Result<TokenInfo> {
        let info = self.validate_token(subject).map_err(|e| match e {
            Error::Auth(_) => Error::NotFound(INVALID_TOKEN.into()),
            other => other,
        })?;
        if may_check(&caller.principal_id, caller.org_role, &info) {
            return Ok(info);
        }
        let refusal = Error::Denied(NOT_ITS_TOKEN.into());
        self.tally_by(
            &caller.actor(),
            "token.validate",
            info.subject(),
            format!("refused: {}", refusal.message()),
        )?;
        Err(refusal)
    }

    /// Whether `actor` holds `ManageMembers` in `project_id` — the read-only twin of the
    /// transactional check, for revocation, which writes one record outside any transaction.
    fn may_manage_members(&self, actor: &Actor, project_id: Option<&str>) -> Result<bool> {
        let Some(project_id) = project_id else {
            return Ok(false);
        };
        let (org, project) = match (&actor.principal, &actor.via) {
            (
                Principal::User(uid),
                Via::Token {
                    project_id: scope,
                    role,
                    ..
                },
            ) => {
                self.user_by_id(uid)
                    .map_err(|_| Error::Auth("your user no longer exists".into()))?;
                let held = if scope.as_deref() == Some(project_id) {
                    self.project_role(project_id, uid)?
                } else {
                    None
                };
                (None, super::users::capped(held, *role))
            }
            (Principal::User(uid), _) => {
                let user = self
                    .user_by_id(uid)
                    .map_err(|_| Error::Auth("your user no longer exists".into()))?;
                (user.org_role, self.project_role(project_id, uid)?)
            }
            (Principal::ServiceAccount(sa_id), _) => (
                None,
                (project_of(sa_id) == Some(project_id)).then_some(ProjectRole::Member),
            ),
            (Principal::Operator | Principal::System, _) => (None, None),
        };
        Ok(access::allows(org, project, Permission::ManageMembers))
    }

    /// Revokes a token. Its own holder may revoke it, and so may whoever manages the members
    /// of its project. The revocation is one record, written and flushed on its own: no
    /// multi-table transaction (sled 0.34 keeps memory for every one until it closes).
    pub fn revoke_token(&self, actor: &Actor, token: &str) -> Result<TokenInfo> {
        let info = self.validate_token(token)?;
        let parsed = ParsedToken::parse(token).ok_or_else(|| Error::Auth(INVALID_TOKEN.into()))?;
        let holder = match &actor.principal {
            Principal::User(id) | Principal::ServiceAccount(id) => id == &info.principal_id,
            _ => false,
        };
        if !holder && !self.may_manage_members(actor, info.scope())? {
            let refusal = Error::Denied(format!(
                "revoking another principal's token needs {} in its project",
                access::who_may(Permission::ManageMembers)
            ));
            self.tally_by(
                actor,
                "token.revoke",
                info.subject(),
                format!("refused: {}", refusal.message()),
            )?;
            return Err(refusal);
        }
        let at = self.now();
        let mut revocation = Batch::default();
        revocation.put(&parsed.revocation_key(), &info.expires_at);
        self.store.apply(Table::RevokedTokens, revocation)?;
        let seq = audit::append_alone(self, actor, "token.revoke", info.subject(), "ok")?;
        self.flush()?;
        tracing::debug!(actor = %actor.label, subject = %info.subject(), "token revoked");
        self.feed.publish(Change {
            seq,
            at,
            actor: actor.label.clone(),
            action: "token.revoke".into(),
            target: info.subject().to_string(),
        });
        let last = self.tokens.last_prune_micros.load(Ordering::Relaxed);
        if at.timestamp_micros().saturating_sub(last) >= PRUNE_EVERY_SECONDS * 1_000_000 {
            self.prune_revocations()?;
        }
        Ok(info)
    }

    /// Removes the revocation records of tokens that have expired anyway; returns how many.
    /// The server calls this on a timer; revoking calls it at most once a minute.
    pub fn prune_revocations(&self) -> Result<usize> {
        let now = self.now();
        self.tokens
            .last_prune_micros
            .store(now.timestamp_micros(), Ordering::Relaxed);
        let cutoff = micros(now - Duration::hours(self.config.limits.token_hours));
        Ok(self
            .store
            .remove_before(Table::RevokedTokens, &revocation_key_prefix(cutoff))?)
    }

    /// Revocation records kept (each names a token that has not expired yet, once pruned).
    pub fn revocation_count(&self) -> usize {
        self.store.record_count(Table::RevokedTokens)
    }

    /// Counts one token event toward its audit record; writes the tallies out when full.
    pub(super) fn tally(
        &self,
        actor: &str,
        by_user: bool,
        via: &'static str,
        action: &'static str,
        target: String,
        outcome: String,
    ) -> Result<()> {
        let key = TallyKey {
            actor: actor.to_string(),
            by_user,
            via,
            action,
            target,
            outcome,
        };
        let now = self.now();
        let full = {
            let mut tallies = self.tokens.tallies.lock().unwrap_or_else(|p| p.into_inner());
            tallies.entry(key).and_modify(|t| t.count += 1).or_insert(Tally {
                first_at: now,
                count: 1,
            });
            tallies.len() >= TALLY_MAX
        };
        if full {
            self.write_token_audit()?;
        }
        Ok(())
    }

    /// Counts one token event of a known `actor` (not of a presented, unverified key).
    pub(super) fn tally_by(
        &self,
        actor: &Actor,
        action: &'static str,
        target: &str,
        outcome: String,
    ) -> Result<()> {
        self.tally(
            &actor.label,
            actor.user_id().is_some(),
            actor.via_label(),
            action,
            target.to_string(),
            outcome,
        )
    }

    /// A token issue refused because what it named, or where it came from, has spent its
    /// budget of failed attempts; counted into one audit record per subject and window.
    pub fn record_throttled(&self, by: ThrottledBy<'_>) -> Result<()> {
        let (what, shown, whose) = match by {
            ThrottledBy::Key(key_id) => ("access key", presented_key_id(key_id), "for this access key"),
            // Only a well-formed e-mail or ID is recorded: a password typed into the name
            // field must not reach the audit log.
            ThrottledBy::User(user) => {
                // An e-mail in the one form its throttle budget counts it in, so every
                // spelling of it adds to one tally.
                let shown = if super::validate::email(user).is_ok() {
                    super::users::email_key(user)
                } else if super::validate::is_id(user) {
                    user.to_string()
                } else {
                    "<not a user>".into()
                };
                ("user", shown, "for this user")
            }
            ThrottledBy::Address(address) => ("client", address.to_string(), "from this address"),
        };
        self.tally_refused_issue(
            what,
            shown,
            format!("refused: too many failed attempts {whose}; throttled"),
        )
    }

    /// Counts a refused token issue by the `what` shown as `shown` (the record's actor names
    /// both; its target is `shown`).
    fn tally_refused_issue(&self, what: &str, shown: String, outcome: String) -> Result<()> {
        self.tally(
            &format!("{what} {shown}"),
            false,
            "token",
            "token.issue",
            shown,
            outcome,
        )
    }

    /// Writes the counted token events out as audit records (not flushed: they are not
    /// changes; the next flush, or sled's own within half a second, makes them durable).
    pub fn write_token_audit(&self) -> Result<()> {
        let _writing = self.tokens.tally_writer.lock().unwrap_or_else(|p| p.into_inner());
        let tallies = std::mem::take(&mut *self.tokens.tallies.lock().unwrap_or_else(|p| p.into_inner()));
        for (key, tally) in tallies {
            // A refusal's outcome says the count too, so every face that shows outcomes shows
            // how many there were; "ok" stays "ok" (the count is in its own field).
            let outcome = if tally.count == 1 || key.outcome == "ok" {
                key.outcome
            } else {
                format!(
                    "{} ({} times from {})",
                    key.outcome,
                    tally.count,
                    tally.first_at.format("%H:%M:%S UTC")
                )
            };
            audit::append_counted(
                self,
                tally.first_at,
                &key.actor,
                key.by_user,
                key.via,
                key.action,
                &key.target,
                &outcome,
                tally.count,
            )?;
        }
        Ok(())
    }
}

/// The last token tallies are written when the console closes, so a CLI `token issue` leaves
/// its audit record like any other.
impl Drop for Console {
    fn drop(&mut self) {
        if let Err(e) = self.write_token_audit() {
            tracing::error!(error = %e, "could not write the last token audit records");
        }
    }
}
