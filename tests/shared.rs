//! One organization, many faces (issue 15): a real `kc-console serve` process holds the data
//! directory, and real command processes become its clients — through the data directory's
//! Unix socket, or over TCP (plain on loopback, TLS with a pinned certificate elsewhere).

mod support;

#[path = "support/cli_args.rs"]
mod cli_args;
use cli_args::{create_key, stderr_lines, token_issue};

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");
const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const OPERATOR: &str = "helpdesk@kakaocloud.example";

fn password(email: &str) -> &'static str {
    match email {
        OWNER => "owner-demo-pw",
        ADMIN => "admin-demo-pw",
        DEV => "dev-demo-pw",
        OPERATOR => "helpdesk-demo-pw",
        other => panic!("{other} is not a demo principal"),
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        self
    }

    #[track_caller]
    fn json(self) -> Value {
        let run = self.ok();
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
    }

    /// A refusal: the exit code, one line on stderr, nothing on stdout.
    #[track_caller]
    fn refused(&self, code: i32) -> String {
        assert_eq!(self.code, code, "expected exit {code}: {self:?}");
        assert!(self.stdout.is_empty(), "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self.stderr.trim_end().to_string()
    }
}

/// A data directory with the demo organization, sessions kept beside it.
struct Org {
    tmp: TempDir,
    dir: PathBuf,
}

impl Org {
    fn demo() -> Org {
        // Short paths: a Unix socket's path is limited to about 100 bytes.
        let tmp = tempfile::Builder::new().prefix("kcs").tempdir_in("/tmp").unwrap();
        let dir = tmp.path().join("d");
        let org = Org { tmp, dir };
        org.run(&["init", "--demo"], None, None).ok();
        org
    }

    fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    fn command(&self, args: &[&str], user: Option<&str>) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KC_CONSOLE_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("KC_CONSOLE_STATE_DIR", self.state());
        cmd.arg("--data-dir").arg(&self.dir);
        if let Some(user) = user {
            cmd.arg("--user")
                .arg(user)
                .env("KC_CONSOLE_PASSWORD", password(user));
        }
        cmd.args(args);
        cmd
    }

    /// Admin's IAM key in data-lake, the project the deletion tests delete: (ID, secret).
    fn data_lake_key(&self) -> (String, String) {
        let key = self.json(ADMIN, &create_key("iam", "data-lake", "etl", &[]));
        (
            key["id"].as_str().unwrap().to_string(),
            key["secret"].as_str().unwrap().to_string(),
        )
    }

    /// `token issue` for an access key, its secret on standard input, with --json.
    fn issue(&self, id: &str, secret: &str) -> Run {
        self.run(&token_issue(id), None, Some(&format!("{secret}\n")))
    }

    fn run(&self, args: &[&str], user: Option<&str>, stdin: Option<&str>) -> Run {
        run(self.command(args, user), stdin)
    }

    fn as_user(&self, user: &str, args: &[&str]) -> Run {
        self.run(args, Some(user), None)
    }

    fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.as_user(user, &all).json()
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("kc-console.sock")
    }

    /// `kc-console serve` on this directory, returned once its socket answers.
    fn serve(&self, extra: &[&str]) -> Server {
        let mut cmd = self.command(&["serve"], None);
        cmd.args(extra).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kc-console serve starts");
        let banner = stderr_lines(&mut child)
            .recv_timeout(Duration::from_secs(20))
            .expect("the server says where it serves");
        assert!(banner.contains("serving"), "{banner}");
        Server { child, banner }
    }
}

struct Server {
    child: Child,
    banner: String,
}

