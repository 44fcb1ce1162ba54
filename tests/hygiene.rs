//! Secret hygiene: every flow that makes a secret — passwords, access keys of every kind, tokens,
//! through the command line and the token API — run with logging at its most verbose; then the
//! log file, the database files, the audit log and every committed snapshot are searched for
//! each secret. None may be found.

#[path = "support/cli_args.rs"]
mod cli_args;
use cli_args::{create_key, stderr_lines};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kc-console");

struct Env {
    dir: PathBuf,
    log: PathBuf,
}

impl Env {
    fn command(&self, user: Option<(&str, &str)>) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("KC_CONSOLE_") {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--data-dir").arg(&self.dir);
        cmd.env("KC_CONSOLE_LOG", "trace")
            .env("KC_CONSOLE_LOG_FILE", &self.log);
        if let Some((email, password)) = user {
            cmd.args(["--user", email]).env("KC_CONSOLE_PASSWORD", password);
        }
        cmd
    }

    /// Runs a command (stdin optional) and returns its stdout as JSON.
    fn json(&self, user: Option<(&str, &str)>, args: &[&str], stdin: Option<&str>) -> Value {
        let mut cmd = self.command(user);
        cmd.arg("--json")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// One HTTP/1.1 request on loopback; returns (status, headers, body).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn header(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// `kc-console serve` on a port the system picks (a port probed free beforehand could be taken
/// before the server binds it); the address is read from the start-up line.
fn serve(env: &Env) -> (Child, String) {
    let mut child = env
        .command(None)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = stderr_lines(&mut child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not say where it serves; it said: {said:?}");
        };
        if let Some(after) = line.split("token API http://").nth(1) {
            let addr = after.split('/').next().unwrap().to_string();
            return (child, addr);
        }
        said.push(line);
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_secret_reaches_the_log_the_database_the_audit_log_or_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let env = Env {
        dir: tmp.path().join("data"),
        log: tmp.path().join("trace.log"),
    };
    let mut secrets: Vec<(String, String)> = Vec::new();

    // An organization of our own: the owner's password is a secret too.
    let owner_pw = "Owner-Hygiene-pw-1";
    let out = env
        .command(None)
        .args([
            "init",
            "--org",
            "Hygiene",
            "--admin",
            "boss@hygiene.example",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{owner_pw}\n").as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    secrets.push(("owner password".into(), owner_pw.into()));
    let owner = Some(("boss@hygiene.example", owner_pw));

    env.json(
        owner,
        &[
            "payment", "add", "--brand", "Visa", "--last4", "4242", "--expiry", "09/28",
        ],
        None,
    );
    env.json(
        owner,
        &[
            "project",
            "create",
            "--name",
            "clean-room",
            "--nickname",
            "클린룸",
        ],
        None,
    );
    let user = env.json(
        owner,
        &["user", "add", "--email", "dev@hygiene.example", "--name", "Dev"],
        None,
    );
    let dev_pw = user["initial_password"].as_str().unwrap().to_string();
    secrets.push(("initial password".into(), dev_pw.clone()));
    env.json(
        owner,
        &[
            "member",
            "add",
            "--project",
            "clean-room",
            "--email",
            "dev@hygiene.example",
            "--role",
            "member",
        ],
        None,
    );

    // A password change: old and new.
    let new_pw = "Dev-New-pw-12345";
    let mut change = env.command(Some(("dev@hygiene.example", &dev_pw)));
    change
        .args(["password", "change"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = change.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{dev_pw}\n{new_pw}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    secrets.push(("changed password".into(), new_pw.into()));
    let (dev_email, dev_password) = ("dev@hygiene.example", new_pw);
    let dev = Some((dev_email, dev_password));

    // Keys of every kind, and tokens from them.
    let iam = env.json(dev, &create_key("iam", "clean-room", "iam", &[]), None);
    let s3 = env.json(dev, &create_key("s3", "clean-room", "s3", &[]), None);
    secrets.push(("user IAM secret".into(), iam["secret"].as_str().unwrap().into()));
    secrets.push(("user S3 secret".into(), s3["secret"].as_str().unwrap().into()));
    let sa = env.json(
        owner,
        &["sa", "create", "--project", "clean-room", "--name", "robot"],
        None,
    );
    let sa_id = sa["id"].as_str().unwrap().to_string();
    let sa_key = env.json(owner, &["sa-key", "create", &sa_id, "--name", "robot-key"], None);
    secrets.push((
        "service account secret".into(),
        sa_key["secret"].as_str().unwrap().into(),
    ));
    let token = env.json(
        None,
        &[
            "token",
            "issue",
            "--access-key-id",
            iam["id"].as_str().unwrap(),
            "--secret-stdin",
        ],
        Some(&format!("{}\n", iam["secret"].as_str().unwrap())),
    );
    secrets.push(("CLI token".into(), token["token"].as_str().unwrap().into()));
    // A secret sent where the key ID goes is refused and must not be kept either.
    let wrong = env
        .command(None)
        .args([
            "token",
            "issue",
            "--access-key-id",
            sa_key["secret"].as_str().unwrap(),
            "--secret-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"whatever\n")?;
            c.wait()
        })
        .unwrap();
    assert_eq!(wrong.code(), Some(3));

    // The token API: a token from the service account's key, then keys made through the API.
    let (mut server, addr) = serve(&env);
    let auth = format!(
        r#"{{"auth":{{"identity":{{"methods":["application_credential"],"application_credential":{{"id":"{}","secret":"{}"}}}}}}}}"#,
        sa_key["id"].as_str().unwrap(),
        sa_key["secret"].as_str().unwrap()
    );
    let (status, head, _) = http(&addr, "POST", "/identity/v3/auth/tokens", &[], &auth);
    assert_eq!(status, 201);
    let sa_token = header(&head, "x-subject-token");
    secrets.push(("API token".into(), sa_token.clone()));
    let (_, head, _) = http(
        &addr,
        "POST",
        "/identity/v3/auth/tokens",
        &[],
        &format!(
            r#"{{"auth":{{"identity":{{"methods":["application_credential"],"application_credential":{{"id":"{}","secret":"{}"}}}}}}}}"#,
            iam["id"].as_str().unwrap(),
            iam["secret"].as_str().unwrap()
        ),
    );
    secrets.push(("dev key token".into(), header(&head, "x-subject-token")));
    // Credentials are managed with a password token (a key's token may only read them).
    let dev_auth = format!(
        r#"{{"auth":{{"identity":{{"methods":["password"],"password":{{"user":{{"name":"{dev_email}","domain":{{"id":"default"}},"password":"{dev_password}"}}}}}},"scope":{{"project":{{"id":"{}"}}}}}}}}"#,
        iam["project_id"].as_str().unwrap()
    );
    let (_, head, body) = http(&addr, "POST", "/identity/v3/auth/tokens", &[], &dev_auth);
    let dev_token = header(&head, "x-subject-token");
    secrets.push(("dev API token".into(), dev_token.clone()));
    let dev_id = serde_json::from_str::<Value>(&body).unwrap()["token"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _) = http(
        &addr,
        "GET",
        "/identity/v3/auth/tokens",
        // A token checks itself (another principal's token needs an Org Admin's).
        &[("X-Auth-Token", &sa_token), ("X-Subject-Token", &sa_token)],
        "",
    );
    assert_eq!(status, 200);
    let (status, _, body) = http(
        &addr,
        "POST",
        &format!("/identity/v3/users/{dev_id}/credentials/OS-EC2"),
        &[("X-Auth-Token", &dev_token)],
        &format!(r#"{{"tenant_id":"{}"}}"#, iam["project_id"].as_str().unwrap()),
    );
    assert_eq!(status, 201, "{body}");
    let ec2: Value = serde_json::from_str(&body).unwrap();
    secrets.push((
        "EC2 secret".into(),
        ec2["credential"]["secret"].as_str().unwrap().into(),
    ));
    let (status, _, _) = http(
        &addr,
        "DELETE",
        "/identity/v3/auth/tokens",
        &[("X-Auth-Token", &dev_token), ("X-Subject-Token", &dev_token)],
        "",
    );
    assert_eq!(status, 204);
    server.kill().unwrap();
    server.wait().unwrap();

    let audit = env
        .json(owner, &["audit", "list", "--limit", "10000"], None)
        .to_string();

    // The search: the log (which must exist and say something), the data directory, the audit
    // log and every committed snapshot.
    let log = std::fs::read(&env.log).unwrap();
    let log_text = String::from_utf8_lossy(&log);
    assert!(
        log_text.contains("change done") && log_text.contains("api request"),
        "logging was on"
    );
    let mut files = Vec::new();
    files_under(&env.dir, &mut files);
    files_under(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"),
        &mut files,
    );
    let mut found = Vec::new();
    for (what, secret) in &secrets {
        assert!(secret.len() >= 12, "{what} is a real secret");
        if log_text.contains(secret.as_str()) {
            found.push(format!("{what} in the log"));
        }
        if audit.contains(secret.as_str()) {
            found.push(format!("{what} in the audit log"));
        }
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push(format!("{what} in {}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "secrets found: {found:#?}");
}
