//! The DUIX envelope `{code, message, data, success}` and the HTTP status each business code
//! answers with in this mock (the table is in the module doc of [`crate::duix`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::duix::DuixError;
use serde::Serialize;
use serde_json::{json, Value};

/// A refused request: the business code, the status it answers with, and what exactly was wrong.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub error: DuixError,
    pub status: StatusCode,
    /// Added after the catalog message, e.g. "header `token` is missing".
    pub detail: Option<String>,
}

impl ApiError {
    /// `error` with the status this mock gives its code.
    pub fn new(error: DuixError, detail: impl Into<String>) -> Self {
        Self {
            error,
            status: status_of(&error),
            detail: Some(detail.into()),
        }
    }

    /// A malformed request (missing or unreadable parameter): code `-1`, HTTP 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self {
            error: DuixError::SYSTEM_ERROR,
            status: StatusCode::BAD_REQUEST,
            detail: Some(detail.into()),
        }
    }

    /// The envelope's `message`: the catalog text, then the detail.
    pub fn message(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}: {detail}", self.error.message),
            None => self.error.message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        failure(self.status, self.error.code, &self.message())
    }
}

/// The status a business code answers with ([`DuixError::status`]). `-1` and `40002` are 500
/// here; a malformed request uses [`ApiError::bad_request`] instead (400).
pub fn status_of(error: &DuixError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `{"code": code, "message", "data": null, "success": false}` with `status`.
pub fn failure(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"code": code, "message": message, "data": Value::Null, "success": false});
    (status, Json(body)).into_response()
}

/// `{"code": "0", "message": "success", "data": data, "success": true}`, HTTP 200.
pub fn success(data: impl Serialize) -> Response {
    let body = Envelope {
        code: "0",
        data,
        message: "success",
        success: true,
    };
    (StatusCode::OK, Json(body)).into_response()
}

/// The envelope, serialized as it is built (no JSON tree in between); keys in the order
/// `json!` wrote them (sorted), so answers stay byte for byte what they were.
#[derive(Serialize)]
struct Envelope<'a, T> {
    code: &'a str,
    data: T,
    message: &'a str,
    success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_envelope_is_what_a_json_tree_would_give() {
        let data = json!({"appId": "1", "wsService": "ws://h/x?sig=a"});
        let body = Envelope {
            code: "0",
            data: &data,
            message: "success",
            success: true,
        };
        let tree = json!({"code": "0", "message": "success", "data": data, "success": true});
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
    }

    #[test]
    fn every_catalog_code_has_a_status_and_only_success_is_2xx() {
        for error in DuixError::ALL {
            assert_eq!(
                status_of(&error).is_success(),
                error.is_success(),
                "{}",
                error.code
            );
        }
    }

    #[test]
    fn the_message_names_the_detail() {
        let error = ApiError::new(DuixError::TOKEN_REQUIRED, "header `token` is missing");
        assert_eq!(error.status, StatusCode::UNAUTHORIZED);
        assert!(error.message().ends_with("header `token` is missing"));
    }
}