impl Server {
    /// The address after `label` in the start-up line ("token API http://ADDR/...").
    fn address(&self, label: &str) -> String {
        let after = self
            .banner
            .split(label)
            .nth(1)
            .unwrap_or_else(|| panic!("{label} in {}", self.banner));
        let url = after.split_whitespace().next().unwrap();
        url.trim_end_matches(';').to_string()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn run(mut cmd: Command, stdin: Option<&str>) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("kc-console starts");
    if let Some(text) = stdin {
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The commands of the contract, run embedded and then through a server, print the same
/// output and exit with the same codes.
#[test]
fn every_command_behaves_alike_through_the_server() {
    let embedded = Org::demo();
    let served = Org::demo();
    let reads: &[(&str, &[&str])] = &[
        (OWNER, &["project", "list"]),
        (OWNER, &["user", "list"]),
        (OWNER, &["payment", "list"]),
        (ADMIN, &["member", "list", "--project", "web-shop"]),
        (ADMIN, &["sa", "list", "--project", "web-shop"]),
        (ADMIN, &["agent", "list", "--project", "web-shop"]),
        (DEV, &["inquiry", "list"]),
        (OPERATOR, &["helpdesk", "list"]),
    ];
    let refusals: &[(&str, &[&str], i32)] = &[
        (
            DEV,
            &["project", "create", "--name", "nope", "--nickname", "N"],
            4,
        ),
        (ADMIN, &["sa", "list", "--project", "no-such-project"], 5),
        (
            ADMIN,
            &["sa", "create", "--project", "web-shop", "--name", "Bad Name"],
            2,
        ),
        (
            OWNER,
            &["project", "create", "--name", "web-shop", "--nickname", "Again"],
            6,
        ),
        (OWNER, &["helpdesk", "list"], 4),
    ];
    // Demo organizations differ in their random IDs and times, so compare without them.
    let shape = |text: &str| {
        let mut shaped = String::new();
        let mut run = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_hexdigit() {
                run.push(c);
                continue;
            }
            shaped.push_str(if run.len() >= 32 { "<id>" } else { &run });
            run.clear();
            shaped.push(c);
        }
        shaped
            .split_whitespace()
            .filter(|w| !(w.len() == 8 && w.as_bytes()[2] == b':'))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let direct: Vec<(i32, String, String)> = reads
        .iter()
        .map(|(user, args)| embedded.as_user(user, args))
        .chain(
            refusals
                .iter()
                .map(|(user, args, _)| embedded.as_user(user, args)),
        )
        .map(|r| (r.code, shape(&r.stdout), r.stderr))
        .collect();
    let _server = served.serve(&[]);
    let through: Vec<(i32, String, String)> = reads
        .iter()
        .map(|(user, args)| served.as_user(user, args))
        .chain(refusals.iter().map(|(user, args, _)| served.as_user(user, args)))
        .map(|r| (r.code, shape(&r.stdout), r.stderr))
        .collect();
    for (i, ((code, _, _), expected)) in direct
        .iter()
        .skip(reads.len())
        .zip(refusals.iter().map(|r| r.2))
        .enumerate()
    {
        assert_eq!(*code, expected, "refusal {i} embedded");
    }
    assert_eq!(direct, through);
}

/// The seeds' flow across faces: a deletion request from one face, approved by the Help Desk
/// operator from another while the server keeps the organization; the project's keys and tokens
/// stop working at that moment, through the server and through the token API.
#[test]
fn deletion_requested_by_one_face_and_approved_by_the_operator_from_another() {
    let org = Org::demo();
    let server = org.serve(&["--listen", "127.0.0.1:0"]);
    let (id, secret) = org.data_lake_key();
    let (id, secret) = (id.as_str(), secret.as_str());
    let token = org.issue(id, secret).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let request = org.json(
        OWNER,
        &[
            "project",
            "request-deletion",
            "data-lake",
            "--title",
            "Retire data-lake",
            "--details",
            "Moved to ml-lab",
        ],
    );
    let inquiry = request["id"].as_str().unwrap();
    let approved = org.json(OPERATOR, &["helpdesk", "approve", inquiry]);
    assert_eq!(approved["state"], "Approved");
    assert_eq!(
        names(&org.json(OWNER, &["project", "list"])),
        ["ml-lab", "web-shop"]
    );
    org.as_user(ADMIN, &["token", "verify", &token]).refused(3);
    let api = server.address("token API ");
    let status = http_status(
        &api,
        "GET",
        "/identity/v3/auth/tokens",
        &[("X-Auth-Token", &token), ("X-Subject-Token", &token)],
    );
    assert_eq!(status, 401, "the deleted project's token still works on the API");
}

/// Four clients make changes at once; the server serializes them, every limit holds, and
/// two racing for a project's last key slot: exactly one wins.
#[test]
fn concurrent_clients_keep_every_invariant() {
    let org = Org::demo();
    let _server = org.serve(&[]);
    // admin has one IAM key in web-shop (demo), so one slot is left: race four creates for it.
    let racers: Vec<_> = (0..4)
        .map(|i| {
            let name = format!("race-{i}");
            let mut cmd = org.command(
                &[&["--json"][..], &create_key("iam", "web-shop", &name, &[])].concat(),
                Some(ADMIN),
            );
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let codes: Vec<i32> = racers
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 6).count(), 3, "{codes:?}");

    // Four clients, each creating and deleting service accounts in a loop, at once.
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let dir = org.dir.clone();
            let state = org.state();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let name = format!("w{w}-sa{i}");
                    let base = |args: &[&str]| {
                        let mut cmd = Command::new(BIN);
                        cmd.env("KC_CONSOLE_STATE_DIR", &state)
                            .env("KC_CONSOLE_PASSWORD", password(ADMIN))
                            .args(["--data-dir"])
                            .arg(&dir)
                            .args(["--user", ADMIN])
                            .args(args);
                        run(cmd, None)
                    };
                    base(&["sa", "create", "--project", "web-shop", "--name", &name]).ok();
                    if i % 2 == 0 {
                        let list = base(&["--json", "sa", "list", "--project", "web-shop"]).json();
                        let id = list
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|sa| sa["name"] == name.as_str())
                            .unwrap()["id"]
                            .as_str()
                            .unwrap()
                            .to_string();
                        base(&["sa", "delete", &id, "--confirm", "Delete service account"]).ok();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a worker failed");
    }
    let list = org.json(ADMIN, &["sa", "list", "--project", "web-shop"]);
    let made: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|sa| sa["name"].as_str())
        .filter(|n| n.starts_with('w'))
        .collect();
    assert_eq!(
        made.len(),
        4 * 2,
        "each worker keeps its odd-numbered accounts: {made:?}"
    );
    let keys = org.json(ADMIN, &["credential", "list", "--kind", "iam"]);
    let in_web_shop = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["project_name"] == "web-shop")
        .count();
    assert_eq!(in_web_shop, 2, "the limit of two held: {keys}");
    // Every change is in the audit log once.
    let audit = org.json(OWNER, &["audit", "list", "--limit", "500"]);
    let creates = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "service_account.create" && e["outcome"] == "ok")
        .count();
    assert_eq!(creates, 4 * 5 + 3, "{audit}");
}

