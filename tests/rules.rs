//! Behaviour tests for the rules of console.md §2 ("Rules that must hold everywhere") and the
//! entity facts of §1, exercised through the model (`kc_console::console::Console`).
//!
//! Every refusal is checked with [`refused`]: the error kind, the state of every table before and
//! after (nothing may change), and the newest audit event (`refused: <message>`, by that actor).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kc_console::console::{
    AccessKey, Actor, Config, Console, Error, FixedClock, InquiryDraft, InquiryKind, InquiryState,
    IssuedToken, KeyKind, KeyStatus, Limits, NewKey, OrgRole, PasswordUser, Project, ProjectRole, SaStatus,
    SeededEntropy, ServiceAccount, User,
};
use kc_console::store::Table;
use tempfile::TempDir;

const OWNER_EMAIL: &str = "owner@example.com";
const OWNER_PW: &str = "owner-password-1";
const SA_PHRASE: &str = "Delete service account";
const KEY_PHRASE: &str = "Delete IAM access key";
const SA_DOMAIN: &str = "kc.serviceaccount.com";

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn open_console(dir: &Path, clock: &Arc<FixedClock>, seed: u64) -> Console {
    Console::open(
        dir,
        Config {
            clock: clock.clone(),
            entropy: Arc::new(SeededEntropy::new(seed)),
            limits: Limits::default(),
        },
    )
    .expect("the console opens on a fresh directory")
}

/// Every table except the audit log, as JSON: what "changes nothing" is compared against.
type State = BTreeMap<String, Vec<(String, serde_json::Value)>>;

struct Org {
    dir: TempDir,
    clock: Arc<FixedClock>,
    console: Console,
    owner_user: User,
    owner: Actor,
}

impl Org {
    /// An organization whose owner (Org Admin) has registered a payment method.
    fn new() -> Org {
        let org = Org::without_payment_method();
        org.console
            .add_payment_method(&org.owner, "Visa", "4242", "09/28")
            .expect("the owner registers a card");
        org
    }

    fn without_payment_method() -> Org {
        let dir = TempDir::new().expect("temp dir");
        let clock = Arc::new(FixedClock::new(start_time()));
        let console = open_console(dir.path(), &clock, 7);
        let owner_user = console
            .init_org("Test Org", OWNER_EMAIL, "Owner", OWNER_PW)
            .expect("init_org");
        let owner = Console::actor_for(&owner_user);
        Org {
            dir,
            clock,
            console,
            owner_user,
            owner,
        }
    }

    fn c(&self) -> &Console {
        &self.console
    }

    /// A user added by the owner, with the given org role; returns the user and an actor.
    fn user(&self, email: &str, org_role: Option<OrgRole>) -> (User, Actor) {
        let user = self
            .console
            .add_user_with_password(&self.owner, email, "Some User", org_role, "user-password-1")
            .expect("the owner adds a user");
        let actor = Console::actor_for(&user);
        (user, actor)
    }

    /// A project created by the owner (who thereby becomes its Project Admin).
    fn project(&self, name: &str) -> Project {
        self.console
            .create_project(&self.owner, name, &format!("{name} nickname"), "")
            .expect("the owner creates a project")
    }

    fn member(&self, project: &Project, email: &str, role: ProjectRole) {
        self.console
            .add_member(&self.owner, &project.name, email, role)
            .expect("the owner adds a member");
    }

    /// A service account created by the owner (Project Admin of projects the owner made).
    fn sa(&self, project: &Project, name: &str) -> ServiceAccount {
        self.console
            .create_service_account(&self.owner, &project.name, name, "")
            .expect("the owner creates a service account")
    }

    fn sa_key(&self, sa: &ServiceAccount, name: &str) -> NewKey {
        self.console
            .create_sa_key(&self.owner, &sa.id(), name, "")
            .expect("the owner creates a service account key")
    }

    fn token(&self, key: &NewKey) -> IssuedToken {
        self.console
            .issue_token(&key.key.id, key.secret.expose())
            .expect("a token is issued for a valid key")
    }

    fn token_valid(&self, token: &IssuedToken) -> bool {
        match self.console.validate_token(token.token.expose()) {
            Ok(info) => {
                assert_eq!(info.key_id, token.info.key_id);
                true
            }
            Err(Error::Auth(_)) => false,
            Err(other) => panic!("validating a token failed unexpectedly: {other:?}"),
        }
    }

    fn key_status(&self, key_id: &str) -> Option<KeyStatus> {
        self.console
            .access_key(key_id)
            .expect("reading a key")
            .map(|k| k.status)
    }

    fn state(&self) -> State {
        raw_tables(&self.console, &[Table::Audit])
    }

    fn audit_len(&self) -> usize {
        self.console
            .list_audit(&self.owner, usize::MAX)
            .expect("the owner reads the audit log")
            .len()
    }
}

fn raw_tables(console: &Console, skip: &[Table]) -> State {
    Table::ALL
        .iter()
        .filter(|t| !skip.contains(t))
        .map(|t| {
            let rows = console
                .store()
                .scan::<serde_json::Value>(*t, "")
                .expect("scanning a table");
            (format!("{t:?}"), rows)
        })
        .collect()
}

fn kind(e: &Error) -> &'static str {
    match e {
        Error::Invalid(_) => "Invalid",
        Error::Auth(_) => "Auth",
        Error::Denied(_) => "Denied",
        Error::NotFound(_) => "NotFound",
        Error::Conflict(_) => "Conflict",
        Error::Storage(_) => "Storage",
        Error::Internal(_) => "Internal",
    }
}

/// Runs an attempt that must be refused with an error of `expected` kind; checks that it changed
/// no table and that it is the newest audit event, by `actor`, with outcome `refused: <message>`.
#[track_caller]
fn refused<T: Debug>(
    org: &Org,
    actor: &Actor,
    expected: &str,
    attempt: impl FnOnce(&Console) -> Result<T, Error>,
) -> Error {
    let before = org.state();
    let events_before = org.audit_len();
    let err = match attempt(&org.console) {
        Ok(v) => panic!("expected a refusal ({expected}), but it succeeded: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(kind(&err), expected, "wrong kind of refusal: {err:?}");
    assert!(!err.message().trim().is_empty(), "a refusal must say why");
    assert_eq!(
        org.state(),
        before,
        "the refusal {err:?} changed the stored state"
    );
    let events = org
        .console
        .list_audit(&org.owner, usize::MAX)
        .expect("the owner reads the audit log");
    assert_eq!(
        events.len(),
        events_before + 1,
        "the refusal {err:?} must add exactly one audit event"
    );
    let newest = &events[0];
    assert_eq!(newest.outcome, format!("refused: {}", err.message()));
    assert!(newest.refused());
    assert_eq!(
        newest.actor, actor.label,
        "the refusal is audited under the wrong actor"
    );
    err
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn sa_actor(org: &Org, token: &IssuedToken) -> Actor {
    let info = org
        .console
        .validate_token(token.token.expose())
        .expect("the service account's token is valid");
    assert!(info.from_service_account);
    info.actor()
}

// ---------------------------------------------------------------------------------------------
// §1 Entities: projects
// ---------------------------------------------------------------------------------------------

#[test]
fn project_id_is_32_lowercase_hex_assigned_automatically_and_never_changes() {
    let org = Org::new();
    let projects: Vec<Project> = ["alpha", "beta", "gamma"]
        .iter()
        .map(|n| org.project(n))
        .collect();
    for p in &projects {
        assert!(is_hex32(&p.id), "project ID {:?} is not 32 lowercase hex", p.id);
        assert_eq!(org.c().find_project(&p.name).unwrap().id, p.id);
        assert_eq!(org.c().find_project(&p.id).unwrap().name, p.name);
    }
    let mut ids: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "project IDs must be distinct");

    org.clock.advance(Duration::minutes(5));
    let edited = org
        .c()
        .edit_project(
            &org.owner,
            "alpha",
            Some("Renamed nickname"),
            Some("new description"),
        )
        .unwrap();
    assert_eq!(edited.id, projects[0].id);
    assert_eq!(org.c().find_project("alpha").unwrap().id, projects[0].id);
}

#[test]
fn project_name_is_unique_in_the_organization() {
    let org = Org::new();
    let first = org.project("web-shop");
    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_project(&org.owner, "web-shop", "Another shop", "")
    });
    assert!(err.message().contains("web-shop"), "{err:?}");
    let projects = org.c().list_projects(&org.owner).unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].project.id, first.id);
    assert_eq!(projects[0].project.nickname, "web-shop nickname");
}

