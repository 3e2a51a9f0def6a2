//! Seed 002: every field, range and enum of StartAgent's `RtcConfig` and `VoiceChatConfig`.
//!
//! Nesting follows the official SDK models (e.g. `VadConfig` sits inside `ASRConfig`:
//! `StartAgentRequestVoiceChatConfigASRConfigVadConfig`). Rules that depend on another field
//! (the aliyun model list, `Url` for third-party LLMs) are checked after the table.

use super::{check, field, invalid, lookup, Field, Rule};
use protocol::alibaba::ApiError;
use serde_json::{Map, Value};

/// Models `LLMConfig.Vendor = aliyun` serves.
pub const ALIYUN_MODELS: &[&str] = &["qwen-plus", "deepseek-r1", "qwen-omni-turbo"];

/// CosyVoice v1 voices the seed lists.
pub const VOICES: &[&str] = &[
    "longwan",
    "longcheng",
    "longhua",
    "longxiaochun",
    "longxiaoxia",
    "longxiaocheng",
    "longxiaobai",
    "longlaotie",
    "longshu",
    "longshuo",
    "longjing",
    "longmiao",
    "longyue",
    "longyuan",
    "longfei",
    "longjielidou",
    "longtong",
    "longxiang",
    "loongstella",
    "loongbella",
];

/// ASR language hints the seed lists.
pub const LANGUAGES: &[&str] = &["zh", "en", "ja", "yue", "ko"];

const RTC_CONFIG: &[Field] = &[
    field("UserId", Rule::Str),
    field(
        "TargetUserIds",
        Rule::Strings {
            max: 1,
            values: None,
        },
    ),
    field("UserInactivityTimeout", Rule::Int(5, 180)),
];

const fn float(min: f64, max: f64, open_min: bool, open_max: bool) -> Rule {
    Rule::Float {
        min,
        max,
        open_min,
        open_max,
    }
}

const fn one_of(values: &'static [&'static str]) -> Rule {
    Rule::OneOf {
        values,
        empty_ok: false,
    }
}

const VOICE_CHAT_CONFIG: &[Field] = &[
    field("ChatMode", Rule::IntOneOf(&[1, 2])),
    field("InterruptMode", Rule::IntOneOf(&[1, 2])),
    field("Greeting", Rule::Str),
    field("ASRConfig", Rule::Object),
    field("ASRConfig.SourceLanguage", Rule::Str),
    field("ASRConfig.SemanticPunctuationEnabled", Rule::Bool),
    field("ASRConfig.MaxSentenceSilence", Rule::Int(200, 6000)),
    field("ASRConfig.VocabularyId", Rule::Str),
    field(
        "ASRConfig.LanguageHints",
        Rule::Strings {
            max: 5,
            values: Some(LANGUAGES),
        },
    ),
    field("ASRConfig.VadConfig", Rule::Object),
    field(
        "ASRConfig.VadConfig.InterruptSpeechDuration",
        Rule::Int(0, 3000),
    ),
    field("LLMConfig", Rule::Object),
    field("LLMConfig.Vendor", one_of(&["aliyun", "thirdparty"])),
    field("LLMConfig.Model", Rule::Str),
    field("LLMConfig.ApiKey", Rule::Str),
    field("LLMConfig.Temperature", float(0.0, 2.0, false, true)),
    field("LLMConfig.TopP", float(0.0, 1.0, true, false)),
    field("LLMConfig.MaxToken", Rule::Int(1, 8192)),
    field("LLMConfig.HistoryDepth", Rule::Int(0, i64::MAX)),
    field("LLMConfig.Prompt", Rule::Str),
    field("LLMConfig.Url", Rule::Str),
    field("LLMConfig.Params", Rule::Object),
    field("LLMConfig.AppId", Rule::Str),
    field("TTSConfig", Rule::Object),
    field("TTSConfig.Vendor", one_of(&["aliyun"])),
    field("TTSConfig.Model", one_of(&["cosyvoice-v1"])),
    field("TTSConfig.ApiKey", Rule::Str),
    field("TTSConfig.Voice", one_of(VOICES)),
    field("TTSConfig.Volume", Rule::Int(0, 100)),
    field("TTSConfig.Rate", float(0.5, 2.0, false, false)),
    field("TTSConfig.Pitch", float(0.5, 2.0, false, false)),
    field(
        "TTSConfig.FilterBrackets",
        Rule::Ints {
            min_len: 0,
            max_len: 5,
            lo: 1,
            hi: 5,
        },
    ),
    field("AgentSilenceConfig", Rule::Object),
    field("AgentSilenceConfig.Enable", Rule::Bool),
    field("AgentSilenceConfig.AlertTimeout", Rule::ZeroOr(5, 600)),
    field("AgentSilenceConfig.Strategy", Rule::IntOneOf(&[1, 2])),
    field("AgentSilenceConfig.Content", Rule::Str),
    field(
        "AgentSilenceConfig.WebhookTriggerTimeout",
        Rule::ZeroOr(10, 600),
    ),
    field("AmbientSoundConfig", Rule::Object),
    field(
        "AmbientSoundConfig.SoundId",
        Rule::OneOf {
            values: &["white_noise", "office"],
            empty_ok: true,
        },
    ),
    field("AmbientSoundConfig.Volume", Rule::Int(0, 100)),
    field("InterruptConfig", Rule::Object),
    field("InterruptConfig.SemanticsInterrupt", Rule::Bool),
    field("BackChannelConfig", Rule::Object),
    field("BackChannelConfig.UserTurnEnd", Rule::Bool),
];

