//! Command-line contract tests (`spec/cli.md`): every command group except `tui`, `demo SCRIPT`
//! and `serve`, run as the built binary against throwaway data directories.
//!
//! Every refusal is checked the same way: the documented exit code, nothing on stdout, exactly
//! one line on stderr starting with `kc-console: `, no panic, and a list before and after that
//! shows nothing changed.

#[path = "support/cli_args.rs"]
mod cli_args;
use cli_args::{create_key, token_issue};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kc_console::console::validate::USER_NAME_MAX;
use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");

const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const AUDITOR: &str = "auditor@pangyo.example";
const GUEST: &str = "guest@pangyo.example";
/// The simulated Help Desk operator, a principal of its own.
const OPERATOR: &str = "helpdesk@kakaocloud.example";

const DELETE_SA: &str = "Delete service account";
const DELETE_KEY: &str = "Delete IAM access key";

/// The demo organization's passwords (assets/demo-org.json).
fn demo_password(email: &str) -> &'static str {
    match email {
        OWNER => "owner-demo-pw",
        ADMIN => "admin-demo-pw",
        DEV => "dev-demo-pw",
        VIEWER => "viewer-demo-pw",
        AUDITOR => "auditor-demo-pw",
        GUEST => "guest-demo-pw",
        OPERATOR => "helpdesk-demo-pw",
        other => panic!("{other} is not a demo user"),
    }
}

/// What one invocation did.
#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success (exit 0, no panic) and returns the run.
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success for {:?}\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self
    }

    /// Asserts success and parses stdout as one JSON value.
    #[track_caller]
    fn json(self) -> Value {
        let run = self.ok();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("stdout of {:?} is not JSON ({e}): {}", run.args, run.stdout))
    }

    /// Asserts a refusal with `code`: nothing on stdout, exactly one stderr line starting with
    /// "kc-console: ", no panic. Returns that line.
    #[track_caller]
    fn refused(&self, code: i32) -> String {
        assert_eq!(
            self.code, code,
            "expected exit {code} for {:?}\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        assert!(self.stdout.is_empty(), "a refusal printed on stdout: {self:?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected exactly one stderr line: {self:?}");
        assert!(self.stderr.ends_with('\n'), "{self:?}");
        assert!(
            lines[0].starts_with("kc-console: ") && lines[0].len() > "kc-console: ".len() + 5,
            "stderr line must start with \"kc-console: \" and say something: {self:?}"
        );
        lines[0].to_string()
    }
}

/// One data directory and the way to run kc-console against it.
struct Kc {
    tmp: TempDir,
    dir: PathBuf,
}

impl Kc {
    /// A data directory that does not hold an organization yet.
    fn empty() -> Kc {
        let tmp = tempfile::Builder::new().prefix("kc-cli-test-").tempdir().unwrap();
        let dir = tmp.path().join("data");
        Kc { tmp, dir }
    }

    /// A data directory holding the demo organization.
    fn demo() -> Kc {
        let kc = Kc::empty();
        let run = kc.run(&["init", "--demo"], None, None, None).ok();
        assert!(run.stderr.is_empty(), "{run:?}");
        kc
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    /// kc-console with --data-dir, --user and KC_CONSOLE_PASSWORD as given, and nothing inherited.
    fn command(&self, args: &[&str], user: Option<&str>, password: Option<&str>) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KC_CONSOLE_") {
                cmd.env_remove(key);
            }
        }
        cmd.env_remove("KC_CONSOLE_DATA_DIR")
            .env_remove("KC_CONSOLE_USER")
            .env_remove("KC_CONSOLE_PASSWORD");
        // Sessions kept by `login` live beside the data directory, never in the real home.
        cmd.env("KC_CONSOLE_STATE_DIR", self.tmp.path().join("state"));
        cmd.arg("--data-dir").arg(&self.dir);
        if let Some(user) = user {
            cmd.arg("--user").arg(user);
        }
        if let Some(password) = password {
            cmd.env("KC_CONSOLE_PASSWORD", password);
        }
        cmd.args(args);
        cmd
    }

    /// Runs one command; `stdin` is written and closed (else stdin is empty).
    fn run(&self, args: &[&str], user: Option<&str>, password: Option<&str>, stdin: Option<&str>) -> Run {
        let cmd = self.command(args, user, password);
        run_command(cmd, args, stdin)
    }

    /// Runs as a demo user, password from KC_CONSOLE_PASSWORD.
    fn as_user(&self, user: &str, args: &[&str]) -> Run {
        self.run(args, Some(user), Some(demo_password(user)), None)
    }

    /// Runs as a demo user with --json and parses the output; the command must succeed.
    #[track_caller]
    fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.as_user(user, &all).json()
    }

    /// `token issue` for an access key, its secret on standard input, with --json; needs no
    /// sign-in (the key is the credential).
    fn issue(&self, key_id: &str, stdin: Option<&str>) -> Run {
        self.run(&token_issue(key_id), None, None, stdin)
    }

    /// Runs without signing in (no --user, no password).
    fn anonymous(&self, args: &[&str]) -> Run {
        self.run(args, None, None, None)
    }

    #[track_caller]
    fn project_id(&self, name: &str) -> String {
        let projects = self.json(OWNER, &["project", "list"]);
        projects
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no project {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs `refusal` as `user` and asserts it is refused with `code` and that `probe` (run by
    /// `probe_user` before and after) shows no change. Returns the stderr line.
    #[track_caller]
    fn refused_unchanged(
        &self,
        probe_user: &str,
        probe: &[&str],
        user: &str,
        refusal: &[&str],
        code: i32,
    ) -> String {
        let before = self.as_user(probe_user, probe).ok().stdout;
        let line = self.as_user(user, refusal).refused(code);
        let after = self.as_user(probe_user, probe).ok().stdout;
        assert_eq!(
            before, after,
            "{refusal:?} (exit {code}) changed what {probe:?} shows"
        );
        line
    }
}

fn run_command(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("kc-console starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The command may exit before reading (a usage error); a broken pipe is fine then.
        let _ = pipe.write_all(text.as_bytes());
    }
    let output = child.wait_with_output().unwrap();
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing or not a string in {value}"))
}

/// A secret of at least 256 bits, printable.
#[track_caller]
fn assert_secret(secret: &str) {
    assert!(secret.len() >= 43, "secret too short for 256 bits: {secret}");
    assert!(
        secret.bytes().all(|b| b.is_ascii_graphic()),
        "secret not printable: {secret}"
    );
}

/// The "name" fields of a JSON array, sorted (cli.md promises no order).
fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn find<'a>(list: &'a Value, field: &str, value: &str) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|v| v[field] == value)
}

// ---------------------------------------------------------------------------------------------
// demo, init