#[test]
fn project_name_is_an_identifier() {
    let org = Org::new();
    for bad in [
        "Web-Shop",
        "웹쇼핑몰",
        "web shop",
        "web\u{7}shop",
        "1shop",
        "shop-",
        "",
    ] {
        refused(&org, &org.owner, "Invalid", |c| {
            c.create_project(&org.owner, bad, "nick", "")
        });
    }
    assert!(org.c().list_projects(&org.owner).unwrap().is_empty());
}

#[test]
fn project_name_is_immutable_only_nickname_and_description_can_be_edited() {
    // Rule 9.
    let org = Org::new();
    let p = org
        .c()
        .create_project(&org.owner, "web-shop", "웹 쇼핑몰", "first")
        .unwrap();
    org.clock.advance(Duration::hours(1));

    let edited = org
        .c()
        .edit_project(&org.owner, "web-shop", Some("Web Shop 2"), None)
        .unwrap();
    assert_eq!(
        (edited.id.as_str(), edited.name.as_str(), edited.created_at),
        (p.id.as_str(), "web-shop", p.created_at)
    );
    assert_eq!(
        (edited.nickname.as_str(), edited.description.as_str()),
        ("Web Shop 2", "first")
    );

    let edited = org
        .c()
        .edit_project(&org.owner, &p.id, None, Some("설명 바뀜"))
        .unwrap();
    assert_eq!(edited.name, "web-shop");
    assert_eq!(
        (edited.nickname.as_str(), edited.description.as_str()),
        ("Web Shop 2", "설명 바뀜")
    );

    // A nickname that looks like another project name changes only the nickname.
    org.project("other-shop");
    org.c()
        .edit_project(&org.owner, "web-shop", Some("other-shop"), None)
        .unwrap();
    let stored = org.c().find_project("web-shop").unwrap();
    assert_eq!(
        (stored.id.as_str(), stored.name.as_str()),
        (p.id.as_str(), "web-shop")
    );
    assert_eq!(org.c().find_project("other-shop").unwrap().name, "other-shop");

    // Bad edits change nothing.
    refused(&org, &org.owner, "Invalid", |c| {
        c.edit_project(&org.owner, "web-shop", Some(&"x".repeat(31)), None)
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.edit_project(&org.owner, "web-shop", None, None)
    });
    let stored = org.c().find_project("web-shop").unwrap();
    assert_eq!(stored.name, "web-shop");
    assert_eq!(stored.nickname, "other-shop");
}

#[test]
fn an_organization_holds_at_most_30_projects() {
    let org = Org::new();
    for i in 0..30 {
        org.project(&format!("project-{i:02}"));
    }
    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_project(&org.owner, "project-30", "one too many", "")
    });
    assert!(
        err.message().contains("30"),
        "the message names the limit: {err:?}"
    );
    assert_eq!(org.c().list_projects(&org.owner).unwrap().len(), 30);
}

#[test]
fn a_payment_method_is_required_before_creating_a_project() {
    let org = Org::without_payment_method();
    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_project(&org.owner, "web-shop", "Web shop", "")
    });
    assert!(
        err.message().contains("payment method"),
        "the message names the precondition: {err:?}"
    );
    assert!(org.c().list_projects(&org.owner).unwrap().is_empty());

    org.c()
        .add_payment_method(&org.owner, "Mastercard", "5555", "01/30")
        .unwrap();
    let p = org
        .c()
        .create_project(&org.owner, "web-shop", "Web shop", "")
        .unwrap();
    assert_eq!(org.c().find_project("web-shop").unwrap().id, p.id);
}

#[test]
fn the_default_project_is_one_per_org_set_by_org_admin_and_selected_at_sign_in() {
    let org = Org::new();
    let a = org.project("alpha");
    let b = org.project("beta");
    let defaults = |org: &Org| -> Vec<String> {
        org.c()
            .list_projects(&org.owner)
            .unwrap()
            .into_iter()
            .filter(|v| v.is_default)
            .map(|v| v.project.id)
            .collect()
    };
    assert!(defaults(&org).len() <= 1, "at most one default project");

    org.c().set_default_project(&org.owner, "beta").unwrap();
    assert_eq!(defaults(&org), vec![b.id.clone()]);
    assert_eq!(
        org.c().organization().unwrap().default_project,
        Some(b.id.clone())
    );

    org.c().set_default_project(&org.owner, &a.id).unwrap();
    assert_eq!(defaults(&org), vec![a.id.clone()]);

    // Selected at sign-in when the user is a member of it; otherwise the user's own project.
    let (_, in_both) = org.user("both@example.com", None);
    let (_, only_b) = org.user("only-b@example.com", None);
    org.member(&a, "both@example.com", ProjectRole::Reader);
    org.member(&b, "both@example.com", ProjectRole::Reader);
    org.member(&b, "only-b@example.com", ProjectRole::Member);
    assert_eq!(
        org.c().starting_project(&in_both).unwrap().map(|p| p.id),
        Some(a.id.clone())
    );
    assert_eq!(
        org.c().starting_project(&only_b).unwrap().map(|p| p.id),
        Some(b.id.clone())
    );
    org.c().set_default_project(&org.owner, "beta").unwrap();
    assert_eq!(
        org.c().starting_project(&in_both).unwrap().map(|p| p.id),
        Some(b.id)
    );
}

// ---------------------------------------------------------------------------------------------
// §1 Entities: service accounts, keys, agents, tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn service_account_id_is_name_dash_project_id_at_kc_serviceaccount_com() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let expected = format!("deploy-bot-{}@kc.serviceaccount.com", p.id);
    assert_eq!(sa.id(), expected);
    assert_eq!(sa.status, SaStatus::Active);
    assert_eq!(
        sa.role(),
        ProjectRole::Member,
        "a service account is always Project Member"
    );
    let listed = org.c().list_service_accounts(&org.owner, "web-shop").unwrap();
    assert_eq!(
        listed.iter().map(ServiceAccount::id).collect::<Vec<_>>(),
        vec![expected.clone()]
    );
    assert_eq!(
        org.c().service_account(&org.owner, &expected).unwrap().name,
        "deploy-bot"
    );
}

#[test]
fn service_account_name_is_at_most_30_chars_of_lowercase_letters_digits_and_hyphens() {
    let org = Org::new();
    let p = org.project("web-shop");
    let thirty = format!("a{}", "b".repeat(29));
    let sa = org.sa(&p, &thirty);
    assert_eq!(sa.name.chars().count(), 30);

    let thirty_one = format!("a{}", "b".repeat(30));
    let bad = [
        thirty_one.as_str(),
        "배포봇",
        "deploy-배포",
        "Deploy-bot",
        "DEPLOY",
        "deploy\u{7}bot",
        "deploy\nbot",
        "deploy\u{0}",
        "deploy_bot",
        "deploy bot",
        "1deploy",
        "-deploy",
        "deploy-",
        "",
    ];
    for name in bad {
        refused(&org, &org.owner, "Invalid", |c| {
            c.create_service_account(&org.owner, "web-shop", name, "")
        });
    }
    let names: Vec<String> = org
        .c()
        .list_service_accounts(&org.owner, "web-shop")
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec![thirty]);
}

