//! `agentproof serve-webhook` and `agentproof serve-llm`: the reference vendors on their own,
//! the DUIX dialogue webhook and an Alibaba agent's LLM.

use crate::cli::{LlmServeArgs, WebhookArgs};
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

pub async fn run_llm(args: LlmServeArgs) -> Result<()> {
    let addr = SocketAddr::new(args.bind, args.port);
    let config = mocks::alibaba::llm::vendor::VendorConfig {
        api_key: args.api_key.filter(|k| !k.is_empty()),
        first_token_delay_ms: args.first_token_delay_ms,
        token_delay_ms: args.token_delay_ms,
    };
    let server = mocks::alibaba::llm::vendor::start(config, addr)
        .await
        .with_context(|| {
            format!("cannot listen on {addr}: pick another port with --port (0 = any free port)")
        })?;
    println!(
        "reference LLM endpoint at base URL {} (POST .../chat/completions; Ctrl-C stops it)",
        mocks::alibaba::llm::vendor::base_url(&server)
    );
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(())
}