#[test]
fn demo_lists_the_bundled_walkthroughs_and_refuses_an_unknown_one() {
    let kc = Kc::empty();
    let list = kc.anonymous(&["demo", "--list"]).ok();
    for name in [
        "access-keys",
        "projects",
        "service-accounts",
        "service-agents",
        "project-reader",
    ] {
        assert!(
            list.stdout.lines().any(|l| l.starts_with(name)),
            "{name} listed: {list:?}"
        );
    }
    let line = kc.anonymous(&["demo", "no-such-walkthrough"]).refused(2);
    assert!(line.contains("demo --list"), "{line}");
    let bad = kc.path().with_extension("kcdemo");
    std::fs::write(&bad, "title broken\npress Enter\njump 3\n").unwrap();
    let line = kc.anonymous(&["demo", bad.to_str().unwrap()]).refused(2);
    assert!(line.contains("line 3"), "{line}");
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn the_interactive_console_without_a_terminal_is_a_clear_usage_error() {
    let kc = Kc::empty();
    for args in [&["demo"][..], &[], &["tui"]] {
        let line = kc.anonymous(args).refused(2);
        assert!(line.contains("needs a terminal"), "{line}");
    }
    // Nothing was created on the way to the refusal.
    assert!(
        !kc.path().exists(),
        "the console wrote to --data-dir without a terminal"
    );
}

#[test]
fn init_demo_creates_the_demo_organization_once() {
    let kc = Kc::empty();
    let init = kc.run(&["--json", "init", "--demo"], None, None, None);
    assert!(init.stderr.is_empty(), "{init:?}");
    let init = init.json();
    assert_eq!(init["organization"], "Pangyo Demo Co.");
    assert_eq!(init["demo"], true);

    let projects = kc.json(OWNER, &["project", "list"]);
    assert_eq!(names(&projects), ["data-lake", "ml-lab", "web-shop"]);

    // A second init of either kind is refused and changes nothing.
    let line = kc.refused_unchanged(OWNER, &["user", "list"], OWNER, &["init", "--demo"], 6);
    assert!(line.contains("already"), "{line}");
    kc.refused_unchanged(
        OWNER,
        &["user", "list"],
        OWNER,
        &["init", "--org", "Other Org", "--admin", "boss@other.example"],
        6,
    );
    // --demo and --org together are a usage error.
    let run = kc.anonymous(&["init", "--demo", "--org", "X", "--admin", "x@y.example"]);
    run.refused(2);
}

#[test]
fn a_directory_without_an_organization_is_never_filled_silently() {
    // Fails before this change: an empty or mistyped --data-dir became the demo organization.
    let kc = Kc::empty();
    for args in [
        &["project", "list"][..],
        &["--json", "user", "list"],
        &["audit", "list"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let line = kc.as_user(OWNER, args).refused(5);
        assert!(
            line.contains("holds no organization") && line.contains("kc-console init"),
            "{line}"
        );
    }
    // Nothing was created on the way: not the directory, not a database.
    assert!(
        !kc.path().exists(),
        "a refused command created {}",
        kc.path().display()
    );
    // A directory that exists but is empty is refused the same way and left empty.
    std::fs::create_dir_all(kc.path()).unwrap();
    kc.as_user(OWNER, &["project", "list"]).refused(5);
    assert_eq!(std::fs::read_dir(kc.path()).unwrap().count(), 0);
}

#[test]
fn init_org_takes_the_password_from_stdin_or_the_environment() {
    // --password-stdin
    let kc = Kc::empty();
    // A line past the bound is read to its end and refused, and nothing is created.
    let endless = "p".repeat(1 << 20);
    let init_acme = [
        "--json",
        "init",
        "--org",
        "Acme Corp",
        "--admin",
        "boss@acme.example",
        "--password-stdin",
    ];
    let refusal = kc.run(&init_acme, None, None, Some(&endless)).refused(2);
    assert!(
        refusal.contains("line 1 of standard input is longer than 4096 bytes"),
        "{refusal}"
    );
    let init = kc.run(&init_acme, None, None, Some("boss-password-1\n")).json();
    assert_eq!(init["organization"], "Acme Corp");
    assert_eq!(init["owner"]["email"], "boss@acme.example");
    assert_eq!(init["owner"]["org_role"], "Org Admin");
    assert_eq!(init["owner"]["name"], "boss");
    assert!(is_hex32(str_field(&init["owner"], "id")));

    let users = kc
        .run(
            &["--json", "user", "list"],
            Some("boss@acme.example"),
            Some("boss-password-1"),
            None,
        )
        .json();
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users[0]["email"], "boss@acme.example");
    // None of the demo users exist here.
    kc.as_user(OWNER, &["project", "list"]).refused(3);
    kc.run(
        &["user", "list"],
        Some("boss@acme.example"),
        Some("wrong-password"),
        None,
    )
    .refused(3);
    // Already initialized.
    kc.run(
        &["init", "--org", "Again", "--admin", "x@acme.example"],
        None,
        Some("another-pw-1"),
        None,
    )
    .refused(6);

    // An e-mail whose local part is longer than a name may be: the default name is cut.
    let kc = Kc::empty();
    let long_local = "a".repeat(60);
    let email = format!("{long_local}@acme.example");
    let init = kc
        .run(
            &[
                "--json",
                "init",
                "--org",
                "Acme",
                "--admin",
                &email,
                "--password-stdin",
            ],
            None,
            None,
            Some("boss-password-1\n"),
        )
        .json();
    assert_eq!(init["owner"]["email"], email.as_str());
    assert_eq!(init["owner"]["name"], "a".repeat(USER_NAME_MAX));

    // KC_CONSOLE_PASSWORD, with --name
    let kc = Kc::empty();
    // No password at all: refused, and nothing half-done (a later init succeeds).
    kc.anonymous(&["init", "--org", "Beta", "--admin", "chief@beta.example"])
        .refused(2);
    // A bad admin email: refused, nothing half-done either.
    kc.run(
        &["init", "--org", "Beta", "--admin", "not-an-email"],
        None,
        Some("chief-password-1"),
        None,
    )
    .refused(2);
    let init = kc
        .run(
            &[
                "--json",
                "init",
                "--org",
                "Beta",
                "--admin",
                "chief@beta.example",
                "--name",
                "Chief Kim",
            ],
            None,
            Some("chief-password-1"),
            None,
        )
        .json();
    assert_eq!(init["owner"]["name"], "Chief Kim");
    let users = kc
        .run(
            &["--json", "user", "list"],
            Some("chief@beta.example"),
            Some("chief-password-1"),
            None,
        )
        .json();
    assert_eq!(users[0]["name"], "Chief Kim");
}

// ---------------------------------------------------------------------------------------------
// payment, project

#[test]
fn project_create_needs_a_payment_method_on_a_fresh_organization() {
    let kc = Kc::empty();
    kc.run(
        &["init", "--org", "Acme", "--admin", "boss@acme.example"],
        None,
        Some("boss-password-1"),
        None,
    )
    .ok();
    let boss = |args: &[&str]| kc.run(args, Some("boss@acme.example"), Some("boss-password-1"), None);

    let before = boss(&["--json", "project", "list"]).json();
    assert_eq!(before, Value::Array(vec![]));
    assert_eq!(boss(&["--json", "payment", "list"]).json(), Value::Array(vec![]));

    let line = boss(&["project", "create", "--name", "first-proj", "--nickname", "First"]).refused(6);
    assert!(line.to_lowercase().contains("payment"), "{line}");
    assert_eq!(boss(&["--json", "project", "list"]).json(), before);

    // Malformed cards are refused and not registered.
    boss(&[
        "payment", "add", "--brand", "Visa", "--last4", "12a4", "--expiry", "12/30",
    ])
    .refused(2);
    boss(&[
        "payment", "add", "--brand", "Visa", "--last4", "1234", "--expiry", "13/30",
    ])
    .refused(2);
    boss(&["payment", "add", "--brand", "Visa", "--last4", "1234"]).refused(2);
    assert_eq!(boss(&["--json", "payment", "list"]).json(), Value::Array(vec![]));

    let card = boss(&[
        "--json", "payment", "add", "--brand", "Visa", "--last4", "1234", "--expiry", "12/30",
    ])
    .json();
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["last4"], "1234");
    assert_eq!(card["expiry"], "12/30");
    let cards = boss(&["--json", "payment", "list"]).json();
    assert_eq!(cards.as_array().unwrap().len(), 1);
    assert_eq!(cards[0]["last4"], "1234");
    let human = boss(&["payment", "list"]).ok();
    assert!(
        human.stdout.contains("1234") && human.stdout.contains("Visa"),
        "{human:?}"
    );

    let project = boss(&[
        "--json",
        "project",
        "create",
        "--name",
        "first-proj",
        "--nickname",
        "First",
    ])
    .json();
    assert_eq!(project["name"], "first-proj");
    assert_eq!(project["nickname"], "First");
    assert!(is_hex32(str_field(&project, "id")), "{project}");
    let list = boss(&["--json", "project", "list"]).json();
    assert_eq!(names(&list), ["first-proj"]);
    assert_eq!(list[0]["my_role"], "Project Admin");
    assert_eq!(list[0]["default"], true, "the first project becomes the default");
}

#[test]
fn payment_add_needs_org_admin() {
    let kc = Kc::demo();
    let cards = kc.json(AUDITOR, &["payment", "list"]);
    assert_eq!(cards[0]["last4"], "4242");
    kc.refused_unchanged(
        OWNER,
        &["payment", "list"],
        AUDITOR,
        &[
            "payment", "add", "--brand", "Visa", "--last4", "1111", "--expiry", "01/30",
        ],
        4,
    );
    kc.json(
        OWNER,
        &[
            "payment", "add", "--brand", "Master", "--last4", "5555", "--expiry", "01/30",
        ],
    );
    assert_eq!(kc.json(OWNER, &["payment", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn project_commands() {
    let kc = Kc::demo();
    let probe: &[&str] = &["--json", "project", "list"];

    let created = kc.json(
        OWNER,
        &[
            "project",
            "create",
            "--name",
            "mobile-app",
            "--nickname",
            "모바일 앱",
            "--description",
            "iOS와 Android",
        ],
    );
    assert_eq!(created["name"], "mobile-app");
    assert_eq!(created["nickname"], "모바일 앱");
    assert_eq!(created["description"], "iOS와 Android");
    let id = str_field(&created, "id").to_string();
    assert!(is_hex32(&id));
    let list = kc.json(OWNER, &["project", "list"]);
    assert_eq!(names(&list), ["data-lake", "ml-lab", "mobile-app", "web-shop"]);
    let mine = find(&list, "name", "mobile-app").unwrap();
    assert_eq!(mine["my_role"], "Project Admin");
    assert_eq!(mine["default"], false);

    // Project Admin of web-shop sees own projects only; Org Reader sees all.
    assert_eq!(
        names(&kc.json(ADMIN, &["project", "list"])),
        ["data-lake", "web-shop"]
    );
    assert_eq!(
        names(&kc.json(DEV, &["project", "list"])),
        ["data-lake", "web-shop"]
    );
    assert_eq!(names(&kc.json(AUDITOR, &["project", "list"])).len(), 4);
    let human = kc.as_user(OWNER, &["project", "list"]).ok();
    assert!(
        human.stdout.contains("mobile-app") && human.stdout.contains(&id),
        "{human:?}"
    );

    // Edit by name and by ID: nickname and description change, the name never does.
    let edited = kc.json(OWNER, &["project", "edit", "mobile-app", "--nickname", "Mobile"]);
    assert_eq!(edited["nickname"], "Mobile");
    assert_eq!(edited["name"], "mobile-app");
    assert_eq!(edited["description"], "iOS와 Android");
    let edited = kc.json(OWNER, &["project", "edit", &id, "--description", "apps"]);
    assert_eq!(edited["nickname"], "Mobile");
    assert_eq!(edited["description"], "apps");
    assert_eq!(edited["id"], id.as_str());

    // Set default.
    let default = kc.json(OWNER, &["project", "set-default", "mobile-app"]);
    assert_eq!(default["default_project"]["id"], id.as_str());
    let list = kc.json(OWNER, &["project", "list"]);
    for p in list.as_array().unwrap() {
        assert_eq!(p["default"], p["name"] == "mobile-app", "{p}");
    }

    // Refusals change nothing.
    let line = kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "create", "--name", "web-shop", "--nickname", "Again"],
        6,
    );
    assert!(line.contains("web-shop"), "{line}");
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "create", "--name", "Web-Shop2", "--nickname", "X"],
        2,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "create", "--name", "웹-쇼핑", "--nickname", "X"],
        2,
    );
    let too_long = "a".repeat(31);
    let line = kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "create", "--name", &too_long, "--nickname", "X"],
        2,
    );
    assert!(line.contains("30"), "the limit is named: {line}");
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "create", "--name", "ok-name", "--nickname", ""],
        2,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        AUDITOR,
        &["project", "create", "--name", "new-one", "--nickname", "X"],
        4,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        ADMIN,
        &["project", "create", "--name", "new-one", "--nickname", "X"],
        4,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        ADMIN,
        &["project", "edit", "web-shop", "--nickname", "Mine"],
        4,
    );
    kc.refused_unchanged(OWNER, probe, OWNER, &["project", "edit", "web-shop"], 2);
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "edit", "no-such-project", "--nickname", "X"],
        5,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["project", "set-default", "no-such-project"],
        5,
    );
    kc.refused_unchanged(OWNER, probe, ADMIN, &["project", "set-default", "web-shop"], 4);
}