/// `RtcConfig`: the table, and `UserId` required.
pub fn rtc_config(config: &Map<String, Value>) -> Result<(), ApiError> {
    check("RtcConfig", config, RTC_CONFIG)?;
    match config.get("UserId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(()),
        _ => Err(ApiError::missing_parameter("RtcConfig.UserId")),
    }
}

/// `VoiceChatConfig`: the table, then the LLM vendor rules.
pub fn voice_chat_config(config: &Map<String, Value>) -> Result<(), ApiError> {
    check("VoiceChatConfig", config, VOICE_CHAT_CONFIG)?;
    let text = |path| lookup(config, path).and_then(Value::as_str).unwrap_or("");
    match text("LLMConfig.Vendor") {
        "aliyun"
            if !text("LLMConfig.Model").is_empty()
                && !ALIYUN_MODELS.contains(&text("LLMConfig.Model")) =>
        {
            let detail = format!(
                "must be one of {ALIYUN_MODELS:?} for Vendor aliyun, got {:?}",
                text("LLMConfig.Model")
            );
            Err(invalid("VoiceChatConfig.LLMConfig.Model", detail))
        }
        "thirdparty" if text("LLMConfig.Url").is_empty() => {
            Err(ApiError::missing_parameter("VoiceChatConfig.LLMConfig.Url"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_seed_example_passes() {
        let config = obj(json!({
            "ChatMode": 1, "InterruptMode": 1, "Greeting": "早上好",
            "ASRConfig": {"MaxSentenceSilence": 800, "LanguageHints": ["zh"], "VadConfig": {"InterruptSpeechDuration": 300}},
            "LLMConfig": {"Vendor": "aliyun", "Model": "qwen-plus", "Temperature": 0.7, "TopP": 0.8, "MaxToken": 500},
            "TTSConfig": {"Vendor": "aliyun", "Model": "cosyvoice-v1", "Voice": "longxiaoxia", "Volume": 50, "Rate": 1, "Pitch": 1, "FilterBrackets": [1, 2]},
            "AgentSilenceConfig": {"Enable": false, "AlertTimeout": 0, "Strategy": 1, "WebhookTriggerTimeout": 0},
            "AmbientSoundConfig": {"SoundId": "white_noise", "Volume": 50},
        }));
        assert_eq!(voice_chat_config(&config), Ok(()));
        assert_eq!(
            rtc_config(&obj(
                json!({"UserId": "a", "TargetUserIds": ["u"], "UserInactivityTimeout": 30})
            )),
            Ok(())
        );
    }

    #[test]
    fn vendor_rules_depend_on_the_vendor() {
        let bad_model = obj(json!({"LLMConfig": {"Vendor": "aliyun", "Model": "gpt-4"}}));
        assert!(voice_chat_config(&bad_model).is_err());
        let no_url = obj(json!({"LLMConfig": {"Vendor": "thirdparty", "Model": "gpt-4"}}));
        assert_eq!(
            voice_chat_config(&no_url).unwrap_err().code,
            "MissingVoiceChatConfig.LLMConfig.Url"
        );
        let url = obj(json!({"LLMConfig": {"Vendor": "thirdparty", "Url": "https://x"}}));
        assert_eq!(voice_chat_config(&url), Ok(()));
    }
}
