//! Storage and fault tests: limits under concurrent creates, secrets absent from the files on
//! disk, the password lockout across restarts, the data-directory lock, damaged and foreign
//! databases, and durability of acknowledged changes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::thread;

use chrono::{DateTime, Duration, TimeZone, Utc};
use kc_console::console::{
    Actor, Config, Console, Error, FixedClock, KeyKind, Limits, SeededEntropy, ServiceAccount,
};

const PASSWORD: &str = "Owner-Passw0rd!";
const PROJECT: &str = "web-shop";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn config_with(clock: &Arc<FixedClock>, seed: u64, limits: Limits) -> Config {
    Config {
        clock: clock.clone(),
        entropy: Arc::new(SeededEntropy::new(seed)),
        limits,
    }
}

fn config(seed: u64) -> Config {
    config_with(&Arc::new(FixedClock::new(start())), seed, Limits::default())
}

/// An organization whose owner (Org Admin) has a payment method and created `web-shop`, so
/// the owner is its Project Admin.
fn organization(console: &Console) -> Actor {
    let owner = console
        .init_org("Acme", "owner@acme.example", "Owner", PASSWORD)
        .expect("init_org");
    let actor = Console::actor_for(&owner);
    console
        .add_payment_method(&actor, "Visa", "4242", "09/28")
        .expect("payment method");
    console
        .create_project(&actor, PROJECT, "Web", "")
        .expect("create project");
    actor
}

/// Runs `attempt(i)` on 16 threads released together; returns every outcome.
fn race<T: Send + 'static>(
    console: &Arc<Console>,
    attempt: impl Fn(&Console, usize) -> Result<T, Error> + Send + Sync + 'static,
) -> Vec<Result<T, Error>> {
    const THREADS: usize = 16;
    let barrier = Arc::new(Barrier::new(THREADS));
    let attempt = Arc::new(attempt);
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (console, barrier, attempt) = (console.clone(), barrier.clone(), attempt.clone());
            thread::spawn(move || {
                barrier.wait();
                attempt(&console, i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("no thread panics"))
        .collect()
}

/// Asserts that exactly `limit` attempts succeeded and every other one is a limit conflict
/// whose message names the limit.
fn assert_limit_held<T>(outcomes: &[Result<T, Error>], limit: usize, phrase: &str) {
    let ok = outcomes.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, limit, "exactly the limit may succeed");
    for outcome in outcomes {
        match outcome {
            Ok(_) => {}
            Err(Error::Conflict(m)) => assert!(
                m.contains(phrase),
                "the refusal should name the limit ({phrase:?}): {m}"
            ),
            Err(other) => panic!("expected a limit conflict, got {other:?}"),
        }
    }
}

#[test]
fn concurrent_iam_key_creates_never_pass_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let console = Arc::new(Console::open(dir.path(), config(1)).unwrap());
    let actor = organization(&console);
    let racer = actor.clone();
    let outcomes = race(&console, move |c, i| {
        c.create_credential(&racer, KeyKind::Iam, PROJECT, &format!("key-{i}"), "race")
    });
    assert_limit_held(&outcomes, 2, "up to 2 IAM access keys per project");
    let listed = console.list_credentials(&actor, Some(KeyKind::Iam)).unwrap();
    assert_eq!(listed.len(), 2);
    // The index and the records agree: the listed keys are exactly the ones returned.
    let mut created: Vec<String> = outcomes.into_iter().flatten().map(|k| k.key.id).collect();
    let mut ids: Vec<String> = listed.into_iter().map(|k| k.id).collect();
    created.sort();
    ids.sort();
    assert_eq!(created, ids);
}

#[test]
fn concurrent_sa_key_creates_never_pass_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let console = Arc::new(Console::open(dir.path(), config(2)).unwrap());
    let actor = organization(&console);
    let sa = console
        .create_service_account(&actor, PROJECT, "ci-bot", "")
        .unwrap();
    let sa_id = sa.id();
    let (racer, racing_sa) = (actor.clone(), sa_id.clone());
    let outcomes = race(&console, move |c, i| {
        c.create_sa_key(&racer, &racing_sa, &format!("key-{i}"), "race")
    });
    assert_limit_held(&outcomes, 2, "up to 2 IAM access keys per service account");
    assert_eq!(console.list_sa_keys(&actor, &sa_id).unwrap().len(), 2);
}

