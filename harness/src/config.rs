//! Loading the configuration file: demo defaults, then a TOML file, then environment variables.
//! Flags are applied by the caller last.
//!
//! One file serves every command: `agentproof mock` reads the platform sections ([alibaba],
//! [aui], [duix], [webhook], [limits]), `check` and `load` read [target.aui] (how to talk to the
//! team's own AUI app server), and each ignores the other's sections.

use anyhow::{Context, Result};
use mocks::alibaba::AlibabaConfig;
use mocks::aui::AuiConfig;
use mocks::duix::DuixConfig;
use mocks::Limits;
use serde::Deserialize;
use std::path::Path;

/// Everything `agentproof mock` needs to know.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    pub alibaba: AlibabaConfig,
    pub aui: AuiConfig,
    pub duix: DuixConfig,
    pub webhook: WebhookConfig,
    /// The embedded reference LLM endpoint (agentproof serve-llm), beside the Alibaba mock.
    pub llm: LlmEndpointConfig,
    /// What every platform server holds under abuse (sizes, timeouts, the connection cap, the
    /// journal); the limits only one platform has are in its own section.
    pub limits: Limits,
    /// How `check` and `load` talk to targets (ignored by `mock`).
    pub target: TargetConfig,
}

/// `[target.*]`: what `check` and `load` send to the targets; flags and environment win.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetConfig {
    pub aui: AuiTargetConfig,
}

/// `[target.aui]`: the AUI app server's auth and route set, as `--aui-auth`, `--aui-login-path`,
/// `--aui-login-body`, `--aui-login-token` and `--aui-routes` take them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuiTargetConfig {
    /// `"login"`, `"bearer:TOKEN"`, `"none"`, or a list with `"header:NAME:VALUE"` entries.
    pub auth: OneOrMany,
    pub login_path: Option<String>,
    pub login_body: Option<String>,
    pub login_token: Option<String>,
    /// `"served"`, `"all"`, or a list of route names.
    pub routes: OneOrMany,
}

/// A TOML value that is one string or a list of them.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    Absent,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, in order; none when absent.
    pub fn items(&self) -> Vec<String> {
        match self {
            OneOrMany::Absent => Vec::new(),
            OneOrMany::One(item) => vec![item.clone()],
            OneOrMany::Many(items) => items.clone(),
        }
    }
}

/// The embedded reference vendor webhook.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Shared secret it requires; DUIX sends it too.
    pub secret: Option<String>,
    pub delay_ms: u64,
}

/// The embedded reference LLM endpoint an Alibaba agent's third-party LLM can point at.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmEndpointConfig {
    /// The key it requires as `Authorization: Bearer` (the demo key unless set).
    pub api_key: String,
    /// Waited before the first content token, ms.
    pub first_token_delay_ms: u64,
    /// Waited between content tokens, ms.
    pub token_delay_ms: u64,
}

impl std::fmt::Debug for LlmEndpointConfig {
    /// The key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmEndpointConfig")
            .field("api_key", &"***")
            .field("first_token_delay_ms", &self.first_token_delay_ms)
            .field("token_delay_ms", &self.token_delay_ms)
            .finish()
    }
}

/// The demo key of the embedded reference LLM endpoint (printed in the banner).
pub const DEMO_LLM_API_KEY: &str = "agentproof-llm-demo-key";

impl Default for LlmEndpointConfig {
    fn default() -> Self {
        LlmEndpointConfig {
            api_key: DEMO_LLM_API_KEY.to_string(),
            first_token_delay_ms: 0,
            token_delay_ms: 0,
        }
    }
}

