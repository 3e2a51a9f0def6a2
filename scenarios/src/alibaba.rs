//! Alibaba OpenAPI operations (`alibaba.<Action>`): RTC 2018-01-11 agent tasks and ICE
//! 2020-11-09 AI-agent instances, each call signed as the SDKs sign it (V3 by default, V1 with
//! `sign = "v1"`) with a fresh nonce and date. Success is HTTP 200 with a `RequestId` and no
//! `Code`. StartAgent remembers the task it started, StartAIAgentInstance and
//! GenerateAIAgentCall the instance, so a later step (or the user's end) stops them.
//!
//! [`llm`] is the other side of an Alibaba agent: its calls to a vendor's LLM (`llm.chat`).

pub mod llm;

use crate::exchange::{send_paced, Failure};
use crate::journey::user::Started;
use crate::ops::{self, text, Call};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::alibaba as call;
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// Success: a `RequestId` and no error `Code` (the schema checks the rest).
pub fn no_code(body: &Value) -> Result<(), String> {
    match body.get("Code") {
        Some(code) => Err(format!("error Code {code} in a 200 answer")),
        None => Ok(()),
    }
}

/// Runs `action` with `fields` as its parameters (tables and lists sent as their JSON text).
pub(crate) async fn run(
    action: &'static str,
    c: &mut Call<'_>,
    mut fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let base = c.plan.target("alibaba").map_err(ops::custom)?.to_string();
    let v1 = match fields.remove("sign").map(|s| text(&s)) {
        None => false,
        Some(sign) if sign == "v3" => false,
        Some(sign) if sign == "v1" => true,
        Some(other) => {
            return Err(ops::custom(format!(
                "alibaba.{action}: sign {other:?}: v3 or v1"
            )))
        }
    };
    let params: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), text(v))).collect();
    let key = &c.state.credentials.alibaba;
    let (date, nonce, host) = (
        format_utc(now_ms()),
        call::fresh_nonce(),
        call::host_of(&base),
    );
    let signing = call::Call {
        method: "POST",
        host: &host,
        action,
        version: call::api_version(action),
        params: &params,
        access_key_id: &key.id,
        secret: &key.secret,
        date: &date,
        nonce: &nonce,
    };
    let mut request = if v1 {
        call::signed_v1(signing)
    } else {
        call::signed(signing)
    };
    if let Some(route) = c.route {
        request.route = route.to_string();
    }
    let extra = c.extra;
    let rule = |body: &Value| extra.judge(body, 200, no_code);
    let expect = extra.expect(200, schema_of(action), &rule);
    let answer = send_paced(c.user, c.plan, &base, request, &expect, c.pace).await?;
    remember(action, c, &fields, &answer);
    Ok(answer)
}

/// What the call started or stopped, so the user's end stops only what still runs.
fn remember(action: &str, c: &mut Call<'_>, fields: &Map<String, Value>, answer: &Value) {
    let field = |name: &str| ops::field(fields, name);
    match action {
        "StartAgent" => {
            for (capture, name) in [
                ("app_id", "AppId"),
                ("channel_id", "ChannelId"),
                ("task_id", "TaskId"),
            ] {
                c.state
                    .captures
                    .insert(capture.into(), Value::String(field(name)));
            }
            let key: Map<String, Value> = ["AppId", "ChannelId", "TaskId"]
                .iter()
                .map(|k| (k.to_string(), Value::String(field(k))))
                .collect();
            c.state.remember(Started {
                op: ops::find("alibaba.StopAgent").expect("in the catalogue"),
                id: field("TaskId"),
                fields: key,
                for_life: false,
            });
        }
        "StartAIAgentInstance" | "GenerateAIAgentCall" => {
            let id = answer["InstanceId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            c.state
                .captures
                .insert("instance_id".into(), Value::String(id.clone()));
            let fields = Map::from_iter([("InstanceId".to_string(), Value::String(id.clone()))]);
            c.state.remember(Started {
                op: ops::find("alibaba.StopAIAgentInstance").expect("in the catalogue"),
                id,
                fields,
                for_life: false,
            });
        }
        "StopAgent" => c.state.forget(&field("TaskId")),
        "StopAIAgentInstance" => c.state.forget(&field("InstanceId")),
        _ => {}
    }
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
