//! The Keystone v3 token API of `spec/api.md`, end to end: a real server on a loopback port
//! (`kc_console::api::serve_with`, default limits), spoken to with reqwest, over the demo organization.
//!
//! Console-side changes (removing a member, deactivating or deleting a service account,
//! deleting a key, approving a project deletion) are made through the model directly, and the
//! API's view is checked on the very next request (console.md §2, rules 3–8).
//!
//! Every error response is checked for Keystone's shape `{"error": {"code", "title",
//! "message"}}` with [`expect_error`], and after every malformed request the server must still
//! serve a valid one ([`Server::assert_serving`]).

#[path = "support/api_server.rs"]
mod api_server;
use api_server::{serve_demo, Running, Served};

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use kc_console::api::ServerLimits;
use kc_console::console::{
    Actor, Config, Console, FixedClock, KeyKind, Limits, NewKey, OrgRole, ProjectRole, SaStatus,
    SeededEntropy, ServiceAccount, RESTRICTED_TOKEN,
};
use reqwest::header::{HeaderMap, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const OBSERVER: &str = "observer@pangyo.example";
const WEB_SHOP: &str = "web-shop";
const DATA_LAKE: &str = "data-lake";
const SA_PHRASE: &str = "Delete service account";
const KEY_PHRASE: &str = "Delete IAM access key";
const MAX_BODY: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Fixture: the demo organization behind a real server on 127.0.0.1:0
// ---------------------------------------------------------------------------------------------

/// The fixed "now" of every test, with a fractional second to show the microseconds.
fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + Duration::microseconds(123_456)
}

struct Server {
    console: Arc<Console>,
    clock: Arc<FixedClock>,
    client: Client,
    /// `http://127.0.0.1:PORT/identity/v3`: what the catalog must name.
    base: String,
    /// An Org Admin who is a Project Reader of web-shop, untouched by every cascade the tests
    /// cause: the caller (`X-Auth-Token`) of validations of other principals' tokens (which
    /// needs an Org Admin), and the "valid request" after each bad one.
    observer_key: NewKey,
    observer: String,
    /// The server and its directory: stopped and removed when dropped.
    running: Running,
}

impl Server {
    async fn start() -> Server {
        let clock = Arc::new(FixedClock::new(start_time()));
        let config = Config {
            clock: clock.clone(),
            entropy: Arc::new(SeededEntropy::new(7)),
            limits: Limits::default(),
        };
        let Served {
            console,
            addr,
            running,
        } = serve_demo(config, ServerLimits::default()).await;
        let client = Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("reqwest client");
        let observer_key = {
            let console = console.clone();
            tokio::task::spawn_blocking(move || observer_key(&console))
                .await
                .expect("setup thread")
        };
        let mut server = Server {
            console,
            clock,
            client,
            base: format!("http://{addr}/identity/v3"),
            observer_key,
            observer: String::new(),
            running,
        };
        server.observer = server.token(&server.observer_key).await;
        server
    }

    /// Stops the server gracefully and waits for it.
    async fn shutdown(mut self) {
        self.running.shut_down().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    // ---- the model ----

    fn actor(&self, email: &str) -> Actor {
        actor(&self.console, email)
    }

    fn user_id(&self, email: &str) -> String {
        self.console.user_by_email(email).expect("demo user").id
    }

    fn project_id(&self, name: &str) -> String {
        self.console.find_project(name).expect("demo project").id
    }

    fn sa_id(&self, project: &str, name: &str) -> String {
        ServiceAccount::id_for(name, &self.project_id(project))
    }

    /// A user's IAM access key, made through the model as the console would.
    fn user_key(&self, email: &str, project: &str, name: &str) -> NewKey {
        self.console
            .create_credential(
                &self.actor(email),
                KeyKind::Iam,
                project,
                name,
                "made by tests/api.rs",
            )
            .unwrap_or_else(|e| panic!("{email} creates IAM key {name} in {project}: {e}"))
    }

    /// A service account's IAM access key, made by web-shop's or data-lake's Project Admin.
    fn sa_key(&self, sa_id: &str, name: &str) -> NewKey {
        self.console
            .create_sa_key(&self.actor(ADMIN), sa_id, name, "made by tests/api.rs")
            .unwrap_or_else(|e| panic!("admin creates key {name} for {sa_id}: {e}"))
    }

    // ---- the API ----

    async fn issue_body(&self, body: &Value) -> Response {
        self.request(Method::POST, "/auth/tokens")
            .json(body)
            .send()
            .await
            .expect("POST /auth/tokens")
    }

    async fn issue(&self, key_id: &str, secret: &str) -> Response {
        self.issue_body(&by_id(key_id, secret)).await
    }

    /// A `password` token of a demo user scoped to `project`, which must succeed: the
    /// token that may manage the user's own keys (a key's token may not).
    async fn password_token(&self, email: &str, project: &str) -> String {
        let password = demo_password(email);
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": email, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"id": self.project_id(project)}},
        }});
        let response = self.issue_body(&body).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "a password token for {email} in {project}"
        );
        subject_token(response.headers())
    }

    /// Issues a token for `key`, which must succeed; returns the `X-Subject-Token`.
    async fn token(&self, key: &NewKey) -> String {
        let response = self.issue(&key.key.id, key.secret.expose()).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "issuing a token for key {}",
            key.key.name
        );
        subject_token(response.headers())
    }

    async fn validate(&self, auth: &str, subject: &str) -> Response {
        self.request(Method::GET, "/auth/tokens")
            .header("X-Auth-Token", auth)
            .header("X-Subject-Token", subject)
            .send()
            .await
            .expect("GET /auth/tokens")
    }

    async fn head(&self, auth: &str, subject: &str) -> Response {
        self.request(Method::HEAD, "/auth/tokens")
            .header("X-Auth-Token", auth)
            .header("X-Subject-Token", subject)
            .send()
            .await
            .expect("HEAD /auth/tokens")
    }

    /// The status of validating `subject`, by the observer.
    async fn validation_status(&self, subject: &str) -> StatusCode {
        self.validate(&self.observer, subject).await.status()
    }

    async fn get_with(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path)
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn post_with(&self, token: &str, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .header("X-Auth-Token", token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    async fn delete_with(&self, token: &str, path: &str) -> Response {
        self.request(Method::DELETE, path)
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DELETE {path}: {e}"))
    }

    /// A valid request still succeeds: the version document, a token issue and its validation.
    async fn assert_serving(&self, after: &str) {
        let version = self
            .request(Method::GET, "")
            .send()
            .await
            .unwrap_or_else(|e| panic!("the server stopped answering after {after}: {e}"));
        assert_eq!(version.status(), StatusCode::OK, "GET /identity/v3 after {after}");
        let issued = self
            .issue(&self.observer_key.key.id, self.observer_key.secret.expose())
            .await;
        assert_eq!(
            issued.status(),
            StatusCode::CREATED,
            "a valid token issue after {after}"
        );
        let token = subject_token(issued.headers());
        assert_eq!(
            self.validation_status(&token).await,
            StatusCode::OK,
            "a valid token validation after {after}"
        );
    }

    /// A token dead by a cascade: 404 on GET and HEAD validation, 401 as a caller.
    async fn assert_token_dead(&self, token: &str, why: &str) {
        let response = self.validate(&self.observer, token).await;
        expect_error(
            response,
            StatusCode::NOT_FOUND,
            &format!("validating a token after {why}"),
        )
        .await;
        let head = self.head(&self.observer, token).await;
        assert_eq!(
            head.status(),
            StatusCode::NOT_FOUND,
            "HEAD-validating a token after {why}"
        );
        let as_caller = self.get_with(token, "/auth/projects").await;
        expect_error(
            as_caller,
            StatusCode::UNAUTHORIZED,
            &format!("using a token as X-Auth-Token after {why}"),
        )
        .await;
    }

    /// A key dead by a cascade: 401 on token issue.
    async fn assert_key_dead(&self, key: &NewKey, why: &str) {
        let response = self.issue(&key.key.id, key.secret.expose()).await;
        expect_error(
            response,
            StatusCode::UNAUTHORIZED,
            &format!("issuing with key {} after {why}", key.key.name),
        )
        .await;
    }
}

/// The demo organization's password of a demo user (`assets/demo-org.json`).
fn demo_password(email: &str) -> String {
    format!("{}-demo-pw", email.split('@').next().unwrap_or_default())
}

fn actor(console: &Console, email: &str) -> Actor {
    Console::actor_for(&console.user_by_email(email).expect("demo user"))
}

/// The observer: an Org Admin added for the tests, Project Reader of web-shop, and its key.
fn observer_key(console: &Console) -> NewKey {
    let owner = actor(console, OWNER);
    console
        .add_user_with_password(
            &owner,
            OBSERVER,
            "Observer",
            Some(OrgRole::Admin),
            "observer-test-pw",
        )
        .expect("the owner adds an Org Admin");
    console
        .add_member(&owner, WEB_SHOP, OBSERVER, ProjectRole::Reader)
        .expect("the observer joins web-shop");
    console
        .create_credential(&actor(console, OBSERVER), KeyKind::Iam, WEB_SHOP, "observer", "")
        .expect("the observer creates an IAM key")
}

fn by_id(key_id: &str, secret: &str) -> Value {
    json!({"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": key_id, "secret": secret},
    }}})
}

