//! `describeAIAgentInstance`, `stopAIAgentInstance`, `updateAIAgentInstance`: one ICE call each,
//! on an instance started earlier.

use super::{json_text, params, respond, AppState, Fields, MAX_ID_CHARS};
use crate::aui::envelope::{success, AuiError};
use crate::aui::state::AuiState;
use axum::body::Bytes;
use axum::response::Response;
use serde_json::{json, Value};

/// `POST /api/v2/aiagent/describeAIAgentInstance` `{user_id, ai_agent_instance_id, region?}` →
/// `{code, message, request_id, call_log_url, runtime_config, status, template_config, user_data,
/// agent_config}`, the three configs as JSON text (seed 001).
pub async fn describe_ai_agent_instance(state: AppState, body: Bytes) -> Response {
    respond(describe(&state, &body).await)
}

async fn describe(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    fields.user_id(true)?;
    let instance_id = fields.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    let region = fields.region(false)?;
    let query = params([("InstanceId", instance_id.map(str::to_string))]);
    let answer = state
        .upstream
        .call("DescribeAIAgentInstance", region, &query)
        .await?;
    let instance = match answer.0.get("Instance") {
        Some(Value::Object(instance)) => instance,
        _ => {
            return Err(AuiError::upstream_bad_response(
                "the answer has no Instance object",
            ))
        }
    };
    Ok(success(json!({
        "message": "success",
        "request_id": answer.request_id(),
        "call_log_url": json_text(instance.get("CallLogUrl")),
        "runtime_config": json_text(instance.get("RuntimeConfig")),
        "status": json_text(instance.get("Status")),
        "template_config": json_text(instance.get("TemplateConfig")),
        "user_data": json_text(instance.get("UserData")),
        "agent_config": json_text(instance.get("AgentConfig")),
    })))
}

/// `POST /api/v2/aiagent/stopAIAgentInstance` `{ai_agent_instance_id, region?}` →
/// `{code, result: true, request_id}`.
pub async fn stop_ai_agent_instance(state: AppState, body: Bytes) -> Response {
    respond(stop(&state, &body).await)
}

async fn stop(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let instance_id = fields.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    let region = fields.region(false)?;
    let query = params([("InstanceId", instance_id.map(str::to_string))]);
    let answer = state
        .upstream
        .call("StopAIAgentInstance", region, &query)
        .await?;
    Ok(success(
        json!({"result": true, "request_id": answer.request_id()}),
    ))
}

/// `POST /api/v2/aiagent/updateAIAgentInstance`
/// `{ai_agent_instance_id, template_config, user_data?, region?}` → `{code, result: true, request_id}`.
///
/// `template_config` is merged by ICE into the running agent's configuration.
pub async fn update_ai_agent_instance(state: AppState, body: Bytes) -> Response {
    respond(update(&state, &body).await)
}

async fn update(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let instance_id = fields.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    let template_config = fields.json_object("template_config", true)?;
    let user_data = fields.user_data()?;
    let region = fields.region(false)?;
    let query = params([
        ("InstanceId", instance_id.map(str::to_string)),
        ("TemplateConfig", template_config),
        ("UserData", user_data),
    ]);
    let answer = state
        .upstream
        .call("UpdateAIAgentInstance", region, &query)
        .await?;
    Ok(success(
        json!({"result": true, "request_id": answer.request_id()}),
    ))
}
