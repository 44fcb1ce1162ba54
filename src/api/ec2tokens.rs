//! Keystone's `POST /v3/ec2tokens` and `POST /v3/s3tokens`: an S3-compatible gateway (Ceph
//! RGW, Swift's s3api + s3token) relays the AWS signature of a request it received, and the
//! model checks it with the S3 access key's secret. The caller authenticates with its own token
//! (`X-Auth-Token`), as Keystone requires since its fix for presigned-URL replay; the model
//! decides who may ask.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::{base_url, body, caller, json_body, Api, ApiError, ApiResult};
use crate::console::ec2::{MAX_ENTRIES, MAX_FIELD_BYTES, MAX_TOKEN_BYTES};
use crate::console::{Ec2Credentials, S3Credentials};

pub(super) fn routes() -> Router<Api> {
    Router::new()
        .route("/identity/v3/ec2tokens", post(ec2tokens))
        .route("/identity/v3/s3tokens", post(s3tokens))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// The request's `credentials` object. Keystone also reads it as `credential` or
/// `ec2Credentials` (what older EC2 middleware sends); an empty body is 400, and a body without
/// credentials names no access key (401 from the model, as Keystone).
fn credentials(request: &Value) -> ApiResult<Map<String, Value>> {
    let object = request
        .as_object()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| bad_request("request must include a request body"))?;
    let found = ["credentials", "credential", "ec2Credentials"]
        .iter()
        .find_map(|name| object.get(*name).filter(|v| !v.is_null()));
    match found {
        None => Ok(Map::new()),
        Some(Value::Object(credentials)) => Ok(credentials.clone()),
        Some(_) => Err(bad_request("credentials must be a JSON object")),
    }
}

/// A text field, at most `max` bytes; absent is empty (the model says what is missing).
fn text(credentials: &Map<String, Value>, field: &str, max: usize) -> ApiResult<String> {
    match credentials.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(bad_request(format!(
            "credentials.{field} is longer than {max} bytes"
        ))),
        Some(_) => Err(bad_request(format!("credentials.{field} must be a string"))),
    }
}

fn required(credentials: &Map<String, Value>, field: &str) -> ApiResult<String> {
    if credentials.get(field).is_none_or(Value::is_null) {
        return Err(bad_request(format!("credentials.{field} is required")));
    }
    text(credentials, field, MAX_FIELD_BYTES)
}

/// `params` or `headers`: an object of strings, bounded in entries and lengths.
fn string_map(
    credentials: &Map<String, Value>,
    field: &str,
) -> ApiResult<std::collections::BTreeMap<String, String>> {
    let object = match credentials.get(field) {
        None | Some(Value::Null) => return Ok(Default::default()),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(bad_request(format!("credentials.{field} must be an object"))),
    };
    if object.len() > MAX_ENTRIES {
        return Err(bad_request(format!(
            "credentials.{field} has more than {MAX_ENTRIES} entries"
        )));
    }
    object
        .iter()
        .map(|(name, value)| match value {
            Value::String(v) if name.len() <= MAX_FIELD_BYTES && v.len() <= MAX_FIELD_BYTES => {
                Ok((name.clone(), v.clone()))
            }
            Value::String(_) => Err(bad_request(format!(
                "credentials.{field} has an entry longer than {MAX_FIELD_BYTES} bytes"
            ))),
            _ => Err(bad_request(format!("credentials.{field} values must be strings"))),
        })
        .collect()
}

async fn ec2tokens(State(api): State<Api>, headers: HeaderMap, request: Body) -> ApiResult<Response> {
    let gateway = caller(&api, &headers)?;
    let request = json_body(&headers, request).await?;
    let credentials = credentials(&request)?;
    let access = text(&credentials, "access", MAX_FIELD_BYTES)?;
    let ec2 = if access.is_empty() {
        Ec2Credentials::default()
    } else {
        Ec2Credentials {
            access,
            signature: text(&credentials, "signature", MAX_FIELD_BYTES)?,
            host: required(&credentials, "host")?,
            verb: required(&credentials, "verb")?,
            path: required(&credentials, "path")?,
            params: string_map(&credentials, "params")?,
            headers: string_map(&credentials, "headers")?,
            body_hash: Some(text(&credentials, "body_hash", MAX_FIELD_BYTES)?).filter(|h| !h.is_empty()),
        }
    };
    let issued = api.console.ec2_token(&gateway.actor(), &ec2)?;
    let token = HeaderValue::from_str(issued.token.expose()).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the token is not a valid header",
        )
    })?;
    let mut response = Json(body::token(&issued.info, &base_url(&headers), true)).into_response();
    response.headers_mut().insert("x-subject-token", token);
    Ok(response)
}

async fn s3tokens(State(api): State<Api>, headers: HeaderMap, request: Body) -> ApiResult<Response> {
    let gateway = caller(&api, &headers)?;
    let request = json_body(&headers, request).await?;
    let credentials = credentials(&request)?;
    let s3 = S3Credentials {
        access: text(&credentials, "access", MAX_FIELD_BYTES)?,
        token: text(&credentials, "token", MAX_TOKEN_BYTES)?,
        signature: text(&credentials, "signature", MAX_FIELD_BYTES)?,
    };
    let info = api.console.s3_token(&gateway.actor(), &s3)?;
    Ok(Json(body::token(&info, &base_url(&headers), true)).into_response())
}
