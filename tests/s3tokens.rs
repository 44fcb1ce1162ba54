//! S3 access keys against `ec2tokens` and `s3tokens`, with requests signed by botocore (the AWS
//! SDK's signer): Signature Version 4 and Version 2 (S3's HmacV1, EC2's query signature), each
//! turned into the body an S3 gateway sends (RGW and Swift's s3token: access, base64 string to
//! sign, signature) or an EC2 API sends (the request's parts), posted to the token API on
//! loopback with a gateway's service-account token. Then every refusal Keystone makes, the
//! sealing of the secret at rest and the bounded audit of failures.
//!
//! `.ci/run` installs botocore into a virtual environment and names its python in
//! `KC_BOTOCORE_PYTHON`; without it, this test makes that environment itself under `target/`.

#[path = "support/python.rs"]
mod python;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use kc_console::console::{
    Actor, Config, Console, Ec2Credentials, FixedClock, KeyKind, OsEntropy, S3Credentials,
};
use kc_console::store::Table;
use serde_json::{json, Value};

const REFUSED: &str = "the S3 access key is invalid, expired or wrong, or the signature does not match";
const WEB_SHOP: &str = "web-shop";

/// Signs four requests for (access, secret) with botocore and prints the bodies a gateway
/// would post: `s3v4` and `s3v2` for s3tokens, `ec2v4` and `ec2v2` (the credentials object)
/// for ec2tokens.
const SIGNER: &str = r#"
import base64, hashlib, json, sys
from botocore.auth import HmacV1Auth, S3SigV4Auth, SigV2Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

access, secret = sys.argv[1:3]
creds = Credentials(access, secret)

def capture(auth, method):
    """Records the string to sign that `method` of `auth` makes (string_to_sign) or is given
    (sign_string) while the request is signed."""
    seen = {}
    original = getattr(auth, method)
    def wrapped(*args):
        result = original(*args)
        seen["string"] = args[0] if method == "sign_string" else result
        return result
    setattr(auth, method, wrapped)
    return seen

# S3 Signature Version 4, header-signed, as Swift's s3api relays it (URL-safe base64).
request = AWSRequest(method="GET", url="http://gw.example:8080/photos/puppy.jpg")
auth = S3SigV4Auth(creds, "s3", "kr-central-2")
seen = capture(auth, "string_to_sign")
auth.add_auth(request)
s3v4 = {"credentials": {
    "access": access,
    "token": base64.urlsafe_b64encode(seen["string"].encode()).decode(),
    "signature": request.headers["Authorization"].rsplit("Signature=", 1)[1],
}}

# S3 Signature Version 2 (HmacV1), as RGW relays it (standard base64).
request = AWSRequest(method="PUT", url="http://gw.example:8080/photos/kitten.jpg",
                     headers={"Content-Type": "image/jpeg", "x-amz-meta-owner": "dev"},
                     auth_path="/photos/kitten.jpg")
auth = HmacV1Auth(creds)
seen = capture(auth, "sign_string")
auth.add_auth(request)
s3v2 = {"credentials": {
    "access": access,
    "token": base64.b64encode(seen["string"].encode()).decode(),
    "signature": request.headers["Authorization"].rsplit(":", 1)[1],
}}

# EC2 query API, Signature Version 4: the request's parts, as an EC2 API sends them.
request = AWSRequest(method="GET", url="http://ec2.example:8773/",
                     params={"Action": "DescribeRegions", "Version": "2016-11-15"})
SigV4Auth(creds, "ec2", "kr-central-2").add_auth(request)
ec2v4 = {
    "access": access,
    "signature": request.headers["Authorization"].rsplit("Signature=", 1)[1],
    "host": "ec2.example:8773",
    "verb": "GET",
    "path": "/",
    "params": dict(request.params),
    "headers": dict(request.headers, Host="ec2.example:8773"),
    "body_hash": hashlib.sha256(b"").hexdigest(),
}

# EC2 query API, Signature Version 2 (POST form).
request = AWSRequest(method="POST", url="http://ec2.example:8773/",
                     data={"Action": "DescribeInstances", "Version": "2016-11-15"})