#[test]
fn concurrent_service_account_creates_never_pass_a_lowered_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        service_accounts_per_project: 5,
        ..Default::default()
    };
    let clock = Arc::new(FixedClock::new(start()));
    let console = Arc::new(Console::open(dir.path(), config_with(&clock, 3, limits)).unwrap());
    let actor = organization(&console);
    let racer = actor.clone();
    let outcomes = race(&console, move |c, i| {
        c.create_service_account(&racer, PROJECT, &format!("bot-{i}"), "")
    });
    assert_limit_held(&outcomes, 5, "up to 5 service accounts");
    let listed = console.list_service_accounts(&actor, PROJECT).unwrap();
    assert_eq!(listed.len(), 5);
    // The project's own count (checked inside the transaction) agrees with the records.
    let project = console.find_project(PROJECT).unwrap();
    assert_eq!(project.service_accounts.len(), 5);
    let mut names: Vec<String> = listed.into_iter().map(|sa| sa.name).collect();
    names.sort();
    assert_eq!(names, project.service_accounts.into_iter().collect::<Vec<_>>());
}

// ---- secrets on disk ----

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The names of the files under `dir` that contain `needle`.
fn files_containing(files: &[(PathBuf, Vec<u8>)], needle: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(_, bytes)| contains(bytes, needle.as_bytes()))
        .map(|(p, _)| p.clone())
        .collect()
}

fn read_all(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn no_secret_reaches_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), config(4)).unwrap();
    let owner = organization(&console);
    let member_password = "Member-Secret-Pw-42";
    let member = console
        .add_user_with_password(&owner, "dev@acme.example", "Dev", None, member_password)
        .unwrap();
    let (_, generated) = console.add_user(&owner, "ops@acme.example", "Ops", None).unwrap();
    let generated_password = generated.expose().to_string();
    drop(generated);

    let mut secrets: Vec<(String, String)> = vec![
        ("owner password".into(), PASSWORD.into()),
        ("member password".into(), member_password.into()),
        ("generated password".into(), generated_password),
    ];
    let mut key_ids = Vec::new();
    let mut keep = |what: String, new: kc_console::console::NewKey| {
        key_ids.push(new.key.id.clone());
        secrets.push((what, new.secret.expose().to_string()));
        new
    };
    let iam1 = keep(
        "iam-1".into(),
        console
            .create_credential(&owner, KeyKind::Iam, PROJECT, "iam-1", "")
            .unwrap(),
    );
    keep(
        "iam-2".into(),
        console
            .create_credential(&owner, KeyKind::Iam, PROJECT, "iam-2", "")
            .unwrap(),
    );
    for name in ["s3-1", "s3-2"] {
        keep(
            name.into(),
            console
                .create_credential(&owner, KeyKind::S3, PROJECT, name, "")
                .unwrap(),
        );
    }
    let sa = console
        .create_service_account(&owner, PROJECT, "ci-bot", "")
        .unwrap();
    let sa1 = keep(
        "sa-key-1".into(),
        console.create_sa_key(&owner, &sa.id(), "sa-key-1", "").unwrap(),
    );
    keep(
        "sa-key-2".into(),
        console.create_sa_key(&owner, &sa.id(), "sa-key-2", "").unwrap(),
    );

    // Tokens from a user's key and from a service account's key; the signature is the part
    // that makes a token a bearer secret.
    for (what, key) in [("user token", &iam1), ("sa token", &sa1)] {
        let issued = console.issue_token(&key.key.id, key.secret.expose()).unwrap();
        let token = issued.token.expose().to_string();
        console.validate_token(&token).unwrap();
        let signature = token.rsplit('.').next().unwrap().to_string();
        secrets.push((what.into(), token));
        secrets.push((format!("{what} signature"), signature));
    }
    // Passwords presented in the ordinary places: a wrong sign-in, the Credentials gate, a
    // password change (old and new).
    let wrong = "Wrong-Guess-Pw-77";
    assert!(console.sign_in("dev@acme.example", wrong).is_err());
    console.sign_in("dev@acme.example", member_password).unwrap();
    let member_actor = Console::actor_for(&member);
    assert!(console.verify_password(&member_actor, wrong).is_err());
    let changed = "Changed-Password-99";
    console
        .change_password(&member_actor, member_password, changed)
        .unwrap();
    secrets.push(("wrong password".into(), wrong.into()));
    secrets.push(("changed password".into(), changed.into()));
    drop((iam1, sa1));

    drop(console);
    let files = read_all(dir.path());
    assert!(!files.is_empty());

    // A positive control: records really are readable in these files, so the absence checks
    // below can fail.
    for id in &key_ids {
        assert!(
            !files_containing(&files, id).is_empty(),
            "the key ID {id} should be in the database files; is the scan reading the right place?"
        );
    }
    assert!(!files_containing(&files, "dev@acme.example").is_empty());

    for (what, secret) in &secrets {
        let found = files_containing(&files, secret);
        assert!(found.is_empty(), "the {what} is stored in {found:?}");
    }
}