#[test]
fn a_project_holds_at_most_100_service_accounts_inactive_ones_included_even_when_created_concurrently() {
    // §1 limit and rule 2 (limits are atomic with the write).
    let org = Org::new();
    let p = org.project("web-shop");
    let q = org.project("data-lake");
    for i in 0..92 {
        let sa = org.sa(&p, &format!("sa-{i:03}"));
        if i % 4 == 0 {
            org.c()
                .set_service_account_status(&org.owner, &sa.id(), SaStatus::Inactive)
                .unwrap();
        }
    }
    // 16 concurrent creates race for the last 8 places.
    let results: Vec<Result<ServiceAccount, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let org = &org;
                s.spawn(move || {
                    org.c()
                        .create_service_account(&org.owner, "web-shop", &format!("race-{i:02}"), "")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 8, "exactly the free places are taken: {results:?}");
    for r in &results {
        if let Err(e) = r {
            assert_eq!(kind(e), "Conflict", "{e:?}");
            assert!(e.message().contains("100"), "the message names the limit: {e:?}");
        }
    }
    let listed = org.c().list_service_accounts(&org.owner, "web-shop").unwrap();
    assert_eq!(listed.len(), 100);
    assert!(listed.iter().filter(|s| s.status == SaStatus::Inactive).count() >= 23);

    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_service_account(&org.owner, "web-shop", "one-too-many", "")
    });
    assert!(err.message().contains("100"), "{err:?}");

    // Another project has its own 100; deleting an (inactive) one frees a place.
    org.sa(&q, "elsewhere");
    let inactive = listed.iter().find(|s| s.status == SaStatus::Inactive).unwrap();
    org.c()
        .delete_service_account(&org.owner, &inactive.id(), SA_PHRASE)
        .unwrap();
    org.sa(&p, "one-more");
    assert_eq!(
        org.c()
            .list_service_accounts(&org.owner, "web-shop")
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn a_user_has_at_most_2_iam_and_2_s3_keys_per_project() {
    let org = Org::new();
    let p = org.project("web-shop");
    let q = org.project("data-lake");
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    org.member(&q, "dev@example.com", ProjectRole::Reader);

    let c = org.c();
    let i1 = c
        .create_credential(&dev, KeyKind::Iam, "web-shop", "iam-1", "")
        .unwrap();
    c.create_credential(&dev, KeyKind::Iam, "web-shop", "iam-2", "")
        .unwrap();
    let err = refused(&org, &dev, "Conflict", |c| {
        c.create_credential(&dev, KeyKind::Iam, "web-shop", "iam-3", "")
    });
    assert!(err.message().contains("up to 2"), "{err:?}");

    // S3 keys have their own 2.
    c.create_credential(&dev, KeyKind::S3, "web-shop", "s3-1", "")
        .unwrap();
    c.create_credential(&dev, KeyKind::S3, "web-shop", "s3-2", "")
        .unwrap();
    let err = refused(&org, &dev, "Conflict", |c| {
        c.create_credential(&dev, KeyKind::S3, "web-shop", "s3-3", "")
    });
    assert!(err.message().contains("up to 2"), "{err:?}");

    // Another project has its own 2 of each.
    c.create_credential(&dev, KeyKind::Iam, "data-lake", "iam-q1", "")
        .unwrap();
    c.create_credential(&dev, KeyKind::S3, "data-lake", "s3-q1", "")
        .unwrap();

    let mine = c.list_credentials(&dev, None).unwrap();
    let count = |pid: &str, k: KeyKind| mine.iter().filter(|x| x.project_id == pid && x.kind == k).count();
    assert_eq!((count(&p.id, KeyKind::Iam), count(&p.id, KeyKind::S3)), (2, 2));
    assert_eq!((count(&q.id, KeyKind::Iam), count(&q.id, KeyKind::S3)), (1, 1));

    // Deleting one frees a place.
    c.delete_credential(&dev, KeyKind::Iam, &i1.key.id).unwrap();
    c.create_credential(&dev, KeyKind::Iam, "web-shop", "iam-4", "")
        .unwrap();
}

#[test]
fn a_service_account_has_at_most_2_keys() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let other = org.sa(&p, "other-bot");
    org.sa_key(&sa, "k1");
    org.sa_key(&sa, "k2");
    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_sa_key(&org.owner, &sa.id(), "k3", "")
    });
    assert!(err.message().contains("up to 2"), "{err:?}");
    assert_eq!(org.c().list_sa_keys(&org.owner, &sa.id()).unwrap().len(), 2);
    // The limit is per service account.
    org.sa_key(&other, "k1");
    org.sa_key(&other, "k2");
}

#[test]
fn service_account_key_description_is_at_most_30_chars() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let thirty = "배".repeat(30);
    let k = org
        .c()
        .create_sa_key(&org.owner, &sa.id(), "ok", &thirty)
        .unwrap();
    assert_eq!(k.key.description, thirty);
    let thirty_one = "d".repeat(31);
    let err = refused(&org, &org.owner, "Invalid", |c| {
        c.create_sa_key(&org.owner, &sa.id(), "too-long", &thirty_one)
    });
    assert!(
        err.message().contains("30"),
        "the message names the limit: {err:?}"
    );
    assert_eq!(org.c().list_sa_keys(&org.owner, &sa.id()).unwrap().len(), 1);
}

#[test]
fn keys_have_hex_ids_and_secrets_of_at_least_256_bits_and_tokens_last_12_hours() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let user_key = org
        .c()
        .create_credential(&org.owner, KeyKind::Iam, "web-shop", "mine", "")
        .unwrap();
    let sa_key = org.sa_key(&sa, "ci");
    for k in [&user_key, &sa_key] {
        assert!(is_hex32(&k.key.id), "{:?}", k.key.id);
        let s = k.secret.expose();
        assert!(
            s.len() >= 64 && s.bytes().all(|b| b.is_ascii_graphic()),
            "secret too short or unprintable"
        );
        assert_eq!(k.key.status, KeyStatus::Active);
    }
    assert_ne!(user_key.secret.expose(), sa_key.secret.expose());

    let t = org.token(&user_key);
    assert_eq!(t.info.project_id, p.id);
    assert!(!t.info.from_service_account);
    let st = org.token(&sa_key);
    assert!(st.info.from_service_account);
    assert_eq!(st.info.role, Some(ProjectRole::Member));
    assert!(org.c().issue_token(&user_key.key.id, "not-the-secret").is_err());

    org.clock.advance(Duration::hours(12) - Duration::seconds(1));
    assert!(org.token_valid(&t) && org.token_valid(&st));
    org.clock.advance(Duration::seconds(1));
    assert!(
        !org.token_valid(&t) && !org.token_valid(&st),
        "tokens last 12 hours"
    );
}

