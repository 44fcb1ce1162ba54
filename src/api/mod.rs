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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::console::{Console, Error, KeyKind, Result as ModelResult, TokenInfo};
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

    fn throttled(throttled: Throttled) -> ApiError {
        let message = match throttled {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
            other => other.canonical_reason().unwrap_or("Error"),
        };
        let body = json!({"error": {"code": self.status.as_u16(), "title": title, "message": self.message}});
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

type ApiResult<T> = Result<T, ApiError>;

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

async fn issue_token(
    State(api): State<Api>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<Response> {
    let request = json_body(&headers, request).await?;
    let credential = body::application_credential_request(&request)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    let throttle_key = credential.by.throttle_key();
    if let Err(throttled) = api.throttle.admit(Some(&throttle_key), peer.ip()) {
        record_throttled(&api, throttled, &credential.by, peer)?;
        return Err(ApiError::throttled(throttled));
    }
    let issued = match &credential.by {
        body::CredentialRef::Id(id) => api.console.issue_token(id, &credential.secret),
        body::CredentialRef::Name { name, user_id } => {
            api.console.issue_token_by_name(user_id, name, &credential.secret)
        }
    };
    let issued = match issued {
        Ok(issued) => issued,
        Err(e @ Error::Auth(_)) => {
            return Err(match api.throttle.failed(Some(&throttle_key), peer.ip()) {
                Some(throttled) => ApiError::throttled(throttled),
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
    let mut response = (
        StatusCode::CREATED,
        Json(body::token(&issued.info, &base_url(&headers))),
    )
        .into_response();
    response.headers_mut().insert("x-subject-token", token);
    Ok(response)
}

/// Counts a throttled issue into the audit log (one record per key or address and window).
fn record_throttled(
    api: &Api,
    throttled: Throttled,
    by: &body::CredentialRef,
    peer: SocketAddr,
) -> ApiResult<()> {
    let recorded = match (throttled, by) {
        (Throttled::Address(_), _) => api.console.record_throttled_client(&peer.ip().to_string()),
        (Throttled::Key(_), body::CredentialRef::Id(id)) => api.console.record_throttled_key(id),
        (Throttled::Key(_), body::CredentialRef::Name { .. }) => api.console.record_throttled_key(""),
    };
    recorded.map_err(ApiError::from)
}

/// The token being checked, from `X-Subject-Token`.
fn subject_token(headers: &HeaderMap) -> ApiResult<&str> {
    header_text(headers, "x-subject-token")
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the X-Subject-Token header is required"))
}

/// `GET`/`HEAD /auth/tokens`: 404 for an invalid subject, 403 for another principal's token
/// unless the caller is an Org Admin (the model's `validate_token_for`).
async fn validate_token(State(api): State<Api>, method: Method, headers: HeaderMap) -> ApiResult<Response> {
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
        Json(body::token(&info, &base_url(&headers))).into_response()
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

async fn auth_projects(State(api): State<Api>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let who = caller(&api, &headers)?;
    let project = api.console.find_project(&who.project_id)?;
    Ok(Json(body::projects(&[project], &base_url(&headers))))
}

async fn user_projects(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let projects = api.console.principal_projects(&who.actor())?;
    Ok(Json(body::projects(&projects, &base_url(&headers))))
}

async fn list_application_credentials(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let who = acting_for(&api, &headers, &user_id)?;
    let keys = api.console.list_credentials(&who.actor(), Some(KeyKind::Iam))?;
    Ok(Json(body::application_credentials(&keys, &base_url(&headers))))
}

async fn create_application_credential(
    State(api): State<Api>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    request: Body,
) -> ApiResult<Response> {
    let who = acting_for(&api, &headers, &user_id)?;
    let request = json_body(&headers, request).await?;
    let (name, description) =
        body::new_application_credential(&request).map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    let project = who.project_id.clone();
    let new = blocking(&api, move |console| {
        console.create_credential(&who.actor(), KeyKind::Iam, &project, &name, &description)
    })
    .await?;
    let value = body::created_application_credential(&new, &base_url(&headers));
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
    if !crate::console::tokens::is_canonical_key_id(&id) {
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
    Ok(Json(body::ec2_credentials(&keys, &base_url(&headers))))
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
        .route(&format!("{users}/projects"), get(user_projects))
        .route(
            &format!("{users}/application_credentials"),
            get(list_application_credentials).post(create_application_credential),
        )
        .route(
            &format!("{users}/application_credentials/{{id}}"),
            delete(delete_application_credential),
        )
        .route(
            &format!("{users}/credentials/OS-EC2"),
            get(list_ec2_credentials).post(create_ec2_credential),
        )
        .route(
            &format!("{users}/credentials/OS-EC2/{{access}}"),
            delete(delete_ec2_credential),
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
