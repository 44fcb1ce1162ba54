//! The console model: the single authority over every rule, permission and limit.
//!
//! The screens, the command line and the token API are thin faces that call it with an
//! [`Actor`]. Every change is one store transaction that includes its permission and limit
//! checks and its audit event, flushed before success is returned; every refusal is audited too.

pub mod access;
pub mod audit;
pub mod demo;
pub mod ec2;
pub mod feed;
pub mod identity;
pub mod inquiries;
pub mod keys;
pub mod limits;
pub mod operator;
pub mod org;
pub mod projects;
pub mod secret;
pub mod service_accounts;
pub mod sessions;
pub mod signature;
pub mod sources;
pub mod tokens;
pub mod users;
pub mod validate;

use std::fmt;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::store::{Store, StoreError, Table, Tx, TxError, TxFail};

pub use access::{OrgRole, Permission, ProjectRole};
pub use audit::{AuditEvent, AuditPage};
pub use ec2::{Ec2Credentials, S3Credentials};
pub use feed::Change;
pub use identity::{IdentityUser, RoleAssignment};
pub use inquiries::{Attachment, Inquiry, InquiryDraft, InquiryKind, InquiryState};
pub use keys::{AccessKey, KeyKind, KeyStatus, NewKey, Owner};
pub use limits::Limits;
pub use org::{Organization, PaymentMethod};
pub use projects::{Membership, Project, ProjectView};
pub use secret::Secret;
pub use service_accounts::{Agent, SaStatus, ServiceAccount};
pub use sources::{Clock, Entropy, FixedClock, OsEntropy, SeededEntropy, SystemClock};
pub use tokens::{IssuedToken, PasswordUser, ThrottledBy, TokenInfo, TokenMethod};
pub use users::{User, RESTRICTED_TOKEN};

/// Why the model refused or failed. Each kind has its exit code in the CLI contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Usage or invalid input (exit 2).
    Invalid(String),
    /// Authentication failed (exit 3).
    Auth(String),
    /// The role does not allow it (exit 4).
    Denied(String),
    /// Not found (exit 5).
    NotFound(String),
    /// Conflict, limit or precondition (exit 6).
    Conflict(String),
    /// Storage unavailable (exit 7).
    Storage(String),
    /// A bug (exit 1).
    Internal(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            Error::Invalid(_) => 2,
            Error::Auth(_) => 3,
            Error::Denied(_) => 4,
            Error::NotFound(_) => 5,
            Error::Conflict(_) => 6,
            Error::Storage(_) => 7,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Error::Invalid(m)
            | Error::Auth(m)
            | Error::Denied(m)
            | Error::NotFound(m)
            | Error::Conflict(m)
            | Error::Storage(m)
            | Error::Internal(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Storage(e.0)
    }
}

impl From<Error> for TxFail<Error> {
    fn from(e: Error) -> Self {
        TxFail::Abort(e)
    }
}

impl From<TxError<Error>> for Error {
    fn from(e: TxError<Error>) -> Self {
        match e {
            TxError::Abort(e) => e,
            TxError::Storage(e) => e.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
/// The result type of a transaction body.
pub type TxResult<T> = std::result::Result<T, TxFail<Error>>;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user, by user ID.
    User(String),
    /// A service account, by its `…@kc.serviceaccount.com` ID.
    ServiceAccount(String),
    /// The simulated Help Desk operator, outside the console's roles.
    Operator,
    /// kc-console itself (setting up an organization).
    System,
}

/// How the actor proved who they are — recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Password,
    /// A sign-in session (`kc-console login`, a console's sign-in), which stands for the
    /// password it was opened with.
    Session,
    /// An API token, which confines the actor to the token's project (none for an unscoped
    /// token) and to the role it carries there, and says how it was earned: a token from an
    /// application credential is restricted (it may not manage credentials).
    Token {
        project_id: Option<String>,
        method: TokenMethod,
        role: Option<ProjectRole>,
    },
    Setup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub via: Via,
    /// Email, service-account ID or role name, for audit events and messages.
    pub label: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            principal: Principal::System,
            via: Via::Setup,
            label: "kc-console".into(),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::User(id) => Some(id),
            _ => None,
        }
    }

    fn via_label(&self) -> &'static str {
        match self.via {
            Via::Password => "password",
            Via::Session => "session",
            Via::Token { .. } => "token",
            Via::Setup => "setup",
        }
    }
}

