//! The admin routes of a conversing agent (the table is in [`super`]).
//!
//! `say` finds the agent (an InstanceId, else the most recently started task with that
//! TaskId), refuses a stopped one (`IncorrectTaskStatus` / `IncorrectInstanceStatus`, 400, as
//! UpdateAgent does) and one without a third-party LLM (`LLMNotConfigured`, 400), builds the
//! call from its [`settings`](super::settings) and [`conversation`](super::conversation) under
//! the state lock, makes it with the lock released, then logs it on the agent. Errors come in
//! the Alibaba envelope, as every admin error of this mock does.

use super::call::{Failure, Reply};
use super::conversation::{CallRecord, Conversation, MAX_UTTERANCE_BYTES};
use super::settings::{self, Settings};
use crate::alibaba::envelope::{self, Format, Origin};
use crate::alibaba::state::{InstanceStatus, State, TaskKey};
use crate::alibaba::{lock, Alibaba};
use crate::platform::RequestId;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use protocol::alibaba::llm::{chat_completion, messages, ChatCall, ExtendData};
use protocol::alibaba::ApiError;
use protocol::request::HttpRequest;
use serde_json::{json, Value};
use std::sync::Arc;

/// `say` and the agent's view, on the Alibaba router.
pub fn routes() -> Router<Arc<Alibaba>> {
    Router::new()
        .route("/__admin/agents/{id}/say", post(say))
        .route("/__admin/agents/{id}", get(show))
}

/// Which agent an id names.
#[derive(Clone)]
enum Agent {
    Task(TaskKey),
    Instance(String),
}

impl Agent {
    fn kind(&self) -> &'static str {
        match self {
            Agent::Task(_) => "rtc",
            Agent::Instance(_) => "ice",
        }
    }
}

/// The instance with this InstanceId, else the task with this TaskId started last.
fn find(state: &State, id: &str) -> Result<Agent, ApiError> {
    if state.instances.get(&id.to_string()).is_some() {
        return Ok(Agent::Instance(id.to_string()));
    }
    state
        .tasks
        .iter()
        .filter(|(key, _)| key.2 == id)
        .max_by_key(|(_, task)| (task.stop_ms.is_none(), task.start_ms))
        .map(|(key, _)| Agent::Task(key.clone()))
        .ok_or_else(|| ApiError::not_found("TaskId or InstanceId", id))
}

fn conversation<'a>(state: &'a mut State, agent: &Agent) -> Option<&'a mut Conversation> {
    match agent {
        Agent::Task(key) => state.tasks.get_mut(key).map(|t| &mut t.conversation),
        Agent::Instance(id) => state.instances.get_mut(id).map(|i| &mut i.conversation),
    }
}

/// What one `say` sends, prepared under the lock.
struct Prepared {
    agent: Agent,
    sentence_id: u64,
    settings: Settings,
    request: HttpRequest,
}

/// Finds a running agent, takes the next sentence id and builds the call.
fn prepare(ab: &Alibaba, id: &str, text: &str) -> Result<Prepared, ApiError> {
    let mut state = lock(&ab.state);
    let agent = find(&state, id)?;
    let (settings, talk) = match &agent {
        Agent::Task(key) => {
            let task = state
                .tasks
                .get_mut(key)
                .ok_or_else(|| ApiError::not_found("TaskId", id))?;
            if task.stop_ms.is_some() {
                let message = format!("Task {id} is stopped; only a running task can converse.");
                return Err(ApiError::new("IncorrectTaskStatus", 400, message));
            }
            (
                settings::of_task(&key.2, &key.1, task, &ab.config.llm)?,
                &mut task.conversation,
            )
        }
        Agent::Instance(key) => {
            let instance = state
                .instances
                .get_mut(key)
                .ok_or_else(|| ApiError::not_found("InstanceId", id))?;
            if instance.status == InstanceStatus::Finished {
                let message = "The instance is finished; only an executing instance can converse.";
                return Err(ApiError::new("IncorrectInstanceStatus", 400, message));
            }
            let settings = settings::of_instance(key, instance, &ab.config.templates)?;
            (settings, &mut instance.conversation)
        }
    };
    let sentence_id = talk.next_sentence();
    let history: Vec<_> = settings
        .preset
        .iter()
        .cloned()
        .chain(talk.history())
        .collect();
    let records = messages(settings.prompt.as_deref(), &history, settings.depth, text);
    let extend_data = ExtendData {
        instance_id: settings.instance_id.clone(),
        channel_id: settings.channel_id.clone(),
        sentence_id,
        user_data: settings.user_data.clone(),
        ..ExtendData::default()
    };
    let request = chat_completion(&ChatCall {
        model: &settings.model,
        messages: &records,
        api_key: settings.api_key.as_deref(),
        sampling: settings.sampling,
        extend_data: &extend_data,
        params: settings.params.as_ref(),
        params_at: settings.params_at,
    });
    Ok(Prepared {
        agent,
        sentence_id,
        settings,
        request,
    })
}

async fn say(
    AxumState(ab): AxumState<Arc<Alibaba>>,
    Extension(request_id): Extension<RequestId>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let refuse = |e: ApiError| refusal(&ab, &request_id, e);
    let text = match utterance(&body) {
        Ok(text) => text,
        Err(e) => return refuse(e),
    };
    let prepared = match prepare(&ab, &id, &text) {
        Ok(prepared) => prepared,
        Err(e) => return refuse(e),
    };
    let shown = shown_request(&prepared.settings.url, &prepared.request);
    let outcome = ab
        .caller
        .call(&prepared.settings.url, prepared.request)
        .await;
    let record = CallRecord::new(
        prepared.sentence_id,
        ab.clock.now_ms(),
        masked_url(&prepared.settings.url),
        &text,
        &outcome,
    );
    if let Some(talk) = conversation(&mut lock(&ab.state), &prepared.agent) {
        if let Ok(reply) = &outcome {
            talk.keep_round(&text, &reply.text);
        }
        talk.log(record);
    }
    let head =
        json!({"agent": id, "kind": prepared.agent.kind(), "sentence_id": prepared.sentence_id});
    answer(head, outcome, shown)
}

