//! A reference vendor webhook: what a third-party dialogue service for DUIX answers (seed 003).
//!
//! `POST` (any path) with `{sid, dh-code, dh-question, dh-conversation-id, dh-context?}`, all
//! strings. It answers the seed's JSON form, echoing the question:
//!
//! ```json
//! {"code": "200", "msg": "处理成功", "success": true,
//!  "data": {"conversationId": "<dh-conversation-id>", "question": "<dh-question>",
//!           "answer": {"answer": "You asked: <dh-question>",
//!                      "operations": {"tipPhrases": {"phrases": ["yes", "no"]}, "canShowText": 1}},
//!           "intent": "echo", "errorMsg": "", "extra": "{}"}}
//! ```
//!
//! or, when the request's `Accept` header prefers `text/event-stream` (it is the first type
//! listed), the same text as server-sent events `data: {"answer": "...", "isEnd": bool}` in a few
//! chunks. A malformed body (or one over [`MAX_BODY_BYTES`]) gets 400 `{"code": "400", "msg",
//! "success": false, "field"}` naming the field; another method gets 405 in the same shape. With a
//! shared secret, a missing `Authorization: Bearer` is 401 and a wrong one 403 (the scheme is
//! case-insensitive; the secret is compared in constant time).
//! `agentproof serve-webhook` runs it; it is the default target of `agentproof webhook`.

use crate::bearer::{bearer_token, same_secret};
use crate::server::MockServer;
use crate::Limits;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the reference webhook behaves.
#[derive(Debug, Clone, Default)]
pub struct VendorConfig {
    /// When set, requests need `Authorization: Bearer <secret>`: missing → 401, wrong → 403.
    pub shared_secret: Option<String>,
    /// Waits this long before answering (to try the platform's timeout and latency checks).
    pub answer_delay_ms: u64,
}

/// The webhook's fields; all strings, the first four required and non-empty.
const REQUIRED: [&str; 4] = ["sid", "dh-code", "dh-question", "dh-conversation-id"];
const OPTIONAL: &str = "dh-context";
/// Largest body read: a platform question is at most 16 KiB, its `dh-context` ten turns.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The router: `POST /` and `POST /<any path>`, bodies up to [`MAX_BODY_BYTES`].
pub fn router(config: VendorConfig) -> Router {
    router_with_body_limit(config, MAX_BODY_BYTES)
}

/// The router, reading bodies up to `max_body_bytes` (a larger one gets 400, "length limit
/// exceeded").
fn router_with_body_limit(config: VendorConfig, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", post(answer))
        .route("/{*path}", post(answer))
        .method_not_allowed_fallback(|| async {
            Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "only POST is answered",
                None,
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Arc::new(config))
}

/// Serves the reference webhook on `addr`; its URL is [`MockServer::url`] (any path works).
pub async fn start(config: VendorConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
    MockServer::start(router(config), addr).await
}

/// Like [`start`], holding `agentproof mock`'s `[limits]` as the platform servers do: the
/// header-read timeout, the head size and the connection cap, and `max_body_bytes` for bodies.
pub async fn start_with_limits(
    config: VendorConfig,
    addr: SocketAddr,
    limits: &Limits,
) -> std::io::Result<MockServer> {
    let router = router_with_body_limit(config, limits.max_body_bytes);
    MockServer::start_with_limits(router, addr, limits).await
}

async fn answer(
    State(config): State<Arc<VendorConfig>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = authorize(&config, &headers) {
        return refused.into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let msg = format!("body cannot be read: {}", e.body_text());
            return Refusal::new(StatusCode::BAD_REQUEST, msg, None).into_response();
        }
    };
    let request = match read_request(&body) {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    tokio::time::sleep(Duration::from_millis(config.answer_delay_ms)).await;
    let question = request["dh-question"].as_str().unwrap_or_default();
    let conversation = request["dh-conversation-id"].as_str().unwrap_or_default();
    let text = format!("You asked: {question}");
    if prefers_event_stream(&headers) {
        return event_stream(&text);
    }
    Json(json!({
        "code": "200", "msg": "处理成功", "success": true,
        "data": {
            "conversationId": conversation, "question": question,
            "answer": {"answer": text, "operations": {"tipPhrases": {"phrases": ["yes", "no"]}, "canShowText": 1}},
            "intent": "echo", "errorMsg": "", "extra": "{}",
        },
    }))
    .into_response()
}

/// Why a request was not answered: the status, and the body's `msg` and `field`.
struct Refusal {
    status: StatusCode,
    msg: String,
    field: Option<&'static str>,
}

impl Refusal {
    fn new(status: StatusCode, msg: impl Into<String>, field: Option<&'static str>) -> Self {
        Self {
            status,
            msg: msg.into(),
            field,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let code = self.status.as_u16().to_string();
        let body = json!({"code": code, "msg": self.msg, "success": false, "field": self.field});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme the client should use.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"duix-webhook\""),
            );
        }
        response
    }
}