#[test]
fn project_request_deletion_goes_to_the_help_desk() {
    let kc = Kc::demo();
    let attachment = kc.tmp.path().join("reason.txt");
    std::fs::write(&attachment, "twelve bytes").unwrap();
    let inquiry = kc.json(
        OWNER,
        &[
            "project",
            "request-deletion",
            "data-lake",
            "--title",
            "Delete data-lake",
            "--details",
            "No longer needed",
            "--private",
            "--attachment",
            attachment.to_str().unwrap(),
        ],
    );
    assert!(is_hex32(str_field(&inquiry, "id")), "{inquiry}");
    assert_eq!(inquiry["type"], "Technical");
    assert_eq!(inquiry["detail_type"], "Project deletion");
    assert_eq!(inquiry["project_name"], "data-lake");
    assert_eq!(inquiry["title"], "Delete data-lake");
    assert_eq!(inquiry["details"], "No longer needed");
    assert_eq!(inquiry["private"], true);
    assert_eq!(inquiry["state"], "Pending");
    assert_eq!(inquiry["attachment"]["name"], "reason.txt");
    assert_eq!(inquiry["attachment"]["size"], 12);
    // Requesting is not deleting.
    assert!(names(&kc.json(OWNER, &["project", "list"])).contains(&"data-lake".to_string()));
    let mine = kc.json(OWNER, &["inquiry", "list"]);
    assert!(find(&mine, "id", str_field(&inquiry, "id")).is_some(), "{mine}");

    let probe: &[&str] = &["--json", "helpdesk", "list"];
    let before = kc.as_user(OPERATOR, probe).ok().stdout;
    kc.as_user(
        ADMIN,
        &[
            "project",
            "request-deletion",
            "data-lake",
            "--title",
            "T",
            "--details",
            "D",
        ],
    )
    .refused(4);
    kc.as_user(
        OWNER,
        &[
            "project",
            "request-deletion",
            "nope-project",
            "--title",
            "T",
            "--details",
            "D",
        ],
    )
    .refused(5);
    let missing = kc.tmp.path().join("missing.txt");
    kc.as_user(
        OWNER,
        &[
            "project",
            "request-deletion",
            "data-lake",
            "--title",
            "T",
            "--details",
            "D",
            "--attachment",
            missing.to_str().unwrap(),
        ],
    )
    .refused(2);
    assert_eq!(kc.as_user(OPERATOR, probe).ok().stdout, before);
}

// ---------------------------------------------------------------------------------------------
// user, password

#[test]
fn user_add_prints_the_initial_password_once() {
    let kc = Kc::demo();
    let added = kc.json(
        OWNER,
        &[
            "user",
            "add",
            "--email",
            "new@pangyo.example",
            "--name",
            "신입 New",
            "--org-role",
            "reader",
        ],
    );
    assert_eq!(added["email"], "new@pangyo.example");
    assert_eq!(added["name"], "신입 New");
    assert_eq!(added["org_role"], "Org Reader");
    let password = str_field(&added, "initial_password").to_string();
    assert!(password.len() >= 12, "{password}");

    // No list shows it again.
    let listed = kc.as_user(OWNER, &["--json", "user", "list"]).ok();
    let users: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert!(find(&users, "email", "new@pangyo.example").is_some(), "{users}");
    assert!(
        !listed.stdout.contains(&password),
        "user list shows the initial password"
    );
    assert!(!kc
        .as_user(AUDITOR, &["user", "list"])
        .ok()
        .stdout
        .contains(&password));
    assert!(!kc
        .as_user(OWNER, &["--json", "audit", "list", "--limit", "500"])
        .ok()
        .stdout
        .contains(&password));

    // The initial password works; as Org Reader the new user sees every project.
    let projects = kc
        .run(
            &["--json", "project", "list"],
            Some("new@pangyo.example"),
            Some(&password),
            None,
        )
        .json();
    assert_eq!(projects.as_array().unwrap().len(), 3);

    // Without --org-role.
    let plain = kc.json(
        OWNER,
        &[
            "user",
            "add",
            "--email",
            "plain@pangyo.example",
            "--name",
            "Plain",
        ],
    );
    assert_eq!(plain["org_role"], Value::Null);

    let probe: &[&str] = &["--json", "user", "list"];
    let line = kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["user", "add", "--email", "new@pangyo.example", "--name", "Twice"],
        6,
    );
    assert!(line.contains("new@pangyo.example"), "{line}");
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["user", "add", "--email", "not-an-email", "--name", "X"],
        2,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &[
            "user",
            "add",
            "--email",
            "x@pangyo.example",
            "--name",
            "X",
            "--org-role",
            "boss",
        ],
        2,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        AUDITOR,
        &["user", "add", "--email", "x@pangyo.example", "--name", "X"],
        4,
    );
    kc.refused_unchanged(
        OWNER,
        probe,
        ADMIN,
        &["user", "add", "--email", "x@pangyo.example", "--name", "X"],
        4,
    );
    kc.refused_unchanged(OWNER, probe, AUDITOR, &["user", "remove", DEV], 4);
    kc.refused_unchanged(
        OWNER,
        probe,
        OWNER,
        &["user", "remove", "nobody@pangyo.example"],
        5,
    );
    kc.refused_unchanged(OWNER, probe, OWNER, &["user", "remove", OWNER], 6);
    kc.as_user(DEV, &["user", "list"]).refused(4);

    // Remove: gone from the list, can no longer sign in.
    let removed = kc.json(OWNER, &["user", "remove", "new@pangyo.example"]);
    assert_eq!(removed["removed"], "new@pangyo.example");
    let users = kc.json(OWNER, &["user", "list"]);
    assert!(find(&users, "email", "new@pangyo.example").is_none(), "{users}");
    kc.run(
        &["project", "list"],
        Some("new@pangyo.example"),
        Some(&password),
        None,
    )
    .refused(3);
}

#[test]
fn password_change_reads_old_and_new_from_stdin() {
    let kc = Kc::demo();
    let change = |stdin: &str| kc.run(&["--json", "password", "change"], Some(DEV), None, Some(stdin));

    // Refusals first: wrong old password, too short a new one, a missing second line.
    change("wrong-old-pw\nnew-dev-password\n").refused(3);
    change("dev-demo-pw\nshort\n").refused(2);
    change("dev-demo-pw\n").refused(2);
    kc.run(
        &["password", "change"],
        None,
        None,
        Some("dev-demo-pw\nnew-dev-password\n"),
    )
    .refused(2);
    kc.as_user(DEV, &["project", "list"]).ok();

    let changed = change("dev-demo-pw\nnew-dev-password\n").json();
    assert_eq!(changed["changed"], true);
    kc.as_user(DEV, &["project", "list"]).refused(3);
    kc.run(&["project", "list"], Some(DEV), Some("new-dev-password"), None)
        .ok();
    // The new password also works through --password-stdin.
    kc.run(
        &["project", "list", "--password-stdin"],
        Some(DEV),
        None,
        Some("new-dev-password\n"),
    )
    .ok();
}

