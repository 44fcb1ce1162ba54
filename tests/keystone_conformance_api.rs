//! Issue 18, the server side: what the standard OpenStack clients need of the identity API,
//! by behaviour, over plain HTTP against a real server on a loopback port, over the demo
//! organization. One test per item of the issue; `tests/api.rs` keeps the older contract.

use std::sync::Arc;

use kc_console::api;
use kc_console::console::{
    Config, Console, KeyKind, Limits, NewKey, ProjectRole, SeededEntropy, RESTRICTED_TOKEN,
};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

#[path = "support/api_server.rs"]
mod api_server;
use api_server::{serve_demo, Running, Served};

const OWNER: &str = "owner@pangyo.example";
const ADMIN: &str = "admin@pangyo.example";
const DEV: &str = "dev@pangyo.example";
const VIEWER: &str = "viewer@pangyo.example";
const GUEST: &str = "guest@pangyo.example";
const WEB_SHOP: &str = "web-shop";
const DATA_LAKE: &str = "data-lake";

struct Server {
    console: Arc<Console>,
    client: Client,
    base: String,
    _running: Running,
}

fn password_of(email: &str) -> String {
    format!("{}-demo-pw", email.split('@').next().unwrap_or_default())
}

fn password_body(user: Value, password: &str, scope: Option<Value>) -> Value {
    let mut user = user;
    user["password"] = json!(password);
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": user}}});
    if let Some(scope) = scope {
        auth["scope"] = scope;
    }
    json!({ "auth": auth })
}

fn by_email(email: &str) -> Value {
    json!({"name": email, "domain": {"id": "default"}})
}

impl Server {
    async fn start() -> Server {
        let config = Config {
            entropy: Arc::new(SeededEntropy::new(18)),
            limits: Limits::default(),
            ..Config::default()
        };
        let Served {
            console,
            addr,
            running,
        } = serve_demo(config, api::ServerLimits::default()).await;
        Server {
            console,
            client: Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
            base: format!("http://{addr}/identity/v3"),
            _running: running,
        }
    }

    fn user_id(&self, email: &str) -> String {
        self.console.user_by_email(email).expect("demo user").id
    }

    fn project_id(&self, name: &str) -> String {
        self.console.find_project(name).expect("demo project").id
    }

