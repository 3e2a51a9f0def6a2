//! The sender core: connections on OS threads taking requests from one schedule.
//!
//! At a fixed rate ([`Pace::Fixed`], wrk2's semantics) request `i` is due at `start + i / rate`.
//! Whichever connection is free takes the next due request, waits for its time and sends it; its
//! latency runs from when it was *due*, not from when it went out, so a stall of the server
//! counts for every request it held back instead of for one (coordinated omission corrected).
//! In a closed loop ([`Pace::Closed`]) every connection sends its next request as soon as the
//! last one is answered, until the run's end: what the server can take with that many
//! connections, its capacity.
//!
//! What one request is, is the caller's [`Exchange`]: a record sent as is, a call signed on the
//! spot, or a whole WebSocket session. Each connection thread owns its own, so one may carry
//! state from answer to answer (an instance id from a start to its stop).
//!
//! Blocking sockets on OS threads: `std::thread::sleep` wakes within tens of microseconds,
//! where a millisecond timer wheel would add its own lateness to every figure.

use anyhow::Result;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// `rate` per second over all connections, `total` of them.
    Fixed { rate: f64, total: u64 },
    /// Each connection as fast as it is answered, for `duration`.
    Closed { duration: Duration },
}

/// The schedule every connection of one run takes requests from.
#[derive(Debug)]
pub struct Plan {
    start: Instant,
    pace: Pace,
    interval: Duration,
    /// Requests due (or, in a closed loop, sent) before `start + warmup` count as sent and as
    /// errors, but not in the latency figures nor in [`Tally::counted`].
    warmup: Duration,
    /// How long the schedule runs: the last request's due time, or the closed loop's end.
    length: Duration,
    /// A fixed-rate run that has fallen this far behind its schedule stops taking requests:
    /// the rest are [`Tally::unsent`].
    give_up: Instant,
    /// Width of the windows of [`Tally::windows`]; zero keeps none.
    window: Duration,
    next: AtomicU64,
}

impl Plan {
    /// A run starting `lead` from now (time for every connection to be ready).
    pub fn new(pace: Pace, warmup: Duration, lead: Duration) -> Self {
        let start = Instant::now() + lead;
        let (interval, length) = match pace {
            Pace::Fixed { rate, total } => {
                let interval = Duration::from_secs_f64(1.0 / rate.max(1e-9));
                (interval, interval.mul_f64(total as f64))
            }
            Pace::Closed { duration } => (Duration::ZERO, duration),
        };
        // Behind by more than a tenth of the run (at least 10 s): the server is not keeping up,
        // and waiting for it would only stretch the run.
        let slack = (length / 10).max(Duration::from_secs(10));
        Plan {
            start,
            pace,
            interval,
            warmup,
            length,
            give_up: start + length + slack,
            window: Duration::ZERO,
            next: AtomicU64::new(0),
        }
    }

    /// Keeps a count and the worst latency per `window` of due times ([`Tally::windows`]): when
    /// in the run the latency was what it was.
    pub fn with_windows(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Gives up once `slack` behind the schedule instead (fixed rate only).
    pub fn with_slack(mut self, slack: Duration) -> Self {
        if let Pace::Fixed { .. } = self.pace {
            self.give_up = self.start + self.length + slack;
        }
        self
    }

    /// When the first request is due.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// The next request to send: its index and due time, or `None` when the run is over.
    fn take(&self) -> Option<(u64, Instant)> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.pace {
            Pace::Fixed { total, .. } => {
                if i >= total || Instant::now() > self.give_up {
                    return None;
                }
                let due = self.start + self.interval.mul_f64(i as f64);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                Some((i, due))
            }
            Pace::Closed { .. } => {
                if let Some(wait) = self.start.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let now = Instant::now();
                (now < self.start + self.length).then_some((i, now))
            }
        }
    }
}

/// Why one request (or session) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An answer, but not the one expected (status, body, frame).
    Answer(String),
    /// A connection error: refused, reset, closed mid-answer.
    Io(String),
    /// No answer within the timeout.
    Timeout(String),
}

impl Failure {
    /// An I/O error as what it is: a timeout or a connection error.
    pub fn io(context: &str, error: &std::io::Error) -> Self {
        if crate::wire::is_timeout(error) {
            Failure::Timeout(format!("{context}: no answer in time ({error})"))
        } else {
            Failure::Io(format!("{context}: {error}"))
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Answer(m) | Failure::Io(m) | Failure::Timeout(m) => m,
        }
    }
}

/// One request of a run, on one connection.
pub trait Exchange: Send + 'static {
    /// Sends request number `slot` of the run (over all connections) and checks its answer.
    fn exchange(&mut self, slot: u64) -> Result<(), Failure>;
}

/// Failure messages kept per run: the first few say what went wrong, the rest are counted.
const SAMPLES: usize = 10;

