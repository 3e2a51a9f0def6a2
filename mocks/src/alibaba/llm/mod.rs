//! The agents converse: an RTC agent task started with a third-party `LLMConfig`, and an ICE
//! AI-agent instance whose template's LLM node is a "self-developed LLM (OpenAI
//! specification)", take user utterances through the admin API and call the vendor's LLM as the
//! platform does (PROTOCOLS.md §6, `protocol::alibaba::llm` for the wire shape).
//!
//! | route | what it does |
//! | --- | --- |
//! | `POST /__admin/agents/{TaskId or InstanceId}/say` | `{"text": "..."}`: one utterance; answers the assembled text, `ttft_ms`, `total_ms`, `chunks` and the `request` sent (key masked); 502 with the `error` when the LLM call failed |
//! | `GET /__admin/agents/{TaskId or InstanceId}` | the agent's kind, status, `history` and `calls` (the call log, newest last) |
//!
//! One file per concern:
//! - [`settings`]: where an agent's LLM is and how it is called, read from the RTC
//!   `VoiceChatConfig.LLMConfig`, or from the ICE template named here ([`Template`]) and the
//!   instance's `AgentConfig.LlmConfig`;
//! - [`conversation`]: what an agent remembers (the history it sends, the call log), bounded;
//! - [`call`]: the outgoing call itself: bounded in time and size, every failure a value;
//! - [`say`]: the admin routes;
//! - [`vendor`]: a reference LLM endpoint that answers as a compliant vendor does.
//!
//! The `[alibaba.llm]` table of the mock's TOML file ([`LlmConfig`]) holds what the public
//! documentation leaves open, and `[alibaba.templates.<AIAgentId>.llm]` the LLM node of each
//! ICE agent's template (console configuration the API never carries):
//!
//! ```toml
//! [alibaba.llm]
//! rtc_url_append_path = false   # RTC LLMConfig.Url used as given (true: + /chat/completions)
//! params_at = "body"            # RTC LLMConfig.Params: top-level body members, or "extend_data"
//! first_token_timeout_ms = 10000
//! timeout_ms = 20000
//!
//! [alibaba.templates.my-agent.llm]  # ICE AIAgentId "my-agent"
//! base_url = "https://llm.example/v1"   # the platform appends /chat/completions
//! model = "my-model"
//! api_key = "sk-..."
//! ```

pub mod call;
pub mod conversation;
pub mod say;
pub mod settings;
pub mod vendor;

use protocol::alibaba::llm::ParamsAt;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `[alibaba.llm]`: how agents call their LLM where the documentation is silent.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Whether an RTC agent's `LLMConfig.Url` gets `/chat/completions` appended, as the IMS
    /// base URL does; by default it is used as given (it is documented as "the model's access
    /// url", not a base URL).
    pub rtc_url_append_path: bool,
    /// Where RTC `LLMConfig.Params` go: top-level body members (default) or `extendData`.
    pub params_at: ParamsAt,
    /// A call with no content token by then is a failure (silence on a call).
    pub first_token_timeout_ms: u64,
    /// A call whose answer has not ended by then is a failure.
    pub timeout_ms: u64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            rtc_url_append_path: false,
            params_at: ParamsAt::Body,
            first_token_timeout_ms: 10_000,
            timeout_ms: 20_000,
        }
    }
}

impl LlmConfig {
    /// Why the timeouts cannot work, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.first_token_timeout_ms == 0 || self.timeout_ms == 0 {
            return Err("[alibaba.llm] timeouts must be at least 1 ms".into());
        }
        if self.first_token_timeout_ms > self.timeout_ms {
            return Err(format!(
                "[alibaba.llm] first_token_timeout_ms ({}) is over timeout_ms ({})",
                self.first_token_timeout_ms, self.timeout_ms
            ));
        }
        Ok(())
    }
}

/// `[alibaba.templates.<AIAgentId>]`: what the console holds for one ICE agent.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The workflow's LLM node, "self-developed (OpenAI specification)".
    pub llm: LlmNode,
}

/// The three settings of an IMS self-developed LLM node.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmNode {
    /// "Target model HTTPS address", the OpenAI `base_url`: the platform appends
    /// `/chat/completions`.
    pub base_url: String,
    /// `ModelId`, sent as `model`.
    pub model: String,
    /// `API-KEY`, sent as `Authorization: Bearer <api_key>`.
    #[serde(default)]
    pub api_key: Option<String>,
}

impl std::fmt::Debug for LlmNode {
    /// The key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmNode")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Why the templates cannot be used: a base URL that is not http(s).
pub fn validate_templates(templates: &BTreeMap<String, Template>) -> Result<(), String> {
    for (agent, template) in templates {
        let url = &template.llm.base_url;
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok || reqwest::Url::parse(url).is_err() {
            return Err(format!(
                "[alibaba.templates.{agent}.llm] base_url {url:?} is not an http:// or https:// URL"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_http_urls_and_hide_their_key() {
        let template: Template = serde_json::from_value(serde_json::json!({"llm": {
            "base_url": "https://llm.example/v1", "model": "m", "api_key": "sk-secret"
        }}))
        .unwrap();
        assert!(!format!("{template:?}").contains("sk-secret"));
        let mut templates = BTreeMap::from([("my-agent".to_string(), template)]);
        assert!(validate_templates(&templates).is_ok());
        templates.get_mut("my-agent").unwrap().llm.base_url = "ftp://x".into();
        assert!(validate_templates(&templates)
            .unwrap_err()
            .contains("my-agent"));
        let slow = LlmConfig {
            first_token_timeout_ms: 30_000,
            ..LlmConfig::default()
        };
        assert!(slow.validate().is_err());
        assert!(LlmConfig::default().validate().is_ok());
    }
}
