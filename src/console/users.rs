//! Users, passwords (argon2id), sign-in, the password re-check with its lockout, and the
//! permission checks every other part of the model calls.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::access::{self, OrgRole, Permission, ProjectRole};
use super::projects::{member_key, Membership};
use super::{validate, Actor, Console, Error, Principal, Result, Secret, TxResult, Via};
use crate::store::{Table, Tx};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub org_role: Option<OrgRole>,
    pub created_at: DateTime<Utc>,
    /// argon2id PHC string; never shown anywhere.
    #[serde(rename = "password_hash")]
    pub(super) password_hash: String,
    /// Sign-in sessions issued before this moment are over (set by a password change).
    #[serde(default)]
    pub(super) sessions_valid_from: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("org_role", &self.org_role)
            .finish_non_exhaustive()
    }
}

/// Consecutive wrong answers and the lock they caused; kept apart from the user record so a
/// wrong password never rewrites the user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Lockout {
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
}

/// Whose password is being checked: the key of its lockout record, its hash, and the name
/// the audit log shows.
pub(super) struct PasswordHolder<'a> {
    pub lock_key: &'a str,
    pub hash: &'a str,
    pub label: &'a str,
}

/// Unknown emails whose failed sign-ins are counted in memory (see `refuse_unknown_email`).
pub(super) const UNKNOWN_LOCKOUTS_MAX: usize = 10_000;

/// The refusal while a lockout lasts.
fn locked_refusal(lock: &Lockout, now: DateTime<Utc>, limits: &super::Limits) -> Option<Error> {
    let left = lock.locked_until.filter(|until| *until > now)? - now;
    let minutes = (left.num_seconds() + 59) / 60;
    Some(Error::Auth(format!(
        "password verification is locked after {} wrong answers; try again in {minutes} minute{}",
        limits.password_failures_before_lockout,
        if minutes == 1 { "" } else { "s" }
    )))
}

/// Counts one answer: a right one clears the record, the last wrong one before the limit locks.
fn judge(lock: &mut Lockout, ok: bool, now: DateTime<Utc>, limits: &super::Limits) -> Result<()> {
    if ok {
        *lock = Lockout::default();
        return Ok(());
    }
    lock.failures += 1;
    if lock.failures >= limits.password_failures_before_lockout {
        lock.failures = 0;
        lock.locked_until = Some(now + Duration::minutes(limits.lockout_minutes));
        return Err(Error::Auth(format!(
            "wrong password; verification is now locked for {} minutes",
            limits.lockout_minutes
        )));
    }
    let left = limits.password_failures_before_lockout - lock.failures;
    Err(Error::Auth(format!(
        "wrong password; {left} more wrong {} verification for {} minutes",
        if left == 1 { "answer locks" } else { "answers lock" },
        limits.lockout_minutes
    )))
}

/// Keystone's refusal of a restricted application credential's token (`ForbiddenAction`).
pub const RESTRICTED_TOKEN: &str = "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.";

/// A token made from an access key may not create or delete access keys: a leaked key must
/// not mint its own successor (Keystone's restricted application credentials; the console's
/// Credentials page asks for the password again for the same reason).
pub(super) fn refuse_restricted(actor: &Actor) -> Result<()> {
    match actor.via {
        Via::Token {
            method: super::TokenMethod::ApplicationCredential,
            ..
        } => Err(Error::Denied(RESTRICTED_TOKEN.into())),
        _ => Ok(()),
    }
}

/// A role held, capped by the role a token carries: none if either is none.
pub(super) fn capped(held: Option<ProjectRole>, carried: Option<ProjectRole>) -> Option<ProjectRole> {
    Some(access::weaker(held?, carried?))
}

/// At sign-in, a wrong password is "wrong email or password" (the email is not confirmed);
/// the lockout messages pass as they are, for a known and an unknown email alike.
fn sign_in_refusal(e: Error) -> Error {
    match e {
        Error::Auth(m) if m.starts_with("wrong password") && !m.contains("now locked") => {
            Error::Auth("wrong email or password".into())
        }
        other => other,
    }
}

