//! The listener and connection loop shared by all three mocks, and graceful shutdown.
//!
//! axum's `serve` is not used because a fault rule may ask for a connection to be dropped without an
//! answer: the loop here serves each connection with hyper directly and turns a response marked
//! [`ResetConnection`] into a service error, which makes hyper close the connection unanswered.
//! WebSocket upgrades (the DUIX session) are supported on every connection.
//!
//! The loop holds three of the [`Limits`]: the header-read timeout and the head buffer (both
//! enforced by hyper) and the connection cap, a semaphore whose permit each connection task
//! holds: at the cap the loop stops accepting, so further clients wait in the kernel's backlog
//! until a connection closes, and the ones being served are untouched. An upgraded WebSocket
//! leaves the cap once hyper hands it over (DUIX counts those against its own cap).

use crate::admin;
use crate::edge;
use crate::limits::Limits;
use crate::platform::{InfraError, MockContext, RequestMeta};
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Marks a response whose connection must be dropped instead of answered (fault injection).
#[derive(Clone, Copy, Debug)]
pub struct ResetConnection;

#[derive(Debug)]
pub(crate) struct ConnectionDropped;

impl std::fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for ConnectionDropped {}

/// The whole application of one mock: admin routes, the platform's routes, the platform's envelope
/// for unknown routes and methods, all behind the edge middleware.
pub fn app(ctx: Arc<MockContext>, platform_routes: Router) -> Router {
    let fallback_ctx = ctx.clone();
    let method_ctx = ctx.clone();
    platform_routes
        .merge(admin::router(ctx.clone()))
        .fallback(move |request: Request| {
            let ctx = fallback_ctx.clone();
            async move { infra_error(&ctx, InfraError::RouteNotFound, &request) }
        })
        .method_not_allowed_fallback(move |request: Request| {
            let ctx = method_ctx.clone();
            async move { infra_error(&ctx, InfraError::MethodNotAllowed, &request) }
        })
        .layer(axum::middleware::from_fn_with_state(ctx, edge::edge))
}

fn infra_error(ctx: &MockContext, error: InfraError, request: &Request) -> Response {
    let request_id = request
        .extensions()
        .get::<crate::platform::RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or("");
    let meta = RequestMeta {
        method: request.method(),
        uri: request.uri(),
        headers: request.headers(),
        request_id,
    };
    ctx.platform.infra_error(&error, &meta)
}

/// A mock server running on a tokio task.
pub struct MockServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Binds `addr` (port 0 picks a free port) and serves `app` with the default limits until
    /// [`MockServer::shutdown`].
    pub async fn start(app: Router, addr: SocketAddr) -> std::io::Result<MockServer> {
        Self::start_with_limits(app, addr, &Limits::default()).await
    }

    /// Like [`MockServer::start`], holding the connection-level `limits` (give the same ones
    /// the app's [`MockContext`] holds).
    pub async fn start_with_limits(
        app: Router,
        addr: SocketAddr,
        limits: &Limits,
    ) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, app, limits.clone(), stopped));
        Ok(MockServer { addr, stop, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s), then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The HTTP/1 settings every connection is served with.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The timer lets hyper enforce the header-read timeout: a client that sends its request head
    // byte by byte (slowloris), or nothing at all, is cut off instead of holding a connection
    // for ever.
    // Half-close support: a client may shut its write side once its request is sent (`nc -N`,
    // some proxies); without it hyper takes the FIN as an abort and drops the answer.
    builder
        .http1()
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_buf_size(limits.head_buffer_bytes());
    builder
}

/// The connection cap: a semaphore of `max_connections` permits (at least one), or none.
fn connection_cap(limits: &Limits) -> Option<Arc<Semaphore>> {
    let cap = limits.max_connections?.clamp(1, Semaphore::MAX_PERMITS);
    Some(Arc::new(Semaphore::new(cap)))
}

/// A free slot under the cap (waiting for one when at the cap), then the next connection.
async fn next_connection(
    listener: &TcpListener,
    cap: Option<&Arc<Semaphore>>,
) -> (TcpStream, Option<OwnedSemaphorePermit>) {
    let permit = match cap {
        // The semaphore is never closed, so acquiring only fails if it were.
        Some(cap) => cap.clone().acquire_owned().await.ok(),
        None => None,
    };
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return (stream, permit),
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(connection_builder(&limits));
    let cap = connection_cap(&limits);
    loop {
        let (stream, permit) = tokio::select! {
            next = next_connection(&listener, cap.as_ref()) => next,
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            stream,
            builder: builder.clone(),
            app: app.clone(),
            head_timeout: limits.header_read_timeout(),
            stopped: stopped.clone(),
        };
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // Held until the connection ends: that frees its slot under the cap.
            let _permit = permit;
            connection.serve(watcher).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown: requests still in flight after {DRAIN_TIMEOUT:?}, closing anyway"
        );
    }
}

/// One accepted connection, before hyper takes it.
struct Connection {
    stream: TcpStream,
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: Router,
    head_timeout: Duration,
    stopped: watch::Receiver<bool>,
}

impl Connection {
    /// Serves the connection until it closes, unless its first bytes do not come in time or the
    /// server stops first.
    async fn serve(mut self, watcher: Watcher) {
        let arrived = tokio::select! {
            arrived = first_bytes(&self.stream, self.head_timeout) => arrived,
            _ = self.stopped.changed() => false,
        };
        if !arrived {
            return;
        }
        let app = self.app;
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                call(app.clone(), request.map(axum::body::Body::new))
            });
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(self.stream), service)
            .into_owned();
        if let Err(e) = watcher.watch(connection).await {
            tracing::debug!("connection ended: {e}");
        }
    }
}

/// The HTTP/2 connection preface; hyper reads up to this many bytes to tell HTTP/2 from HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How often a client part-way through sending the HTTP/2 preface is looked at again.
const PREFACE_POLL: Duration = Duration::from_millis(10);

/// Waits, up to `timeout`, until the client has sent enough for hyper to pick HTTP/1 or HTTP/2
/// (peeked, left for hyper to read); false when it has not. hyper's version detection has no
/// timer of its own and its header-read timer only starts after it: without this a client that
/// connects and sends nothing would hold its connection (and its slot under the cap) for ever.
async fn first_bytes(stream: &TcpStream, timeout: Duration) -> bool {
    let decidable = async {
        let mut buf = [0u8; H2_PREFACE.len()];
        loop {
            let n = stream.peek(&mut buf).await?;
            // End of stream, a whole preface, or bytes that are not one: hyper can decide.
            if n == 0 || n == H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] {
                return Ok::<(), std::io::Error>(());
            }
            tokio::time::sleep(PREFACE_POLL).await;
        }
    };
    matches!(tokio::time::timeout(timeout, decidable).await, Ok(Ok(())))
}

/// Runs one request through the router; a response marked [`ResetConnection`] becomes an error so
/// that hyper drops the connection without answering (and the AUI server's in-process upstream
/// call fails as a dropped connection would).
pub(crate) async fn call(
    app: Router,
    request: axum::http::Request<axum::body::Body>,
) -> Result<Response, ConnectionDropped> {
    let response = match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.extensions().get::<ResetConnection>().is_some() {
        return Err(ConnectionDropped);
    }
    Ok(response)
}
