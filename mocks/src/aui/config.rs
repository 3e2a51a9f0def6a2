//! What an AUI app server needs to know: its RTC app, who may log in, and where the cloud is.
//!
//! [`AuiConfig::default`] is the demo set-up `agentproof mock` prints: app `agentproof-demo-app`,
//! user `demo` / password `demo`, auth on. Only `upstream` has no usable default: the caller points
//! it at the embedded Alibaba mock or at the real ICE endpoint (see the `aui` module doc).

use serde::Deserialize;

/// The AUI app server's configuration. Every field has a default (`#[serde(default)]`), so a TOML
/// or JSON file names only what differs from the demo.
#[derive(Deserialize, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct AuiConfig {
    /// ARTC app id (`biz.live_mic.app_id` in the Java server).
    pub app_id: String,
    /// ARTC app key (`biz.live_mic.app_key`): signs every RTC token this server makes.
    pub app_key: String,
    /// Whether `/api/v2/aiagent/*` needs `Authorization: Bearer <token>` from the login route.
    pub auth: bool,
    /// The one user the login route accepts.
    pub login_user: String,
    /// That user's password.
    pub login_password: String,
    /// More users the login route accepts, beside `login_user`: a load test's many accounts.
    pub users: Vec<LoginUser>,
    /// A CSV file of more users (a header row naming `user` and `password` columns), read when
    /// the configuration is loaded, relative to the configuration file; its rows join `users`.
    pub users_file: String,
    /// HMAC-SHA256 key of the bearer tokens. Empty (the default): a random key per process, so
    /// tokens do not survive a restart and no published key can forge one. Set it when several
    /// instances must accept each other's tokens.
    pub jwt_secret: String,
    /// Bearer token lifetime in seconds; the sister AUI servers use 7 days (PROTOCOLS.md §4.2).
    pub token_ttl_secs: u64,
    /// The Alibaba OpenAPI (ICE 2020-11-09) this server calls.
    pub upstream: UpstreamConfig,
    /// The agent started for each `workflow_type` when a request names none.
    pub agents: AgentIds,
}

/// A user the login route accepts.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LoginUser {
    pub user: String,
    pub password: String,
}

/// Where ICE is, and the AccessKey that signs calls to it.
#[derive(Deserialize, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Base URL without a path, e.g. `http://127.0.0.1:8081` (embedded mock) or
    /// `https://ice.{region}.aliyuncs.com`: `{region}` is replaced by the request's `region`, or by
    /// [`UpstreamConfig::region`] when the request has none. Empty: upstream routes answer 502.
    pub endpoint: String,
    /// AccessKey id (`biz.openapi.access.key`).
    pub access_key_id: String,
    /// AccessKey secret (`biz.openapi.access.secret`).
    pub access_key_secret: String,
    /// Region used when a request names none.
    pub region: String,
    /// Whole-call limit (connect, send, read the answer), milliseconds; past it the client gets 504.
    pub timeout_ms: u64,
}

/// `AIAgentId` per workflow type, as the Java server's `biz.ai_agent.*_agent_id` settings.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentIds {
    /// `VoiceChat` (voice only).
    pub voice_chat: String,
    /// `AvatarChat3D` (digital human).
    pub avatar_chat_3d: String,
    /// `VisionChat` (camera).
    pub vision_chat: String,
}

/// Demo user name, documented in the README and printed by `agentproof mock`.
pub const DEMO_USER: &str = "demo";
/// Demo password.
pub const DEMO_PASSWORD: &str = "demo";
/// A week, the bearer lifetime of §4.2.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 7 * 24 * 60 * 60;

