//! The Alibaba OpenAPI scenario, `alibaba-openapi`: RTC 2018-01-11 agent tasks and ICE
//! 2020-11-09 AI-agent instances, every call V3-signed with a fresh nonce and date.
//!
//! Journeys (equal weights): an agent task (StartAgent, GetAgent running, UpdateAgent,
//! StopAgent), an AI-agent instance (StartAIAgentInstance, DescribeAIAgentInstance Executing,
//! UpdateAIAgentInstance, StopAIAgentInstance), a call (GenerateAIAgentCall, then its instance
//! stopped) and a message-chat token. Success is HTTP 200 with a `RequestId` and no `Code`.
//!
//! [`llm`] is the other side of an Alibaba agent: its calls to a vendor's LLM (`alibaba-llm`).

pub mod llm;

use crate::aui::custom;
use crate::exchange::{send, Expect};
use crate::{step, unique_id, user_rng, Plan};
use goose::goose::{GooseUser, Scenario, TransactionResult};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::alibaba as call;
use rand::rngs::StdRng;
use serde_json::Value;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const RTC_CONFIG: &str =
    r#"{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}"#;
const VOICE_CHAT_CONFIG: &str = r#"{"ChatMode":1,"InterruptMode":1,"Greeting":"hello","ASRConfig":{"MaxSentenceSilence":800},"TTSConfig":{"Vendor":"aliyun","Model":"cosyvoice-v1","Voice":"longxiaoxia","Volume":50}}"#;
const RUNTIME_CONFIG: &str =
    r#"{"AgentUserId":"agent_1","ChannelId":"channel_1","AuthToken":"token"}"#;

/// Each user's random ids.
#[derive(Clone)]
struct Ids(StdRng);

/// The four journeys with equal weights.
pub fn openapi(plan: &Arc<Plan>) -> Scenario {
    Scenario::new("alibaba-openapi")
        .register_transaction(step!(plan, "agent task", agent_task))
        .register_transaction(step!(plan, "AI-agent instance", agent_instance))
        .register_transaction(step!(plan, "AI-agent call", agent_call))
        .register_transaction(step!(plan, "message chat token", message_chat_token))
}

/// Success: a `RequestId` and no error `Code` (the schema checks the rest).
fn no_code(body: &Value) -> Result<(), String> {
    match body.get("Code") {
        Some(code) => Err(format!("error Code {code} in a 200 answer")),
        None => Ok(()),
    }
}

/// Calls `action` with `params`, V3-signed; the answer's JSON when it is good.
async fn invoke(
    user: &mut GooseUser,
    plan: &Plan,
    action: &'static str,
    params: &[(&str, &str)],
    rule: &(dyn Fn(&Value) -> Result<(), String> + Sync),
) -> Result<Value, crate::exchange::Failure> {
    let base = plan.target("alibaba").map_err(custom)?;
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let key = &plan.credentials.alibaba;
    let date = format_utc(now_ms());
    let nonce = call::fresh_nonce();
    let host = call::host_of(base);
    let request = call::signed(call::Call {
        method: "POST",
        host: &host,
        action,
        version: call::api_version(action),
        params: &params,
        access_key_id: &key.id,
        secret: &key.secret,
        date: &date,
        nonce: &nonce,
    });
    let expect = Expect {
        status: 200,
        schema: schema_of(action),
        success: rule,
        sse_event: None,
    };
    send(user, plan, base, request, &expect).await
}