impl MockConfig {
    /// Defaults, overlaid by `file` (when given), overlaid by the environment.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("config file {} is not valid", path.display()))?
            }
            None => MockConfig::default(),
        };
        config.apply_env(env);
        let base = file.and_then(Path::parent).unwrap_or(Path::new("."));
        config
            .aui
            .read_users_file(base)
            .map_err(|why| anyhow::anyhow!("{why}"))?;
        let valid = config
            .limits
            .validate()
            .and_then(|()| config.alibaba.llm.validate())
            .and_then(|()| mocks::alibaba::llm::validate_templates(&config.alibaba.templates));
        if let Err(why) = valid {
            let file = file.map_or_else(String::new, |f| format!(" {}", f.display()));
            anyhow::bail!("config file{file}: {why}");
        }
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        let alibaba = &mut self.alibaba;
        if let Some(first) = alibaba.credentials.first_mut() {
            set(
                &mut first.access_key_id,
                env("AGENTPROOF_ALIBABA_ACCESS_KEY_ID"),
            );
            set(
                &mut first.access_key_secret,
                env("AGENTPROOF_ALIBABA_ACCESS_KEY_SECRET"),
            );
        }
        let aui = &mut self.aui;
        set(&mut aui.app_id, env("AGENTPROOF_AUI_APP_ID"));
        set(&mut aui.app_key, env("AGENTPROOF_AUI_APP_KEY"));
        set(&mut aui.login_user, env("AGENTPROOF_AUI_LOGIN_USER"));
        set(
            &mut aui.login_password,
            env("AGENTPROOF_AUI_LOGIN_PASSWORD"),
        );
        if let Some(app) = self.duix.apps.first_mut() {
            set(&mut app.app_id, env("AGENTPROOF_DUIX_APP_ID"));
            set(&mut app.app_key, env("AGENTPROOF_DUIX_APP_KEY"));
        }
    }
}

