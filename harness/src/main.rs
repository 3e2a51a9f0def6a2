//! The `agentproof` binary: a thin layer that parses the command line and hands it to the
//! library ([`harness::run`]). Exit codes: 0 success, 1 a target broke a contract or SLO, 2 could
//! not run.

use clap::Parser;
use std::process::ExitCode;
use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// mimalloc, not glibc's malloc: the request path allocates many small short-lived objects
/// (headers, JSON values, journal entries) on every worker thread at once; glibc's allocator
/// took about 40% of the samples of the Alibaba V1 path (perf over `cargo bench -p mocks`).
/// Measured with wrk: checkSig +15%, getRtcAuthToken +13%, Alibaba V1 GetAgent +56%.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. mimalloc asks for them on its arenas, and a
/// 2 MiB page is resident whole however little of it is used: with them a mock holding 10,000
/// idle connections had 303 MiB resident, without them 177 MiB (about what hyper and tokio keep
/// per connection: a bare hyper server on glibc's allocator, 173 MiB), and 13 MiB instead of
/// 20 MiB at start, at the same throughput (wrk on checkSig, getRtcAuthToken,
/// generateMessageChatToken). `MIMALLOC_ALLOW_THP=0` does as much, but only when set before the
/// process starts, which a user running `agentproof mock` would have to know.
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and reads or writes no memory of ours.
    // A kernel without it answers EINVAL and nothing changes, so the result is not checked.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    disable_transparent_huge_pages();
    let cli = harness::cli::Cli::parse();
    let levels = EnvFilter::try_from_env("AGENTPROOF_LOG")
        // goose warns once per failed request; the load reports count those instead.
        .unwrap_or_else(|_| "warn,goose=error".into());
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(levels)
        .with_filter(filter_fn(carries_no_secret));
    tracing_subscriber::registry().with(logs).init();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(harness::run(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        }
    }
}

/// Whether an event may be logged at any level asked for. tungstenite logs every client handshake
/// request whole at trace, and a DUIX WebSocket URL carries its token as `sig`: those events are
/// dropped (tests/secrets.rs runs every command at trace and searches the output).
fn carries_no_secret(event: &Metadata<'_>) -> bool {
    !(*event.level() == Level::TRACE && event.target().starts_with("tungstenite::handshake"))
}