/// argon2id with OWASP's recommended parameters: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified against when the email is unknown so that an
/// unknown user takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"kc-console-decoy").expect("static salt is valid");
        argon2()
            .hash_password(b"no password matches this", &salt)
            .expect("hashing a static password succeeds")
            .to_string()
    })
}

/// argon2's work area (19 MiB), allocated once and reused by every check. Checks run one at a
/// time (`Console::password_lock`); allocating the area per check let each worker thread's
/// malloc arena keep a copy of its own — a server signing in 50 consoles held 350 MiB.
static WORK_AREA: std::sync::Mutex<Vec<Block>> = std::sync::Mutex::new(Vec::new());

fn password_matches(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(params), Some(expected), Some(salt)) = (Params::try_from(&parsed), parsed.hash, parsed.salt)
    else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    // Only this program's own parameters are stored; anything far above them is not a hash
    // it made, and must not make it allocate.
    if blocks > 4 * Params::DEFAULT_M_COST as usize {
        return false;
    }
    let mut computed = vec![0u8; expected.len()];
    let mut area = WORK_AREA.lock().unwrap_or_else(|p| p.into_inner());
    if area.len() < blocks {
        area.resize(blocks, Block::new());
    }
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut computed,
        &mut area[..blocks],
    );
    hashed.is_ok() && bool::from(computed.as_slice().ct_eq(expected.as_bytes()))
}

/// An e-mail in the form users are found by: letter case does not tell users apart.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

pub(super) fn insert_user(tx: &Tx, user: &User) -> TxResult<()> {
    let key = email_key(&user.email);
    if tx.get::<String, _>(Table::Emails, &key)?.is_some() {
        return Err(Error::Conflict(format!("a user with email {} already exists", user.email)).into());
    }
    tx.put(Table::Emails, &key, &user.id)?;
    tx.put(Table::Users, &user.id, user)
}

/// A user's ID, memberships and key index records: what removing the user deletes.
type Holdings = (String, Vec<super::Membership>, Vec<(String, Vec<String>)>);

impl Console {
    pub(super) fn hash_password(&self, password: &str) -> String {
        let salt = SaltString::encode_b64(&self.random_bytes::<16>()).expect("16 bytes make a valid salt");
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 accepts every password of valid length")
            .to_string()
    }

    /// Validates and hashes outside any transaction (argon2 is slow).
    pub(super) fn prepare_user(
        &self,
        email: &str,
        name: &str,
        org_role: Option<OrgRole>,
        password: &str,
    ) -> Result<User> {
        validate::email(email)?;
        if super::operator::is_operator_email(email) {
            return Err(Error::Conflict(format!(
                "{email} is the Help Desk operator's sign-in; choose another email"
            )));
        }
        validate::text("name", name, validate::USER_NAME_MAX, true)?;
        validate::password(password)?;
        Ok(User {
            id: self.new_id(),
            email: email.into(),
            name: name.into(),
            org_role,
            created_at: self.now(),
            password_hash: self.hash_password(password),
            sessions_valid_from: None,
        })
    }

    pub fn user_by_id(&self, id: &str) -> Result<User> {
        validate::bounded("user ID", id, validate::ID_INPUT_MAX)?;
        self.store
            .get(Table::Users, id)?
            .ok_or_else(|| Error::NotFound(format!("no user with ID {id}")))
    }

    pub fn user_by_email(&self, email: &str) -> Result<User> {
        validate::bounded("email", email, validate::EMAIL_MAX)?;
        let id: Option<String> = self.store.get(Table::Emails, &email_key(email))?;
        match id {
            Some(id) => self.user_by_id(&id),
            None => Err(Error::NotFound(format!(
                "no user with email {email} in this organization"
            ))),
        }
    }

    /// The actor for a user who signed in with a password.
    pub fn actor_for(user: &User) -> Actor {
        Actor {
            principal: Principal::User(user.id.clone()),
            via: Via::Password,
            label: user.email.clone(),
        }
    }