/// 200 with the reply, or 502 with the failure; both with the request sent.
fn answer(mut head: Value, outcome: Result<Reply, Failure>, request: Value) -> Response {
    let (status, fields) = match outcome {
        Ok(reply) => (
            StatusCode::OK,
            json!({"ok": true, "text": reply.text, "ttft_ms": reply.ttft_ms,
            "total_ms": reply.total_ms, "chunks": reply.chunks, "finish_reason": reply.finish_reason}),
        ),
        Err(failure) => (
            StatusCode::BAD_GATEWAY,
            json!({"ok": false, "text": failure.partial_text,
            "ttft_ms": failure.ttft_ms, "total_ms": failure.total_ms, "chunks": failure.chunks,
            "error": {"kind": failure.kind, "message": failure.message, "status": failure.status}}),
        ),
    };
    if let (Value::Object(head), Value::Object(fields)) = (&mut head, fields) {
        head.extend(fields);
        head.insert("request".into(), request);
    }
    (status, Json(head)).into_response()
}

/// `{"text": "..."}`: a non-empty string of at most [`MAX_UTTERANCE_BYTES`].
fn utterance(body: &[u8]) -> Result<String, ApiError> {
    let bad = |detail: &str| ApiError::invalid_parameter("text", detail);
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| bad("the body must be JSON: {\"text\": \"what the user said\"}"))?;
    match json.get("text").and_then(Value::as_str) {
        None => Err(bad(
            "a string is required: {\"text\": \"what the user said\"}",
        )),
        Some(t) if t.trim().is_empty() => Err(bad("must not be empty")),
        Some(t) if t.len() > MAX_UTTERANCE_BYTES => {
            Err(bad(&format!("must be at most {MAX_UTTERANCE_BYTES} bytes")))
        }
        Some(t) => Ok(t.to_string()),
    }
}

/// `GET /__admin/agents/{id}`: kind, status, history and call log.
async fn show(
    AxumState(ab): AxumState<Arc<Alibaba>>,
    Extension(request_id): Extension<RequestId>,
    Path(id): Path<String>,
) -> Response {
    let state = lock(&ab.state);
    let agent = match find(&state, &id) {
        Ok(agent) => agent,
        Err(e) => return refusal(&ab, &request_id, e),
    };
    let (status, talk) = match &agent {
        Agent::Task(key) => match state.tasks.get(key) {
            Some(task) if task.stop_ms.is_none() => ("running", &task.conversation),
            Some(task) => ("stopped", &task.conversation),
            None => return refusal(&ab, &request_id, ApiError::not_found("TaskId", &id)),
        },
        Agent::Instance(key) => match state.instances.get(key) {
            Some(instance) => (instance.status.as_str(), &instance.conversation),
            None => return refusal(&ab, &request_id, ApiError::not_found("InstanceId", &id)),
        },
    };
    let calls: Vec<&CallRecord> = talk.calls().collect();
    Json(json!({"agent": id, "kind": agent.kind(), "status": status,
        "history": talk.history(), "calls": calls}))
    .into_response()
}

fn refusal(ab: &Alibaba, request_id: &RequestId, error: ApiError) -> Response {
    let origin = Origin {
        request_id: &request_id.0,
        host_id: ab.host_id(None),
        product: "",
        format: Format::Json,
    };
    envelope::error(&error.into(), &origin)
}

/// The request as `say` shows it: the URL and headers with their secrets masked, the body.
fn shown_request(url: &str, request: &HttpRequest) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = match name.as_str() {
                "authorization" => "Bearer ***".to_string(),
                _ => value.clone(),
            };
            (name.clone(), Value::String(shown))
        })
        .collect();
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    json!({"method": request.method, "url": masked_url(url), "headers": headers, "body": body})
}

/// The URL with its password and the values of query parameters that look like credentials
/// masked.
pub fn masked_url(url: &str) -> String {
    let url = match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    };
    let Some((path, query)) = url.split_once('?') else {
        return url;
    };
    let secret = |key: &str| {
        let key = key.to_ascii_lowercase();
        ["key", "token", "secret", "sig", "auth", "password"]
            .iter()
            .any(|w| key.contains(w))
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if secret(key) => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utterances_are_non_empty_bounded_strings() {
        assert_eq!(utterance(br#"{"text":"hi"}"#).unwrap(), "hi");
        for bad in [&b"{}"[..], br#"{"text":""}"#, br#"{"text":3}"#, b"hi"] {
            let error = utterance(bad).unwrap_err();
            assert_eq!(
                (error.code.as_str(), error.status),
                ("InvalidParameter", 400)
            );
        }
        let long = format!("{{\"text\":\"{}\"}}", "x".repeat(MAX_UTTERANCE_BYTES + 1));
        assert!(utterance(long.as_bytes()).is_err());
    }

    #[test]
    fn keys_in_the_url_are_masked() {
        assert_eq!(
            masked_url("http://h/v1/chat/completions?api-version=1&api-key=sk-1"),
            "http://h/v1/chat/completions?api-version=1&api-key=***"
        );
        assert_eq!(masked_url("http://h/x"), "http://h/x");
        assert_eq!(masked_url("http://u:pw@h/x?a=1"), "http://u:***@h/x?a=1");
    }
}
