//! The Alibaba Cloud OpenAPI mock: RTC 2018-01-11 (StartAgent, StopAgent, UpdateAgent, GetAgent)
//! and ICE 2020-11-09 (StartAIAgentInstance, StopAIAgentInstance, UpdateAIAgentInstance,
//! DescribeAIAgentInstance, GenerateAIAgentCall, GenerateMessageChatToken) on one endpoint, as
//! the official SDKs call them: `GET` or `POST /`, the action and version in the query (V1,
//! HMAC-SHA1) or in `x-acs-*` headers (V3, `ACS3-HMAC-SHA256`), parameters in the query or a
//! form body, nested objects as JSON strings.
//!
//! Demo credentials ([`AlibabaConfig::default`]): AccessKey id `LTAI5tAgentproofDemoKey`,
//! secret `AgentproofDemoSecret0123456789`.
//!
//! How a request goes through (one file per step):
//! - [`gateway`]: parse into an [`gateway::ApiRequest`], then the gateway checks in the order of
//!   PROTOCOLS.md §2 (key, signature method, timestamp, signature, [`nonce`], [`throttle`],
//!   version, action);
//! - [`actions`]: the handlers, which validate parameters with [`validate`] (seed 002's ranges)
//!   and read and change [`state`];
//! - [`envelope`]: the answer, JSON or XML (`Format=XML`), errors as
//!   `{RequestId, HostId, Code, Message, Recommend}` with the error's HTTP status.
//!
//! Beside the OpenAPI, [`llm`]: the agents converse with a third-party LLM through
//! `/__admin/agents/{id}/say`, calling it as the platform does; its `vendor` is a reference LLM
//! endpoint.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mocks::alibaba::{start, AlibabaConfig};
//! let server = start(AlibabaConfig::default(), mocks::VirtualClock::new(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("Alibaba OpenAPI mock on {}", server.url());
//! # Ok(()) }
//! ```

pub mod actions;
pub mod envelope;
pub mod gateway;
pub mod llm;
pub mod nonce;
pub mod state;
pub mod throttle;
pub mod validate;

use crate::limits::Limits;
use crate::platform::{InfraError, MockContext, Platform, RequestId, RequestMeta};
use crate::{MockServer, VirtualClock};
use actions::{Action, ActionContext, Product};
use axum::body::Bytes;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use envelope::{Failure, Format, Origin};
use nonce::NonceStore;
use protocol::alibaba::timestamp::NONCE_TTL_MS;
use protocol::alibaba::ApiError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use throttle::Throttle;

/// HostId of ICE answers.
const ICE_HOST_ID: &str = "ice.aliyuncs.com";

/// One AccessKey pair.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl std::fmt::Debug for Credential {
    /// The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .finish()
    }
}

/// The mock's settings, loadable from a TOML `[alibaba]` section (every field optional).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlibabaConfig {
    /// Accepted AccessKeys.
    pub credentials: Vec<Credential>,
    /// `HostId` of RTC answers and of errors before the product is known (ICE answers say
    /// `ice.aliyuncs.com`).
    pub host_id: String,
    /// `Throttling.User` past this many requests per second per AccessKey; `None`: no limit.
    pub rate_limit_per_sec: Option<u32>,
    /// How long a `SignatureNonce` stays used; raised to 31 minutes if set lower.
    pub nonce_window_secs: u64,
    /// Most nonces remembered; past it the oldest are forgotten (see [`nonce`]).
    pub nonce_capacity: usize,
    /// Most RTC agent tasks kept; past it the oldest stopped one goes first (see [`state`]).
    pub max_agent_tasks: usize,
    /// Most ICE AI-agent instances kept; past it the oldest finished one goes first.
    pub max_ai_agent_instances: usize,
    /// RTC AppIds StartAgent and friends accept; `None` accepts any.
    pub rtc_app_ids: Option<Vec<String>>,
    /// How agents call their third-party LLM where the documentation is silent (`[alibaba.llm]`).
    pub llm: llm::LlmConfig,
    /// The LLM node of each ICE agent's template, by AIAgentId (`[alibaba.templates.<id>.llm]`).
    pub templates: BTreeMap<String, llm::Template>,
}

