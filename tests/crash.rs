//! Crash safety: a child process makes a stream of mixed changes through the model and is killed
//! with SIGKILL at random moments, again and again, on the same data directory. After every kill
//! the directory is reopened and checked:
//!
//! - the database opens (and is not left locked);
//! - every change the child reported done is there, and nothing else is — except, possibly, the
//!   one change that was in flight when the child died, which must then be there whole;
//! - the invariants of console.md §1–§2 hold: key, service-account and project limits, no key
//!   without its owner and project, a removed member's and an inactive service account's keys
//!   Expired, the name and key indexes consistent with the records;
//! - no token reported issued is valid once its key, service account or membership is gone, and
//!   every one whose key still stands is valid;
//! - every reported change has its "ok" audit event (token issues, which are audited without a
//!   flush, once a later flushed change covers them).
//!
//! The child is this very test binary, re-executed to run the ignored test `child_writer` with
//! `KC_CRASH_DIR` set. It announces each change before making it (`intent`) and reports it after
//! it returned Ok (`done`), one JSON line each on stdout, flushed.
//!
//! `KC_CRASH_ITERATIONS` (default 200) sets the number of kills, `KC_CRASH_SEED` the seed of
//! the parent's generator (kill timing, the children's choices).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use kc_console::console::inquiries::PROJECT_DELETION;
use kc_console::console::keys::DELETE_KEY_PHRASE;
use kc_console::console::service_accounts::{parse_sa_id, DELETE_SA_PHRASE};
use kc_console::console::{
    AccessKey, Actor, AuditEvent, Config, Console, Error, InquiryState, KeyKind, KeyStatus, Membership,
    Owner, Project, ProjectRole, SaStatus, ServiceAccount, User,
};
use kc_console::store::Table;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Marks the child's protocol lines among whatever else the test harness prints.
const MARK: &str = "@@kc-crash ";
const DEFAULT_ITERATIONS: usize = 200;
const DEFAULT_SEED: u64 = 0x6b63_2d63_7261_7368;
/// The limits of console.md §1 (Config::default()).
const MAX_PROJECTS: usize = 30;
const MAX_USER_KEYS: usize = 2;
const MAX_SA_KEYS: usize = 2;
const MAX_SAS: usize = 100;
/// A child that runs this long was never killed: its parent is gone.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The observable state, and the changes the child reports
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeyRec {
    owner: Owner,
    project: String,
    kind: KeyKind,
    name: String,
    active: bool,
}

/// What the crash test follows of a data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct World {
    /// User ID → email.
    users: BTreeMap<String, String>,
    /// Project ID → name.
    projects: BTreeMap<String, String>,
    /// (project ID, user ID).
    members: BTreeSet<(String, String)>,
    /// Service-account ID → active.
    sas: BTreeMap<String, bool>,
    /// Key ID → key.
    keys: BTreeMap<String, KeyRec>,
}

/// A change the child made and saw succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
enum Event {
    KeyCreated {
        id: String,
        owner: Owner,
        project: String,
        kind: KeyKind,
        name: String,
    },
    KeyDeleted {
        id: String,
    },
    SaCreated {
        id: String,
    },
    SaStatus {
        id: String,
        active: bool,
    },
    SaDeleted {
        id: String,
    },
    MemberAdded {
        project: String,
        user: String,
    },
    MemberRemoved {
        project: String,
        user: String,
    },
    ProjectCreated {
        id: String,
        name: String,
        creator: String,
    },
    ProjectDeleted {
        id: String,
    },
    UserAdded {
        id: String,
        email: String,
    },
    UserRemoved {
        id: String,
    },
    /// "token <token> valid until a cascade": issued from `key`.
    TokenIssued {
        token: String,
        key: String,
    },
    /// The token is revoked: never valid again.
    TokenRevoked {
        token: String,
        key: String,
    },
    /// A change with nothing the world follows (a deletion request, a rejection).
    Other,
}

/// A change the child is about to attempt. Creates name what they create; the ID is not known
/// until the change returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Intent {
    CreateKey {
        owner: Owner,
        project: String,
        kind: KeyKind,
        name: String,
    },
    CreateProject {
        name: String,
        creator: String,
    },
    AddUser {
        email: String,
    },
    /// A change whose whole effect is known beforehand.
    Apply {
        event: Event,
    },
}

/// One line of the child's protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
enum Line {
    /// The data directory is open (and locked), after `retries` attempts that met sled's own
    /// lock still held by the parent's console just dropped (see
    /// `a_dropped_console_leaves_the_data_directory_unlocked`).
    Opened {
        retries: u32,
    },
    /// Ready to make changes; the state as the child found it.
    Ready {
        world: World,
    },
    Intent {
        intent: Intent,
    },
    /// `audit`: the action and a string its target must contain.
    Done {
        event: Event,
        audit: Option<(String, String)>,
    },
}

impl World {
    /// The state of a data directory, read through the public record types.
    fn read(console: &Console) -> World {
        let store = console.store();
        let users = store
            .scan::<User>(Table::Users, "")
            .expect("users scan")
            .into_iter()
            .map(|(id, u)| (id, u.email))
            .collect();
        let projects = store
            .scan::<Project>(Table::Projects, "")
            .expect("projects scan")
            .into_iter()
            .map(|(id, p)| (id, p.name))
            .collect();
        let members = store
            .scan::<Membership>(Table::Members, "")
            .expect("members scan")
            .into_iter()
            .map(|(_, m)| (m.project_id, m.user_id))
            .collect();
        let sas = store
            .scan::<ServiceAccount>(Table::ServiceAccounts, "")
            .expect("service accounts scan")
            .into_iter()
            .map(|(_, sa)| (sa.id(), sa.status == SaStatus::Active))
            .collect();
        let keys = store
            .scan::<AccessKey>(Table::Keys, "")
            .expect("keys scan")
            .into_iter()
            .map(|(id, k)| {
                let rec = KeyRec {
                    owner: k.owner,
                    project: k.project_id,
                    kind: k.kind,
                    name: k.name,
                    active: k.status == KeyStatus::Active,
                };
                (id, rec)
            })
            .collect();
        World {
            users,
            projects,
            members,
            sas,
            keys,
        }
    }