/// `login` keeps a session (0600) so later commands need no password; it ends with logout,
/// with a password change, and when the user is removed.
#[test]
fn sessions_sign_in_once_and_end_when_they_should() {
    let org = Org::demo();
    let _server = org.serve(&[]);
    let bare = |args: &[&str]| org.run(args, None, None);
    bare(&["project", "list"]).refused(2);
    let login = org.as_user(DEV, &["--json", "login"]).json();
    assert_eq!(login["signed_in"], DEV);
    let file = org.state().join("sessions.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(org.state()).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(password(DEV)), "the password was kept");
    // No password now: the session signs in.
    assert_eq!(
        names(&serde_json::from_str(&bare(&["--json", "project", "list"]).ok().stdout).unwrap()),
        ["data-lake", "web-shop"]
    );
    // The session is the server's: it works embedded too, once the server is gone.
    bare(&["logout"]).ok();
    bare(&["project", "list"]).refused(2);
    bare(&["logout"]).refused(5);

    // A password change ends the sessions signed in before it.
    org.as_user(DEV, &["login"]).ok();
    org.run(
        &["password", "change"],
        Some(DEV),
        Some("dev-demo-pw\nnew-dev-password-1\n"),
    )
    .ok();
    let ended = bare(&["project", "list"]).refused(3);
    assert!(ended.contains("session"), "{ended}");

    // Removing the user ends theirs.
    let mut cmd = org.command(&["login"], None);
    cmd.args(["--user", ADMIN])
        .env("KC_CONSOLE_PASSWORD", password(ADMIN));
    run(cmd, None).ok();
    bare(&["project", "list"]).ok();
    org.as_user(OWNER, &["user", "remove", ADMIN]).ok();
    bare(&["project", "list"]).refused(3);
}

/// A server killed with SIGKILL: clients say so at once (no hang), the stale socket is
/// recognised, and the next command opens the data directory itself, losing nothing.
#[test]
fn a_killed_server_is_recognised_and_the_directory_used_directly() {
    let org = Org::demo();
    let mut server = org.serve(&[]);
    org.as_user(
        ADMIN,
        &["sa", "create", "--project", "web-shop", "--name", "before-kill"],
    )
    .ok();
    // SIGKILL while a client streams changes from it.
    let feed = std::os::unix::net::UnixStream::connect(org.socket()).unwrap();
    server.kill();
    drop(feed);
    assert!(org.socket().exists(), "SIGKILL leaves the socket behind");
    let started = Instant::now();
    let list = org.json(ADMIN, &["sa", "list", "--project", "web-shop"]);
    // 10 s leaves room for a start, a recovery and a sign-in on a loaded machine; a client
    // waiting on the dead socket would wait for its 30 s call timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the client hung on the dead socket"
    );
    assert!(list.to_string().contains("before-kill"));
    assert!(!org.socket().exists(), "the stale socket was not cleaned up");
}