impl Default for AlibabaConfig {
    fn default() -> Self {
        Self {
            credentials: vec![Credential {
                access_key_id: "LTAI5tAgentproofDemoKey".into(),
                access_key_secret: "AgentproofDemoSecret0123456789".into(),
            }],
            host_id: "rtc.aliyuncs.com".into(),
            rate_limit_per_sec: None,
            nonce_window_secs: 31 * 60,
            nonce_capacity: 100_000,
            max_agent_tasks: state::MAX_AGENT_TASKS,
            max_ai_agent_instances: state::MAX_AI_AGENT_INSTANCES,
            rtc_app_ids: None,
            llm: llm::LlmConfig::default(),
            templates: BTreeMap::new(),
        }
    }
}

/// The platform: configuration and everything remembered, each behind its own short lock.
pub struct Alibaba {
    config: AlibabaConfig,
    clock: VirtualClock,
    nonces: Mutex<NonceStore>,
    throttle: Mutex<Throttle>,
    state: Mutex<state::State>,
    /// The client agents call their LLM with.
    caller: llm::call::Caller,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Alibaba {
    /// A mock with empty state.
    pub fn new(config: AlibabaConfig, clock: VirtualClock) -> Self {
        let window_ms = i64::try_from(config.nonce_window_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX)
            .max(NONCE_TTL_MS);
        Self {
            nonces: Mutex::new(NonceStore::new(window_ms, config.nonce_capacity)),
            throttle: Mutex::new(Throttle::new(config.rate_limit_per_sec)),
            state: Mutex::new(state::State::with_capacity(
                config.max_agent_tasks,
                config.max_ai_agent_instances,
            )),
            caller: llm::call::Caller::new(
                config.llm.first_token_timeout_ms,
                config.llm.timeout_ms,
            ),
            config,
            clock,
        }
    }

    fn secret_of(&self, access_key_id: &str) -> Option<&str> {
        self.config
            .credentials
            .iter()
            .find(|c| c.access_key_id == access_key_id)
            .map(|c| c.access_key_secret.as_str())
    }

    fn record_nonce(&self, nonce: &str, now_ms: i64) -> bool {
        lock(&self.nonces).check_and_record(nonce, now_ms)
    }

    fn throttle(&self, access_key_id: &str, now_ms: i64) -> Result<(), u64> {
        lock(&self.throttle).admit(access_key_id, now_ms)
    }

    /// How many nonces are remembered now (for tests of the bound).
    pub fn nonce_count(&self) -> usize {
        lock(&self.nonces).len()
    }

    fn host_id(&self, product: Option<Product>) -> &str {
        match product {
            Some(Product::Ice) => ICE_HOST_ID,
            _ => &self.config.host_id,
        }
    }

    fn run(
        &self,
        admitted: &gateway::Admitted,
        request_id: &str,
        now_ms: i64,
        host: Option<&str>,
    ) -> Result<serde_json::Value, ApiError> {
        let ctx = ActionContext {
            now_ms,
            request_id,
            rtc_app_ids: self.config.rtc_app_ids.as_deref(),
            host,
        };
        actions::dispatch(
            admitted.action,
            &admitted.params,
            &mut lock(&self.state),
            &ctx,
        )
    }

    /// Serves one request at `/`: the gateway's parse and checks, the action, the envelope.
    ///
    /// Public so that the fuzz targets (`fuzz/`) drive the same path a request takes.
    pub fn answer(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: Bytes,
        request_id: &str,
    ) -> Response {
        let now_ms = self.clock.now_ms();
        let (format, product, result) = match gateway::ApiRequest::parse(method, uri, headers, body)
        {
            Err(e) => (
                Format::from_raw_query(uri.query()),
                None,
                Err(Failure::from(e)),
            ),
            Ok(request) => {
                let host = headers.get("host").and_then(|h| h.to_str().ok());
                let result = gateway::admit(self, &request, now_ms).and_then(|admitted| {
                    let answer = self.run(&admitted, request_id, now_ms, host)?;
                    Ok((admitted.action, answer))
                });
                (request.format(), request.product_hint(), result)
            }
        };
        match result {
            Ok((action, body)) => {
                envelope::success(&format!("{}Response", action.name()), &body, format)
            }
            Err(failure) => {
                let origin = Origin {
                    request_id,
                    host_id: self.host_id(product),
                    product: product.map_or("", Product::code),
                    format,
                };
                envelope::error(&failure, &origin)
            }
        }
    }
}

impl Platform for Alibaba {
    fn name(&self) -> &'static str {
        "alibaba"
    }