    fn user_key(&self, email: &str, project: &str, name: &str) -> NewKey {
        let actor = Console::actor_for(&self.console.user_by_email(email).expect("user"));
        self.console
            .create_credential(&actor, KeyKind::Iam, project, name, "")
            .expect("the model creates a key")
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.client.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    async fn get(&self, token: &str, path: &str) -> Response {
        self.send(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    async fn delete(&self, token: &str, path: &str) -> Response {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    async fn issue_body(&self, body: &Value) -> Response {
        self.send(Method::POST, "/auth/tokens", None, Some(body)).await
    }

    /// Issues a token, which must succeed: (token, body).
    async fn issued(&self, body: &Value) -> (String, Value) {
        let response = self.issue_body(body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "issue {body}");
        let token = response
            .headers()
            .get("x-subject-token")
            .expect("X-Subject-Token")
            .to_str()
            .expect("text")
            .to_string();
        (token, response.json().await.expect("token body"))
    }

    async fn key_token(&self, key: &NewKey) -> String {
        self.issued(&key_body(&key.key.id, key.secret.expose())).await.0
    }

    async fn password_token(&self, email: &str, project: &str) -> String {
        let scope = json!({"project": {"id": self.project_id(project)}});
        self.issued(&password_body(by_email(email), &password_of(email), Some(scope)))
            .await
            .0
    }
}

fn key_body(id: &str, secret: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": id, "secret": secret}}}})
}

async fn json_of(response: Response, status: StatusCode, what: &str) -> Value {
    let got = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {text:?}: {e}"))
}

/// Keystone's error body with `status`; returns its message.
async fn refused(response: Response, status: StatusCode, what: &str) -> String {
    let body = json_of(response, status, what).await;
    assert_eq!(body["error"]["code"], json!(status.as_u16()), "{what}: {body}");
    body["error"]["message"].as_str().expect("message").to_string()
}

fn reader_role() -> Value {
    json!({"id": "project-reader", "name": "project_reader", "domain_id": null})
}

// ---- 1, 2, 3: the records, one record, the name filter ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_credentials_carry_keystones_fields_and_can_be_read_one_by_one() {
    let server = Server::start().await;
    let admin = server.user_id(ADMIN);
    let token = server.password_token(ADMIN, WEB_SHOP).await;
    let path = format!("/users/{admin}/application_credentials");
    let create =
        json!({"application_credential": {"name": "ci-reader", "roles": [{"name": "project_reader"}]}});
    let created = json_of(
        server.post(&token, &path, &create).await,
        StatusCode::CREATED,
        "create",
    )
    .await;
    let created = &created["application_credential"];
    let id = created["id"].as_str().expect("id").to_string();

    let listed = json_of(server.get(&token, &path).await, StatusCode::OK, "list").await;
    assert_eq!(listed["links"]["self"], json!(format!("{}{path}", server.base)));
    let in_list = listed["application_credentials"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == json!(id))
        .expect("the new key is listed")
        .clone();
    let shown = json_of(
        server.get(&token, &format!("{path}/{id}")).await,
        StatusCode::OK,
        "show",
    )
    .await;
    let shown = &shown["application_credential"];
    for record in [created, &in_list, shown] {
        assert_eq!(record["roles"], json!([reader_role()]), "{record}");
        assert_eq!(record["unrestricted"], json!(false));
        assert_eq!(record["access_rules"], json!([]));
        assert!(record.get("system").is_some_and(Value::is_null), "{record}");
        assert!(record.get("expires_at").is_some_and(Value::is_null), "{record}");
        assert_eq!(record["project_id"], json!(server.project_id(WEB_SHOP)));
        assert!(record.get("secret").is_none() || std::ptr::eq(record, created));
        let link = record["links"]["self"].as_str().expect("links.self");
        let followed = json_of(server.get(&token, link).await, StatusCode::OK, "links.self").await;
        assert_eq!(followed["application_credential"]["id"], json!(id));
    }
    // A key made on the console (the demo's) acts with its owner's role, and says which.
    let listed_all = listed["application_credentials"].as_array().expect("list");
    assert!(listed_all.len() > 1, "the admin has demo keys too: {listed}");
    for record in listed_all {
        assert_eq!(record["roles"].as_array().map(Vec::len), Some(1), "{record}");
    }

    // HEAD answers as GET, without a body; an unknown or misspelt ID is 404 for both.
    let head = server
        .send(Method::HEAD, &format!("{path}/{id}"), Some(&token), None)
        .await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.bytes().await.expect("body").is_empty());
    // A refusal quotes what was sent with its hidden characters made visible.
    let message = refused(
        server.get(&token, &format!("{path}/%1b%5d0%3bkc%07")).await,
        StatusCode::NOT_FOUND,
        "an escape sequence",
    )
    .await;
    assert!(
        !message.contains('\u{1b}') && !message.contains('\u{7}') && message.contains("\\u{1b}"),
        "{message:?}"
    );
    for unknown in ["0".repeat(32), id.to_uppercase(), "old-ci-key".to_string()] {
        let message = refused(
            server.get(&token, &format!("{path}/{unknown}")).await,
            StatusCode::NOT_FOUND,
            "unknown",
        )
        .await;
        assert!(
            message.contains("Could not find application credential"),
            "{message}"
        );
        let head = server
            .send(Method::HEAD, &format!("{path}/{unknown}"), Some(&token), None)
            .await;
        assert_eq!(head.status(), StatusCode::NOT_FOUND);
    }
    // Another user's key is not found under one's own path, nor readable under theirs.
    let dev_key = server.user_key(DEV, WEB_SHOP, "dev-key");
    refused(
        server.get(&token, &format!("{path}/{}", dev_key.key.id)).await,
        StatusCode::NOT_FOUND,
        "dev's key",
    )
    .await;
    let dev_path = format!(
        "/users/{}/application_credentials/{}",
        server.user_id(DEV),
        dev_key.key.id
    );
    refused(
        server.get(&token, &dev_path).await,
        StatusCode::FORBIDDEN,
        "dev's path",
    )
    .await;

    // ?name= is exact: the key of that name, nothing for an unknown name or a prefix.
    let named = json_of(
        server.get(&token, &format!("{path}?name=ci-reader")).await,
        StatusCode::OK,
        "by name",
    )
    .await;
    let named = named["application_credentials"].as_array().expect("list").clone();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0]["id"], json!(id));
    for other in ["old-ci-key", "ci", "CI-READER"] {
        let none = json_of(
            server.get(&token, &format!("{path}?name={other}")).await,
            StatusCode::OK,
            "no such name",
        )
        .await;
        assert_eq!(none["application_credentials"], json!([]), "?name={other}");
    }