fn by_name(user_id: &str, name: &str, secret: &str) -> Value {
    json!({"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"name": name, "secret": secret, "user": {"id": user_id}},
    }}})
}

fn subject_token(headers: &HeaderMap) -> String {
    headers
        .get("x-subject-token")
        .expect("an X-Subject-Token header")
        .to_str()
        .expect("a text header")
        .to_string()
}

/// Keystone's title for each status this API uses.
fn keystone_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        other => panic!("no Keystone title expected for {other}"),
    }
}

/// Checks the status and Keystone's error body `{"error": {"code", "title", "message"}}`;
/// returns the message.
async fn expect_error(response: Response, status: StatusCode, what: &str) -> String {
    assert_eq!(response.status(), status, "{what}: status");
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{what}: Content-Type {content_type:?}"
    );
    let text = response.text().await.expect("error body");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: body {text:?} is not JSON: {e}"));
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: body {body} is not an object"));
    assert_eq!(object.len(), 1, "{what}: only \"error\" in {body}");
    let error = &body["error"];
    assert_eq!(
        error["code"],
        json!(status.as_u16()),
        "{what}: error.code in {body}"
    );
    assert_eq!(
        error["title"],
        json!(keystone_title(status)),
        "{what}: error.title in {body}"
    );
    let message = error["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{what}: error.message in {body}");
    message
}

async fn json_of(response: Response, status: StatusCode, what: &str) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("response body");
    assert_eq!(actual, status, "{what}: status (body {text})");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: body {text:?} is not JSON: {e}"))
}

/// Whether a `"secret"` field appears anywhere in `value`.
fn has_secret_field(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == "secret" || has_secret_field(v)),
        Value::Array(items) => items.iter().any(has_secret_field),
        _ => false,
    }
}

/// Keystone's time format: `2025-03-01T09:00:00.123456Z`.
fn keystone_time(value: &Value, what: &str) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"));
    assert_eq!(
        text.len(),
        "2025-03-01T09:00:00.123456Z".len(),
        "{what} {text:?}: length"
    );
    assert_eq!(&text[19..20], ".", "{what} {text:?}: fractional seconds");
    assert!(
        text[20..26].bytes().all(|b| b.is_ascii_digit()),
        "{what} {text:?}: six digits of microseconds"
    );
    assert!(text.ends_with('Z'), "{what} {text:?}: UTC");
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.6fZ")
        .unwrap_or_else(|e| panic!("{what} {text:?}: {e}"))
        .and_utc()
}

/// What a token body must say.
struct Expected<'a> {
    user_id: &'a str,
    user_name: &'a str,
    project_id: &'a str,
    project_name: &'a str,
    role: &'a str,
    key: &'a NewKey,
    issued_at: DateTime<Utc>,
}

