//! The live progress line of a load run: elapsed, users, requests per second, errors and the p95
//! so far. On a terminal (stderr) it is redrawn every second in place; elsewhere (CI logs) a plain
//! line is printed every five seconds. stdout stays for the verdict.

use scenarios::SharedRecorder;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// The run's planned length, for the line.
#[derive(Clone, Copy)]
pub struct Ramp {
    /// Seconds from the first user's start to the planned end (ramp and run time, or stages).
    pub planned_secs: f64,
}

/// Prints progress until the returned handle is aborted.
pub fn spawn(
    recorder: Arc<SharedRecorder>,
    ramp: Ramp,
    plain: bool,
) -> tokio::task::JoinHandle<()> {
    let live = !plain && std::io::stderr().is_terminal();
    tokio::spawn(async move {
        let period = if live { 1 } else { 5 };
        let mut ticker = tokio::time::interval(Duration::from_secs(period));
        ticker.tick().await;
        let mut last_requests = 0;
        loop {
            ticker.tick().await;
            let progress = recorder.progress();
            let elapsed = recorder.started().elapsed().as_secs_f64();
            let rate = progress.requests.saturating_sub(last_requests) as f64 / period as f64;
            last_requests = progress.requests;
            let line = format!(
                "{:>6.0}s of ~{}s  users {:>5}  {:>8.0} req/s  {:>9} requests  {:>6} errors  p95 {:.1} ms",
                elapsed,
                ramp.planned_secs.ceil(),
                progress.users,
                rate,
                progress.requests,
                progress.errors,
                progress.p95_ms,
            );
            let mut err = std::io::stderr().lock();
            if live {
                let _ = write!(err, "\r\x1b[2K{line}");
            } else {
                let _ = writeln!(err, "{line}");
            }
            let _ = err.flush();
        }
    })
}

/// Ends a live line so the next output starts on its own line.
pub fn finish(plain: bool) {
    if !plain && std::io::stderr().is_terminal() {
        eprintln!();
    }
}