/// What a run did.
#[derive(Debug)]
pub struct Tally {
    /// Latency of the requests past the warm-up, in microseconds, from each one's due time.
    pub latency: Histogram<u64>,
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests answered otherwise.
    pub bad_answers: u64,
    /// Connection errors.
    pub io_errors: u64,
    /// Requests without an answer in time.
    pub timeouts: u64,
    /// Requests of a fixed-rate run never sent (the run had fallen too far behind).
    pub unsent: u64,
    /// Requests past the warm-up, good or not.
    pub counted: u64,
    /// The first failures' messages.
    pub samples: Vec<String>,
    /// Per window of due times from the start ([`Plan::with_windows`]): requests sent, failed,
    /// and the worst latency (µs).
    pub windows: Vec<Window>,
}

/// One window of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub sent: u64,
    pub failed: u64,
    pub max_us: u64,
}

/// Windows kept at most (a 10-minute run in 1-second windows).
const MAX_WINDOWS: usize = 3600;

impl Tally {
    pub fn new() -> Result<Self> {
        Ok(Tally {
            latency: Histogram::new(3)?,
            ok: 0,
            bad_answers: 0,
            io_errors: 0,
            timeouts: 0,
            unsent: 0,
            counted: 0,
            samples: Vec::new(),
            windows: Vec::new(),
        })
    }

    /// Requests sent (answered or not).
    pub fn sent(&self) -> u64 {
        self.ok + self.failed()
    }

    /// Requests that failed, however they failed.
    pub fn failed(&self) -> u64 {
        self.bad_answers + self.io_errors + self.timeouts
    }

    /// Failures and unsent requests: what a soak must keep at zero.
    pub fn errors(&self) -> u64 {
        self.failed() + self.unsent
    }

    fn record(
        &mut self,
        outcome: Result<(), Failure>,
        micros: u64,
        counted: bool,
        window: Option<usize>,
    ) -> Result<()> {
        if let Some(index) = window {
            self.record_window(index, outcome.is_err(), micros);
        }
        match outcome {
            Ok(()) => self.ok += 1,
            Err(failure) => {
                match failure {
                    Failure::Answer(_) => self.bad_answers += 1,
                    Failure::Io(_) => self.io_errors += 1,
                    Failure::Timeout(_) => self.timeouts += 1,
                }
                if self.samples.len() < SAMPLES {
                    self.samples.push(failure.message().to_string());
                }
            }
        }
        if counted {
            self.counted += 1;
            self.latency.record(micros.max(1))?;
        }
        Ok(())
    }

    fn record_window(&mut self, index: usize, failed: bool, micros: u64) {
        if index >= MAX_WINDOWS {
            return;
        }
        if self.windows.len() <= index {
            self.windows.resize(index + 1, Window::default());
        }
        let window = &mut self.windows[index];
        window.sent += 1;
        window.failed += u64::from(failed);
        window.max_us = window.max_us.max(micros);
    }

    fn add(&mut self, other: Tally) -> Result<()> {
        self.latency.add(&other.latency)?;
        self.ok += other.ok;
        self.bad_answers += other.bad_answers;
        self.io_errors += other.io_errors;
        self.timeouts += other.timeouts;
        self.counted += other.counted;
        let room = SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
        if self.windows.len() < other.windows.len() {
            self.windows.resize(other.windows.len(), Window::default());
        }
        for (mine, theirs) in self.windows.iter_mut().zip(other.windows) {
            mine.sent += theirs.sent;
            mine.failed += theirs.failed;
            mine.max_us = mine.max_us.max(theirs.max_us);
        }
        Ok(())
    }
}

/// A run under way: one thread per connection.
pub struct Running<E> {
    plan: Arc<Plan>,
    threads: Vec<JoinHandle<Result<(Tally, E)>>>,
}

/// Starts one thread per exchange, all taking requests from `plan`.
pub fn spawn<E: Exchange>(plan: Arc<Plan>, exchanges: Vec<E>) -> Running<E> {
    let threads = exchanges
        .into_iter()
        .map(|mut exchange| {
            let plan = Arc::clone(&plan);
            std::thread::spawn(move || connection(&plan, &mut exchange).map(|t| (t, exchange)))
        })
        .collect();
    Running { plan, threads }
}

impl<E> Running<E> {
    /// Waits for every connection; the run's tally.
    pub fn join(self) -> Result<Tally> {
        Ok(self.join_all()?.0)
    }

    /// Waits for every connection; the run's tally and the exchanges, for another run.
    pub fn join_all(self) -> Result<(Tally, Vec<E>)> {
        let mut tally = Tally::new()?;
        let mut exchanges = Vec::with_capacity(self.threads.len());
        for thread in self.threads {
            let (part, exchange) = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a connection thread panicked"))??;
            tally.add(part)?;
            exchanges.push(exchange);
        }
        if let Pace::Fixed { total, .. } = self.plan.pace {
            tally.unsent = total.saturating_sub(tally.sent());
        }
        Ok((tally, exchanges))
    }
}

