//! RTC 2018-01-11: StartAgent, StopAgent, UpdateAgent, GetAgent on tasks keyed by
//! (AppId, ChannelId, TaskId).
//!
//! Codes the public docs do not list, chosen here: starting a task that is running is
//! `TaskAlreadyExists` (400); updating a stopped task is `IncorrectTaskStatus` (400); an unknown
//! task is `NotFound` (404) naming the TaskId; an AppId outside `rtc_app_ids` is
//! `InvalidAppId.NotFound` (404). Stopping a stopped task succeeds again (idempotent, as retries
//! need), and starting a stopped task's key starts it afresh.

use super::{Action, ActionContext, Params};
use crate::alibaba::state::{merged, AgentTask, State, TaskKey};
use crate::alibaba::validate::rtc as rules;
use protocol::alibaba::ApiError;
use serde_json::{json, Map, Value};

pub fn handle(
    action: Action,
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    let key = task_key(params, ctx)?;
    match action {
        Action::StartAgent => start(key, params, state, ctx),
        Action::StopAgent => stop(&key, state, ctx),
        Action::UpdateAgent => update(&key, params, state),
        _ => get(&key, state),
    }
}

fn task_key(params: &Params, ctx: &ActionContext<'_>) -> Result<TaskKey, ApiError> {
    let app_id = params.required("AppId")?;
    if let Some(allowed) = ctx.rtc_app_ids {
        if !allowed.iter().any(|a| a == app_id) {
            let message = format!("Specified AppId {app_id} is not found.");
            return Err(ApiError::new("InvalidAppId.NotFound", 404, message));
        }
    }
    let channel_id = params.required("ChannelId")?;
    let task_id = params.required("TaskId")?;
    Ok((
        app_id.to_string(),
        channel_id.to_string(),
        task_id.to_string(),
    ))
}

fn start(
    key: TaskKey,
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    let template_id = params.required("TemplateId")?;
    let rtc_config = params
        .object("RtcConfig")?
        .ok_or_else(|| ApiError::missing_parameter("RtcConfig"))?;
    rules::rtc_config(&rtc_config)?;
    let voice_chat_config = params.object("VoiceChatConfig")?.unwrap_or_default();
    rules::voice_chat_config(&voice_chat_config)?;
    if state.tasks.get(&key).is_some_and(|t| t.stop_ms.is_none()) {
        let (app, channel, task) = &key;
        let message = format!("Task {task} is already running in channel {channel} of app {app}.");
        return Err(ApiError::new("TaskAlreadyExists", 400, message));
    }
    let task = AgentTask {
        template_id: template_id.to_string(),
        rtc_config: Value::Object(rtc_config),
        voice_chat_config,
        start_ms: ctx.now_ms,
        stop_ms: None,
        conversation: Default::default(),
    };
    state.tasks.insert(key, task);
    Ok(json!({}))
}

fn find<'a>(key: &TaskKey, state: &'a mut State) -> Result<&'a mut AgentTask, ApiError> {
    state
        .tasks
        .get_mut(key)
        .ok_or_else(|| ApiError::not_found("TaskId", &key.2))
}

fn stop(key: &TaskKey, state: &mut State, ctx: &ActionContext<'_>) -> Result<Value, ApiError> {
    let task = find(key, state)?;
    task.stop_ms.get_or_insert(ctx.now_ms);
    Ok(json!({}))
}

fn update(key: &TaskKey, params: &Params, state: &mut State) -> Result<Value, ApiError> {
    let patch = params.object("VoiceChatConfig")?.unwrap_or_default();
    rules::voice_chat_config(&patch)?;
    let task = find(key, state)?;
    if task.stop_ms.is_some() {
        let message = format!(
            "Task {} is stopped; only a running task can be updated.",
            key.2
        );
        return Err(ApiError::new("IncorrectTaskStatus", 400, message));
    }
    task.voice_chat_config = merged(&task.voice_chat_config, patch, "VoiceChatConfig")?;
    Ok(json!({}))
}

/// Times are ms strings as the API sends them; `StopTime` is `"0"` while the task runs.
fn get(key: &TaskKey, state: &mut State) -> Result<Value, ApiError> {
    let task = find(key, state)?;
    let (status, stop) = match task.stop_ms {
        None => ("1", 0),
        Some(ms) => ("2", ms),
    };
    let mut answer = Map::new();
    answer.insert("Message".into(), "Success".into());
    answer.insert("StartTime".into(), task.start_ms.to_string().into());
    answer.insert("Status".into(), status.into());
    answer.insert("StopTime".into(), stop.to_string().into());
    Ok(Value::Object(answer))
}