// ---------------------------------------------------------------------------------------------
// member

#[test]
fn member_commands() {
    let kc = Kc::demo();
    let members = kc.json(ADMIN, &["member", "list", "--project", "web-shop"]);
    let role_of = |members: &Value, email: &str| find(members, "email", email).map(|m| m["role"].clone());
    assert_eq!(role_of(&members, ADMIN), Some("Project Admin".into()));
    assert_eq!(role_of(&members, DEV), Some("Project Member".into()));
    assert_eq!(role_of(&members, VIEWER), Some("Project Reader".into()));
    assert_eq!(role_of(&members, GUEST), None);

    let added = kc.json(
        ADMIN,
        &[
            "member",
            "add",
            "--project",
            "web-shop",
            "--email",
            GUEST,
            "--role",
            "reader",
        ],
    );
    assert_eq!(added["role"], "Project Reader");
    let members = kc.json(ADMIN, &["member", "list", "--project", "web-shop"]);
    assert_eq!(role_of(&members, GUEST), Some("Project Reader".into()));
    // The new member now sees the project.
    assert_eq!(names(&kc.json(GUEST, &["project", "list"])), ["web-shop"]);

    // By project ID too.
    let ws = kc.project_id("web-shop");
    kc.json(
        ADMIN,
        &[
            "member",
            "set-role",
            "--project",
            &ws,
            "--email",
            GUEST,
            "--role",
            "member",
        ],
    );
    let members = kc.json(ADMIN, &["member", "list", "--project", "web-shop"]);
    assert_eq!(role_of(&members, GUEST), Some("Project Member".into()));

    let probe: &[&str] = &["--json", "member", "list", "--project", "web-shop"];
    kc.refused_unchanged(
        ADMIN,
        probe,
        DEV,
        &[
            "member",
            "add",
            "--project",
            "web-shop",
            "--email",
            AUDITOR,
            "--role",
            "reader",
        ],
        4,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        VIEWER,
        &[
            "member",
            "set-role",
            "--project",
            "web-shop",
            "--email",
            DEV,
            "--role",
            "admin",
        ],
        4,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &[
            "member",
            "add",
            "--project",
            "web-shop",
            "--email",
            AUDITOR,
            "--role",
            "owner",
        ],
        2,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &[
            "member",
            "add",
            "--project",
            "web-shop",
            "--email",
            DEV,
            "--role",
            "reader",
        ],
        6,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &[
            "member",
            "add",
            "--project",
            "web-shop",
            "--email",
            "nobody@pangyo.example",
            "--role",
            "reader",
        ],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["member", "remove", "--project", "web-shop", "--email", AUDITOR],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &[
            "member",
            "add",
            "--project",
            "no-such-project",
            "--email",
            AUDITOR,
            "--role",
            "reader",
        ],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        DEV,
        &["member", "remove", "--project", "web-shop", "--email", VIEWER],
        4,
    );

    let removed = kc.json(
        ADMIN,
        &["member", "remove", "--project", "web-shop", "--email", GUEST],
    );
    assert_eq!(removed["email"], GUEST);
    let members = kc.json(ADMIN, &["member", "list", "--project", "web-shop"]);
    assert_eq!(role_of(&members, GUEST), None);
    assert_eq!(kc.json(GUEST, &["project", "list"]), Value::Array(vec![]));
}

// ---------------------------------------------------------------------------------------------
// credential, token

/// `--role` limits a key's tokens to a role its owner holds (Keystone's application credential
/// `roles`); a stronger role is refused and creates nothing.
#[test]
fn a_credential_can_be_limited_to_a_role_its_owner_holds() {
    let kc = Kc::demo();
    let create =
        |role: &'static str, name: &'static str| create_key("iam", "web-shop", name, &["--role", role]);
    let key = kc.json(DEV, &create("reader", "read-only"));
    assert_eq!(key["role"], "Project Reader", "{key}");
    let listed = kc.json(DEV, &["credential", "list"]);
    assert_eq!(
        find(&listed, "name", "read-only").unwrap()["role"],
        "Project Reader"
    );
    let token = kc
        .issue(str_field(&key, "id"), Some(str_field(&key, "secret")))
        .json();
    assert_eq!(token["role"], "Project Reader", "its tokens carry the role");

    let probe: &[&str] = &["--json", "credential", "list"];
    for (role, code, says) in [
        ("admin", 4, "you do not hold Project Admin"),
        ("owner", 2, "must be admin, member or reader"),
    ] {
        let line = kc.refused_unchanged(DEV, probe, DEV, &create(role, "stronger"), code);
        assert!(line.contains(says), "{line}");
    }
}

#[test]
fn credential_keys_show_their_secret_once_and_stop_at_two_per_project() {
    let kc = Kc::demo();
    let before = kc.json(ADMIN, &["credential", "list"]);
    assert_eq!(names(&before), ["backup", "terraform"]);
    let terraform = find(&before, "name", "terraform").unwrap();
    assert_eq!(terraform["kind"], "iam");
    assert_eq!(terraform["project_name"], "web-shop");
    // Lists show a hint of a user key's ID, never the ID itself (the Credentials guide).
    assert!(terraform.get("id").is_none(), "{terraform}");
    let hint = str_field(terraform, "id_hint");
    assert!(
        hint.chars().count() == 9 && hint.chars().nth(4) == Some('…'),
        "{terraform}"
    );
    let backup = find(&before, "name", "backup").unwrap();
    assert_eq!(backup["kind"], "s3");
    assert_eq!(backup["project_name"], "data-lake");
    assert_eq!(
        names(&kc.json(ADMIN, &["credential", "list", "--kind", "s3"])),
        ["backup"]
    );

    // IAM: {"id", "secret"}.
    let iam = kc.json(
        ADMIN,
        &create_key("iam", "web-shop", "ci", &["--description", "CI 서버"]),
    );
    let iam_id = str_field(&iam, "id").to_string();
    let iam_secret = str_field(&iam, "secret").to_string();
    assert!(is_hex32(&iam_id), "{iam}");
    assert_secret(&iam_secret);
    assert_eq!(iam["name"], "ci");
    assert_eq!(iam["kind"], "iam");
    assert_eq!(iam["project_name"], "web-shop");
    assert_eq!(iam["status"], "Active");

    // The third IAM key in web-shop names the limit and creates nothing.
    let probe: &[&str] = &["--json", "credential", "list"];
    let line = kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &create_key("iam", "web-shop", "third", &[]),
        6,
    );
    assert!(line.contains("up to 2"), "{line}");

    // S3: {"access", "secret"}; the S3 limit is separate from the IAM one.
    let s3 = kc.json(ADMIN, &create_key("s3", "web-shop", "bucket", &[]));
    let s3_access = str_field(&s3, "access").to_string();
    let s3_secret = str_field(&s3, "secret").to_string();
    assert!(is_hex32(&s3_access), "{s3}");
    assert_secret(&s3_secret);
    assert_eq!(s3["kind"], "s3");

    // No list ever contains a secret, in any form.
    for args in [
        &["credential", "list"][..],
        &["--json", "credential", "list"],
        &["credential", "list", "--kind", "iam"],
        &["--json", "credential", "list", "--kind", "s3"],
    ] {
        let out = kc.as_user(ADMIN, args).ok().stdout;
        let iam_hint = format!("{}…{}", &iam_id[..4], &iam_id[28..]);
        assert!(
            out.contains(&iam_hint) && out.contains("terraform") || args.contains(&"s3"),
            "{out}"
        );
        assert!(
            !out.contains(&iam_id),
            "{args:?} shows the access key ID after its popup"
        );
        assert!(
            !out.contains(&s3_access),
            "{args:?} shows the authentication key after its popup"
        );
        assert!(!out.contains(&iam_secret), "{args:?} shows the IAM secret");
        assert!(!out.contains(&s3_secret), "{args:?} shows the S3 secret");
    }
    let listed = kc.json(ADMIN, &["credential", "list"]);
    assert_eq!(names(&listed), ["backup", "bucket", "ci", "terraform"]);
    let bucket = find(&listed, "name", "bucket").unwrap();
    assert_eq!(
        bucket["id_hint"],
        format!("{}…{}", &s3_access[..4], &s3_access[28..])
    );
    let s3_human = kc
        .as_user(ADMIN, &["credential", "list", "--kind", "s3"])
        .ok()
        .stdout;
    assert!(s3_human.contains("AUTHENTICATION KEY"), "{s3_human}");
    let audit = kc
        .as_user(OWNER, &["--json", "audit", "list", "--limit", "500"])
        .ok()
        .stdout;
    assert!(
        !audit.contains(&iam_secret) && !audit.contains(&s3_secret),
        "audit log holds a secret"
    );

    // More refusals.
    let long_name = "k".repeat(31);
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &create_key("iam", "data-lake", &long_name, &[]),
        2,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &create_key("iam", "no-such-project", "x", &[]),
        5,
    );
    kc.refused_unchanged(ADMIN, probe, ADMIN, &create_key("gcs", "data-lake", "x", &[]), 2);
    kc.refused_unchanged(ADMIN, probe, ADMIN, &create_key("iam", "ml-lab", "x", &[]), 4);
    kc.as_user(AUDITOR, &create_key("iam", "web-shop", "x", &[]))
        .refused(4);
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["credential", "delete", "--kind", "iam", &"0".repeat(32)],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["credential", "delete", "--kind", "s3", &iam_id],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        DEV,
        &["credential", "delete", "--kind", "iam", &iam_id],
        5,
    );

    // The IAM key is a credential for a token; deleting the key kills the token.
    let token = kc.issue(&iam_id, Some(&iam_secret)).json();
    assert_eq!(token["key_id"], iam_id.as_str());
    assert_eq!(token["principal_name"], ADMIN);
    assert_eq!(token["service_account"], false);
    assert_eq!(token["project_name"], "web-shop");
    assert_eq!(token["role"], "Project Admin");
    let token = str_field(&token, "token").to_string();
    kc.json(ADMIN, &["token", "verify", &token]);
    kc.as_user(VIEWER, &["token", "verify", &token]).refused(4);
    // An S3 key is no IAM credential.
    kc.run(
        &["token", "issue", "--access-key-id", &s3_access, "--secret-stdin"],
        None,
        None,
        Some(&s3_secret),
    )
    .refused(3);

    // Deleted by the full ID saved from the popup, or by name.
    let deleted = kc.json(ADMIN, &["credential", "delete", "--kind", "iam", &iam_id]);
    assert_eq!(deleted["deleted"], "ci");
    kc.json(ADMIN, &["credential", "delete", "--kind", "s3", "bucket"]);
    assert_eq!(kc.json(ADMIN, &["credential", "list"]), before);
    kc.as_user(ADMIN, &["token", "verify", &token]).refused(3);
    kc.run(
        &["token", "issue", "--access-key-id", &iam_id, "--secret-stdin"],
        None,
        None,
        Some(&iam_secret),
    )
    .refused(3);
}