fn authorize(config: &VendorConfig, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(secret) = &config.shared_secret else {
        return Ok(());
    };
    let given = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    match given.and_then(bearer_token) {
        None => Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "Authorization: Bearer <secret> is required",
            None,
        )),
        Some(token) if same_secret(token, secret.as_bytes()) => Ok(()),
        Some(_) => Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "the bearer secret is wrong",
            None,
        )),
    }
}

/// The body as a JSON object with the seed's fields, or a 400 naming the first bad one.
fn read_request(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    let bad = |msg: String, field: Option<&'static str>| {
        Refusal::new(StatusCode::BAD_REQUEST, msg, field)
    };
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(bad("body must be a JSON object".into(), None)),
        Err(e) => return Err(bad(format!("body is not JSON: {e}"), None)),
    };
    for field in REQUIRED {
        match object.get(field) {
            None => {
                return Err(bad(
                    format!("missing required field `{field}`"),
                    Some(field),
                ))
            }
            Some(Value::String(s)) if s.is_empty() => {
                return Err(bad(
                    format!("field `{field}` must not be empty"),
                    Some(field),
                ))
            }
            Some(Value::String(_)) => {}
            Some(_) => {
                return Err(bad(
                    format!("field `{field}` must be a string"),
                    Some(field),
                ))
            }
        }
    }
    if object.get(OPTIONAL).is_some_and(|v| !v.is_string()) {
        let msg = format!("field `{OPTIONAL}` must be a string (stringified JSON)");
        return Err(bad(msg, Some(OPTIONAL)));
    }
    Ok(object)
}

/// Whether the first media type of `Accept` is `text/event-stream`.
fn prefers_event_stream(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept.split(',').next().unwrap_or("");
    first
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("text/event-stream")
}

/// The text in up to three chunks of whole words, the last one `isEnd: true`.
fn event_stream(text: &str) -> Response {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    let per_chunk = words.len().div_ceil(3).max(1);
    let chunks: Vec<String> = words.chunks(per_chunk).map(|c| c.concat()).collect();
    let last = chunks.len().saturating_sub(1);
    let events: Vec<Result<String, std::convert::Infallible>> = chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            Ok(format!(
                "data: {}\n\n",
                json!({"answer": chunk, "isEnd": i == last})
            ))
        })
        .collect();
    let body = Body::from_stream(futures_util::stream::iter(events));
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_must_list_event_stream_first() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, "text/event-stream".parse().unwrap());
        assert!(prefers_event_stream(&headers));
        headers.insert(
            header::ACCEPT,
            "application/json, text/event-stream".parse().unwrap(),
        );
        assert!(!prefers_event_stream(&headers));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        assert!(read_request(
            br#"{"sid":"1","dh-code":"c","dh-question":"q","dh-conversation-id":"x"}"#
        )
        .is_ok());
        let missing = read_request(br#"{"sid":"1","dh-code":"c","dh-question":"q"}"#).unwrap_err();
        assert_eq!(missing.status, StatusCode::BAD_REQUEST);
        assert_eq!(missing.field, Some("dh-conversation-id"));
        assert!(read_request(b"[]").is_err());
        assert!(read_request(br#"{"sid":1}"#).is_err());
    }
}