fn connection<E: Exchange>(plan: &Plan, exchange: &mut E) -> Result<Tally> {
    let mut tally = Tally::new()?;
    let counted_from = plan.start + plan.warmup;
    while let Some((slot, due)) = plan.take() {
        let outcome = exchange.exchange(slot);
        let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
        let window = (!plan.window.is_zero()).then(|| {
            let since = due.saturating_duration_since(plan.start);
            (since.as_nanos() / plan.window.as_nanos()) as usize
        });
        tally.record(outcome, micros, due >= counted_from, window)?;
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every third request, each way in turn.
    struct Flaky;

    impl Exchange for Flaky {
        fn exchange(&mut self, slot: u64) -> Result<(), Failure> {
            match slot % 9 {
                2 => Err(Failure::Answer("bad".into())),
                5 => Err(Failure::Io("reset".into())),
                8 => Err(Failure::Timeout("slow".into())),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn a_fixed_rate_run_sends_every_request_once_and_counts_each_failure_by_kind() {
        let pace = Pace::Fixed {
            rate: 9000.0,
            total: 900,
        };
        let plan = Arc::new(Plan::new(pace, Duration::ZERO, Duration::ZERO));
        let tally = spawn(plan, vec![Flaky, Flaky, Flaky]).join().unwrap();
        assert_eq!((tally.ok, tally.sent(), tally.unsent), (600, 900, 0));
        assert_eq!(
            (tally.bad_answers, tally.io_errors, tally.timeouts),
            (100, 100, 100)
        );
        assert_eq!(tally.errors(), 300);
        assert_eq!(tally.samples.len(), SAMPLES);
        assert_eq!(tally.counted, 900);
        assert!(tally.windows.is_empty(), "none asked for");
    }

    #[test]
    fn windows_split_the_run_by_due_time_and_add_up_to_the_whole() {
        // 900 requests over 0.1 s in 10 ms windows: 90 due in each.
        let pace = Pace::Fixed {
            rate: 9000.0,
            total: 900,
        };
        let plan = Plan::new(pace, Duration::ZERO, Duration::ZERO);
        let plan = Arc::new(plan.with_windows(Duration::from_millis(10)));
        let tally = spawn(plan, vec![Flaky, Flaky]).join().unwrap();
        assert_eq!(tally.windows.len(), 10);
        // (Due times are float multiples of the interval: one may land across a border.)
        let sent: Vec<u64> = tally.windows.iter().map(|w| w.sent).collect();
        assert!(sent.iter().all(|n| (89..=91).contains(n)), "{sent:?}");
        assert_eq!(sent.iter().sum::<u64>(), 900);
        let failed: u64 = tally.windows.iter().map(|w| w.failed).sum();
        assert_eq!(failed, tally.failed());
    }

    /// Takes 20 ms per request.
    struct Slow;

    impl Exchange for Slow {
        fn exchange(&mut self, _: u64) -> Result<(), Failure> {
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        }
    }

    #[test]
    fn a_server_too_slow_for_the_rate_shows_as_latency_and_then_as_unsent() {
        // 1000 req/s for 0.1 s on one connection that manages 50 req/s: the latency runs from
        // due times, and past the slack (200 ms) the rest are given up.
        let pace = Pace::Fixed {
            rate: 1000.0,
            total: 100,
        };
        let plan = Plan::new(pace, Duration::ZERO, Duration::ZERO);
        let plan = Arc::new(plan.with_slack(Duration::from_millis(200)));
        let tally = spawn(plan, vec![Slow]).join().unwrap();
        assert!(tally.latency.max() > 200_000, "{}", tally.latency.max());
        assert!((10..=20).contains(&tally.sent()), "{}", tally.sent());
        assert_eq!(tally.unsent, 100 - tally.sent());
        assert_eq!(tally.errors(), tally.unsent);
    }

    #[test]
    fn a_closed_loop_stops_at_its_end_and_counts_only_past_the_warmup() {
        let pace = Pace::Closed {
            duration: Duration::from_millis(300),
        };
        let plan = Arc::new(Plan::new(pace, Duration::from_millis(100), Duration::ZERO));
        let tally = spawn(plan, vec![Slow, Slow]).join().unwrap();
        // 2 connections × 300 ms / 20 ms ≈ 30 sent, ≈ 20 of them past the warm-up.
        assert!((24..=32).contains(&tally.sent()), "{}", tally.sent());
        assert!((16..=22).contains(&tally.counted), "{}", tally.counted);
        assert_eq!(tally.unsent, 0);
    }
}