    /// Applies a reported change with the cascades of console.md §2.
    fn apply(&mut self, event: &Event) {
        match event {
            Event::KeyCreated {
                id,
                owner,
                project,
                kind,
                name,
            } => {
                let rec = KeyRec {
                    owner: owner.clone(),
                    project: project.clone(),
                    kind: *kind,
                    name: name.clone(),
                    active: true,
                };
                self.keys.insert(id.clone(), rec);
            }
            Event::KeyDeleted { id } => {
                self.keys.remove(id);
            }
            Event::SaCreated { id } => {
                self.sas.insert(id.clone(), true);
            }
            Event::SaStatus { id, active } => {
                if let Some(status) = self.sas.get_mut(id) {
                    *status = *active;
                    if !active {
                        self.expire(|k| k.owner == Owner::ServiceAccount(id.clone()));
                    }
                }
            }
            Event::SaDeleted { id } => {
                self.sas.remove(id);
                self.keys
                    .retain(|_, k| k.owner != Owner::ServiceAccount(id.clone()));
            }
            Event::MemberAdded { project, user } => {
                self.members.insert((project.clone(), user.clone()));
            }
            Event::MemberRemoved { project, user } => {
                self.members.remove(&(project.clone(), user.clone()));
                self.expire(|k| &k.project == project && k.owner == Owner::User(user.clone()));
            }
            Event::ProjectCreated { id, name, creator } => {
                self.projects.insert(id.clone(), name.clone());
                self.members.insert((id.clone(), creator.clone()));
            }
            Event::ProjectDeleted { id } => {
                self.projects.remove(id);
                self.members.retain(|(p, _)| p != id);
                self.sas.retain(|sa, _| sa_project(sa) != *id);
                self.keys.retain(|_, k| &k.project != id);
            }
            Event::UserAdded { id, email } => {
                self.users.insert(id.clone(), email.clone());
            }
            Event::UserRemoved { id } => {
                self.users.remove(id);
                self.members.retain(|(_, u)| u != id);
                self.keys.retain(|_, k| k.owner != Owner::User(id.clone()));
            }
            Event::TokenIssued { .. } | Event::TokenRevoked { .. } | Event::Other => {}
        }
    }

    fn expire(&mut self, which: impl Fn(&KeyRec) -> bool) {
        for key in self.keys.values_mut() {
            if which(key) {
                key.active = false;
            }
        }
    }

    /// This state with `intent` carried out, as far as `seen` (the state found on disk) shows
    /// it: a create is matched to the one new record it would have made. `None` when `seen` has
    /// no such record.
    fn with_intent(&self, intent: &Intent, seen: &World) -> Option<World> {
        let event = match intent {
            Intent::Apply { event } => event.clone(),
            Intent::CreateKey {
                owner,
                project,
                kind,
                name,
            } => {
                let (id, _) = seen.keys.iter().find(|(id, k)| {
                    !self.keys.contains_key(*id)
                        && &k.owner == owner
                        && &k.project == project
                        && k.kind == *kind
                        && &k.name == name
                })?;
                Event::KeyCreated {
                    id: id.clone(),
                    owner: owner.clone(),
                    project: project.clone(),
                    kind: *kind,
                    name: name.clone(),
                }
            }
            Intent::CreateProject { name, creator } => {
                let (id, _) = seen
                    .projects
                    .iter()
                    .find(|(id, n)| !self.projects.contains_key(*id) && *n == name)?;
                Event::ProjectCreated {
                    id: id.clone(),
                    name: name.clone(),
                    creator: creator.clone(),
                }
            }
            Intent::AddUser { email } => {
                let (id, _) = seen
                    .users
                    .iter()
                    .find(|(id, e)| !self.users.contains_key(*id) && *e == email)?;
                Event::UserAdded {
                    id: id.clone(),
                    email: email.clone(),
                }
            }
        };
        let mut world = self.clone();
        world.apply(&event);
        Some(world)
    }

    /// Whether a token issued from `key_id` must be valid in this state.
    fn token_valid(&self, key_id: &str) -> bool {
        let Some(key) = self.keys.get(key_id) else {
            return false;
        };
        if !key.active || key.kind != KeyKind::Iam || !self.projects.contains_key(&key.project) {
            return false;
        }
        match &key.owner {
            Owner::User(uid) => {
                self.users.contains_key(uid) && self.members.contains(&(key.project.clone(), uid.clone()))
            }
            Owner::ServiceAccount(sa) => self.sas.get(sa) == Some(&true),
        }
    }

    /// A readable account of how `self` (expected) and `other` (found) differ.
    fn diff(&self, other: &World) -> String {
        fn part<K: Ord + std::fmt::Debug + Clone, V: PartialEq + std::fmt::Debug>(
            out: &mut Vec<String>,
            what: &str,
            expected: &BTreeMap<K, V>,
            found: &BTreeMap<K, V>,
        ) {
            for (k, v) in expected {
                match found.get(k) {
                    None => out.push(format!("{what} {k:?} expected but missing: {v:?}")),
                    Some(f) if f != v => out.push(format!("{what} {k:?}: expected {v:?}, found {f:?}")),
                    _ => {}
                }
            }
            for (k, v) in found {
                if !expected.contains_key(k) {
                    out.push(format!("{what} {k:?} found but not expected: {v:?}"));
                }
            }
        }
        let mut out = Vec::new();
        part(&mut out, "user", &self.users, &other.users);
        part(&mut out, "project", &self.projects, &other.projects);
        let as_map =
            |s: &BTreeSet<(String, String)>| s.iter().map(|m| (m.clone(), ())).collect::<BTreeMap<_, _>>();
        part(
            &mut out,
            "membership",
            &as_map(&self.members),
            &as_map(&other.members),
        );
        part(&mut out, "service account", &self.sas, &other.sas);
        part(&mut out, "key", &self.keys, &other.keys);
        out.join("\n")
    }
}

fn sa_project(sa_id: &str) -> String {
    parse_sa_id(sa_id).map(|(_, p)| p).unwrap_or_default()
}

fn owner_actor(console: &Console) -> Actor {
    let org = console.organization().expect("the organization");
    Console::actor_for(&console.user_by_id(&org.owner_id).expect("the owner"))
}

// ---------------------------------------------------------------------------------------------
// Invariants (console.md §1–§2), read from the records themselves
// ---------------------------------------------------------------------------------------------

