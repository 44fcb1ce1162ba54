//! Keystone conformance (issue 18): the standard OpenStack clients — the `openstack` CLI
//! (python-openstackclient), openstacksdk and python-keystoneclient — make every identity call
//! an IAM-key user makes against `kc-console serve`, for three principals of the demo
//! organization: its owner (Org Admin, Project Admin of every project), a Project Reader
//! (viewer@) and a service account (deploy-bot), with their IAM access keys and, for the two
//! users, their console passwords (Keystone's `password` method).
//!
//! Every (call, principal, client) has its expected outcome here — works, or refused with
//! Keystone's status and a reason — and the run is checked against it. The CLI runs as a user
//! types it (one `openstack` process per command); openstacksdk and keystoneclient run as a
//! script would, one Python process per principal (`tests/conformance/scripts.py`), which only
//! observes and reports.
//!
//! The run renders the table of the README's "Keystone conformance" section; the test fails
//! when the README's copy differs. `KC_UPDATE_CONFORMANCE=1` rewrites that section instead.
//!
//! The clients are installed from PyPI (`tests/conformance/requirements.txt`) into a virtual
//! environment: `.ci/run` makes `target/openstack-venv` and names it in `KC_OPENSTACK_VENV`;
//! without it, this test makes that environment itself.

#[path = "support/cli_args.rs"]
mod cli_args;
use cli_args::create_key;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KC: &str = env!("CARGO_BIN_EXE_kc-console");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const OWNER: &str = "owner@pangyo.example";
const OWNER_PW: &str = "owner-demo-pw";
const OWNER_NEW_PW: &str = "owner-demo-pw-2";
const READER: &str = "viewer@pangyo.example";
const READER_PW: &str = "viewer-demo-pw";
const ADMIN: &str = "admin@pangyo.example";

const BEGIN: &str = "<!-- conformance:begin -->";
const END: &str = "<!-- conformance:end -->";

// ---------------------------------------------------------------------------------------------
// What must hold
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Owner,
    Reader,
    Sa,
}

impl Who {
    const ALL: [Who; 3] = [Who::Owner, Who::Reader, Who::Sa];