#[test]
fn token_issue_verify_revoke() {
    let kc = Kc::demo();
    let key = kc.json(DEV, &create_key("iam", "web-shop", "cli", &[]));
    let (id, secret) = (
        str_field(&key, "id").to_string(),
        str_field(&key, "secret").to_string(),
    );
    // Issuing needs no sign-in: the key is the credential. Wrong secrets are refused alike.
    let issued = kc.issue(&id, Some(&format!("{secret}\n"))).json();
    assert_eq!(issued["role"], "Project Member");
    assert_eq!(issued["principal_name"], DEV);
    let token = str_field(&issued, "token").to_string();
    assert!(!token.is_empty() && !token.contains(&secret), "{token}");
    let human = kc
        .run(
            &["token", "issue", "--access-key-id", &id, "--secret-stdin"],
            None,
            None,
            Some(&secret),
        )
        .ok();
    assert!(!human.stdout.trim().is_empty());

    let wrong = kc.issue(&id, Some("not-the-secret\n")).refused(3);
    let unknown = kc.issue(&"0".repeat(32), Some(&secret)).refused(3);
    assert_eq!(wrong, unknown, "unknown key and wrong secret must look alike");
    kc.issue(&id, None).refused(2);
    kc.run(
        &["token", "issue", "--access-key-id", &id],
        None,
        None,
        Some(&secret),
    )
    .refused(2);

    // Verify: the token's own principal or an Org Admin (Keystone's
    // service_admin_or_token_subject); others are refused; any tampering is refused.
    kc.as_user(AUDITOR, &["token", "verify", &token]).refused(4);
    let verified = kc.json(OWNER, &["token", "verify", &token]);
    assert_eq!(verified["key_id"], id.as_str());
    assert_eq!(verified["project_name"], "web-shop");
    assert_eq!(verified["role"], "Project Member");
    assert_eq!(verified["service_account"], false);
    let human = kc.as_user(OWNER, &["token", "verify", &token]).ok();
    assert!(human.stdout.contains("web-shop"), "{human:?}");
    kc.anonymous(&["token", "verify", &token]).refused(2);
    kc.as_user(AUDITOR, &["token", "verify", "garbage"]).refused(3);
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    kc.as_user(AUDITOR, &["token", "verify", &tampered]).refused(3);

    // Revoke: someone else's token needs member management; the holder may revoke.
    kc.as_user(VIEWER, &["token", "revoke", &token]).refused(4);
    kc.json(DEV, &["token", "verify", &token]);
    kc.as_user(DEV, &["token", "revoke", "garbage"]).refused(3);
    let revoked = kc.json(DEV, &["token", "revoke", &token]);
    assert_eq!(revoked["revoked"], true);
    kc.as_user(OWNER, &["token", "verify", &token]).refused(3);
    kc.as_user(DEV, &["token", "revoke", &token]).refused(3);

    // A fresh token from the same key still works; a Project Admin may revoke it.
    let second = str_field(&kc.issue(&id, Some(&secret)).json(), "token").to_string();
    kc.json(OWNER, &["token", "verify", &second]);
    kc.json(ADMIN, &["token", "revoke", &second]);
    kc.as_user(OWNER, &["token", "verify", &second]).refused(3);
}

// ---------------------------------------------------------------------------------------------
// sa, sa-key

#[test]
fn service_account_commands_and_their_refusals() {
    let kc = Kc::demo();
    let ws = kc.project_id("web-shop");
    let probe: &[&str] = &["--json", "sa", "list", "--project", "web-shop"];

    let sa = kc.json(
        ADMIN,
        &[
            "sa",
            "create",
            "--project",
            "web-shop",
            "--name",
            "api-worker",
            "--description",
            "API 작업자",
        ],
    );
    let sa_id = format!("api-worker-{ws}@kc.serviceaccount.com");
    assert_eq!(sa["id"], sa_id.as_str());
    assert_eq!(sa["name"], "api-worker");
    assert_eq!(sa["status"], "Active");
    assert_eq!(sa["role"], "Project Member");
    assert_eq!(sa["project_id"], ws.as_str());
    let list = kc.json(ADMIN, &["sa", "list", "--project", "web-shop"]);
    assert_eq!(names(&list), ["api-worker", "batch-sync", "deploy-bot"]);
    assert_eq!(find(&list, "name", "batch-sync").unwrap()["status"], "Inactive");
    // Org Admin and Org Reader may view; Project Member and Reader may not.
    assert_eq!(kc.json(AUDITOR, &["sa", "list", "--project", &ws]), list);
    assert_eq!(kc.json(OWNER, &["sa", "list", "--project", "web-shop"]), list);
    kc.as_user(DEV, &["sa", "list", "--project", "web-shop"])
        .refused(4);
    kc.as_user(VIEWER, &["sa", "list", "--project", "web-shop"])
        .refused(4);
    let human = kc.as_user(ADMIN, &["sa", "list", "--project", "web-shop"]).ok();
    assert!(human.stdout.contains(&sa_id), "{human:?}");

    // Creation refusals.
    let create = |name: &str| ["sa", "create", "--project", "web-shop", "--name", name].map(String::from);
    let refuse_create = |user: &str, name: &str, code: i32| {
        let args = create(name);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kc.refused_unchanged(ADMIN, probe, user, &args, code)
    };
    refuse_create(DEV, "by-member", 4);
    refuse_create(VIEWER, "by-reader", 4);
    refuse_create(AUDITOR, "by-org-reader", 4);
    refuse_create(ADMIN, "API-worker2", 2);
    refuse_create(ADMIN, "배포-봇", 2);
    refuse_create(ADMIN, "deploy봇", 2);
    refuse_create(ADMIN, "9lives", 2);
    refuse_create(ADMIN, "trailing-", 2);
    refuse_create(ADMIN, "has space", 2);
    refuse_create(ADMIN, "", 2);
    let line = refuse_create(ADMIN, &"s".repeat(31), 2);
    assert!(line.contains("30"), "the limit is named: {line}");
    refuse_create(ADMIN, "deploy-bot", 6);
    kc.json(
        ADMIN,
        &["sa", "create", "--project", "web-shop", "--name", &"s".repeat(30)],
    );
    kc.as_user(
        ADMIN,
        &["sa", "create", "--project", "no-such-project", "--name", "x"],
    )
    .refused(5);
    kc.as_user(ADMIN, &["sa", "create", "--project", "ml-lab", "--name", "x"])
        .refused(4);

    // Status.
    let probe_after: &[&str] = &["--json", "sa", "list", "--project", "web-shop"];
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        ADMIN,
        &["sa", "set-status", &sa_id, "paused"],
        2,
    );
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        DEV,
        &["sa", "set-status", &sa_id, "inactive"],
        4,
    );
    let unknown_sa = format!("ghost-{ws}@kc.serviceaccount.com");
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        ADMIN,
        &["sa", "set-status", &unknown_sa, "inactive"],
        5,
    );
    assert_eq!(
        kc.json(ADMIN, &["sa", "set-status", &sa_id, "inactive"])["status"],
        "Inactive"
    );
    assert_eq!(
        kc.json(ADMIN, &["sa", "set-status", &sa_id, "active"])["status"],
        "Active"
    );

    // Delete: the confirmation phrase must match exactly.
    for phrase in [
        "Delete SA",
        "Delete service",
        "Delete service account ",
        " Delete service account",
        "delete service account",
        "DELETE SERVICE ACCOUNT",
        "Delete Service Account",
        "",
    ] {
        let line = kc.refused_unchanged(
            ADMIN,
            probe_after,
            ADMIN,
            &["sa", "delete", &sa_id, "--confirm", phrase],
            2,
        );
        assert!(line.contains(DELETE_SA), "the message names the phrase: {line}");
    }
    kc.refused_unchanged(ADMIN, probe_after, ADMIN, &["sa", "delete", &sa_id], 2);
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        DEV,
        &["sa", "delete", &sa_id, "--confirm", DELETE_SA],
        4,
    );
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        ADMIN,
        &["sa", "delete", &unknown_sa, "--confirm", DELETE_SA],
        5,
    );
    kc.refused_unchanged(
        ADMIN,
        probe_after,
        ADMIN,
        &["sa", "delete", "not-an-sa-id", "--confirm", DELETE_SA],
        5,
    );

    let deleted = kc.json(ADMIN, &["sa", "delete", &sa_id, "--confirm", DELETE_SA]);
    assert_eq!(deleted["deleted"], sa_id.as_str());
    let list = kc.json(ADMIN, &["sa", "list", "--project", "web-shop"]);
    assert!(find(&list, "id", &sa_id).is_none(), "{list}");
    kc.as_user(ADMIN, &["sa", "delete", &sa_id, "--confirm", DELETE_SA])
        .refused(5);
    kc.as_user(ADMIN, &["sa-key", "list", &sa_id]).refused(5);
}

