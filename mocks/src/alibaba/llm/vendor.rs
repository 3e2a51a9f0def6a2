//! A reference LLM endpoint: what a vendor's "self-developed LLM (OpenAI specification)" answers
//! an Alibaba agent (PROTOCOLS.md §6). `agentproof serve-llm` runs it, `agentproof mock` starts it
//! beside the platforms, and it is the default target of `agentproof llm`: it passes every rule.
//!
//! `POST <any prefix>/chat/completions` with the OpenAI chat-completions body. The answer is
//! deterministic: it repeats the last user record and counts the turn (`You said: "hi" (turn
//! 2).`, in Chinese when the utterance is), streamed as `chat.completion.chunk` events, a word
//! (or a CJK character) per chunk: first the `role` chunk, then the content, a last chunk with
//! `finish_reason` (`stop`, or `length` when `max_tokens` cut it), then `data: [DONE]`.
//! [`VendorConfig::first_token_delay_ms`] is waited before the first content chunk and
//! [`VendorConfig::token_delay_ms`] between chunks, to rehearse a slow model. `stream: false`
//! gets the whole `chat.completion` as JSON, as OpenAI answers it.
//!
//! Refusals follow OpenAI: `{"error": {"message", "type", "param", "code"}}` (the
//! `alibaba/llm.error` schema). With an API key, a missing or wrong `Authorization: Bearer` is
//! 401 (`invalid_api_key`; the key is compared in constant time). A body that is not a JSON
//! object, `messages` missing, not an array, empty or with a record that is not
//! `{role: system|user|assistant|tool, content: string|array|null}`, `model` missing, or a
//! sampling field of the wrong type or range is 400 naming the field. Another path is 404,
//! another method 405. `extendData` is read only to be optional: the platform sends it, other
//! clients (the `openai` package) do not.

use crate::bearer::{bearer_token, same_secret};
use crate::server::MockServer;
use crate::Limits;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use protocol::alibaba::llm::CHAT_COMPLETIONS;
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the reference endpoint behaves.
#[derive(Debug, Clone, Default)]
pub struct VendorConfig {
    /// When set, requests need `Authorization: Bearer <api_key>` (401 otherwise).
    pub api_key: Option<String>,
    /// Waited before the first content chunk (time to first token).
    pub first_token_delay_ms: u64,
    /// Waited between content chunks.
    pub token_delay_ms: u64,
}

/// Largest body read: twenty records and a system prompt fit many times over.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The `model` the answers name when the request's is not a string (never, once validated).
const FALLBACK_MODEL: &str = "agentproof-reference";

/// The router: `POST <any prefix>/chat/completions`.
pub fn router(config: VendorConfig) -> Router {
    router_with_body_limit(config, MAX_BODY_BYTES)
}

fn router_with_body_limit(config: VendorConfig, max_body_bytes: usize) -> Router {
    Router::new()
        .fallback(serve)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Arc::new(config))
}

/// Serves the reference endpoint on `addr`; its base URL (what the platform is configured with)
/// is [`base_url`] of the server.
pub async fn start(config: VendorConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
    MockServer::start(router(config), addr).await
}

/// Like [`start`], holding `agentproof mock`'s `[limits]` as the platform servers do.
pub async fn start_with_limits(
    config: VendorConfig,
    addr: SocketAddr,
    limits: &Limits,
) -> std::io::Result<MockServer> {
    let router = router_with_body_limit(config, limits.max_body_bytes);
    MockServer::start_with_limits(router, addr, limits).await
}

/// The base URL to configure: the server's URL and `/v1` (any prefix works).
pub fn base_url(server: &MockServer) -> String {
    format!("{}/v1", server.url())
}

async fn serve(
    State(config): State<Arc<VendorConfig>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !uri.path().ends_with(CHAT_COMPLETIONS) {
        let message = format!("no route {}: POST <base URL>/chat/completions", uri.path());
        return Refusal::new(StatusCode::NOT_FOUND, "invalid_request_error", message)
            .into_response();
    }
    if method != Method::POST {
        let message = "only POST is answered on /chat/completions";
        return Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            message,
        )
        .into_response();
    }
    if let Err(refused) = authorize(&config, &headers) {
        return refused.into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            let message = format!("the body cannot be read: {}", e.body_text());
            return Refusal::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
                .into_response();
        }
    };
    match read_request(&body) {
        Ok(request) => answer(&config, &request),
        Err(refused) => refused.into_response(),
    }
}