    fn tag(self) -> &'static str {
        match self {
            Who::Owner => "owner",
            Who::Reader => "reader",
            Who::Sa => "sa",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Who::Owner => "owner",
            Who::Reader => "reader",
            Who::Sa => "service account",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Client {
    Cli,
    Sdk,
    Ksc,
}

impl Client {
    const ALL: [Client; 3] = [Client::Cli, Client::Sdk, Client::Ksc];

    fn parse(tag: &str) -> Client {
        match tag {
            "cli" => Client::Cli,
            "sdk" => Client::Sdk,
            "ksc" => Client::Ksc,
            other => panic!("unknown client {other}"),
        }
    }
}

/// The outcome a call must have.
#[derive(Clone, Copy, Debug)]
enum Want {
    Works,
    /// Refused with this status; the reason shown in the table; a word the server's message
    /// must contain (case-insensitive; "" when Keystone's message says nothing particular).
    Refused(u16, &'static str, &'static str),
}

type Cell = Option<Want>;
const W: Cell = Some(Want::Works);
const NO: Cell = None;
const RESTRICTED: Cell = Some(Want::Refused(
    403,
    "an IAM-key token is restricted",
    "not allowed",
));
const NOT_FOUND: Cell = Some(Want::Refused(404, "unknown ID", ""));
const NOT_YOURS: Cell = Some(Want::Refused(403, "not its own; Org Admin only", ""));
const LIST_ALL: Cell = Some(Want::Refused(403, "Org Admin only", ""));
const NO_ROLE: Cell = Some(Want::Refused(401, "no role in that project", ""));
const WRONG_PASSWORD: Cell = Some(Want::Refused(401, "wrong password", ""));
const ROLE_NOT_HELD: Cell = Some(Want::Refused(403, "a role the user does not hold", "role"));
const UNRESTRICTED: Cell = Some(Want::Refused(
    400,
    "`unrestricted` is not offered",
    "unrestricted",
));
const ACCESS_RULES: Cell = Some(Want::Refused(400, "access rules are not offered", "rule"));
const OTHER_SCOPE: Cell = Some(Want::Refused(403, "not the token's project", "scope"));
const UNSUPPORTED: Cell = Some(Want::Refused(401, "unsupported auth method", ""));

/// One call, as the table shows it, with its outcome per principal and client (CLI, SDK,
/// keystoneclient); a principal left out does not make the call.
struct Call {
    id: &'static str,
    what: &'static str,
    cli: &'static str,
    wants: &'static [(Who, [Cell; 3])],
}

use Who::{Owner, Reader, Sa};

const CALLS: &[Call] = &[
    Call {
        id: "token.issue",
        what: "issue a token with the IAM access key",
        cli: "token issue",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W]), (Sa, [W, W, W])],
    },
    Call {
        id: "token.validate",
        what: "validate the token",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "token.validate.nocatalog",
        what: "validate without the catalog (`?nocatalog`)",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "token.validate.sibling",
        what: "validate another token of the same principal (its own `audit_ids`)",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "token.validate.foreign",
        what: "validate another principal's token",
        cli: "",
        wants: &[
            (Owner, [NO, NO, W]),
            (Reader, [NO, NO, NOT_YOURS]),
            (Sa, [NO, NO, NOT_YOURS]),
        ],
    },
    Call {
        id: "token.revoke",
        what: "revoke a token",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "auth.by_name.user_id",
        what: "issue a token naming the key by name and `user.id`",
        cli: "",
        wants: &[(Owner, [NO, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "auth.by_name.user_name",
        what: "issue a token naming the key by name, `user.name` and `user.domain`",
        cli: "--os-application-credential-name NAME --os-username EMAIL --os-user-domain-name Default token issue",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W])],
    },
    Call {
        id: "auth.unsupported",
        what: "authenticate with a method the replica does not offer (TOTP)",
        cli: "",
        wants: &[(Owner, [NO, UNSUPPORTED, UNSUPPORTED])],
    },
    Call {
        id: "discovery",
        what: "discover the version from the unversioned `/identity` URL",
        cli: "--os-auth-url http://HOST/identity --os-auth-type password token issue",
        wants: &[(Owner, [W, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "appcred.list",
        what: "list application credentials (Keystone's fields, `roles` included)",
        cli: "application credential list",
        wants: &[(Owner, [W, W, W]), (Reader, [W, W, W]), (Sa, [W, W, W])],
    },
    Call {
        id: "appcred.list.name",
        what: "list by `?name=`, and by an unknown name (empty; openstacksdk filters on its side)",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "appcred.show.id",
        what: "show an application credential by ID",
        cli: "application credential show ID",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "appcred.show.name",
        what: "show / find an application credential by name",
        cli: "application credential show NAME",
        wants: &[(Owner, [W, W, W]), (Reader, [W, W, W]), (Sa, [W, W, W])],
    },
    Call {
        id: "appcred.show.unknown",
        what: "show an unknown ID",
        cli: "",
        wants: &[
            (Owner, [NO, NOT_FOUND, NOT_FOUND]),
            (Reader, [NO, NOT_FOUND, NOT_FOUND]),
            (Sa, [NO, NOT_FOUND, NOT_FOUND]),
        ],
    },
    Call {
        id: "appcred.create",
        what: "create an application credential with an IAM-key token",
        cli: "application credential create NAME",
        wants: &[
            (Owner, [RESTRICTED, RESTRICTED, RESTRICTED]),
            (Reader, [RESTRICTED, RESTRICTED, RESTRICTED]),
            (Sa, [NO, RESTRICTED, RESTRICTED]),
        ],
    },
    Call {
        id: "appcred.delete",
        what: "delete an application credential with an IAM-key token",
        cli: "application credential delete NAME",
        wants: &[
            (Owner, [RESTRICTED, RESTRICTED, RESTRICTED]),
            (Reader, [NO, RESTRICTED, RESTRICTED]),
            (Sa, [RESTRICTED, RESTRICTED, RESTRICTED]),
        ],
    },
    Call {
        id: "ec2.list",
        what: "list EC2 credentials (S3 access keys)",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W]), (Sa, [NO, NO, W])],
    },
    Call {
        id: "ec2.show",
        what: "show an EC2 credential",
        cli: "ec2 credentials show ACCESS",
        wants: &[(Owner, [W, NO, W]), (Reader, [NO, NO, W])],
    },
    Call {
        id: "ec2.show.unknown",
        what: "show an unknown EC2 credential",
        cli: "",
        wants: &[
            (Owner, [NO, NO, NOT_FOUND]),
            (Reader, [NO, NO, NOT_FOUND]),
            (Sa, [NO, NO, NOT_FOUND]),
        ],
    },
    Call {
        id: "ec2.create",
        what: "create an EC2 credential with an IAM-key token",
        cli: "ec2 credentials create",
        wants: &[
            (Owner, [RESTRICTED, NO, RESTRICTED]),
            (Reader, [NO, NO, RESTRICTED]),
            (Sa, [NO, NO, RESTRICTED]),
        ],
    },
    Call {
        id: "ec2.delete",
        what: "delete an EC2 credential with an IAM-key token",
        cli: "ec2 credentials delete ACCESS",
        wants: &[(Owner, [RESTRICTED, NO, RESTRICTED]), (Reader, [NO, NO, RESTRICTED])],
    },
    Call {
        id: "user.show.self",
        what: "show oneself",
        cli: "user show USER_ID",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "user.show.other",
        what: "show another user",
        cli: "user show USER_ID",
        wants: &[
            (Owner, [NO, W, W]),
            (Reader, [NOT_YOURS, NOT_YOURS, NOT_YOURS]),
            (Sa, [NO, NOT_YOURS, NOT_YOURS]),
        ],
    },
    Call {
        id: "project.show",
        what: "show the token's project",
        cli: "project show PROJECT_ID",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "project.show.other",
        what: "show a project the principal holds no role in",
        cli: "",
        wants: &[
            (Owner, [NO, W, W]),
            (Reader, [NO, NOT_YOURS, NOT_YOURS]),
            (Sa, [NO, NOT_YOURS, NOT_YOURS]),
        ],
    },
    Call {
        id: "project.list",
        what: "list every project (the CLI, refused, lists the principal's own instead)",
        cli: "project list",
        wants: &[
            (Owner, [W, W, W]),
            (Reader, [W, LIST_ALL, LIST_ALL]),
            (Sa, [NO, LIST_ALL, LIST_ALL]),
        ],
    },
    Call {
        id: "project.list.mine",
        what: "list one's own projects",
        cli: "",
        wants: &[(Owner, [NO, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "role_assignment.list.mine",
        what: "list one's role assignments in the token's project, with names",
        cli: "role assignment list --auth-user --auth-project --names",
        wants: &[(Owner, [W, W, W]), (Reader, [W, W, W]), (Sa, [W, W, W])],
    },
    Call {
        id: "role_assignment.list.all",
        what: "list every role assignment",
        cli: "",
        wants: &[(Owner, [NO, NO, W])],
    },
    Call {
        id: "catalog.list",
        what: "list the catalog",
        cli: "catalog list",
        wants: &[(Owner, [W, NO, NO])],
    },
    Call {
        id: "domain.show.default",
        what: "show the domain `default`",
        cli: "",
        wants: &[(Owner, [NO, W, W]), (Reader, [NO, W, W]), (Sa, [NO, W, W])],
    },
    Call {
        id: "pw.token.issue",
        what: "issue a token with the console password, scoped to a project",
        cli: "--os-auth-type password --os-project-name P token issue",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W])],
    },
    Call {
        id: "pw.token.default_project",
        what: "issue a token with the password and no scope (the default project)",
        cli: "",
        wants: &[(Owner, [NO, NO, W]), (Reader, [NO, NO, W])],
    },
    Call {
        id: "pw.token.no_role_project",
        what: "issue a token with the password for a project without a role",
        cli: "--os-auth-type password --os-project-name data-lake token issue",
        wants: &[(Reader, [NO_ROLE, NO_ROLE, NO_ROLE])],
    },
    Call {
        id: "pw.token.wrong_password",
        what: "issue a token with a wrong password",
        cli: "",
        wants: &[(Reader, [NO, NO, WRONG_PASSWORD])],
    },
    Call {
        id: "pw.appcred.create",
        what: "create an application credential with a password token",
        cli: "application credential create NAME",
        wants: &[(Owner, [W, W, W]), (Reader, [NO, W, W])],
    },
    Call {
        id: "pw.appcred.create.role",
        what: "create one with `--role` (owner: project_reader, whose tokens carry only it; reader: project_admin)",
        cli: "application credential create --role ROLE NAME",
        wants: &[
            (Owner, [W, W, W]),
            (Reader, [ROLE_NOT_HELD, ROLE_NOT_HELD, ROLE_NOT_HELD]),
        ],
    },
    Call {
        id: "pw.appcred.create.unrestricted",
        what: "create one with `--unrestricted`",
        cli: "application credential create --unrestricted NAME",
        wants: &[(Owner, [UNRESTRICTED, UNRESTRICTED, UNRESTRICTED])],
    },
    Call {
        id: "pw.appcred.create.access_rules",
        what: "create one with access rules",
        cli: "application credential create --access-rules JSON NAME",
        wants: &[(Owner, [ACCESS_RULES, ACCESS_RULES, ACCESS_RULES])],
    },
    Call {
        id: "pw.appcred.delete.id",
        what: "delete an application credential by ID with a password token",
        cli: "application credential delete ID",
        wants: &[(Owner, [W, W, NO]), (Reader, [NO, W, NO])],
    },
    Call {
        id: "pw.appcred.delete.name",
        what: "delete an application credential by name with a password token",
        cli: "application credential delete NAME",
        wants: &[(Owner, [W, NO, W]), (Reader, [NO, NO, W])],
    },
    Call {
        id: "pw.ec2.create",
        what: "create an EC2 credential with a password token",
        cli: "ec2 credentials create --project PROJECT_ID",
        wants: &[(Owner, [W, NO, W]), (Reader, [NO, NO, W])],
    },
    Call {
        id: "pw.ec2.create.other_project",
        what: "create an EC2 credential for a project other than the token's",
        cli: "ec2 credentials create --project OTHER_PROJECT_ID",
        wants: &[(Owner, [OTHER_SCOPE, NO, OTHER_SCOPE])],
    },
    Call {
        id: "pw.ec2.delete",
        what: "delete an EC2 credential with a password token",
        cli: "ec2 credentials delete ACCESS",
        wants: &[(Owner, [W, NO, W]), (Reader, [NO, NO, W])],
    },
    Call {
        id: "pw.password.change",
        what: "change one's password with a password token",
        cli: "user password set --original-password OLD --password NEW",
        wants: &[(Owner, [W, NO, W])],
    },
];

