//! The `agentproof` binary as a library: the CLI ([`cli`]), one module per subcommand, and the
//! conformance runner ([`check`]), so integration tests drive the same code the binary runs.
//!
//! - [`mock_cmd`]: `agentproof mock`, the three platform mocks in one process;
//! - [`webhook_cmd`]: `agentproof serve-webhook` and `serve-llm`, the reference DUIX vendor
//!   webhook and the reference LLM endpoint of an Alibaba agent;
//! - [`check`]: `agentproof check`, the conformance gate (suites, bad input, latency, reports);
//! - [`load`]: `agentproof load`, goose scenarios with an exact SLO verdict and reports;
//! - [`vendor_check`]: `agentproof webhook` and `agentproof llm`, a vendor's DUIX webhook or LLM
//!   judged rule by rule (one engine, two rule sets);
//! - [`validate_cmd`]: `agentproof validate SCHEMA FILE`;
//! - [`schemas_cmd`]: `agentproof schemas` (list, export, OpenAPI);
//! - [`proxy_cmd`]: `agentproof proxy` and `agentproof replay`, on the `proxy` crate.
//!
//! Exit codes: 0 success, 1 a target broke a contract or SLO, 2 could not run.

pub mod check;
pub mod cli;
pub mod config;
pub mod load;
pub mod mock_cmd;
pub mod net;
pub mod proxy_cmd;
pub mod schemas_cmd;
pub mod validate_cmd;
pub mod vendor_check;
pub mod webhook_cmd;

use std::process::ExitCode;

/// Runs one parsed command line and maps its result to the process exit code.
pub async fn run(cli: cli::Cli) -> ExitCode {
    let result = match cli.command {
        cli::Command::Mock(args) => mock_cmd::run(args).await.map(|()| 0),
        cli::Command::ServeWebhook(args) => webhook_cmd::run(args).await.map(|()| 0),
        cli::Command::ServeLlm(args) => webhook_cmd::run_llm(args).await.map(|()| 0),
        cli::Command::Check(args) => check::run_cli(args).await,
        cli::Command::Load(args) => load::run_cli(*args).await,
        cli::Command::Webhook(args) => vendor_check::webhook::run_cli(args).await,
        cli::Command::Llm(args) => vendor_check::llm::run_cli(args).await,
        cli::Command::Report(args) => match &args.command {
            cli::ReportCommand::Merge(merge) => load::run_merge(merge).await,
        },
        cli::Command::Validate(args) => validate_cmd::run(&args),
        cli::Command::Schemas(args) => schemas_cmd::run(&args).map(|()| 0),
        cli::Command::Proxy(args) => proxy_cmd::run_proxy(args).await,
        cli::Command::Replay(args) => proxy_cmd::run_replay(args).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
