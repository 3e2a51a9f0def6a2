//! The AUI Kits v2 app server (MediaBox-AUIKits/AUIAICall, routes of server v2.2.0): a reference
//! implementation that a team can deploy in front of the real Alibaba Cloud, and the mock client
//! developers run on laptops in front of the embedded Alibaba mock.
//!
//! It makes ARTC tokens locally from its app id and key (PROTOCOLS.md §4.1), calls ICE 2020-11-09
//! upstream with V3 signatures (`upstream.rs`), guards its routes with a bearer login (§4.2,
//! `auth.rs`) and answers in the AUI envelope (§4.4, [`AuiError`], `envelope.rs`). The rest of the
//! split: `config.rs` ([`AuiConfig`]), `routes.rs` (the table below), `state.rs` (what handlers
//! share), `handlers/` (one file per group of routes).
//!
//! | route (all `POST`, JSON, snake_case) | request (`*` required) | answer besides `"code":200` | upstream |
//! | --- | --- | --- | --- |
//! | `/api/v2/aiagent/login` (no token needed) | username*, password* | token, expire (unix s) | — |
//! | `/api/v2/aiagent/getRtcAuthToken` | user_id*, channel_id | rtc_auth_token, channel_id, timestamp | — (local, 24 h) |
//! | `/api/v2/aiagent/generateMessageChatToken` | ai_agent_id*, user_id*, role, expire, region | message, request_id, app_id, token, user_id, nonce, role, timestamp, app_sign | GenerateMessageChatToken |
//! | `/api/v2/aiagent/describeAIAgentInstance` | user_id*, ai_agent_instance_id*, region | message, request_id, call_log_url, runtime_config, status, template_config, user_data, agent_config | DescribeAIAgentInstance |
//! | `/api/v2/aiagent/startAIAgentInstance` | user_id*, workflow_type*, template_config, user_data, session_id, chat_sync_config | ai_agent_instance_id, rtc_auth_token, ai_agent_user_id, channel_id, request_id | StartAIAgentInstance |
//! | `/api/v2/aiagent/startAIAgentInstanceWithChannel` | user_id*, ai_agent_id*, channel_id*, workflow_type*, region*, template_config, user_data, session_id, chat_sync_config | ai_agent_instance_id, ai_agent_user_id, request_id | StartAIAgentInstance |
//! | `/api/v2/aiagent/stopAIAgentInstance` | ai_agent_instance_id*, region | result, request_id | StopAIAgentInstance |
//! | `/api/v2/aiagent/updateAIAgentInstance` | ai_agent_instance_id*, template_config*, user_data, region | result, request_id | UpdateAIAgentInstance |
//! | `/api/v2/aiagent/generateAIAgentCall` | ai_agent_id, expire, user_id, template_config*, workflow_type, region, user_data, session_id, chat_sync_config | rtc_auth_token, ai_agent_id, ai_agent_instance_id, ai_agent_user_id, channel_id, workflow_type, request_id | GenerateAIAgentCall |
//!
//! `user_id` is `A-Z a-z 0-9 _`, at most 64 bytes; `workflow_type` is `VoiceChat`, `AvatarChat3D`
//! or `VisionChat` (any case); the config fields take a JSON object or a string holding one.
//! Every route answers `OPTIONS` with a 204 CORS preflight.
//!
//! Where this server differs from the Java one, on purpose:
//! - the HTTP status equals the envelope's `code`: 400 for bad input (Java: HTTP 200, code 500,
//!   key `msg`), the upstream's status for an Alibaba error, 502/504 when the cloud is unreachable,
//!   slow or answers garbage, 502 with the Alibaba code when the cloud refuses this server's own
//!   AccessKey, signature, clock or rights, 403 only without a valid bearer token (Java
//!   authenticates nobody);
//! - the upstream is never redirected to, and `region` must look like a region id (`cn-shanghai`);
//! - `getRtcAuthToken` answers the channel id it used, also when it made one (Java: the request's,
//!   i.e. null), and requires `user_id`;
//! - RTC tokens carry no `gslb` (as the Java server from 2.5.0 on).
//!
//! # Pointing it at the real cloud
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use mocks::aui::{AuiConfig, UpstreamConfig};
//! let config = AuiConfig {
//!     app_id: "<ARTC app id>".into(),
//!     app_key: "<ARTC app key>".into(),
//!     login_password: "<a real password>".into(),
//!     jwt_secret: "<32+ random bytes>".into(),
//!     upstream: UpstreamConfig {
//!         endpoint: "https://ice.{region}.aliyuncs.com".into(),
//!         access_key_id: "<AccessKey id with ICE rights>".into(),
//!         access_key_secret: "<AccessKey secret>".into(),
//!         ..UpstreamConfig::default()
//!     },
//!     agents: mocks::aui::AgentIds {
//!         voice_chat: "<AIAgentId from the IMS console>".into(),
//!         ..Default::default()
//!     },
//!     ..AuiConfig::default()
//! };
//! let server = mocks::aui::start(config, mocks::VirtualClock::new(), "0.0.0.0:8080".parse().unwrap()).await?;
//! # Ok(()) }
//! ```
//! `x-acs-date` is taken from the virtual clock, which equals real UTC as long as nobody moves it
//! through `/__admin/clock`; the admin routes should not be reachable from outside a deployment.

