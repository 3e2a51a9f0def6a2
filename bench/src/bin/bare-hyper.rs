//! The benchmark's baseline: the least a hyper server can do per request.
//!
//! It answers every request with one fixed JSON body (the size of a mock's answer), on the same
//! stack the mocks use (tokio's multi-thread runtime with its default workers, hyper-util's
//! auto connection builder), so a mock's ratio to it is what its own request path costs: routing,
//! the edge middleware, signature and token work, state, journal and JSON. It reads the request
//! body to the end, as a real handler must, and does nothing else.

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::path::PathBuf;
use tokio::net::TcpListener;

/// A bare hyper server answering one fixed JSON body: the benchmark's baseline.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the chosen port is printed on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The body to answer, read once; without it a 256-byte JSON object.
    #[arg(long)]
    body_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = match &args.body_file {
        Some(path) => Bytes::from(std::fs::read(path)?),
        None => default_body(),
    };
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("{}", listener.local_addr()?.port());
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(request, body.clone()));
            // A client closing its connection mid-request is normal at the end of a wrk run.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the request body as any handler would; its bytes are not looked at.
    let _ = request.into_body().collect().await;
    let response = Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("static parts make a valid response");
    Ok(response)
}

/// `{"code":"0","pad":"xxx…"}`, 256 bytes.
fn default_body() -> Bytes {
    let head = r#"{"code":"0","pad":""#;
    let pad = 256 - head.len() - 2;
    Bytes::from(format!("{head}{}\"}}", "x".repeat(pad)))
}