#[test]
fn service_agents_appear_only_by_starting_a_service_and_cannot_be_changed_by_hand() {
    let org = Org::new();
    let p = org.project("web-shop");
    let c = org.c();
    assert!(c.list_agents(&org.owner, "web-shop").unwrap().is_empty());

    // Nothing else creates an agent.
    let sa = org.sa(&p, "deploy-bot");
    org.sa_key(&sa, "ci");
    org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    c.create_credential(&org.owner, KeyKind::Iam, "web-shop", "k", "")
        .unwrap();
    assert!(c.list_agents(&org.owner, "web-shop").unwrap().is_empty());

    org.clock.advance(Duration::minutes(1));
    let agent = c
        .enable_service(&org.owner, "web-shop", "kubernetes-engine")
        .unwrap();
    assert_eq!(agent.id(), format!("{}@kubernetes-engine.{SA_DOMAIN}", p.id));
    assert_eq!(agent.status, SaStatus::Active);
    assert_eq!(agent.created_at, start_time() + Duration::minutes(1));
    let agents = c.list_agents(&org.owner, "web-shop").unwrap();
    assert_eq!(agents, vec![agent.clone()]);

    // Agents are not service accounts and cannot be edited or deleted.
    let sas = c.list_service_accounts(&org.owner, "web-shop").unwrap();
    assert!(sas.iter().all(|s| s.id() != agent.id()));
    assert_eq!(sas.len(), 1);
    assert!(c
        .set_service_account_status(&org.owner, &agent.id(), SaStatus::Inactive)
        .is_err());
    assert!(c
        .delete_service_account(&org.owner, &agent.id(), SA_PHRASE)
        .is_err());
    assert!(c.create_sa_key(&org.owner, &agent.id(), "k", "").is_err());
    assert_eq!(
        c.list_agents(&org.owner, "web-shop").unwrap(),
        vec![agent.clone()]
    );

    // Starting the same service again adds nothing; unknown services are refused.
    refused(&org, &org.owner, "Conflict", |c| {
        c.enable_service(&org.owner, "web-shop", "kubernetes-engine")
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.enable_service(&org.owner, "web-shop", "mystery")
    });

    for service in ["data-query", "data-catalog", "hadoop-eco"] {
        let a = c.enable_service(&org.owner, "web-shop", service).unwrap();
        assert_eq!(a.id(), format!("{}@{service}.{SA_DOMAIN}", p.id));
    }
    assert_eq!(c.list_agents(&org.owner, "web-shop").unwrap().len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Rule 1: secrets
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_1_secrets_are_never_stored_logged_or_rendered() {
    let org = Org::new();
    let p = org.project("web-shop");
    let c = org.c();
    let mut secrets: Vec<String> = vec![OWNER_PW.into()];

    let (generated_user, generated_pw) = c
        .add_user(&org.owner, "gen@example.com", "Generated", None)
        .unwrap();
    secrets.push(generated_pw.expose().to_string());
    assert!(!format!("{generated_pw:?}").contains(generated_pw.expose()));
    let chosen_pw = "chosen-password-42";
    let dev = c
        .add_user_with_password(&org.owner, "dev@example.com", "Dev", None, chosen_pw)
        .unwrap();
    secrets.push(chosen_pw.into());
    org.member(&p, "dev@example.com", ProjectRole::Member);
    let dev_actor = Console::actor_for(&dev);

    // Wrong answers are secrets too (they may be a near-miss of the real password).
    let wrong_pw = "wrong-password-typed-99";
    secrets.push(wrong_pw.into());
    assert!(c.sign_in("dev@example.com", wrong_pw).is_err());
    assert!(c.verify_password(&dev_actor, wrong_pw).is_err());
    c.verify_password(&dev_actor, chosen_pw).unwrap();
    let new_pw = "changed-password-77";
    c.change_password(&dev_actor, chosen_pw, new_pw).unwrap();
    secrets.push(new_pw.into());
    c.sign_in("dev@example.com", new_pw).unwrap();

    let iam = c
        .create_credential(&dev_actor, KeyKind::Iam, "web-shop", "iam", "")
        .unwrap();
    let s3 = c
        .create_credential(&dev_actor, KeyKind::S3, "web-shop", "s3", "")
        .unwrap();
    let sa = org.sa(&p, "deploy-bot");
    let sa_key = org.sa_key(&sa, "ci");
    for k in [&iam, &s3, &sa_key] {
        secrets.push(k.secret.expose().to_string());
    }
    let token = org.token(&iam);
    let sa_token = org.token(&sa_key);
    secrets.push(token.token.expose().to_string());
    secrets.push(sa_token.token.expose().to_string());
    let wrong_secret = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";
    secrets.push(wrong_secret.into());
    assert!(c.issue_token(&iam.key.id, wrong_secret).is_err());
    c.revoke_token(&dev_actor, token.token.expose()).unwrap();
    c.delete_sa_key(&org.owner, &sa.id(), &sa_key.key.id, KEY_PHRASE)
        .unwrap();

    // Rendering: Debug of every value that carries or stands next to a secret.
    let listed_keys: Vec<AccessKey> = c.list_credentials(&dev_actor, None).unwrap();
    let users = c.list_users(&org.owner).unwrap();
    let renderings = [
        format!("{iam:?}"),
        format!("{s3:?}"),
        format!("{:?}", iam.key),
        format!("{:?}", iam.secret),
        format!("{:?}", sa_key),
        format!("{token:?}"),
        format!("{sa_token:?}"),
        format!("{listed_keys:?}"),
        format!("{users:?}"),
        format!("{dev:?}"),
        format!("{generated_user:?}"),
        format!("{:?}", org.owner_user),
    ];
    for rendered in &renderings {
        for s in &secrets {
            assert!(
                !rendered.contains(s.as_str()),
                "a secret is rendered by Debug: {rendered}"
            );
        }
        assert!(
            !rendered.contains("argon2"),
            "a password hash is rendered by Debug: {rendered}"
        );
    }

    // Logging: no audit event carries a secret.
    let events = c.list_audit(&org.owner, usize::MAX).unwrap();
    assert!(events.len() > 10);
    for e in &events {
        let rendered = format!("{e:?}");
        for s in &secrets {
            assert!(
                !rendered.contains(s.as_str()),
                "an audit event holds a secret: {rendered}"
            );
        }
    }

    // Storing: no table holds a secret; passwords are kept as argon2id hashes only.
    let raw = raw_tables(c, &[]);
    let dump = serde_json::to_string(&raw).unwrap();
    for s in &secrets {
        assert!(!dump.contains(s.as_str()), "a secret is stored in plain text");
    }
    let users_table = &raw["Users"];
    assert_eq!(users_table.len(), 3);
    for (_, u) in users_table {
        assert!(
            u.to_string().contains("$argon2id$"),
            "a password is not stored as an argon2id hash: {u}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 2: limits are atomic
// ---------------------------------------------------------------------------------------------

fn race<T: Send>(n: usize, f: impl Fn(usize) -> Result<T, Error> + Sync) -> Vec<Result<T, Error>> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..n).map(|i| s.spawn(move || f(i))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn successes<T>(results: &[Result<T, Error>]) -> usize {
    for r in results {
        if let Err(e) = r {
            assert_eq!(
                kind(e),
                "Conflict",
                "a losing racer is refused for the limit: {e:?}"
            );
        }
    }
    results.iter().filter(|r| r.is_ok()).count()
}

#[test]
fn rule_2_concurrent_creates_never_exceed_a_limit() {
    let org = Org::new();
    let p = org.project("web-shop");
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    let c = org.c();

    let iam = race(8, |i| {
        c.create_credential(&dev, KeyKind::Iam, "web-shop", &format!("iam-{i}"), "")
    });
    assert_eq!(successes(&iam), 2, "{iam:?}");
    let s3 = race(8, |i| {
        c.create_credential(&dev, KeyKind::S3, "web-shop", &format!("s3-{i}"), "")
    });
    assert_eq!(successes(&s3), 2, "{s3:?}");
    let mine = c.list_credentials(&dev, None).unwrap();
    assert_eq!(mine.iter().filter(|k| k.kind == KeyKind::Iam).count(), 2);
    assert_eq!(mine.iter().filter(|k| k.kind == KeyKind::S3).count(), 2);

    let sa = org.sa(&p, "deploy-bot");
    let sa_keys = race(8, |i| c.create_sa_key(&org.owner, &sa.id(), &format!("k{i}"), ""));
    assert_eq!(successes(&sa_keys), 2, "{sa_keys:?}");
    assert_eq!(c.list_sa_keys(&org.owner, &sa.id()).unwrap().len(), 2);

    // Projects: 27 exist, 8 racers for the last 3 places.
    for i in 0..26 {
        org.project(&format!("project-{i:02}"));
    }
    let projects = race(8, |i| {
        c.create_project(&org.owner, &format!("race-{i}"), "racer", "")
    });
    assert_eq!(successes(&projects), 3, "{projects:?}");
    assert_eq!(c.list_projects(&org.owner).unwrap().len(), 30);
    assert_eq!(c.organization().unwrap().project_ids.len(), 30);
}

// ---------------------------------------------------------------------------------------------
// Rules 3–5: service-account status, deletion, key deletion
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_3_deactivating_a_service_account_expires_its_keys_and_tokens_and_reactivating_does_not_revive_them() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let control = org.sa(&p, "control-bot");
    let k1 = org.sa_key(&sa, "k1");
    let k2 = org.sa_key(&sa, "k2");
    let ck = org.sa_key(&control, "ck");
    let (t1, t2, ct) = (org.token(&k1), org.token(&k2), org.token(&ck));
    assert!(org.token_valid(&t1) && org.token_valid(&t2) && org.token_valid(&ct));
    let c = org.c();

    let inactive = c
        .set_service_account_status(&org.owner, &sa.id(), SaStatus::Inactive)
        .unwrap();
    assert_eq!(inactive.status, SaStatus::Inactive);
    let keys = c.list_sa_keys(&org.owner, &sa.id()).unwrap();
    assert_eq!(keys.len(), 2, "expired keys stay listed");
    assert!(keys.iter().all(|k| k.status == KeyStatus::Expired), "{keys:?}");
    assert!(
        !org.token_valid(&t1) && !org.token_valid(&t2),
        "tokens die with the deactivation"
    );
    assert!(c.issue_token(&k1.key.id, k1.secret.expose()).is_err());
    assert!(org.token_valid(&ct), "another service account is unaffected");
    assert_eq!(org.key_status(&ck.key.id), Some(KeyStatus::Active));

    let active = c
        .set_service_account_status(&org.owner, &sa.id(), SaStatus::Active)
        .unwrap();
    assert_eq!(active.status, SaStatus::Active);
    assert_eq!(
        c.get_service_account(&sa.id()).unwrap().unwrap().status,
        SaStatus::Active
    );
    let keys = c.list_sa_keys(&org.owner, &sa.id()).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| k.status == KeyStatus::Expired),
        "reactivation revived a key: {keys:?}"
    );
    assert!(
        !org.token_valid(&t1) && !org.token_valid(&t2),
        "reactivation revived a token"
    );
    assert!(c.issue_token(&k1.key.id, k1.secret.expose()).is_err());
    assert!(c.issue_token(&k2.key.id, k2.secret.expose()).is_err());

    // Expired keys still count toward the limit, and can be deleted.
    let err = refused(&org, &org.owner, "Conflict", |c| {
        c.create_sa_key(&org.owner, &sa.id(), "k3", "")
    });
    assert!(err.message().contains("up to 2"), "{err:?}");
    c.delete_sa_key(&org.owner, &sa.id(), &k1.key.id, KEY_PHRASE)
        .unwrap();
    let fresh = org.sa_key(&sa, "k3");
    assert!(org.token_valid(&org.token(&fresh)));
    assert!(!org.token_valid(&t2));
}

#[test]
fn rule_4_deleting_a_service_account_expires_its_keys_and_tokens_and_removes_it() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let control = org.sa(&p, "control-bot");
    let k1 = org.sa_key(&sa, "k1");
    let k2 = org.sa_key(&sa, "k2");
    let ck = org.sa_key(&control, "ck");
    let (t1, t2, ct) = (org.token(&k1), org.token(&k2), org.token(&ck));
    let c = org.c();

    c.delete_service_account(&org.owner, &sa.id(), SA_PHRASE).unwrap();
    assert_eq!(c.get_service_account(&sa.id()).unwrap(), None);
    let names: Vec<String> = c
        .list_service_accounts(&org.owner, "web-shop")
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["control-bot".to_string()]);
    assert!(c.access_key(&k1.key.id).unwrap().is_none() && c.access_key(&k2.key.id).unwrap().is_none());
    assert!(!org.token_valid(&t1) && !org.token_valid(&t2));
    assert!(c.issue_token(&k1.key.id, k1.secret.expose()).is_err());
    assert!(org.token_valid(&ct), "another service account is unaffected");

    // A new service account with the same name starts empty; the old tokens stay dead.
    let again = org.sa(&p, "deploy-bot");
    assert_eq!(again.id(), sa.id());
    assert!(c.list_sa_keys(&org.owner, &again.id()).unwrap().is_empty());
    assert!(!org.token_valid(&t1) && !org.token_valid(&t2));
    assert!(c.issue_token(&k2.key.id, k2.secret.expose()).is_err());
}