    // One EC2 credential: no secret; 404 when unknown.
    let ec2 = format!("/users/{admin}/credentials/OS-EC2");
    let made = json_of(
        server
            .post(&token, &ec2, &json!({"tenant_id": server.project_id(WEB_SHOP)}))
            .await,
        StatusCode::CREATED,
        "EC2 create",
    )
    .await;
    let access = made["credential"]["access"].as_str().expect("access").to_string();
    let shown = json_of(
        server.get(&token, &format!("{ec2}/{access}")).await,
        StatusCode::OK,
        "EC2 show",
    )
    .await;
    assert_eq!(shown["credential"]["access"], json!(access));
    assert!(shown["credential"].get("secret").is_none(), "{shown}");
    let listed = json_of(server.get(&token, &ec2).await, StatusCode::OK, "EC2 list").await;
    assert_eq!(listed["links"]["self"], json!(format!("{}{ec2}", server.base)));
    refused(
        server.get(&token, &format!("{ec2}/{}", "0".repeat(32))).await,
        StatusCode::NOT_FOUND,
        "unknown EC2",
    )
    .await;
    refused(
        server.get(&token, &format!("{ec2}/{id}")).await,
        StatusCode::NOT_FOUND,
        "an IAM key as EC2",
    )
    .await;
}

// ---- 4: roles honoured; what cannot be kept is refused ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_on_create_are_honoured_and_what_cannot_be_kept_is_refused() {
    let server = Server::start().await;
    let admin = server.user_id(ADMIN);
    let token = server.password_token(ADMIN, WEB_SHOP).await;
    let path = format!("/users/{admin}/application_credentials");
    let create = json!({"application_credential": {"name": "reader-only", "roles": [{"id": "project-reader"}], "unrestricted": false, "access_rules": []}});
    let created = json_of(
        server.post(&token, &path, &create).await,
        StatusCode::CREATED,
        "create",
    )
    .await;
    let id = created["application_credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = created["application_credential"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();

    // The key's tokens carry only the reader role, and act with it: a Project Admin's
    // reader-limited key cannot revoke a member's token, the admin's password token can.
    let (reader_token, body) = server.issued(&key_body(&id, &secret)).await;
    assert_eq!(
        body["token"]["roles"],
        json!([{"id": "project-reader", "name": "project_reader"}])
    );
    let dev_token = server.key_token(&server.user_key(DEV, WEB_SHOP, "dev-key")).await;
    let revoke = |auth: String| {
        let server = &server;
        let dev_token = dev_token.clone();
        async move {
            server
                .client
                .delete(format!("{}/auth/tokens", server.base))
                .header("X-Auth-Token", auth)
                .header("X-Subject-Token", dev_token)
                .send()
                .await
                .expect("revoke")
        }
    };
    refused(
        revoke(reader_token.clone()).await,
        StatusCode::FORBIDDEN,
        "a reader key revokes",
    )
    .await;
    assert_eq!(revoke(token.clone()).await.status(), StatusCode::NO_CONTENT);

    // The model and so the CLI and the console say the key's role.
    let key = server.console.access_key(&id).expect("read").expect("the key");
    assert_eq!(key.role, Some(ProjectRole::Reader));
    assert_eq!(
        server.console.key_role(&key).expect("role"),
        Some(ProjectRole::Reader)
    );

    // A role the principal does not hold: 403; one that does not exist: 404.
    let viewer = server.user_id(VIEWER);
    let viewer_token = server.password_token(VIEWER, WEB_SHOP).await;
    let viewer_path = format!("/users/{viewer}/application_credentials");
    for role in ["project_member", "project-admin"] {
        let asked = json!({"application_credential": {"name": "escalate", "roles": [{"name": role}]}});
        let message = refused(
            server.post(&viewer_token, &viewer_path, &asked).await,
            StatusCode::FORBIDDEN,
            role,
        )
        .await;
        assert!(message.contains("you do not hold"), "{message}");
    }
    let asked = json!({"application_credential": {"name": "made-up", "roles": [{"name": "superuser"}]}});
    refused(
        server.post(&viewer_token, &viewer_path, &asked).await,
        StatusCode::NOT_FOUND,
        "unknown role",
    )
    .await;
    // What cannot be kept is refused, never accepted and ignored.
    for extra in [
        json!({"unrestricted": true}),
        json!({"access_rules": [{"path": "/v2.1/servers", "method": "GET", "service": "compute"}]}),
        json!({"expires_at": "2030-01-01T00:00:00Z"}),
        json!({"secret": "chosen-by-me"}),
        json!({"colour": "blue"}),
        json!({"roles": "project_reader"}),
        json!({"description": 42}),
        json!({"name": ["a", "list"]}),
    ] {
        let mut asked = json!({"application_credential": {"name": "refused"}});
        for (field, value) in extra.as_object().expect("object") {
            asked["application_credential"][field] = value.clone();
        }
        refused(
            server.post(&viewer_token, &viewer_path, &asked).await,
            StatusCode::BAD_REQUEST,
            &extra.to_string(),
        )
        .await;
    }
    let keys = server
        .console
        .list_credentials(
            &Console::actor_for(&server.console.user_by_email(VIEWER).expect("viewer")),
            Some(KeyKind::Iam),
        )
        .expect("viewer's keys");
    assert!(keys
        .iter()
        .all(|k| k.name != "escalate" && k.name != "refused" && k.name != "made-up"));
    // The role one holds is fine (a reader asking for reader).
    let asked = json!({"application_credential": {"name": "mine", "roles": [{"name": "project_reader"}]}});
    json_of(
        server.post(&viewer_token, &viewer_path, &asked).await,
        StatusCode::CREATED,
        "own role",
    )
    .await;
}