#[test]
fn sa_key_commands_and_their_refusals() {
    let kc = Kc::demo();
    let ws = kc.project_id("web-shop");
    let deploy = format!("deploy-bot-{ws}@kc.serviceaccount.com");
    let batch = format!("batch-sync-{ws}@kc.serviceaccount.com");

    let keys = kc.json(ADMIN, &["sa-key", "list", &deploy]);
    assert_eq!(names(&keys), ["ci-pipeline"]);
    assert_eq!(keys[0]["status"], "Active");
    assert_eq!(keys[0]["kind"], "iam");
    assert_eq!(kc.json(AUDITOR, &["sa-key", "list", &deploy]), keys);
    kc.as_user(DEV, &["sa-key", "list", &deploy]).refused(4);
    // The inactive demo account's key is listed as Expired.
    assert_eq!(
        kc.json(ADMIN, &["sa-key", "list", &batch])[0]["status"],
        "Expired"
    );

    let created = kc.json(
        ADMIN,
        &[
            "sa-key",
            "create",
            &deploy,
            "--name",
            "argo",
            "--description",
            "Argo CD",
        ],
    );
    let key_id = str_field(&created, "id").to_string();
    let secret = str_field(&created, "secret").to_string();
    assert!(is_hex32(&key_id), "{created}");
    assert_secret(&secret);
    assert_eq!(created["name"], "argo");
    assert_eq!(created["description"], "Argo CD");
    for args in [
        &["sa-key", "list", &deploy][..],
        &["--json", "sa-key", "list", &deploy],
    ] {
        let out = kc.as_user(ADMIN, args).ok().stdout;
        assert!(out.contains(&key_id), "{out}");
        assert!(!out.contains(&secret), "{args:?} shows the secret");
    }

    let probe_owned = ["--json", "sa-key", "list", deploy.as_str()];
    let probe: &[&str] = &probe_owned;
    let line = kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["sa-key", "create", &deploy, "--name", "third"],
        6,
    );
    assert!(line.contains("up to 2"), "{line}");
    let batch_probe_owned = ["--json", "sa-key", "list", batch.as_str()];
    let line = kc.refused_unchanged(
        ADMIN,
        &batch_probe_owned,
        ADMIN,
        &["sa-key", "create", &batch, "--name", "n2"],
        6,
    );
    assert!(line.to_lowercase().contains("inactive"), "{line}");
    kc.refused_unchanged(
        ADMIN,
        probe,
        DEV,
        &["sa-key", "create", &deploy, "--name", "x"],
        4,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        AUDITOR,
        &["sa-key", "delete", &deploy, &key_id, "--confirm", DELETE_KEY],
        4,
    );
    let unknown_sa = format!("ghost-{ws}@kc.serviceaccount.com");
    kc.as_user(ADMIN, &["sa-key", "list", &unknown_sa]).refused(5);
    kc.as_user(ADMIN, &["sa-key", "create", &unknown_sa, "--name", "x"])
        .refused(5);
    kc.as_user(ADMIN, &["sa-key", "list", "not-an-sa-id"]).refused(5);

    // Delete: exact phrase; unknown key; then success.
    for phrase in [
        "Delete key",
        "Delete IAM",
        "Delete IAM access key ",
        "delete iam access key",
        "Delete iam access key",
        "DELETE IAM ACCESS KEY",
        "Delete service account",
    ] {
        let line = kc.refused_unchanged(
            ADMIN,
            probe,
            ADMIN,
            &["sa-key", "delete", &deploy, &key_id, "--confirm", phrase],
            2,
        );
        assert!(line.contains(DELETE_KEY), "the message names the phrase: {line}");
    }
    kc.refused_unchanged(ADMIN, probe, ADMIN, &["sa-key", "delete", &deploy, &key_id], 2);
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &[
            "sa-key",
            "delete",
            &deploy,
            &"0".repeat(32),
            "--confirm",
            DELETE_KEY,
        ],
        5,
    );
    // A key of another service account is not found under this one.
    let batch_key = kc.json(ADMIN, &["sa-key", "list", &batch])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["sa-key", "delete", &deploy, &batch_key, "--confirm", DELETE_KEY],
        5,
    );

    let deleted = kc.json(
        ADMIN,
        &["sa-key", "delete", &deploy, &key_id, "--confirm", DELETE_KEY],
    );
    assert_eq!(deleted["deleted"], key_id.as_str());
    assert_eq!(
        names(&kc.json(ADMIN, &["sa-key", "list", &deploy])),
        ["ci-pipeline"]
    );
    kc.run(
        &["token", "issue", "--access-key-id", &key_id, "--secret-stdin"],
        None,
        None,
        Some(&secret),
    )
    .refused(3);
    // An expired key can be deleted.
    kc.json(
        ADMIN,
        &["sa-key", "delete", &batch, &batch_key, "--confirm", DELETE_KEY],
    );
    assert_eq!(kc.json(ADMIN, &["sa-key", "list", &batch]), Value::Array(vec![]));
}