/// A client whose server went away mid-use gets a clear storage error, not a hang.
#[test]
fn a_remote_client_says_clearly_when_its_server_is_gone() {
    let org = Org::demo();
    let mut server = org.serve(&["--listen-admin", "127.0.0.1:0"]);
    let url = server.address("management API ");
    let remote = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.env("KC_CONSOLE_STATE_DIR", org.state())
            .env("KC_CONSOLE_PASSWORD", password(OWNER))
            .args(["--server", &url, "--user", OWNER])
            .args(args);
        run(cmd, None)
    };
    remote(&["project", "list"]).ok();
    server.kill();
    let started = Instant::now();
    let line = remote(&["project", "list"]).refused(7);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(line.contains("not reachable"), "{line}");
}

/// A console on another machine: TCP with TLS, the certificate pinned by the fingerprint the
/// server printed; no data directory on the client's side. Plain http:// is only for loopback,
/// a wrong fingerprint is refused, and recovery is never accepted over TCP.
#[test]
fn a_remote_client_over_tls_with_a_pinned_certificate() {
    let org = Org::demo();
    let server = org.serve(&["--listen-admin", "0.0.0.0:0"]);
    let line = &server.banner;
    let fingerprint = line
        .split("certificate ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(';')
        .to_string();
    assert!(
        fingerprint.starts_with("SHA256:") && fingerprint.len() == 7 + 64,
        "{line}"
    );
    let port = server
        .address("management API ")
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let url = format!("https://127.0.0.1:{port}");
    let elsewhere = tempfile::tempdir().unwrap();
    let client = |args: &[&str], fingerprint: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(elsewhere.path())
            .env("KC_CONSOLE_STATE_DIR", elsewhere.path().join("state"))
            .env("HOME", elsewhere.path())
            .env("KC_CONSOLE_PASSWORD", password(OWNER))
            .args(["--server", &url, "--user", OWNER]);
        if let Some(f) = fingerprint {
            cmd.args(["--server-fingerprint", f]);
        }
        cmd.args(args);
        run(cmd, None)
    };
    let projects: Value = serde_json::from_str(
        &client(&["--json", "project", "list"], Some(&fingerprint))
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(names(&projects), ["data-lake", "ml-lab", "web-shop"]);
    let refused = client(&["project", "list"], None).refused(2);
    assert!(refused.contains("--server-fingerprint"), "{refused}");
    let wrong = format!("SHA256:{}", "ab".repeat(32));
    let line = client(&["project", "list"], Some(&wrong)).refused(7);
    assert!(line.contains("not the pinned one"), "{line}");
    // login keeps the fingerprint with the session.
    client(&["login"], Some(&fingerprint)).ok();
    let mut cmd = Command::new(BIN);
    cmd.env("KC_CONSOLE_STATE_DIR", elsewhere.path().join("state"))
        .args(["--server", &url, "project", "list"]);
    run(cmd, None).ok();
    let mut cmd = Command::new(BIN);
    cmd.env("KC_CONSOLE_STATE_DIR", elsewhere.path().join("state"))
        .args(["--server", &url, "recover", "--user", DEV]);
    run(cmd, None).refused(4);
    // Plain http:// to another machine is refused before anything is sent.
    let mut cmd = Command::new(BIN);
    cmd.args(["--server", "http://192.0.2.1:5000", "project", "list"]);
    let line = run(cmd, None).refused(2);
    assert!(line.contains("https://"), "{line}");
}

/// Whoever holds the data directory recovers a locked-out owner: directly, or through the
/// server's socket as the same OS user.
#[test]
fn the_holder_recovers_a_locked_out_owner_through_the_socket() {
    let org = Org::demo();
    let _server = org.serve(&[]);
    for _ in 0..5 {
        let mut cmd = org.command(&["project", "list"], None);
        cmd.args(["--user", OWNER])
            .env("KC_CONSOLE_PASSWORD", "wrong-password");
        run(cmd, None).refused(3);
    }
    let locked = org.as_user(OWNER, &["project", "list"]).refused(3);
    assert!(locked.contains("locked"), "{locked}");
    let recovered = org
        .run(
            &["--json", "recover", "--user", OWNER, "--reset-password"],
            None,
            None,
        )
        .json();
    let new_password = recovered["password"].as_str().unwrap().to_string();
    org.as_user(OWNER, &["project", "list"]).refused(3);
    let mut cmd = org.command(&["project", "list"], None);
    cmd.args(["--user", OWNER])
        .env("KC_CONSOLE_PASSWORD", &new_password);
    run(cmd, None).ok();
}

/// A client speaking another protocol version is told which side to upgrade, and a field the
/// server does not know is refused, not dropped.
#[test]
fn a_client_of_another_protocol_version_gets_a_clear_error() {
    let org = Org::demo();
    let _server = org.serve(&[]);
    let call = |protocol: &str, body: &str| {
        let mut stream = std::os::unix::net::UnixStream::connect(org.socket()).unwrap();
        write!(
            stream,
            "POST /kc-console/v1/call HTTP/1.1\r\nHost: x\r\nKC-Console-Protocol: {protocol}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
        reply
    };
    let list = r#"{"auth":{"method":"none"},"request":{"op":"project.list"}}"#;
    let ours = format!("protocol {}", kc_console::org::PROTOCOL_VERSION);
    let reply = call("99", list);
    assert!(
        reply.contains(&ours) && reply.contains("protocol 99") && reply.contains("upgrade the server"),
        "{reply}"
    );
    let reply = call("1", list);
    assert!(reply.contains("upgrade the client"), "{reply}");

    // A field this server does not know is refused by name, not dropped.
    let reply = call(
        &kc_console::org::PROTOCOL_VERSION.to_string(),
        r#"{"auth":{"method":"none"},"request":{"op":"project.create","name":"p","nickname":"P","colour":"red"}}"#,
    );
    assert!(reply.contains("unknown field `colour`"), "{reply}");

    // A client pointed at something that is not a kc-console server says so.
    let server = org_with_api();
    let mut cmd = Command::new(BIN);
    cmd.env("KC_CONSOLE_PASSWORD", password(OWNER)).args([
        "--server",
        &format!("http://{}", server.1),
        "--user",
        OWNER,
        "project",
        "list",
    ]);
    let line = run(cmd, None).refused(2);
    assert!(line.contains("does not answer as a kc-console server"), "{line}");
}

/// A demo organization served with the token API only on loopback; returns its address.
fn org_with_api() -> (Org, String, Server) {
    let org = Org::demo();
    let server = org.serve(&["--listen", "127.0.0.1:0"]);
    let api = server.address("token API ");
    let addr = api
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    (org, addr, server)
}

/// A change made through the server reaches a feed subscriber within a second.
#[test]
fn the_change_feed_carries_changes_made_by_other_faces() {
    use kc_console::org::{self, Auth, FeedEvent, Request};
    let org = Org::demo();
    let _server = org.serve(&[]);
    let target = org::Target {
        data_dir: Some(org.dir.clone()),
        ..Default::default()
    };
    let client = org::connect(&target, kc_console::console::Config::default()).unwrap();
    assert!(
        client.local_console().is_none(),
        "the client opened the served directory itself"
    );
    let grant: org::request::SessionGrant = org::call(
        client.as_ref(),
        &Auth::Password {
            email: OWNER.into(),
            password: kc_console::console::Secret::new(password(OWNER).into()),
        },
        Request::SessionOpen,
    )
    .unwrap();
    let feed = client.changes(&Auth::Session { token: grant.token }).unwrap();
    org.as_user(
        ADMIN,
        &["sa", "create", "--project", "web-shop", "--name", "seen-live"],
    )
    .ok();
    let event = feed.recv_timeout(Duration::from_secs(5)).expect("a change event");
    match event {
        FeedEvent::Changed(change) => {
            assert_eq!(change.action, "service_account.create");
            assert_eq!(change.actor, ADMIN);
            assert!(change.target.contains("seen-live"), "{change:?}");
        }
        other => panic!("{other:?}"),
    }
}

fn http_status(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let addr = base.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The seeds' flow across faces, in a real terminal: a console open on the organization (a
/// client of its server) requests a project's deletion; the Help Desk operator approves it from
/// the command line while the console stays open; the project leaves the console's list on its
/// own, and its key stops working at that moment.
#[test]
fn a_console_in_a_terminal_sees_the_operator_approve_its_deletion_request() {
    let org = Org::demo();
    let server = org.serve(&["--listen", "127.0.0.1:0"]);
    let (id, secret) = org.data_lake_key();
    let (id, secret) = (id.as_str(), secret.as_str());

    let tmux = support::tmux::Tmux::start("shared", 120, 40, &org.dir);
    tmux.sign_in(OWNER, password(OWNER));
    tmux.type_text(":projects");
    tmux.keys(&["Enter"]);
    tmux.wait_for("data-lake");
    tmux.type_text("/data-lake");
    tmux.keys(&["Enter"]);
    tmux.keys(&["d"]);
    tmux.wait_for("Request project deletion");
    tmux.type_text("Moved to ml-lab");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Submitted inquiry");

    // The operator, from another process, while the console stays open.
    let queue = org.json(OPERATOR, &["helpdesk", "list"]);
    let inquiry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["project_name"] == "data-lake" && i["state"] == "Pending")
        .unwrap_or_else(|| panic!("the console's request is in the queue: {queue}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let approved = org.json(OPERATOR, &["helpdesk", "approve", &inquiry]);
    assert_eq!(approved["state"], "Approved");

    // The console follows on its own: no key pressed.
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_until("data-lake to leave the console", |s| {
        s.contains("IAM › Projects") && !s.contains("data-lake")
    });
    assert!(screen.contains("web-shop"), "{screen}");
    let token = org.issue(id, secret);
    assert_ne!(
        token.code, 0,
        "the deleted project's key still issues tokens: {token:?}"
    );
    drop(server);
}

/// Fifty consoles sign in to one server and subscribe to its feed: the server's memory stays
/// bounded (argon2's 19 MiB work area is reused, not left in every worker thread's heap).
#[test]
fn fifty_consoles_signing_in_keep_the_server_small() {
    use kc_console::org::{self, Auth, Request};
    let org = Org::demo();
    let server = org.serve(&[]);
    let target = org::Target {
        data_dir: Some(org.dir.clone()),
        ..Default::default()
    };
    let consoles: Vec<_> = (0..50)
        .map(|_| {
            let client = org::connect(&target, kc_console::console::Config::default()).unwrap();
            let grant: org::request::SessionGrant = org::call(
                client.as_ref(),
                &Auth::Password {
                    email: OWNER.into(),
                    password: kc_console::console::Secret::new(password(OWNER).into()),
                },
                Request::SessionOpen,
            )
            .unwrap();
            let feed = client.changes(&Auth::Session { token: grant.token }).unwrap();
            (client, feed)
        })
        .collect();
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        rss_kib < 200 * 1024,
        "the server holds {} MiB with 50 consoles",
        rss_kib / 1024
    );
    drop(consoles);
}