/// Injected sources of time and randomness, and the limits in force.
#[derive(Clone)]
pub struct Config {
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// The production configuration, with the settings an operator may give in the environment
    /// (`Limits::with_env`); a malformed setting is refused.
    pub fn from_env() -> Result<Config> {
        let default = Config::default();
        Ok(Config {
            limits: default.limits.clone().with_env()?,
            ..default
        })
    }
}

pub struct Console {
    store: Store,
    config: Config,
    /// Serializes changes, so a cascade's reads (prefix scans, which a sled transaction cannot
    /// do) see the same state its transaction writes over.
    write_lock: Mutex<()>,
    /// Serializes password checks (see `check_password`).
    password_lock: Mutex<()>,
    /// Failed sign-ins of unknown emails (see `Console::sign_in`).
    unknown_lockouts: Mutex<std::collections::HashMap<String, users::Lockout>>,
    /// The signing key (tokens and sessions), memos and audit tallies of the token machinery.
    tokens: tokens::TokenState,
    /// Seals S3 secrets; its key file is read once, here.
    sealer: ec2::Sealer,
    feed: feed::Feed,
    /// Audit events appended by this console, which paces pruning (see `audit_appended`).
    audit_appends: AtomicU64,
}

impl fmt::Debug for Console {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Console")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Console {
    pub fn open(dir: &Path, config: Config) -> Result<Console> {
        let store = Store::open(dir)?;
        // Once a directory has held an organization, a database without one was damaged.
        let has_org = store.get::<Organization>(Table::Meta, org::ORG_KEY)?.is_some();
        if store.was_initialized() && !has_org {
            return Err(Error::Storage(format!(
                "the database in {} is damaged (its organization is gone); restore the data directory from a backup, or delete it to start afresh",
                dir.display()
            )));
        }
        if has_org && !store.was_initialized() {
            store.mark_initialized()?;
        }
        if store.upgrading_from() == Some(1) {
            tracing::info!("indexing the audit log (schema version 1 to 2)");
            audit::index_version_1_log(&store)?;
            store.finish_upgrade()?;
        }
        let token_key = tokens::load_or_create_signing_key(&store, config.entropy.as_ref())?;
        let sealer = ec2::Sealer::open(dir)?;
        let console = Console {
            store,
            config,
            write_lock: Mutex::new(()),
            password_lock: Mutex::new(()),
            unknown_lockouts: Mutex::default(),
            tokens: tokens::TokenState::new(&token_key),
            sealer,
            feed: feed::Feed::new(),
            audit_appends: AtomicU64::new(0),
        };
        console.prune_audit_at_open();
        Ok(console)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every change committed from now on, by any face of this process (see `feed`).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.feed.subscribe()
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    /// True until an organization has been created in this data directory.
    pub fn is_uninitialized(&self) -> Result<bool> {
        Ok(self
            .store
            .get::<Organization>(Table::Meta, org::ORG_KEY)?
            .is_none())
    }

    fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut buf = [0u8; N];
        self.config.entropy.fill(&mut buf);
        buf
    }

    /// A fresh 32-lowercase-hex identifier.
    fn new_id(&self) -> String {
        hex::encode(self.random_bytes::<16>())
    }

