//! The token API under attack (issue 14): one spelling per token, validation policy, throttled
//! failures with counted audit records, bounds on everything a client sends, and connections
//! that cannot be held open. A real server on loopback, spoken to with reqwest and with raw
//! sockets where a client library would not send what an attacker sends.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use kc_console::api;
use kc_console::console::{Actor, Config, Console, FixedClock, KeyKind, Limits, NewKey, SeededEntropy};
use kc_console::store::Table;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/api_server.rs"]
mod api_server;
use api_server::{serve_demo, Running, Served};

const OWNER: &str = "owner@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const WEB_SHOP: &str = "web-shop";

struct Server {
    console: Arc<Console>,
    clock: Arc<FixedClock>,
    addr: SocketAddr,
    base: String,
    client: Client,
    _running: Running,
}

impl Server {
    async fn start() -> Server {
        Server::start_with(api::ServerLimits::default()).await
    }

    async fn start_with(limits: api::ServerLimits) -> Server {
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap(),
        ));
        let config = Config {
            clock: clock.clone(),
            entropy: Arc::new(SeededEntropy::new(14)),
            limits: Limits::default(),
        };
        let Served {
            console,
            addr,
            running,
        } = serve_demo(config, limits).await;
        Server {
            console,
            clock,
            addr,
            base: format!("http://{addr}/identity/v3"),
            client: Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            _running: running,
        }
    }

    fn actor(&self, email: &str) -> Actor {
        Console::actor_for(&self.console.user_by_email(email).expect("demo user"))
    }

    fn key(&self, email: &str, name: &str) -> NewKey {
        self.console
            .create_credential(&self.actor(email), KeyKind::Iam, WEB_SHOP, name, "")
            .expect("an IAM key")
    }

    async fn issue_from(&self, client: &Client, key_id: &str, secret: &str) -> reqwest::Response {
        client
            .post(format!("{}/auth/tokens", self.base))
            .json(&json!({"auth": {"identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": key_id, "secret": secret},
            }}}))
            .send()
            .await
            .expect("POST /auth/tokens")
    }

    async fn issue(&self, key_id: &str, secret: &str) -> reqwest::Response {
        self.issue_from(&self.client, key_id, secret).await
    }

    async fn token(&self, key: &NewKey) -> String {
        let response = self.issue(&key.key.id, key.secret.expose()).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "issuing for {}",
            key.key.name
        );
        response.headers()["x-subject-token"]
            .to_str()
            .expect("text")
            .to_string()
    }

    async fn request(&self, method: Method, auth: &str, subject: &str) -> reqwest::Response {
        self.client
            .request(method, format!("{}/auth/tokens", self.base))
            .header("X-Auth-Token", auth)
            .header("X-Subject-Token", subject)
            .send()
            .await
            .expect("a /auth/tokens request")
    }

    /// Every audit event, once what the server has counted but not yet written (its timer
    /// writes every second) is written.
    fn audit_written(&self) -> Vec<(Value, u64)> {
        self.console
            .write_token_audit()
            .expect("counted events are written");
        self.audit()
    }

    /// Every audit event, with its count (1 where the record has none).
    fn audit(&self) -> Vec<(Value, u64)> {
        self.console
            .list_audit(&self.actor(OWNER), usize::MAX)
            .expect("the owner reads the audit log")
            .into_iter()
            .map(|e| {
                let value = serde_json::to_value(&e).expect("an event serializes");
                let count = value["count"].as_u64().unwrap_or(1);
                (value, count)
            })
            .collect()
    }
}

