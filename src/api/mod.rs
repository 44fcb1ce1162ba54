//! The Keystone v3 subset of `spec/api.md`: IAM access keys are application credentials, S3
//! access keys are EC2 credentials, and tokens come from the model — so every rule, limit and
//! cascade of the console holds here too. Errors have Keystone's shape.

mod body;
mod ec2tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::console::{Console, Error, KeyKind, Result as ModelResult, TokenInfo};

/// The largest request body accepted; Keystone requests are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct Api {
    console: Arc<Console>,
}

/// A Keystone-shaped error: `{"error": {"code", "title", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The request you have made requires authentication.",
        )
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

/// The caller, from `X-Auth-Token`. A token that authorizes nothing (an EC2 credential's) is
/// 403, as in Keystone.
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

/// This server's identity endpoint, as clients reached it.
fn base_url(headers: &HeaderMap) -> String {
    let host = header_text(headers, "host").unwrap_or("localhost");
    format!("http://{host}/identity/v3")
}

async fn version(headers: HeaderMap) -> Json<Value> {
    Json(body::version(&base_url(&headers)))
}

async fn issue_token(State(api): State<Api>, headers: HeaderMap, request: Body) -> ApiResult<Response> {
    let request = json_body(&headers, request).await?;
    let credential = body::application_credential_request(&request)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    let issued = match &credential.by {
        body::CredentialRef::Id(id) => api.console.issue_token(id, &credential.secret),
        body::CredentialRef::Name { name, user_id } => {
            api.console.issue_token_by_name(user_id, name, &credential.secret)
        }
    }?;
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

/// The token being checked, from `X-Subject-Token`: 404 when invalid or expired.
fn subject(api: &Api, headers: &HeaderMap) -> ApiResult<(String, TokenInfo)> {
    let token = header_text(headers, "x-subject-token")
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the X-Subject-Token header is required"))?;
    let info = api
        .console
        .validate_token(token)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "the token is invalid or has expired"))?;
    Ok((token.to_string(), info))
}

async fn validate_token(State(api): State<Api>, method: Method, headers: HeaderMap) -> ApiResult<Response> {
    caller(&api, &headers)?;
    let (token, info) = subject(&api, &headers)?;
    let mut response = if method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Json(body::token(&info, &base_url(&headers))).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    Ok(response)
}

async fn revoke_token(State(api): State<Api>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let who = caller(&api, &headers)?;
    let (token, _) = subject(&api, &headers)?;
    blocking(&api, move |console| console.revoke_token(&who.actor(), &token)).await?;
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

/// Deletes one of the caller's own keys of `kind`; its tokens die with it.
async fn delete_key(
    api: &Api,
    headers: &HeaderMap,
    user_id: &str,
    kind: KeyKind,
    id: String,
) -> ApiResult<StatusCode> {
    let who = acting_for(api, headers, user_id)?;
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

/// Logs each request's method, path and status — never its headers (tokens) or body (secrets).
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), "api request");
    response
}

/// The routes of `spec/api.md`.
pub fn router(console: Arc<Console>) -> Router {
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
        .layer(axum::middleware::from_fn(log_request))
        .with_state(Api { console })
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(console))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn bind(addr: &str) -> ModelResult<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Invalid(format!("cannot listen on {addr}: {e}")))
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
        let listener = bind(addr).await?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Internal(e.to_string()))?;
        eprintln!("kc-console: serving the token API on http://{local}/identity/v3 (Ctrl-C stops)");
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, Arc::new(console), stop)
            .await
            .map_err(|e| Error::Internal(format!("the server stopped: {e}")))
    })
}

/// `kc-console --serve ADDR`: serves on a thread of its own beside the interactive console,
/// sharing its model. Returns the address actually bound.
pub fn spawn(console: Arc<Console>, addr: &str) -> ModelResult<SocketAddr> {
    let runtime = runtime()?;
    let listener = runtime.block_on(bind(addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    std::thread::spawn(move || {
        let _ = runtime.block_on(serve(listener, console, std::future::pending()));
    });
    Ok(local)
}
