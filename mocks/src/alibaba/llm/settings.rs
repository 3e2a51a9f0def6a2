//! Where an agent's LLM is and how it is called, read anew for every utterance (UpdateAgent and
//! UpdateAIAgentInstance may have changed it).
//!
//! - An RTC agent task: `VoiceChatConfig.LLMConfig` with `Vendor` `thirdparty` (seed 002): `Url`
//!   (as given, or with `/chat/completions` appended when `[alibaba.llm] rtc_url_append_path`),
//!   `ApiKey`, `Model`, `Prompt` (the system record), `HistoryDepth` (rounds, default 3),
//!   `MaxToken`, `Temperature`, `TopP` (sent only when given), `Params` (placed as `[alibaba.llm]
//!   params_at` says). `extendData.instanceId` is the TaskId, `channelId` the task's channel,
//!   `userData` empty (StartAgent has no UserData).
//! - An ICE AI-agent instance: the LLM node of `[alibaba.templates.<AIAgentId>]` (base URL +
//!   `/chat/completions`, `ModelId`, `API-KEY`), and from the instance's
//!   `AgentConfig.LlmConfig` (ICE AIAgentConfig): `LlmSystemPrompt`, `LlmHistoryLimit` (rounds,
//!   default 10), `LlmHistory` (records sent before the conversation's own), `OpenAIExtraQuery`
//!   (`k=v&k2=v2` added to the URL). `channelId` is the RuntimeConfig's, `userData` the
//!   instance's UserData.

use super::{LlmConfig, Template};
use crate::alibaba::state::{AgentTask, Instance};
use protocol::alibaba::llm::{endpoint_url, Message, ParamsAt, Sampling};
use protocol::alibaba::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// RTC `HistoryDepth` when not given (seed 002).
pub const RTC_HISTORY_DEPTH: usize = 3;
/// ICE `LlmHistoryLimit` when not given (the ICE SDK's AIAgentConfig docs).
pub const ICE_HISTORY_LIMIT: usize = 10;

/// Everything one call needs besides the conversation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the call goes, path and query included.
    pub url: String,
    pub api_key: Option<String>,
    pub model: String,
    /// The system record, when non-empty.
    pub prompt: Option<String>,
    /// Rounds of history sent.
    pub depth: usize,
    pub sampling: Sampling,
    pub params: Option<Map<String, Value>>,
    pub params_at: ParamsAt,
    /// Records sent before the conversation's own (ICE `LlmHistory`).
    pub preset: Vec<Message>,
    /// `extendData.instanceId`.
    pub instance_id: String,
    /// `extendData.channelId`.
    pub channel_id: String,
    /// `extendData.userData`.
    pub user_data: String,
}

/// Why an agent cannot converse: 400 `LLMNotConfigured`, saying what to set.
fn not_configured(message: String) -> ApiError {
    ApiError::new("LLMNotConfigured", 400, message)
}

/// An RTC task's settings; `task_id` and `channel_id` are its key's.
pub fn of_task(
    task_id: &str,
    channel_id: &str,
    task: &AgentTask,
    config: &LlmConfig,
) -> Result<Settings, ApiError> {
    let llm = task
        .voice_chat_config
        .get("LLMConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let text = |name: &str| llm.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("Vendor") != "thirdparty" || text("Url").is_empty() {
        return Err(not_configured(format!(
            "task {task_id} has no third-party LLM (VoiceChatConfig.LLMConfig.Vendor {:?}): start it with Vendor \"thirdparty\" and a Url to converse",
            text("Vendor")
        )));
    }
    Ok(Settings {
        url: endpoint_url(text("Url"), config.rtc_url_append_path, None),
        api_key: Some(text("ApiKey"))
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        model: text("Model").to_string(),
        prompt: Some(text("Prompt"))
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        depth: count(llm.get("HistoryDepth")).unwrap_or(RTC_HISTORY_DEPTH),
        sampling: Sampling {
            max_tokens: llm.get("MaxToken").and_then(Value::as_i64),
            temperature: llm.get("Temperature").and_then(Value::as_f64),
            top_p: llm.get("TopP").and_then(Value::as_f64),
        },
        params: llm.get("Params").and_then(Value::as_object).cloned(),
        params_at: config.params_at,
        preset: Vec::new(),
        instance_id: task_id.to_string(),
        channel_id: channel_id.to_string(),
        user_data: String::new(),
    })
}

