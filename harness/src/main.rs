//! The `agentproof` binary: a thin layer that parses the command line and hands it to the
//! library ([`harness::run`]). Exit codes: 0 success, 1 a target broke a contract or SLO, 2 could
//! not run.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AGENTPROOF_LOG")
                // goose warns once per failed request; the load reports count those instead.
                .unwrap_or_else(|_| "warn,goose=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(harness::run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}
