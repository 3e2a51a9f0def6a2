//! `agentproof serve-webhook`: the reference DUIX vendor webhook on its own.

use crate::cli::WebhookArgs;
use anyhow::{Context, Result};
use std::net::SocketAddr;

pub async fn run(args: WebhookArgs) -> Result<()> {
    let addr = SocketAddr::new(args.bind, args.port);
    let config = mocks::duix::vendor::VendorConfig {
        shared_secret: args.secret,
        answer_delay_ms: args.delay_ms,
    };
    let server = mocks::duix::vendor::start(config, addr)
        .await
        .with_context(|| {
            format!("cannot listen on {addr}: pick another port with --port (0 = any free port)")
        })?;
    println!(
        "reference DUIX webhook listening at {} (Ctrl-C stops it)",
        server.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(())
}