// ---------------------------------------------------------------------------------------------
// What happened
// ---------------------------------------------------------------------------------------------

/// One observed outcome: done, or failed with the HTTP status the client reported (if it said
/// one) and its message.
#[derive(Clone, Debug)]
struct Seen {
    ok: bool,
    status: Option<u16>,
    message: String,
}

type Observations = BTreeMap<(&'static str, Who, Client), Vec<Seen>>;

fn call_id(id: &str) -> &'static str {
    CALLS
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("a client reported {id}, which the table does not have"))
        .id
}

fn matches(want: Want, seen: &Seen) -> bool {
    match want {
        Want::Works => seen.ok,
        Want::Refused(status, _, word) => {
            !seen.ok
                && seen.status == Some(status)
                && seen.message.to_lowercase().contains(&word.to_lowercase())
        }
    }
}

fn describe_want(want: Want) -> String {
    match want {
        Want::Works => "works".into(),
        Want::Refused(status, why, _) => format!("refused {status}: {why}"),
    }
}

/// What happened, in words that do not change between runs (no IDs, ports or messages): the
/// table's cell for a call that does not hold.
fn outcome(seen: &Seen) -> String {
    match (seen.ok, seen.status) {
        (true, _) => "it worked".into(),
        (false, Some(status)) => status.to_string(),
        (false, None) if seen.message.starts_with("check failed: ") => "a wrong answer".into(),
        (false, None) => "a client-side failure".into(),
    }
}

