//! The admin API, mounted on every mock: wiremock's test API over HTTP.
//!
//! | route | what it does |
//! | --- | --- |
//! | `GET /__admin/health` | `{"status":"ok","platform","uptime_ms","in_flight"}`: poll it for readiness |
//! | `GET /__admin/clock` | `{"now_ms","now","offset_ms"}` of the virtual clock |
//! | `POST /__admin/clock` | one of `{"now_ms":N}`, `{"advance_ms":N}`, `{"offset_ms":N}` |
//! | `POST /__admin/reset` | forgets platform state, journal, faults, metrics; clock back to real time |
//! | `GET /__admin/requests?limit=N&route=R` | newest N journal entries (default 100), oldest first |
//! | `DELETE /__admin/requests` | empties the journal |
//! | `GET /__admin/faults` | the fault rules |
//! | `POST /__admin/faults` | adds a rule (see [`crate::faults::FaultRule`]), answers its id |
//! | `DELETE /__admin/faults[/{id}]` | removes all rules, or one |
//! | `GET /__admin/openapi.json` | the platform's OpenAPI document, where it has one |
//! | `GET /metrics` | Prometheus text: counters, latency histograms, and the sizes of the bounded stores |
//!
//! The clock is shared by every platform of one process: moving it on one server moves it for all.

use crate::faults::FaultRule;
use crate::platform::{InfraError, MockContext, RequestId};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

type Ctx = State<Arc<MockContext>>;