/// A client whose connections come from `source` (another loopback address is another client).
fn client_from(source: &str) -> Client {
    Client::builder()
        .local_address(source.parse::<IpAddr>().expect("an address"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Status, `Retry-After` and body of a response whose body must be Keystone's error.
async fn keystone_error(
    response: reqwest::Response,
    status: StatusCode,
    what: &str,
) -> (Option<String>, Value) {
    assert_eq!(response.status(), status, "{what}");
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("text").to_string());
    let text = response.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: body {text:?}: {e}"));
    assert_eq!(body["error"]["code"], json!(status.as_u16()), "{what}: {body}");
    assert!(
        body["error"]["title"].is_string() && body["error"]["message"].is_string(),
        "{what}: {body}"
    );
    (retry, body)
}

/// Sends raw bytes on a fresh connection; returns the status and the body of the answer.
async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn assert_keystone_body(status: u16, body: &str, what: &str) {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: body {body:?}: {e}"));
    assert_eq!(value["error"]["code"], json!(status), "{what}: {value}");
    assert!(value["error"]["message"].is_string(), "{what}: {value}");
}

/// Other spellings of `token`: case, padding, percent-encoding, extra dots, digits changed.
fn respellings(token: &str) -> Vec<String> {
    let (payload, mac) = token.rsplit_once('.').expect("a signed token");
    let mut variants = vec![
        format!("{payload}.{}", mac.to_uppercase()),
        token.to_uppercase(),
        format!("{payload}.{}{}", mac[..1].to_uppercase(), &mac[1..]),
        format!("{token}."),
        format!(".{token}"),
        format!("{payload}..{mac}"),
        format!("{token}%20"),
        format!("{payload}.%{:02X}{}", mac.as_bytes()[0], &mac[1..]),
        format!("{payload}.0{mac}"),
        format!("{payload}.{mac}0"),
        format!("0{token}"),
        format!("{} {}", payload, mac),
    ];
    // A leading zero in any field of digits.
    let fields: Vec<&str> = token.split('.').collect();
    for (i, field) in fields.iter().enumerate() {
        if !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()) {
            let mut changed = fields.clone();
            let padded = format!("0{field}");
            changed[i] = &padded;
            variants.push(changed.join("."));
        }
    }
    variants.retain(|v| v != token);
    variants
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_has_one_spelling_and_a_revoked_token_stays_revoked_in_every_other() {
    let server = Server::start().await;
    let key = server.key(DEV, "spelling");
    let token = server.token(&key).await;
    let live = server.token(&key).await;

    let bad = server.request(Method::GET, "not-a-token", &live).await;
    let bad_status = bad.status();
    let bad_body = bad.text().await.expect("body");
    assert_eq!(bad_status, StatusCode::UNAUTHORIZED);

    let revoke = server.request(Method::DELETE, &token, &token).await;
    assert_eq!(
        revoke.status(),
        StatusCode::NO_CONTENT,
        "the holder revokes its token"
    );

    for (what, original) in [("revoked", &token), ("live", &live)] {
        for variant in respellings(original) {
            let Ok(header) = reqwest::header::HeaderValue::from_str(&variant) else {
                continue;
            };
            let as_caller = server.request(Method::GET, header.to_str().unwrap(), &live).await;
            let status = as_caller.status();
            let body = as_caller.text().await.expect("body");
            assert_eq!(
                (status, &body),
                (bad_status, &bad_body),
                "a {what} token spelled {variant:?} as X-Auth-Token is answered like a bad token"
            );
            let as_subject = server.request(Method::GET, &live, &variant).await;
            keystone_error(
                as_subject,
                StatusCode::NOT_FOUND,
                &format!("{what} token spelled {variant:?} as X-Subject-Token"),
            )
            .await;
            let head = server.request(Method::HEAD, &live, &variant).await;
            assert_eq!(head.status(), StatusCode::NOT_FOUND, "HEAD of {variant:?}");
        }
    }
    assert_eq!(
        server.request(Method::GET, &live, &live).await.status(),
        StatusCode::OK,
        "the canonical live token still validates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validating_another_principals_token_needs_an_org_admin() {
    let server = Server::start().await;
    let dev_key = server.key(DEV, "dev-key");
    let dev_token = server.token(&dev_key).await;
    let dev_sibling = server.token(&dev_key).await;
    let viewer_token = server.token(&server.key(VIEWER, "viewer-key")).await;
    let owner_token = server.token(&server.key(OWNER, "owner-key")).await;

    for method in [Method::GET, Method::HEAD] {
        let refused = server.request(method.clone(), &viewer_token, &dev_token).await;
        if method == Method::GET {
            let (_, body) = keystone_error(
                refused,
                StatusCode::FORBIDDEN,
                "a Project Reader validating dev's token",
            )
            .await;
            assert!(
                !body.to_string().contains(&dev_key.key.id),
                "a refusal says nothing of the token: {body}"
            );
        } else {
            assert_eq!(
                refused.status(),
                StatusCode::FORBIDDEN,
                "HEAD by a Project Reader"
            );
        }
        assert_eq!(
            server
                .request(method.clone(), &dev_token, &dev_sibling)
                .await
                .status(),
            StatusCode::OK,
            "{method}: another token of one's own principal"
        );
        assert_eq!(
            server
                .request(method.clone(), &dev_token, &dev_token)
                .await
                .status(),
            StatusCode::OK,
            "{method}: itself"
        );
        assert_eq!(
            server
                .request(method.clone(), &owner_token, &dev_token)
                .await
                .status(),
            StatusCode::OK,
            "{method}: an Org Admin validates anyone's token"
        );
    }
    let unknown = server.request(Method::GET, &viewer_token, "kct2.garbage").await;
    keystone_error(unknown, StatusCode::NOT_FOUND, "an invalid subject, whoever asks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_issues_are_throttled_per_key_and_per_address_and_counted_in_one_record() {
    let server = Server::start().await;
    let target = server.key(DEV, "target");
    let other = server.key(VIEWER, "other");
    let wrong = "f".repeat(64);

    // One key, wrong secrets from 127.0.0.1: refused, then throttled — the right secret too.
    let started = Instant::now();
    let mut refusals = 0;
    let throttled_at = loop {
        let response = server.issue(&target.key.id, &wrong).await;
        match response.status() {
            StatusCode::UNAUTHORIZED => refusals += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                let (retry, _) =
                    keystone_error(response, StatusCode::TOO_MANY_REQUESTS, "a throttled key").await;
                let seconds: u64 = retry.expect("Retry-After").parse().expect("whole seconds");
                assert!((1..=60).contains(&seconds), "Retry-After {seconds}");
                break refusals;
            }
            other => panic!("a wrong secret answered {other}"),
        }
        assert!(refusals <= 50, "50 wrong secrets for one key and no 429");
    };
    assert!(
        throttled_at >= 3,
        "a few attempts are allowed first ({throttled_at})"
    );
    let right = server.issue(&target.key.id, target.secret.expose()).await;
    keystone_error(
        right,
        StatusCode::TOO_MANY_REQUESTS,
        "the right secret for a throttled key",
    )
    .await;
    // The last of the target key's events.
    let key_phase = started.elapsed();
    // Another key's valid credential from the same address works.
    assert_eq!(
        server.issue(&other.key.id, other.secret.expose()).await.status(),
        StatusCode::CREATED
    );

    // Many key IDs from 127.0.0.2: that address is throttled, for valid keys too; 127.0.0.1 is not.
    let sprayer = client_from("127.0.0.2");
    let mut sprayed = 0;
    loop {
        let random_id = format!("{:032x}", 0x5eed_0000_u128 + sprayed);
        let response = server.issue_from(&sprayer, &random_id, &wrong).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        sprayed += 1;
        assert!(
            sprayed <= 1000,
            "1,000 key IDs sprayed from one address and no 429"
        );
    }
    let blocked = server
        .issue_from(&sprayer, &other.key.id, other.secret.expose())
        .await;
    keystone_error(
        blocked,
        StatusCode::TOO_MANY_REQUESTS,
        "a valid key from the throttled address",
    )
    .await;
    assert_eq!(
        server.issue(&other.key.id, other.secret.expose()).await.status(),
        StatusCode::CREATED,
        "another address is not throttled"
    );

    // The failures for the target key are counted, not written one by one: a record per kind
    // of refusal (401, 429), split at each tick of the server's one-second audit timer (a run
    // of e seconds spans at most floor(e) + 1 ticks, and a tick just before it may write after
    // it began), far fewer than the attempts.
    let attempts = throttled_at as u64 + 2;
    let for_target: Vec<(Value, u64)> = server
        .audit_written()
        .into_iter()
        .filter(|(e, _)| e["action"] == "token.issue" && e["target"] == json!(target.key.id))
        .collect();
    let counted: u64 = for_target.iter().map(|(_, c)| c).sum();
    assert_eq!(counted, attempts, "every attempt is counted: {for_target:?}");
    let most = 4 + key_phase.as_secs() as usize;
    assert!(
        for_target.len() <= most && (for_target.len() as u64) < attempts,
        "{counted} refused issues of one key became {} audit records: {for_target:?}",
        for_target.len()
    );

    // A password typed into the user field, then wrong passwords, from 127.0.0.4: throttled
    // per user, and the audit log names no user rather than the password.
    let mistyped = client_from("127.0.0.4");
    let typed_password = "hunter2-typed-in-the-wrong-field";
    let wrong_password = || {
        mistyped
            .post(format!("{}/auth/tokens", server.base))
            .json(&json!({"auth": {"identity": {
                "methods": ["password"],
                "password": {"user": {"name": typed_password, "domain": {"id": "default"}, "password": "wrong"}},
            }}}))
            .send()
    };
    let mut attempts = 0;
    // The failure that spends the budget is answered 429 (the model records it as refused);
    // the attempts after it are refused unchecked and counted as throttled.
    loop {
        let response = wrong_password().await.expect("POST /auth/tokens");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        keystone_error(response, StatusCode::UNAUTHORIZED, "a wrong password").await;
        attempts += 1;
        assert!(attempts <= 50, "50 wrong passwords for one user and no 429");
    }
    let after = wrong_password().await.expect("POST /auth/tokens");
    keystone_error(after, StatusCode::TOO_MANY_REQUESTS, "a throttled user").await;

    // Each throttled refusal says what was throttled.
    let audit = server.audit_written();
    let outcomes_for = |target: &str| -> Vec<String> {
        audit
            .iter()
            .filter(|(e, _)| e["action"] == "token.issue" && e["target"] == target)
            .map(|(e, _)| e["outcome"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    for (target, whose) in [
        (target.key.id.as_str(), "for this access key"),
        ("127.0.0.2", "from this address"),
        ("<not a user>", "for this user"),
    ] {
        let outcomes = outcomes_for(target);
        assert!(
            outcomes
                .iter()
                .any(|o| o.starts_with(&format!("refused: too many failed attempts {whose}; throttled"))),
            "{target}: {outcomes:?}"
        );
    }
    assert!(
        !audit.iter().any(|(e, _)| e.to_string().contains(typed_password)),
        "a password typed as the user reached the audit log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_values_are_refused_before_the_model_and_the_log() {
    let server = Server::start().await;
    let viewer = server.key(VIEWER, "reader");
    let token = server.token(&viewer).await;
    let viewer_id = server.console.user_by_email(VIEWER).expect("viewer").id;
    // The issue above is counted in memory; written now, not at the server's next tick.
    let audit_before = server.audit_written().len();

    // A Reader deleting a 60,000-character key ID: 400, nothing written.
    let long_id = "A".repeat(60_000);
    let response = server
        .client
        .delete(format!(
            "{}/users/{viewer_id}/application_credentials/{long_id}",
            server.base
        ))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("DELETE");
    keystone_error(response, StatusCode::URI_TOO_LONG, "a 60,000-character key ID").await;
    let long_segment = "a".repeat(200);
    let response = server
        .client
        .delete(format!(
            "{}/users/{viewer_id}/credentials/OS-EC2/{long_segment}",
            server.base
        ))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("DELETE");
    keystone_error(response, StatusCode::BAD_REQUEST, "a 200-byte path segment").await;
    let audit = server.audit_written();
    let longest = audit
        .iter()
        .map(|(e, _)| e.to_string().len())
        .max()
        .unwrap_or_default();
    assert!(longest < 1024, "an audit event of {longest} bytes");
    assert_eq!(
        audit.len(),
        audit_before,
        "a refused over-long request writes no audit event"
    );

    // JSON fields.
    let response = server.issue(&"a".repeat(10_000), viewer.secret.expose()).await;
    keystone_error(
        response,
        StatusCode::BAD_REQUEST,
        "a 10,000-byte key ID in the body",
    )
    .await;

    // The request head: too many headers, too large, a request line too long, a bad Host.
    let addr = server.addr;
    let mut many = String::from("GET /identity/v3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for n in 0..150 {
        many.push_str(&format!("X-Filler-{n}: {n}\r\n"));
    }
    many.push_str("\r\n");
    let (status, body) = raw(addr, many.as_bytes()).await;
    assert_eq!(status, 431, "150 headers");
    assert_keystone_body(status, &body, "150 headers");
    let large = format!(
        "GET /identity/v3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Auth-Token: {}\r\n\r\n",
        "t".repeat(40_000)
    );
    let (status, body) = raw(addr, large.as_bytes()).await;
    assert_eq!(status, 431, "a 40 KB header");
    assert_keystone_body(status, &body, "a 40 KB header");
    let long_line = format!(
        "GET /identity/v3?{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "q".repeat(4_000)
    );
    let (status, body) = raw(addr, long_line.as_bytes()).await;
    assert_eq!(status, 414, "a 4 KB request line");
    assert_keystone_body(status, &body, "a 4 KB request line");
    let bad_host = "GET /identity/v3 HTTP/1.1\r\nHost: evil\"><script>\r\nConnection: close\r\n\r\n";
    let (status, body) = raw(addr, bad_host.as_bytes()).await;
    assert_eq!(status, 400, "a Host that is no host name");
    assert_keystone_body(status, &body, "a bad Host");
    let long_type = format!(
        "POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json; {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "x".repeat(1000)
    );
    let (status, body) = raw(addr, long_type.as_bytes()).await;
    assert_eq!(status, 400, "a 1 KB Content-Type");
    assert_keystone_body(status, &body, "a 1 KB Content-Type");
    assert_eq!(
        server.token(&viewer).await.len(),
        token.len(),
        "the server still serves"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_records_are_pruned_once_their_tokens_have_expired() {
    let server = Server::start().await;
    let key = server.key(DEV, "prune");
    let first = server.token(&key).await;
    assert_eq!(
        server.request(Method::DELETE, &first, &first).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(server.console.store().record_count(Table::RevokedTokens), 1);

    server
        .clock
        .advance(chrono::Duration::hours(12) + chrono::Duration::seconds(1));
    let second = server.token(&key).await;
    assert_eq!(
        server.request(Method::DELETE, &second, &second).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.console.store().record_count(Table::RevokedTokens),
        1,
        "the first revocation outlived its token"
    );
    assert_eq!(
        server.request(Method::GET, &second, &second).await.status(),
        StatusCode::UNAUTHORIZED,
        "the second stays revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_credentials_spend_the_throttle_budget_like_wrong_ones() {
    let server = Server::start().await;
    // A password the model refuses as too long (it is audited, once per request) from one
    // address: refused, then throttled, so the audit log cannot be flooded through it.
    let flooder = client_from("127.0.0.5");
    let long_password = "p".repeat(200);
    let attempt = || {
        flooder
            .post(format!("{}/auth/tokens", server.base))
            .json(&json!({"auth": {"identity": {
                "methods": ["password"],
                "password": {"user": {"name": DEV, "domain": {"id": "default"}, "password": long_password}},
            }}}))
            .send()
    };
    let mut refused = 0;
    loop {
        let response = attempt().await.expect("POST /auth/tokens");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        keystone_error(response, StatusCode::BAD_REQUEST, "an over-long password").await;
        refused += 1;
        assert!(refused <= 50, "50 over-long passwords and no 429");
    }
    let records = || {
        server
            .audit_written()
            .into_iter()
            .filter(|(e, _)| e["target"] == "<password of 200 characters>")
            .count()
    };
    // The failure that spends the budget is answered 429 but was checked, so it has a record.
    assert_eq!(records(), refused + 1, "one record per checked request");
    let throttled = attempt().await.expect("POST /auth/tokens");
    keystone_error(throttled, StatusCode::TOO_MANY_REQUESTS, "once throttled").await;
    assert_eq!(
        records(),
        refused + 1,
        "a throttled request is not checked, so not recorded alone"
    );
}
