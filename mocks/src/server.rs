//! The listener and connection loop shared by all three mocks, and graceful shutdown.
//!
//! axum's `serve` is not used because a fault rule may ask for a connection to be dropped without an
//! answer: the loop here serves each connection with hyper directly and turns a response marked
//! [`ResetConnection`] into a service error, which makes hyper close the connection unanswered.
//! WebSocket upgrades (the DUIX session) are supported on every connection.

use crate::admin;
use crate::edge;
use crate::platform::{InfraError, MockContext, RequestMeta};
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// Largest HTTP/1 head (request line and headers) hyper buffers; a huge query up to this size still
/// reaches our edge, which answers it in the platform's envelope.
const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Marks a response whose connection must be dropped instead of answered (fault injection).
#[derive(Clone, Copy, Debug)]
pub struct ResetConnection;

#[derive(Debug)]
struct ConnectionDropped;

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
    /// Binds `addr` (port 0 picks a free port) and serves `app` until [`MockServer::shutdown`].
    pub async fn start(app: Router, addr: SocketAddr) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, app, stopped));
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

async fn accept_loop(listener: TcpListener, app: Router, mut stopped: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The timer lets hyper enforce the header-read timeout: a client that sends its request head
    // byte by byte (slowloris) is cut off instead of holding a connection for ever.
    // Half-close support: a client may shut its write side once its request is sent (`nc -N`,
    // some proxies); without it hyper takes the FIN as an abort and drops the answer.
    builder
        .http1()
        .half_close(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |request| call(app.clone(), request));
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
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
            "shutdown: requests still in flight after {DRAIN_TIMEOUT:?}, closing anyway"
        );
    }
}

/// Runs one request through the router; a response marked [`ResetConnection`] becomes an error so
/// that hyper drops the connection without answering.
async fn call(
    app: Router,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<Response, ConnectionDropped> {
    let response = match app.oneshot(request.map(axum::body::Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.extensions().get::<ResetConnection>().is_some() {
        return Err(ConnectionDropped);
    }
    Ok(response)
}