/// The `/__admin` routes and `/metrics`, bound to one mock's context.
pub fn router(ctx: Arc<MockContext>) -> Router {
    Router::new()
        .route("/__admin/health", get(health))
        .route("/__admin/clock", get(clock_get).post(clock_set))
        .route("/__admin/reset", post(reset))
        .route("/__admin/requests", get(requests).delete(requests_clear))
        .route(
            "/__admin/faults",
            get(faults_list).post(faults_add).delete(faults_clear),
        )
        .route("/__admin/faults/{id}", delete(faults_remove))
        .route("/__admin/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .with_state(ctx)
}

async fn health(State(ctx): Ctx) -> Response {
    Json(json!({
        "status": "ok",
        "platform": ctx.platform.name(),
        "uptime_ms": ctx.started.elapsed().as_millis() as u64,
        "in_flight": ctx.in_flight.load(std::sync::atomic::Ordering::Relaxed),
    }))
    .into_response()
}

fn clock_json(ctx: &MockContext) -> Response {
    let now_ms = ctx.clock.now_ms();
    let now = crate::clock::rfc3339(now_ms);
    Json(json!({"now_ms": now_ms, "now": now, "offset_ms": ctx.clock.offset_ms()})).into_response()
}

async fn clock_get(State(ctx): Ctx) -> Response {
    clock_json(&ctx)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    now_ms: Option<i64>,
    advance_ms: Option<i64>,
    offset_ms: Option<i64>,
}

async fn clock_set(
    State(ctx): Ctx,
    Extension(id): Extension<RequestId>,
    request: Request,
) -> Response {
    let change: ClockChange = match parse_json(&ctx, &id, request).await {
        Ok(change) => change,
        Err(response) => return response,
    };
    match (change.now_ms, change.advance_ms, change.offset_ms) {
        (Some(now), None, None) => ctx.clock.set_now_ms(now),
        (None, Some(by), None) => ctx.clock.advance_ms(by),
        (None, None, Some(offset)) => ctx.clock.set_offset_ms(offset),
        _ => {
            let why = "give exactly one of now_ms, advance_ms, offset_ms (integers, milliseconds)";
            return admin_error(&ctx, &id, InfraError::BadAdminRequest(why.into()));
        }
    }
    clock_json(&ctx)
}

async fn reset(State(ctx): Ctx) -> Response {
    ctx.reset();
    Json(json!({"reset": true})).into_response()
}

async fn requests(
    State(ctx): Ctx,
    Extension(id): Extension<RequestId>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut limit = 100;
    let mut route = None;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(&value.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        match key {
            "limit" => match value.parse() {
                Ok(n) => limit = n,
                Err(_) => {
                    let why = format!("limit must be a whole number, got {value:?}");
                    return admin_error(&ctx, &id, InfraError::BadAdminRequest(why));
                }
            },
            "route" => route = Some(value),
            _ => {}
        }
    }
    let entries = ctx.journal.recent(limit, route.as_deref());
    Json(json!({"count": entries.len(), "requests": entries})).into_response()
}

async fn requests_clear(State(ctx): Ctx) -> Response {
    ctx.journal.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn faults_list(State(ctx): Ctx) -> Response {
    Json(json!({"faults": ctx.faults.list()})).into_response()
}

async fn faults_add(
    State(ctx): Ctx,
    Extension(id): Extension<RequestId>,
    request: Request,
) -> Response {
    let rule: FaultRule = match parse_json(&ctx, &id, request).await {
        Ok(rule) => rule,
        Err(response) => return response,
    };
    match ctx.faults.add(rule) {
        Ok(rule_id) => (StatusCode::CREATED, Json(json!({"id": rule_id}))).into_response(),
        Err(e) => admin_error(&ctx, &id, InfraError::BadAdminRequest(e.to_string())),
    }
}

async fn faults_clear(State(ctx): Ctx) -> Response {
    ctx.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn faults_remove(
    State(ctx): Ctx,
    Extension(id): Extension<RequestId>,
    Path(rule): Path<String>,
) -> Response {
    match rule.parse::<u64>() {
        Ok(rule) if ctx.faults.remove(rule) => StatusCode::NO_CONTENT.into_response(),
        _ => admin_error(
            &ctx,
            &id,
            InfraError::AdminNotFound(format!("fault rule {rule}")),
        ),
    }
}

async fn openapi(State(ctx): Ctx, Extension(id): Extension<RequestId>) -> Response {
    match ctx.platform.openapi() {
        Some(doc) => Json(doc).into_response(),
        None => admin_error(
            &ctx,
            &id,
            InfraError::AdminNotFound("an OpenAPI document for this platform".into()),
        ),
    }
}

async fn metrics(State(ctx): Ctx) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ctx.metrics.render(ctx.platform.name(), &gauges(&ctx)),
    )
        .into_response()
}

/// The journal's size, then the platform's own stores.
fn gauges(ctx: &MockContext) -> Vec<crate::metrics::Gauge> {
    let journal = crate::metrics::Gauge {
        name: "agentproof_journal_entries",
        help: "Requests held in the journal (/__admin/requests).",
        value: ctx.journal.len() as u64,
    };
    std::iter::once(journal)
        .chain(ctx.platform.gauges())
        .collect()
}

/// Reads a JSON body, answering a clear 400 in the platform's envelope when it is not the expected shape.
async fn parse_json<T: serde::de::DeserializeOwned>(
    ctx: &MockContext,
    id: &RequestId,
    request: Request,
) -> Result<T, Response> {
    let body = axum::body::to_bytes(request.into_body(), ctx.limits.max_body_bytes)
        .await
        .unwrap_or_else(|_| Bytes::new());
    serde_json::from_slice(&body).map_err(|e| {
        admin_error(
            ctx,
            id,
            InfraError::BadAdminRequest(format!("invalid JSON body: {e}")),
        )
    })
}

fn admin_error(ctx: &MockContext, id: &RequestId, error: InfraError) -> Response {
    let method = axum::http::Method::POST;
    let uri = axum::http::Uri::from_static("/__admin");
    let headers = axum::http::HeaderMap::new();
    let meta = crate::platform::RequestMeta {
        method: &method,
        uri: &uri,
        headers: &headers,
        request_id: &id.0,
    };
    ctx.platform.infra_error(&error, &meta)
}
