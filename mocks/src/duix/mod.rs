//! The DUIX (硅基智能) openapi-v2 platform: tokens, concurrency accounting, the session WebSocket,
//! and the platform's side of the third-party dialogue webhook (seed 003, PROTOCOLS.md §5).
//!
//! [`build`] gives the router and its [`MockContext`], [`start`] serves it; [`DuixConfig`] names the
//! apps (default: the demo app `1234567890` with key `agentproof-duix-demo-key`, quota 2, crop id
//! `100003`) and the webhooks. [`vendor`] is a reference vendor webhook to point the platform at.
//!
//! # Routes
//! | route | what it does |
//! | --- | --- |
//! | `GET /duix-openapi-v2/sdk/checkSig?sig=` | checks the token; `data {appId, wsService}` |
//! | `GET /duix-openapi-v2/ws?sig=` | the session WebSocket ([`ws`], DUIX-SESSION.md) |
//! | `GET {v1,sdk/v2}/getconcurrentNumber?appId=` | `data {cropId, totalConcurrentNumber, userConcurrentNumber}` |
//! | `GET {v1,sdk/v2}/getconcurrentList?appId=` | `data [{sessionId, appId, conversationId?, userId?, startTime}]` |
//! | `GET {v1,sdk/v2}/distroyCallSessionsByAppId?appId=` | ends every session of the app; `data ""` |
//! | `GET {v1,sdk/v2}/sessionStop?uuid=` | ends one session of the token's app; `data ""` |
//! | `GET /__duix/webhooks` | `{"default": target, "webhooks": {"<dh-code>": target}}` |
//! | `POST /__duix/webhooks` | `{"dh_code", "url" (null removes), "stream"?: bool, "bearer"?}`; `"*"` is the default |
//! | `GET /__duix/webhook-stats` | per dh-code: calls, answered, timed_out, failed, over_2000ms, latency_ms |
//!
//! `{v1,sdk/v2}` is `/duix-openapi-v2/v1/` or `/duix-openapi-v2/sdk/v2/`. Management calls carry the
//! token in the `token` header; their `appId` must be the token's app (otherwise 40001). `wsService`
//! is `ws://<Host of the checkSig request>/duix-openapi-v2/ws?sig=<sig>`, or
//! `<public_ws_base>/duix-openapi-v2/ws?sig=<sig>` when configured. Token expiry reads the virtual
//! clock. `/__duix/*` are this mock's own (not the platform's); a webhook registered there lasts
//! until `/__admin/reset`.
//!
//! # Codes and HTTP statuses
//! The real platform's statuses are not documented; this mock answers business errors with a
//! status that says the same thing, in the envelope `{code, message, data: null, success: false}`:
//!
//! | code | meaning | HTTP |
//! | --- | --- | --- |
//! | `0` | success (`success: true`) | 200 |
//! | `1005` | no `token` header / `sig` query | 401 |
//! | `1006` | token malformed, expired, or not HS256 | 401 |
//! | `40001` | unknown appId, token signed with another key, or `appId` query ≠ token's | 401 |
//! | `2002` | no such session (of this app) | 404 |
//! | `1007` | no dialogue: a conversationId with no webhook | 404 |
//! | `1009` | the app's quota of concurrent sessions is used up (WebSocket `start`) | 429 |
//! | `-1` | a malformed request (missing parameter, unreadable query or body) | 400 |
//! | `-1` | unknown route / method; body, query or headers too large | 404 / 405 / 413 / 414 / 431 |
//! | `-1`, `40002`, … | injected through `/__admin/faults`, with the rule's status | rule's |
//!
//! Webhook failures (timeout, unreachable, non-2xx, unreadable answer) are `40002`, reported on the
//! WebSocket, never as an HTTP status.

pub mod answer;
pub mod auth;
pub mod config;
pub mod envelope;
pub mod messages;
pub mod routes;
pub mod sessions;
pub mod stats;
pub mod vendor;
pub mod webhook;
pub mod ws;

pub use config::{DuixApp, DuixConfig, DEMO_APP_ID, DEMO_APP_KEY};

use crate::clock::VirtualClock;
use crate::limits::Limits;
use crate::platform::{InfraError, MockContext, Platform, RequestMeta};
use crate::server::{self, MockServer};
use auth::Apps;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use sessions::{Ending, Sessions};
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use webhook::Webhooks;

/// Everything the handlers and sockets share.
pub struct Shared {
    apps: Apps,
    clock: VirtualClock,
    sessions: Arc<Sessions>,
    webhooks: Webhooks,
    connections: AtomicUsize,
    public_ws_base: Option<String>,
    /// How long one frame may wait for a client that does not read.
    ws_send_timeout: Duration,
}

/// The DUIX platform as the shared machinery sees it.
pub struct Duix {
    shared: Arc<Shared>,
}

impl Platform for Duix {
    fn name(&self) -> &'static str {
        "duix"
    }

    /// The OpenAPI 3.1 document composed from our JSON Schemas, at `/__admin/openapi.json`.
    fn openapi(&self) -> Option<serde_json::Value> {
        schemas::openapi::openapi("duix")
    }

    fn route_key(&self, _method: &Method, uri: &Uri, _headers: &HeaderMap) -> String {
        let path = uri.path();
        if routes::is_route(path) {
            path
        } else {
            "unknown"
        }
        .to_string()
    }

    fn infra_error(&self, error: &InfraError, _request: &RequestMeta<'_>) -> Response {
        let code = match error {
            InfraError::Injected(injected) => injected.code.as_str(),
            _ => protocol::duix::DuixError::SYSTEM_ERROR.code,
        };
        envelope::failure(error.status(), code, &error.message())
    }

    /// Ends every session (`bye` reason `reset`), forgets run-time webhooks and statistics.
    fn reset(&self) {
        self.shared.sessions.stop_all(None, Ending::Reset);
        self.shared.webhooks.reset();
    }
}

/// The DUIX mock's whole application (platform routes, `/__admin`, the edge) and its context,
/// holding `limits`; serve it with [`MockServer::start_with_limits`].
pub fn build(
    config: DuixConfig,
    clock: VirtualClock,
    limits: Limits,
) -> (Arc<MockContext>, axum::Router) {
    let shared = Arc::new(Shared {
        apps: config
            .apps
            .iter()
            .map(|app| (app.app_id.clone(), Arc::new(app.clone())))
            .collect(),
        clock: clock.clone(),
        sessions: Arc::new(Sessions::default()),
        webhooks: Webhooks::new(
            &config.webhooks,
            config.default_webhook.as_deref(),
            config.webhook_bearer.as_deref(),
            config.webhook_timeout_ms,
        ),
        connections: AtomicUsize::new(0),
        public_ws_base: config.public_ws_base,
        ws_send_timeout: Duration::from_millis(config.ws_send_timeout_ms.max(1)),
    });
    let platform = Arc::new(Duix {
        shared: shared.clone(),
    });
    let ctx = Arc::new(MockContext::with_limits(platform, clock, limits));
    let app = server::app(ctx.clone(), routes::router(shared));
    (ctx, app)
}

/// Builds the mock and serves it on `addr` (port 0 picks one).
pub async fn start(
    config: DuixConfig,
    clock: VirtualClock,
    addr: SocketAddr,
) -> std::io::Result<MockServer> {
    let (_ctx, app) = build(config, clock, Limits::default());
    MockServer::start(app, addr).await
}