    /// Signs in with email and password — a user of the organization, or the Help Desk
    /// operator. An unknown email gets the same answers as a wrong password, after the same
    /// work, including the lockout after repeated failures; the lockout applies to sign-in as to
    /// the Credentials re-check.
    pub fn sign_in(&self, email: &str, password: &str) -> Result<Actor> {
        self.bound_credentials(
            "user.sign_in",
            &[
                ("email", email, validate::EMAIL_MAX),
                ("password", password, validate::PASSWORD_MAX),
            ],
        )?;
        if super::operator::is_operator_email(email) {
            return self.sign_in_operator(password);
        }
        self.password_sign_in(email, password, "user.sign_in")
    }

    /// Bounds what a sign-in presents (an e-mail or ID, a password, a project) before anything
    /// else; a refusal is audited for nobody in particular, since the sign-in names no one yet.
    pub(super) fn bound_credentials(&self, action: &str, inputs: &[(&str, &str, usize)]) -> Result<()> {
        let unnamed = Actor {
            principal: Principal::System,
            via: Via::Password,
            label: "<not an email>".into(),
        };
        self.bound_inputs(&unnamed, action, inputs)
    }

    /// A user's e-mail and password checked as sign-in checks them, audited as `action`.
    pub(super) fn password_sign_in(&self, email: &str, password: &str, action: &str) -> Result<Actor> {
        let user = match self.user_by_email(email) {
            Ok(user) => user,
            Err(Error::NotFound(_) | Error::Invalid(_)) => {
                return Err(self.refuse_unknown_email(email, password, action))
            }
            Err(e) => return Err(e),
        };
        let actor = Console::actor_for(&user);
        let holder = PasswordHolder {
            lock_key: &user.id,
            hash: &user.password_hash,
            label: &user.email,
        };
        self.check_password(&actor, &holder, password, action)
            .map_err(sign_in_refusal)?;
        Ok(actor)
    }

    /// An unknown email: argon2 against a decoy hash, and a lockout kept in memory (bounded)
    /// that answers exactly as a real user's would, so neither the message, the time nor the
    /// lockout tells which emails exist. (Only a restart, which forgets these counters, differs.)
    pub(super) fn refuse_unknown_email(&self, email: &str, password: &str, action: &str) -> Error {
        let _checking = self.password_lock.lock().unwrap_or_else(|p| p.into_inner());
        // A password typed into the email field must not reach the audit log.
        let label = if validate::email(email).is_ok() {
            email.to_string()
        } else {
            "<not an email>".to_string()
        };
        let stranger = Actor {
            principal: Principal::System,
            via: Via::Password,
            label: label.clone(),
        };
        let now = self.now();
        let limits = &self.config.limits;
        let key = email_key(email);
        let outcome = {
            let mut book = self.unknown_lockouts.lock().unwrap_or_else(|p| p.into_inner());
            let mut lock = book.get(&key).cloned().unwrap_or_default();
            password_matches(password, decoy_hash());
            let outcome = match locked_refusal(&lock, now, limits) {
                Some(e) => Err(e),
                None => judge(&mut lock, false, now, limits),
            };
            if book.len() >= UNKNOWN_LOCKOUTS_MAX && !book.contains_key(&key) {
                book.retain(|_, l| l.locked_until.is_some_and(|until| until > now));
                if book.len() >= UNKNOWN_LOCKOUTS_MAX {
                    book.clear();
                }
            }
            book.insert(key, lock);
            outcome
        };
        let refusal = outcome
            .map_err(sign_in_refusal)
            .expect_err("an unknown email never signs in");
        if let Err(e) = self.record_refusal(&stranger, action, &label, &refusal) {
            return e;
        }
        refusal
    }

    /// The Credentials gate: asks a signed-in user for their password again.
    pub fn verify_password(&self, actor: &Actor, password: &str) -> Result<()> {
        const ACTION: &str = "credentials.verify_password";
        self.bound_inputs(actor, ACTION, &[("password", password, validate::PASSWORD_MAX)])?;
        let Some(uid) = actor.user_id() else {
            let e = Error::Denied("only users have a password to verify".into());
            self.record_refusal(actor, ACTION, &actor.label, &e)?;
            return Err(e);
        };
        let user = self.user_by_id(uid)?;
        let holder = PasswordHolder {
            lock_key: &user.id,
            hash: &user.password_hash,
            label: &user.email,
        };
        self.check_password(actor, &holder, password, ACTION)
    }