fn describe_seen(seen: &Seen) -> String {
    let message: String = seen
        .message
        .chars()
        .take(160)
        .collect::<String>()
        .replace('|', "/");
    match (seen.ok, seen.status) {
        (true, _) => "it worked".into(),
        (false, Some(status)) => format!("{status} ({message})"),
        (false, None) => match message.strip_prefix("check failed: ") {
            Some(why) => format!("a wrong answer ({why})"),
            None if message.is_empty() => "a failure the client gave no reason for".into(),
            None => format!("a failure without an HTTP status ({message})"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------------

fn requirements() -> PathBuf {
    Path::new(ROOT).join("tests/conformance/requirements.txt")
}

/// Whether `venv` has the clients at the pinned versions (it keeps a copy of the pins it was
/// made from).
fn venv_ready(venv: &Path) -> bool {
    let pins = |path: &Path| std::fs::read_to_string(path).ok();
    pins(&venv.join("requirements.txt")).is_some_and(|made| Some(made) == pins(&requirements()))
        && venv.join("bin/openstack").exists()
        && Command::new(venv.join("bin/python"))
            .args(["-c", "import openstack, keystoneclient, openstackclient"])
            .status()
            .is_ok_and(|s| s.success())
}

/// The virtual environment with the three clients, made under `target/` if need be.
fn venv() -> PathBuf {
    if let Ok(venv) = std::env::var("KC_OPENSTACK_VENV") {
        let venv = PathBuf::from(venv);
        assert!(
            venv_ready(&venv),
            "KC_OPENSTACK_VENV={} lacks the OpenStack clients",
            venv.display()
        );
        return venv;
    }
    let venv = Path::new(ROOT).join("target/openstack-venv");
    if venv_ready(&venv) {
        return venv;
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "python3 -m venv failed: install python3-venv"
    );
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--cache-dir"])
        .arg(Path::new(ROOT).join("target/pip-cache"))
        .arg("-r")
        .arg(requirements())
        .status();
    let recorded = std::fs::copy(requirements(), venv.join("requirements.txt"));
    assert!(
        installed.is_ok_and(|s| s.success()) && recorded.is_ok() && venv_ready(&venv),
        "could not install the OpenStack clients from PyPI into {}",
        venv.display()
    );
    venv
}

/// The `openstack` CLI, with a clean environment: no `OS_*` variables, no clouds.yaml.
struct Openstack {
    bin: PathBuf,
    home: PathBuf,
    url: String,
}

/// How a CLI invocation authenticates.
enum Auth<'a> {
    Key {
        id: &'a str,
        secret: &'a str,
    },
    KeyByName {
        name: &'a str,
        secret: &'a str,
        email: &'a str,
    },
    Password {
        email: &'a str,
        password: &'a str,
        project: &'a str,
    },
}

impl Openstack {
    fn auth_args(&self, auth: &Auth) -> Vec<String> {
        let url = self.url.as_str();
        let pairs: Vec<(&str, &str)> = match *auth {
            Auth::Key { id, secret } => vec![
                ("--os-auth-url", url),
                ("--os-auth-type", "v3applicationcredential"),
                ("--os-application-credential-id", id),
                ("--os-application-credential-secret", secret),
            ],
            Auth::KeyByName { name, secret, email } => vec![
                ("--os-auth-url", url),
                ("--os-auth-type", "v3applicationcredential"),
                ("--os-application-credential-name", name),
                ("--os-application-credential-secret", secret),
                ("--os-username", email),
                ("--os-user-domain-name", "Default"),
            ],
            Auth::Password {
                email,
                password,
                project,
            } => vec![
                ("--os-auth-url", url),
                ("--os-auth-type", "password"),
                ("--os-username", email),
                ("--os-password", password),
                ("--os-user-domain-name", "Default"),
                ("--os-project-name", project),
                ("--os-project-domain-name", "Default"),
            ],
        };
        let mut args: Vec<String> = vec!["--os-identity-api-version".into(), "3".into()];
        for (flag, value) in pairs {
            args.push(flag.into());
            args.push(value.into());
        }
        args
    }

    /// Runs `openstack AUTH ARGS`; returns what happened and its `-f json` output, if any.
    fn run(&self, auth: &Auth, args: &[&str]) -> (Seen, Value) {
        self.run_with(self.auth_args(auth), args)
    }

    fn run_with(&self, auth_args: Vec<String>, args: &[&str]) -> (Seen, Value) {
        let mut cmd = Command::new(&self.bin);
        for (name, _) in std::env::vars() {
            if name.starts_with("OS_") {
                cmd.env_remove(name);
            }
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.home)
            .args(auth_args)
            .args(args);
        let out = output_within(cmd, None, CLI_TIMEOUT);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // `-f json` output, or the table a user reads.
        let value = serde_json::from_str(&stdout).unwrap_or(Value::String(stdout));
        let seen = if out.status.success() {
            Seen {
                ok: true,
                status: None,
                message: String::new(),
            }
        } else {
            let message = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
            Seen {
                ok: false,
                status: cli_status(&message),
                message,
            }
        };
        (seen, value)
    }
}

/// One `openstack` command may take this long (a debug server, a loaded machine).
const CLI_TIMEOUT: Duration = Duration::from_secs(90);
/// One principal's scripts may take this long.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `cmd` with `stdin`, killing it after `limit`: a hung server fails the call instead of
/// the whole suite hanging.
fn output_within(mut cmd: Command, stdin: Option<&str>, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let id = child.id();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(limit).is_err() {
            // Still running: end it (by its own process ID), so that wait_with_output returns.
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = done.send(());
    let _ = watchdog.join();
    out
}

/// The HTTP status in a failed `openstack` command's message: keystoneclient's
/// "… (HTTP 403) …" or openstacksdk's "ForbiddenException: 403: Client Error …". (The CLI's
/// own "No … found for …" names no status: it follows a 404 and a 405 alike.)
fn cli_status(message: &str) -> Option<u16> {
    let number_at = |at: usize| -> Option<u16> {
        message
            .get(at..at + 3)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
    };
    if let Some(at) = message.find("(HTTP ") {
        if let Some(status) = number_at(at + 6) {
            return Some(status);
        }
    }
    for marker in [
        ": Client Error",
        " Client Error",
        ": Server Error",
        " Server Error",
    ] {
        if let Some(at) = message.find(marker) {
            if at >= 3 {
                if let Some(status) = number_at(at - 3) {
                    return Some(status);
                }
            }
        }
    }
    None
}

/// Checks the JSON a successful CLI command printed; a failed check turns "works" into a
/// failure with the check's message.
fn checked(mut seen: Seen, check: Result<(), String>) -> Seen {
    if seen.ok {
        if let Err(why) = check {
            seen = Seen {
                ok: false,
                status: None,
                message: format!("check failed: {why}"),
            };
        }
    }
    seen
}

/// A field of a JSON object, or of the `| Field | Value |` table a `show` or `create` prints
/// (where `id` is `ID`, `roles` is `Roles`).
fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    if let Some(table) = value.as_str() {
        return table
            .lines()
            .filter_map(|line| {
                let mut cells = line.trim().trim_matches('|').split('|').map(str::trim);
                Some((cells.next()?, cells.next()?))
            })
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map_or("", |(_, value)| value);
    }
    value.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// What a command printed, as text.
fn text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

fn expect_field(value: &Value, name: &str, want: &str) -> Result<(), String> {
    let got = field(value, name);
    if got == want {
        Ok(())
    } else {
        Err(format!("{name} is {got:?}, not {want:?}"))
    }
}

// ---------------------------------------------------------------------------------------------
// The organization and its server
// ---------------------------------------------------------------------------------------------

struct Org {
    dir: PathBuf,
}

impl Org {
    fn kc(&self, user: Option<(&str, &str)>, args: &[&str], stdin: Option<&str>) -> Value {
        let mut cmd = Command::new(KC);
        cmd.env_remove("KC_CONSOLE_PASSWORD")
            .env_remove("KC_CONSOLE_USER")
            .env_remove("KC_CONSOLE_SERVER")
            .arg("--data-dir")
            .arg(&self.dir);
        if let Some((email, password)) = user {
            cmd.args(["--user", email]).env("KC_CONSOLE_PASSWORD", password);
        }
        let mut child = cmd
            .arg("--json")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kc-console {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// `kc-console serve --listen 127.0.0.1:0`; returns it and its token API's address.
    fn serve(&self) -> (Server, String) {
        let mut child = Command::new(KC)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kc-console serve starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Server(child);
        let banner = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it serves");
        let after = banner
            .split("token API ")
            .nth(1)
            .unwrap_or_else(|| panic!("no token API in {banner}"));
        let url = after
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches([';', ',']);
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        (server, addr)
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Clone, Debug)]
struct Key {
    id: String,
    secret: String,
    name: String,
}

fn new_key(created: &Value, name: &str) -> Key {
    Key {
        id: field(created, "id").to_string(),
        secret: field(created, "secret").to_string(),
        name: name.to_string(),
    }
}

fn id_where(list: &Value, key: &str, value: &str) -> String {
    list.as_array()
        .and_then(|items| items.iter().find(|i| field(i, key) == value))
        .map(|i| field(i, "id").to_string())
        .unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

/// Everything the drivers need to know about the organization.
struct Setup {
    url: String,
    root: String,
    web_shop: String,
    data_lake: String,
    ml_lab: String,
    owner_id: String,
    reader_id: String,
    admin_id: String,
    sa_id: String,
    owner_key: Key,
    owner_cli_key: Key,
    reader_key: Key,
    sa_key: Key,
    sa_other_key: String,
    owner_s3: String,
    reader_s3: String,
    owner_token: String,
    reader_token: String,
}

fn token_for(org: &Org, key: &Key) -> String {
    let issued = org.kc(
        None,
        &["token", "issue", "--access-key-id", &key.id, "--secret-stdin"],
        Some(&format!("{}\n", key.secret)),
    );
    let token = ["token", "id"]
        .iter()
        .map(|f| field(&issued, f))
        .find(|t| !t.is_empty())
        .unwrap_or_else(|| panic!("no token in {issued}"));
    token.to_string()
}

/// The demo organization with the keys the principals use.
fn setup(org: &Org) -> Setup {
    org.kc(None, &["init", "--demo"], None);
    let owner = Some((OWNER, OWNER_PW));
    let reader = Some((READER, READER_PW));
    let projects = org.kc(owner, &["project", "list"], None);
    let users = org.kc(owner, &["user", "list"], None);
    let user_id = |email: &str| {
        users
            .as_array()
            .and_then(|u| u.iter().find(|u| field(u, "email") == email))
            .map(|u| field(u, "id").to_string())
            .unwrap_or_else(|| panic!("no {email} in {users}"))
    };
    let web_shop = id_where(&projects, "name", "web-shop");
    let iam = |user, project: &str, name: &str| {
        let made = org.kc(user, &create_key("iam", project, name, &[]), None);
        new_key(&made, name)
    };
    let s3 = |user, name: &str| {
        let made = org.kc(user, &create_key("s3", "web-shop", name, &[]), None);
        field(&made, "access").to_string()
    };
    let sas = org.kc(owner, &["sa", "list", "--project", "web-shop"], None);
    let sa_id = id_where(&sas, "name", "deploy-bot");
    let sa_keys = org.kc(owner, &["sa-key", "list", &sa_id], None);
    let sa_other_key = id_where(&sa_keys, "name", "ci-pipeline");
    let sa_made = org.kc(
        owner,
        &["sa-key", "create", &sa_id, "--name", "conformance"],
        None,
    );
    let owner_key = iam(owner, "web-shop", "conformance");
    let reader_key = iam(reader, "web-shop", "conformance");
    Setup {
        url: String::new(),
        root: String::new(),
        data_lake: id_where(&projects, "name", "data-lake"),
        ml_lab: id_where(&projects, "name", "ml-lab"),
        owner_id: user_id(OWNER),
        reader_id: user_id(READER),
        admin_id: user_id(ADMIN),
        owner_cli_key: iam(owner, "data-lake", "conformance-cli"),
        owner_s3: s3(owner, "conformance"),
        reader_s3: s3(reader, "conformance"),
        owner_token: token_for(org, &owner_key),
        reader_token: token_for(org, &reader_key),
        sa_key: new_key(&sa_made, "conformance"),
        web_shop,
        sa_id,
        sa_other_key,
        owner_key,
        reader_key,
    }
}

// ---------------------------------------------------------------------------------------------
// The runs
// ---------------------------------------------------------------------------------------------

struct Record<'a>(&'a Mutex<Observations>);

impl Record<'_> {
    fn add(&self, id: &str, who: Who, client: Client, seen: Seen) {
        self.0
            .lock()
            .unwrap()
            .entry((call_id(id), who, client))
            .or_default()
            .push(seen);
    }
}

/// openstacksdk and keystoneclient, one Python process for one principal.
fn scripts(venv: &Path, setup: &Setup, who: Who, record: &Record) {
    let (key, user_id, role, password) = match who {
        Who::Owner => (
            &setup.owner_key,
            &setup.owner_id,
            "project_admin",
            Some((OWNER, OWNER_PW)),
        ),
        Who::Reader => (
            &setup.reader_key,
            &setup.reader_id,
            "project_reader",
            Some((READER, READER_PW)),
        ),
        Who::Sa => (&setup.sa_key, &setup.sa_id, "project_member", None),
    };
    let context = json!({
        "who": who.tag(),
        "url": setup.url,
        "root": setup.root,
        "key": {"id": key.id, "secret": key.secret, "name": key.name},
        "user_id": user_id,
        "project_id": setup.web_shop,
        "project_name": "web-shop",
        "other_project_id": setup.data_lake,
        "other_user_id": setup.admin_id,
        "role": role,
        "foreign_token": if who == Who::Owner { &setup.reader_token } else { &setup.owner_token },
        "password": password.map(|(email, password)| json!({"email": email, "password": password})),
        "s3_access": match who {
            Who::Owner => Some(&setup.owner_s3),
            Who::Reader => Some(&setup.reader_s3),
            Who::Sa => None,
        },
        "other_key": if who == Who::Sa { Some(&setup.sa_other_key) } else { None },
        "grant_role": if who == Who::Owner { "project_reader" } else { "project_admin" },
        "no_role_project": if who == Who::Reader { Some("data-lake") } else { None },
        "ec2_other_project": if who == Who::Owner { Some(&setup.data_lake) } else { None },
    });
    let script = Path::new(ROOT).join("tests/conformance/scripts.py");
    run_python(venv, &script, &context, who, record);
}

fn run_python(venv: &Path, script: &Path, context: &Value, who: Who, record: &Record) {
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg(script).env("HOME", std::env::temp_dir());
    let out = output_within(cmd, Some(&context.to_string()), SCRIPT_TIMEOUT);
    let results: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{} did not finish for {}:\n{}",
            script.display(),
            who.tag(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    for r in results.as_array().unwrap() {
        let seen = Seen {
            ok: r["ok"].as_bool().unwrap(),
            status: r["status"].as_u64().map(|s| s as u16),
            message: field(r, "message").to_string(),
        };
        record.add(field(r, "id"), who, Client::parse(field(r, "client")), seen);
    }
}

/// The owner's CLI calls with an IAM access key (in data-lake, a key of its own, so that the
/// scripts' key and limits are untouched).
fn cli_owner_key(os: &Openstack, s: &Setup, record: &Record) {
    let key = &s.owner_cli_key;
    let auth = Auth::Key {
        id: &key.id,
        secret: &key.secret,
    };
    let add = |id, seen| record.add(id, Owner, Client::Cli, seen);
    let (seen, issued) = os.run(&auth, &["token", "issue", "-f", "json"]);
    add(
        "token.issue",
        checked(seen, expect_field(&issued, "project_id", &s.data_lake)),
    );
    let (seen, listed) = os.run(&auth, &["application", "credential", "list"]);
    let has_key = text(&listed).contains(&key.id);
    add(
        "appcred.list",
        checked(
            seen,
            has_key.then_some(()).ok_or(format!("{} not listed", key.id)),
        ),
    );
    let (seen, shown) = os.run(&auth, &["application", "credential", "show", &key.id]);
    add(
        "appcred.show.id",
        checked(seen, expect_field(&shown, "name", &key.name)),
    );
    let (seen, shown) = os.run(&auth, &["application", "credential", "show", &key.name]);
    add(
        "appcred.show.name",
        checked(seen, expect_field(&shown, "id", &key.id)),
    );
    let (seen, made) = os.run(
        &auth,
        &["application", "credential", "create", "conformance-cli-2"],
    );
    add("appcred.create", seen);
    undo_app_cred(os, &auth, &made);
    let (seen, shown) = os.run(&auth, &["ec2", "credentials", "show", &s.owner_s3, "-f", "json"]);
    add(
        "ec2.show",
        checked(seen, expect_field(&shown, "access", &s.owner_s3)),
    );
    let (seen, made) = os.run(&auth, &["ec2", "credentials", "create", "-f", "json"]);
    add("ec2.create", seen);
    undo_ec2(os, &auth, &made);
    add(
        "ec2.delete",
        os.run(&auth, &["ec2", "credentials", "delete", &s.owner_s3]).0,
    );
    let (seen, user) = os.run(&auth, &["user", "show", &s.owner_id, "-f", "json"]);
    add(
        "user.show.self",
        checked(seen, expect_field(&user, "id", &s.owner_id)),
    );
    let (seen, project) = os.run(&auth, &["project", "show", &s.data_lake, "-f", "json"]);
    add(
        "project.show",
        checked(seen, expect_field(&project, "name", "data-lake")),
    );
    let (seen, listed) = os.run(&auth, &["project", "list", "-f", "json"]);
    let count = listed.as_array().map_or(0, Vec::len);
    add(
        "project.list",
        checked(
            seen,
            (count == 3)
                .then_some(())
                .ok_or(format!("{count} projects listed")),
        ),
    );
    let (seen, listed) = os.run(
        &auth,
        &[
            "role",
            "assignment",
            "list",
            "--auth-user",
            "--auth-project",
            "--names",
            "-f",
            "json",
        ],
    );
    add(
        "role_assignment.list.mine",
        checked(seen, has_role(&listed, "project_admin")),
    );
    let (seen, catalog) = os.run(&auth, &["catalog", "list", "-f", "json"]);
    let identity = catalog
        .as_array()
        .is_some_and(|c| c.iter().any(|s| field(s, "Type") == "identity"));
    add(
        "catalog.list",
        checked(seen, identity.then_some(()).ok_or("no identity service".into())),
    );
    let by_name = Auth::KeyByName {
        name: &key.name,
        secret: &key.secret,
        email: OWNER,
    };
    let (seen, issued) = os.run(&by_name, &["token", "issue", "-f", "json"]);
    add(
        "auth.by_name.user_name",
        checked(seen, expect_field(&issued, "user_id", &s.owner_id)),
    );
    // Last: a restricted token may not delete even its own key (by name, as typed).
    add(
        "appcred.delete",
        os.run(&auth, &["application", "credential", "delete", &key.name])
            .0,
    );
}

fn has_role(listed: &Value, role: &str) -> Result<(), String> {
    let names: Vec<&str> = listed
        .as_array()
        .map(|l| l.iter().map(|a| field(a, "Role")).collect())
        .unwrap_or_default();
    if names
        .iter()
        .any(|n| *n == role || n.starts_with(&format!("{role}@")))
    {
        Ok(())
    } else {
        Err(format!("roles {names:?}, not {role}"))
    }
}

/// A create the replica should have refused went through: undo it, so the limits stay as the
/// other calls expect.
fn undo_app_cred(os: &Openstack, auth: &Auth, made: &Value) {
    let id = field(made, "id");
    if !id.is_empty() {
        os.run(auth, &["application", "credential", "delete", id]);
    }
}

fn undo_ec2(os: &Openstack, auth: &Auth, made: &Value) {
    let access = field(made, "access");
    if !access.is_empty() {
        os.run(auth, &["ec2", "credentials", "delete", access]);
    }
}

/// The owner's CLI calls with the console password, scoped to ml-lab (where no other run
/// makes keys).
fn cli_owner_password(os: &Openstack, s: &Setup, record: &Record) {
    let auth = Auth::Password {
        email: OWNER,
        password: OWNER_PW,
        project: "ml-lab",
    };
    let add = |id, seen| record.add(id, Owner, Client::Cli, seen);
    let (seen, issued) = os.run(&auth, &["token", "issue", "-f", "json"]);
    add(
        "pw.token.issue",
        checked(seen, expect_field(&issued, "project_id", &s.ml_lab)),
    );
    let mut unversioned = os.auth_args(&auth);
    let at = unversioned.iter().position(|a| a == "--os-auth-url").unwrap() + 1;
    unversioned[at] = s.root.clone();
    let (seen, issued) = os.run_with(unversioned, &["token", "issue", "-f", "json"]);
    add(
        "discovery",
        checked(seen, expect_field(&issued, "project_id", &s.ml_lab)),
    );

    let create = |args: &[&str]| {
        let mut all = vec!["application", "credential", "create"];
        all.extend_from_slice(args);
        os.run(&auth, &all)
    };
    let (seen, made) = create(&["conformance-cli-pw"]);
    let roles_listed = field(&made, "roles").contains("project_admin");
    add(
        "pw.appcred.create",
        checked(
            seen,
            roles_listed
                .then_some(())
                .ok_or(format!("roles {:?}", field(&made, "roles"))),
        ),
    );
    let plain = field(&made, "id").to_string();
    let (seen, made) = create(&["--role", "project_reader", "conformance-cli-reader"]);
    let roles = field(&made, "roles");
    let only_reader = roles.contains("project_reader") && !roles.contains("project_admin");
    // The key's tokens carrying only that role is checked by the scripts, which read tokens.
    let seen = checked(seen, only_reader.then_some(()).ok_or(format!("roles {roles:?}")));
    add("pw.appcred.create.role", seen);
    let (seen, made) = create(&["--unrestricted", "conformance-cli-unrestricted"]);
    add("pw.appcred.create.unrestricted", seen);
    undo_app_cred(os, &auth, &made);
    let rules = r#"[{"service": "compute", "method": "GET", "path": "/v2.1/servers"}]"#;
    let (seen, made) = create(&["--access-rules", rules, "conformance-cli-rules"]);
    add("pw.appcred.create.access_rules", seen);
    undo_app_cred(os, &auth, &made);
    if !plain.is_empty() {
        add(
            "pw.appcred.delete.id",
            os.run(&auth, &["application", "credential", "delete", &plain]).0,
        );
    }
    add(
        "pw.appcred.delete.name",
        os.run(
            &auth,
            &["application", "credential", "delete", "conformance-cli-reader"],
        )
        .0,
    );

    let (seen, made) = os.run(
        &auth,
        &[
            "ec2",
            "credentials",
            "create",
            "--project",
            &s.ml_lab,
            "-f",
            "json",
        ],
    );
    add(
        "pw.ec2.create",
        checked(seen, expect_field(&made, "project_id", &s.ml_lab)),
    );
    let access = field(&made, "access");
    if !access.is_empty() {
        add(
            "pw.ec2.delete",
            os.run(&auth, &["ec2", "credentials", "delete", access]).0,
        );
    }
    let (seen, made) = os.run(
        &auth,
        &[
            "ec2",
            "credentials",
            "create",
            "--project",
            &s.web_shop,
            "-f",
            "json",
        ],
    );
    add("pw.ec2.create.other_project", seen);
    undo_ec2(os, &auth, &made);
}

fn cli_reader(os: &Openstack, s: &Setup, record: &Record) {
    let key = &s.reader_key;
    let auth = Auth::Key {
        id: &key.id,
        secret: &key.secret,
    };
    let add = |id, seen| record.add(id, Reader, Client::Cli, seen);
    let (seen, listed) = os.run(&auth, &["application", "credential", "list"]);
    let has_key = text(&listed).contains(&key.id);
    add(
        "appcred.list",
        checked(
            seen,
            has_key.then_some(()).ok_or(format!("{} not listed", key.id)),
        ),
    );
    let (seen, shown) = os.run(&auth, &["application", "credential", "show", &key.name]);
    add(
        "appcred.show.name",
        checked(seen, expect_field(&shown, "id", &key.id)),
    );
    let (seen, made) = os.run(&auth, &["application", "credential", "create", "conformance-cli"]);
    add("appcred.create", seen);
    undo_app_cred(os, &auth, &made);
    add("user.show.other", os.run(&auth, &["user", "show", &s.admin_id]).0);
    // Refused the full list (403), the CLI lists the user's own projects, as with Keystone.
    let (seen, listed) = os.run(&auth, &["project", "list", "-f", "json"]);
    let names: Vec<&str> = listed
        .as_array()
        .map(|l| l.iter().map(|p| field(p, "Name")).collect())
        .unwrap_or_default();
    add(
        "project.list",
        checked(
            seen,
            (names == ["web-shop"])
                .then_some(())
                .ok_or(format!("listed {names:?}")),
        ),
    );
    let (seen, listed) = os.run(
        &auth,
        &[
            "role",
            "assignment",
            "list",
            "--auth-user",
            "--auth-project",
            "--names",
            "-f",
            "json",
        ],
    );
    add(
        "role_assignment.list.mine",
        checked(seen, has_role(&listed, "project_reader")),
    );

    let elsewhere = Auth::Password {
        email: READER,
        password: READER_PW,
        project: "data-lake",
    };
    add(
        "pw.token.no_role_project",
        os.run(&elsewhere, &["token", "issue"]).0,
    );
    let password = Auth::Password {
        email: READER,
        password: READER_PW,
        project: "web-shop",
    };
    let (seen, made) = os.run(
        &password,
        &[
            "application",
            "credential",
            "create",
            "--role",
            "project_admin",
            "conformance-cli",
            "-f",
            "json",
        ],
    );
    add("pw.appcred.create.role", seen);
    undo_app_cred(os, &password, &made);
}

fn cli_sa(os: &Openstack, s: &Setup, record: &Record) {
    let key = &s.sa_key;
    let auth = Auth::Key {
        id: &key.id,
        secret: &key.secret,
    };
    let add = |id, seen| record.add(id, Sa, Client::Cli, seen);
    let (seen, issued) = os.run(&auth, &["token", "issue", "-f", "json"]);
    add(
        "token.issue",
        checked(seen, expect_field(&issued, "user_id", &s.sa_id)),
    );
    let (seen, listed) = os.run(&auth, &["application", "credential", "list"]);
    let both = [&key.id, &s.sa_other_key]
        .iter()
        .all(|id| text(&listed).contains(id.as_str()));
    add(
        "appcred.list",
        checked(seen, both.then_some(()).ok_or("not both keys listed".into())),
    );
    let (seen, shown) = os.run(&auth, &["application", "credential", "show", &key.name]);
    add(
        "appcred.show.name",
        checked(seen, expect_field(&shown, "id", &key.id)),
    );
    add(
        "appcred.delete",
        os.run(&auth, &["application", "credential", "delete", "ci-pipeline"])
            .0,
    );
    let (seen, listed) = os.run(
        &auth,
        &[
            "role",
            "assignment",
            "list",
            "--auth-user",
            "--auth-project",
            "--names",
            "-f",
            "json",
        ],
    );
    add(
        "role_assignment.list.mine",
        checked(seen, has_role(&listed, "project_member")),
    );
}

/// Last, alone: the owner changes the console password with the CLI and back with
/// keystoneclient.
fn password_change(os: &Openstack, venv: &Path, s: &Setup, record: &Record) {
    let auth = Auth::Password {
        email: OWNER,
        password: OWNER_PW,
        project: "web-shop",
    };
    let (seen, _) = os.run(
        &auth,
        &[
            "user",
            "password",
            "set",
            "--original-password",
            OWNER_PW,
            "--password",
            OWNER_NEW_PW,
        ],
    );
    record.add("pw.password.change", Owner, Client::Cli, seen);
    let context = json!({
        "url": s.url,
        "email": OWNER,
        "project_id": s.web_shop,
        "old": OWNER_NEW_PW,
        "new": OWNER_PW,
    });
    let script = Path::new(ROOT).join("tests/conformance/password.py");
    run_python(venv, &script, &context, Owner, record);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// Compares the observations with the table of calls: the mismatches, and the Markdown table
/// of what was seen.
fn verdict(seen: &Observations) -> (Vec<String>, String) {
    let mut failures = Vec::new();
    let mut expected: BTreeSet<(&str, Who, Client)> = BTreeSet::new();
    let mut table = String::from(
        "| call | principal | `openstack` CLI | openstacksdk | keystoneclient |\n|---|---|---|---|---|\n",
    );
    for call in CALLS {
        for who in Who::ALL {
            let Some((_, wants)) = call.wants.iter().find(|(w, _)| *w == who) else {
                continue;
            };
            let what = if call.cli.is_empty() {
                call.what.to_string()
            } else {
                format!("{} (`{}`)", call.what, call.cli)
            };
            let mut cells = Vec::new();
            for (client, want) in Client::ALL.into_iter().zip(wants) {
                let Some(want) = *want else {
                    cells.push("—".to_string());
                    continue;
                };
                expected.insert((call.id, who, client));
                let runs = seen.get(&(call.id, who, client)).cloned().unwrap_or_default();
                let bad: Vec<&Seen> = runs.iter().filter(|s| !matches(want, s)).collect();
                if runs.is_empty() {
                    failures.push(format!(
                        "{} / {} / {client:?}: never ran (want {})",
                        call.id,
                        who.tag(),
                        describe_want(want)
                    ));
                    cells.push(format!("✗ not run (want {})", describe_want(want)));
                } else if let Some(first) = bad.first() {
                    failures.push(format!(
                        "{} / {} / {client:?}: want {}, got {}",
                        call.id,
                        who.tag(),
                        describe_want(want),
                        describe_seen(first)
                    ));
                    cells.push(format!("✗ want {}; got {}", describe_want(want), outcome(first)));
                } else {
                    cells.push(describe_want(want));
                }
            }
            table.push_str(&format!("| {what} | {} | {} |\n", who.label(), cells.join(" | ")));
        }
    }
    for (id, who, client) in seen.keys() {
        if !expected.contains(&(*id, *who, *client)) {
            failures.push(format!(
                "{id} / {} / {client:?}: ran, but the table has no outcome for it",
                who.tag()
            ));
        }
    }
    (failures, table)
}

fn readme_section(readme: &str) -> Option<(usize, usize)> {
    let begin = readme.find(BEGIN)? + BEGIN.len();
    let end = begin + readme[begin..].find(END)?;
    Some((begin, end))
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[test]
fn the_openstack_clients_make_every_identity_call_an_iam_key_user_makes() {
    let venv = venv();
    let tmp = tempfile::tempdir().unwrap();
    let org = Org {
        dir: tmp.path().join("data"),
    };
    let started = Instant::now();
    let mut s = setup(&org);
    let (_server, addr) = org.serve();
    s.url = format!("http://{addr}/identity/v3");
    s.root = format!("http://{addr}/identity");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let os = Openstack {
        bin: venv.join("bin/openstack"),
        home,
        url: s.url.clone(),
    };

    let observations = Mutex::new(Observations::new());
    let record = Record(&observations);
    // Six independent runs on three threads (taken from the end, longest first): each touches
    // only its principal's keys and limits — the owner's CLI runs with a key in data-lake and a
    // password token in ml-lab, its scripts in web-shop; the reader's scripts and CLI share a
    // project, so they run one after the other.
    type Job<'a> = Box<dyn FnOnce() + Send + 'a>;
    let jobs: Mutex<Vec<Job>> = Mutex::new(vec![
        Box::new(|| cli_sa(&os, &s, &record)),
        Box::new(|| {
            scripts(&venv, &s, Reader, &record);
            cli_reader(&os, &s, &record);
        }),
        Box::new(|| scripts(&venv, &s, Sa, &record)),
        Box::new(|| cli_owner_password(&os, &s, &record)),
        Box::new(|| cli_owner_key(&os, &s, &record)),
        Box::new(|| scripts(&venv, &s, Owner, &record)),
    ]);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let Some(job) = jobs.lock().unwrap().pop() else {
                    break;
                };
                job();
            });
        }
    });
    password_change(&os, &venv, &s, &record);
    let elapsed = started.elapsed();

    let (failures, table) = verdict(&observations.lock().unwrap());
    let readme_path = Path::new(ROOT).join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (begin, end) =
        readme_section(&readme).unwrap_or_else(|| panic!("README.md has no {BEGIN} … {END} section"));
    let rendered = format!("\n{table}");
    let mut problems = failures.clone();
    if std::env::var_os("KC_UPDATE_CONFORMANCE").is_some() {
        let updated = format!("{}{rendered}{}", &readme[..begin], &readme[end..]);
        std::fs::write(&readme_path, updated).unwrap();
    } else if readme[begin..end] != rendered {
        problems.push(
            "the README's conformance table differs from this run's; \
             KC_UPDATE_CONFORMANCE=1 cargo test --test conformance rewrites it"
                .into(),
        );
    }
    eprintln!(
        "conformance: {} calls checked in {elapsed:.1?}",
        observations.lock().unwrap().len()
    );
    assert!(
        problems.is_empty(),
        "{} of the identity calls do not hold:\n  {}\n\nthis run's table:\n{table}",
        failures.len(),
        problems.join("\n  ")
    );
}