// ---- 5: restricted key tokens; the password method ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_token_may_read_but_not_manage_credentials() {
    let server = Server::start().await;
    let dev = server.user_id(DEV);
    let key = server.user_key(DEV, WEB_SHOP, "leaked");
    let token = server.key_token(&key).await;
    let apps = format!("/users/{dev}/application_credentials");
    let ec2 = format!("/users/{dev}/credentials/OS-EC2");
    let before = server
        .console
        .list_credentials(
            &Console::actor_for(&server.console.user_by_email(DEV).expect("dev")),
            None,
        )
        .expect("keys");

    json_of(server.get(&token, &apps).await, StatusCode::OK, "list").await;
    json_of(
        server.get(&token, &format!("{apps}/{}", key.key.id)).await,
        StatusCode::OK,
        "show",
    )
    .await;
    json_of(server.get(&token, &ec2).await, StatusCode::OK, "EC2 list").await;
    let s3 = before
        .iter()
        .find(|k| k.kind == KeyKind::S3)
        .map(|k| k.id.clone());
    let attempts = [
        server
            .post(
                &token,
                &apps,
                &json!({"application_credential": {"name": "successor"}}),
            )
            .await,
        server.delete(&token, &format!("{apps}/{}", key.key.id)).await,
        server
            .post(&token, &ec2, &json!({"tenant_id": server.project_id(WEB_SHOP)}))
            .await,
    ];
    for response in attempts {
        assert_eq!(
            refused(response, StatusCode::FORBIDDEN, "restricted").await,
            RESTRICTED_TOKEN
        );
    }
    if let Some(access) = s3 {
        let response = server.delete(&token, &format!("{ec2}/{access}")).await;
        assert_eq!(
            refused(response, StatusCode::FORBIDDEN, "EC2 delete").await,
            RESTRICTED_TOKEN
        );
    }
    let after = server
        .console
        .list_credentials(
            &Console::actor_for(&server.console.user_by_email(DEV).expect("dev")),
            None,
        )
        .expect("keys");
    assert_eq!(after, before, "nothing was created or deleted");
    let (_, body) = server.issued(&key_body(&key.key.id, key.secret.expose())).await;
    assert_eq!(body["token"]["application_credential"]["restricted"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_method_scopes_as_keystone_and_may_manage_ones_own_keys() {
    let server = Server::start().await;
    let web_shop = server.project_id(WEB_SHOP);
    let dev = server.user_id(DEV);
    let pw = password_of(DEV);

    // By e-mail with the domain by ID or by name, or by user ID; the project by ID or name.
    let scopes = [
        (by_email(DEV), json!({"project": {"id": web_shop}})),
        (
            json!({"name": DEV, "domain": {"name": "Default"}}),
            json!({"project": {"name": WEB_SHOP, "domain": {"id": "default"}}}),
        ),
        (
            json!({"id": dev}),
            json!({"project": {"name": WEB_SHOP, "domain": {"name": "Default"}}}),
        ),
    ];
    let mut audit_ids = Vec::new();
    for (user, scope) in scopes {
        let (token, body) = server.issued(&password_body(user, &pw, Some(scope))).await;
        let t = &body["token"];
        assert_eq!(t["methods"], json!(["password"]));
        assert!(t.get("application_credential").is_none());
        assert_eq!(t["user"]["id"], json!(dev));
        assert_eq!(t["project"]["id"], json!(web_shop));
        assert_eq!(t["roles"][0]["name"], json!("project_member"));
        // Validating gives the same body as issuing did.
        let response = server
            .client
            .get(format!("{}/auth/tokens", server.base))
            .header("X-Auth-Token", &token)
            .header("X-Subject-Token", &token)
            .send()
            .await
            .expect("validate");
        assert_eq!(json_of(response, StatusCode::OK, "validate").await, body);
        audit_ids.push(t["audit_ids"][0].clone());
    }
    audit_ids.dedup();
    assert_eq!(audit_ids.len(), 3, "each token has its own audit ID");

    // No scope: the default project (web-shop) where the user holds a role; else unscoped.
    let (_, body) = server.issued(&password_body(by_email(DEV), &pw, None)).await;
    assert_eq!(body["token"]["project"]["id"], json!(web_shop));
    // `"scope": null` is no scope, as for application credentials.
    let (_, body) = server
        .issued(&password_body(by_email(DEV), &pw, Some(Value::Null)))
        .await;
    assert_eq!(body["token"]["project"]["id"], json!(web_shop));
    let (guest_token, body) = server
        .issued(&password_body(by_email(GUEST), &password_of(GUEST), None))
        .await;
    let t = &body["token"];
    assert!(
        t.get("project").is_none() && t.get("roles").is_none() && t.get("catalog").is_none(),
        "{t}"
    );
    let projects = json_of(
        server.get(&guest_token, "/auth/projects").await,
        StatusCode::OK,
        "unscoped projects",
    )
    .await;
    assert_eq!(projects["projects"], json!([]));
    refused(
        server.get(&guest_token, "/auth/catalog").await,
        StatusCode::FORBIDDEN,
        "unscoped catalog",
    )
    .await;
    // Nor a project to create an application credential in: refused by the model, audited.
    let guest_keys = format!("/users/{}/application_credentials", server.user_id(GUEST));
    let create = json!({"application_credential": {"name": "nowhere"}});
    let refusal = refused(
        server.post(&guest_token, &guest_keys, &create).await,
        StatusCode::FORBIDDEN,
        "unscoped create",
    )
    .await;
    assert!(
        refusal.contains("an unscoped token acts in no project"),
        "{refusal}"
    );
    let owner = Console::actor_for(&server.console.user_by_email(OWNER).expect("owner"));
    let audit = server.console.list_audit(&owner, 5).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.target == "nowhere in no project" && e.outcome.starts_with("refused")),
        "{audit:?}"
    );

    // 401: a wrong password, an unknown user or domain, a project without a role, a service
    // account (no password).
    let sa = server
        .console
        .list_service_accounts(
            &Console::actor_for(&server.console.user_by_email(ADMIN).expect("admin")),
            WEB_SHOP,
        )
        .expect("SAs");
    let failures = [
        password_body(by_email(VIEWER), "not-the-password", None),
        password_body(by_email("nobody@pangyo.example"), "whatever-pw", None),
        password_body(json!({"name": DEV, "domain": {"id": "other"}}), &pw, None),
        password_body(
            by_email(DEV),
            &pw,
            Some(json!({"project": {"id": server.project_id("ml-lab")}})),
        ),
        password_body(json!({"id": sa[0].id()}), "any-password", None),
    ];
    for body in failures {
        refused(
            server.issue_body(&body).await,
            StatusCode::UNAUTHORIZED,
            &body.to_string(),
        )
        .await;
    }

    // A password token manages the user's own keys: create and delete, IAM and S3.
    let token = server.password_token(DEV, WEB_SHOP).await;
    let apps = format!("/users/{dev}/application_credentials");
    let made = json_of(
        server
            .post(
                &token,
                &apps,
                &json!({"application_credential": {"name": "by-password"}}),
            )
            .await,
        StatusCode::CREATED,
        "create",
    )
    .await;
    let id = made["application_credential"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = made["application_credential"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    // It validates the tokens of its own principal: here, of the key it just made.
    let key_token = server.issued(&key_body(&id, &secret)).await.0;
    let response = server
        .client
        .get(format!("{}/auth/tokens", server.base))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &key_token)
        .send()
        .await
        .expect("validate");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        server.delete(&token, &format!("{apps}/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    let ec2 = format!("/users/{dev}/credentials/OS-EC2");
    json_of(
        server.post(&token, &ec2, &json!({"tenant_id": web_shop})).await,
        StatusCode::CREATED,
        "EC2",
    )
    .await;

    // The password change: the CLI's rules; the old password and its tokens end.
    let change = format!("/users/{dev}/password");
    let wrong = json!({"user": {"original_password": "not-it", "password": "a-new-dev-pw-2026"}});
    refused(
        server.post(&token, &change, &wrong).await,
        StatusCode::UNAUTHORIZED,
        "wrong original",
    )
    .await;
    let weak = json!({"user": {"original_password": pw, "password": "x"}});
    refused(
        server.post(&token, &change, &weak).await,
        StatusCode::BAD_REQUEST,
        "a weak password",
    )
    .await;
    let other = format!("/users/{}/password", server.user_id(VIEWER));
    refused(
        server
            .post(
                &token,
                &other,
                &json!({"user": {"original_password": "viewer-demo-pw", "password": "a-new-viewer-pw-2026"}}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "another's",
    )
    .await;
    let good = json!({"user": {"original_password": pw, "password": "a-new-dev-pw-2026"}});
    let response = server.post(&token, &change, &good).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused(
        server.get(&token, "/auth/projects").await,
        StatusCode::UNAUTHORIZED,
        "the old password's token",
    )
    .await;
    refused(
        server.issue_body(&password_body(by_email(DEV), &pw, None)).await,
        StatusCode::UNAUTHORIZED,
        "the old password",
    )
    .await;
    server
        .issued(&password_body(by_email(DEV), "a-new-dev-pw-2026", None))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_method_locks_out_as_sign_in_does() {
    let server = Server::start().await;
    let limit = Limits::default().password_failures_before_lockout;
    for _ in 0..limit {
        let body = password_body(by_email(VIEWER), "wrong-password", None);
        refused(
            server.issue_body(&body).await,
            StatusCode::UNAUTHORIZED,
            "a wrong password",
        )
        .await;
    }
    // Locked now: the right password is refused too, saying so.
    let body = password_body(by_email(VIEWER), &password_of(VIEWER), None);
    let message = refused(server.issue_body(&body).await, StatusCode::UNAUTHORIZED, "locked").await;
    assert!(message.contains("locked"), "{message}");
    // And the console's sign-in is locked by the same count.
    let sign_in = server.console.sign_in(VIEWER, &password_of(VIEWER));
    assert!(sign_in.is_err_and(|e| e.message().contains("locked")));
}

// ---- 6: the reads the clients make about themselves ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_reads_every_client_makes() {
    let server = Server::start().await;
    let viewer = server.user_id(VIEWER);
    let web_shop = server.project_id(WEB_SHOP);
    let data_lake = server.project_id(DATA_LAKE);
    let viewer_token = server
        .key_token(&server.user_key(VIEWER, WEB_SHOP, "viewer-key"))
        .await;
    let owner_token = server.password_token(OWNER, WEB_SHOP).await;

    // Users: oneself; an Org Admin reads anyone; others are refused.
    let me = json_of(
        server.get(&viewer_token, &format!("/users/{viewer}")).await,
        StatusCode::OK,
        "self",
    )
    .await;
    assert_eq!(me["user"]["id"], json!(viewer));
    assert_eq!(me["user"]["domain_id"], json!("default"));
    assert_eq!(me["user"]["email"], json!(VIEWER));
    let owner = server.user_id(OWNER);
    refused(
        server.get(&viewer_token, &format!("/users/{owner}")).await,
        StatusCode::FORBIDDEN,
        "another user",
    )
    .await;
    json_of(
        server.get(&owner_token, &format!("/users/{viewer}")).await,
        StatusCode::OK,
        "Org Admin",
    )
    .await;
    refused(
        server
            .get(&owner_token, &format!("/users/{}", "0".repeat(32)))
            .await,
        StatusCode::NOT_FOUND,
        "unknown user",
    )
    .await;

    // The user list (the clients' fallback after a refused read by ID): Org Admin only.
    let message = refused(
        server.get(&viewer_token, &format!("/users?name={owner}")).await,
        StatusCode::FORBIDDEN,
        "user list",
    )
    .await;
    assert!(message.contains("identity:list_users"), "{message}");
    let named = json_of(
        server.get(&owner_token, &format!("/users?name={VIEWER}")).await,
        StatusCode::OK,
        "by name",
    )
    .await;
    assert_eq!(named["users"].as_array().map(Vec::len), Some(1), "{named}");
    assert_eq!(named["users"][0]["id"], json!(viewer));

    // Projects: one the principal holds a role in; the list for an Org Admin only.
    let project = json_of(
        server.get(&viewer_token, &format!("/projects/{web_shop}")).await,
        StatusCode::OK,
        "own project",
    )
    .await;
    assert_eq!(project["project"]["name"], json!(WEB_SHOP));
    refused(
        server.get(&viewer_token, &format!("/projects/{data_lake}")).await,
        StatusCode::FORBIDDEN,
        "another project",
    )
    .await;
    refused(
        server
            .get(&viewer_token, &format!("/projects/{}", "0".repeat(32)))
            .await,
        StatusCode::NOT_FOUND,
        "unknown project",
    )
    .await;
    refused(
        server.get(&viewer_token, "/projects").await,
        StatusCode::FORBIDDEN,
        "project list",
    )
    .await;
    let all = json_of(
        server.get(&owner_token, "/projects").await,
        StatusCode::OK,
        "Org Admin's list",
    )
    .await;
    assert!(all["projects"].as_array().is_some_and(|p| p.len() >= 3), "{all}");
    assert_eq!(all["links"]["self"], json!(format!("{}/projects", server.base)));
    let named = json_of(
        server.get(&owner_token, "/projects?name=data-lake").await,
        StatusCode::OK,
        "by name",
    )
    .await;
    assert_eq!(named["projects"][0]["id"], json!(data_lake));
    assert_eq!(named["projects"].as_array().map(Vec::len), Some(1));

    // Role assignments: one's own (as `role assignment list --auth-user --auth-project`).
    let query = format!("/role_assignments?user.id={viewer}&scope.project.id={web_shop}&include_names");
    let own = json_of(
        server.get(&viewer_token, &query).await,
        StatusCode::OK,
        "own assignments",
    )
    .await;
    let own = own["role_assignments"].as_array().expect("list").clone();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(
        own[0]["role"],
        json!({"id": "project-reader", "name": "project_reader"})
    );
    assert_eq!(own[0]["user"]["name"], json!(VIEWER));
    assert_eq!(own[0]["scope"]["project"]["name"], json!(WEB_SHOP));
    let message = refused(
        server.get(&viewer_token, "/role_assignments").await,
        StatusCode::FORBIDDEN,
        "all assignments",
    )
    .await;
    assert!(message.contains("identity:list_role_assignments"), "{message}");
    refused(
        server
            .get(&viewer_token, &format!("/role_assignments?user.id={owner}"))
            .await,
        StatusCode::FORBIDDEN,
        "another's",
    )
    .await;
    let every = json_of(
        server
            .get(
                &owner_token,
                &format!("/role_assignments?scope.project.id={web_shop}"),
            )
            .await,
        StatusCode::OK,
        "Org Admin",
    )
    .await;
    let every = every["role_assignments"].as_array().expect("list").clone();
    assert!(every.iter().any(|a| a["user"]["id"] == json!(viewer)));
    assert!(
        every.iter().any(|a| a["user"]["id"]
            .as_str()
            .is_some_and(|id| id.contains("serviceaccount"))),
        "service accounts hold roles too"
    );
    assert!(every
        .iter()
        .all(|a| a["scope"]["project"]["id"] == json!(web_shop)));
    assert!(
        every.iter().all(|a| a["role"].get("name").is_none()),
        "names only when asked"
    );

    // The catalog, the default domain, and the root's 300.
    let catalog = json_of(
        server.get(&viewer_token, "/auth/catalog").await,
        StatusCode::OK,
        "catalog",
    )
    .await;
    assert_eq!(catalog["catalog"][0]["endpoints"][0]["url"], json!(server.base));
    let domain = json_of(
        server.get(&viewer_token, "/domains/default").await,
        StatusCode::OK,
        "domain",
    )
    .await;
    assert_eq!(domain["domain"]["name"], json!("Default"));
    refused(
        server.send(Method::GET, "/domains/default", None, None).await,
        StatusCode::UNAUTHORIZED,
        "no token",
    )
    .await;
    let root = server.base.trim_end_matches("/v3").to_string() + "/";
    let versions = server.client.get(&root).send().await.expect("root");
    assert_eq!(versions.status(), StatusCode::MULTIPLE_CHOICES);
    let versions: Value = versions.json().await.expect("versions");
    assert_eq!(versions["versions"]["values"][0]["id"], json!("v3.14"));
}

// ---- 7: the smaller shapes ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nocatalog_audit_ids_names_and_links() {
    let server = Server::start().await;
    let key = server.user_key(DEV, WEB_SHOP, "shapes");
    let body = key_body(&key.key.id, key.secret.expose());

    // ?nocatalog leaves the catalog out of issue and validation alike.
    let response = server
        .send(Method::POST, "/auth/tokens?nocatalog", None, Some(&body))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let token = response.headers()["x-subject-token"]
        .to_str()
        .expect("token")
        .to_string();
    let issued: Value = response.json().await.expect("body");
    assert!(issued["token"].get("catalog").is_none(), "{issued}");
    for (path, has_catalog) in [("/auth/tokens?nocatalog", false), ("/auth/tokens", true)] {
        let response = server
            .client
            .get(format!("{}{path}", server.base))
            .header("X-Auth-Token", &token)
            .header("X-Subject-Token", &token)
            .send()
            .await
            .expect("validate");
        let validated = json_of(response, StatusCode::OK, path).await;
        assert_eq!(validated["token"].get("catalog").is_some(), has_catalog, "{path}");
        assert_eq!(validated["token"]["audit_ids"], issued["token"]["audit_ids"]);
    }
    // Every token has its own audit ID, even from the same key in the same microsecond.
    let (_, again) = server.issued(&body).await;
    assert_ne!(again["token"]["audit_ids"], issued["token"]["audit_ids"]);
    assert_ne!(issued["token"]["audit_ids"][0], json!(&key.key.id[..16]));

    // An application credential by name, with its user by name and domain.
    for domain in [json!({"id": "default"}), json!({"name": "Default"})] {
        let by_name = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
            "name": "shapes", "secret": key.secret.expose(), "user": {"name": DEV, "domain": domain}}}}});
        let (_, body) = server.issued(&by_name).await;
        assert_eq!(body["token"]["application_credential"]["id"], json!(key.key.id));
    }
    let elsewhere = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "name": "shapes", "secret": key.secret.expose(), "user": {"name": DEV, "domain": {"id": "heat"}}}}}});
    refused(
        server.issue_body(&elsewhere).await,
        StatusCode::UNAUTHORIZED,
        "another domain",
    )
    .await;
    let wrong = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {
        "name": "shapes", "secret": "wrong", "user": {"name": DEV, "domain": {"id": "default"}}}}}});
    refused(
        server.issue_body(&wrong).await,
        StatusCode::UNAUTHORIZED,
        "a wrong secret",
    )
    .await;

    // Collections name themselves.
    let dev = server.user_id(DEV);
    for path in [format!("/users/{dev}/projects"), "/auth/projects".to_string()] {
        let listed = json_of(server.get(&token, &path).await, StatusCode::OK, &path).await;
        assert_eq!(listed["links"]["self"], json!(format!("{}{path}", server.base)));
    }
}
