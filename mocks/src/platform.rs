//! What each platform plugs into the shared mock machinery.
//!
//! The server, admin API, journal, faults and metrics are the same for Alibaba, AUI and DUIX; only a
//! few things differ, and [`Platform`] names them: how a request maps to a route key, how an error is
//! rendered in the platform's own envelope, which header carries the request id, and how state is reset.

use crate::clock::VirtualClock;
use crate::faults::{Faults, InjectedError};
use crate::journal::Journal;
use crate::limits::Limits;
use crate::metrics::{Gauge, Metrics};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

/// The request id given to one request, in its extensions; handlers put it in their answers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What an error renderer may look at: the request as it arrived, minus its body.
#[derive(Debug)]
pub struct RequestMeta<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub request_id: &'a str,
}

/// Errors raised by the shared machinery, before or instead of a platform handler.
#[derive(Debug, Clone)]
pub enum InfraError {
    /// The body is over the configured limit.
    PayloadTooLarge { limit: usize },
    /// The query string is over the configured limit.
    UriTooLong { limit: usize },
    /// The header section is over the configured limit.
    HeadersTooLarge { limit: usize },
    /// The body could not be read (client went away, broken chunking).
    BadBody(String),
    /// No route has that method and path.
    RouteNotFound,
    /// The path exists, not with that method.
    MethodNotAllowed,
    /// An error injected by a fault rule.
    Injected(InjectedError),
    /// A malformed request to `/__admin/*`.
    BadAdminRequest(String),
    /// An admin object (e.g. a fault rule id) that does not exist.
    AdminNotFound(String),
}

impl InfraError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            InfraError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            InfraError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            InfraError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            InfraError::BadBody(_) | InfraError::BadAdminRequest(_) => StatusCode::BAD_REQUEST,
            InfraError::RouteNotFound | InfraError::AdminNotFound(_) => StatusCode::NOT_FOUND,
            InfraError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            InfraError::Injected(e) => {
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }

    /// A message a person can act on.
    pub fn message(&self) -> String {
        match self {
            InfraError::PayloadTooLarge { limit } => {
                format!("Request body is larger than the limit of {limit} bytes.")
            }
            InfraError::UriTooLong { limit } => {
                format!("Query string is longer than the limit of {limit} bytes.")
            }
            InfraError::HeadersTooLarge { limit } => {
                format!("Request headers are larger than the limit of {limit} bytes.")
            }
            InfraError::BadBody(why) => format!("Request body could not be read: {why}"),
            InfraError::RouteNotFound => "No such route on this server.".into(),
            InfraError::MethodNotAllowed => {
                "This HTTP method is not supported on this route.".into()
            }
            InfraError::Injected(e) => e
                .message
                .clone()
                .unwrap_or_else(|| format!("Injected fault: {}", e.code)),
            InfraError::BadAdminRequest(why) => format!("Bad admin request: {why}"),
            InfraError::AdminNotFound(what) => format!("Not found: {what}"),
        }
    }
}

/// The per-platform part of a mock server.
pub trait Platform: Send + Sync + 'static {
    /// `alibaba`, `aui` or `duix`.
    fn name(&self) -> &'static str;

    /// The response header that carries the request id.
    fn request_id_header(&self) -> &'static str {
        "x-request-id"
    }

    /// A fresh request id in the platform's format.
    fn new_request_id(&self) -> String {
        // Written uppercase at once (not a lowercase string, then an uppercase copy of it).
        uuid::Uuid::new_v4()
            .hyphenated()
            .encode_upper(&mut uuid::Uuid::encode_buffer())
            .to_string()
    }

    /// The key that faults, metrics and the journal file this request under: an Alibaba action, or
    /// a route path. It must come from a small set (unknown routes share one key).
    fn route_key(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> String;

    /// Renders a machinery error in the platform's own envelope.
    fn infra_error(&self, error: &InfraError, request: &RequestMeta<'_>) -> Response;

    /// Forgets all platform state (agents, sessions, tokens).
    fn reset(&self);

    /// The platform's OpenAPI document, served at `/__admin/openapi.json` when there is one.
    fn openapi(&self) -> Option<serde_json::Value> {
        None
    }

    /// Sizes of the platform's own bounded stores, shown at `/metrics` (so that a test or a soak
    /// can see a bound hold).
    fn gauges(&self) -> Vec<Gauge> {
        Vec::new()
    }
}

/// Everything one running mock shares between its edge, its admin API and its handlers.
pub struct MockContext {
    pub platform: Arc<dyn Platform>,
    pub clock: VirtualClock,
    pub journal: Journal,
    pub faults: Faults,
    pub metrics: Metrics,
    /// The limits the edge and the connection loop apply. Give them with
    /// [`MockContext::with_limits`]: the journal's capacity is read once, at construction.
    pub limits: Limits,
    pub started: Instant,
    /// Requests the edge holds right now (admin calls excluded).
    pub in_flight: std::sync::atomic::AtomicUsize,
    /// Whether `/__admin/*` and `/metrics` are served. A server deployed in front of the real
    /// cloud (the AUI reference server) turns this off: anyone could move its clock otherwise.
    pub admin_enabled: std::sync::atomic::AtomicBool,
}

impl MockContext {
    /// A context with default limits around `platform`, reading time from `clock`.
    pub fn new(platform: Arc<dyn Platform>, clock: VirtualClock) -> Self {
        Self::with_limits(platform, clock, Limits::default())
    }

    /// A context around `platform` holding `limits`.
    pub fn with_limits(platform: Arc<dyn Platform>, clock: VirtualClock, limits: Limits) -> Self {
        Self {
            platform,
            clock,
            journal: Journal::with_capacity(limits.journal_capacity),
            faults: Faults::default(),
            metrics: Metrics::default(),
            limits,
            started: Instant::now(),
            in_flight: Default::default(),
            admin_enabled: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Stops serving `/__admin/*` and `/metrics` (they answer 404 in the platform's envelope).
    pub fn disable_admin(&self) {
        self.admin_enabled
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Resets platform state, journal, faults and metrics. The clock is shared between platforms
    /// and is reset too, back to real time.
    pub fn reset(&self) {
        self.platform.reset();
        self.journal.clear();
        self.faults.clear();
        self.metrics.clear();
        self.clock.reset();
    }
}
