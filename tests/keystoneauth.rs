//! A standard OpenStack client against the token API: keystoneauth1 authenticates with an
//! application credential (an IAM access key) issued by kc-console, reads the token and lists
//! the projects through the catalog's identity endpoint.
//!
//! `.ci/run` installs keystoneauth1 into a virtual environment and names its python in
//! `KC_KEYSTONEAUTH_PYTHON`; without it, this test makes that environment itself under
//! `target/` (PyPI is one of the registries this project may reach).

#[path = "support/python.rs"]
mod python;

use std::process::Command;
use std::sync::Arc;

use kc_console::console::{Config, Console, KeyKind};

const CLIENT: &str = r#"
import json, sys
from keystoneauth1 import session
from keystoneauth1.identity import v3

url, credential_id, secret = sys.argv[1:4]
auth = v3.ApplicationCredential(
    auth_url=url, application_credential_id=credential_id, application_credential_secret=secret)
sess = session.Session(auth=auth)
token = sess.get_token()
access = auth.get_access(sess)
projects = sess.get("/auth/projects", endpoint_filter={"service_type": "identity", "interface": "public"})
print(json.dumps({
    "token": token,
    "project_id": access.project_id,
    "user_id": access.user_id,
    "expires": access.expires.isoformat(),
    "projects": [p["name"] for p in projects.json()["projects"]],
}))
"#;

/// A python that can import keystoneauth1, making a virtual environment if need be.
fn python() -> String {
    python::with(
        "KC_KEYSTONEAUTH_PYTHON",
        "keystoneauth-venv",
        "keystoneauth1",
        "keystoneauth1",
    )
}

#[test]
fn keystoneauth1_authenticates_with_an_application_credential_and_lists_projects() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), Config::default()).unwrap();
    console.load_demo().unwrap();
    let admin = Console::actor_for(&console.user_by_email("admin@pangyo.example").unwrap());
    let key = console
        .create_credential(
            &admin,
            KeyKind::Iam,
            "data-lake",
            "keystoneauth",
            "compatibility test",
        )
        .unwrap();
    let console = Arc::new(console);
    let addr = kc_console::api::spawn(Arc::clone(&console), "127.0.0.1:0").unwrap();
    let url = format!("http://{addr}/identity/v3");

    let out = Command::new(&python)
        .args(["-c", CLIENT, &url, &key.key.id, key.secret.expose()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keystoneauth1 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let token = report["token"].as_str().unwrap();
    let info = console
        .validate_token(token)
        .expect("the token keystoneauth1 holds is valid");
    let data_lake = console.find_project("data-lake").unwrap();
    assert_eq!(report["project_id"], data_lake.id.as_str());
    assert_eq!(info.project_id, data_lake.id);
    assert_eq!(report["user_id"], info.principal_id.as_str());
    assert_eq!(report["projects"], serde_json::json!(["data-lake"]));
    assert!(
        report["expires"]
            .as_str()
            .unwrap()
            .starts_with(&info.expires_at.format("%Y-%m-%dT%H:%M").to_string()),
        "keystoneauth1 read the expiry kc-console wrote: {report}"
    );
}