/// Rule 1 when the user puts a secret in the wrong field: an access key's secret sent as its
/// ID, or a password typed into the email field. Both are refused, and the refusal is audited
/// with the presented "key ID" / "email" as its actor label and target.
#[test]
fn a_secret_in_the_wrong_field_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), config(5)).unwrap();
    let owner = organization(&console);
    let key = console
        .create_credential(&owner, KeyKind::Iam, PROJECT, "iam-1", "")
        .unwrap();
    let secret = key.secret.expose().to_string();
    // ID and secret swapped.
    assert!(console.issue_token(&secret, &key.key.id).is_err());
    // The password typed where the email goes.
    assert!(console.sign_in(PASSWORD, PASSWORD).is_err());
    drop(console);
    let files = read_all(dir.path());
    let stored: Vec<String> = [("access key secret", secret.as_str()), ("password", PASSWORD)]
        .into_iter()
        .filter_map(|(what, needle)| {
            let found = files_containing(&files, needle);
            (!found.is_empty()).then(|| format!("the {what} is stored in {found:?}"))
        })
        .collect();
    assert!(stored.is_empty(), "{stored:#?}");
}

// ---- the password lockout ----

#[test]
fn password_lockout_survives_a_restart_and_ends_after_15_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let console = Console::open(dir.path(), config_with(&clock, 6, Limits::default())).unwrap();
    let owner = organization(&console);
    let uid = owner.user_id().unwrap().to_string();
    for attempt in 1..=5 {
        match console.verify_password(&owner, "not-the-password") {
            Err(Error::Auth(m)) if attempt < 5 => assert!(!m.contains("now locked"), "{m}"),
            Err(Error::Auth(m)) => assert!(m.contains("locked"), "the 5th wrong answer locks: {m}"),
            other => panic!("attempt {attempt}: expected Auth, got {other:?}"),
        }
    }
    // Even the right password is refused while locked.
    match console.verify_password(&owner, PASSWORD) {
        Err(Error::Auth(m)) => assert!(m.contains("locked"), "{m}"),
        other => panic!("expected the lock, got {other:?}"),
    }
    drop(console);

    let console = Console::open(dir.path(), config_with(&clock, 7, Limits::default())).unwrap();
    assert!(console.lockout_remaining(&uid).unwrap().is_some());
    match console.verify_password(&owner, PASSWORD) {
        Err(e @ Error::Auth(_)) => {
            assert!(e.message().contains("locked"), "{e}");
            assert_eq!(e.exit_code(), 3);
        }
        other => panic!("the lock must survive a restart, got {other:?}"),
    }
    // Sign-in honours the same lock.
    assert!(matches!(
        console.sign_in("owner@acme.example", PASSWORD),
        Err(Error::Auth(m)) if m.contains("locked")
    ));

    clock.advance(Duration::minutes(14) + Duration::seconds(59));
    assert!(
        console.verify_password(&owner, PASSWORD).is_err(),
        "still locked 1 s before the end"
    );
    clock.advance(Duration::seconds(1));
    assert_eq!(console.lockout_remaining(&uid).unwrap(), None);
    console
        .verify_password(&owner, PASSWORD)
        .expect("unlocked after 15 minutes");
    // The failure count started again from zero: one wrong answer does not re-lock.
    match console.verify_password(&owner, "not-the-password") {
        Err(Error::Auth(m)) => assert!(m.contains("4 more wrong answers"), "{m}"),
        other => panic!("expected Auth, got {other:?}"),
    }
}