impl Default for AuiConfig {
    fn default() -> Self {
        Self {
            app_id: "agentproof-demo-app".into(),
            app_key: "agentproof-demo-app-key".into(),
            auth: true,
            login_user: DEMO_USER.into(),
            login_password: DEMO_PASSWORD.into(),
            users: Vec::new(),
            users_file: String::new(),
            jwt_secret: String::new(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            upstream: UpstreamConfig::default(),
            agents: AgentIds::default(),
        }
    }
}

impl AuiConfig {
    /// Reads `users_file` (relative to `base`, the configuration file's folder) into `users`.
    pub fn read_users_file(&mut self, base: &std::path::Path) -> Result<(), String> {
        if self.users_file.is_empty() {
            return Ok(());
        }
        let path = base.join(&self.users_file);
        let shown = path.display();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(&path)
            .map_err(|e| format!("[aui] users_file {shown}: {e}"))?;
        let header = reader
            .headers()
            .map_err(|e| format!("[aui] users_file {shown}: {e}"))?
            .clone();
        let column = |name: &str| header.iter().position(|h| h == name);
        let (Some(user), Some(password)) = (column("user"), column("password")) else {
            return Err(format!(
                "[aui] users_file {shown}: its header row must name a user and a password column"
            ));
        };
        for (n, row) in reader.records().enumerate() {
            let row = row.map_err(|e| format!("[aui] users_file {shown}: row {}: {e}", n + 2))?;
            self.users.push(LoginUser {
                user: row.get(user).unwrap_or_default().to_string(),
                password: row.get(password).unwrap_or_default().to_string(),
            });
        }
        Ok(())
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            access_key_id: String::new(),
            access_key_secret: String::new(),
            region: "cn-shanghai".into(),
            timeout_ms: 5000,
        }
    }
}

impl Default for AgentIds {
    fn default() -> Self {
        Self {
            voice_chat: "agentproof_voice_chat_agent".into(),
            avatar_chat_3d: "agentproof_avatar_chat_3d_agent".into(),
            vision_chat: "agentproof_vision_chat_agent".into(),
        }
    }
}

impl AgentIds {
    /// The agent configured for a workflow type.
    pub fn for_workflow(&self, workflow: Workflow) -> &str {
        match workflow {
            Workflow::VoiceChat => &self.voice_chat,
            Workflow::AvatarChat3D => &self.avatar_chat_3d,
            Workflow::VisionChat => &self.vision_chat,
        }
    }
}

/// The three `workflow_type` values of the AUI routes; each is also the key of the nested
/// `RuntimeConfig` the server sends to `StartAIAgentInstance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workflow {
    VoiceChat,
    AvatarChat3D,
    VisionChat,
}

impl Workflow {
    /// Every workflow, in the order error messages list them.
    pub const ALL: [Workflow; 3] = [
        Workflow::VoiceChat,
        Workflow::AvatarChat3D,
        Workflow::VisionChat,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::VoiceChat => "VoiceChat",
            Workflow::AvatarChat3D => "AvatarChat3D",
            Workflow::VisionChat => "VisionChat",
        }
    }

    /// Parses a wire name in any case, as the Java server's `equalsIgnoreCase` does.
    pub fn parse(name: &str) -> Option<Workflow> {
        Self::ALL
            .into_iter()
            .find(|w| w.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Debug for AuiConfig {
    /// Secrets are left out: a config may be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuiConfig")
            .field("app_id", &self.app_id)
            .field("auth", &self.auth)
            .field("login_user", &self.login_user)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("upstream", &self.upstream)
            .field("agents", &self.agents)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_config_keeps_the_demo_defaults() {
        let config: AuiConfig =
            serde_json::from_str(r#"{"app_id":"x","upstream":{"endpoint":"http://h"}}"#).unwrap();
        assert_eq!(config.app_id, "x");
        assert_eq!(config.login_user, "demo");
        assert!(config.auth);
        assert_eq!(config.upstream.region, "cn-shanghai");
        assert_eq!(config.upstream.timeout_ms, 5000);
        assert_eq!(config.token_ttl_secs, 7 * 86400);
    }

    #[test]
    fn workflow_names_round_trip_in_any_case() {
        for w in Workflow::ALL {
            assert_eq!(Workflow::parse(w.as_str()), Some(w));
        }
        assert_eq!(Workflow::parse("voicechat"), Some(Workflow::VoiceChat));
        assert_eq!(Workflow::parse("VoiceChat2"), None);
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let mut config = AuiConfig::default();
        config.upstream.access_key_secret = "s3cret".into();
        let text = format!("{config:?}");
        assert!(!text.contains("s3cret") && !text.contains("agentproof-demo-app-key"));
    }
}