#[test]
fn rule_5_deleting_a_user_access_key_expires_every_token_issued_from_it() {
    let org = Org::new();
    org.project("web-shop");
    let c = org.c();
    let k1 = c
        .create_credential(&org.owner, KeyKind::Iam, "web-shop", "k1", "")
        .unwrap();
    let k2 = c
        .create_credential(&org.owner, KeyKind::Iam, "web-shop", "k2", "")
        .unwrap();
    let (t1a, t1b, t2) = (org.token(&k1), org.token(&k1), org.token(&k2));
    assert!(org.token_valid(&t1a) && org.token_valid(&t1b));

    c.delete_credential(&org.owner, KeyKind::Iam, &k1.key.id).unwrap();
    assert!(c.access_key(&k1.key.id).unwrap().is_none());
    assert!(!org.token_valid(&t1a) && !org.token_valid(&t1b));
    assert!(c.issue_token(&k1.key.id, k1.secret.expose()).is_err());
    assert!(org.token_valid(&t2), "a token of another key is unaffected");
}

#[test]
fn rule_5_deleting_a_service_account_key_expires_every_token_issued_from_it() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let k1 = org.sa_key(&sa, "k1");
    let k2 = org.sa_key(&sa, "k2");
    let (t1a, t1b, t2) = (org.token(&k1), org.token(&k1), org.token(&k2));

    org.c()
        .delete_sa_key(&org.owner, &sa.id(), &k1.key.id, KEY_PHRASE)
        .unwrap();
    assert!(!org.token_valid(&t1a) && !org.token_valid(&t1b));
    assert!(org.c().issue_token(&k1.key.id, k1.secret.expose()).is_err());
    assert!(org.token_valid(&t2));
    let left: Vec<String> = org
        .c()
        .list_sa_keys(&org.owner, &sa.id())
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(left, vec![k2.key.id.clone()]);
}