mod auth;
mod config;
mod envelope;
mod handlers;
mod routes;
mod state;
mod upstream;

pub use config::{AgentIds, AuiConfig, UpstreamConfig, Workflow, DEMO_PASSWORD, DEMO_USER};

/// What the fuzz targets (`fuzz/`) drive: the request body reader every handler uses, and the
/// bearer check of the protected routes. Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::auth::{check_bearer, sign as sign_bearer, verify as verify_bearer};
    pub use super::handlers::token::EXPIRE_RANGE;
    pub use super::handlers::{Fields, MAX_ID_CHARS, MAX_SESSION_ID_CHARS};
}
pub use envelope::AuiError;
pub use routes::ROUTES;

use crate::clock::VirtualClock;
use crate::limits::Limits;
use crate::platform::{InfraError, MockContext, Platform, RequestMeta};
use crate::server::MockServer;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

/// The AUI app server's part of the shared mock machinery.
pub struct Aui;

impl Platform for Aui {
    fn name(&self) -> &'static str {
        "aui"
    }

    /// The OpenAPI 3.1 document composed from our JSON Schemas, at `/__admin/openapi.json`.
    fn openapi(&self) -> Option<serde_json::Value> {
        schemas::openapi::openapi("aui")
    }

    fn route_key(&self, _method: &Method, uri: &Uri, _headers: &HeaderMap) -> String {
        routes::route_key(uri.path()).to_string()
    }

    fn infra_error(&self, error: &InfraError, _request: &RequestMeta<'_>) -> Response {
        let code = match error {
            InfraError::PayloadTooLarge { .. } => "PayloadTooLarge",
            InfraError::UriTooLong { .. } => "UriTooLong",
            InfraError::HeadersTooLarge { .. } => "HeadersTooLarge",
            InfraError::BadBody(_) | InfraError::BadAdminRequest(_) => "InvalidBody",
            InfraError::RouteNotFound | InfraError::AdminNotFound(_) => "NotFound",
            InfraError::MethodNotAllowed => "MethodNotAllowed",
            InfraError::Injected(injected) => injected.code.as_str(),
        };
        AuiError::new(error.status(), code, error.message()).into_response()
    }

    /// Nothing to forget: the server keeps no state of its own (see `state.rs`); bearer tokens
    /// verify themselves and agent instances live upstream.
    fn reset(&self) {}
}

/// The AUI app server's context (holding `limits`) and whole application (its routes,
/// `/__admin`, `/metrics`); serve it with [`MockServer::start_with_limits`].
pub fn build(config: AuiConfig, clock: VirtualClock, limits: Limits) -> (Arc<MockContext>, Router) {
    build_on(config, clock, limits, None)
}

/// As [`build`], for an upstream endpoint that this process serves with `alibaba` (the Alibaba
/// mock's application from [`crate::alibaba::build`], on the same clock): ICE calls go to it
/// directly, as `agentproof mock` runs the two, and skip the socket round trip between them.
pub fn build_beside_alibaba(
    config: AuiConfig,
    clock: VirtualClock,
    limits: Limits,
    alibaba: Router,
) -> (Arc<MockContext>, Router) {
    build_on(config, clock, limits, Some(alibaba))
}

fn build_on(
    config: AuiConfig,
    clock: VirtualClock,
    limits: Limits,
    alibaba: Option<Router>,
) -> (Arc<MockContext>, Router) {
    let ctx = Arc::new(MockContext::with_limits(
        Arc::new(Aui),
        clock.clone(),
        limits,
    ));
    let state = Arc::new(state::AuiState::new(config, clock, alibaba));
    let app = crate::server::app(ctx.clone(), routes::router(state));
    (ctx, app)
}

/// Builds the server and serves it on `addr` (port 0 picks a free port).
pub async fn start(
    config: AuiConfig,
    clock: VirtualClock,
    addr: SocketAddr,
) -> std::io::Result<MockServer> {
    let (_, app) = build(config, clock, Limits::default());
    MockServer::start(app, addr).await
}