fn check_token_body(body: &Value, expected: &Expected, base: &str) {
    let token = &body["token"];
    assert!(token.is_object(), "a {{\"token\": …}} body: {body}");
    assert_eq!(token["methods"], json!(["application_credential"]), "methods");
    let issued = keystone_time(&token["issued_at"], "issued_at");
    let expires = keystone_time(&token["expires_at"], "expires_at");
    assert_eq!(issued, expected.issued_at, "issued_at is the server's now");
    assert_eq!(
        expires - issued,
        Duration::hours(12),
        "expires_at = issued_at + 12 h"
    );

    let user = &token["user"];
    assert_eq!(user["id"], json!(expected.user_id), "user.id");
    assert_eq!(user["name"], json!(expected.user_name), "user.name");
    assert!(
        user["domain"]["id"].is_string() && user["domain"]["name"].is_string(),
        "user.domain: {user}"
    );

    let project = &token["project"];
    assert_eq!(project["id"], json!(expected.project_id), "project.id");
    assert_eq!(project["name"], json!(expected.project_name), "project.name");
    assert!(
        project["domain"]["id"].is_string() && project["domain"]["name"].is_string(),
        "project.domain: {project}"
    );

    let roles = token["roles"].as_array().expect("roles is a list");
    assert_eq!(roles.len(), 1, "one role in the token's project: {roles:?}");
    assert!(roles[0]["id"].is_string(), "roles[0].id: {roles:?}");
    let role_name = roles[0]["name"].as_str().expect("roles[0].name");
    assert!(
        role_name.to_ascii_lowercase().contains(expected.role),
        "roles[0].name {role_name:?} names the {} role",
        expected.role
    );

    let credential = &token["application_credential"];
    assert_eq!(
        credential["id"],
        json!(expected.key.key.id),
        "application_credential.id"
    );
    assert_eq!(
        credential["name"],
        json!(expected.key.key.name),
        "application_credential.name"
    );
    assert_eq!(
        credential["restricted"],
        json!(true),
        "application_credential.restricted"
    );

    let catalog = token["catalog"].as_array().expect("catalog is a list");
    let identity = catalog
        .iter()
        .find(|s| s["type"] == "identity")
        .unwrap_or_else(|| panic!("an identity service in the catalog: {catalog:?}"));
    assert_eq!(identity["name"], json!("keystone"), "catalog identity name");
    let endpoints = identity["endpoints"].as_array().expect("endpoints is a list");
    let public = endpoints
        .iter()
        .find(|e| e["interface"] == "public")
        .unwrap_or_else(|| panic!("a public endpoint: {endpoints:?}"));
    assert_eq!(public["region"], json!("kr-central-2"), "endpoint region");
    assert_eq!(
        public["url"],
        json!(base),
        "the catalog names this server's /identity/v3"
    );

    assert!(
        !has_secret_field(body),
        "a token body never carries a secret: {body}"
    );
    assert!(
        !body.to_string().contains(expected.key.secret.expose()),
        "the key's secret does not appear in the token body"
    );
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_document() {
    let server = Server::start().await;
    for path in ["", "/"] {
        let response = server
            .request(Method::GET, path)
            .send()
            .await
            .expect("GET version");
        let body = json_of(response, StatusCode::OK, "GET /identity/v3").await;
        let version = &body["version"];
        assert_eq!(version["id"], json!("v3.14"), "version.id: {body}");
        assert_eq!(version["status"], json!("stable"), "version.status: {body}");
        let links = version["links"].as_array().expect("version.links is a list");
        assert!(
            links.iter().any(
                |l| l["rel"] == "self" && l["href"].as_str().is_some_and(|h| h.starts_with(&server.base))
            ),
            "a self link to this server: {links:?}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_by_key_id_returns_201_subject_token_and_keystone_body() {
    let server = Server::start().await;
    let dev_id = server.user_id(DEV);
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let response = server.issue(&key.key.id, key.secret.expose()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = subject_token(response.headers());
    assert!(token.len() >= 32, "a token of some length: {token:?}");
    assert!(
        !token.contains(key.secret.expose()),
        "the token does not embed the secret"
    );
    let body = json_of(response, StatusCode::CREATED, "token issue").await;
    let web_shop = server.project_id(WEB_SHOP);
    let expected = Expected {
        user_id: &dev_id,
        user_name: DEV,
        project_id: &web_shop,
        project_name: WEB_SHOP,
        role: "member",
        key: &key,
        issued_at: start_time(),
    };
    check_token_body(&body, &expected, &server.base);

    // Each issue is a new token.
    let again = server.token(&key).await;
    assert_ne!(again, token, "two issues, two tokens");
    // charset parameters on the media type are accepted.
    let response = server
        .request(Method::POST, "/auth/tokens")
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(by_id(&key.key.id, key.secret.expose()).to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "Content-Type with a charset"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_by_key_name_and_user_id() {
    let server = Server::start().await;
    let admin_id = server.user_id(ADMIN);
    let key = server.user_key(ADMIN, WEB_SHOP, "by-name");
    let response = server
        .issue_body(&by_name(&admin_id, "by-name", key.secret.expose()))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "issue by name + user.id");
    let token = subject_token(response.headers());
    let body = json_of(response, StatusCode::CREATED, "token issue by name").await;
    let web_shop = server.project_id(WEB_SHOP);
    let expected = Expected {
        user_id: &admin_id,
        user_name: ADMIN,
        project_id: &web_shop,
        project_name: WEB_SHOP,
        role: "admin",
        key: &key,
        issued_at: start_time(),
    };
    check_token_body(&body, &expected, &server.base);
    assert_eq!(server.validation_status(&token).await, StatusCode::OK);

    // A service account is a principal with its own user_id.
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let sa_key = server.sa_key(&sa_id, "by-name-sa");
    let response = server
        .issue_body(&by_name(&sa_id, "by-name-sa", sa_key.secret.expose()))
        .await;
    let body = json_of(response, StatusCode::CREATED, "SA token issue by name").await;
    let expected = Expected {
        user_id: &sa_id,
        user_name: "deploy-bot",
        project_id: &web_shop,
        project_name: WEB_SHOP,
        role: "member",
        key: &sa_key,
        issued_at: start_time(),
    };
    check_token_body(&body, &expected, &server.base);

    // The name belongs to admin, not to dev: no token.
    let dev_id = server.user_id(DEV);
    let response = server
        .issue_body(&by_name(&dev_id, "by-name", key.secret.expose()))
        .await;
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "a key name under another user's ID",
    )
    .await;

    // A key's token is scoped to its key's project; asking for a scope is not ignored.
    let mut scoped = by_id(&key.key.id, key.secret.expose());
    scoped["auth"]["scope"] = json!({"project": {"id": server.project_id(DATA_LAKE)}});
    let message = expect_error(
        server.issue_body(&scoped).await,
        StatusCode::UNAUTHORIZED,
        "an application credential asking for a scope",
    )
    .await;
    assert!(message.contains("cannot request a scope"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_get_and_head() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let issued = server.issue(&key.key.id, key.secret.expose()).await;
    let token = subject_token(issued.headers());
    let issued_body = json_of(issued, StatusCode::CREATED, "token issue").await;

    // An Org Admin's token may validate another principal's: the observer validates dev's.
    let response = server.validate(&server.observer, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        subject_token(response.headers()),
        token,
        "the subject token is echoed"
    );
    let body = json_of(response, StatusCode::OK, "GET /auth/tokens").await;
    assert_eq!(body, issued_body, "validation says what the issue said");

    // A token may validate itself.
    let response = server.validate(&token, &token).await;
    assert_eq!(response.status(), StatusCode::OK, "self-validation");

    let head = server.head(&server.observer, &token).await;
    assert_eq!(head.status(), StatusCode::OK, "HEAD /auth/tokens");
    assert_eq!(
        subject_token(head.headers()),
        token,
        "HEAD echoes the subject token"
    );
    assert!(
        head.bytes().await.expect("HEAD body").is_empty(),
        "HEAD has no body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_invalid_subject_is_404() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;

    // A forged signature, a token cut short, another prefix, garbage.
    let mut forged = token.clone();
    let last = forged.pop().expect("non-empty token");
    forged.push(if last == '0' { '1' } else { '0' });
    let (payload, _) = token.rsplit_once('.').expect("a signed token");
    let other_key = token.replacen(&key.key.id, &server.observer_key.key.id, 1);
    let candidates = [
        forged,
        payload.to_string(),
        token.replacen("kct2", "kct9", 1),
        other_key,
        "gAAAAABnot-a-token".to_string(),
        "x".repeat(300),
    ];
    for subject in &candidates {
        let response = server.validate(&server.observer, subject).await;
        expect_error(
            response,
            StatusCode::NOT_FOUND,
            &format!("validating {subject:?}"),
        )
        .await;
        let head = server.head(&server.observer, subject).await;
        assert_eq!(
            head.status(),
            StatusCode::NOT_FOUND,
            "HEAD-validating {subject:?}"
        );
        assert!(
            head.bytes().await.expect("HEAD body").is_empty(),
            "HEAD 404 has no body"
        );
    }
    assert_eq!(
        server.validation_status(&token).await,
        StatusCode::OK,
        "the real token still validates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_without_or_with_a_bad_auth_token_is_401() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;

    let missing = server
        .request(Method::GET, "/auth/tokens")
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("GET");
    assert!(
        missing.headers().contains_key(WWW_AUTHENTICATE),
        "401 names the scheme"
    );
    expect_error(
        missing,
        StatusCode::UNAUTHORIZED,
        "GET /auth/tokens without X-Auth-Token",
    )
    .await;

    for bad in ["not-a-token", token.replacen("kct2", "kct9", 1).as_str()] {
        let response = server.validate(bad, &token).await;
        expect_error(
            response,
            StatusCode::UNAUTHORIZED,
            &format!("X-Auth-Token {bad:?}"),
        )
        .await;
        let head = server.head(bad, &token).await;
        assert_eq!(
            head.status(),
            StatusCode::UNAUTHORIZED,
            "HEAD with X-Auth-Token {bad:?}"
        );
    }
    let head = server
        .request(Method::HEAD, "/auth/tokens")
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(
        head.status(),
        StatusCode::UNAUTHORIZED,
        "HEAD without X-Auth-Token"
    );
    server.assert_serving("401s").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_then_validation_is_404() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    let sibling = server.token(&key).await;

    // The holder revokes its own token.
    let response = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("DELETE /auth/tokens");
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "revoke");
    assert!(
        response.bytes().await.expect("body").is_empty(),
        "204 has no body"
    );

    server.assert_token_dead(&token, "its revocation").await;
    let again = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Auth-Token", &server.observer)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("DELETE");
    expect_error(again, StatusCode::NOT_FOUND, "revoking a revoked token").await;

    // Only that token: another from the same key, and the key itself, still work.
    assert_eq!(
        server.validation_status(&sibling).await,
        StatusCode::OK,
        "a sibling token"
    );
    let fresh = server.token(&key).await;
    assert_eq!(
        server.validation_status(&fresh).await,
        StatusCode::OK,
        "a fresh token"
    );

    // A Project Member may not revoke another principal's token; a Project Admin may.
    let admin_key = server.user_key(ADMIN, WEB_SHOP, "api-admin");
    let admin_token = server.token(&admin_key).await;
    let refused = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Auth-Token", &sibling)
        .header("X-Subject-Token", &admin_token)
        .send()
        .await
        .expect("DELETE");
    expect_error(
        refused,
        StatusCode::FORBIDDEN,
        "a member revoking the admin's token",
    )
    .await;
    assert_eq!(
        server.validation_status(&admin_token).await,
        StatusCode::OK,
        "a refused revocation changes nothing"
    );
    let allowed = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Auth-Token", &admin_token)
        .header("X-Subject-Token", &sibling)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(
        allowed.status(),
        StatusCode::NO_CONTENT,
        "the Project Admin revokes a member's token"
    );
    assert_eq!(server.validation_status(&sibling).await, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expires_after_12_hours() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    server
        .clock
        .advance(Duration::hours(12) - Duration::microseconds(1));
    let observer = server.token(&server.observer_key).await;
    let response = server.validate(&observer, &token).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "valid until the last microsecond"
    );
    server.clock.advance(Duration::microseconds(1));
    let response = server.validate(&observer, &token).await;
    expect_error(response, StatusCode::NOT_FOUND, "a token 12 h old").await;
    let response = server.get_with(&token, "/auth/projects").await;
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "an expired token as X-Auth-Token",
    )
    .await;
    // The key itself does not expire.
    let renewed = server.token(&key).await;
    assert_eq!(
        server.validate(&observer, &renewed).await.status(),
        StatusCode::OK
    );
}

fn project_ids(body: &Value) -> BTreeSet<String> {
    body["projects"]
        .as_array()
        .unwrap_or_else(|| panic!("a projects list: {body}"))
        .iter()
        .map(|p| {
            assert!(
                p["name"].is_string() && p["domain_id"].is_string(),
                "a Keystone project: {p}"
            );
            p["id"].as_str().expect("project id").to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_projects_lists_the_tokens_project() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    let body = json_of(
        server.get_with(&token, "/auth/projects").await,
        StatusCode::OK,
        "GET /auth/projects",
    )
    .await;
    assert_eq!(
        project_ids(&body),
        BTreeSet::from([server.project_id(WEB_SHOP)]),
        "{body}"
    );
    assert_eq!(body["projects"][0]["name"], json!(WEB_SHOP));

    let response = server
        .request(Method::GET, "/auth/projects")
        .send()
        .await
        .expect("GET");
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "GET /auth/projects without a token",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_projects_are_the_users_own_only() {
    let server = Server::start().await;
    let dev_id = server.user_id(DEV);
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    let path = format!("/users/{dev_id}/projects");
    let body = json_of(
        server.get_with(&token, &path).await,
        StatusCode::OK,
        "GET /users/{dev}/projects",
    )
    .await;
    assert_eq!(
        project_ids(&body),
        BTreeSet::from([server.project_id(WEB_SHOP), server.project_id(DATA_LAKE)]),
        "dev is a member of web-shop and a reader of data-lake: {body}"
    );

    for other in [server.user_id(ADMIN), server.user_id(OWNER), "0".repeat(32)] {
        let response = server.get_with(&token, &format!("/users/{other}/projects")).await;
        expect_error(response, StatusCode::FORBIDDEN, "another user's projects").await;
    }

    // A service account's projects: its own.
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let sa_key = server.sa_key(&sa_id, "projects");
    let sa_token = server.token(&sa_key).await;
    let body = json_of(
        server
            .get_with(&sa_token, &format!("/users/{sa_id}/projects"))
            .await,
        StatusCode::OK,
        "a service account's projects",
    )
    .await;
    assert_eq!(project_ids(&body), BTreeSet::from([server.project_id(WEB_SHOP)]));
    let response = server.get_with(&sa_token, &path).await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "a service account reading a user's projects",
    )
    .await;
}

// ---- application credentials ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credentials_list_never_shows_a_secret() {
    let server = Server::start().await;
    let dev_id = server.user_id(DEV);
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    let path = format!("/users/{dev_id}/application_credentials");
    let response = server.get_with(&token, &path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(
        !text.contains(key.secret.expose()),
        "the list does not contain the secret"
    );
    let body: Value = serde_json::from_str(&text).expect("JSON");
    assert!(!has_secret_field(&body), "no secret field in {body}");
    let list = body["application_credentials"].as_array().expect("a list");
    let names: BTreeSet<&str> = list.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["local-dev", "api-test"]),
        "dev's IAM keys: {body}"
    );
    let ours = list.iter().find(|c| c["name"] == "api-test").expect("api-test");
    assert_eq!(ours["id"], json!(key.key.id));
    assert_eq!(ours["project_id"], json!(server.project_id(WEB_SHOP)));

    let response = server
        .get_with(
            &token,
            &format!("/users/{}/application_credentials", server.user_id(ADMIN)),
        )
        .await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "listing another user's application credentials",
    )
    .await;
    let response = server.request(Method::GET, &path).send().await.expect("GET");
    expect_error(response, StatusCode::UNAUTHORIZED, "listing without a token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credential_create_returns_secret_once_and_enforces_the_limit() {
    let server = Server::start().await;
    let owner_id = server.user_id(OWNER);
    let web_shop = server.project_id(WEB_SHOP);
    let bootstrap = server.user_key(OWNER, WEB_SHOP, "bootstrap");
    let token = server.password_token(OWNER, WEB_SHOP).await;
    let path = format!("/users/{owner_id}/application_credentials");

    let request = json!({"application_credential": {"name": "from-api", "description": "made over HTTP"}});
    let body = json_of(
        server.post_with(&token, &path, &request).await,
        StatusCode::CREATED,
        "create",
    )
    .await;
    let created = &body["application_credential"];
    let id = created["id"].as_str().expect("id").to_string();
    let secret = created["secret"].as_str().expect("the secret, once").to_string();
    assert_eq!(created["name"], json!("from-api"));
    assert_eq!(
        created["project_id"],
        json!(web_shop),
        "created in the token's project"
    );
    assert_eq!(created["user_id"], json!(owner_id));
    assert!(secret.len() >= 32, "a high-entropy secret");

    // The new key works at once, by ID and by name.
    let response = server.issue(&id, &secret).await;
    let issued = json_of(response, StatusCode::CREATED, "a token from the new key").await;
    assert_eq!(issued["token"]["application_credential"]["id"], json!(id));
    assert_eq!(issued["token"]["project"]["id"], json!(web_shop));
    let response = server.issue_body(&by_name(&owner_id, "from-api", &secret)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "by name");

    // The secret is never shown again.
    let response = server.get_with(&token, &path).await;
    let text = response.text().await.expect("list");
    assert!(
        !text.contains(&secret),
        "the list does not contain the new secret"
    );
    let listed: Value = serde_json::from_str(&text).expect("JSON");
    assert!(!has_secret_field(&listed));
    let ids: BTreeSet<&str> = listed["application_credentials"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from([bootstrap.key.id.as_str(), id.as_str()]));

    // Two per project, as in the console: the third is refused, naming the limit.
    let third = json!({"application_credential": {"name": "third"}});
    let message = expect_error(
        server.post_with(&token, &path, &third).await,
        StatusCode::CONFLICT,
        "a third key",
    )
    .await;
    assert!(
        message.contains("up to 2"),
        "the message names the limit: {message:?}"
    );
    let count = server
        .console
        .list_credentials(&server.actor(OWNER), Some(KeyKind::Iam))
        .expect("owner's keys")
        .len();
    assert_eq!(count, 2, "the refused create made nothing");

    // A duplicate name is a conflict too, once there is room.
    let response = server.delete_with(&token, &format!("{path}/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let duplicate = json!({"application_credential": {"name": "bootstrap"}});
    expect_error(
        server.post_with(&token, &path, &duplicate).await,
        StatusCode::CONFLICT,
        "a duplicate name",
    )
    .await;

    // Another user's path.
    let other = format!("/users/{}/application_credentials", server.user_id(DEV));
    expect_error(
        server.post_with(&token, &other, &request).await,
        StatusCode::FORBIDDEN,
        "creating for another user",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credential_delete_kills_its_tokens() {
    let server = Server::start().await;
    let owner_id = server.user_id(OWNER);
    let bootstrap = server.user_key(OWNER, WEB_SHOP, "bootstrap");
    let token = server.password_token(OWNER, WEB_SHOP).await;
    let path = format!("/users/{owner_id}/application_credentials");
    let request = json!({"application_credential": {"name": "doomed"}});
    let body = json_of(
        server.post_with(&token, &path, &request).await,
        StatusCode::CREATED,
        "create",
    )
    .await;
    let id = body["application_credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = body["application_credential"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let doomed_token = subject_token(server.issue(&id, &secret).await.headers());
    assert_eq!(server.validation_status(&doomed_token).await, StatusCode::OK);

    let response = server.delete_with(&token, &format!("{path}/{id}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "delete");
    assert!(
        response.bytes().await.expect("body").is_empty(),
        "204 has no body"
    );
    server
        .assert_token_dead(&doomed_token, "its key was deleted over the API")
        .await;
    let response = server.issue(&id, &secret).await;
    expect_error(response, StatusCode::UNAUTHORIZED, "a deleted key").await;
    let listed = json_of(server.get_with(&token, &path).await, StatusCode::OK, "list").await;
    assert!(
        !listed.to_string().contains(&id),
        "the deleted key is gone from the list"
    );

    let response = server.delete_with(&token, &format!("{path}/{id}")).await;
    expect_error(response, StatusCode::NOT_FOUND, "deleting it again").await;
    // dev's key, under owner's path: not owner's to delete.
    let dev_key = server.user_key(DEV, WEB_SHOP, "dev-key");
    let response = server
        .delete_with(&token, &format!("{path}/{}", dev_key.key.id))
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "deleting another user's key").await;
    assert!(
        server
            .console
            .access_key(&dev_key.key.id)
            .expect("read")
            .is_some(),
        "dev's key survives"
    );
    // owner's own key in data-lake, with a token scoped to web-shop.
    let lake_key = server.user_key(OWNER, DATA_LAKE, "lake");
    let response = server
        .delete_with(&token, &format!("{path}/{}", lake_key.key.id))
        .await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "deleting a key of another project",
    )
    .await;
    assert!(
        server
            .console
            .access_key(&lake_key.key.id)
            .expect("read")
            .is_some(),
        "the lake key survives"
    );
    // dev deleting owner's key through owner's path.
    let dev_token = server.token(&dev_key).await;
    let response = server
        .delete_with(&dev_token, &format!("{path}/{}", bootstrap.key.id))
        .await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "deleting under another user's path",
    )
    .await;
    assert_eq!(
        server.validation_status(&token).await,
        StatusCode::OK,
        "owner's token survives"
    );
}

// ---- EC2 credentials ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec2_credentials_list_create_delete() {
    let server = Server::start().await;
    let admin_id = server.user_id(ADMIN);
    let web_shop = server.project_id(WEB_SHOP);
    let key = server.user_key(ADMIN, WEB_SHOP, "s3-admin");
    let token = server.password_token(ADMIN, WEB_SHOP).await;
    let path = format!("/users/{admin_id}/credentials/OS-EC2");

    // admin's demo S3 key in data-lake is listed, without a secret.
    let listed = json_of(server.get_with(&token, &path).await, StatusCode::OK, "list EC2").await;
    let credentials = listed["credentials"].as_array().expect("credentials list");
    assert_eq!(credentials.len(), 1, "admin has one S3 key: {listed}");
    assert_eq!(credentials[0]["tenant_id"], json!(server.project_id(DATA_LAKE)));
    assert!(credentials[0]["access"].is_string());
    assert!(!has_secret_field(&listed));

    let response = server
        .post_with(&token, &path, &json!({"tenant_id": web_shop}))
        .await;
    let body = json_of(response, StatusCode::CREATED, "create EC2").await;
    let credential = &body["credential"];
    let access = credential["access"].as_str().expect("access").to_string();
    let secret = credential["secret"].as_str().expect("secret").to_string();
    assert_eq!(credential["tenant_id"], json!(web_shop));
    assert_eq!(credential["user_id"], json!(admin_id));
    assert!(secret.len() >= 32);

    let response = server.get_with(&token, &path).await;
    let text = response.text().await.expect("list");
    assert!(!text.contains(&secret), "the list never shows the secret");
    let listed: Value = serde_json::from_str(&text).expect("JSON");
    assert!(!has_secret_field(&listed));
    let accesses: Vec<&str> = listed["credentials"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["access"].as_str())
        .collect();
    assert!(
        accesses.contains(&access.as_str()),
        "the new key is listed: {listed}"
    );
    assert!(
        !listed.to_string().contains(&key.key.id),
        "IAM keys are not EC2 credentials"
    );

    // An S3 key is not an application credential.
    let response = server.issue(&access, &secret).await;
    expect_error(response, StatusCode::UNAUTHORIZED, "a token from an S3 key").await;

    // Refusals: no tenant_id, another project than the token's, another user's path.
    let response = server.post_with(&token, &path, &json!({})).await;
    expect_error(response, StatusCode::BAD_REQUEST, "EC2 create without tenant_id").await;
    let lake = server.project_id(DATA_LAKE);
    let response = server.post_with(&token, &path, &json!({"tenant_id": lake})).await;
    let message = expect_error(
        response,
        StatusCode::FORBIDDEN,
        "EC2 create in a project other than the token's",
    )
    .await;
    assert!(
        message.contains("does not match the token's scope"),
        "the refusal says the project is not the token's: {message:?}"
    );
    let dev_path = format!("/users/{}/credentials/OS-EC2", server.user_id(DEV));
    let response = server
        .post_with(&token, &dev_path, &json!({"tenant_id": web_shop}))
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "EC2 create for another user").await;
    let response = server.get_with(&token, &dev_path).await;
    expect_error(response, StatusCode::FORBIDDEN, "EC2 list of another user").await;

    let response = server.delete_with(&token, &format!("{path}/{access}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "EC2 delete");
    let listed = json_of(server.get_with(&token, &path).await, StatusCode::OK, "list EC2").await;
    assert!(
        !listed.to_string().contains(&access),
        "the deleted key is gone: {listed}"
    );
    let response = server.delete_with(&token, &format!("{path}/{access}")).await;
    expect_error(response, StatusCode::NOT_FOUND, "EC2 delete again").await;
    // An IAM key's ID is not an EC2 access key.
    let response = server
        .delete_with(&token, &format!("{path}/{}", key.key.id))
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "EC2 delete of an IAM key").await;
    assert_eq!(
        server.validation_status(&token).await,
        StatusCode::OK,
        "the IAM key survives"
    );
}

/// Keystone's EC2 create request carries no name, so the server makes one up. Creates that are
/// within the limit (two per project) must all succeed however close together they come: here
/// the owner creates two S3 keys in each of its three projects at once, as a script would.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ec2_creates_close_together_all_succeed() {
    let server = Arc::new(Server::start().await);
    let owner_id = server.user_id(OWNER);
    let path = Arc::new(format!("/users/{owner_id}/credentials/OS-EC2"));
    let mut scoped = Vec::new();
    for project in [WEB_SHOP, DATA_LAKE, "ml-lab"] {
        scoped.push((
            server.project_id(project),
            server.password_token(OWNER, project).await,
        ));
    }
    let mut tasks = Vec::new();
    for (project_id, token) in scoped.iter().chain(scoped.iter()) {
        let (server, path) = (server.clone(), path.clone());
        let (project_id, token) = (project_id.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let response = server
                .post_with(&token, &path, &json!({"tenant_id": project_id}))
                .await;
            (response.status(), response.text().await.unwrap_or_default())
        }));
    }
    let mut refused = Vec::new();
    for task in tasks {
        let (status, text) = task.await.expect("create task");
        if status != StatusCode::CREATED {
            refused.push(format!("{status}: {text}"));
        }
    }
    assert!(
        refused.is_empty(),
        "6 EC2 creates within the limits, refused: {refused:#?}"
    );
    for (project_id, token) in &scoped {
        let third = server
            .post_with(token, &path, &json!({"tenant_id": project_id}))
            .await;
        let message = expect_error(third, StatusCode::CONFLICT, "a third EC2 credential in a project").await;
        assert!(
            message.contains("up to 2"),
            "the message names the limit: {message:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cascades (console.md §2): the API sees them on the very next request
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascade_deleted_key() {
    let server = Server::start().await;
    // A user's key, deleted on the console.
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let token = server.token(&key).await;
    assert_eq!(server.validation_status(&token).await, StatusCode::OK);
    server
        .console
        .delete_credential(&server.actor(DEV), KeyKind::Iam, &key.key.id)
        .expect("dev deletes the key");
    server.assert_token_dead(&token, "its key was deleted").await;
    server.assert_key_dead(&key, "it was deleted").await;

    // A service account's key, deleted by its Project Admin.
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let sa_key = server.sa_key(&sa_id, "doomed");
    let sa_token = server.token(&sa_key).await;
    assert_eq!(server.validation_status(&sa_token).await, StatusCode::OK);
    server
        .console
        .delete_sa_key(&server.actor(ADMIN), &sa_id, &sa_key.key.id, KEY_PHRASE)
        .expect("admin deletes the service account's key");
    server
        .assert_token_dead(&sa_token, "its service-account key was deleted")
        .await;
    server.assert_key_dead(&sa_key, "it was deleted").await;
    server.assert_serving("the deletions").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascade_removed_member() {
    let server = Server::start().await;
    let dev_id = server.user_id(DEV);
    let shop_key = server.user_key(DEV, WEB_SHOP, "api-test");
    let lake_key = server.user_key(DEV, DATA_LAKE, "lake-test");
    let shop_token = server.token(&shop_key).await;
    let lake_token = server.token(&lake_key).await;
    assert_eq!(server.validation_status(&shop_token).await, StatusCode::OK);

    server
        .console
        .remove_member(&server.actor(OWNER), WEB_SHOP, DEV)
        .expect("owner removes dev from web-shop");
    server
        .assert_token_dead(&shop_token, "dev was removed from web-shop")
        .await;
    server
        .assert_key_dead(&shop_key, "dev was removed from web-shop")
        .await;

    // Only web-shop's keys: dev's data-lake token and key still work.
    assert_eq!(
        server.validation_status(&lake_token).await,
        StatusCode::OK,
        "the data-lake token lives"
    );
    let fresh = server.token(&lake_key).await;
    let listed = json_of(
        server
            .get_with(&fresh, &format!("/users/{dev_id}/application_credentials"))
            .await,
        StatusCode::OK,
        "dev's keys",
    )
    .await;
    let shop_entry = listed["application_credentials"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == json!(shop_key.key.id))
        .cloned()
        .unwrap_or_else(|| panic!("the expired key is still listed: {listed}"));
    assert_eq!(
        shop_entry["status"],
        json!("expired"),
        "listed as expired: {shop_entry}"
    );
    let projects = json_of(
        server
            .get_with(&fresh, &format!("/users/{dev_id}/projects"))
            .await,
        StatusCode::OK,
        "dev's projects",
    )
    .await;
    assert_eq!(
        project_ids(&projects),
        BTreeSet::from([server.project_id(DATA_LAKE)])
    );

    // Adding dev back does not revive the expired key.
    server
        .console
        .add_member(
            &server.actor(OWNER),
            WEB_SHOP,
            DEV,
            kc_console::console::ProjectRole::Member,
        )
        .expect("owner adds dev back");
    server
        .assert_key_dead(&shop_key, "dev was removed and added back")
        .await;
    server
        .assert_token_dead(&shop_token, "dev was removed and added back")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascade_inactive_service_account_and_reactivation_does_not_revive() {
    let server = Server::start().await;
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let key = server.sa_key(&sa_id, "api-test");
    let token = server.token(&key).await;
    assert_eq!(server.validation_status(&token).await, StatusCode::OK);

    server
        .console
        .set_service_account_status(&server.actor(ADMIN), &sa_id, SaStatus::Inactive)
        .expect("admin deactivates deploy-bot");
    server
        .assert_token_dead(&token, "its service account was deactivated")
        .await;
    server
        .assert_key_dead(&key, "its service account was deactivated")
        .await;

    server
        .console
        .set_service_account_status(&server.actor(ADMIN), &sa_id, SaStatus::Active)
        .expect("admin reactivates deploy-bot");
    server
        .assert_token_dead(&token, "its service account was reactivated")
        .await;
    server
        .assert_key_dead(&key, "its service account was reactivated")
        .await;
    server.assert_serving("the deactivation").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascade_deleted_service_account() {
    let server = Server::start().await;
    let web_shop = server.project_id(WEB_SHOP);
    server
        .console
        .create_service_account(&server.actor(ADMIN), WEB_SHOP, "api-temp", "")
        .expect("admin creates a service account");
    let sa_id = ServiceAccount::id_for("api-temp", &web_shop);
    let key = server.sa_key(&sa_id, "api-test");
    let token = server.token(&key).await;
    assert_eq!(server.validation_status(&token).await, StatusCode::OK);

    server
        .console
        .delete_service_account(&server.actor(ADMIN), &sa_id, SA_PHRASE)
        .expect("admin deletes the service account");
    server
        .assert_token_dead(&token, "its service account was deleted")
        .await;
    server
        .assert_key_dead(&key, "its service account was deleted")
        .await;
    let response = server
        .issue_body(&by_name(&sa_id, "api-test", key.secret.expose()))
        .await;
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "by name, after the service account was deleted",
    )
    .await;

    // A new service account of the same name does not inherit anything.
    server
        .console
        .create_service_account(&server.actor(ADMIN), WEB_SHOP, "api-temp", "")
        .expect("the name is free again");
    server
        .assert_token_dead(&token, "a namesake service account was created")
        .await;
    server
        .assert_key_dead(&key, "a namesake service account was created")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascade_approved_project_deletion() {
    let server = Server::start().await;
    let admin_id = server.user_id(ADMIN);
    let owner_key = server.user_key(OWNER, DATA_LAKE, "lake-owner");
    let admin_key = server.user_key(ADMIN, DATA_LAKE, "lake-admin");
    let sa_key = server.sa_key(&server.sa_id(DATA_LAKE, "etl-runner"), "lake-sa");
    let tokens = [
        server.token(&owner_key).await,
        server.token(&admin_key).await,
        server.token(&sa_key).await,
    ];
    for token in &tokens {
        assert_eq!(server.validation_status(token).await, StatusCode::OK);
    }
    // admin, in web-shop, sees the demo's S3 key in data-lake.
    let admin_shop = server.user_key(ADMIN, WEB_SHOP, "shop-admin");
    let admin_shop_token = server.token(&admin_shop).await;
    let ec2_path = format!("/users/{admin_id}/credentials/OS-EC2");
    let listed = json_of(
        server.get_with(&admin_shop_token, &ec2_path).await,
        StatusCode::OK,
        "EC2 list",
    )
    .await;
    assert_eq!(
        listed["credentials"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    let inquiry = server
        .console
        .request_project_deletion(
            &server.actor(OWNER),
            DATA_LAKE,
            "Delete data-lake",
            "tests/api.rs",
            false,
            None,
        )
        .expect("owner requests deletion");
    // Pending: nothing happens yet.
    assert_eq!(
        server.validation_status(&tokens[0]).await,
        StatusCode::OK,
        "pending request"
    );
    server
        .console
        .approve_inquiry(
            &kc_console::console::Actor::operator(kc_console::console::Via::Password),
            &inquiry.id,
        )
        .expect("the operator approves");

    for (token, key) in tokens.iter().zip([&owner_key, &admin_key, &sa_key]) {
        let why = format!("data-lake was deleted (key {})", key.key.name);
        server.assert_token_dead(token, &why).await;
        server.assert_key_dead(key, &why).await;
    }
    // The rest of the organization is untouched; the S3 key went with the project.
    assert_eq!(
        server.validation_status(&admin_shop_token).await,
        StatusCode::OK,
        "web-shop lives"
    );
    let listed = json_of(
        server.get_with(&admin_shop_token, &ec2_path).await,
        StatusCode::OK,
        "EC2 list",
    )
    .await;
    assert_eq!(
        listed["credentials"],
        json!([]),
        "data-lake's S3 key is gone: {listed}"
    );
    let projects = json_of(
        server
            .get_with(&admin_shop_token, &format!("/users/{admin_id}/projects"))
            .await,
        StatusCode::OK,
        "admin's projects",
    )
    .await;
    assert_eq!(
        project_ids(&projects),
        BTreeSet::from([server.project_id(WEB_SHOP)])
    );
    server.assert_serving("the project deletion").await;
}

// ---------------------------------------------------------------------------------------------
// Service-account tokens, and one 401 for every unusable key
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_token_gets_403_on_every_iam_change() {
    let server = Server::start().await;
    let web_shop = server.project_id(WEB_SHOP);
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let key = server.sa_key(&sa_id, "api-test");
    let token = server.token(&key).await;
    let app_path = format!("/users/{sa_id}/application_credentials");
    let ec2_path = format!("/users/{sa_id}/credentials/OS-EC2");
    let keys_before = server
        .console
        .list_sa_keys(&server.actor(ADMIN), &sa_id)
        .expect("SA keys");

    // Reading its own keys is fine.
    let listed = json_of(
        server.get_with(&token, &app_path).await,
        StatusCode::OK,
        "SA lists its keys",
    )
    .await;
    assert!(!has_secret_field(&listed));
    assert_eq!(
        listed["application_credentials"].as_array().map(Vec::len),
        Some(keys_before.len())
    );

    // A service account's token is a key's token: restricted, refused as Keystone refuses.
    let create = json!({"application_credential": {"name": "sa-made"}});
    let m = expect_error(
        server.post_with(&token, &app_path, &create).await,
        StatusCode::FORBIDDEN,
        "SA creates an app credential",
    )
    .await;
    assert_eq!(m, RESTRICTED_TOKEN, "the refusal says why");
    let m = expect_error(
        server
            .delete_with(&token, &format!("{app_path}/{}", key.key.id))
            .await,
        StatusCode::FORBIDDEN,
        "SA deletes its own app credential",
    )
    .await;
    assert_eq!(m, RESTRICTED_TOKEN, "the refusal says why");
    let m = expect_error(
        server
            .post_with(&token, &ec2_path, &json!({"tenant_id": web_shop}))
            .await,
        StatusCode::FORBIDDEN,
        "SA creates an EC2 credential",
    )
    .await;
    assert_eq!(m, RESTRICTED_TOKEN, "the refusal says why");
    let admin_s3 = server
        .console
        .list_credentials(&server.actor(ADMIN), Some(KeyKind::S3))
        .expect("admin's S3 keys")
        .remove(0);
    expect_error(
        server
            .delete_with(&token, &format!("{ec2_path}/{}", admin_s3.id))
            .await,
        StatusCode::FORBIDDEN,
        "SA deletes an EC2 credential",
    )
    .await;
    expect_error(
        server
            .delete_with(&token, &format!("{ec2_path}/{}", "0".repeat(32)))
            .await,
        StatusCode::FORBIDDEN,
        "SA deletes an unknown EC2 credential",
    )
    .await;

    // Nothing changed.
    let keys_after = server
        .console
        .list_sa_keys(&server.actor(ADMIN), &sa_id)
        .expect("SA keys");
    assert_eq!(keys_after, keys_before, "the SA's keys are unchanged");
    assert!(
        server.console.access_key(&admin_s3.id).expect("read").is_some(),
        "admin's S3 key survives"
    );
    assert_eq!(
        server.validation_status(&token).await,
        StatusCode::OK,
        "the SA token still works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_keys_get_one_identical_401() {
    let server = Server::start().await;
    let dev_id = server.user_id(DEV);
    // dev already has the demo's local-dev in web-shop: one more fits.
    let good = server.user_key(OWNER, WEB_SHOP, "api-test");
    let removed = server.user_key(DEV, WEB_SHOP, "api-removed");
    let sa_id = server.sa_id(WEB_SHOP, "deploy-bot");
    let inactive = server.sa_key(&sa_id, "api-inactive");
    let deleted = server.user_key(ADMIN, WEB_SHOP, "api-deleted");
    server
        .console
        .delete_credential(&server.actor(ADMIN), KeyKind::Iam, &deleted.key.id)
        .expect("admin deletes a key");
    server
        .console
        .remove_member(&server.actor(OWNER), WEB_SHOP, DEV)
        .expect("dev removed: dev's web-shop keys expire");
    server
        .console
        .set_service_account_status(&server.actor(ADMIN), &sa_id, SaStatus::Inactive)
        .expect("deploy-bot deactivated");
    let s3 = server
        .console
        .create_credential(&server.actor(OWNER), KeyKind::S3, WEB_SHOP, "s3", "")
        .expect("owner's S3 key");

    let wrong_secret = "f".repeat(64);
    let attempts: Vec<(&str, Value)> = vec![
        (
            "unknown key ID",
            by_id(&"0123456789abcdef".repeat(2), good.secret.expose()),
        ),
        ("not a key ID at all", by_id("no-such-key", good.secret.expose())),
        ("wrong secret", by_id(&good.key.id, &wrong_secret)),
        ("empty secret", by_id(&good.key.id, "")),
        (
            "expired key (member removed)",
            by_id(&removed.key.id, removed.secret.expose()),
        ),
        (
            "inactive service account",
            by_id(&inactive.key.id, inactive.secret.expose()),
        ),
        ("deleted key", by_id(&deleted.key.id, deleted.secret.expose())),
        ("S3 key", by_id(&s3.key.id, s3.secret.expose())),
        (
            "unknown key name",
            by_name(&dev_id, "no-such-name", good.secret.expose()),
        ),
        (
            "unknown user ID",
            by_name(&"0".repeat(32), "api-test", good.secret.expose()),
        ),
        (
            "wrong secret by name",
            by_name(&server.user_id(OWNER), "api-test", &wrong_secret),
        ),
        (
            "inactive SA by name",
            by_name(&sa_id, "api-inactive", inactive.secret.expose()),
        ),
    ];
    let mut first: Option<(String, StatusCode, Option<String>, String)> = None;
    for (what, body) in attempts {
        let response = server.issue_body(&body).await;
        let status = response.status();
        let scheme = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {text}");
        let parsed: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(parsed["error"]["code"], json!(401), "{what}: {text}");
        assert_eq!(parsed["error"]["title"], json!("Unauthorized"), "{what}: {text}");
        match &first {
            None => first = Some((what.to_string(), status, scheme, text)),
            Some((first_what, first_status, first_scheme, first_text)) => {
                assert_eq!(
                    (status, &scheme, &text),
                    (*first_status, first_scheme, first_text),
                    "{what} is answered exactly like {first_what}"
                );
            }
        }
    }
    // The good key (now expired with dev's membership) is refused alike too; the viewer's works.
    server.assert_serving("the refused issues").await;
}

// ---------------------------------------------------------------------------------------------
// Bad input: the right status, Keystone's error body, and the server keeps serving
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let server = Server::start().await;
    let owner_id = server.user_id(OWNER);
    for body in [
        "{\"auth\":",
        "not json",
        "",
        "{\"auth\": {\"identity\": }}",
        "[]",
        "{}",
        "null",
        "\"auth\"",
    ] {
        let response = server
            .request(Method::POST, "/auth/tokens")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            &format!("token request body {body:?}"),
        )
        .await;
        server.assert_serving(&format!("body {body:?}")).await;
    }
    let path = format!("/users/{owner_id}/application_credentials");
    let token = server.token(&server.user_key(OWNER, WEB_SHOP, "bootstrap")).await;
    for body in [
        "{\"application_credential\":",
        "{}",
        "{\"application_credential\": {}}",
    ] {
        let response = server
            .request(Method::POST, &path)
            .header("X-Auth-Token", &token)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            &format!("create body {body:?}"),
        )
        .await;
        server.assert_serving(&format!("create body {body:?}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_content_type_is_415() {
    let server = Server::start().await;
    let key = &server.observer_key;
    let body = by_id(&key.key.id, key.secret.expose()).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut request = server.request(Method::POST, "/auth/tokens").body(body.clone());
        if let Some(ct) = content_type {
            request = request.header(CONTENT_TYPE, ct);
        }
        let response = request.send().await.expect("POST");
        expect_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("token issue with Content-Type {content_type:?}"),
        )
        .await;
        server
            .assert_serving(&format!("Content-Type {content_type:?}"))
            .await;
    }
    let owner_id = server.user_id(OWNER);
    let token = server.token(&server.user_key(OWNER, WEB_SHOP, "bootstrap")).await;
    let create = json!({"application_credential": {"name": "x"}}).to_string();
    let ec2 = json!({"tenant_id": server.project_id(WEB_SHOP)}).to_string();
    for (path, body) in [
        (format!("/users/{owner_id}/application_credentials"), create),
        (format!("/users/{owner_id}/credentials/OS-EC2"), ec2),
    ] {
        let response = server
            .request(Method::POST, &path)
            .header("X-Auth-Token", &token)
            .body(body)
            .send()
            .await
            .expect("POST");
        expect_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("POST {path} without Content-Type"),
        )
        .await;
        server
            .assert_serving(&format!("POST {path} without Content-Type"))
            .await;
    }
    let count = server
        .console
        .list_credentials(&server.actor(OWNER), None)
        .expect("owner's keys")
        .len();
    assert_eq!(count, 1, "no key was created by a refused request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_body_is_413() {
    let server = Server::start().await;
    let key = &server.observer_key;
    for size in [MAX_BODY + 1, 128 * 1024] {
        // Valid JSON, padded past the limit.
        let mut body = by_id(&key.key.id, key.secret.expose());
        body["padding"] = json!("x".repeat(size));
        let response = server
            .request(Method::POST, "/auth/tokens")
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST of {size} bytes: {e:?}"));
        expect_error(
            response,
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("a {size}-byte body"),
        )
        .await;
        server.assert_serving(&format!("a {size}-byte body")).await;
    }
    // A body far larger than the socket buffers: the server answers 413 after 64 KiB and closes
    // the connection, so a client still writing may see the reset instead of the answer (HTTP/1.1
    // without `Expect: 100-continue`). Either is fine; the server must keep serving.
    let mut body = by_id(&key.key.id, key.secret.expose());
    body["padding"] = json!("x".repeat(16 * 1024 * 1024));
    let sent = server
        .request(Method::POST, "/auth/tokens")
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await;
    if let Ok(response) = sent {
        expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "a 16 MiB body").await;
    }
    server.assert_serving("a 16 MiB body").await;
    // Just under the limit is fine.
    let mut body = by_id(&key.key.id, key.secret.expose());
    let base_len = {
        body["padding"] = json!("");
        body.to_string().len()
    };
    body["padding"] = json!("x".repeat(MAX_BODY - base_len));
    let text = body.to_string();
    assert_eq!(text.len(), MAX_BODY);
    let response = server
        .request(Method::POST, "/auth/tokens")
        .header(CONTENT_TYPE, "application/json")
        .body(text)
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "a body of exactly 64 KiB is accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_path_is_404() {
    let server = Server::start().await;
    for path in [
        "/identity/v3/nope",
        "/identity/v2.0/tokens",
        "/",
        "/identity/v3/auth/tokens/extra",
        "/identity/v3/groups",
    ] {
        let response = server
            .client
            .get(format!("{}{path}", server.base.trim_end_matches("/identity/v3")))
            .header("X-Auth-Token", &server.observer)
            .send()
            .await
            .expect("GET");
        expect_error(response, StatusCode::NOT_FOUND, &format!("GET {path}")).await;
        server.assert_serving(&format!("GET {path}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_method_is_405() {
    let server = Server::start().await;
    let brew = Method::from_bytes(b"BREW").expect("an extension method");
    let cases = [
        (Method::PUT, "/auth/tokens"),
        (Method::PATCH, "/auth/tokens"),
        (Method::POST, ""),
        (Method::DELETE, ""),
        (Method::PUT, "/auth/projects"),
        (brew.clone(), "/auth/tokens"),
        (brew, ""),
    ];
    for (method, path) in cases {
        let response = server
            .request(method.clone(), path)
            .header("X-Auth-Token", &server.observer)
            .send()
            .await
            .expect("request");
        expect_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} /identity/v3{path}"),
        )
        .await;
        server.assert_serving(&format!("{method} {path}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_headers_are_401_or_400() {
    let server = Server::start().await;
    let token = server.observer.clone();
    let owner_id = server.user_id(OWNER);

    // No X-Auth-Token: 401 wherever a caller is needed.
    let validate = server
        .request(Method::GET, "/auth/tokens")
        .header("X-Subject-Token", &token);
    expect_error(
        validate.send().await.expect("GET"),
        StatusCode::UNAUTHORIZED,
        "validate without X-Auth-Token",
    )
    .await;
    let revoke = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Subject-Token", &token);
    expect_error(
        revoke.send().await.expect("DELETE"),
        StatusCode::UNAUTHORIZED,
        "revoke without X-Auth-Token",
    )
    .await;
    let empty = server
        .request(Method::GET, "/auth/tokens")
        .header("X-Auth-Token", "")
        .header("X-Subject-Token", &token);
    expect_error(
        empty.send().await.expect("GET"),
        StatusCode::UNAUTHORIZED,
        "an empty X-Auth-Token",
    )
    .await;
    for path in [
        format!("/users/{owner_id}/projects"),
        format!("/users/{owner_id}/application_credentials"),
        format!("/users/{owner_id}/credentials/OS-EC2"),
    ] {
        let response = server.request(Method::GET, &path).send().await.expect("GET");
        expect_error(
            response,
            StatusCode::UNAUTHORIZED,
            &format!("GET {path} without a token"),
        )
        .await;
    }
    let create = server
        .request(
            Method::POST,
            &format!("/users/{owner_id}/application_credentials"),
        )
        .json(&json!({"application_credential": {"name": "x"}}));
    expect_error(
        create.send().await.expect("POST"),
        StatusCode::UNAUTHORIZED,
        "create without a token",
    )
    .await;
    let delete = server.request(
        Method::DELETE,
        &format!("/users/{owner_id}/credentials/OS-EC2/{}", "0".repeat(32)),
    );
    expect_error(
        delete.send().await.expect("DELETE"),
        StatusCode::UNAUTHORIZED,
        "delete without a token",
    )
    .await;
    server.assert_serving("requests without X-Auth-Token").await;

    // No X-Subject-Token: 400.
    let validate = server
        .request(Method::GET, "/auth/tokens")
        .header("X-Auth-Token", &token);
    expect_error(
        validate.send().await.expect("GET"),
        StatusCode::BAD_REQUEST,
        "validate without X-Subject-Token",
    )
    .await;
    let head = server
        .request(Method::HEAD, "/auth/tokens")
        .header("X-Auth-Token", &token);
    assert_eq!(
        head.send().await.expect("HEAD").status(),
        StatusCode::BAD_REQUEST,
        "HEAD without X-Subject-Token"
    );
    let revoke = server
        .request(Method::DELETE, "/auth/tokens")
        .header("X-Auth-Token", &token);
    expect_error(
        revoke.send().await.expect("DELETE"),
        StatusCode::BAD_REQUEST,
        "revoke without X-Subject-Token",
    )
    .await;
    assert_eq!(
        server.validation_status(&token).await,
        StatusCode::OK,
        "nothing was revoked"
    );
    server.assert_serving("requests without X-Subject-Token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_auth_method_is_401_and_a_malformed_one_400() {
    let server = Server::start().await;
    let key = &server.observer_key;
    let secret = key.secret.expose();
    // Keystone's AuthMethodNotSupported: a method it does not offer, none, or two at once.
    let unsupported = [
        json!({"auth": {"identity": {"methods": ["token"], "token": {"id": server.observer}}}}),
        json!({"auth": {"identity": {"methods": ["totp"], "totp": {"user": {"id": "x", "passcode": "1"}}}}}),
        json!({"auth": {"identity": {"methods": [], "application_credential": {"id": key.key.id, "secret": secret}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential", "password"], "application_credential": {"id": key.key.id, "secret": secret}}}}),
    ];
    for body in unsupported {
        let response = server.issue_body(&body).await;
        let message = expect_error(response, StatusCode::UNAUTHORIZED, &format!("auth body {body}")).await;
        assert_eq!(message, "Attempted to authenticate with an unsupported method.");
        server.assert_serving(&format!("auth body {body}")).await;
    }
    let malformed = [
        json!({"auth": {"identity": {"application_credential": {"id": key.key.id, "secret": secret}}}}),
        json!({"auth": {"identity": {"methods": "application_credential", "application_credential": {"id": key.key.id, "secret": secret}}}}),
    ];
    for body in malformed {
        let response = server.issue_body(&body).await;
        expect_error(response, StatusCode::BAD_REQUEST, &format!("auth body {body}")).await;
        server.assert_serving(&format!("auth body {body}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_is_400() {
    let server = Server::start().await;
    let key = &server.observer_key;
    let viewer_id = server.user_id(VIEWER);
    let bodies = [
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": key.key.id}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": key.key.id, "secret": null}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": key.key.id, "secret": 12345}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"name": "observer", "user": {"id": viewer_id}}}}}),
        // Neither an ID nor a name, and a name without its user.
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"secret": key.secret.expose()}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"name": "observer", "secret": key.secret.expose()}}}}),
        json!({"auth": {"identity": {"methods": ["application_credential"]}}}),
    ];
    for body in bodies {
        let response = server.issue_body(&body).await;
        expect_error(response, StatusCode::BAD_REQUEST, &format!("auth body {body}")).await;
        server.assert_serving(&format!("auth body {body}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_in_application_credential_create_is_400() {
    let server = Server::start().await;
    let owner_id = server.user_id(OWNER);
    let token = server.token(&server.user_key(OWNER, WEB_SHOP, "bootstrap")).await;
    let path = format!("/users/{owner_id}/application_credentials");
    let bodies = [
        json!({"application_credential": {"name": "mine", "secret": "my-own-chosen-secret"}}),
        json!({"application_credential": {"name": "mine", "secret": ""}}),
        json!({"application_credential": {"name": "mine", "expires_at": "2030-01-01T00:00:00Z"}}),
    ];
    for body in bodies {
        let response = server.post_with(&token, &path, &body).await;
        expect_error(response, StatusCode::BAD_REQUEST, &format!("create body {body}")).await;
        server.assert_serving(&format!("create body {body}")).await;
    }
    let keys = server
        .console
        .list_credentials(&server.actor(OWNER), Some(KeyKind::Iam))
        .expect("owner's keys");
    assert_eq!(keys.len(), 1, "no key was created: {keys:?}");
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_issues_against_one_key_all_succeed_and_validate() {
    let server = Arc::new(Server::start().await);
    let key = server.user_key(DEV, WEB_SHOP, "api-test");
    let body = Arc::new(by_id(&key.key.id, key.secret.expose()));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (server, body) = (server.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = server.issue_body(&body).await;
            assert_eq!(response.status(), StatusCode::CREATED, "a concurrent issue");
            subject_token(response.headers())
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("issue task"));
    }
    let distinct: BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 50, "50 distinct tokens");

    let mut checks = Vec::new();
    for token in tokens {
        let server = server.clone();
        checks.push(tokio::spawn(async move {
            let response = server.validate(&server.observer, &token).await;
            assert_eq!(response.status(), StatusCode::OK, "a concurrent validation");
            let body: Value = response.json().await.expect("JSON");
            body["token"]["application_credential"]["id"]
                .as_str()
                .map(str::to_string)
        }));
    }
    for check in checks {
        assert_eq!(
            check.await.expect("validation task").as_deref(),
            Some(key.key.id.as_str())
        );
    }
}