#[test]
fn full_scenario_deactivating_a_service_account_expires_its_keys_for_good() {
    let kc = Kc::demo();
    let project = kc.json(
        OWNER,
        &[
            "project",
            "create",
            "--name",
            "pipeline",
            "--nickname",
            "파이프라인",
        ],
    );
    let pid = str_field(&project, "id").to_string();
    let sa = kc.json(
        OWNER,
        &["sa", "create", "--project", "pipeline", "--name", "runner"],
    );
    let sa_id = str_field(&sa, "id").to_string();
    assert_eq!(sa_id, format!("runner-{pid}@kc.serviceaccount.com"));
    let key = kc.json(OWNER, &["sa-key", "create", &sa_id, "--name", "job"]);
    let (key_id, secret) = (
        str_field(&key, "id").to_string(),
        str_field(&key, "secret").to_string(),
    );
    let issue = || kc.issue(&key_id, Some(&secret));

    let issued = issue().json();
    assert_eq!(issued["service_account"], true);
    assert_eq!(issued["principal_id"], sa_id.as_str());
    assert_eq!(issued["project_id"], pid.as_str());
    assert_eq!(issued["role"], "Project Member");
    let token = str_field(&issued, "token").to_string();
    let verified = kc.json(OWNER, &["token", "verify", &token]);
    assert_eq!(verified["key_id"], key_id.as_str());
    assert_eq!(verified["principal_name"], "runner");
    assert_eq!(verified["project_name"], "pipeline");

    kc.json(OWNER, &["sa", "set-status", &sa_id, "inactive"]);
    kc.as_user(OWNER, &["token", "verify", &token]).refused(3);
    issue().refused(3);
    assert_eq!(
        kc.json(OWNER, &["sa-key", "list", &sa_id])[0]["status"],
        "Expired"
    );

    let reactivated = kc.json(OWNER, &["sa", "set-status", &sa_id, "active"]);
    assert_eq!(reactivated["status"], "Active");
    kc.as_user(OWNER, &["token", "verify", &token]).refused(3);
    issue().refused(3);
    let keys = kc.json(OWNER, &["sa-key", "list", &sa_id]);
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert_eq!(keys[0]["id"], key_id.as_str());
    assert_eq!(keys[0]["status"], "Expired");
    let sas = kc.json(OWNER, &["sa", "list", "--project", "pipeline"]);
    assert_eq!(sas[0]["status"], "Active");

    // The expired key still counts toward the limit: one more, then the limit.
    let fresh = kc.json(OWNER, &["sa-key", "create", &sa_id, "--name", "job2"]);
    let fresh_token = kc
        .issue(str_field(&fresh, "id"), Some(str_field(&fresh, "secret")))
        .json();
    kc.json(OWNER, &["token", "verify", str_field(&fresh_token, "token")]);
    let line = kc
        .as_user(OWNER, &["sa-key", "create", &sa_id, "--name", "job3"])
        .refused(6);
    assert!(line.contains("up to 2"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// service, agent

#[test]
fn service_enable_creates_its_agent() {
    let kc = Kc::demo();
    let ws = kc.project_id("web-shop");
    let agents = kc.json(ADMIN, &["agent", "list", "--project", "web-shop"]);
    let services = |agents: &Value| -> Vec<String> {
        agents
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["service"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    };
    assert_eq!(services(&agents), ["kubernetes-engine"]);

    let agent = kc.json(DEV, &["service", "enable", "--project", "web-shop", "data-query"]);
    assert_eq!(agent["service"], "data-query");
    assert_eq!(
        agent["id"],
        format!("{ws}@data-query.kc.serviceaccount.com").as_str()
    );
    assert_eq!(agent["status"], "Active");
    let agents = kc.json(ADMIN, &["agent", "list", "--project", "web-shop"]);
    assert_eq!(services(&agents), ["data-query", "kubernetes-engine"]);
    assert_eq!(kc.json(AUDITOR, &["agent", "list", "--project", &ws]), agents);
    let human = kc
        .as_user(OWNER, &["agent", "list", "--project", "web-shop"])
        .ok();
    assert!(
        human
            .stdout
            .contains(&format!("{ws}@data-query.kc.serviceaccount.com")),
        "{human:?}"
    );
    kc.as_user(DEV, &["agent", "list", "--project", "web-shop"])
        .refused(4);
    kc.as_user(ADMIN, &["agent", "list", "--project", "no-such-project"])
        .refused(5);

    let probe: &[&str] = &["--json", "agent", "list", "--project", "web-shop"];
    let line = kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["service", "enable", "--project", "web-shop", "data-query"],
        6,
    );
    assert!(line.contains("data-query"), "{line}");
    kc.refused_unchanged(
        ADMIN,
        probe,
        ADMIN,
        &["service", "enable", "--project", "web-shop", "quantum"],
        2,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        VIEWER,
        &["service", "enable", "--project", "web-shop", "hadoop-eco"],
        4,
    );
    kc.refused_unchanged(
        ADMIN,
        probe,
        AUDITOR,
        &["service", "enable", "--project", "web-shop", "hadoop-eco"],
        4,
    );
    kc.as_user(
        ADMIN,
        &["service", "enable", "--project", "no-such-project", "hadoop-eco"],
    )
    .refused(5);
}

// ---------------------------------------------------------------------------------------------
// inquiry, helpdesk, audit

#[test]
fn helpdesk_operator_signs_in_and_approves_and_rejects() {
    let kc = Kc::demo();
    // The operator is a principal of its own: nobody else reads the queue or resolves inquiries.
    kc.anonymous(&["helpdesk", "list"]).refused(2);
    kc.as_user(OWNER, &["helpdesk", "list"]).refused(4);
    let wrong = kc
        .run(
            &["helpdesk", "list"],
            Some(OPERATOR),
            Some("not-the-password"),
            None,
        )
        .refused(3);
    assert!(wrong.contains("wrong email or password"), "{wrong}");
    let queue = kc.as_user(OPERATOR, &["--json", "helpdesk", "list"]).json();
    assert_eq!(queue.as_array().unwrap().len(), 2, "{queue}");
    let deletion = find(&queue, "detail_type", "Project deletion").expect("ml-lab deletion request");
    assert_eq!(deletion["project_name"], "ml-lab");
    assert_eq!(deletion["state"], "Pending");
    let deletion_id = str_field(deletion, "id").to_string();
    let billing = find(&queue, "detail_type", "Billing").expect("billing inquiry");
    let billing_id = str_field(billing, "id").to_string();
    let human = kc.as_user(OPERATOR, &["helpdesk", "list"]).ok();
    assert!(
        human.stdout.contains(&deletion_id) && human.stdout.contains("Pending"),
        "{human:?}"
    );

    // A user sees their own inquiries; the Org Admin sees the organization's.
    let mine = kc.json(DEV, &["inquiry", "list"]);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["id"], billing_id.as_str());
    assert_eq!(kc.json(OWNER, &["inquiry", "list"]).as_array().unwrap().len(), 2);
    assert_eq!(kc.json(VIEWER, &["inquiry", "list"]), Value::Array(vec![]));

    let probe: &[&str] = &["--json", "helpdesk", "list"];
    let before = kc.as_user(OPERATOR, probe).ok().stdout;
    kc.as_user(OPERATOR, &["helpdesk", "approve", &"f".repeat(32)])
        .refused(5);
    kc.as_user(OPERATOR, &["helpdesk", "reject", &"f".repeat(32)])
        .refused(5);
    assert_eq!(kc.as_user(OPERATOR, probe).ok().stdout, before);

    // Approving the deletion deletes ml-lab.
    assert!(names(&kc.json(OWNER, &["project", "list"])).contains(&"ml-lab".to_string()));
    let approved = kc
        .as_user(OPERATOR, &["--json", "helpdesk", "approve", &deletion_id])
        .json();
    assert_eq!(approved["state"], "Approved");
    assert_eq!(
        names(&kc.json(OWNER, &["project", "list"])),
        ["data-lake", "web-shop"]
    );
    kc.as_user(OWNER, &["sa", "list", "--project", "ml-lab"])
        .refused(5);

    let rejected = kc
        .as_user(OPERATOR, &["--json", "helpdesk", "reject", &billing_id])
        .json();
    assert_eq!(rejected["state"], "Rejected");
    assert_eq!(kc.json(DEV, &["inquiry", "list"])[0]["state"], "Rejected");

    // Resolved inquiries cannot be resolved again.
    let before = kc.as_user(OPERATOR, probe).ok().stdout;
    kc.as_user(OPERATOR, &["helpdesk", "approve", &deletion_id])
        .refused(6);
    kc.as_user(OPERATOR, &["helpdesk", "reject", &deletion_id])
        .refused(6);
    kc.as_user(OPERATOR, &["helpdesk", "approve", &billing_id])
        .refused(6);
    assert_eq!(kc.as_user(OPERATOR, probe).ok().stdout, before);
    assert_eq!(
        names(&kc.json(OWNER, &["project", "list"])),
        ["data-lake", "web-shop"]
    );
}

#[test]
fn audit_list_is_newest_first_and_limited() {
    let kc = Kc::demo();
    kc.json(OWNER, &["project", "edit", "web-shop", "--nickname", "Shop"]);
    kc.as_user(
        AUDITOR,
        &["project", "create", "--name", "sneaky", "--nickname", "S"],
    )
    .refused(4);

    let events = kc.json(OWNER, &["audit", "list", "--limit", "10"]);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 10);
    for e in events {
        for field in ["seq", "at", "actor", "via", "action", "target", "outcome"] {
            assert!(!e[field].is_null(), "{field} missing in {e}");
        }
    }
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "not newest first: {seqs:?}");
    // The refused create is recorded, with who tried and why, after (above) the edit.
    let position = |action: &str| events.iter().position(|e| e["action"] == action);
    let refused =
        position("project.create").unwrap_or_else(|| panic!("refused create not audited: {events:?}"));
    let edit = position("project.edit").unwrap_or_else(|| panic!("edit not audited: {events:?}"));
    assert!(refused < edit, "newest first: {events:?}");
    assert_eq!(events[refused]["actor"], AUDITOR);
    assert_eq!(events[refused]["target"], "sneaky");
    assert!(
        events[refused]["outcome"]
            .as_str()
            .unwrap()
            .starts_with("refused"),
        "{events:?}"
    );
    assert_eq!(events[edit]["actor"], OWNER);
    assert_eq!(events[edit]["outcome"], "ok");
    assert_eq!(events[edit]["via"], "password");

    assert_eq!(
        kc.json(OWNER, &["audit", "list", "--limit", "3"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        kc.json(OWNER, &["audit", "list", "--limit", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let all = kc.json(AUDITOR, &["audit", "list"]);
    assert!(all.as_array().unwrap().len() > 3);
    // Others see only their own events.
    let dev = kc.json(DEV, &["audit", "list", "--limit", "100"]);
    assert!(!dev.as_array().unwrap().is_empty());
    assert!(dev.as_array().unwrap().iter().all(|e| e["actor"] == DEV), "{dev}");
    let human = kc.as_user(OWNER, &["audit", "list", "--limit", "20"]).ok();
    assert!(human.stdout.contains("project.edit"), "{human:?}");

    kc.as_user(OWNER, &["audit", "list", "--limit", "abc"]).refused(2);
    kc.as_user(OWNER, &["audit", "list", "--limit", "-1"]).refused(2);
}

// ---------------------------------------------------------------------------------------------
// exit codes 2, 3 across commands

#[test]
fn usage_errors_exit_2_with_one_line() {
    let kc = Kc::demo();
    let probe: &[&str] = &["--json", "project", "list"];
    let before = kc.as_user(OWNER, probe).ok().stdout;

    let line = kc.as_user(OWNER, &["project", "list", "--bogus"]).refused(2);
    assert!(line.contains("--bogus"), "{line}");
    kc.as_user(OWNER, &["--json", "project", "frobnicate"]).refused(2);
    kc.as_user(OWNER, &["credential", "list", "--kind", "gcs"])
        .refused(2);
    kc.as_user(OWNER, &["project", "create", "--name", "x y", "--nickname", "X"])
        .refused(2);
    // Missing --user.
    let line = kc
        .run(&["project", "list"], None, Some("owner-demo-pw"), None)
        .refused(2);
    assert!(line.contains("--user"), "{line}");
    let line = kc
        .run(
            &[
                "--json",
                "project",
                "create",
                "--name",
                "nouser",
                "--nickname",
                "N",
            ],
            None,
            Some("owner-demo-pw"),
            None,
        )
        .refused(2);
    assert!(line.contains("--user"), "{line}");
    // Missing password.
    let line = kc.run(&["project", "list"], Some(OWNER), None, None).refused(2);
    assert!(line.contains("password"), "{line}");
    kc.run(
        &["project", "list", "--password-stdin"],
        Some(OWNER),
        None,
        Some(""),
    )
    .refused(2);

    assert_eq!(kc.as_user(OWNER, probe).ok().stdout, before);
}

#[test]
fn a_missing_required_option_is_named_in_the_message() {
    // cli.md: every non-zero exit prints one clear line saying what was wrong.
    let kc = Kc::empty();
    let line = kc.as_user(ADMIN, &["sa", "list"]).refused(2);
    assert!(
        line.contains("--project"),
        "the message must name the missing option: {line}"
    );
    let line = kc
        .as_user(OWNER, &["project", "create", "--name", "x-proj"])
        .refused(2);
    assert!(
        line.contains("--nickname"),
        "the message must name the missing option: {line}"
    );
}

#[test]
fn a_command_group_without_its_subcommand_is_a_one_line_usage_error() {
    // cli.md: every non-zero exit prints one clear line on stderr (here: exit 2 and the whole
    // help text instead).
    let kc = Kc::empty();
    kc.as_user(ADMIN, &["sa"]).refused(2);
    kc.as_user(ADMIN, &["credential"]).refused(2);
}

#[test]
fn authentication_failures_exit_3() {
    let kc = Kc::demo();
    let probe: &[&str] = &["--json", "project", "list"];
    let before = kc.as_user(OWNER, probe).ok().stdout;

    let wrong = kc
        .run(&["project", "list"], Some(OWNER), Some("wrong-password"), None)
        .refused(3);
    let unknown = kc
        .run(
            &["project", "list"],
            Some("nobody@pangyo.example"),
            Some("owner-demo-pw"),
            None,
        )
        .refused(3);
    assert_eq!(wrong, unknown, "unknown user and wrong password must look alike");
    kc.run(
        &["project", "list", "--password-stdin"],
        Some(OWNER),
        None,
        Some("wrong-password\n"),
    )
    .refused(3);
    kc.run(
        &[
            "--json",
            "project",
            "create",
            "--name",
            "by-stranger",
            "--nickname",
            "X",
        ],
        Some(OWNER),
        Some("owner-demo-pw "),
        None,
    )
    .refused(3);
    assert_eq!(kc.as_user(OWNER, probe).ok().stdout, before);

    // The right password through each channel works (and the failures above did not lock out).
    kc.run(
        &["project", "list", "--password-stdin"],
        Some(OWNER),
        None,
        Some("owner-demo-pw\n"),
    )
    .ok();
    let mut cmd = kc.command(&["--json", "project", "list"], None, Some("owner-demo-pw"));
    cmd.env("KC_CONSOLE_USER", OWNER);
    assert_eq!(run_command(cmd, &["project", "list"], None).ok().stdout, before);
}

// ---------------------------------------------------------------------------------------------
// exit code 7: storage

/// Starts `token issue`, which opens the database and then blocks reading the secret from
/// stdin; returns once the process holds the data directory's lock.
fn spawn_lock_holder(kc: &Kc) -> Child {
    let mut cmd = kc.command(
        &[
            "token",
            "issue",
            "--access-key-id",
            "lock-holder",
            "--secret-stdin",
        ],
        None,
        None,
    );
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kc-console starts");
    let lock_file = kc.path().join("kc-console.lock");
    let pid = child.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::fs::read_to_string(&lock_file).is_ok_and(|s| s.trim() == pid) {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the lock holder exited early with {status}");
        }
        assert!(Instant::now() < deadline, "the lock holder never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_process_on_the_same_data_dir_exits_7() {
    let kc = Kc::demo();
    let before = kc.as_user(OWNER, &["--json", "project", "list"]).ok().stdout;

    let mut holder = spawn_lock_holder(&kc);
    let line = kc.as_user(OWNER, &["project", "list"]).refused(7);
    assert!(line.contains("in use"), "{line}");
    let line = kc
        .as_user(
            OWNER,
            &[
                "--json",
                "project",
                "create",
                "--name",
                "while-locked",
                "--nickname",
                "L",
            ],
        )
        .refused(7);
    assert!(line.contains("in use"), "{line}");
    kc.as_user(OPERATOR, &["helpdesk", "list"]).refused(7);
    kc.run(&["init", "--demo"], None, None, None).refused(7);

    // Let the holder finish (its key is bogus: exit 3), then the directory is free again.
    {
        let mut stdin = holder.stdin.take().unwrap();
        stdin.write_all(b"not-a-secret\n").unwrap();
    }
    let out = holder.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        kc.as_user(OWNER, &["--json", "project", "list"]).ok().stdout,
        before
    );
}

/// Deterministic garbage.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn overwrite_files(dir: &Path, seed: u64, skip: &[&str]) -> usize {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            count += overwrite_files(&path, seed + 1, skip);
        } else if !skip.iter().any(|s| path.file_name().is_some_and(|n| n == *s)) {
            let len = std::fs::metadata(&path).unwrap().len().max(4096) as usize;
            std::fs::write(&path, garbage(len, seed + count as u64)).unwrap();
            count += 1;
        }
    }
    count
}

#[test]
fn a_corrupted_database_exits_7_without_panicking() {
    for (seed, extra) in [(1u64, false), (99, true)] {
        let kc = Kc::demo();
        if extra {
            // With more history on disk (a snapshot), too.
            for i in 0..3 {
                kc.json(
                    OWNER,
                    &[
                        "project",
                        "create",
                        "--name",
                        &format!("proj-{i}"),
                        "--nickname",
                        "P",
                    ],
                );
            }
        }
        let files = overwrite_files(&kc.path().join("db"), seed, &[]);
        assert!(files > 0);
        for args in [&["project", "list"][..], &["--json", "user", "list"]] {
            let line = kc.as_user(OWNER, args).refused(7);
            assert!(line.to_lowercase().contains("database"), "{line}");
        }
        kc.as_user(OPERATOR, &["helpdesk", "list"]).refused(7);
    }
}

#[test]
fn a_corrupted_data_file_is_not_mistaken_for_an_empty_directory() {
    // An organization of our own, then garbage over the database's data file (its small `conf`
    // file left intact). The directory is unreadable, not empty: cli.md wants exit 7, and the
    // organization must not be silently replaced by the demo one (with its public passwords).
    let kc = Kc::empty();
    kc.run(
        &["init", "--org", "Acme", "--admin", "boss@acme.example"],
        None,
        Some("boss-password-1"),
        None,
    )
    .ok();
    overwrite_files(&kc.path().join("db"), 7, &["conf"]);
    let boss = kc.run(
        &["user", "list"],
        Some("boss@acme.example"),
        Some("boss-password-1"),
        None,
    );
    let demo_owner = kc.as_user(OWNER, &["user", "list"]);
    assert_ne!(
        demo_owner.code, 0,
        "the corrupted organization was replaced by the demo one: {boss:?} {demo_owner:?}"
    );
    let line = boss.refused(7);
    assert!(line.to_lowercase().contains("database"), "{line}");
}

#[test]
fn inquiry_detailed_types_are_the_consoles_choices() {
    let kc = Kc::demo();
    let submit = |kind: &str, detail: &str| -> Vec<String> {
        [
            "inquiry",
            "submit",
            "--type",
            kind,
            "--detail-type",
            detail,
            "--title",
            "A question",
            "--details",
            "D",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let args = submit("general", "Billing");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let inquiry = kc.json(DEV, &args);
    assert_eq!(inquiry["detail_type"], "Billing");
    // Free text is refused with the choices the console offers, and nothing is filed.
    let args = submit("technical", "Something else");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let line = kc.refused_unchanged(DEV, &["--json", "inquiry", "list"], DEV, &args, 2);
    assert!(
        line.contains("Service › Project deletion") && line.contains("Service › Usage"),
        "{line}"
    );
}
