//! ICE AI-agent parameters: `RuntimeConfig`'s two shapes, `ChatSyncConfig`, user ids.
//!
//! `RuntimeConfig` is either flat (`{"AgentUserId","ChannelId","AuthToken"}`, the current SDK
//! model) or nested by workflow (`{"VoiceChat":{…}}`, `AvatarChat3D`, `VisionChat`), where the
//! AUI AppServer sends the inner object itself as a JSON string. Both are accepted; the strings
//! inside must be strings.

use super::{check, field, invalid, Field, Rule};
use protocol::alibaba::ApiError;
use serde_json::{Map, Value};

/// Workflow keys of the nested `RuntimeConfig` form.
const WORKFLOWS: [&str; 3] = ["VoiceChat", "AvatarChat3D", "VisionChat"];

const RUNTIME_FIELDS: &[Field] = &[
    field("AgentUserId", Rule::Str),
    field("ChannelId", Rule::Str),
    field("AuthToken", Rule::Str),
];

const CHAT_SYNC_FIELDS: &[Field] = &[
    field("IMAIAgentId", Rule::Str),
    field("ReceiverId", Rule::Str),
];

/// Checks `RuntimeConfig`, turning a JSON-string inner workflow object into an object.
pub fn runtime_config(config: &mut Map<String, Value>) -> Result<(), ApiError> {
    check("RuntimeConfig", config, RUNTIME_FIELDS)?;
    for workflow in WORKFLOWS {
        let name = format!("RuntimeConfig.{workflow}");
        let Some(inner) = config.get_mut(workflow) else {
            continue;
        };
        if let Value::String(text) = inner {
            *inner = serde_json::from_str(text)
                .map_err(|e| invalid(&name, format!("is not valid JSON ({e})")))?;
        }
        let object = inner
            .as_object()
            .ok_or_else(|| invalid(&name, "must be an object"))?;
        check(&name, object, RUNTIME_FIELDS)?;
    }
    Ok(())
}

/// Checks `ChatSyncConfig`.
pub fn chat_sync_config(config: &Map<String, Value>) -> Result<(), ApiError> {
    check("ChatSyncConfig", config, CHAT_SYNC_FIELDS)
}

/// GenerateAIAgentCall's `UserId`: at most 64 bytes.
pub fn call_user_id(user_id: &str) -> Result<(), ApiError> {
    if user_id.len() > 64 {
        return Err(invalid(
            "UserId",
            format!("must be at most 64 bytes, got {}", user_id.len()),
        ));
    }
    Ok(())
}

/// GenerateMessageChatToken's `UserId`: `A-Z a-z 0-9 _`, 1 to 64 bytes.
pub fn chat_user_id(user_id: &str) -> Result<(), ApiError> {
    if protocol::aui::is_valid_user_id(user_id) {
        Ok(())
    } else {
        Err(invalid(
            "UserId",
            "must be 1 to 64 characters of A-Z a-z 0-9 _",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_runtime_config_as_a_json_string_is_unpacked() {
        let mut config = json!({"VoiceChat": "{\"AgentUserId\":\"a\",\"ChannelId\":\"c\"}"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(runtime_config(&mut config), Ok(()));
        assert_eq!(config["VoiceChat"]["ChannelId"], "c");
        let mut bad = json!({"VoiceChat": "{nope"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(runtime_config(&mut bad)
            .unwrap_err()
            .message
            .contains("RuntimeConfig.VoiceChat"));
    }

    #[test]
    fn chat_user_ids_follow_the_charset() {
        assert!(chat_user_id("user_01").is_ok());
        assert!(chat_user_id("user-01").is_err());
        assert!(chat_user_id(&"a".repeat(65)).is_err());
    }
}
