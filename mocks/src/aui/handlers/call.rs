//! `generateAIAgentCall`: ICE starts the agent and makes the client's token in one call; the app
//! server only picks the agent and passes the answer on.

use super::token::EXPIRE_RANGE;
use super::{params, respond, AppState, Fields, MAX_ID_CHARS, MAX_SESSION_ID_CHARS};
use crate::aui::config::Workflow;
use crate::aui::envelope::{success, AuiError};
use crate::aui::state::AuiState;
use axum::body::Bytes;
use axum::response::Response;
use serde_json::json;

/// `POST /api/v2/aiagent/generateAIAgentCall`
/// `{ai_agent_id?, expire?, user_id?, template_config, workflow_type?, region?, user_data?,
/// session_id?, chat_sync_config?}` → `{code, rtc_auth_token, ai_agent_id, ai_agent_instance_id,
/// ai_agent_user_id, channel_id, workflow_type, request_id}`.
///
/// Without `ai_agent_id` the agent configured for `workflow_type` is used (`VoiceChat` when that is
/// absent too). Without `user_id` ICE makes one. `template_config` is required, as in the v2.2.0
/// route table; `{}` is enough.
pub async fn generate_ai_agent_call(state: AppState, body: Bytes) -> Response {
    respond(generate(&state, &body).await)
}

async fn generate(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let workflow = fields.workflow(false)?.unwrap_or(Workflow::VoiceChat);
    let agent_id = match fields.id("ai_agent_id", MAX_ID_CHARS, false)? {
        Some(id) => id.to_string(),
        None => state.config.agents.for_workflow(workflow).to_string(),
    };
    let user_id = fields.user_id(false)?;
    let query = params([
        ("AIAgentId", Some(agent_id.clone())),
        (
            "Expire",
            fields.int("expire", EXPIRE_RANGE)?.map(|e| e.to_string()),
        ),
        ("UserId", user_id.map(str::to_string)),
        (
            "TemplateConfig",
            fields.json_object("template_config", true)?,
        ),
        ("UserData", fields.user_data()?),
        (
            "SessionId",
            fields
                .id("session_id", MAX_SESSION_ID_CHARS, false)?
                .map(str::to_string),
        ),
        (
            "ChatSyncConfig",
            fields.json_object("chat_sync_config", false)?,
        ),
    ]);
    let region = fields.region(false)?;
    let answer = state
        .upstream
        .call("GenerateAIAgentCall", region, &query)
        .await?;
    Ok(success(json!({
        "rtc_auth_token": answer.str("Token")?,
        "ai_agent_id": agent_id,
        "ai_agent_instance_id": answer.str("InstanceId")?,
        "ai_agent_user_id": answer.opt_str("AIAgentUserId"),
        "channel_id": answer.str("ChannelId")?,
        "workflow_type": workflow.as_str(),
        "request_id": answer.request_id(),
    })))
}
