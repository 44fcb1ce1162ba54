//! The Keystone v3 subset of `spec/api.md`: IAM access keys are application credentials, S3
//! access keys are EC2 credentials, and tokens come from the model — so every rule, limit and
//! cascade of the console holds here too. Errors have Keystone's shape.
//!
//! Everything a client sends is bounded before it reaches the model or a log: the request
//! head by the connection layer (`server`: 16 KiB and 100 headers, then 431; a slow or idle
//! connection is closed), the request line (2 KiB, then 414), each path segment (128 bytes,
//! then 400), `Host` and `Content-Type` (then 400), the body (64 KiB, then 413) and each JSON
//! field (`body`, then 400). Tokens and key IDs have one canonical spelling; anything else is a
//! bad credential (401, or 404 for the token being checked). Failed token issues are
//! throttled per key and per client address (`throttle`, then 429 with `Retry-After`).

mod body;
mod ec2tokens;
mod server;
mod throttle;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::console::{
    AccessKey, Console, Error, IssuedToken, KeyKind, PasswordUser, Result as ModelResult, ThrottledBy,
    TokenInfo, TokenMethod,
};
use server::Peer;
pub use server::ServerLimits;
pub use throttle::Budget;
use throttle::{Throttle, Throttled};

/// The largest request body accepted; Keystone requests are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest request target (path and query) accepted.
pub const MAX_URI_BYTES: usize = 2048;
/// The longest path segment accepted (a service account's ID is the longest real one).
pub const MAX_SEGMENT_BYTES: usize = 128;
const MAX_HOST_BYTES: usize = 255;
const MAX_CONTENT_TYPE_BYTES: usize = 128;
/// How often counted token events are written to the audit log.
const AUDIT_EVERY: Duration = Duration::from_secs(1);
/// How often expired revocations are pruned and refilled throttle states dropped.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Api {
    console: Arc<Console>,
    throttle: Arc<Throttle>,
}

/// A Keystone-shaped error: `{"error": {"code", "title", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
    }

    fn bad_subject() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "the token is invalid or has expired")
    }

    fn throttled(throttled: Throttled, password: bool) -> ApiError {
        let message = match throttled {
            Throttled::Key(_) if password => "too many failed attempts for this user; try again later",
            Throttled::Key(_) => "too many failed attempts for this access key; try again later",
            Throttled::Address(_) => "too many failed attempts from your address; try again later",
        };
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.into(),
            retry_after: Some(throttled.retry_after_seconds()),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match &e {
            Error::Invalid(_) => StatusCode::BAD_REQUEST,
            Error::Auth(_) => StatusCode::UNAUTHORIZED,
            Error::Denied(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.message())
    }
}