/// Rule 10 under concurrency: 16 wrong answers at once must not buy more than the 5 wrong
/// answers a user gets in a row; the others are refused as locked without being checked.
#[test]
fn concurrent_wrong_passwords_get_no_more_than_five_answers() {
    let dir = tempfile::tempdir().unwrap();
    let console = Arc::new(Console::open(dir.path(), config(16)).unwrap());
    let owner = organization(&console);
    let uid = owner.user_id().unwrap().to_string();
    let guesser = owner.clone();
    let outcomes = race(&console, move |c, i| {
        c.verify_password(&guesser, &format!("wrong-guess-{i}"))
    });
    let mut answered = 0;
    for outcome in &outcomes {
        match outcome {
            Err(Error::Auth(m)) if m.starts_with("wrong password") => answered += 1,
            Err(Error::Auth(m)) => assert!(m.contains("is locked"), "{m}"),
            other => panic!("expected Auth, got {other:?}"),
        }
    }
    assert!(
        answered <= 5,
        "{answered} of 16 concurrent guesses were checked against the password"
    );
    assert!(console.lockout_remaining(&uid).unwrap().is_some());
}

// ---- the data-directory lock ----

#[test]
fn a_second_opener_is_refused_while_the_directory_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let first = Console::open(dir.path(), config(8)).unwrap();
    organization(&first);
    for attempt in 0..2 {
        match Console::open(dir.path(), config(9)) {
            Err(e @ Error::Storage(_)) => {
                assert!(e.message().contains("in use"), "attempt {attempt}: {e}");
                assert_eq!(e.exit_code(), 7);
            }
            other => panic!("attempt {attempt}: expected Storage \"in use\", got {other:?}"),
        }
    }
    // The same directory spelled differently is the same lock.
    let other_spelling = dir.path().join(".");
    assert!(matches!(
        Console::open(&other_spelling, config(9)),
        Err(Error::Storage(m)) if m.contains("in use")
    ));
    // The refused openers changed nothing: the first console still works.
    assert_eq!(first.organization().unwrap().name, "Acme");
    drop(first);

    let second = Console::open(dir.path(), config(10)).expect("free once the first is gone");
    assert_eq!(second.organization().unwrap().name, "Acme");
}

// ---- damaged and foreign databases ----

/// A data directory holding an organization, closed.
fn closed_organization() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), config(11)).unwrap();
    let owner = organization(&console);
    console
        .create_service_account(&owner, PROJECT, "ci-bot", "")
        .unwrap();
    drop(console);
    dir
}

/// Opens `dir` and returns the error; fails the test on a panic or a successful open.
fn open_error(dir: &Path) -> Error {
    let outcome = catch_unwind(AssertUnwindSafe(|| Console::open(dir, config(12))));
    match outcome {
        Err(_) => panic!("Console::open panicked on a damaged database"),
        Ok(Ok(console)) => panic!(
            "a damaged database opened as if it were fine (organization: {:?})",
            console.organization()
        ),
        Ok(Err(e)) => e,
    }
}

fn assert_storage_error(e: &Error) {
    assert!(
        matches!(e, Error::Storage(_)),
        "expected a storage error, got {e:?}"
    );
    assert_eq!(e.exit_code(), 7);
    assert!(!e.message().is_empty());
}

