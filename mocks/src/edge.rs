//! The edge every request passes first: request id, size limits, fault injection, journal and
//! metrics. Handlers behind it get the body already read (as `Bytes`) and never see an oversized one.

use crate::faults::FaultDecision;
use crate::journal::{self, Record};
use crate::limits::Limits;
use crate::platform::{InfraError, MockContext, RequestId, RequestMeta};
use crate::server::ResetConnection;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, CONTENT_LENGTH};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// How long an oversized body is drained before the 413 goes out regardless.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Paths of the shared machinery: never faulted, never journaled.
fn is_admin(path: &str) -> bool {
    path.starts_with("/__admin") || path == "/metrics"
}

/// What the edge keeps of a request while its handler runs: for the metrics, the answer's
/// request id and, when the journal is on, the journal.
struct Arrival {
    started: Instant,
    received_at_ms: i64,
    request_id: String,
    route: String,
    /// `None` when the journal is off: nothing is copied for it.
    head: Option<journal::Head>,
}

/// The middleware function; mount with `axum::middleware::from_fn_with_state`.
pub async fn edge(State(ctx): State<Arc<MockContext>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = request.into_parts();
    let request_id = ctx.platform.new_request_id();
    if is_admin(parts.uri.path()) {
        return serve_admin(&ctx, parts, body, request_id, next).await;
    }
    let arrival = Arrival {
        started,
        received_at_ms: ctx.clock.now_ms(),
        route: ctx
            .platform
            .route_key(&parts.method, &parts.uri, &parts.headers),
        head: ctx
            .journal
            .is_on()
            .then(|| journal::Head::of(&parts.method, &parts.uri, &parts.headers)),
        request_id,
    };
    let _held = InFlight::enter(&ctx);
    let body = match read_body(&ctx, &parts, body).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let response = render(&ctx, &error, &parts, &arrival.request_id);
            return finish(&ctx, arrival, &Bytes::new(), response);
        }
    };
    let decision = ctx.faults.decide(&arrival.route, parts.uri.path());
    let response = apply_faults(&ctx, decision, &parts, &arrival.request_id).await;
    let response = match response {
        Some(response) => response,
        None => {
            parts
                .extensions
                .insert(RequestId(arrival.request_id.clone()));
            next.run(Request::from_parts(parts, Body::from(body.clone())))
                .await
        }
    };
    finish(&ctx, arrival, &body, response)
}

/// Counts a request as in flight until dropped, even when the client goes away mid-request.
struct InFlight<'a>(&'a MockContext);

impl<'a> InFlight<'a> {
    fn enter(ctx: &'a MockContext) -> Self {
        ctx.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(ctx)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Admin routes get the size limits and the request id, nothing else; when the admin API is
/// disabled they do not exist.
async fn serve_admin(
    ctx: &MockContext,
    mut parts: Parts,
    body: Body,
    request_id: String,
    next: Next,
) -> Response {
    if !ctx.admin_enabled.load(Ordering::Relaxed) {
        let response = render(ctx, &InfraError::RouteNotFound, &parts, &request_id);
        return with_request_id(ctx, response, &request_id);
    }
    let response = match read_body(ctx, &parts, body).await {
        Ok(body) => {
            parts.extensions.insert(RequestId(request_id.clone()));
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(error) => render(ctx, &error, &parts, &request_id),
    };
    with_request_id(ctx, response, &request_id)
}

/// Sleeps for injected latency (no lock held), then answers for the fault if one fires.
async fn apply_faults(
    ctx: &MockContext,
    decision: FaultDecision,
    parts: &Parts,
    request_id: &str,
) -> Option<Response> {
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if decision.reset {
        let mut response = Response::new(Body::empty());
        response.extensions_mut().insert(ResetConnection);
        return Some(response);
    }
    let injected = decision.error?;
    Some(render(
        ctx,
        &InfraError::Injected(injected),
        parts,
        request_id,
    ))
}

fn render(ctx: &MockContext, error: &InfraError, parts: &Parts, request_id: &str) -> Response {
    let meta = RequestMeta {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        request_id,
    };
    ctx.platform.infra_error(error, &meta)
}

/// Checks the head against the size limits, then reads the body within its limit.
async fn read_body(ctx: &MockContext, parts: &Parts, body: Body) -> Result<Bytes, InfraError> {
    check_head(&ctx.limits, parts)?;
    let limit = ctx.limits.max_body_bytes;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain_cap(limit) as u64) {
        return Err(InfraError::PayloadTooLarge { limit });
    }
    let mut body = body;
    match Limited::new(&mut body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => {
            drain(body, drain_cap(limit)).await;
            Err(InfraError::PayloadTooLarge { limit })
        }
        Err(e) => Err(InfraError::BadBody(e.to_string())),
    }
}

/// The query and header limits. hyper buffers a little more than these
/// ([`Limits::head_buffer_bytes`]), so a head over them arrives here and is answered in the
/// platform's envelope.
fn check_head(limits: &Limits, parts: &Parts) -> Result<(), InfraError> {
    if parts.uri.query().map_or(0, str::len) > limits.max_query_bytes {
        return Err(InfraError::UriTooLong {
            limit: limits.max_query_bytes,
        });
    }
    if header_bytes(&parts.headers) > limits.max_header_bytes {
        return Err(InfraError::HeadersTooLarge {
            limit: limits.max_header_bytes,
        });
    }
    Ok(())
}

/// The size of the header section as sent: each `name: value\r\n`.
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Most bytes read and thrown away from an oversized body.
fn drain_cap(limit: usize) -> usize {
    limit.saturating_mul(4)
}

/// Reads and discards the rest of an oversized body (up to `cap` bytes, for at most a few
/// seconds), so that a client still writing it is not cut off with a broken pipe before it can
/// read our 413. Past the cap the connection is closed as before.
async fn drain(mut body: Body, cap: usize) {
    let mut seen = 0usize;
    let reading = async {
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |data| data.len());
            if seen > cap {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

fn with_request_id(ctx: &MockContext, mut response: Response, request_id: &str) -> Response {
    let header = ctx.platform.request_id_header();
    if !response.headers().contains_key(header) {
        if let Ok(value) = HeaderValue::from_str(request_id) {
            response.headers_mut().insert(header, value);
        }
    }
    response
}

fn finish(ctx: &MockContext, arrival: Arrival, body: &[u8], response: Response) -> Response {
    let response = with_request_id(ctx, response, &arrival.request_id);
    let elapsed = arrival.started.elapsed();
    let status = response.status().as_u16();
    ctx.metrics.record(&arrival.route, status, elapsed);
    let Some(head) = arrival.head else {
        return response;
    };
    ctx.journal.push(Record {
        received_at_ms: arrival.received_at_ms,
        head,
        route: arrival.route,
        body: journal::Body::of(body),
        status,
        duration_ms: elapsed.as_secs_f64() * 1000.0,
        request_id: arrival.request_id,
    });
    response
}
