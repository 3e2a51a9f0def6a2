//! `startAIAgentInstance` and `startAIAgentInstanceWithChannel`: the app server makes the agent's
//! RTC identity (a user id and a 7-day token) and asks ICE to start the agent in the channel.
//!
//! `RuntimeConfig` is sent in the nested form the Java server sends (PROTOCOLS.md §3.2): one key,
//! the workflow type, whose value is the JSON *text* of `{AgentUserId, ChannelId, AuthToken}`, e.g.
//! `{"VoiceChat":"{\"AgentUserId\":\"…\",\"ChannelId\":\"…\",\"AuthToken\":\"…\"}"}`.

use super::{params, respond, AppState, Fields, MAX_ID_CHARS, MAX_SESSION_ID_CHARS};
use crate::aui::config::Workflow;
use crate::aui::envelope::{success, AuiError};
use crate::aui::state::AuiState;
use axum::body::Bytes;
use axum::response::Response;
use protocol::aui::{new_channel_id, rtc_token, AGENT_TOKEN_TTL_SECS, CLIENT_TOKEN_TTL_SECS};
use serde_json::json;

/// `POST /api/v2/aiagent/startAIAgentInstance`
/// `{user_id, workflow_type, template_config?, user_data?, session_id?, chat_sync_config?}` →
/// `{code, ai_agent_instance_id, rtc_auth_token, ai_agent_user_id, channel_id, request_id}`.
///
/// The server makes a fresh channel, the client's 24-hour token for `user_id` in it, and the agent
/// configured for the workflow type (`AuiConfig.agents`).
pub async fn start_ai_agent_instance(state: AppState, body: Bytes) -> Response {
    respond(start_in_new_channel(&state, &body).await)
}

async fn start_in_new_channel(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let user_id = fields.user_id(true)?.unwrap_or_default();
    let workflow = fields.workflow(true)?.unwrap_or(Workflow::VoiceChat);
    let extras = Extras::read(&fields)?;
    let channel_id = new_channel_id();
    let client_expiry = state.now_secs() + CLIENT_TOKEN_TTL_SECS;
    let client_token = rtc_token(
        &state.config.app_id,
        &state.config.app_key,
        &channel_id,
        user_id,
        client_expiry,
    );
    let agent_id = state.config.agents.for_workflow(workflow).to_string();
    let started = start_agent(state, &agent_id, workflow, &channel_id, None, extras).await?;
    Ok(success(json!({
        "ai_agent_instance_id": started.instance_id,
        "rtc_auth_token": client_token,
        "ai_agent_user_id": started.agent_user_id,
        "channel_id": channel_id,
        "request_id": started.request_id,
    })))
}

/// `POST /api/v2/aiagent/startAIAgentInstanceWithChannel`
/// `{user_id, ai_agent_id, channel_id, workflow_type, region, template_config?, user_data?,
/// session_id?, chat_sync_config?}` → `{code, ai_agent_instance_id, ai_agent_user_id, request_id}`.
///
/// The client already has a channel (and its own token); only the agent joins it.
pub async fn start_ai_agent_instance_with_channel(state: AppState, body: Bytes) -> Response {
    respond(start_in_given_channel(&state, &body).await)
}

async fn start_in_given_channel(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    fields.user_id(true)?;
    let agent_id = fields
        .id("ai_agent_id", MAX_ID_CHARS, true)?
        .unwrap_or_default()
        .to_string();
    let channel_id = fields.channel_id(true)?.unwrap_or_default().to_string();
    let workflow = fields.workflow(true)?.unwrap_or(Workflow::VoiceChat);
    let region = fields.region(true)?;
    let extras = Extras::read(&fields)?;
    let started = start_agent(state, &agent_id, workflow, &channel_id, region, extras).await?;
    Ok(success(json!({
        "ai_agent_instance_id": started.instance_id,
        "ai_agent_user_id": started.agent_user_id,
        "request_id": started.request_id,
    })))
}

/// The optional fields both routes pass to ICE unchanged.
struct Extras {
    template_config: Option<String>,
    user_data: Option<String>,
    session_id: Option<String>,
    chat_sync_config: Option<String>,
}

impl Extras {
    fn read(fields: &Fields) -> Result<Extras, AuiError> {
        Ok(Extras {
            template_config: fields.json_object("template_config", false)?,
            user_data: fields.user_data()?,
            session_id: fields
                .id("session_id", MAX_SESSION_ID_CHARS, false)?
                .map(str::to_string),
            chat_sync_config: fields.json_object("chat_sync_config", false)?,
        })
    }
}

struct Started {
    instance_id: String,
    agent_user_id: String,
    request_id: String,
}

/// Gives the agent a user id and a 7-day token in `channel_id`, and calls `StartAIAgentInstance`.
async fn start_agent(
    state: &AuiState,
    agent_id: &str,
    workflow: Workflow,
    channel_id: &str,
    region: Option<&str>,
    extras: Extras,
) -> Result<Started, AuiError> {
    let agent_user_id = new_channel_id();
    let expiry = state.now_secs() + AGENT_TOKEN_TTL_SECS;
    let agent_token = rtc_token(
        &state.config.app_id,
        &state.config.app_key,
        channel_id,
        &agent_user_id,
        expiry,
    );
    let runtime_config = runtime_config(workflow, &agent_user_id, channel_id, &agent_token);
    let query = params([
        ("AIAgentId", Some(agent_id.to_string())),
        ("RuntimeConfig", Some(runtime_config)),
        ("TemplateConfig", extras.template_config),
        ("UserData", extras.user_data),
        ("SessionId", extras.session_id),
        ("ChatSyncConfig", extras.chat_sync_config),
    ]);
    let answer = state
        .upstream
        .call("StartAIAgentInstance", region, &query)
        .await?;
    Ok(Started {
        instance_id: answer.str("InstanceId")?,
        agent_user_id,
        request_id: answer.request_id(),
    })
}

/// `{"<workflow>": "<JSON text of {AgentUserId, ChannelId, AuthToken}>"}`, as the Java server
/// builds it with fastjson.
pub fn runtime_config(
    workflow: Workflow,
    agent_user_id: &str,
    channel_id: &str,
    token: &str,
) -> String {
    let inner = json!({"AgentUserId": agent_user_id, "ChannelId": channel_id, "AuthToken": token});
    let mut outer = serde_json::Map::new();
    outer.insert(workflow.as_str().to_string(), inner.to_string().into());
    serde_json::Value::Object(outer).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn runtime_config_nests_the_agent_identity_as_text_under_the_workflow() {
        let text = runtime_config(Workflow::AvatarChat3D, "agent1", "ch1", "tok");
        let outer: Value = serde_json::from_str(&text).unwrap();
        let inner: Value = serde_json::from_str(outer["AvatarChat3D"].as_str().unwrap()).unwrap();
        assert_eq!(
            inner,
            json!({"AgentUserId": "agent1", "ChannelId": "ch1", "AuthToken": "tok"})
        );
    }
}