/// Deterministic junk.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Ways of damaging a file.
#[derive(Clone, Copy, Debug)]
enum Damage {
    /// Overwritten with junk of the same length.
    Garbage,
    /// Cut to half its length.
    Halved,
    /// Cut to nothing.
    Emptied,
}

fn damage(file: &Path, how: Damage, seed: u64) {
    let len = std::fs::metadata(file).unwrap().len();
    match how {
        Damage::Garbage => std::fs::write(file, garbage((len as usize).max(64), seed)).unwrap(),
        Damage::Halved => std::fs::OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(len / 2)
            .unwrap(),
        Damage::Emptied => drop(std::fs::File::create(file).unwrap()),
    }
}

/// A closed organization with `damage` done to the files under `db/` that `pick` selects.
fn damaged(how: Damage, pick: impl Fn(&str) -> bool) -> tempfile::TempDir {
    let dir = closed_organization();
    let mut hit = 0;
    for (i, file) in files_under(&dir.path().join("db")).iter().enumerate() {
        if pick(&file.file_name().unwrap().to_string_lossy()) {
            damage(file, how, i as u64 + 1);
            hit += 1;
        }
    }
    assert!(hit > 0, "no database file was damaged");
    dir
}

const ALL_DAMAGE: [Damage; 3] = [Damage::Garbage, Damage::Halved, Damage::Emptied];

/// Whatever is done to whichever file, opening never panics and any refusal is a storage
/// error (exit 7) that says what to do, not an "in use" left behind by the failed open.
#[test]
fn a_damaged_database_never_panics_the_opener() {
    type Pick = fn(&str) -> bool;
    let picks: [(&str, Pick); 3] = [
        ("every file", |_| true),
        ("conf", |n| n == "conf"),
        ("the log (db)", |n| n == "db"),
    ];
    for how in ALL_DAMAGE {
        for (what, pick) in picks {
            let dir = damaged(how, pick);
            let outcome = catch_unwind(AssertUnwindSafe(|| Console::open(dir.path(), config(12))));
            match outcome {
                Err(_) => panic!("Console::open panicked on {what} {how:?}"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    assert_storage_error(&e);
                    assert!(!e.message().contains("in use"), "{what} {how:?}: {e}");
                    let again = open_error(dir.path());
                    assert!(
                        !again.message().contains("in use"),
                        "{what} {how:?} twice: {again}"
                    );
                }
            }
        }
    }
}

#[test]
fn garbage_over_every_database_file_is_a_storage_error() {
    let dir = damaged(Damage::Garbage, |_| true);
    assert_storage_error(&open_error(dir.path()));
}

#[test]
fn a_damaged_config_file_is_a_storage_error() {
    for how in [Damage::Garbage, Damage::Halved] {
        let dir = damaged(how, |n| n == "conf");
        let e = open_error(dir.path());
        assert_storage_error(&e);
        assert!(e.message().contains("database"), "{how:?}: {e}");
    }
}

/// sled reads a log it cannot make sense of as an empty database, so without a check of its
/// own the console would open a damaged data directory as a brand-new one, offer `init`, and
/// write over what was there. A log cut short where a whole earlier state remains (the cut
/// falls between two commits — where depends on how sled batched its writes) is what a crash
/// leaves, and sled recovers that state; it must then still hold its organization.
#[test]
fn a_damaged_log_is_not_opened_as_a_new_database() {
    for how in ALL_DAMAGE {
        let dir = damaged(how, |n| n == "db");
        let opened = catch_unwind(AssertUnwindSafe(|| Console::open(dir.path(), config(12))))
            .unwrap_or_else(|_| panic!("{how:?}: Console::open panicked on a damaged log"));
        match (how, opened) {
            (_, Err(e)) => assert_storage_error(&e),
            (Damage::Halved, Ok(console)) => assert!(
                !console.is_uninitialized().unwrap(),
                "a halved log opened as a new database"
            ),
            (_, Ok(console)) => panic!(
                "{how:?}: a damaged log opened as if it were fine (organization: {:?})",
                console.organization()
            ),
        }
    }
}