    /// Runs one change: `body` checks permissions and limits and writes, all in one transaction
    /// with the audit event; the result is flushed before it is returned. A refusal writes only
    /// its audit event.
    fn change<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        body: impl Fn(&Tx) -> TxResult<T>,
    ) -> Result<T> {
        self.change_with(actor, action, target, || Ok(()), |tx, _| body(tx))
    }

    /// Like `change`, for changes that must first scan tables: sled cannot scan (or read
    /// outside the transaction) while a transaction runs, so `prepare` reads first. Both run
    /// under the write lock, so nothing changes between them.
    fn change_with<P, T>(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        prepare: impl FnOnce() -> Result<P>,
        body: impl Fn(&Tx, &P) -> TxResult<T>,
    ) -> Result<T> {
        self.change_each(actor, action, &[target.to_string()], prepare, body)
    }

    /// One change over several targets that the user confirmed at once (a batch): all or
    /// nothing, with one audit event — and one event on the change feed — per target.
    fn change_each<P, T>(
        &self,
        actor: &Actor,
        action: &str,
        targets: &[String],
        prepare: impl FnOnce() -> Result<P>,
        body: impl Fn(&Tx, &P) -> TxResult<T>,
    ) -> Result<T> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let at = self.now();
        let result = prepare().map_err(TxError::Abort).and_then(|prepared| {
            self.store.transact(|tx| {
                let value = body(tx, &prepared)?;
                let seqs = targets
                    .iter()
                    .map(|target| audit::append(tx, at, actor, action, target, "ok"))
                    .collect::<TxResult<Vec<u64>>>()?;
                Ok((value, seqs))
            })
        });
        match result {
            Ok((value, seqs)) => {
                self.flush()?;
                for (seq, target) in seqs.into_iter().zip(targets) {
                    self.audit_appended();
                    tracing::debug!(actor = %actor.label, action, target = %audit::excerpt(target, audit::TARGET_MAX), "change done");
                    self.feed.publish(Change {
                        seq,
                        at,
                        actor: actor.label.clone(),
                        action: action.into(),
                        target: audit::excerpt(target, audit::TARGET_MAX),
                    });
                }
                Ok(value)
            }
            Err(TxError::Abort(e @ (Error::Storage(_) | Error::Internal(_)))) => {
                tracing::error!(actor = %actor.label, action, error = %e, "change failed");
                Err(e)
            }
            Err(TxError::Abort(refusal)) => {
                for target in targets {
                    self.record_refusal(actor, action, target, &refusal)?;
                }
                Err(refusal)
            }
            Err(TxError::Storage(e)) => {
                tracing::error!(actor = %actor.label, action, error = %e, "storage failed");
                Err(e.into())
            }
        }
    }

    /// Audits a refused attempt made outside `change` (reads and sign-ins).
    fn record_refusal(&self, actor: &Actor, action: &str, target: &str, refusal: &Error) -> Result<()> {
        tracing::info!(
            actor = %audit::excerpt(&actor.label, audit::ACTOR_MAX),
            action,
            target = %audit::excerpt(target, audit::TARGET_MAX),
            reason = %audit::excerpt(refusal.message(), audit::OUTCOME_MAX),
            "refused"
        );
        let at = self.now();
        let outcome = format!("refused: {}", refusal.message());
        self.store
            .transact(|tx| audit::append(tx, at, actor, action, target, &outcome))
            .map_err(Error::from)?;
        self.flush()?;
        self.audit_appended();
        Ok(())
    }

    /// Makes every write so far durable, the counted token events with them (see `tokens`).
    fn flush(&self) -> Result<()> {
        self.write_token_audit()?;
        Ok(self.store.flush()?)
    }

    /// Refuses, and audits, the first argument longer than its kind of input allows: checked
    /// before the value reaches a lookup, a message or the audit log. `inputs` are (field,
    /// value, the most characters it may have); each field's own rules are checked later, with
    /// their own messages. The audit event names the field and its length, never its content:
    /// a secret pasted into the wrong field must not reach the log.
    fn bound_inputs(&self, actor: &Actor, action: &str, inputs: &[(&str, &str, usize)]) -> Result<()> {
        for (field, value, max) in inputs {
            if let Err(e) = validate::bounded(field, value, *max) {
                let target = format!("<{field} of {} characters>", value.chars().count());
                self.record_refusal(actor, action, &target, &e)?;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Runs a read-only check; a refusal is audited like any other.
    fn guard<T>(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        check: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        match check() {
            Err(e @ (Error::Denied(_) | Error::Invalid(_) | Error::Auth(_))) => {
                self.record_refusal(actor, action, target, &e)?;
                Err(e)
            }
            other => other,
        }
    }
}
