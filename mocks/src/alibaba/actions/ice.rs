//! ICE 2020-11-09: AI-agent instances (start, stop, update, describe), GenerateAIAgentCall and
//! GenerateMessageChatToken.
//!
//! Instances get a 32-hex `InstanceId`, `Executing` until stopped, then `Finished`; times are the
//! virtual clock's, rendered as ICE does (`2025-07-18T06:39:08.000+00:00`). An unknown
//! InstanceId is `NotFound` (404); updating a finished instance is `IncorrectInstanceStatus`
//! (400); stopping a finished one succeeds again. Tokens are shaped like the real ones (an ARTC
//! token for calls, `acet…` / `AK-…` / `H4sI…` for message chat) and signed with the mock's own
//! RTC app ([`ICE_RTC_APP_ID`], [`ICE_RTC_APP_KEY`]).

use super::{Action, ActionContext, Params};
use crate::alibaba::state::{merged, Instance, InstanceStatus, State};
use crate::alibaba::validate::ice as rules;
use base64::{engine::general_purpose::STANDARD, Engine};
use protocol::alibaba::timestamp::format_ice;
use protocol::alibaba::ApiError;
use protocol::aui::{new_channel_id, rtc_token, AGENT_TOKEN_TTL_SECS};
use serde_json::{json, Map, Value};

/// The RTC app the mock's ICE signs call tokens for.
pub const ICE_RTC_APP_ID: &str = "agentproof-ice-app";
/// Its key (a demo value, not a secret).
pub const ICE_RTC_APP_KEY: &str = "agentproof-ice-app-key";
/// Longest `Expire` GenerateAIAgentCall and GenerateMessageChatToken accept (7 days).
pub const MAX_EXPIRE_SECS: i64 = 604_800;
const DEFAULT_EXPIRE_SECS: i64 = 3600;

pub fn handle(
    action: Action,
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    match action {
        Action::StartAIAgentInstance => start(params, state, ctx),
        Action::StopAIAgentInstance => stop(params, state, ctx),
        Action::UpdateAIAgentInstance => update(params, state, ctx),
        Action::DescribeAIAgentInstance => describe(params, state, ctx),
        Action::GenerateAIAgentCall => generate_call(params, state, ctx),
        _ => message_chat_token(params, ctx),
    }
}

/// The optional fields StartAIAgentInstance and GenerateAIAgentCall share.
fn new_instance(
    params: &Params,
    runtime_config: Map<String, Value>,
    now_ms: i64,
) -> Result<Instance, ApiError> {
    if let Some(sync) = params.object("ChatSyncConfig")? {
        rules::chat_sync_config(&sync)?;
    }
    Ok(Instance {
        ai_agent_id: params.required("AIAgentId")?.to_string(),
        status: InstanceStatus::Executing,
        runtime_config,
        template_config: params.object("TemplateConfig")?.unwrap_or_default(),
        agent_config: params.object("AgentConfig")?.unwrap_or_default(),
        user_data: params.get("UserData").unwrap_or("").to_string(),
        session_id: params.get("SessionId").unwrap_or("").to_string(),
        created_ms: now_ms,
        modified_ms: now_ms,
        conversation: Default::default(),
    })
}

fn new_instance_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn start(params: &Params, state: &mut State, ctx: &ActionContext<'_>) -> Result<Value, ApiError> {
    params.required("AIAgentId")?;
    let mut runtime = params
        .object("RuntimeConfig")?
        .ok_or_else(|| ApiError::missing_parameter("RuntimeConfig"))?;
    rules::runtime_config(&mut runtime)?;
    let instance = new_instance(params, runtime, ctx.now_ms)?;
    let id = new_instance_id();
    state.instances.insert(id.clone(), instance);
    Ok(json!({"InstanceId": id}))
}

fn find<'a>(params: &Params, state: &'a mut State) -> Result<&'a mut Instance, ApiError> {
    let id = params.required("InstanceId")?;
    state
        .instances
        .get_mut(&id.to_string())
        .ok_or_else(|| ApiError::not_found("InstanceId", id))
}

fn stop(params: &Params, state: &mut State, ctx: &ActionContext<'_>) -> Result<Value, ApiError> {
    let instance = find(params, state)?;
    if instance.status == InstanceStatus::Executing {
        instance.status = InstanceStatus::Finished;
        instance.modified_ms = ctx.now_ms;
    }
    Ok(json!({}))
}