fn write_meta(dir: &Path, key: &str, value: Option<&[u8]>) {
    let db = sled::open(dir.join("db")).unwrap();
    let meta = db.open_tree("meta").unwrap();
    match value {
        Some(v) => meta.insert(key, v).unwrap(),
        None => meta.remove(key).unwrap(),
    };
    db.flush().unwrap();
}

#[test]
fn another_schema_version_is_refused_by_name() {
    let dir = closed_organization();
    write_meta(dir.path(), "schema_version", Some(b"7"));
    let e = open_error(dir.path());
    assert_storage_error(&e);
    assert!(e.message().contains("schema"), "{e}");
    assert!(
        e.message().contains('7'),
        "the message names the version found: {e}"
    );

    // Put the current version back: the same directory opens again with its data.
    write_meta(dir.path(), "schema_version", Some(b"2"));
    let console = Console::open(dir.path(), config(13)).unwrap();
    assert_eq!(console.organization().unwrap().name, "Acme");
}

#[test]
fn a_database_without_a_schema_version_is_refused() {
    let dir = closed_organization();
    write_meta(dir.path(), "schema_version", None);
    let e = open_error(dir.path());
    assert_storage_error(&e);
    assert!(e.message().contains("schema"), "{e}");
}

#[test]
fn an_unreadable_schema_version_is_a_storage_error() {
    let dir = closed_organization();
    write_meta(dir.path(), "schema_version", Some(b"\xff not json"));
    let e = open_error(dir.path());
    assert_storage_error(&e);
}

// ---- durability ----

#[test]
fn acknowledged_changes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(start()));
    let console = Console::open(dir.path(), config_with(&clock, 14, Limits::default())).unwrap();
    let owner = organization(&console);
    let sa = console
        .create_service_account(&owner, PROJECT, "ci-bot", "deploys")
        .unwrap();
    let user_key = console
        .create_credential(&owner, KeyKind::Iam, PROJECT, "laptop", "")
        .unwrap();
    let sa_key = console.create_sa_key(&owner, &sa.id(), "ci", "").unwrap();
    let token = console
        .issue_token(&user_key.key.id, user_key.secret.expose())
        .unwrap()
        .token
        .expose()
        .to_string();
    let doomed = console
        .create_service_account(&owner, PROJECT, "doomed", "")
        .unwrap();
    console
        .delete_service_account(&owner, &doomed.id(), "Delete service account")
        .unwrap();
    drop(console);

    let console = Console::open(dir.path(), config_with(&clock, 15, Limits::default())).unwrap();
    let listed = console.list_service_accounts(&owner, PROJECT).unwrap();
    assert_eq!(listed, vec![sa.clone()]);
    assert_eq!(
        console.get_service_account(&ServiceAccount::id_for("doomed", &sa.project_id)),
        Ok(None),
        "a deletion is as durable as a creation"
    );
    let keys = console.list_credentials(&owner, Some(KeyKind::Iam)).unwrap();
    assert_eq!(keys, vec![user_key.key.clone()]);
    assert_eq!(
        console.list_sa_keys(&owner, &sa.id()).unwrap(),
        vec![sa_key.key.clone()]
    );
    // The secret still works after the restart, and so does the token (the signing key is
    // stored, not regenerated).
    console
        .issue_token(&user_key.key.id, user_key.secret.expose())
        .expect("the secret still matches");
    let info = console.validate_token(&token).expect("the token survives");
    assert_eq!(info.key_id, user_key.key.id);
    // The audit trail of the changes is there too.
    let audit = console.list_audit(&owner, 1000).unwrap();
    for action in [
        "organization.create",
        "project.create",
        "service_account.create",
        "service_account.delete",
        "credential.iam.create",
        "sa_key.create",
    ] {
        assert!(
            audit.iter().any(|e| e.action == action && !e.refused()),
            "no audit event {action} after reopen"
        );
    }
}