/// The longest error message sent, in bytes (quoted values included).
const MESSAGE_MAX: usize = 1024;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
            other => other.canonical_reason().unwrap_or("Error"),
        };
        // Messages may quote what a client sent: clients print them to terminals, so every
        // hidden character is made visible and the length bounded, here, for every refusal.
        let message = crate::console::audit::excerpt(&self.message, MESSAGE_MAX);
        let body = json!({"error": {"code": self.status.as_u16(), "title": title, "message": message}});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Keystone uri=\"/identity/v3\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<body::Refusal> for ApiError {
    fn from(refusal: body::Refusal) -> ApiError {
        match refusal {
            body::Refusal::Bad(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            body::Refusal::Unauthorized(m) => ApiError::new(StatusCode::UNAUTHORIZED, m),
            body::Refusal::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The query of a request, as pairs (a name given without a value, `?nocatalog`, is there
/// with an empty value). The request target is bounded before routing (`bounds`).
type Params = Query<HashMap<String, String>>;

/// Whether the token body should leave out the catalog (`?nocatalog`, as keystoneauth asks).
fn without_catalog(params: &HashMap<String, String>) -> bool {
    params.contains_key("nocatalog")
}

/// Runs a model call that writes (and so flushes) off the async workers.
async fn blocking<T: Send + 'static>(
    api: &Api,
    call: impl FnOnce(&Console) -> ModelResult<T> + Send + 'static,
) -> ApiResult<T> {
    let console = Arc::clone(&api.console);
    tokio::task::spawn_blocking(move || call(&console))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}")))?
        .map_err(ApiError::from)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// The caller, from `X-Auth-Token`. Any spelling but a valid token's one is a 401; a token
/// that authorizes nothing (an EC2 credential's) is 403, as in Keystone.
fn caller(api: &Api, headers: &HeaderMap) -> ApiResult<TokenInfo> {
    let token = header_text(headers, "x-auth-token").ok_or_else(ApiError::unauthenticated)?;
    api.console.caller_token(token).map_err(|e| match e {
        denied @ Error::Denied(_) => ApiError::from(denied),
        _ => ApiError::unauthenticated(),
    })
}

/// The caller, who must be the principal named in the path: a token reads and manages only its
/// own principal's credentials and projects.
fn acting_for(api: &Api, headers: &HeaderMap, user_id: &str) -> ApiResult<TokenInfo> {
    let who = caller(api, headers)?;
    if who.principal_id == user_id {
        Ok(who)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a token may only read and manage its own principal's credentials and projects",
        ))
    }
}

/// The JSON body of a request: `Content-Type: application/json`, at most `MAX_BODY_BYTES`.
async fn json_body(headers: &HeaderMap, body: Body) -> ApiResult<Value> {
    let content_type = header_text(headers, "content-type").unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be JSON with Content-Type: application/json",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

/// This server's identity endpoint, as clients reached it (`Host` was checked by `bounds`).
fn base_url(headers: &HeaderMap) -> String {
    let host = header_text(headers, "host").unwrap_or("localhost");
    format!("http://{host}/identity/v3")
}

async fn version(headers: HeaderMap) -> Json<Value> {
    Json(body::version(&base_url(&headers)))
}

/// `GET /identity/`: Keystone's root answers 300 with its versions.
async fn versions(headers: HeaderMap) -> Response {
    (
        StatusCode::MULTIPLE_CHOICES,
        Json(body::versions(&base_url(&headers))),
    )
        .into_response()
}

async fn issue_token(
    State(api): State<Api>,
    Extension(Peer(peer)): Extension<Peer>,
    Query(params): Params,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<Response> {
    let request = json_body(&headers, request).await?;
    let presented = body::token_request(&request)?;
    let (throttle_key, password) = match &presented {
        body::Presented::ApplicationCredential(c) => (c.by.throttle_key(), false),
        body::Presented::Password(p) => (p.throttle_key(), true),
    };
    if let Err(throttled) = api.throttle.admit(Some(&throttle_key), peer.ip()) {
        record_throttled(&api, throttled, &presented, peer)?;
        return Err(ApiError::throttled(throttled, password));
    }
    let issued = match presented {
        body::Presented::ApplicationCredential(credential) => issue_for_key(&api, &credential),
        body::Presented::Password(presented) => {
            // argon2 takes tens of milliseconds: off the async workers.
            let console = Arc::clone(&api.console);
            tokio::task::spawn_blocking(move || {
                let user = match &presented.user {
                    body::OwnerRef::Id(id) => PasswordUser::Id(id),
                    body::OwnerRef::Name(name) => PasswordUser::Email(name),
                };
                console.issue_password_token(user, &presented.password, presented.project.as_deref())
            })
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}")))?
        }
    };
    let issued = match issued {
        Ok(issued) => issued,
        // A credential refused as wrong or as malformed (an over-long password, say) spends
        // the budget alike: each refusal is an audit record, so none may come for free.
        Err(e @ (Error::Auth(_) | Error::Invalid(_))) => {
            return Err(match api.throttle.failed(Some(&throttle_key), peer.ip()) {
                Some(throttled) => ApiError::throttled(throttled, password),
                None => e.into(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let token = HeaderValue::from_str(issued.token.expose()).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the token is not a valid header",
        )
    })?;
    let base = base_url(&headers);
    let mut response = (
        StatusCode::CREATED,
        Json(body::token(&issued.info, &base, !without_catalog(&params))),
    )
        .into_response();
    response.headers_mut().insert("x-subject-token", token);
    Ok(response)
}

/// An application credential by ID, or by name and owner (a user by ID or e-mail, or a
/// service account by ID). An owner named but unknown gets the same refusal, after the same
/// work, as a wrong secret.
fn issue_for_key(api: &Api, credential: &body::PresentedCredential) -> ModelResult<IssuedToken> {
    match &credential.by {
        body::CredentialRef::Id(id) => api.console.issue_token(id, &credential.secret),
        body::CredentialRef::Name { name, owner } => {
            let owner_id = match owner {
                body::OwnerRef::Id(id) => id.clone(),
                body::OwnerRef::Name(user_name) => api
                    .console
                    .user_by_email(user_name)
                    .map_or_else(|_| user_name.clone(), |user| user.id),
            };
            api.console
                .issue_token_by_name(&owner_id, name, &credential.secret)
        }
    }
}

/// Counts a throttled issue into the audit log (one record per key, user or address and
/// window).
fn record_throttled(
    api: &Api,
    throttled: Throttled,
    presented: &body::Presented,
    peer: SocketAddr,
) -> ApiResult<()> {
    let address = peer.ip().to_string();
    let by = match (throttled, presented) {
        (Throttled::Address(_), _) => ThrottledBy::Address(&address),
        (Throttled::Key(_), body::Presented::ApplicationCredential(c)) => match &c.by {
            body::CredentialRef::Id(id) => ThrottledBy::Key(id),
            body::CredentialRef::Name { .. } => ThrottledBy::Key(""),
        },
        (Throttled::Key(_), body::Presented::Password(p)) => match &p.user {
            body::OwnerRef::Id(user) | body::OwnerRef::Name(user) => ThrottledBy::User(user),
        },
    };
    let recorded = api.console.record_throttled(by);
    recorded.map_err(ApiError::from)
}

/// The token being checked, from `X-Subject-Token`.
fn subject_token(headers: &HeaderMap) -> ApiResult<&str> {
    header_text(headers, "x-subject-token")
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the X-Subject-Token header is required"))
}

/// `GET`/`HEAD /auth/tokens`: 404 for an invalid subject, 403 for another principal's token
/// unless the caller is an Org Admin (the model's `validate_token_for`).
async fn validate_token(
    State(api): State<Api>,
    method: Method,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let who = caller(&api, &headers)?;
    let token = subject_token(&headers)?;
    let info = if header_text(&headers, "x-auth-token") == Some(token) {
        // A token checking itself: it was validated a moment ago as the caller.
        who
    } else {
        api.console.validate_token_for(&who, token).map_err(|e| match e {
            Error::NotFound(_) => ApiError::bad_subject(),
            other => other.into(),
        })?
    };
    let mut response = if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Json(body::token(&info, &base_url(&headers), !without_catalog(&params))).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    Ok(response)
}

async fn revoke_token(State(api): State<Api>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let who = caller(&api, &headers)?;
    let token = subject_token(&headers)?.to_string();
    blocking(&api, move |console| console.revoke_token(&who.actor(), &token))
        .await
        .map_err(|e| match e.status {
            StatusCode::UNAUTHORIZED => ApiError::bad_subject(),
            _ => e,
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// The projects a token may be exchanged for: a password token's user's, or the one project
/// of a key's token.
async fn auth_projects(State(api): State<Api>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let projects = match (who.method, who.scope()) {
        (TokenMethod::Password, _) => api.console.principal_projects(&who.actor())?,
        (_, Some(project)) => vec![api.console.find_project(project)?],
        (_, None) => Vec::new(),
    };
    Ok(Json(body::projects(
        &projects,
        &base_url(&headers),
        "/auth/projects",
    )))
}

/// `GET /auth/catalog`: the catalog of a project-scoped token.
async fn auth_catalog(State(api): State<Api>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    if who.scope().is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "A project-scoped token is required to produce a service catalog.",
        ));
    }
    Ok(Json(body::catalog_body(&base_url(&headers))))
}

/// `GET /domains/default`: the one domain, for any valid token.
async fn default_domain(State(api): State<Api>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    caller(&api, &headers)?;
    Ok(Json(body::domain(&base_url(&headers))))
}

async fn get_user(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let user = api.console.identity_user(&who, &user_id)?;
    Ok(Json(body::user(&user, &base_url(&headers))))
}

/// `GET /users` (Org Admin), with Keystone's `?name=` filter; the clients fall back to it
/// when a user named by ID cannot be read, so a non-admin gets Keystone's 403 here too.
async fn list_users(
    State(api): State<Api>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let users = api
        .console
        .identity_users(&who, params.get("name").map(String::as_str))?;
    Ok(Json(body::users(&users, &base_url(&headers))))
}

/// `POST /users/{id}/password`: one's own, with the original password, under the CLI's
/// rules; every password token and sign-in session of the user ends.
async fn change_password(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<StatusCode> {
    let who = acting_for(&api, &headers, &user_id)?;
    let request = json_body(&headers, request).await?;
    let (original, new) =
        body::password_change(&request).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    blocking(&api, move |console| {
        console.change_password(&who.actor(), &original, &new)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_project(
    State(api): State<Api>,
    Path(project_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let project = api.console.identity_project(&who, &project_id)?;
    Ok(Json(body::project(&project, &base_url(&headers))))
}

/// `GET /projects` (Org Admin), with Keystone's `?name=` filter.
async fn list_projects(
    State(api): State<Api>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let mut projects = api.console.identity_projects(&who)?;
    if let Some(name) = params.get("name") {
        projects.retain(|p| &p.name == name);
    }
    Ok(Json(body::projects(&projects, &base_url(&headers), "/projects")))
}

/// `GET /role_assignments` with `user.id`, `scope.project.id`, `role.id` and
/// `include_names`. There are no groups, domain or system roles, nor inherited ones: a
/// filter on those matches nothing, and `effective` lists what is listed anyway.
async fn list_role_assignments(
    State(api): State<Api>,
    Query(params): Params,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let user = params.get("user.id").map(String::as_str);
    let project = params.get("scope.project.id").map(String::as_str);
    let mut assignments = api.console.role_assignments(&who, user, project)?;
    if let Some(role) = params.get("role.id") {
        assignments.retain(|a| body::role_id(a.role) == role);
    }
    let elsewhere = [
        "group.id",
        "scope.domain.id",
        "scope.system",
        "scope.OS-INHERIT:inherited_to",
    ];
    if elsewhere.iter().any(|filter| params.contains_key(*filter)) {
        assignments.clear();
    }
    let include_names = params
        .get("include_names")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no"));
    Ok(Json(body::role_assignments(
        &assignments,
        &base_url(&headers),
        raw.as_deref().unwrap_or(""),
        include_names,
    )))
}

async fn user_projects(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let projects = api.console.principal_projects(&who.actor())?;
    Ok(Json(body::projects(
        &projects,
        &base_url(&headers),
        &format!("/users/{user_id}/projects"),
    )))
}

/// The caller's keys of `kind`, each with the role its tokens carry now.
fn keys_with_roles(
    api: &Api,
    who: &TokenInfo,
    kind: KeyKind,
) -> ApiResult<Vec<(AccessKey, Option<crate::console::ProjectRole>)>> {
    api.console
        .list_credentials(&who.actor(), Some(kind))?
        .into_iter()
        .map(|key| {
            let role = api.console.key_role(&key)?;
            Ok((key, role))
        })
        .collect()
}

/// The caller's key of `kind` with ID `id`; an unknown ID (or one in any but its canonical
/// spelling) is Keystone's 404, which the clients' find-by-name fallback relies on.
fn own_key(
    api: &Api,
    who: &TokenInfo,
    kind: KeyKind,
    id: &str,
) -> ApiResult<(AccessKey, Option<crate::console::ProjectRole>)> {
    let what = match kind {
        KeyKind::Iam => "application credential",
        KeyKind::S3 => "credential",
    };
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("Could not find {what}: {id}."));
    if !crate::console::validate::is_id(id) {
        return Err(not_found());
    }
    let key = api
        .console
        .list_credentials(&who.actor(), Some(kind))?
        .into_iter()
        .find(|key| key.id == id)
        .ok_or_else(not_found)?;
    let role = api.console.key_role(&key)?;
    Ok((key, role))
}

/// The caller's application credentials; `?name=` keeps the one of that exact name.
async fn list_application_credentials(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let mut keys = keys_with_roles(&api, &who, KeyKind::Iam)?;
    if let Some(name) = params.get("name") {
        keys.retain(|(key, _)| &key.name == name);
    }
    Ok(Json(body::application_credentials(
        &keys,
        &base_url(&headers),
        &user_id,
    )))
}

/// `GET` (and `HEAD`, which axum answers from it without the body) of one key.
async fn get_application_credential(
    State(api): State<Api>,
    Path((user_id, key_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let (key, role) = own_key(&api, &who, KeyKind::Iam, &key_id)?;
    Ok(Json(body::one_application_credential(
        &key,
        role,
        &base_url(&headers),
    )))
}

async fn create_application_credential(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<Response> {
    let who = acting_for(&api, &headers, &user_id)?;
    let request = json_body(&headers, request).await?;
    let asked = body::new_application_credential(&request)?;
    let new = blocking(&api, move |console| {
        console.create_credential_in_scope(
            &who.actor(),
            KeyKind::Iam,
            &asked.name,
            &asked.description,
            asked.role,
        )
    })
    .await?;
    let role = api.console.key_role(&new.key)?;
    let value = body::created_application_credential(&new, role, &base_url(&headers));
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// Deletes one of the caller's own keys of `kind`; its tokens die with it. A key ID in any
/// spelling but its canonical one names no key (404) and never reaches the model.
async fn delete_key(
    api: &Api,
    headers: &HeaderMap,
    user_id: &str,
    kind: KeyKind,
    id: String,
) -> ApiResult<StatusCode> {
    let who = acting_for(api, headers, user_id)?;
    if !crate::console::validate::is_id(&id) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("you have no {} with that ID", kind.label()),
        ));
    }
    blocking(api, move |console| {
        console.delete_credential(&who.actor(), kind, &id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_application_credential(
    State(api): State<Api>,
    Path((user_id, key_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_key(&api, &headers, &user_id, KeyKind::Iam, key_id).await
}

async fn list_ec2_credentials(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let keys = api.console.list_credentials(&who.actor(), Some(KeyKind::S3))?;
    Ok(Json(body::ec2_credentials(&keys, &base_url(&headers), &user_id)))
}

async fn get_ec2_credential(
    State(api): State<Api>,
    Path((user_id, access)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let (key, _) = own_key(&api, &who, KeyKind::S3, &access)?;
    Ok(Json(body::one_ec2_credential(&key, &base_url(&headers))))
}

async fn create_ec2_credential(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<Response> {
    let who = acting_for(&api, &headers, &user_id)?;
    let request = json_body(&headers, request).await?;
    let (project, name) =
        body::new_ec2_credential(&request).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    // The model refuses (and audits) a token acting outside the project named, unscoped ones too.
    let new = blocking(&api, move |console| {
        console.create_credential(&who.actor(), KeyKind::S3, &project, &name, "")
    })
    .await?;
    let value = body::created_ec2_credential(&new, &base_url(&headers));
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

async fn delete_ec2_credential(
    State(api): State<Api>,
    Path((user_id, access)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    delete_key(&api, &headers, &user_id, KeyKind::S3, access).await
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "the resource could not be found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "the method is not allowed for this resource",
    )
}

/// A `Host` header is echoed into catalogs and links: a host name or address and a port.
fn valid_host(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_BYTES
        && host
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(b))
}

/// Refuses what is too long to handle before routing, so no handler, model call or log line
/// sees it: the request target (414), a path segment, `Host` or `Content-Type` (400).
async fn bounds(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = request.uri();
    let target_len = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if target_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    if uri.path().split('/').any(|s| s.len() > MAX_SEGMENT_BYTES) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("a path segment is longer than {MAX_SEGMENT_BYTES} bytes"),
        )
        .into_response();
    }
    let headers = request.headers();
    if headers
        .get(header::HOST)
        .is_some_and(|h| !valid_host(h.as_bytes()))
    {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "the Host header is not a host name (or address) and port",
        )
        .into_response();
    }
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|c| c.len() > MAX_CONTENT_TYPE_BYTES)
    {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the Content-Type header is longer than {MAX_CONTENT_TYPE_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Gives every error response Keystone's JSON body (the 408 of the request timeout, axum's
/// own rejections), and logs each request's method, route and status at debug level — the
/// route template, never the path as sent (it may be anything), nor headers (tokens) or
/// bodies (secrets).
async fn finish(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("<no route>", |m| m.as_str())
            .to_string();
        (request.method().clone(), route)
    });
    let response = next.run(request).await;
    let status = response.status();
    let keystone = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|c| c.as_bytes().starts_with(b"application/json"));
    let response = if status.as_u16() >= 400 && !keystone {
        let message = status.canonical_reason().unwrap_or("the request failed");
        ApiError::new(status, message.to_lowercase()).into_response()
    } else {
        response
    };
    if let Some((method, route)) = logged {
        tracing::debug!(%method, %route, status = status.as_u16(), "api request");
    }
    response
}

/// The routes of `spec/api.md`.
fn router(api: Api, limits: &ServerLimits) -> Router {
    let users = "/identity/v3/users/{user_id}";
    Router::new()
        .route("/identity", get(versions))
        .route("/identity/", get(versions))
        .route("/identity/v3", get(version))
        .route("/identity/v3/", get(version))
        .route(
            "/identity/v3/auth/tokens",
            get(validate_token)
                .head(validate_token)
                .post(issue_token)
                .delete(revoke_token),
        )
        .route("/identity/v3/auth/projects", get(auth_projects))
        .route("/identity/v3/auth/catalog", get(auth_catalog))
        .route("/identity/v3/domains/default", get(default_domain))
        .route("/identity/v3/projects", get(list_projects))
        .route("/identity/v3/projects/{project_id}", get(get_project))
        .route("/identity/v3/role_assignments", get(list_role_assignments))
        .route("/identity/v3/users", get(list_users))
        .route(users, get(get_user))
        .route(&format!("{users}/password"), post(change_password))
        .route(&format!("{users}/projects"), get(user_projects))
        .route(
            &format!("{users}/application_credentials"),
            get(list_application_credentials).post(create_application_credential),
        )
        .route(
            &format!("{users}/application_credentials/{{id}}"),
            get(get_application_credential).delete(delete_application_credential),
        )
        .route(
            &format!("{users}/credentials/OS-EC2"),
            get(list_ec2_credentials).post(create_ec2_credential),
        )
        .route(
            &format!("{users}/credentials/OS-EC2/{{access}}"),
            get(get_ec2_credential).delete(delete_ec2_credential),
        )
        .merge(ec2tokens::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn(bounds))
        .layer(axum::middleware::from_fn(finish))
        .with_state(api)
}

/// Serves on `listener` with the default limits until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, console, ServerLimits::default(), shutdown).await
}

/// Serves on `listener` with `limits` until `shutdown` completes; meanwhile writes the counted
/// token events to the audit log every second and prunes expired revocations every minute.
pub async fn serve_with(
    listener: TcpListener,
    console: Arc<Console>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let api = Api {
        console: Arc::clone(&console),
        throttle: Arc::new(Throttle::new(
            limits.failures_per_key,
            limits.failures_per_address,
        )),
    };
    let housekeeping = tokio::spawn(housekeeping(api.clone()));
    let router = router(api, &limits);
    let served = server::run(listener, router, limits, shutdown).await;
    housekeeping.abort();
    let _ = housekeeping.await;
    let written = tokio::task::spawn_blocking(move || console.write_token_audit()).await;
    if let Ok(Err(e)) = written {
        tracing::error!(error = %e, "could not write the last token audit records");
    }
    served
}

/// The server's timers: token audit tallies out every second; expired revocations and
/// refilled throttle states dropped every minute.
async fn housekeeping(api: Api) {
    let mut audit = tokio::time::interval(AUDIT_EVERY);
    let mut prune = tokio::time::interval(HOUSEKEEPING_EVERY);
    audit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let console = Arc::clone(&api.console);
        let outcome = tokio::select! {
            _ = audit.tick() => tokio::task::spawn_blocking(move || console.write_token_audit()).await,
            _ = prune.tick() => {
                api.throttle.sweep();
                tokio::task::spawn_blocking(move || console.prune_revocations().map(|_| ())).await
            }
        };
        if let Ok(Err(e)) = outcome {
            tracing::error!(error = %e, "token housekeeping failed");
        }
    }
}

/// Binds `addr` with the bounded accept backlog of `limits`.
async fn bind(addr: &str, limits: &ServerLimits) -> ModelResult<TcpListener> {
    let cannot = |e: std::io::Error| Error::Invalid(format!("cannot listen on {addr}: {e}"));
    let resolved = tokio::net::lookup_host(addr)
        .await
        .map_err(cannot)?
        .next()
        .ok_or_else(|| Error::Invalid(format!("cannot listen on {addr}: no such address")))?;
    let socket = if resolved.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(cannot)?;
    socket.set_reuseaddr(true).map_err(cannot)?;
    socket.bind(resolved).map_err(cannot)?;
    socket.listen(limits.accept_backlog).map_err(cannot)
}

fn runtime() -> ModelResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the server's runtime: {e}")))
}

/// `kc-console serve`: serves in the foreground until Ctrl-C.
pub fn run(console: Console, addr: &str) -> ModelResult<()> {
    runtime()?.block_on(async {
        let limits = ServerLimits::default();
        let listener = bind(addr, &limits).await?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Internal(e.to_string()))?;
        eprintln!("kc-console: serving the token API on http://{local}/identity/v3 (Ctrl-C stops)");
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve_with(listener, Arc::new(console), limits, stop)
            .await
            .map_err(|e| Error::Internal(format!("the server stopped: {e}")))
    })
}

/// `kc-console --serve ADDR`: serves on a thread of its own beside the interactive console,
/// sharing its model. Returns the address actually bound.
pub fn spawn(console: Arc<Console>, addr: &str) -> ModelResult<SocketAddr> {
    let runtime = runtime()?;
    let limits = ServerLimits::default();
    let listener = runtime.block_on(bind(addr, &limits))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    std::thread::spawn(move || {
        let _ = runtime.block_on(serve_with(listener, console, limits, std::future::pending()));
    });
    Ok(local)
}