/// TemplateConfig (and AgentConfig) are merged into the running ones, UserData replaced,
/// GmtModified bumped.
fn update(params: &Params, state: &mut State, ctx: &ActionContext<'_>) -> Result<Value, ApiError> {
    let patch = params.object("TemplateConfig")?;
    let agent_patch = params.object("AgentConfig")?;
    let user_data = params.get("UserData").map(str::to_string);
    let instance = find(params, state)?;
    if instance.status == InstanceStatus::Finished {
        let message = "The instance is finished; only an executing instance can be updated.";
        return Err(ApiError::new("IncorrectInstanceStatus", 400, message));
    }
    // Both merges are checked before either is kept: a refused update changes nothing.
    let template = match patch {
        Some(patch) => Some(merged(&instance.template_config, patch, "TemplateConfig")?),
        None => None,
    };
    let agent = match agent_patch {
        Some(patch) => Some(merged(&instance.agent_config, patch, "AgentConfig")?),
        None => None,
    };
    if let Some(template) = template {
        instance.template_config = template;
    }
    if let Some(agent) = agent {
        instance.agent_config = agent;
    }
    if let Some(user_data) = user_data {
        instance.user_data = user_data;
    }
    instance.modified_ms = ctx.now_ms;
    Ok(json!({}))
}

/// `CallLogUrl` is the mock's own call log of the instance (`GET /__admin/agents/{id}`) once it
/// has conversed through `say`, empty before.
fn describe(
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    let id = params.required("InstanceId")?.to_string();
    let i = find(params, state)?;
    let call_log = match (ctx.host, i.conversation.calls().next()) {
        (Some(host), Some(_)) => format!("http://{host}/__admin/agents/{id}"),
        _ => String::new(),
    };
    Ok(json!({"Instance": {
        "AgentConfig": i.agent_config,
        "CallLogUrl": call_log,
        "GmtCreate": format_ice(i.created_ms),
        "GmtModified": format_ice(i.modified_ms),
        "RuntimeConfig": i.runtime_config,
        "SessionId": i.session_id,
        "Status": i.status.as_str(),
        "TemplateConfig": i.template_config,
        "UserData": i.user_data,
    }}))
}

/// Makes a channel, an agent user and an instance in it, and the caller's token.
fn generate_call(
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    params.required("AIAgentId")?;
    let expire = params.int_in("Expire", DEFAULT_EXPIRE_SECS, 0, MAX_EXPIRE_SECS)?;
    let user_id = match params.optional("UserId") {
        Some(id) => {
            rules::call_user_id(id)?;
            id.to_string()
        }
        None => format!("user_{}", &new_instance_id()[..12]),
    };
    let channel_id = new_channel_id();
    let agent_user_id = format!("agent_{}", &new_instance_id()[..12]);
    let now_secs = ctx.now_ms.div_euclid(1000);
    let agent_token = rtc_token(
        ICE_RTC_APP_ID,
        ICE_RTC_APP_KEY,
        &channel_id,
        &agent_user_id,
        now_secs + AGENT_TOKEN_TTL_SECS,
    );
    let runtime =
        json!({"AgentUserId": agent_user_id, "ChannelId": channel_id, "AuthToken": agent_token});
    let runtime = runtime.as_object().cloned().unwrap_or_default();
    let instance = new_instance(params, runtime, ctx.now_ms)?;
    let id = new_instance_id();
    state.instances.insert(id.clone(), instance);
    Ok(json!({
        "AIAgentUserId": agent_user_id,
        "ChannelId": channel_id,
        "InstanceId": id,
        "Token": rtc_token(ICE_RTC_APP_ID, ICE_RTC_APP_KEY, &channel_id, &user_id, now_secs + expire),
        "UserId": user_id,
    }))
}

/// Stateless: the token is shaped like ICE's and carries the expiry in `TimeStamp`.
fn message_chat_token(params: &Params, ctx: &ActionContext<'_>) -> Result<Value, ApiError> {
    let agent_id = params.required("AIAgentId")?;
    let user_id = params.required("UserId")?;
    rules::chat_user_id(user_id)?;
    let role = params.get("Role").unwrap_or("");
    if role.len() > 64 {
        return Err(ApiError::invalid_parameter(
            "Role",
            "must be at most 64 bytes",
        ));
    }
    let expire = params.int_in("Expire", DEFAULT_EXPIRE_SECS, 1, MAX_EXPIRE_SECS)?;
    let timestamp = ctx.now_ms.div_euclid(1000) + expire;
    let nonce = format!("AK-{}", uuid::Uuid::new_v4());
    let seal = format!("{agent_id}:{user_id}:{role}:{timestamp}:{nonce}");
    Ok(json!({
        "AppId": ICE_RTC_APP_ID,
        "AppSign": format!("H4sI{}", STANDARD.encode(seal.as_bytes())),
        "Nonce": nonce,
        "Role": role,
        "TimeStamp": timestamp,
        "Token": format!("acet{}", protocol::alibaba::v3::hash_payload(seal.as_bytes())),
        "UserId": user_id,
    }))
}