SigV2Auth(creds).add_auth(request)
params = dict(request.data)
signature = params.pop("Signature")
ec2v2 = {
    "access": access,
    "signature": signature,
    "host": "ec2.example:8773",
    "verb": "POST",
    "path": "/",
    "params": params,
}

print(json.dumps({"s3v4": s3v4, "s3v2": s3v2,
                  "ec2v4": {"credentials": ec2v4}, "ec2v2": {"ec2Credentials": ec2v2}}))
"#;

/// A python that can import botocore, making a virtual environment if need be.
fn python() -> String {
    python::with("KC_BOTOCORE_PYTHON", "botocore-venv", "botocore", "botocore")
}

/// The four signed bodies botocore makes for (access, secret), signed at the real time.
fn signed(access: &str, secret: &str) -> Value {
    let out = Command::new(python())
        .args(["-c", SIGNER, access, secret])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn endpoint(case: &str) -> &'static str {
    if case.starts_with("s3") {
        "/identity/v3/s3tokens"
    } else {
        "/identity/v3/ec2tokens"
    }
}

struct Reply {
    status: u16,
    head: String,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

/// One HTTP/1.1 request on loopback.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
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
    Reply {
        status,
        head: head.to_string(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// The demo organization with a clock held at the real time (botocore signs at the real time;
/// the tests move the server's clock instead of botocore's), a gateway service account in
/// web-shop and an S3 key of dev's there.
struct World {
    _dir: tempfile::TempDir,
    console: Arc<Console>,
    clock: Arc<FixedClock>,
    addr: SocketAddr,
    admin: Actor,
    gateway_key: (String, String),
    /// An Org Admin's key: validating another principal's token takes one (kc-console has no
    /// service role to give the gateway).
    validator_key: (String, String),
    s3_key: (String, String),
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(Utc::now().trunc_subsecs(0)));
        let config = Config {
            clock: clock.clone(),
            entropy: Arc::new(OsEntropy),
            ..Config::default()
        };
        let console = Console::open(dir.path(), config).unwrap();
        console.load_demo().unwrap();
        let admin = Console::actor_for(&console.user_by_email("admin@pangyo.example").unwrap());
        let dev = Console::actor_for(&console.user_by_email("dev@pangyo.example").unwrap());
        let project = console.find_project(WEB_SHOP).unwrap();
        let sa = console
            .create_service_account(&admin, WEB_SHOP, "s3-gateway", "RGW")
            .unwrap();
        let gateway = console.create_sa_key(&admin, &sa.id(), "rgw", "").unwrap();
        let s3 = console
            .create_credential(&dev, KeyKind::S3, &project.id, "photos", "")
            .unwrap();
        let owner = Console::actor_for(&console.user_by_email("owner@pangyo.example").unwrap());
        let validator = console
            .create_credential(&owner, KeyKind::Iam, &project.id, "validator", "")
            .unwrap();
        let console = Arc::new(console);
        let addr = kc_console::api::spawn(Arc::clone(&console), "127.0.0.1:0").unwrap();
        World {
            _dir: dir,
            addr,
            admin,
            gateway_key: (gateway.key.id.clone(), gateway.secret.expose().to_string()),
            validator_key: (validator.key.id.clone(), validator.secret.expose().to_string()),
            s3_key: (s3.key.id.clone(), s3.secret.expose().to_string()),
            console,
            clock,
        }
    }

    /// A fresh token of the gateway's service account (the clock may have moved).
    fn gateway_token(&self) -> String {
        let (id, secret) = &self.gateway_key;
        self.console
            .issue_token(id, secret)
            .unwrap()
            .token
            .expose()
            .to_string()
    }

    fn post(&self, token: Option<&str>, path: &str, body: &Value) -> Reply {
        let headers: Vec<(&str, &str)> = token.map(|t| ("X-Auth-Token", t)).into_iter().collect();
        http(self.addr, "POST", path, &headers, &body.to_string())
    }

    /// Posts every case of `bodies` with a fresh gateway token; returns (case, reply).
    fn post_all(&self, bodies: &Value, cases: &[&'static str]) -> Vec<(&'static str, Reply)> {
        let token = self.gateway_token();
        cases
            .iter()
            .map(|case| (*case, self.post(Some(&token), endpoint(case), &bodies[case])))
            .collect()
    }

    fn validate(&self, subject: &str) -> Reply {
        let (id, secret) = &self.validator_key;
        let caller = self
            .console
            .issue_token(id, secret)
            .unwrap()
            .token
            .expose()
            .to_string();
        http(
            self.addr,
            "GET",
            "/identity/v3/auth/tokens",
            &[("X-Auth-Token", &caller), ("X-Subject-Token", subject)],
            "",
        )
    }

    /// Rewrites a key's stored record through `edit`, as a record of another version would be.
    fn edit_record(&self, key_id: &str, edit: impl FnOnce(&mut Value)) {
        let store = self.console.store();
        let mut record: Value = store.get(Table::Keys, key_id).unwrap().unwrap();
        edit(&mut record);
        let mut batch = kc_console::store::Batch::default();
        batch.put(key_id, &record);
        store.apply(Table::Keys, batch).unwrap();
    }
}

/// How many audit events the log holds (its kept count), the counted refusals written out.
fn audit_events(console: &Console) -> u64 {
    console.write_token_audit().unwrap();
    console
        .store()
        .get::<u64>(Table::Audit, kc_console::console::audit::layout::COUNT)
        .unwrap()
        .unwrap_or(0)
}

fn assert_refused(replies: &[(&str, Reply)], message: &str) {
    for (case, reply) in replies {
        assert_eq!(reply.status, 401, "{case}: {}", reply.body);
        assert_eq!(reply.message(), message, "{case}");
        assert_eq!(reply.body["error"]["title"], "Unauthorized", "{case}");
    }
}

#[test]
fn botocore_signatures_prove_an_s3_key_to_ec2tokens_and_s3tokens() {
    let world = World::new();
    let (access, secret) = world.s3_key.clone();
    let bodies = signed(&access, &secret);
    let project = world.console.find_project(WEB_SHOP).unwrap();
    let dev = world.console.user_by_email("dev@pangyo.example").unwrap();

    let mut ec2_tokens = Vec::new();
    for (case, reply) in world.post_all(&bodies, &["s3v4", "s3v2", "ec2v4", "ec2v2"]) {
        assert_eq!(reply.status, 200, "{case}: {}", reply.body);
        let token = &reply.body["token"];
        assert_eq!(token["methods"], json!(["ec2credential"]), "{case}");
        assert_eq!(token["project"]["id"], project.id.as_str(), "{case}");
        assert_eq!(token["user"]["id"], dev.id.as_str(), "{case}");
        assert_eq!(
            token["roles"],
            json!([{"id": "project-member", "name": "project_member"}]),
            "{case}"
        );
        assert!(token.get("application_credential").is_none(), "{case}: {token}");
        match reply.header("x-subject-token") {
            // As Keystone: ec2tokens hands out the token, s3tokens only says whom it proves.
            Some(subject) => {
                assert!(case.starts_with("ec2"), "{case} must not hand out a token");
                ec2_tokens.push((case, subject, token.clone()));
            }
            None => assert!(case.starts_with("s3"), "{case} hands out its token"),
        }
    }
    assert_eq!(ec2_tokens.len(), 2);

    for (case, subject, issued) in &ec2_tokens {
        let validated = world.validate(subject);
        assert_eq!(validated.status, 200, "{case}: {}", validated.body);
        assert_eq!(
            &validated.body["token"], issued,
            "{case}: validation says what issuing said"
        );
        // As Keystone since 2026: a token from an S3 signature authorizes nothing.
        let used = http(
            world.addr,
            "GET",
            "/identity/v3/auth/projects",
            &[("X-Auth-Token", subject)],
            "",
        );
        assert_eq!(used.status, 403, "{case}: {}", used.body);
        assert_eq!(
            used.message(),
            "EC2 credential tokens cannot be used for authorization"
        );
    }

    // The key's tokens die with its owner's membership, on the very next request.
    world
        .console
        .remove_member(&world.admin, WEB_SHOP, "dev@pangyo.example")
        .unwrap();
    for (case, subject, _) in &ec2_tokens {
        assert_eq!(world.validate(subject).status, 404, "{case}");
    }
    // And the key (Expired now) proves nothing more.
    assert_refused(
        &world.post_all(&bodies, &["s3v4", "s3v2", "ec2v4", "ec2v2"]),
        REFUSED,
    );
}

#[test]
fn wrong_secret_unknown_or_deleted_key_and_foreign_gateways_get_one_refusal() {
    let world = World::new();
    let (access, secret) = world.s3_key.clone();
    let all = ["s3v4", "s3v2", "ec2v4", "ec2v2"];

    let wrong_secret = signed(&access, &"0".repeat(secret.len()));
    assert_refused(&world.post_all(&wrong_secret, &all), REFUSED);
    let unknown = signed("0123456789abcdef0123456789abcdef", &secret);
    assert_refused(&world.post_all(&unknown, &all), REFUSED);

    // A gateway of another project does not see this project's keys.
    let admin = &world.admin;
    let other = world
        .console
        .create_service_account(admin, "data-lake", "other-gateway", "")
        .unwrap();
    let other_key = world
        .console
        .create_sa_key(admin, &other.id(), "rgw", "")
        .unwrap();
    let other_token = world
        .console
        .issue_token(&other_key.key.id, other_key.secret.expose())
        .unwrap();
    let bodies = signed(&access, &secret);
    for case in all {
        let reply = world.post(Some(other_token.token.expose()), endpoint(case), &bodies[case]);
        assert_eq!((reply.status, reply.message()), (401, REFUSED), "{case}");
    }

    // Only a service account's token may ask: none is 401, a user's is 403 (Keystone's policy).
    for case in ["s3v4", "ec2v4"] {
        let reply = world.post(None, endpoint(case), &bodies[case]);
        assert_eq!(reply.status, 401, "{case}");
    }
    let dev = Console::actor_for(&world.console.user_by_email("dev@pangyo.example").unwrap());
    let project = world.console.find_project(WEB_SHOP).unwrap();
    let iam = world
        .console
        .create_credential(&dev, KeyKind::Iam, &project.id, "cli", "")
        .unwrap();
    let user_token = world
        .console
        .issue_token(&iam.key.id, iam.secret.expose())
        .unwrap();
    for case in ["s3v2", "ec2v2"] {
        let reply = world.post(Some(user_token.token.expose()), endpoint(case), &bodies[case]);
        assert_eq!(reply.status, 403, "{case}: {}", reply.body);
    }

    // The right signature still works; then the key is deleted and it proves nothing.
    for (case, reply) in world.post_all(&bodies, &all) {
        assert_eq!(reply.status, 200, "{case}: {}", reply.body);
    }
    let ec2 = world.post_all(&bodies, &["ec2v4"]);
    let subject = ec2[0].1.header("x-subject-token").unwrap();
    world
        .console
        .delete_credential(&dev, KeyKind::S3, &access)
        .unwrap();
    assert_eq!(
        world.validate(&subject).status,
        404,
        "the key's token died with it"
    );
    assert_refused(&world.post_all(&bodies, &all), REFUSED);
}

#[test]
fn signatures_outside_the_window_are_refused() {
    let world = World::new();
    let (access, secret) = world.s3_key.clone();
    let bodies = signed(&access, &secret);
    let all = ["s3v4", "s3v2", "ec2v4", "ec2v2"];
    let window = "the signed request's time is outside the accepted window (15 minutes either side of the server's clock; S3 Signature Version 4: up to 7 days old, for presigned URLs); check the clocks";

    // Signed 20 minutes in the server's future.
    world.clock.advance(Duration::minutes(-20));
    assert_refused(&world.post_all(&bodies, &all), window);

    // Signed 20 minutes ago: too old for all but S3 Version 4, which may be a presigned URL's.
    world.clock.advance(Duration::minutes(40));
    let replies = world.post_all(&bodies, &all);
    assert_eq!(replies[0].1.status, 200, "{}", replies[0].1.body);
    assert_refused(&replies[1..], window);

    // Eight days ago: too old for anything.
    world.clock.advance(Duration::days(8));
    assert_refused(&world.post_all(&bodies, &all), window);

    // Back in the window, the same signatures are good.
    world.clock.advance(Duration::days(-8) - Duration::minutes(20));
    for (case, reply) in world.post_all(&bodies, &all) {
        assert_eq!(reply.status, 200, "{case}: {}", reply.body);
    }
}

#[test]
fn keys_without_a_sealed_secret_or_with_another_keys_are_refused_clearly() {
    let world = World::new();
    let (access, secret) = world.s3_key.clone();
    let dev = Console::actor_for(&world.console.user_by_email("dev@pangyo.example").unwrap());
    let project = world.console.find_project(WEB_SHOP).unwrap();
    let second = world
        .console
        .create_credential(&dev, KeyKind::S3, &project.id, "backup", "")
        .unwrap();
    let all = ["s3v4", "s3v2", "ec2v4", "ec2v2"];

    // A sealed secret moved onto another key does not open there (bound to its key ID), so the
    // second key cannot be proved with the first key's secret, nor with its own.
    let mut sealed = Value::Null;
    world.edit_record(&access, |r| sealed = r["sealed_secret"].clone());
    assert!(sealed.is_object(), "an S3 key's record holds its sealed secret");
    world.edit_record(&second.key.id, |r| r["sealed_secret"] = sealed.clone());
    let unsealable = "this S3 access key's secret cannot be opened with this data directory's s3-secret-sealing.key (the key file was replaced or the record was altered); delete it and create a new S3 access key";
    assert_refused(
        &world.post_all(&signed(&second.key.id, &secret), &all),
        unsealable,
    );
    assert_refused(
        &world.post_all(&signed(&second.key.id, second.secret.expose()), &all),
        unsealable,
    );

    // A record written before kc-console sealed secrets reads, and is refused with the reason.
    world.edit_record(&access, |r| {
        r.as_object_mut().unwrap().remove("sealed_secret");
    });
    let keys = world.console.list_credentials(&dev, Some(KeyKind::S3)).unwrap();
    assert!(keys.iter().any(|k| k.id == access), "the old record still reads");
    let predates = "this S3 access key was created before kc-console kept S3 secrets for signature checks (ec2tokens/s3tokens); delete it and create a new S3 access key";
    assert_refused(&world.post_all(&signed(&access, &secret), &all), predates);
}

#[test]
fn malformed_requests_get_keystones_statuses_and_change_nothing() {
    let world = World::new();
    let token = world.gateway_token();
    let (access, _) = world.s3_key.clone();
    let audit_before = audit_events(&world.console);
    let cases: Vec<(&str, Value, u16)> = vec![
        ("/identity/v3/ec2tokens", json!({}), 400),
        ("/identity/v3/s3tokens", json!([1, 2]), 400),
        ("/identity/v3/ec2tokens", json!({"credentials": "abc"}), 400),
        (
            "/identity/v3/ec2tokens",
            json!({"credentials": {"signature": "x"}}),
            401,
        ),
        (
            "/identity/v3/s3tokens",
            json!({"credentials": {"access": access, "token": "QQ=="}}),
            401,
        ),
        (
            "/identity/v3/s3tokens",
            json!({"credentials": {"access": access, "signature": "x"}}),
            400,
        ),
        (
            "/identity/v3/s3tokens",
            json!({"credentials": {"access": access, "token": "!!!", "signature": "x"}}),
            400,
        ),
        (
            "/identity/v3/s3tokens",
            json!({"credentials": {"access": "a".repeat(5000), "token": "QQ==", "signature": "x"}}),
            400,
        ),
        (
            "/identity/v3/s3tokens",
            json!({"credentials": {"access": access, "token": "A".repeat(20_000), "signature": "x"}}),
            400,
        ),
        (
            "/identity/v3/ec2tokens",
            json!({"credentials": {"access": access, "signature": "x", "host": "h", "verb": "GET", "path": "/", "params": {"SignatureVersion": 2}}}),
            400,
        ),
        (
            "/identity/v3/ec2tokens",
            json!({"credentials": {"access": access, "signature": "x", "verb": "GET", "path": "/"}}),
            400,
        ),
        (
            "/identity/v3/ec2tokens",
            json!({"credentials": {"access": access, "signature": "x", "host": "h", "verb": "GET", "path": "/", "params": {"SignatureVersion": "1", "Timestamp": "2026-01-01T00:00:00Z"}}}),
            401,
        ),
        (
            "/identity/v3/ec2tokens",
            json!({"credentials": {"access": access, "signature": "x", "host": "h", "verb": "GET", "path": "/", "params": {"SignatureVersion": "2"}}}),
            401,
        ),
    ];
    for (path, body, status) in &cases {
        let reply = world.post(Some(&token), path, body);
        assert_eq!(reply.status, *status, "{path} {body}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], *status, "Keystone's error body");
    }
    let get = http(
        world.addr,
        "GET",
        "/identity/v3/s3tokens",
        &[("X-Auth-Token", &token)],
        "",
    );
    assert_eq!(get.status, 405);
    // Each refusal is audited (bounded, see below); nothing else was written.
    let events = audit_events(&world.console) - audit_before;
    assert!(
        events <= cases.len() as u64,
        "{events} audit records for {} refusals",
        cases.len()
    );
    let s3_keys = world.console.list_credentials(
        &Console::actor_for(&world.console.user_by_email("dev@pangyo.example").unwrap()),
        Some(KeyKind::S3),
    );
    assert_eq!(s3_keys.unwrap().len(), 1);
}

#[test]
fn failed_checks_make_counted_audit_records_not_one_each() {
    let world = World::new();
    let (access, secret) = world.s3_key.clone();
    let good: Value = signed(&access, &secret)["s3v4"]["credentials"].clone();
    let gateway = world
        .console
        .validate_token(&world.gateway_token())
        .unwrap()
        .actor();
    let request = |access: &str, signature: &str| S3Credentials {
        access: access.into(),
        token: good["token"].as_str().unwrap().into(),
        signature: signature.into(),
    };
    let started = std::time::Instant::now();
    let before = audit_events(&world.console);
    for i in 0..200 {
        let wrong = world
            .console
            .s3_token(&gateway, &request(&access, &format!("{i:064x}")));
        assert_eq!(wrong.unwrap_err().message(), REFUSED);
        // Unknown IDs, each different, share one record too: they are never written out.
        let unknown = world
            .console
            .s3_token(&gateway, &request(&format!("{i:032x}"), "00"));
        assert_eq!(unknown.unwrap_err().message(), REFUSED);
    }
    let added = audit_events(&world.console) - before;
    // The token API writes what it has counted every second, so a run may split a key's tally
    // at each tick it spans: a run of d seconds spans at most d + 1 ticks, then the last write,
    // and a tick just before the run may write after it began.
    let most = started.elapsed().as_secs() + 3;
    let owner = Console::actor_for(&world.console.user_by_email("owner@pangyo.example").unwrap());
    let events = world.console.list_audit(&owner, 10 + 2 * most as usize).unwrap();
    let mut records = 0;
    for target in [access.as_str(), "<unknown access key>"] {
        let counted: Vec<_> = events
            .iter()
            .filter(|e| e.action == "s3tokens" && e.target == target)
            .collect();
        assert_eq!(
            counted.iter().map(|e| e.count).sum::<u64>(),
            200,
            "every failure is counted: {counted:#?}"
        );
        assert!(
            (1..=most as usize).contains(&counted.len()),
            "200 failures of {target} became {} records in {most} s: {counted:#?}",
            counted.len()
        );
        assert!(
            counted
                .iter()
                .all(|e| e.count == 1 || e.outcome.contains(&format!("({} times", e.count))),
            "{counted:#?}"
        );
        records += counted.len() as u64;
    }
    assert_eq!(added, records, "nothing else was written");
    // A minute later a new window starts a new record.
    let before = audit_events(&world.console);
    world.clock.advance(Duration::seconds(61));
    let gateway = world
        .console
        .validate_token(&world.gateway_token())
        .unwrap()
        .actor();
    let _ = world.console.s3_token(&gateway, &request(&access, "00"));
    assert_eq!(
        audit_events(&world.console) - before,
        2,
        "a token issue and a new window"
    );
    // The good signature still works, and is audited once.
    let ok = world
        .console
        .s3_token(&gateway, &request(&access, good["signature"].as_str().unwrap()));
    assert!(ok.is_ok(), "{ok:?}");
    // An EC2 request of the model's own shape, refused alike.
    let ec2 = Ec2Credentials {
        access: access.clone(),
        signature: "AAAA".into(),
        host: "h".into(),
        verb: "GET".into(),
        path: "/".into(),
        params: [
            ("SignatureVersion", "2"),
            ("Timestamp", &world.console.now().to_rfc3339()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Default::default()
    };
    assert_eq!(
        world.console.ec2_token(&gateway, &ec2).unwrap_err().message(),
        REFUSED
    );

    // Refusals never quote what was sent, so varied junk cannot make records of its own.
    let started = std::time::Instant::now();
    let before = audit_events(&world.console);
    for i in 3..103 {
        let mut junk = ec2.clone();
        junk.params.insert("SignatureVersion".into(), format!("{i}"));
        junk.headers.insert(format!("X-Junk-{i}"), "a".into());
        junk.headers.insert(format!("x-junk-{i}"), "b".into());
        assert_eq!(
            world.console.ec2_token(&gateway, &junk).unwrap_err().exit_code(),
            2
        );
        junk.headers.clear();
        assert_eq!(
            world.console.ec2_token(&gateway, &junk).unwrap_err().exit_code(),
            3
        );
    }
    // One record per reason, split at most once per tick of the API's audit timer (and once
    // more by a tick just before the run that wrote after it began).
    let added = audit_events(&world.console) - before;
    let most = 2 * (started.elapsed().as_secs() + 3);
    assert!(
        (2..=most).contains(&added),
        "200 refusals for 2 reasons made {added} records"
    );
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
fn s3_secrets_are_sealed_at_rest_with_a_0600_key_file_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // What a crash while the key file was first written leaves behind does not stop the open.
    std::fs::write(dir.path().join("s3-secret-sealing.key.new"), b"half").unwrap();
    let (secrets, bodies, access) = {
        let console = Console::open(dir.path(), Config::default()).unwrap();
        console.load_demo().unwrap();
        let dev = Console::actor_for(&console.user_by_email("dev@pangyo.example").unwrap());
        let project = console.find_project(WEB_SHOP).unwrap();
        let key = console
            .create_credential(&dev, KeyKind::S3, &project.id, "sealed", "")
            .unwrap();
        let secrets: Vec<String> = vec![key.secret.expose().to_string()];
        let bodies = signed(&key.key.id, key.secret.expose());
        (secrets, bodies, key.key.id.clone())
    };

    let key_file = dir.path().join("s3-secret-sealing.key");
    let meta = std::fs::metadata(&key_file).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "the key file is the owner's only"
    );
    assert_eq!(meta.len(), 32);
    assert!(!dir.path().join("s3-secret-sealing.key.new").exists());
    let mut files = Vec::new();
    files_under(dir.path(), &mut files);
    assert!(files.len() > 2, "{files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "an S3 secret in plaintext in {}",
                file.display()
            );
        }
    }

    // A key file others could read is narrowed at open; the reopened console checks the same
    // signatures with the key it reads back.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let console = Console::open(
        dir.path(),
        Config {
            clock,
            ..Config::default()
        },
    )
    .unwrap();
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let admin = Console::actor_for(&console.user_by_email("admin@pangyo.example").unwrap());
    let sa = console
        .create_service_account(&admin, WEB_SHOP, "s3-gateway", "")
        .unwrap();
    let sa_key = console.create_sa_key(&admin, &sa.id(), "rgw", "").unwrap();
    let gateway = console
        .issue_token(&sa_key.key.id, sa_key.secret.expose())
        .unwrap()
        .info
        .actor();
    let s3 = &bodies["s3v2"]["credentials"];
    let request = S3Credentials {
        access: access.clone(),
        token: s3["token"].as_str().unwrap().into(),
        signature: s3["signature"].as_str().unwrap().into(),
    };
    let info = console.s3_token(&gateway, &request).unwrap();
    assert_eq!(info.key_id, access);
    drop(console);

    // A key file replaced by a symbolic link is refused, and what it points to is untouched.
    std::fs::remove_file(&key_file).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, b"not a key").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &key_file).unwrap();
    let refused = Console::open(dir.path(), Config::default()).unwrap_err();
    assert!(refused.message().contains("symbolic link"), "{refused}");
    assert_eq!(std::fs::read(&elsewhere).unwrap(), b"not a key");
}