    /// Minutes of lockout left for this user, if locked now.
    pub fn lockout_remaining(&self, user_id: &str) -> Result<Option<Duration>> {
        validate::bounded("user ID", user_id, validate::ID_INPUT_MAX)?;
        let lock: Lockout = self.store.get(Table::Lockouts, user_id)?.unwrap_or_default();
        let now = self.now();
        Ok(lock
            .locked_until
            .filter(|until| *until > now)
            .map(|until| until - now))
    }

    pub(super) fn check_password(
        &self,
        actor: &Actor,
        holder: &PasswordHolder,
        password: &str,
        action: &str,
    ) -> Result<()> {
        // One password check at a time: concurrent guesses must not all be answered before
        // the fifth wrong one locks verification.
        let _checking = self.password_lock.lock().unwrap_or_else(|p| p.into_inner());
        let limits = &self.config.limits;
        let stored: Lockout = self
            .store
            .get(Table::Lockouts, holder.lock_key)?
            .unwrap_or_default();
        if let Some(e) = locked_refusal(&stored, self.now(), limits) {
            // The same work as an answered attempt, so a locked account is not told apart by time.
            password_matches(password, decoy_hash());
            self.record_refusal(actor, action, holder.label, &e)?;
            return Err(e);
        }
        let ok = password_matches(password, holder.hash);
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.now();
        let outcome = self
            .store
            .transact(|tx| {
                let mut lock: Lockout = tx.get(Table::Lockouts, holder.lock_key)?.unwrap_or_default();
                let outcome = judge(&mut lock, ok, now, limits);
                tx.put(Table::Lockouts, holder.lock_key, &lock)?;
                let text = match &outcome {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("refused: {}", e.message()),
                };
                super::audit::append(tx, now, actor, action, holder.label, &text)?;
                Ok(outcome)
            })
            .map_err(Error::from)?;
        self.flush()?;
        self.audit_appended();
        outcome
    }

    /// Recovery for whoever holds the data directory (`kc-console recover`): ends a user's
    /// lockout — the way back for an owner who locked everyone out — and, when asked, gives
    /// them a new generated password, returned once (their sessions end).
    pub fn recover_user(&self, actor: &Actor, email: &str, reset_password: bool) -> Result<Option<Secret>> {
        validate::email(email)?;
        let user = self.user_by_email(email)?;
        let password = reset_password.then(|| Secret::new(self.generate_password()));
        let hash = password.as_ref().map(|p| self.hash_password(p.expose()));
        self.change(actor, "user.recover", email, |tx| {
            if actor.principal != Principal::System {
                return Err(
                    Error::Denied("only whoever holds the data directory can recover a user".into()).into(),
                );
            }
            tx.remove(Table::Lockouts, &user.id)?;
            if let Some(hash) = &hash {
                let mut current: User = tx
                    .get(Table::Users, &user.id)?
                    .ok_or_else(|| Error::NotFound(format!("no user with email {email}")))?;
                current.password_hash = hash.clone();
                current.sessions_valid_from = Some(self.now());
                tx.put(Table::Users, &user.id, &current)?;
            }
            Ok(())
        })?;
        Ok(password)
    }

    /// Ends a user's lockout (Org Admin): the way back for a user who locked themselves out.
    pub fn unlock_user(&self, actor: &Actor, email: &str) -> Result<()> {
        validate::email(email)?;
        let user = self.user_by_email(email)?;
        self.change(actor, "user.unlock", email, |tx| {
            self.require_org_permission(tx, actor, Permission::ManageOrgUsers, "unlocking a user")?;
            tx.remove(Table::Lockouts, &user.id)
        })
    }

    /// Changes the signed-in user's own password; every session signed in before ends.
    pub fn change_password(&self, actor: &Actor, old: &str, new: &str) -> Result<()> {
        self.bound_inputs(
            actor,
            "user.change_password",
            &[
                ("current password", old, validate::PASSWORD_MAX),
                ("new password", new, validate::PASSWORD_MAX),
            ],
        )?;
        self.verify_password(actor, old)?;
        let hash = validate::password(new).map(|()| self.hash_password(new));
        let uid = actor
            .user_id()
            .expect("verify_password accepts only users")
            .to_string();
        self.change(actor, "user.change_password", &actor.label, |tx| {
            let mut user: User = tx
                .get(Table::Users, &uid)?
                .ok_or_else(|| Error::NotFound("your user no longer exists".into()))?;
            user.password_hash = hash.clone()?;
            user.sessions_valid_from = Some(self.now());
            tx.put(Table::Users, &uid, &user)
        })
    }