fn set(field: &mut String, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        *field = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let tmp = tempfile::TempDir::with_prefix("agentproof-config-").unwrap();
        let dir = tmp.path();
        let file = dir.join("agentproof.toml");
        std::fs::write(
            &file,
            "[aui]\napp_id = \"from-file\"\napp_key = \"file-key\"\n",
        )
        .unwrap();
        let env: HashMap<&str, &str> = [("AGENTPROOF_AUI_APP_KEY", "env-key")].into();
        let config = MockConfig::load(Some(&file), |k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(config.aui.app_id, "from-file");
        assert_eq!(config.aui.app_key, "env-key");
        assert_eq!(
            config.duix.apps[0].app_id,
            DuixConfig::default().apps[0].app_id
        );
    }

    #[test]
    fn unknown_keys_and_bad_files_are_named_in_the_error() {
        let tmp = tempfile::TempDir::with_prefix("agentproof-config-bad-").unwrap();
        let dir = tmp.path();
        let file = dir.join("bad.toml");
        std::fs::write(&file, "[nonsense]\nx = 1\n").unwrap();
        let error = MockConfig::load(Some(&file), |_| None).unwrap_err();
        assert!(format!("{error:#}").contains("bad.toml"), "{error:#}");
        let missing = MockConfig::load(Some(&dir.join("absent.toml")), |_| None).unwrap_err();
        assert!(format!("{missing:#}").contains("absent.toml"));
        // A misspelt key inside a platform's section is named too, not silently ignored.
        std::fs::write(&file, "[alibaba]\nmax_agent_taskz = 5\n").unwrap();
        let error = format!("{:#}", MockConfig::load(Some(&file), |_| None).unwrap_err());
        assert!(error.contains("max_agent_taskz"), "{error}");
        // Valid TOML, but a limit the HTTP stack would never let act.
        std::fs::write(&file, "[limits]\nmax_query_bytes = 100000\n").unwrap();
        let error = format!("{:#}", MockConfig::load(Some(&file), |_| None).unwrap_err());
        assert!(
            error.contains("bad.toml") && error.contains("max_query_bytes"),
            "{error}"
        );
    }

    #[test]
    fn limits_parse_from_their_table_and_the_platform_sections() {
        let text = r#"
            [limits]
            header_read_timeout_ms = 1000
            max_header_bytes = 4096
            max_query_bytes = 512
            max_body_bytes = 2048
            max_connections = 8
            journal_capacity = 10
            [alibaba]
            nonce_capacity = 50
            max_agent_tasks = 7
            max_ai_agent_instances = 9
            [duix]
            ws_send_timeout_ms = 1500
        "#;
        let config: MockConfig = toml::from_str(text).unwrap();
        let expected = Limits {
            header_read_timeout_ms: 1000,
            max_header_bytes: 4096,
            max_query_bytes: 512,
            max_body_bytes: 2048,
            max_connections: Some(8),
            journal_capacity: 10,
        };
        assert_eq!(config.limits, expected);
        assert_eq!(config.alibaba.nonce_capacity, 50);
        assert_eq!(config.alibaba.max_agent_tasks, 7);
        assert_eq!(config.alibaba.max_ai_agent_instances, 9);
        assert_eq!(config.duix.ws_send_timeout_ms, 1500);
        // Absent keys keep today's behaviour; a misspelt one is an error, not a silent default.
        let partial: MockConfig = toml::from_str("[limits]\nmax_body_bytes = 10\n").unwrap();
        assert_eq!(partial.limits.max_connections, None);
        assert_eq!(partial.limits.header_read_timeout_ms, 30_000);
        assert!(toml::from_str::<MockConfig>("[limits]\nmax_conections = 1\n").is_err());
    }

    #[test]
    fn the_llm_tables_parse_and_bad_ones_are_named() {
        let text = r#"
            [alibaba.llm]
            rtc_url_append_path = true
            params_at = "extend_data"
            first_token_timeout_ms = 3000
            [alibaba.templates.my-agent.llm]
            base_url = "https://llm.example/v1"
            model = "my-model"
            api_key = "sk-secret"
            [llm]
            api_key = "local-key"
            first_token_delay_ms = 300
        "#;
        let config: MockConfig = toml::from_str(text).unwrap();
        assert!(config.alibaba.llm.rtc_url_append_path);
        assert_eq!(
            config.alibaba.llm.params_at,
            protocol::alibaba::llm::ParamsAt::ExtendData
        );
        assert_eq!(
            config.alibaba.llm.timeout_ms, 20_000,
            "defaults for the rest"
        );
        assert_eq!(config.alibaba.templates["my-agent"].llm.model, "my-model");
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-secret") && !shown.contains("local-key"));
        assert_eq!(config.llm.first_token_delay_ms, 300);
        let tmp = tempfile::TempDir::with_prefix("agentproof-config-llm-").unwrap();
        let dir = tmp.path();
        let file = dir.join("llm.toml");
        for (bad, named) in [
            (
                "[alibaba.templates.a.llm]\nbase_url = \"ftp://x\"\nmodel = \"m\"\n",
                "ftp://x",
            ),
            (
                "[alibaba.llm]\nfirst_token_timeout_ms = 30000\n",
                "first_token_timeout_ms",
            ),
            (
                "[alibaba.templates.a.llm]\nbase_url = \"http://x\"\nmodle = \"m\"\n",
                "modle",
            ),
        ] {
            std::fs::write(&file, bad).unwrap();
            let error = format!("{:#}", MockConfig::load(Some(&file), |_| None).unwrap_err());
            assert!(error.contains(named), "{error}");
        }
    }

    #[test]
    fn the_aui_target_section_takes_one_auth_or_a_list() {
        let text = r#"
            [target.aui]
            auth = ["header:X-Gw-Key:k3y", "bearer:t0k"]
            login_path = "/sso/login"
            routes = "all"
        "#;
        let config: MockConfig = toml::from_str(text).unwrap();
        assert_eq!(
            config.target.aui.auth.items(),
            ["header:X-Gw-Key:k3y", "bearer:t0k"]
        );
        assert_eq!(config.target.aui.routes, OneOrMany::One("all".into()));
        assert_eq!(config.target.aui.login_path.as_deref(), Some("/sso/login"));
        let one: MockConfig = toml::from_str("[target.aui]\nauth = \"none\"\n").unwrap();
        assert_eq!(one.target.aui.auth.items(), ["none"]);
        assert!(toml::from_str::<MockConfig>("[target.aui]\nauht = \"none\"\n").is_err());
        assert!(toml::from_str::<MockConfig>("[target.aui]\nauth = 3\n").is_err());
    }

    #[test]
    fn every_toml_example_in_the_manual_loads() {
        let pages = [
            include_str!("../../docs/src/configuration.md"),
            include_str!("../../docs/src/mocks.md"),
            include_str!("../../docs/src/llm.md"),
        ];
        let blocks: Vec<&str> = pages
            .iter()
            .flat_map(|page| page.split("```toml\n").skip(1))
            .map(|rest| rest.split("```").next().unwrap_or(""))
            // An included file is an example that must fail (misspelt.toml), shown as it is.
            .filter(|block| !block.starts_with("{{#include"))
            // A journey file's steps (llm.md shows one) are load's, not the mocks' config.
            .filter(|block| !block.starts_with("[[journeys"))
            .collect();
        assert!(blocks.len() >= 3, "the manual shows its config examples");
        for block in blocks {
            let config: MockConfig = toml::from_str(block)
                .unwrap_or_else(|e| panic!("the manual's example does not load: {e}\n{block}"));
            assert!(!config.aui.app_id.is_empty());
        }
    }
}
