//! What a DUIX mock is started with: the apps it knows, where their dialogue webhooks live, and the
//! public address of its session WebSocket.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The demo app's id, printed by `agentproof mock`.
pub const DEMO_APP_ID: &str = "1234567890";
/// The demo app's key (the JWT secret).
pub const DEMO_APP_KEY: &str = "agentproof-duix-demo-key";
/// The demo app's crop (customer) id, sent as `sid` to webhooks; seed 003's example value.
pub const DEMO_CROP_ID: &str = "100003";
/// Concurrent sessions an app may hold when its config says nothing.
pub const DEFAULT_QUOTA: u32 = 2;
/// Largest quota honoured: it also bounds the sessions one app can hold.
pub const MAX_QUOTA: u32 = 1000;
/// The seed's limit for a webhook answer.
pub const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 20_000;
/// How long one WebSocket frame may wait for a client that does not read.
pub const DEFAULT_WS_SEND_TIMEOUT_MS: u64 = 30_000;

/// The mock's configuration. Every field has a default, so `{}` is a valid config.
#[derive(Deserialize, Clone, Debug)]
#[serde(default, deny_unknown_fields)]
pub struct DuixConfig {
    /// The apps whose tokens are accepted. Default: the demo app alone.
    pub apps: Vec<DuixApp>,
    /// Dialogue webhook per `dh-code` (the session's conversationId).
    pub webhooks: BTreeMap<String, String>,
    /// Webhook for every `dh-code` not in `webhooks`.
    pub default_webhook: Option<String>,
    /// How long a webhook may take for a whole answer (seed 003: 20000 ms).
    pub webhook_timeout_ms: u64,
    /// How long sending one WebSocket frame may take. A client that stops reading fills the
    /// socket's buffers and the send waits; past this the connection is dropped and its session
    /// ends, freeing the app's slot (at least 1 ms).
    pub ws_send_timeout_ms: u64,
    /// Base of the `wsService` URL checkSig returns, e.g. `wss://duix.example.com`; by default it is
    /// `ws://` plus the Host header of the checkSig request.
    pub public_ws_base: Option<String>,
    /// Sent as `Authorization: Bearer <secret>` to every webhook of this config (the reference
    /// webhook's `--secret`); never logged.
    pub webhook_bearer: Option<String>,
}

/// One app: its credentials, quota and customer id.
#[derive(Deserialize, Clone, Debug)]
#[serde(default, deny_unknown_fields)]
pub struct DuixApp {
    pub app_id: String,
    /// The JWT secret ("appKey" / "appSecret" in DUIX's documents).
    pub app_key: String,
    /// Most concurrent sessions (capped at [`MAX_QUOTA`]).
    pub quota: u32,
    /// The customer id: `cropId` of getconcurrentNumber and `sid` of webhook calls. Empty means
    /// the app id.
    pub crop_id: String,
}

impl Default for DuixConfig {
    /// The demo app ([`DEMO_APP_ID`], [`DEMO_APP_KEY`], quota 2), no webhook, 20000 ms webhook
    /// timeout, 30000 ms WebSocket send timeout.
    fn default() -> Self {
        Self {
            apps: vec![DuixApp::default()],
            webhooks: BTreeMap::new(),
            default_webhook: None,
            webhook_timeout_ms: DEFAULT_WEBHOOK_TIMEOUT_MS,
            ws_send_timeout_ms: DEFAULT_WS_SEND_TIMEOUT_MS,
            public_ws_base: None,
            webhook_bearer: None,
        }
    }
}

impl Default for DuixApp {
    /// The demo app.
    fn default() -> Self {
        Self {
            app_id: DEMO_APP_ID.into(),
            app_key: DEMO_APP_KEY.into(),
            quota: DEFAULT_QUOTA,
            crop_id: DEMO_CROP_ID.into(),
        }
    }
}

impl DuixApp {
    /// The quota actually enforced.
    pub fn effective_quota(&self) -> usize {
        self.quota.min(MAX_QUOTA) as usize
    }

    /// The customer id sent as `sid` and `cropId`.
    pub fn crop(&self) -> &str {
        if self.crop_id.is_empty() {
            &self.app_id
        } else {
            &self.crop_id
        }
    }
}