/// An ICE instance's settings, its LLM node from `templates`.
pub fn of_instance(
    instance_id: &str,
    instance: &Instance,
    templates: &BTreeMap<String, Template>,
) -> Result<Settings, ApiError> {
    let Some(template) = templates.get(&instance.ai_agent_id) else {
        return Err(not_configured(format!(
            "AIAgentId {:?} has no template in the mock's config: add [alibaba.templates.{}.llm] with base_url, model and api_key",
            instance.ai_agent_id, instance.ai_agent_id
        )));
    };
    let llm = instance
        .agent_config
        .get("LlmConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let text = |name: &str| {
        llm.get(name)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    let node = &template.llm;
    Ok(Settings {
        url: endpoint_url(&node.base_url, true, text("OpenAIExtraQuery")),
        api_key: node.api_key.clone().filter(|k| !k.is_empty()),
        model: node.model.clone(),
        prompt: text("LlmSystemPrompt").map(str::to_string),
        depth: count(llm.get("LlmHistoryLimit")).unwrap_or(ICE_HISTORY_LIMIT),
        sampling: Sampling::default(),
        params: None,
        params_at: ParamsAt::Body,
        preset: preset_history(llm.get("LlmHistory")),
        instance_id: instance_id.to_string(),
        channel_id: channel_of(&instance.runtime_config),
        user_data: instance.user_data.clone(),
    })
}

/// A non-negative integer setting.
fn count(value: Option<&Value>) -> Option<usize> {
    value?.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// `LlmHistory`: `[{"Role","Content"}]` (the SDK's names; lowercase accepted too), records
/// whose role is not user, assistant or system skipped.
fn preset_history(value: Option<&Value>) -> Vec<Message> {
    let records = value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    records
        .iter()
        .filter_map(|record| {
            let field = |a: &str, b: &str| record.get(a).or_else(|| record.get(b))?.as_str();
            let role = field("Role", "role")?;
            let content = field("Content", "content")?;
            ["user", "assistant", "system"]
                .contains(&role)
                .then(|| Message::new(role, content))
        })
        .collect()
}

/// The channel of a RuntimeConfig, flat or nested by workflow.
fn channel_of(runtime: &Map<String, Value>) -> String {
    let nested = ["VoiceChat", "AvatarChat3D", "VisionChat"]
        .iter()
        .filter_map(|w| runtime.get(*w)?.get("ChannelId")?.as_str());
    runtime
        .get("ChannelId")
        .and_then(Value::as_str)
        .into_iter()
        .chain(nested)
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alibaba::state::InstanceStatus;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_rtc_task_reads_its_llm_config() {
        let task = AgentTask {
            template_id: "t".into(),
            rtc_config: json!({}),
            voice_chat_config: object(json!({"LLMConfig": {
                "Vendor": "thirdparty", "Url": "http://llm.example/v1/chat/completions",
                "ApiKey": "sk", "Model": "m", "Prompt": "be brief", "MaxToken": 500,
                "Params": {"verification_code": "x"}}})),
            start_ms: 0,
            stop_ms: None,
            conversation: Default::default(),
        };
        let settings = of_task("task1", "ch1", &task, &LlmConfig::default()).unwrap();
        assert_eq!(settings.url, "http://llm.example/v1/chat/completions");
        assert_eq!(settings.depth, RTC_HISTORY_DEPTH);
        assert_eq!(settings.sampling.max_tokens, Some(500));
        assert_eq!(settings.sampling.temperature, None, "only what was given");
        assert_eq!(
            (settings.instance_id.as_str(), settings.channel_id.as_str()),
            ("task1", "ch1")
        );
        let append = LlmConfig {
            rtc_url_append_path: true,
            ..LlmConfig::default()
        };
        let settings = of_task("task1", "ch1", &task, &append).unwrap();
        assert!(settings.url.ends_with("/chat/completions/chat/completions"));
        let aliyun = AgentTask {
            voice_chat_config: object(json!({"LLMConfig": {"Vendor": "aliyun"}})),
            ..task
        };
        assert_eq!(
            of_task("t", "c", &aliyun, &LlmConfig::default())
                .unwrap_err()
                .code,
            "LLMNotConfigured"
        );
    }

    #[test]
    fn an_ice_instance_reads_its_template_and_agent_config() {
        let instance = Instance {
            ai_agent_id: "agent-1".into(),
            status: InstanceStatus::Executing,
            runtime_config: object(json!({"VoiceChat": {"ChannelId": "room"}})),
            template_config: Map::new(),
            agent_config: object(json!({"LlmConfig": {
                "LlmSystemPrompt": "你是导游", "LlmHistoryLimit": 2, "OpenAIExtraQuery": "api-version=1",
                "LlmHistory": [{"Role": "user", "Content": "hi"}, {"Role": "robot", "Content": "x"}]}})),
            user_data: "{\"vip\":true}".into(),
            session_id: String::new(),
            created_ms: 0,
            modified_ms: 0,
            conversation: Default::default(),
        };
        let template: Template = serde_json::from_value(
            json!({"llm": {"base_url": "http://llm.example/v1", "model": "m"}}),
        )
        .unwrap();
        let templates = BTreeMap::from([("agent-1".to_string(), template)]);
        let settings = of_instance("i1", &instance, &templates).unwrap();
        assert_eq!(
            settings.url,
            "http://llm.example/v1/chat/completions?api-version=1"
        );
        assert_eq!(settings.prompt.as_deref(), Some("你是导游"));
        assert_eq!(settings.depth, 2);
        assert_eq!(settings.preset, [Message::new("user", "hi")]);
        assert_eq!(settings.channel_id, "room");
        assert_eq!(settings.user_data, "{\"vip\":true}");
        assert!(of_instance("i1", &instance, &BTreeMap::new()).is_err());
    }
}