    fn request_id_header(&self) -> &'static str {
        "x-acs-request-id"
    }

    /// The action the gateway will run: V3 (an `Authorization` header) reads `x-acs-action` and
    /// ignores a query `Action`, V1 the reverse; a fault rule must hit the action that runs.
    fn route_key(&self, _method: &Method, uri: &Uri, headers: &HeaderMap) -> String {
        let from_query = raw_param(uri.query(), "Action");
        let from_header = headers.get("x-acs-action").and_then(|v| v.to_str().ok());
        let action = if headers.contains_key("authorization") {
            from_header
        } else {
            from_query.as_deref().or(from_header)
        };
        action
            .and_then(Action::from_name)
            .map_or("unknown", Action::name)
            .to_string()
    }

    fn infra_error(&self, error: &InfraError, request: &RequestMeta<'_>) -> Response {
        let version = raw_param(request.uri.query(), "Version").or_else(|| {
            request
                .headers
                .get("x-acs-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        let product = version.as_deref().and_then(Product::from_version);
        let origin = Origin {
            request_id: request.request_id,
            host_id: self.host_id(product),
            product: product.map_or("", Product::code),
            format: Format::from_raw_query(request.uri.query()),
        };
        envelope::error(&Failure::from(infra_api_error(error)), &origin)
    }

    fn gauges(&self) -> Vec<crate::metrics::Gauge> {
        let (tasks, instances) = {
            let state = lock(&self.state);
            (state.tasks.len() as u64, state.instances.len() as u64)
        };
        vec![
            crate::metrics::Gauge {
                name: "agentproof_alibaba_nonces",
                help: "SignatureNonces remembered for replay checks (at most [alibaba] \
                       nonce_capacity).",
                value: self.nonce_count() as u64,
            },
            crate::metrics::Gauge {
                name: "agentproof_alibaba_agent_tasks",
                help: "RTC agent tasks kept, running or stopped (at most [alibaba] \
                       max_agent_tasks).",
                value: tasks,
            },
            crate::metrics::Gauge {
                name: "agentproof_alibaba_ai_agent_instances",
                help: "ICE AI-agent instances kept, executing or finished (at most [alibaba] \
                       max_ai_agent_instances).",
                value: instances,
            },
        ]
    }

    fn reset(&self) {
        lock(&self.nonces).clear();
        lock(&self.throttle).clear();
        lock(&self.state).clear();
    }
}

/// The gateway code and status of each machinery error.
fn infra_api_error(error: &InfraError) -> ApiError {
    let message = error.message();
    match error {
        InfraError::PayloadTooLarge { .. } => ApiError {
            message,
            ..ApiError::request_too_large()
        },
        InfraError::UriTooLong { .. } => ApiError::new("RequestTooLarge", 414, message),
        InfraError::HeadersTooLarge { .. } => ApiError::new("RequestTooLarge", 431, message),
        InfraError::BadBody(_) | InfraError::BadAdminRequest(_) => {
            ApiError::new("InvalidParameter", 400, message)
        }
        InfraError::RouteNotFound => ApiError::new(
            "InvalidApi.NotFound",
            404,
            "Specified api is not found, please check your url and method.",
        ),
        InfraError::MethodNotAllowed => ApiError::unsupported_http_method(),
        InfraError::Injected(e) => ApiError::new(e.code.clone(), e.status, message),
        InfraError::AdminNotFound(_) => ApiError::new("NotFound", 404, message),
    }
}

/// A param from a raw query, decoded leniently (route keys and envelopes must not fail).
fn raw_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

async fn serve(AxumState(ab): AxumState<Arc<Alibaba>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map_or_else(|| ab.new_request_id(), |id| id.0.clone());
    // The edge has already read and size-limited the body; this only unwraps it.
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    ab.answer(&parts.method, &parts.uri, &parts.headers, body, &request_id)
}

/// The platform, its context (holding `limits`) and its full router (admin routes included),
/// ready to serve with [`MockServer::start_with_limits`].
pub fn build(
    config: AlibabaConfig,
    clock: VirtualClock,
    limits: Limits,
) -> (Arc<MockContext>, Router) {
    let alibaba = Arc::new(Alibaba::new(config, clock.clone()));
    let ctx = Arc::new(MockContext::with_limits(alibaba.clone(), clock, limits));
    let routes = Router::new()
        .route("/", get(serve).post(serve))
        .merge(llm::say::routes())
        .with_state(alibaba);
    let router = crate::app(ctx.clone(), routes);
    (ctx, router)
}

/// Builds the mock and serves it on `addr` (port 0 picks a free one).
pub async fn start(
    config: AlibabaConfig,
    clock: VirtualClock,
    addr: SocketAddr,
) -> std::io::Result<MockServer> {
    let (_, router) = build(config, clock, Limits::default());
    MockServer::start(router, addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_config_keeps_the_defaults_for_the_rest() {
        let config: AlibabaConfig =
            serde_json::from_str(r#"{"rate_limit_per_sec": 5, "rtc_app_ids": ["app1"]}"#)
                .expect("partial config parses");
        assert_eq!(config.rate_limit_per_sec, Some(5));
        assert_eq!(config.credentials, AlibabaConfig::default().credentials);
        assert_eq!(config.nonce_window_secs, 31 * 60);
        assert!(!format!("{:?}", config.credentials).contains("AgentproofDemoSecret"));
    }

    #[test]
    fn route_keys_come_from_a_small_set() {
        let alibaba = Alibaba::new(AlibabaConfig::default(), VirtualClock::new());
        let key = |uri: &str, header: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(h) = header {
                headers.insert("x-acs-action", h.parse().expect("header value"));
            }
            let uri: Uri = uri.parse().expect("uri");
            alibaba.route_key(&Method::POST, &uri, &headers)
        };
        assert_eq!(key("/?Action=StartAgent", None), "StartAgent");
        assert_eq!(key("/", Some("GenerateAIAgentCall")), "GenerateAIAgentCall");
        assert_eq!(key("/?Action=Whatever%zz", None), "unknown");
        assert_eq!(key("/", None), "unknown");
    }

    #[test]
    fn a_v3_route_key_is_the_header_action_whatever_the_query_says() {
        let alibaba = Alibaba::new(AlibabaConfig::default(), VirtualClock::new());
        let mut headers = HeaderMap::new();
        headers.insert("x-acs-action", "GetAgent".parse().expect("header value"));
        headers.insert(
            "authorization",
            "ACS3-HMAC-SHA256 x".parse().expect("value"),
        );
        let uri: Uri = "/?Action=StartAIAgentInstance".parse().expect("uri");
        assert_eq!(alibaba.route_key(&Method::POST, &uri, &headers), "GetAgent");
    }
}
