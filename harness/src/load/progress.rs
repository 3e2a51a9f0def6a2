//! The live progress line of a load run: elapsed, users, requests per second, errors and the p95
//! so far. On a terminal (stderr) it is redrawn every second in place; elsewhere (CI logs) a plain
//! line is printed every five seconds. stdout stays for the verdict.

use super::recorder::SharedRecorder;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// Where the users stand, for the line: how many are configured and how fast they start.
#[derive(Clone, Copy)]
pub struct Ramp {
    pub users: u64,
    pub increase_rate: f64,
    pub run_time_secs: u64,
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
                ramp_secs(ramp) + ramp.run_time_secs,
                users_at(ramp, elapsed),
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

/// Seconds the ramp-up takes.
fn ramp_secs(ramp: Ramp) -> u64 {
    (ramp.users as f64 / ramp.increase_rate.max(0.001)).ceil() as u64
}

/// Users started by `elapsed` seconds (goose starts `increase_rate` a second).
fn users_at(ramp: Ramp, elapsed: f64) -> u64 {
    ((elapsed * ramp.increase_rate).floor() as u64 + 1).min(ramp.users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_ramp_up_at_the_increase_rate() {
        let ramp = Ramp {
            users: 10,
            increase_rate: 2.0,
            run_time_secs: 30,
        };
        assert_eq!(users_at(ramp, 0.0), 1);
        assert_eq!(users_at(ramp, 2.0), 5);
        assert_eq!(users_at(ramp, 60.0), 10);
        assert_eq!(ramp_secs(ramp), 5);
    }
}
