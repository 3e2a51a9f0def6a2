//! The AUI response envelope (PROTOCOLS.md §4.4), and every error this server answers with.
//!
//! Success is `{"code":200, ...fields}` with the fields flattened beside `code`, nulls left out
//! (the Java server's Jackson `non_null`). An error is
//! `{"code":<status>,"message":...,"error_code":...[,"request_id":<Alibaba request id>]}`.
//!
//! One deliberate difference from the Java server, which answers HTTP 200 to everything but 403 and
//! puts the real outcome in `code`: here the HTTP status always equals `code`. Bad input gets 400
//! (the Java server: 500 with `msg`), an upstream error keeps the upstream's status (the Java
//! server: 200 with that status in `code`) unless it blames this server's own credentials (502),
//! an upstream that cannot be reached gets 502 or 504.
//! Clients that read only `code` see the same numbers either way.
//!
//! Every answer carries the CORS headers of §4.2, so a browser client can read errors too.

use axum::http::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};

/// An answer other than success, with everything its envelope needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuiError {
    /// HTTP status, and the envelope's `code`.
    pub status: StatusCode,
    /// A stable, machine-readable name: ours (`MissingParameter`, `UpstreamTimeout`...) or the
    /// Alibaba `Code` of an upstream error.
    pub error_code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The Alibaba request id, when the error came from the cloud.
    pub request_id: Option<String>,
}

impl AuiError {
    /// Any error; prefer the named constructors.
    pub fn new(
        status: StatusCode,
        error_code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error_code: error_code.into(),
            message: message.into(),
            request_id: None,
        }
    }

    /// 400: a required field is absent, null or empty.
    pub fn missing(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            format!("{field} is required"),
        )
    }

    /// 400: a field is present but not acceptable; `why` says what is expected.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!("{field} is not valid: {why}"),
        )
    }

    /// 400: the body as a whole is unusable (not JSON, not an object).
    pub fn bad_body(why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidBody",
            format!("request body {why}"),
        )
    }

    /// 403: no valid login (missing, malformed or expired bearer token, wrong password).
    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", why)
    }

    /// 502: the cloud could not be reached (refused, reset, DNS, not configured).
    pub fn upstream_unavailable(why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "UpstreamUnavailable",
            format!("the Alibaba OpenAPI could not be reached: {why}"),
        )
    }

    /// 502: the cloud answered something that is not an OpenAPI answer.
    pub fn upstream_bad_response(why: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "UpstreamBadResponse",
            format!("the Alibaba OpenAPI answered unexpectedly: {why}"),
        )
    }

    /// 504: the cloud did not answer within the configured time.
    pub fn upstream_timeout(timeout_ms: u64) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "UpstreamTimeout",
            format!("the Alibaba OpenAPI did not answer within {timeout_ms} ms"),
        )
    }

    /// An error envelope from the cloud, passed on as the Java server does: its status, its `Code`,
    /// and the tea SDK's message `code: <status>, <Message> request id: <RequestId>`.
    pub fn upstream(status: StatusCode, code: &str, message: &str, request_id: &str) -> Self {
        Self {
            status,
            error_code: code.to_string(),
            message: format!(
                "code: {}, {message} request id: {request_id}",
                status.as_u16()
            ),
            request_id: (!request_id.is_empty()).then(|| request_id.to_string()),
        }
    }
}

impl AuiError {
    /// 502: the cloud refused this server's own call (its AccessKey, signature, clock or rights),
    /// which no client can fix. The Alibaba `Code` and request id are kept; the message is not,
    /// since for a signature mismatch it echoes the string the cloud signed.
    pub fn upstream_refused(code: &str, request_id: &str) -> Self {
        Self {
            status: StatusCode::BAD_GATEWAY,
            error_code: code.to_string(),
            message: format!(
                "the Alibaba OpenAPI refused this server's call ({code}); its operator should \
                 check the AccessKey, its RAM rights and the server clock"
            ),
            request_id: (!request_id.is_empty()).then(|| request_id.to_string()),
        }
    }
}

impl std::fmt::Display for AuiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error_code,
            self.message
        )
    }
}

impl IntoResponse for AuiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("code".into(), self.status.as_u16().into());
        body.insert("message".into(), self.message.into());
        body.insert("error_code".into(), self.error_code.into());
        if let Some(id) = self.request_id {
            body.insert("request_id".into(), id.into());
        }
        with_cors(self.status, Value::Object(body))
    }
}

/// `{"code":200, ...fields}`, nulls left out. `fields` must be a JSON object.
pub fn success(fields: Value) -> Response {
    let mut body = Map::new();
    body.insert("code".into(), 200.into());
    if let Value::Object(fields) = fields {
        body.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
    }
    with_cors(StatusCode::OK, Value::Object(body))
}

/// The answer to a CORS preflight: 204 with the allow headers (§4.2).
pub fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    add_cors_headers(response.headers_mut());
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    response
}

/// [`success`] for an answer typed as a struct, serialized without a JSON tree in between. The
/// struct has `code` ([`SUCCESS_CODE`]) among its fields, and its fields in the order `success`
/// gives them (sorted by name), so the bytes are the same.
pub fn success_typed(body: impl Serialize) -> Response {
    with_cors(StatusCode::OK, body)
}

/// The `code` of every success.
pub const SUCCESS_CODE: u16 = 200;

fn with_cors(status: StatusCode, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    add_cors_headers(response.headers_mut());
    response
}

/// Any origin, POST, and the two headers AUI clients send. No credentials: the bearer token travels
/// in a header the page sets, not in a cookie, so `*` is safe.
pub fn add_cors_headers(headers: &mut HeaderMap) {
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization,content-type"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn body_of(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn success_flattens_fields_beside_code_and_drops_nulls() {
        let response = success(json!({"token": "t", "role": null}));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(body_of(response).await, json!({"code": 200, "token": "t"}));
    }

    #[tokio::test]
    async fn upstream_errors_read_like_the_tea_sdk_message() {
        let error = AuiError::upstream(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No such instance.",
            "RID-1",
        );
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            body_of(response).await,
            json!({"code": 404, "error_code": "NotFound", "request_id": "RID-1",
                   "message": "code: 404, No such instance. request id: RID-1"})
        );
    }

    #[test]
    fn preflight_is_204_with_the_allowed_headers() {
        let response = preflight();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            response.headers()[ACCESS_CONTROL_ALLOW_HEADERS],
            "authorization,content-type"
        );
    }
}