/// An OpenAI error answer.
struct Refusal {
    status: StatusCode,
    kind: &'static str,
    message: String,
    param: Option<&'static str>,
    code: Option<&'static str>,
}

impl Refusal {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            kind,
            message: message.into(),
            param: None,
            code: None,
        }
    }

    fn bad(param: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            param: Some(param),
            ..Refusal::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message, "type": self.kind, "param": self.param, "code": self.code,
        }});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"llm\""),
            );
        }
        response
    }
}

fn authorize(config: &VendorConfig, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(key) = &config.api_key else {
        return Ok(());
    };
    let given = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let message = match given.and_then(bearer_token) {
        Some(token) if same_secret(token, key.as_bytes()) => return Ok(()),
        Some(_) => "Incorrect API key provided.",
        None => "You didn't provide an API key: send Authorization: Bearer <key>.",
    };
    Err(Refusal {
        code: Some("invalid_api_key"),
        ..Refusal::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
    })
}

/// The roles a record may have.
const ROLES: &[&str] = &["system", "user", "assistant", "tool", "developer"];

/// The body as a chat-completions request, or a 400 naming the first bad field.
fn read_request(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    let request = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(request)) => request,
        Ok(_) => return Err(Refusal::bad("body", "the body must be a JSON object")),
        Err(e) => return Err(Refusal::bad("body", format!("the body is not JSON: {e}"))),
    };
    let messages = match request.get("messages") {
        None => {
            return Err(Refusal::bad(
                "messages",
                "missing required parameter: 'messages'",
            ))
        }
        Some(Value::Array(m)) if m.is_empty() => {
            return Err(Refusal::bad(
                "messages",
                "'messages' must have at least 1 record",
            ))
        }
        Some(Value::Array(m)) => m,
        Some(_) => return Err(Refusal::bad("messages", "'messages' must be an array")),
    };
    for (i, record) in messages.iter().enumerate() {
        let role = record.get("role").and_then(Value::as_str);
        if !role.is_some_and(|r| ROLES.contains(&r)) {
            let message = format!("messages[{i}].role must be one of {ROLES:?}");
            return Err(Refusal::bad("messages", message));
        }
        if !matches!(
            record.get("content"),
            Some(Value::String(_) | Value::Array(_) | Value::Null)
        ) {
            let message = format!("messages[{i}].content must be a string or an array of parts");
            return Err(Refusal::bad("messages", message));
        }
    }
    if !request.get("model").is_some_and(Value::is_string) {
        return Err(Refusal::bad(
            "model",
            "missing required parameter: 'model' (a string)",
        ));
    }
    sampling_problem(&request)?;
    Ok(request)
}

/// `max_tokens` a positive integer, `temperature` in [0, 2], `top_p` in [0, 1], `stream` a
/// boolean, each when present.
fn sampling_problem(request: &Map<String, Value>) -> Result<(), Refusal> {
    let number = |name| request.get(name).filter(|v| !v.is_null());
    if let Some(v) = number("max_tokens") {
        if v.as_i64().is_none_or(|n| n < 1) {
            return Err(Refusal::bad(
                "max_tokens",
                "'max_tokens' must be an integer of at least 1",
            ));
        }
    }
    for (name, max) in [("temperature", 2.0), ("top_p", 1.0)] {
        if let Some(v) = number(name) {
            if !v.as_f64().is_some_and(|x| (0.0..=max).contains(&x)) {
                let message = format!("'{name}' must be a number in [0, {max}]");
                return Err(Refusal::bad(name, message));
            }
        }
    }
    if number("stream").is_some_and(|v| !v.is_boolean()) {
        return Err(Refusal::bad("stream", "'stream' must be a boolean"));
    }
    Ok(())
}

