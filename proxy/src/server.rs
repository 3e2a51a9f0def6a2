//! The listeners: one per upstream, each a hyper server (HTTP/1.1 and HTTP/2, the mocks' stack)
//! whose every request is forwarded ([`crate::forward`]) except the proxy's own pages under
//! `/__proxy/` ([`crate::page`]). Requests to the mocks' machinery (`/__admin/*`, `/metrics`,
//! `/__duix/*`) are forwarded but neither judged nor recorded: they are no platform's contract.

use crate::forward::{proxy_error, Forwarder, ProxyBody, Sink};
use crate::page;
use crate::pipeline::Pipeline;
use crate::platform::{Platform, Upstream};
use crate::tally::Tally;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long a client has to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long stopping waits for exchanges in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// One listener as the live page and the command line show it.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The platform judged here.
    pub platform: Platform,
    /// Where it forwards to.
    pub upstream: Upstream,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Listener {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// What every connection of every listener shares.
pub struct Shared {
    /// Every listener, for the live page.
    pub listeners: Vec<Listener>,
    /// What the proxy has seen.
    pub tally: Arc<Tally>,
    /// Where finished exchanges go.
    pub pipeline: Pipeline,
    /// Order of arrival over all listeners.
    pub seq: AtomicU64,
    /// When the proxy started.
    pub started: Instant,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// Whether recording is on, and where.
    pub recording: Option<std::path::PathBuf>,
}

/// Whether a path belongs to the mocks' machinery rather than a platform.
fn is_machinery(path: &str) -> bool {
    path.starts_with("/__admin") || path == "/metrics" || path.starts_with("/__duix/")
}

/// Serves one request of one listener.
async fn handle(
    shared: Arc<Shared>,
    forwarder: Arc<Forwarder>,
    request: hyper::Request<Incoming>,
) -> Result<Response<ProxyBody>, std::convert::Infallible> {
    let path = request.uri().path();
    if let Some(page) = path.strip_prefix("/__proxy") {
        return Ok(own_page(&shared, page));
    }
    let seq = shared.seq.fetch_add(1, Ordering::Relaxed) + 1;
    if is_machinery(path) {
        let ignore = |_| async {};
        let sink: Sink = Arc::new(|_| true);
        return Ok(forwarder.forward(seq, request, ignore, sink).await);
    }
    let pipeline = shared.pipeline.clone();
    let deliver = |exchange| async move { pipeline.deliver(exchange).await };
    Ok(forwarder
        .forward(seq, request, deliver, shared.pipeline.sink())
        .await)
}

fn own_page(shared: &Shared, page: &str) -> Response<ProxyBody> {
    let snapshot = shared.tally.snapshot();
    let (content_type, body) = match page {
        "" | "/" => ("text/html; charset=utf-8", page::page(shared, &snapshot)),
        "/status.json" => ("application/json", page::json(shared, &snapshot)),
        "/health" => ("application/json", r#"{"status":"ok"}"#.to_string()),
        _ => {
            return proxy_error(
                StatusCode::NOT_FOUND,
                "no such page: the live page is /__proxy/, its data /__proxy/status.json",
            )
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|n| match n {}).boxed());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// Binds every listener: the first at `listen`, each next one on the next port (any free port
/// when `listen`'s port is 0).
pub async fn bind(
    upstreams: &[Upstream],
    listen: SocketAddr,
) -> std::io::Result<Vec<(TcpListener, Listener)>> {
    let mut bound = Vec::new();
    for (index, upstream) in upstreams.iter().enumerate() {
        let mut addr = listen;
        if listen.port() != 0 {
            let port = u16::try_from(usize::from(listen.port()) + index).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "port past 65535")
            })?;
            addr.set_port(port);
        }
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr} for {}: {e}", upstream.platform),
            )
        })?;
        let addr = listener.local_addr()?;
        bound.push((
            listener,
            Listener {
                platform: upstream.platform,
                upstream: upstream.clone(),
                addr,
            },
        ));
    }
    Ok(bound)
}

/// Serves one listener until `stopped` turns true, then drains (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    forwarder: Arc<Forwarder>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let builder = Arc::new(builder);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let forwarder = forwarder.clone();
        let service = hyper::service::service_fn(move |request| {
            handle(shared.clone(), forwarder.clone(), request)
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "stopping: exchanges still in flight after {DRAIN_TIMEOUT:?}, closing anyway"
        );
    }
}