/// Every violated invariant, one line each.
fn invariant_violations(console: &Console) -> Vec<String> {
    let store = console.store();
    let mut bad = Vec::new();
    let users: BTreeMap<String, User> = store.scan(Table::Users, "").expect("users").into_iter().collect();
    let projects: BTreeMap<String, Project> = store
        .scan(Table::Projects, "")
        .expect("projects")
        .into_iter()
        .collect();
    let members: Vec<(String, Membership)> = store.scan(Table::Members, "").expect("members");
    let sas: Vec<(String, ServiceAccount)> = store.scan(Table::ServiceAccounts, "").expect("sas");
    let keys: BTreeMap<String, AccessKey> = store.scan(Table::Keys, "").expect("keys").into_iter().collect();
    let names: Vec<(String, String)> = store.scan(Table::ProjectNames, "").expect("project names");
    let emails: Vec<(String, String)> = store.scan(Table::Emails, "").expect("emails");
    let index: Vec<(String, Vec<String>)> = store.scan(Table::KeyIndex, "").expect("key index");

    // The organization and its projects.
    match console.organization() {
        // Killed before the organization was created: nothing else may exist either.
        Err(Error::NotFound(_)) => {
            if !users.is_empty() || !projects.is_empty() {
                bad.push("users or projects exist without an organization".into());
            }
        }
        Err(e) => bad.push(format!("the organization cannot be read: {e:?}")),
        Ok(org) => {
            if org.project_ids.len() > MAX_PROJECTS {
                bad.push(format!("the organization has {} projects", org.project_ids.len()));
            }
            let listed: BTreeSet<&String> = org.project_ids.iter().collect();
            let stored: BTreeSet<&String> = projects.keys().collect();
            if listed != stored || listed.len() != org.project_ids.len() {
                bad.push(format!(
                    "the organization lists projects {listed:?} but the records are {stored:?}"
                ));
            }
            if let Some(default) = &org.default_project {
                if !projects.contains_key(default) {
                    bad.push(format!("the default project {default} does not exist"));
                }
            }
            if !users.contains_key(&org.owner_id) {
                bad.push("the organization's owner does not exist".into());
            }
        }
    }
    if projects.len() > MAX_PROJECTS {
        bad.push(format!("{} project records", projects.len()));
    }
    for (name, id) in &names {
        if projects.get(id).map(|p| &p.name) != Some(name) {
            bad.push(format!(
                "the project name {name} points at {id}, which is not that project"
            ));
        }
    }
    if names.len() != projects.len() {
        bad.push(format!(
            "{} project names for {} projects",
            names.len(),
            projects.len()
        ));
    }
    for (id, p) in &projects {
        if &p.id != id {
            bad.push(format!("project record {id} holds ID {}", p.id));
        }
        let stored: BTreeSet<&String> = sas
            .iter()
            .filter(|(_, s)| &s.project_id == id)
            .map(|(_, s)| &s.name)
            .collect();
        let listed: BTreeSet<&String> = p.service_accounts.iter().collect();
        if stored != listed {
            bad.push(format!(
                "project {} lists service accounts {listed:?} but has {stored:?}",
                p.name
            ));
        }
        if stored.len() > MAX_SAS {
            bad.push(format!(
                "project {} has {} service accounts",
                p.name,
                stored.len()
            ));
        }
    }

    // Users and memberships.
    for (key, uid) in &emails {
        match users.get(uid) {
            Some(u) if u.email.to_lowercase() == *key => {}
            _ => bad.push(format!(
                "the email index {key} points at {uid}, which is not that user"
            )),
        }
    }
    if emails.len() != users.len() {
        bad.push(format!("{} emails for {} users", emails.len(), users.len()));
    }
    let member_set: BTreeSet<(String, String)> = members
        .iter()
        .map(|(_, m)| (m.project_id.clone(), m.user_id.clone()))
        .collect();
    for (key, m) in &members {
        if *key != format!("{}/{}", m.project_id, m.user_id) {
            bad.push(format!(
                "membership record {key} holds {}/{}",
                m.project_id, m.user_id
            ));
        }
        if !projects.contains_key(&m.project_id) {
            bad.push(format!("membership {key} of a project that does not exist"));
        }
        if !users.contains_key(&m.user_id) {
            bad.push(format!("membership {key} of a user who does not exist"));
        }
    }

    // Service accounts.
    let sa_status: BTreeMap<String, SaStatus> = sas.iter().map(|(_, s)| (s.id(), s.status)).collect();
    for (key, sa) in &sas {
        if *key != format!("{}/{}", sa.project_id, sa.name) {
            bad.push(format!("service account record {key} holds {}", sa.id()));
        }
        if !projects.contains_key(&sa.project_id) {
            bad.push(format!(
                "service account {} of a project that does not exist",
                sa.id()
            ));
        }
    }

    // Keys: owner and project exist, cascades applied, limits held.
    let mut per_owner: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for (id, key) in &keys {
        if &key.id != id {
            bad.push(format!("key record {id} holds ID {}", key.id));
        }
        if !projects.contains_key(&key.project_id) {
            bad.push(format!(
                "key {id} ({:?}) of a project that does not exist",
                key.name
            ));
        }
        match &key.owner {
            Owner::User(uid) => {
                if !users.contains_key(uid) {
                    bad.push(format!("key {id} of user {uid}, who does not exist"));
                }
                let member = member_set.contains(&(key.project_id.clone(), uid.clone()));
                if !member && key.status != KeyStatus::Expired {
                    bad.push(format!(
                        "key {id} of user {uid} is {:?} although they are not a member of its project",
                        key.status
                    ));
                }
            }
            Owner::ServiceAccount(sa) => {
                match sa_status.get(sa) {
                    None => bad.push(format!("key {id} of service account {sa}, which does not exist")),
                    Some(SaStatus::Inactive) if key.status != KeyStatus::Expired => bad.push(format!(
                        "key {id} of inactive service account {sa} is {:?}",
                        key.status
                    )),
                    _ => {}
                }
                if sa_project(sa) != key.project_id || key.kind != KeyKind::Iam {
                    bad.push(format!(
                        "key {id} of service account {sa} is a {:?} key of project {}",
                        key.kind, key.project_id
                    ));
                }
            }
        }
        *per_owner
            .entry((
                key.owner.id().to_string(),
                key.project_id.clone(),
                format!("{:?}", key.kind),
            ))
            .or_default() += 1;
    }
    for ((owner, project, kind), n) in &per_owner {
        let max = if owner.ends_with("kc.serviceaccount.com") {
            MAX_SA_KEYS
        } else {
            MAX_USER_KEYS
        };
        if *n > max {
            bad.push(format!(
                "{owner} has {n} {kind} keys in project {project}; the limit is {max}"
            ));
        }
    }
    // The key index, against which the limits are checked, matches the keys exactly.
    let mut indexed: BTreeSet<&String> = BTreeSet::new();
    for (name, ids) in &index {
        for id in ids {
            match keys.get(id) {
                None => bad.push(format!("the key index {name} lists {id}, which does not exist")),
                Some(key) => {
                    let kind = if key.kind == KeyKind::Iam { "iam" } else { "s3" };
                    let expected = format!("{}/{}/{kind}", key.owner.id(), key.project_id);
                    if *name != expected {
                        bad.push(format!("key {id} is indexed under {name}, not {expected}"));
                    }
                }
            }
            if !indexed.insert(id) {
                bad.push(format!("key {id} is indexed twice"));
            }
        }
    }
    for id in keys.keys() {
        if !indexed.contains(id) {
            bad.push(format!("key {id} is in no index"));
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------------
// The child: changes through the model, reported line by line
// ---------------------------------------------------------------------------------------------

fn emit(line: &Line) {
    let text = serde_json::to_string(line).expect("protocol lines serialize");
    let mut out = std::io::stdout().lock();
    // The parent is gone when its end of the pipe is: nothing left to do.
    if writeln!(out, "{MARK}{text}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

struct Writer {
    console: Console,
    world: World,
    rng: ChaCha8Rng,
    owner: Actor,
    owner_id: String,
    run: u64,
    counter: u64,
    /// Secrets of the IAM keys this child created, for issuing tokens.
    secrets: Vec<(String, String)>,
    /// Tokens this child issued, with their keys.
    tokens: Vec<(String, String)>,
}

fn pick<T>(rng: &mut ChaCha8Rng, items: impl IntoIterator<Item = T>) -> Option<T> {
    let mut all: Vec<T> = items.into_iter().collect();
    if all.is_empty() {
        None
    } else {
        Some(all.swap_remove(rng.gen_range(0..all.len())))
    }
}

/// A refusal is an answer; a storage failure or a bug is not.
fn refused<T>(result: &Result<T, Error>) -> bool {
    match result {
        Ok(_) => false,
        Err(Error::Storage(m)) | Err(Error::Internal(m)) => panic!("the model failed: {m}"),
        Err(_) => true,
    }
}

impl Writer {
    fn fresh_name(&mut self, prefix: char) -> String {
        self.counter += 1;
        format!("{prefix}{}x{}", self.run, self.counter)
    }

    fn actor(&self, user_id: &str) -> Option<Actor> {
        self.console
            .user_by_id(user_id)
            .ok()
            .map(|u| Console::actor_for(&u))
    }

    fn email(&self, user_id: &str) -> String {
        self.world.users.get(user_id).cloned().unwrap_or_default()
    }

    fn intent(&self, intent: Intent) {
        emit(&Line::Intent { intent });
    }

    fn done(&mut self, event: Event, action: &str, needle: &str) {
        self.world.apply(&event);
        let audit = Some((action.to_string(), needle.to_string()));
        emit(&Line::Done { event, audit });
    }

    fn apply_intent(&self, event: &Event) {
        self.intent(Intent::Apply { event: event.clone() });
    }

    fn run_forever(mut self) {
        let started = Instant::now();
        while started.elapsed() < CHILD_LIFETIME {
            match self.rng.gen_range(0..100) {
                0..=16 => self.create_user_key(),
                17..=24 => self.delete_user_key(),
                25..=33 => self.create_sa(),
                34..=45 => self.create_sa_key(),
                46..=51 => self.delete_sa_key(),
                52..=59 => self.set_sa_status(),
                60..=63 => self.delete_sa(),
                64..=68 => self.remove_member(),
                69..=74 => self.add_member(),
                75..=82 => self.issue_token(),
                83..=85 => self.revoke_token(),
                86..=89 => self.create_project(),
                90..=92 => self.delete_project(),
                93..=94 => self.add_user(),
                95..=96 => self.remove_user(),
                _ => self.approve_pending(),
            }
        }
    }

    fn create_user_key(&mut self) {
        let Some((project, uid)) = pick(&mut self.rng, self.world.members.clone()) else {
            return;
        };
        let Some(actor) = self.actor(&uid) else { return };
        let kind = if self.rng.gen_bool(0.5) {
            KeyKind::Iam
        } else {
            KeyKind::S3
        };
        let name = self.fresh_name('k');
        self.intent(Intent::CreateKey {
            owner: Owner::User(uid.clone()),
            project: project.clone(),
            kind,
            name: name.clone(),
        });
        let result = self
            .console
            .create_credential(&actor, kind, &project, &name, "crash test");
        if refused(&result) {
            return;
        }
        let new = result.expect("checked");
        if kind == KeyKind::Iam {
            self.secrets
                .push((new.key.id.clone(), new.secret.expose().to_string()));
        }
        let action = if kind == KeyKind::Iam {
            "credential.iam.create"
        } else {
            "credential.s3.create"
        };
        let event = Event::KeyCreated {
            id: new.key.id.clone(),
            owner: Owner::User(uid),
            project,
            kind,
            name: name.clone(),
        };
        self.done(event, action, &name);
    }

    fn delete_user_key(&mut self) {
        let keys: Vec<(String, KeyRec)> = self
            .world
            .keys
            .iter()
            .filter(|(_, k)| matches!(k.owner, Owner::User(_)))
            .map(|(id, k)| (id.clone(), k.clone()))
            .collect();
        let Some((id, key)) = pick(&mut self.rng, keys) else {
            return;
        };
        let Some(actor) = self.actor(key.owner.id()) else {
            return;
        };
        let event = Event::KeyDeleted { id: id.clone() };
        self.apply_intent(&event);
        if refused(&self.console.delete_credential(&actor, key.kind, &id)) {
            return;
        }
        let action = if key.kind == KeyKind::Iam {
            "credential.iam.delete"
        } else {
            "credential.s3.delete"
        };
        self.done(event, action, &id);
    }

    fn create_sa(&mut self) {
        let Some(project) = pick(&mut self.rng, self.world.projects.keys().cloned()) else {
            return;
        };
        let name = self.fresh_name('s');
        let event = Event::SaCreated {
            id: ServiceAccount::id_for(&name, &project),
        };
        self.apply_intent(&event);
        let result = self
            .console
            .create_service_account(&self.owner, &project, &name, "");
        if refused(&result) {
            return;
        }
        self.done(event, "service_account.create", &name);
    }

    fn create_sa_key(&mut self) {
        let Some(sa) = pick(&mut self.rng, self.world.sas.keys().cloned()) else {
            return;
        };
        let name = self.fresh_name('a');
        self.intent(Intent::CreateKey {
            owner: Owner::ServiceAccount(sa.clone()),
            project: sa_project(&sa),
            kind: KeyKind::Iam,
            name: name.clone(),
        });
        let result = self.console.create_sa_key(&self.owner, &sa, &name, "crash test");
        if refused(&result) {
            return;
        }
        let new = result.expect("checked");
        self.secrets
            .push((new.key.id.clone(), new.secret.expose().to_string()));
        let event = Event::KeyCreated {
            id: new.key.id.clone(),
            owner: Owner::ServiceAccount(sa.clone()),
            project: sa_project(&sa),
            kind: KeyKind::Iam,
            name: name.clone(),
        };
        self.done(event, "sa_key.create", &name);
    }

    fn delete_sa_key(&mut self) {
        let keys: Vec<(String, String)> = self
            .world
            .keys
            .iter()
            .filter_map(|(id, k)| match &k.owner {
                Owner::ServiceAccount(sa) => Some((id.clone(), sa.clone())),
                Owner::User(_) => None,
            })
            .collect();
        let Some((id, sa)) = pick(&mut self.rng, keys) else {
            return;
        };
        let event = Event::KeyDeleted { id: id.clone() };
        self.apply_intent(&event);
        if refused(
            &self
                .console
                .delete_sa_key(&self.owner, &sa, &id, DELETE_KEY_PHRASE),
        ) {
            return;
        }
        self.done(event, "sa_key.delete", &id);
    }

    fn set_sa_status(&mut self) {
        let Some(sa) = pick(&mut self.rng, self.world.sas.keys().cloned()) else {
            return;
        };
        let active = self.rng.gen_bool(0.4);
        let status = if active {
            SaStatus::Active
        } else {
            SaStatus::Inactive
        };
        let event = Event::SaStatus {
            id: sa.clone(),
            active,
        };
        self.apply_intent(&event);
        if refused(&self.console.set_service_account_status(&self.owner, &sa, status)) {
            return;
        }
        let action = if active {
            "service_account.set_active"
        } else {
            "service_account.set_inactive"
        };
        self.done(event, action, &sa);
    }

    fn delete_sa(&mut self) {
        let Some(sa) = pick(&mut self.rng, self.world.sas.keys().cloned()) else {
            return;
        };
        let event = Event::SaDeleted { id: sa.clone() };
        self.apply_intent(&event);
        if refused(
            &self
                .console
                .delete_service_account(&self.owner, &sa, DELETE_SA_PHRASE),
        ) {
            return;
        }
        self.done(event, "service_account.delete", &sa);
    }

    fn remove_member(&mut self) {
        let candidates: Vec<(String, String)> = self
            .world
            .members
            .iter()
            .filter(|(_, u)| *u != self.owner_id)
            .cloned()
            .collect();
        let Some((project, uid)) = pick(&mut self.rng, candidates) else {
            return;
        };
        let email = self.email(&uid);
        let event = Event::MemberRemoved {
            project: project.clone(),
            user: uid,
        };
        self.apply_intent(&event);
        if refused(&self.console.remove_member(&self.owner, &project, &email)) {
            return;
        }
        self.done(event, "member.remove", &email);
    }

    fn add_member(&mut self) {
        let Some(uid) = pick(&mut self.rng, self.world.users.keys().cloned()) else {
            return;
        };
        let Some(project) = pick(&mut self.rng, self.world.projects.keys().cloned()) else {
            return;
        };
        if self.world.members.contains(&(project.clone(), uid.clone())) {
            return;
        }
        let role = *[ProjectRole::Admin, ProjectRole::Member, ProjectRole::Reader]
            .choose(&mut self.rng)
            .expect("three roles");
        let email = self.email(&uid);
        let event = Event::MemberAdded {
            project: project.clone(),
            user: uid,
        };
        self.apply_intent(&event);
        if refused(&self.console.add_member(&self.owner, &project, &email, role)) {
            return;
        }
        self.done(event, "member.add", &email);
    }

    fn issue_token(&mut self) {
        let Some((key, secret)) = pick(&mut self.rng, self.secrets.clone()) else {
            return;
        };
        self.apply_intent(&Event::Other);
        let result = self.console.issue_token(&key, &secret);
        if refused(&result) {
            return;
        }
        let token = result.expect("checked").token.expose().to_string();
        self.tokens.push((token.clone(), key.clone()));
        let event = Event::TokenIssued { token, key };
        // Token issues are audited without a flush: the parent checks their audit events only
        // once a later (flushed) change was reported.
        self.world.apply(&event);
        emit(&Line::Done { event, audit: None });
    }

    fn revoke_token(&mut self) {
        let Some((token, key)) = pick(&mut self.rng, self.tokens.clone()) else {
            return;
        };
        let event = Event::TokenRevoked {
            token: token.clone(),
            key: key.clone(),
        };
        self.apply_intent(&event);
        if refused(&self.console.revoke_token(&self.owner, &token)) {
            return;
        }
        self.done(event, "token.revoke", &key);
    }

    fn create_project(&mut self) {
        let name = self.fresh_name('p');
        self.intent(Intent::CreateProject {
            name: name.clone(),
            creator: self.owner_id.clone(),
        });
        let result = self.console.create_project(&self.owner, &name, "Crash test", "");
        if refused(&result) {
            return;
        }
        let event = Event::ProjectCreated {
            id: result.expect("checked").id,
            name: name.clone(),
            creator: self.owner_id.clone(),
        };
        self.done(event, "project.create", &name);
    }

    /// Request project deletion, then the Help Desk operator approves it: two changes.
    fn delete_project(&mut self) {
        let Some((project, name)) = pick(&mut self.rng, self.world.projects.clone()) else {
            return;
        };
        self.apply_intent(&Event::Other);
        let request =
            self.console
                .request_project_deletion(&self.owner, &project, "Delete it", "", false, None);
        if refused(&request) {
            return;
        }
        let inquiry = request.expect("checked");
        self.done(Event::Other, "project.request_deletion", &name);
        self.approve(&inquiry.id, &project);
    }

    fn approve(&mut self, inquiry: &str, project: &str) {
        let event = Event::ProjectDeleted { id: project.into() };
        self.apply_intent(&event);
        if refused(&self.console.approve_inquiry(
            &kc_console::console::Actor::operator(kc_console::console::Via::Password),
            inquiry,
        )) {
            return;
        }
        self.done(event, "helpdesk.approve", inquiry);
    }

    /// Deletion requests left pending (the demo's, or a child killed between request and
    /// approval) are approved, or rejected when their project is gone.
    fn approve_pending(&mut self) {
        let queue = self
            .console
            .helpdesk_queue(&kc_console::console::Actor::operator(
                kc_console::console::Via::Password,
            ))
            .expect("the Help Desk queue");
        let pending: Vec<(String, String)> = queue
            .into_iter()
            .filter(|i| i.state == InquiryState::Pending && i.detail_type == PROJECT_DELETION)
            .map(|i| (i.id, i.project_id.unwrap_or_default()))
            .collect();
        let Some((inquiry, project)) = pick(&mut self.rng, pending) else {
            return;
        };
        if self.world.projects.contains_key(&project) {
            self.approve(&inquiry, &project);
        } else {
            self.apply_intent(&Event::Other);
            if refused(&self.console.reject_inquiry(
                &kc_console::console::Actor::operator(kc_console::console::Via::Password),
                &inquiry,
            )) {
                return;
            }
            self.done(Event::Other, "helpdesk.reject", &inquiry);
        }
    }

    fn add_user(&mut self) {
        let email = format!("{}@crash.example", self.fresh_name('t'));
        self.intent(Intent::AddUser { email: email.clone() });
        let result = self.console.add_user(&self.owner, &email, "Crash Temp", None);
        if refused(&result) {
            return;
        }
        let (user, _password) = result.expect("checked");
        self.done(
            Event::UserAdded {
                id: user.id,
                email: email.clone(),
            },
            "user.add",
            &email,
        );
    }

    fn remove_user(&mut self) {
        let temps: Vec<(String, String)> = self
            .world
            .users
            .iter()
            .filter(|(_, e)| e.ends_with("@crash.example"))
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        let Some((uid, email)) = pick(&mut self.rng, temps) else {
            return;
        };
        let event = Event::UserRemoved { id: uid };
        self.apply_intent(&event);
        if refused(&self.console.remove_user(&self.owner, &email)) {
            return;
        }
        self.done(event, "user.remove", &email);
    }
}

/// The child process (see the module documentation). Returns at once unless `KC_CRASH_DIR` is
/// set; otherwise it makes changes until it is killed.
#[test]
#[ignore = "the child process of the crash tests; runs only with KC_CRASH_DIR set"]
fn child_writer() {
    let Some(dir) = std::env::var_os("KC_CRASH_DIR") else {
        return;
    };
    let env_u64 = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (seed, run) = (env_u64("KC_CRASH_SEED"), env_u64("KC_CRASH_RUN"));
    let mut retries = 0;
    let console = loop {
        match Console::open(Path::new(&dir), Config::default()) {
            Ok(console) => break console,
            Err(Error::Storage(m)) if m.contains("could not acquire lock") && retries < 500 => {
                retries += 1;
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("the child cannot open the data directory: {e:?}"),
        }
    };
    emit(&Line::Opened { retries });
    if console.is_uninitialized().expect("the organization can be read") {
        console.load_demo().expect("the demo organization loads");
    }
    let world = World::read(&console);
    emit(&Line::Ready { world: world.clone() });
    let owner = owner_actor(&console);
    let owner_id = owner.user_id().expect("the owner is a user").to_string();
    let writer = Writer {
        console,
        world,
        rng: ChaCha8Rng::seed_from_u64(seed),
        owner,
        owner_id,
        run,
        counter: 0,
        secrets: Vec::new(),
        tokens: Vec::new(),
    };
    writer.run_forever();
}

// ---------------------------------------------------------------------------------------------
// The parent: spawn, kill, reopen, check
// ---------------------------------------------------------------------------------------------

struct Running {
    child: Child,
    lines: Receiver<String>,
    stdout: JoinHandle<()>,
    stderr: JoinHandle<String>,
}

fn spawn_child(dir: &Path, seed: u64, run: u64) -> Running {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "child_writer",
            "--nocapture",
            "--ignored",
            "--test-threads=1",
        ])
        .env("KC_CRASH_DIR", dir)
        .env("KC_CRASH_SEED", seed.to_string())
        .env("KC_CRASH_RUN", run.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let (tx, lines) = mpsc::channel();
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let stdout = thread::spawn(move || {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match out.read_until(b'\n', &mut buf) {
                // A line cut short by the kill is no report.
                Ok(0) | Err(_) => break,
                Ok(_) if buf.last() != Some(&b'\n') => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if let Some(at) = line.find(MARK) {
                        if tx.send(line[at + MARK.len()..].trim_end().to_string()).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    });
    let mut err = child.stderr.take().expect("piped stderr");
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    Running {
        child,
        lines,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits for a line matching `want`, keeping every line seen.
    fn wait_for(&mut self, seen: &mut Vec<String>, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(want);
                    seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    let status = self.child.wait();
                    panic!(
                        "the child sent no {want} line within {timeout:?} ({status:?}); its stderr:\n{}",
                        self.stderr_text()
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait();
                    panic!(
                        "the child exited before its {want} line ({status:?}); its stderr:\n{}",
                        self.stderr_text()
                    );
                }
            }
        }
    }

    fn stderr_text(&mut self) -> String {
        let handle = std::mem::replace(&mut self.stderr, thread::spawn(String::new));
        handle.join().unwrap_or_default()
    }

    /// SIGKILL; every complete line the child wrote, in order; how it ended.
    fn kill(mut self, mut seen: Vec<String>) -> (Vec<String>, ExitStatus, String) {
        let _ = self.child.kill();
        let status = self.child.wait().expect("the child is reaped");
        self.stdout.join().expect("the stdout reader");
        seen.extend(self.lines.try_iter());
        let stderr = self.stderr.join().unwrap_or_default();
        (seen, status, stderr)
    }
}

fn assert_killed(status: ExitStatus, stderr: &str) {
    assert_eq!(
        status.signal(),
        Some(9),
        "the child must have been running until SIGKILL, but it ended with {status:?}; its stderr:\n{stderr}"
    );
}

fn parse(line: &str) -> Line {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("a malformed protocol line ({e}): {line}"))
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Audit events newer than `after`, as the Org Admin owner reads them (newest first).
fn audit_since(console: &Console, owner: &Actor, after: Option<u64>) -> Vec<AuditEvent> {
    let mut limit = 256;
    loop {
        let events = console
            .list_audit(owner, limit)
            .expect("the owner reads the audit log");
        let complete =
            events.len() < limit || after.is_some_and(|seq| events.last().is_some_and(|e| e.seq <= seq));
        if complete {
            return events
                .into_iter()
                .filter(|e| after.is_none_or(|seq| e.seq > seq))
                .collect();
        }
        limit *= 4;
    }
}

/// Every expected (action, needle) has as many "ok" events with that action whose target
/// contains the needle.
fn missing_audit(events: &[AuditEvent], expected: &[(String, String)]) -> Vec<String> {
    let mut wanted: HashMap<(&str, &str), usize> = HashMap::new();
    for (action, needle) in expected {
        *wanted.entry((action, needle)).or_default() += 1;
    }
    let mut missing = Vec::new();
    for ((action, needle), n) in wanted {
        // Token issues are counted into one record per key and window (`count`).
        let found: usize = events
            .iter()
            .filter(|e| !e.refused() && e.action == action && e.target.contains(needle))
            .map(|e| e.count as usize)
            .sum();
        if found < n {
            missing.push(format!(
                "{n} \"ok\" {action} event(s) for {needle}, found {found}"
            ));
        }
    }
    missing.sort();
    missing
}

/// Checks every reported token against the state: valid exactly when its key still stands and
/// it was not revoked.
fn check_tokens<'a>(
    console: &Console,
    world: &World,
    revoked: &HashSet<String>,
    tokens: impl IntoIterator<Item = &'a (String, String)>,
    when: &str,
) {
    for (token, key) in tokens {
        let should = world.token_valid(key) && !revoked.contains(token);
        match console.validate_token(token) {
            Ok(info) => {
                assert!(should, "{when}: a token of key {key} is still valid although its key, service account, membership or project is gone or expired: {:?}", world.keys.get(key));
                assert_eq!(&info.key_id, key, "{when}: a token validates as another key");
            }
            Err(Error::Auth(_)) => {
                assert!(
                    !should,
                    "{when}: a token of key {key} stopped being valid although its key stands: {:?}",
                    world.keys.get(key)
                );
            }
            Err(other) => panic!("{when}: validating a token failed: {other:?}"),
        }
    }
}

#[derive(Default, Debug)]
struct Stats {
    kills: usize,
    killed_before_ready: usize,
    runs_with_changes: usize,
    changes: usize,
    tokens: usize,
    in_flight_landed: usize,
    in_flight_absent: usize,
    /// Child opens that first met sled's lock left by the parent's dropped console.
    opens_delayed: usize,
    open_retries: u32,
    /// Spawn to ready: the first run (which loads the demo organization), then the others
    /// (exec, opening sled and recovering its log, reading the state).
    first_startup: Duration,
    startups: u32,
    startup_total: Duration,
    startup_max: Duration,
}

#[test]
fn sigkill_at_random_moments_loses_nothing_reported_and_breaks_no_invariant() {
    let iterations: usize = env_or("KC_CRASH_ITERATIONS", DEFAULT_ITERATIONS);
    let seed: u64 = env_or("KC_CRASH_SEED", DEFAULT_SEED);
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("data");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stats = Stats::default();
    let mut verified: Option<World> = None;
    let mut tokens: Vec<(String, String)> = Vec::new();
    let mut revoked: HashSet<String> = HashSet::new();
    let mut all_audit: Vec<(String, String)> = Vec::new();
    let mut last_seq: Option<u64> = None;

    for i in 0..iterations {
        let when = format!("kill {} of {iterations} (seed {seed:#x})", i + 1);
        // Mostly kill while changes are being made; sometimes while the child is still
        // starting (opening sled, recovering its log).
        let wait_ready = i == 0 || rng.gen_bool(0.85);
        let delay = Duration::from_millis(rng.gen_range(5..=60));
        let spawned = Instant::now();
        let mut running = spawn_child(&dir, rng.gen(), i as u64);
        let mut seen = Vec::new();
        if wait_ready {
            // The first run loads the demo organization (six argon2 hashes).
            running.wait_for(&mut seen, "\"line\":\"ready\"", Duration::from_secs(120));
            let startup = spawned.elapsed();
            if i == 0 {
                stats.first_startup = startup;
            } else {
                stats.startups += 1;
                stats.startup_total += startup;
                stats.startup_max = stats.startup_max.max(startup);
            }
        }
        thread::sleep(delay);
        let (lines, status, stderr) = running.kill(seen);
        assert_killed(status, &stderr);
        stats.kills += 1;

        // What the child reported, applied to what was last verified.
        let mut expected = verified.clone();
        let mut pending: Option<Intent> = None;
        let mut audit_now: Vec<(String, String)> = Vec::new();
        let mut new_tokens: Vec<(String, String)> = Vec::new();
        let mut token_audit_due: Vec<(String, String)> = Vec::new();
        let mut token_audit_maybe: Vec<(String, String)> = Vec::new();
        let mut ready = false;
        let mut changes = 0;
        for line in &lines {
            match parse(line) {
                Line::Opened { retries } => {
                    stats.open_retries += retries;
                    stats.opens_delayed += usize::from(retries > 0);
                }
                Line::Ready { world } => {
                    ready = true;
                    match &expected {
                        None => expected = Some(world),
                        Some(state) => assert!(
                            *state == world,
                            "{when}: the child found another state than the last one verified:\n{}",
                            state.diff(&world)
                        ),
                    }
                }
                Line::Intent { intent } => pending = Some(intent),
                Line::Done { event, audit } => {
                    pending = None;
                    let state = expected.as_mut().expect("a ready line comes first");
                    state.apply(&event);
                    if let Event::TokenRevoked { token, .. } = &event {
                        revoked.insert(token.clone());
                    }
                    match (&event, audit) {
                        (Event::TokenIssued { token, key }, _) => {
                            new_tokens.push((token.clone(), key.clone()));
                            token_audit_maybe.push(("token.issue".into(), key.clone()));
                        }
                        (_, Some(audit)) => {
                            changes += 1;
                            audit_now.push(audit);
                            // This change was flushed, and with it every earlier token issue.
                            token_audit_due.append(&mut token_audit_maybe);
                        }
                        (_, None) => changes += 1,
                    }
                }
            }
        }
        if !ready {
            stats.killed_before_ready += 1;
        }
        if changes > 0 {
            stats.runs_with_changes += 1;
        }
        stats.changes += changes;
        stats.tokens += new_tokens.len();

        // Reopen: the database opens, and the state is the reported one (the change in flight
        // at the kill either wholly there or wholly absent).
        let console = Console::open(&dir, Config::default())
            .unwrap_or_else(|e| panic!("{when}: the data directory does not open after SIGKILL: {e:?}"));
        let found = World::read(&console);
        let expected = expected.expect("the first run always reaches its ready line");
        if found != expected {
            let landed = pending
                .as_ref()
                .and_then(|intent| expected.with_intent(intent, &found));
            match landed {
                Some(with) if with == found => stats.in_flight_landed += 1,
                _ => panic!(
                    "{when}: after the kill the data differs from what the child reported (in flight: {pending:?}):\n{}",
                    expected.diff(&found)
                ),
            }
        } else if pending.is_some() {
            stats.in_flight_absent += 1;
        }
        let violations = invariant_violations(&console);
        assert!(
            violations.is_empty(),
            "{when}: invariants broken:\n{}",
            violations.join("\n")
        );
        // A revocation in flight at the kill either happened or not.
        if let Some(Intent::Apply {
            event: Event::TokenRevoked { token, key },
        }) = &pending
        {
            if found.token_valid(key) && console.validate_token(token).is_err() {
                revoked.insert(token.clone());
            }
        }

        // Tokens: the new ones, and a sample of the older ones (all of them at the end).
        let older: Vec<(String, String)> = tokens.choose_multiple(&mut rng, 48).cloned().collect();
        check_tokens(
            &console,
            &found,
            &revoked,
            new_tokens.iter().chain(older.iter()),
            &when,
        );
        tokens.extend(new_tokens);

        // Audit: every change reported in this run has its "ok" event among the new ones.
        let owner = owner_actor(&console);
        let events = audit_since(&console, &owner, last_seq);
        let mut due = audit_now.clone();
        due.extend(token_audit_due.iter().cloned());
        let missing = missing_audit(&events, &due);
        assert!(
            missing.is_empty(),
            "{when}: audit events missing:\n{}",
            missing.join("\n")
        );
        if let Some(newest) = events.first() {
            last_seq = Some(newest.seq);
        }
        all_audit.extend(audit_now);
        all_audit.extend(token_audit_due);

        verified = Some(found);
        drop(console);
    }

    // The whole history at the end: every reported change's audit event, every token.
    let console = Console::open(&dir, Config::default()).expect("the data directory opens at the end");
    let world = World::read(&console);
    check_tokens(&console, &world, &revoked, tokens.iter(), "at the end");
    let events = audit_since(&console, &owner_actor(&console), None);
    let missing = missing_audit(&events, &all_audit);
    assert!(
        missing.is_empty(),
        "at the end: audit events missing:\n{}",
        missing.join("\n")
    );
    for event in &events {
        for (token, _) in &tokens {
            assert!(
                !event.target.contains(token.as_str()) && !event.outcome.contains(token.as_str()),
                "an audit event carries a token: {event:?}"
            );
        }
    }
    assert!(
        stats.changes >= iterations,
        "too few changes were made to mean anything: {stats:?}"
    );
    eprintln!(
        "crash: {} SIGKILLs in {:.1?} (seed {seed:#x}); child startup {:.0?} with the demo load, then {:.1?} on average, {:.0?} at most; {stats:?}; at the end {} projects, {} users, {} service accounts, {} keys, {} audit events",
        stats.kills,
        started.elapsed(),
        stats.first_startup,
        stats.startup_total / stats.startups.max(1),
        stats.startup_max,
        world.projects.len(),
        world.users.len(),
        world.sas.len(),
        world.keys.len(),
        events.len()
    );
}

/// A child killed while it holds the data directory leaves no lock behind: while it runs, a
/// second open is refused as "in use"; once it is killed, the next open works.
#[test]
fn a_killed_child_leaves_the_data_directory_unlocked() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("data");
    for round in 0..3u64 {
        let mut running = spawn_child(&dir, 77 + round, 1_000 + round);
        let mut seen = Vec::new();
        // Round 0 is killed while it loads the demo organization; the others while writing.
        let want = if round == 0 {
            "\"line\":\"opened\""
        } else {
            "\"line\":\"ready\""
        };
        running.wait_for(&mut seen, want, Duration::from_secs(120));
        match Console::open(&dir, Config::default()) {
            Err(Error::Storage(message)) => assert!(
                message.contains("in use"),
                "round {round}: a second open while the child runs says why: {message}"
            ),
            Ok(_) => panic!("round {round}: the data directory opened twice at once"),
            Err(other) => panic!("round {round}: a second open failed oddly: {other:?}"),
        }
        if round > 0 {
            thread::sleep(Duration::from_millis(20));
        }
        let (_, status, stderr) = running.kill(seen);
        assert_killed(status, &stderr);
        let console = Console::open(&dir, Config::default())
            .unwrap_or_else(|e| panic!("round {round}: the directory stays locked after SIGKILL: {e:?}"));
        let violations = invariant_violations(&console);
        assert!(
            violations.is_empty(),
            "round {round}: invariants broken:\n{}",
            violations.join("\n")
        );
    }
}

/// Dropping a `Console` must release the data directory: the next open — in this process, or
/// in a process started right after — must work. sled finishes its writes on background threads
/// that keep the database file, and the file's lock, for a moment after the `Console` is gone,
/// while the directory lock (`kc-console.lock`) is already released; an open in that moment
/// fails with "could not acquire lock on …/db/db". Four directories are reopened side by side
/// (sled's I/O threads are shared, which widens the moment); the first failure stops the test.
#[test]
fn a_dropped_console_leaves_the_data_directory_unlocked() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const BUDGET: Duration = Duration::from_secs(15);
    let failed = AtomicBool::new(false);
    let started = Instant::now();
    let outcomes: Vec<Result<usize, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let tmp = tempfile::tempdir().expect("a temporary directory");
                    let dir = tmp.path().join("data");
                    let owner = {
                        let console = Console::open(&dir, Config::default()).expect("a new directory opens");
                        console.load_demo().expect("the demo organization loads");
                        owner_actor(&console)
                    };
                    let mut reopens = 0;
                    while started.elapsed() < BUDGET && !failed.load(Ordering::Relaxed) {
                        reopens += 1;
                        let console = match Console::open(&dir, Config::default()) {
                            Ok(console) => console,
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(format!(
                                    "reopen {reopens} of a data directory, right after the previous Console was dropped, failed: {e:?}"
                                ));
                            }
                        };
                        // A refusal: audited and flushed, like every change.
                        let refused = console.edit_project(&owner, "data-lake", None, None);
                        assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
                        drop(console);
                    }
                    Ok(reopens)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a worker")).collect()
    });
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    let reopens: usize = outcomes.iter().filter_map(|o| o.as_ref().ok()).sum();
    assert!(
        failures.is_empty(),
        "{}\n({} failed reopen(s), {reopens} good ones before, in {:.1?})",
        failures[0],
        failures.len(),
        started.elapsed()
    );
}