// ---------------------------------------------------------------------------------------------
// Rule 6: removing a member
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_6_removing_a_member_expires_their_keys_for_that_project_and_their_tokens() {
    let org = Org::new();
    let p = org.project("web-shop");
    let q = org.project("data-lake");
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    org.member(&q, "dev@example.com", ProjectRole::Member);
    let c = org.c();
    let p_iam = c
        .create_credential(&dev, KeyKind::Iam, "web-shop", "p-iam", "")
        .unwrap();
    let p_s3 = c
        .create_credential(&dev, KeyKind::S3, "web-shop", "p-s3", "")
        .unwrap();
    let q_iam = c
        .create_credential(&dev, KeyKind::Iam, "data-lake", "q-iam", "")
        .unwrap();
    let owner_key = c
        .create_credential(&org.owner, KeyKind::Iam, "web-shop", "owner", "")
        .unwrap();
    let (p_token, q_token, owner_token) = (org.token(&p_iam), org.token(&q_iam), org.token(&owner_key));

    c.remove_member(&org.owner, "web-shop", "dev@example.com")
        .unwrap();
    assert_eq!(
        c.project_role(&p.id, &org.c().user_by_email("dev@example.com").unwrap().id)
            .unwrap(),
        None
    );
    assert_eq!(org.key_status(&p_iam.key.id), Some(KeyStatus::Expired));
    assert_eq!(org.key_status(&p_s3.key.id), Some(KeyStatus::Expired));
    assert!(
        !org.token_valid(&p_token),
        "a token of the removed member's key still works"
    );
    assert!(c.issue_token(&p_iam.key.id, p_iam.secret.expose()).is_err());
    // Keys in other projects and other members' keys are unaffected.
    assert_eq!(org.key_status(&q_iam.key.id), Some(KeyStatus::Active));
    assert!(org.token_valid(&q_token) && org.token_valid(&owner_token));
    assert_eq!(q.id, q_token.info.project_id);

    // Adding the user back does not revive the invalidated keys or tokens.
    org.member(&p, "dev@example.com", ProjectRole::Member);
    assert_eq!(org.key_status(&p_iam.key.id), Some(KeyStatus::Expired));
    assert_eq!(org.key_status(&p_s3.key.id), Some(KeyStatus::Expired));
    assert!(!org.token_valid(&p_token));
    assert!(c.issue_token(&p_iam.key.id, p_iam.secret.expose()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Rule 7: service-account tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_7_a_service_account_token_can_never_manage_keys_or_service_accounts() {
    let org = Org::new();
    let p = org.project("web-shop");
    let bot = org.sa(&p, "bot");
    let other = org.sa(&p, "other-bot");
    let bot_key = org.sa_key(&bot, "bot-key");
    let other_key = org.sa_key(&other, "other-key");
    let user_key = org
        .c()
        .create_credential(&org.owner, KeyKind::Iam, "web-shop", "owner-key", "")
        .unwrap();
    let sa = sa_actor(&org, &org.token(&bot_key));

    refused(&org, &sa, "Denied", |c| {
        c.create_credential(&sa, KeyKind::Iam, "web-shop", "x", "")
    });
    refused(&org, &sa, "Denied", |c| {
        c.create_credential(&sa, KeyKind::S3, "web-shop", "x", "")
    });
    refused(&org, &sa, "Denied", |c| {
        c.delete_credential(&sa, KeyKind::Iam, &user_key.key.id)
    });
    refused(&org, &sa, "Denied", |c| c.create_sa_key(&sa, &bot.id(), "x", ""));
    refused(&org, &sa, "Denied", |c| {
        c.create_sa_key(&sa, &other.id(), "x", "")
    });
    refused(&org, &sa, "Denied", |c| {
        c.delete_sa_key(&sa, &bot.id(), &bot_key.key.id, KEY_PHRASE)
    });
    refused(&org, &sa, "Denied", |c| {
        c.delete_sa_key(&sa, &other.id(), &other_key.key.id, KEY_PHRASE)
    });
    refused(&org, &sa, "Denied", |c| {
        c.create_service_account(&sa, "web-shop", "spawned", "")
    });
    refused(&org, &sa, "Denied", |c| {
        c.delete_service_account(&sa, &bot.id(), SA_PHRASE)
    });
    refused(&org, &sa, "Denied", |c| {
        c.delete_service_account(&sa, &other.id(), SA_PHRASE)
    });
    for status in [SaStatus::Inactive, SaStatus::Active] {
        refused(&org, &sa, "Denied", |c| {
            c.set_service_account_status(&sa, &bot.id(), status)
        });
        refused(&org, &sa, "Denied", |c| {
            c.set_service_account_status(&sa, &other.id(), status)
        });
    }

    // The refusal is about the service account's token: a Project Admin's own password token
    // may do it. The owner's key token may manage service accounts but not mint keys: a key's
    // token is restricted (Keystone's application credentials), whoever holds it.
    let key_actor = org
        .c()
        .validate_token(org.token(&user_key).token.expose())
        .unwrap()
        .actor();
    let by_key = org
        .c()
        .create_service_account(&key_actor, "web-shop", "by-key", "")
        .unwrap();
    refused(&org, &key_actor, "Denied", |c| {
        c.create_sa_key(&key_actor, &by_key.id(), "k", "")
    });
    let issued = org
        .c()
        .issue_password_token(PasswordUser::Email(OWNER_EMAIL), OWNER_PW, Some("web-shop"))
        .unwrap();
    let admin = org.c().validate_token(issued.token.expose()).unwrap().actor();
    let made = org
        .c()
        .create_service_account(&admin, "web-shop", "by-token", "")
        .unwrap();
    org.c().create_sa_key(&admin, &made.id(), "k", "").unwrap();
    org.c()
        .set_service_account_status(&admin, &made.id(), SaStatus::Inactive)
        .unwrap();
    org.c()
        .delete_service_account(&admin, &made.id(), SA_PHRASE)
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Rule 8 and the Help Desk
// ---------------------------------------------------------------------------------------------

/// A project with members, keys of both kinds, active and inactive service accounts with keys,
/// an agent, and live tokens; plus a second project with its own contents as a control.
struct Populated {
    org: Org,
    p: Project,
    q: Project,
    dev: Actor,
    p_keys: Vec<NewKey>,
    p_tokens: Vec<IssuedToken>,
    p_sas: Vec<ServiceAccount>,
    q_key: NewKey,
    q_tokens: Vec<IssuedToken>,
    q_sa: ServiceAccount,
}

fn populated() -> Populated {
    let org = Org::new();
    let p = org.project("doomed");
    let q = org.project("survivor");
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    org.member(&q, "dev@example.com", ProjectRole::Member);
    let c = org.c();
    c.set_default_project(&org.owner, "doomed").unwrap();
    let dev_iam = c
        .create_credential(&dev, KeyKind::Iam, "doomed", "dev-iam", "")
        .unwrap();
    let dev_s3 = c
        .create_credential(&dev, KeyKind::S3, "doomed", "dev-s3", "")
        .unwrap();
    let owner_iam = c
        .create_credential(&org.owner, KeyKind::Iam, "doomed", "own-iam", "")
        .unwrap();
    let sa = org.sa(&p, "deploy-bot");
    let sleeping = org.sa(&p, "sleeping-bot");
    let sa_key = org.sa_key(&sa, "ci");
    let sleeping_key = org.sa_key(&sleeping, "old");
    c.set_service_account_status(&org.owner, &sleeping.id(), SaStatus::Inactive)
        .unwrap();
    c.enable_service(&dev, "doomed", "kubernetes-engine").unwrap();
    let p_tokens = vec![org.token(&dev_iam), org.token(&owner_iam), org.token(&sa_key)];

    let q_key = c
        .create_credential(&dev, KeyKind::Iam, "survivor", "dev-q", "")
        .unwrap();
    let q_sa = org.sa(&q, "etl-runner");
    let q_sa_key = org.sa_key(&q_sa, "etl");
    c.enable_service(&dev, "survivor", "data-query").unwrap();
    let q_tokens = vec![org.token(&q_key), org.token(&q_sa_key)];
    Populated {
        p_keys: vec![dev_iam, dev_s3, owner_iam, sa_key, sleeping_key],
        p_sas: vec![sa, sleeping],
        org,
        p,
        q,
        dev,
        p_tokens,
        q_key,
        q_tokens,
        q_sa,
    }
}

fn request_deletion(org: &Org, project: &str) -> String {
    let inquiry = org
        .c()
        .request_project_deletion(&org.owner, project, "Delete it", "no longer needed", false, None)
        .unwrap();
    assert_eq!(inquiry.kind, InquiryKind::Technical);
    assert_eq!(inquiry.detail_type, "Project deletion");
    assert_eq!(inquiry.project_name.as_deref(), Some(project));
    assert_eq!(inquiry.state, InquiryState::Pending);
    inquiry.id
}

/// Every record outside the audit log and the Help Desk's inquiries that mentions `needle`.
fn records_mentioning(console: &Console, needle: &str) -> Vec<String> {
    raw_tables(console, &[Table::Audit, Table::Inquiries])
        .into_iter()
        .flat_map(|(table, rows)| {
            rows.into_iter()
                .filter(|(k, v)| k.contains(needle) || v.to_string().contains(needle))
                .map(move |(k, v)| format!("{table}/{k}: {v}"))
        })
        .collect()
}

#[test]
fn rule_8_approving_a_project_deletion_request_deletes_everything_in_it() {
    let w = populated();
    let (org, c) = (&w.org, w.org.c());
    let inquiry = request_deletion(org, "doomed");
    // Nothing happens before the Help Desk approves.
    assert!(c.find_project("doomed").is_ok());
    assert!(w.p_tokens.iter().all(|t| org.token_valid(t)));

    let approved = c
        .approve_inquiry(
            &kc_console::console::Actor::operator(kc_console::console::Via::Password),
            &inquiry,
        )
        .unwrap();
    assert_eq!(approved.state, InquiryState::Approved);

    assert!(matches!(c.find_project("doomed"), Err(Error::NotFound(_))));
    assert!(matches!(c.find_project(&w.p.id), Err(Error::NotFound(_))));
    assert!(c
        .list_projects(&org.owner)
        .unwrap()
        .iter()
        .all(|v| v.project.id != w.p.id));
    assert!(!c.project_names().unwrap().contains_key(&w.p.id));
    let dev_id = c.user_by_email("dev@example.com").unwrap().id;
    assert_eq!(c.project_role(&w.p.id, &dev_id).unwrap(), None);
    assert_eq!(c.project_role(&w.p.id, &org.owner_user.id).unwrap(), None);
    for k in &w.p_keys {
        assert!(
            c.access_key(&k.key.id).unwrap().is_none(),
            "key {} survived",
            k.key.name
        );
        assert!(c.issue_token(&k.key.id, k.secret.expose()).is_err());
    }
    assert!(c
        .list_credentials(&w.dev, None)
        .unwrap()
        .iter()
        .all(|k| k.project_id != w.p.id));
    for sa in &w.p_sas {
        assert_eq!(c.get_service_account(&sa.id()).unwrap(), None);
    }
    for t in &w.p_tokens {
        assert!(!org.token_valid(t), "a token of the deleted project still works");
    }
    assert_ne!(c.organization().unwrap().default_project, Some(w.p.id.clone()));
    assert!(!c.organization().unwrap().project_ids.contains(&w.p.id));
    let leftovers = records_mentioning(c, &w.p.id);
    assert!(
        leftovers.is_empty(),
        "records of the deleted project survive: {leftovers:#?}"
    );

    // The other project is untouched.
    assert_eq!(org.key_status(&w.q_key.key.id), Some(KeyStatus::Active));
    assert!(w.q_tokens.iter().all(|t| org.token_valid(t)));
    assert!(c.get_service_account(&w.q_sa.id()).unwrap().is_some());
    assert_eq!(c.list_agents(&org.owner, "survivor").unwrap().len(), 1);
    assert_eq!(c.find_project("survivor").unwrap().id, w.q.id);

    // Nothing can be recovered: a new project with the same name is a different, empty project.
    org.clock.advance(Duration::minutes(1));
    let reborn = org.project("doomed");
    assert_ne!(reborn.id, w.p.id);
    assert!(c.list_service_accounts(&org.owner, "doomed").unwrap().is_empty());
    assert!(c.list_agents(&org.owner, "doomed").unwrap().is_empty());
    let members = c.list_members(&org.owner, "doomed").unwrap();
    assert_eq!(members.len(), 1, "only the creator: {members:?}");
    assert!(w.p_tokens.iter().all(|t| !org.token_valid(t)));
    assert!(!c
        .list_projects(&w.dev)
        .unwrap()
        .iter()
        .any(|v| v.project.name == "doomed"));

    // Approving again is refused.
    refused(
        org,
        &Actor::operator(kc_console::console::Via::Password),
        "Conflict",
        |c| {
            c.approve_inquiry(
                &kc_console::console::Actor::operator(kc_console::console::Via::Password),
                &inquiry,
            )
        },
    );
}

#[test]
fn rule_8_project_deletion_also_deletes_the_expired_keys_of_former_members() {
    let org = Org::new();
    let p = org.project("doomed");
    org.project("survivor");
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    let c = org.c();
    let iam = c
        .create_credential(&dev, KeyKind::Iam, "doomed", "dev-iam", "")
        .unwrap();
    let s3 = c
        .create_credential(&dev, KeyKind::S3, "doomed", "dev-s3", "")
        .unwrap();
    c.remove_member(&org.owner, "doomed", "dev@example.com").unwrap();
    assert_eq!(org.key_status(&iam.key.id), Some(KeyStatus::Expired));

    let inquiry = request_deletion(&org, "doomed");
    c.approve_inquiry(
        &kc_console::console::Actor::operator(kc_console::console::Via::Password),
        &inquiry,
    )
    .unwrap();
    assert!(c.find_project("doomed").is_err());
    let left: Vec<String> = c
        .list_credentials(&dev, None)
        .unwrap()
        .into_iter()
        .filter(|k| k.project_id == p.id)
        .map(|k| k.name)
        .collect();
    assert!(
        left.is_empty(),
        "keys in the deleted project are still listed in the former member's Credentials: {left:?}"
    );
    assert!(c.access_key(&iam.key.id).unwrap().is_none());
    assert!(c.access_key(&s3.key.id).unwrap().is_none());
    let leftovers = records_mentioning(c, &p.id);
    assert!(
        leftovers.is_empty(),
        "records of the deleted project survive: {leftovers:#?}"
    );
}

#[test]
fn help_desk_rejecting_a_deletion_request_leaves_the_project_as_it_was() {
    let w = populated();
    let (org, c) = (&w.org, w.org.c());
    let inquiry = request_deletion(org, "doomed");
    let before = raw_tables(c, &[Table::Audit, Table::Inquiries]);

    let rejected = c
        .reject_inquiry(
            &kc_console::console::Actor::operator(kc_console::console::Via::Password),
            &inquiry,
        )
        .unwrap();
    assert_eq!(rejected.state, InquiryState::Rejected);
    assert_eq!(raw_tables(c, &[Table::Audit, Table::Inquiries]), before);
    assert_eq!(c.find_project("doomed").unwrap().id, w.p.id);
    assert!(w.p_tokens.iter().all(|t| org.token_valid(t)));
    assert_eq!(c.list_service_accounts(&org.owner, "doomed").unwrap().len(), 2);
    assert_eq!(c.list_agents(&org.owner, "doomed").unwrap().len(), 1);
    assert_eq!(c.list_members(&org.owner, "doomed").unwrap().len(), 2);
    let listed = c.list_inquiries(&org.owner).unwrap();
    assert_eq!(
        listed.iter().find(|i| i.id == inquiry).unwrap().state,
        InquiryState::Rejected
    );

    // A rejected request cannot be approved later.
    refused(
        org,
        &Actor::operator(kc_console::console::Via::Password),
        "Conflict",
        |c| {
            c.approve_inquiry(
                &kc_console::console::Actor::operator(kc_console::console::Via::Password),
                &inquiry,
            )
        },
    );
    assert_eq!(c.find_project("doomed").unwrap().id, w.p.id);
    assert!(w.p_tokens.iter().all(|t| org.token_valid(t)));
}

// ---------------------------------------------------------------------------------------------
// Rule 10: password re-verification lockout
// ---------------------------------------------------------------------------------------------

fn assert_locked(org: &Org, console: &Console) {
    match console.verify_password(&org.owner, OWNER_PW) {
        Err(Error::Auth(m)) => assert!(m.contains("locked"), "{m}"),
        other => panic!("the right password must be refused while locked: {other:?}"),
    }
}

#[test]
fn rule_10_five_wrong_answers_lock_password_verification_for_15_minutes() {
    let org = Org::new();
    let c = org.c();
    let uid = org.owner_user.id.clone();
    c.verify_password(&org.owner, OWNER_PW).unwrap();

    // Four wrong, one right: the count starts over.
    for _ in 0..4 {
        assert!(matches!(
            c.verify_password(&org.owner, "nope-nope"),
            Err(Error::Auth(_))
        ));
    }
    c.verify_password(&org.owner, OWNER_PW).unwrap();
    for _ in 0..4 {
        assert!(matches!(
            c.verify_password(&org.owner, "nope-nope"),
            Err(Error::Auth(_))
        ));
    }
    assert_eq!(
        c.lockout_remaining(&uid).unwrap(),
        None,
        "4 wrong answers in a row do not lock"
    );
    c.verify_password(&org.owner, OWNER_PW).unwrap();

    // Five in a row lock for 15 minutes.
    for _ in 0..5 {
        assert!(matches!(
            c.verify_password(&org.owner, "nope-nope"),
            Err(Error::Auth(_))
        ));
    }
    assert_eq!(c.lockout_remaining(&uid).unwrap(), Some(Duration::minutes(15)));
    assert_locked(&org, c);
    let events = c.list_audit(&org.owner, 1).unwrap();
    assert!(events[0].outcome.starts_with("refused:"), "{:?}", events[0]);

    org.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert_locked(&org, c);
    org.clock.advance(Duration::seconds(1));
    assert_eq!(c.lockout_remaining(&uid).unwrap(), None);
    c.verify_password(&org.owner, OWNER_PW).unwrap();
}

#[test]
fn rule_10_the_password_lock_survives_closing_and_reopening_the_console() {
    let org = Org::new();
    for _ in 0..5 {
        assert!(org.c().verify_password(&org.owner, "nope-nope").is_err());
    }
    assert_locked(&org, org.c());

    let Org {
        dir,
        clock,
        console,
        owner_user,
        owner,
    } = org;
    drop(console);
    clock.advance(Duration::minutes(3));
    let reopened = open_console(dir.path(), &clock, 99);
    let org = Org {
        dir,
        clock,
        console: reopened,
        owner_user,
        owner,
    };
    assert_eq!(
        org.c().lockout_remaining(&org.owner_user.id).unwrap(),
        Some(Duration::minutes(12))
    );
    assert_locked(&org, org.c());
    org.clock.advance(Duration::minutes(12));
    org.c().verify_password(&org.owner, OWNER_PW).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Rule 11: refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_11_every_refusal_says_why_changes_nothing_and_is_audited() {
    let org = Org::new();
    let p = org.project("web-shop");
    let (_, reader) = org.user("reader@example.com", Some(OrgRole::Reader));
    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    let sa = org.sa(&p, "deploy-bot");
    let c = org.c();
    c.create_credential(&dev, KeyKind::Iam, "web-shop", "a", "")
        .unwrap();
    c.create_credential(&dev, KeyKind::Iam, "web-shop", "b", "")
        .unwrap();

    // Missing permission: the message names who may.
    let e = refused(&org, &reader, "Denied", |c| {
        c.create_project(&reader, "new-one", "New", "")
    });
    assert!(e.message().contains("Org Admin"), "{e:?}");
    let e = refused(&org, &dev, "Denied", |c| {
        c.edit_project(&dev, "web-shop", Some("mine"), None)
    });
    assert!(e.message().contains("Org Admin"), "{e:?}");
    let e = refused(&org, &dev, "Denied", |c| {
        c.create_service_account(&dev, "web-shop", "x", "")
    });
    assert!(e.message().contains("Project Admin"), "{e:?}");
    let e = refused(&org, &dev, "Denied", |c| {
        c.list_service_accounts(&dev, "web-shop")
    });
    assert!(e.message().contains("Project Admin"), "{e:?}");
    refused(&org, &reader, "Denied", |c| {
        c.add_user_with_password(&reader, "x@example.com", "X", None, "password-1")
    });
    refused(&org, &dev, "Denied", |c| {
        c.add_member(&dev, "web-shop", "reader@example.com", ProjectRole::Admin)
    });

    // Limit reached: the message names the limit.
    let e = refused(&org, &dev, "Conflict", |c| {
        c.create_credential(&dev, KeyKind::Iam, "web-shop", "c", "")
    });
    assert!(e.message().contains("up to 2"), "{e:?}");

    // Preconditions and conflicts.
    refused(&org, &org.owner, "Conflict", |c| {
        c.add_member(&org.owner, "web-shop", "dev@example.com", ProjectRole::Reader)
    });
    refused(&org, &org.owner, "Conflict", |c| {
        c.remove_member(&org.owner, "web-shop", OWNER_EMAIL)
    });
    refused(&org, &org.owner, "Conflict", |c| {
        c.remove_user(&org.owner, OWNER_EMAIL)
    });
    refused(&org, &org.owner, "Conflict", |c| {
        c.add_user_with_password(&org.owner, "DEV@example.com", "Dup", None, "password-1")
    });
    refused(&org, &org.owner, "Conflict", |c| {
        c.create_service_account(&org.owner, "web-shop", "deploy-bot", "")
    });

    // Invalid input.
    let e = refused(&org, &org.owner, "Invalid", |c| {
        c.delete_service_account(&org.owner, &sa.id(), "yes")
    });
    assert!(
        e.message().contains(SA_PHRASE),
        "the message tells what to type: {e:?}"
    );
    refused(&org, &org.owner, "Invalid", |c| {
        c.add_user_with_password(&org.owner, "not-an-email", "X", None, "password-1")
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.add_user_with_password(&org.owner, "short@example.com", "X", None, "short")
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.create_credential(&org.owner, KeyKind::Iam, "web-shop", "", "")
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.create_credential(&org.owner, KeyKind::S3, "web-shop", "ok", &"d".repeat(31))
    });
    refused(&org, &org.owner, "Invalid", |c| {
        c.submit_inquiry(
            &org.owner,
            &InquiryDraft {
                kind: InquiryKind::General,
                detail_type: "Billing".into(),
                project: None,
                title: String::new(),
                details: "no title".into(),
                private: false,
                attachment: None,
            },
        )
    });

    // A second organization in the same directory.
    refused(&org, &Actor::system(), "Conflict", |c| {
        c.init_org("Second Org", "second@example.com", "Second", "password-22")
    });
}

#[test]
fn rule_11_refusals_of_bad_input_and_of_non_users_are_audited_too() {
    // §1 "Audit event: every change and every refused attempt"; rule 11.
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "bot");
    let sa_key = org.sa_key(&sa, "k");
    let sa_actor = sa_actor(&org, &org.token(&sa_key));
    let c = org.c();

    type Attempt<'a> = Box<dyn Fn() -> Result<(), Error> + 'a>;
    let cases: Vec<(&str, &Actor, Attempt)> = vec![
        (
            "add_payment_method with bad last four digits",
            &org.owner,
            Box::new(|| {
                c.add_payment_method(&org.owner, "Visa", "42a2", "09/28")
                    .map(drop)
            }),
        ),
        (
            "add_payment_method with a bad expiry",
            &org.owner,
            Box::new(|| {
                c.add_payment_method(&org.owner, "Visa", "4242", "13/28")
                    .map(drop)
            }),
        ),
        (
            "change_password to a too-short password",
            &org.owner,
            Box::new(|| c.change_password(&org.owner, OWNER_PW, "short")),
        ),
        (
            "deletion request attaching a file whose name carries a control character",
            &org.owner,
            Box::new(|| {
                c.request_project_deletion(
                    &org.owner,
                    "web-shop",
                    "t",
                    "d",
                    false,
                    Some(kc_console::console::Attachment {
                        name: "bad\u{7}name.txt".into(),
                        size: 1,
                    }),
                )
                .map(drop)
            }),
        ),
        (
            "a service account's token opening Credentials (verify_password)",
            &sa_actor,
            Box::new(|| c.verify_password(&sa_actor, "whatever-1")),
        ),
    ];
    // A successful check first, so the lockout record a password check writes exists already.
    c.verify_password(&org.owner, OWNER_PW).unwrap();
    let mut not_audited = Vec::new();
    for (what, actor, attempt) in &cases {
        let before = org.state();
        let events_before = org.audit_len();
        let err = match attempt() {
            Ok(()) => panic!("{what}: expected a refusal"),
            Err(e) => e,
        };
        assert!(
            matches!(err, Error::Invalid(_) | Error::Denied(_)),
            "{what}: {err:?}"
        );
        assert_eq!(
            org.state(),
            before,
            "{what}: the refusal changed the stored state"
        );
        let events = c.list_audit(&org.owner, usize::MAX).unwrap();
        let new_events = &events[..events.len() - events_before];
        let audited = new_events
            .iter()
            .any(|e| e.outcome == format!("refused: {}", err.message()) && e.actor == actor.label);
        if !audited {
            not_audited.push(format!("{what} -> {err:?}"));
        }
    }
    assert!(
        not_audited.is_empty(),
        "refusals missing from the audit log: {not_audited:#?}"
    );
}

/// The role a key is listed with is the one its tokens would carry: none once the key can
/// issue none (its service account inactive, its owner out of the project).
#[test]
fn a_keys_listed_role_follows_what_its_tokens_would_carry() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "bot");
    let key = org.sa_key(&sa, "k");
    assert_eq!(org.c().key_role(&key.key).unwrap(), Some(ProjectRole::Member));
    org.c()
        .set_service_account_status(&org.owner, &sa.id(), SaStatus::Inactive)
        .unwrap();
    let now = org.c().access_key(&key.key.id).unwrap().unwrap();
    assert_eq!(org.c().key_role(&now).unwrap(), None);
    assert!(org.c().issue_token(&key.key.id, key.secret.expose()).is_err());

    let (_, dev) = org.user("dev@example.com", None);
    org.member(&p, "dev@example.com", ProjectRole::Member);
    let key = org
        .c()
        .create_credential(&dev, KeyKind::Iam, "web-shop", "dev-key", "")
        .unwrap();
    assert_eq!(org.c().key_role(&key.key).unwrap(), Some(ProjectRole::Member));
    org.c()
        .remove_member(&org.owner, "web-shop", "dev@example.com")
        .unwrap();
    let now = org.c().access_key(&key.key.id).unwrap().unwrap();
    assert_eq!(org.c().key_role(&now).unwrap(), None);
    assert!(org.c().issue_token(&key.key.id, key.secret.expose()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Typed confirmations
// ---------------------------------------------------------------------------------------------

#[test]
fn typed_confirmations_must_match_exactly() {
    let org = Org::new();
    let p = org.project("web-shop");
    let sa = org.sa(&p, "deploy-bot");
    let key = org.sa_key(&sa, "ci");
    let token = org.token(&key);

    let bad_sa = [
        "",
        "Delete",
        "Delete service",
        "delete service account",
        "Delete Service Account",
        "DELETE SERVICE ACCOUNT",
        " Delete service account",
        "Delete service account ",
        "Delete service account\n",
        "Delete  service account",
        "Delete service account.",
        "Delete IAM access key",
        "deploy-bot",
    ];
    for typed in bad_sa {
        refused(&org, &org.owner, "Invalid", |c| {
            c.delete_service_account(&org.owner, &sa.id(), typed)
        });
    }
    let bad_key = [
        "",
        "Delete IAM",
        "delete IAM access key",
        "Delete iam access key",
        "DELETE IAM ACCESS KEY",
        " Delete IAM access key",
        "Delete IAM access key ",
        "Delete IAM access key\t",
        "Delete IAM access key.",
        "Delete service account",
    ];
    for typed in bad_key {
        refused(&org, &org.owner, "Invalid", |c| {
            c.delete_sa_key(&org.owner, &sa.id(), &key.key.id, typed)
        });
    }
    assert!(org.c().get_service_account(&sa.id()).unwrap().is_some());
    assert_eq!(org.key_status(&key.key.id), Some(KeyStatus::Active));
    assert!(org.token_valid(&token));

    org.c()
        .delete_sa_key(&org.owner, &sa.id(), &key.key.id, "Delete IAM access key")
        .unwrap();
    assert!(org.c().access_key(&key.key.id).unwrap().is_none());
    org.c()
        .delete_service_account(&org.owner, &sa.id(), "Delete service account")
        .unwrap();
    assert!(org.c().get_service_account(&sa.id()).unwrap().is_none());
}