/// `alibaba/<Action>.response`, as a static name.
fn schema_of(action: &str) -> &'static str {
    match action {
        "StartAgent" => "alibaba/StartAgent.response",
        "GetAgent" => "alibaba/GetAgent.response",
        "UpdateAgent" => "alibaba/UpdateAgent.response",
        "StopAgent" => "alibaba/StopAgent.response",
        "StartAIAgentInstance" => "alibaba/StartAIAgentInstance.response",
        "DescribeAIAgentInstance" => "alibaba/DescribeAIAgentInstance.response",
        "UpdateAIAgentInstance" => "alibaba/UpdateAIAgentInstance.response",
        "StopAIAgentInstance" => "alibaba/StopAIAgentInstance.response",
        "GenerateAIAgentCall" => "alibaba/GenerateAIAgentCall.response",
        _ => "alibaba/GenerateMessageChatToken.response",
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh id of this user.
fn fresh(user: &mut GooseUser, plan: &Plan, prefix: &str) -> String {
    if user.get_session_data::<Ids>().is_none() {
        let rng = user_rng(plan, user);
        user.set_session_data(Ids(rng));
    }
    let ids = user.get_session_data_unchecked_mut::<Ids>();
    unique_id(&mut ids.0, prefix)
}

async fn agent_task(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let (app, channel, task) = (
        fresh(user, plan, "app"),
        fresh(user, plan, "ch"),
        fresh(user, plan, "task"),
    );
    let key = [
        ("AppId", app.as_str()),
        ("ChannelId", channel.as_str()),
        ("TaskId", task.as_str()),
    ];
    let mut start = key.to_vec();
    start.extend([
        ("TemplateId", "tpl_1"),
        ("RtcConfig", RTC_CONFIG),
        ("VoiceChatConfig", VOICE_CHAT_CONFIG),
    ]);
    invoke(user, plan, "StartAgent", &start, &no_code).await?;
    let running = |body: &Value| match body.get("Status").and_then(Value::as_str) {
        Some("1") => no_code(body),
        other => Err(format!("task Status {other:?}, expected \"1\" (running)")),
    };
    let mut update = key.to_vec();
    update.push(("VoiceChatConfig", r#"{"InterruptMode":2}"#));
    let mut middle = invoke(user, plan, "GetAgent", &key, &running)
        .await
        .map(drop);
    if middle.is_ok() {
        middle = invoke(user, plan, "UpdateAgent", &update, &no_code)
            .await
            .map(drop);
    }
    // Stop what was started even when a step failed: a real cloud bills running agents.
    let stopped = invoke(user, plan, "StopAgent", &key, &no_code).await;
    middle?;
    stopped?;
    Ok(())
}

async fn agent_instance(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let start = [
        ("AIAgentId", "agent_load"),
        ("RuntimeConfig", RUNTIME_CONFIG),
    ];
    let started = invoke(user, plan, "StartAIAgentInstance", &start, &no_code).await?;
    let id = started["InstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let instance = [("InstanceId", id.as_str())];
    let executing = |body: &Value| match body.pointer("/Instance/Status").and_then(Value::as_str) {
        Some("Executing") => no_code(body),
        other => Err(format!("instance Status {other:?}, expected Executing")),
    };
    let update = [
        ("InstanceId", id.as_str()),
        ("TemplateConfig", r#"{"VoiceChat":{"Greeting":"hi again"}}"#),
    ];
    let mut middle = invoke(user, plan, "DescribeAIAgentInstance", &instance, &executing)
        .await
        .map(drop);
    if middle.is_ok() {
        middle = invoke(user, plan, "UpdateAIAgentInstance", &update, &no_code)
            .await
            .map(drop);
    }
    let stopped = invoke(user, plan, "StopAIAgentInstance", &instance, &no_code).await;
    middle?;
    stopped?;
    Ok(())
}

async fn agent_call(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let user_id = fresh(user, plan, "user");
    let params = [
        ("AIAgentId", "agent_load"),
        ("Expire", "600"),
        ("UserId", user_id.as_str()),
    ];
    let generated = invoke(user, plan, "GenerateAIAgentCall", &params, &no_code).await?;
    let id = generated["InstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let instance = [("InstanceId", id.as_str())];
    invoke(user, plan, "StopAIAgentInstance", &instance, &no_code).await?;
    Ok(())
}

async fn message_chat_token(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let user_id = fresh(user, plan, "user");
    let params = [
        ("AIAgentId", "agent_load"),
        ("UserId", user_id.as_str()),
        ("Role", "admin"),
        ("Expire", "1800"),
    ];
    invoke(user, plan, "GenerateMessageChatToken", &params, &no_code).await?;
    Ok(())
}