    pub fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.guard(actor, "user.list", "", || {
            let org_role = self.require_org_member(actor)?;
            if org_role.is_none() {
                return Err(Error::Denied(
                    "listing the organization's users requires Org Admin or Org Reader".into(),
                ));
            }
            Ok(())
        })?;
        let mut users: Vec<User> = self
            .store
            .scan::<User>(Table::Users, "")?
            .into_iter()
            .map(|(_, u)| u)
            .collect();
        users.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(users)
    }

    /// Adds a user with a generated initial password, returned once.
    pub fn add_user(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        org_role: Option<OrgRole>,
    ) -> Result<(User, Secret)> {
        let password = Secret::new(self.generate_password());
        let user = self.add_user_with_password(actor, email, name, org_role, password.expose())?;
        Ok((user, password))
    }

    /// Adds a user with a chosen password (the demo organization's users).
    pub fn add_user_with_password(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        org_role: Option<OrgRole>,
        password: &str,
    ) -> Result<User> {
        self.bound_inputs(
            actor,
            "user.add",
            &[
                ("email", email, validate::EMAIL_MAX),
                ("name", name, validate::TEXT_INPUT_MAX),
                ("password", password, validate::PASSWORD_MAX),
            ],
        )?;
        let prepared = self.prepare_user(email, name, org_role, password);
        self.change(actor, "user.add", email, |tx| {
            self.require_org_permission(tx, actor, Permission::ManageOrgUsers, "adding a user")?;
            let user = prepared.clone()?;
            insert_user(tx, &user)?;
            Ok(user)
        })
    }

    pub(super) fn generate_password(&self) -> String {
        // 18 random bytes, base64url without padding: 24 characters, 144 bits.
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        self.random_bytes::<24>()
            .iter()
            .map(|b| ALPHABET[(b & 63) as usize] as char)
            .collect()
    }

    /// Removes a user from the organization with their memberships and access keys.
    pub fn remove_user(&self, actor: &Actor, email: &str) -> Result<()> {
        self.bound_inputs(actor, "user.remove", &[("email", email, validate::EMAIL_MAX)])?;
        // What the user holds, read before the transaction (sled cannot scan inside one).
        let holdings = || -> Result<Holdings> {
            let user = self.user_by_email(email)?;
            Ok((
                user.id.clone(),
                self.memberships_of(&user.id)?,
                self.key_indexes_of(&user.id)?,
            ))
        };
        self.change_with(
            actor,
            "user.remove",
            email,
            holdings,
            |tx, (uid, memberships, key_indexes)| {
                self.require_org_permission(tx, actor, Permission::ManageOrgUsers, "removing a user")?;
                let uid = uid.clone();
                let org: super::Organization = tx
                    .get(Table::Meta, super::org::ORG_KEY)?
                    .ok_or_else(|| Error::Internal("the organization record is missing".into()))?;
                if uid == org.owner_id {
                    return Err(Error::Conflict("the organization's owner cannot be removed".into()).into());
                }
                if actor.user_id() == Some(uid.as_str()) {
                    return Err(Error::Conflict("you cannot remove yourself".into()).into());
                }
                for membership in memberships {
                    tx.remove(Table::Members, &member_key(&membership.project_id, &uid))?;
                }
                for (index_key, key_ids) in key_indexes {
                    for key_id in key_ids {
                        tx.remove(Table::Keys, key_id)?;
                    }
                    tx.remove(Table::KeyIndex, index_key)?;
                }
                tx.remove(Table::Lockouts, &uid)?;
                tx.remove(Table::Emails, &email_key(email))?;
                tx.remove(Table::Users, &uid)
            },
        )
    }

    // ---- permission checks, used by every part of the model ----

    /// The org role of a signed-in user; refuses principals that are not users of this org.
    pub(super) fn require_org_member(&self, actor: &Actor) -> Result<Option<OrgRole>> {
        match (&actor.principal, &actor.via) {
            (Principal::User(uid), Via::Password | Via::Session) => Ok(self.user_by_id(uid)?.org_role),
            (Principal::User(uid), Via::Token { .. }) => {
                self.user_by_id(uid)?;
                Ok(None)
            }
            (Principal::ServiceAccount(_), _) => Ok(None),
            _ => Err(Error::Denied(
                "sign in as a user of the organization first".into(),
            )),
        }
    }

    /// The actor's (org role, project role) as seen inside a transaction. An API token confines
    /// its holder to the token's project and carries no org role.
    pub(super) fn roles_in(
        &self,
        tx: &Tx,
        actor: &Actor,
        project_id: Option<&str>,
    ) -> TxResult<(Option<OrgRole>, Option<ProjectRole>)> {
        match &actor.principal {
            Principal::User(uid) => {
                let user: User = tx
                    .get(Table::Users, uid)?
                    .ok_or_else(|| Error::Auth("your user no longer exists".into()))?;
                let (org, project) = match (&actor.via, project_id) {
                    // A token acts only in its own project, without an org role, and never
                    // above the role it carries (an access key may be limited to a lesser one).
                    (
                        Via::Token {
                            project_id: scope,
                            role,
                            ..
                        },
                        Some(p),
                    ) if scope.as_deref() == Some(p) => {
                        let membership: Option<Membership> = tx.get(Table::Members, &member_key(p, uid))?;
                        (None, capped(membership.map(|m| m.role), *role))
                    }
                    (Via::Token { .. }, _) => (None, None),
                    (_, Some(p)) => {
                        let membership: Option<Membership> = tx.get(Table::Members, &member_key(p, uid))?;
                        (user.org_role, membership.map(|m| m.role))
                    }
                    (_, None) => (user.org_role, None),
                };
                Ok((org, project))
            }
            Principal::ServiceAccount(sa_id) => {
                let in_project =
                    project_id.is_some_and(|p| super::service_accounts::project_of(sa_id) == Some(p));
                let role = in_project.then_some(ProjectRole::Member);
                Ok(match &actor.via {
                    Via::Token { role: carried, .. } => (None, capped(role, *carried)),
                    _ => (None, role),
                })
            }
            Principal::Operator | Principal::System => Ok((None, None)),
        }
    }

    /// Refuses unless the matrix grants `permission` in `project_id` (or organization-wide).
    /// `doing` names the attempt for the message, e.g. "creating a service account".
    pub(super) fn require(
        &self,
        tx: &Tx,
        actor: &Actor,
        project_id: Option<&str>,
        permission: Permission,
        doing: &str,
    ) -> TxResult<()> {
        if matches!(
            permission,
            Permission::ManageServiceAccountKeys | Permission::OwnCredentials
        ) {
            refuse_restricted(actor)?;
        }
        if let Principal::ServiceAccount(_) = actor.principal {
            if matches!(
                permission,
                Permission::ManageServiceAccounts
                    | Permission::ManageServiceAccountKeys
                    | Permission::OwnCredentials
            ) {
                return Err(Error::Denied(format!(
                    "{doing} is not allowed with a service account's token: it cannot create or delete access keys or service accounts, or change a service account's status"
                ))
                .into());
            }
        }
        let (org, project) = self.roles_in(tx, actor, project_id)?;
        if access::allows(org, project, permission) {
            return Ok(());
        }
        let held: Vec<&str> = org
            .map(OrgRole::label)
            .into_iter()
            .chain(project.map(ProjectRole::label))
            .collect();
        let held = if held.is_empty() {
            "no role here".to_string()
        } else {
            held.join(" and ")
        };
        let scope = if project_id.is_some() {
            " in this project"
        } else {
            ""
        };
        Err(Error::Denied(format!(
            "{doing} requires {}{scope}; you have {held}",
            access::who_may(permission)
        ))
        .into())
    }

    pub(super) fn require_org_permission(
        &self,
        tx: &Tx,
        actor: &Actor,
        permission: Permission,
        doing: &str,
    ) -> TxResult<()> {
        self.require(tx, actor, None, permission, doing)
    }
}