/// The deterministic answer to `request`, streamed or whole.
fn answer(config: &VendorConfig, request: &Map<String, Value>) -> Response {
    let model = request["model"]
        .as_str()
        .unwrap_or(FALLBACK_MODEL)
        .to_string();
    let text = reply_text(&request["messages"]);
    let mut tokens = tokens(&text);
    let limit = request.get("max_tokens").and_then(Value::as_u64);
    let finish = match limit.and_then(|n| usize::try_from(n).ok()) {
        Some(n) if n < tokens.len() => {
            tokens.truncate(n);
            "length"
        }
        _ => "stop",
    };
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if request.get("stream") != Some(&Value::Bool(true)) {
        let whole = json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": tokens.concat()}, "finish_reason": finish}],
        });
        return Json(whole).into_response();
    }
    let chunk = |delta: Value, finish: Option<&str>| {
        let chunk = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    };
    let mut events = vec![(0, chunk(json!({"role": "assistant", "content": ""}), None))];
    for (i, token) in tokens.iter().enumerate() {
        let wait = if i == 0 {
            config.first_token_delay_ms
        } else {
            config.token_delay_ms
        };
        events.push((wait, chunk(json!({"content": token}), None)));
    }
    events.push((0, chunk(json!({}), Some(finish))));
    events.push((0, "data: [DONE]\n\n".to_string()));
    event_stream(events)
}

/// The events, each sent after its wait.
fn event_stream(events: Vec<(u64, String)>) -> Response {
    let stream = futures_util::stream::unfold(events.into_iter(), |mut events| async move {
        let (wait, event) = events.next()?;
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        Some((Ok::<_, std::convert::Infallible>(event), events))
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// `You said: "<last user text>" (turn <user records>).`, or its Chinese form.
fn reply_text(messages: &Value) -> String {
    let records = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    let user: Vec<&Value> = records.iter().filter(|m| m["role"] == "user").collect();
    let last = user
        .last()
        .map_or(String::new(), |m| content_text(&m["content"]));
    let turn = user.len();
    if last.chars().any(is_cjk) {
        format!("你说：“{last}”（第{turn}轮）。")
    } else {
        format!("You said: \"{last}\" (turn {turn}).")
    }
}

/// A record's text: the string, or its text parts joined.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// The pieces streamed: a word with its trailing space, or one CJK character.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            tokens.push(c.to_string());
            continue;
        }
        word.push(c);
        if c == ' ' {
            tokens.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_repeats_the_utterance_and_counts_the_turn() {
        let messages = json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "what now?"}
        ]);
        assert_eq!(reply_text(&messages), "You said: \"what now?\" (turn 2).");
        let chinese = json!([{"role": "user", "content": "你好"}]);
        assert_eq!(reply_text(&chinese), "你说：“你好”（第1轮）。");
        assert_eq!(tokens("You said: hi"), ["You ", "said: ", "hi"]);
        assert_eq!(tokens("说hi"), ["说", "hi"]);
    }

    #[tokio::test]
    async fn refusals_and_chunks_keep_their_schemas() {
        let refusal = Refusal::bad("messages", "missing").into_response();
        let body = axum::body::to_bytes(refusal.into_body(), 1 << 20)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            schemas::registry()
                .validate("alibaba/llm.error", &body)
                .is_ok(),
            "{body}"
        );
        let request =
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true});
        let streamed = answer(&VendorConfig::default(), request.as_object().unwrap());
        let body = axum::body::to_bytes(streamed.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
        for data in text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
        {
            let chunk: Value = serde_json::from_str(data).unwrap();
            assert!(
                schemas::registry()
                    .validate("alibaba/llm.chunk", &chunk)
                    .is_ok(),
                "{chunk}"
            );
        }
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let param = |body: &str| read_request(body.as_bytes()).err().and_then(|r| r.param);
        assert_eq!(
            param(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#),
            None
        );
        assert_eq!(param(r#"{"model":"m"}"#), Some("messages"));
        assert_eq!(param(r#"{"model":"m","messages":[]}"#), Some("messages"));
        assert_eq!(
            param(r#"{"model":"m","messages":[{"content":"hi"}]}"#),
            Some("messages")
        );
        assert_eq!(
            param(r#"{"messages":[{"role":"user","content":"hi"}]}"#),
            Some("model")
        );
        let temperature =
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":5}"#;
        assert_eq!(param(temperature), Some("temperature"));
        assert_eq!(param("[]"), Some("body"));
        assert_eq!(param("{"), Some("body"));
    }
}
