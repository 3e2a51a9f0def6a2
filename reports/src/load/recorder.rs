//! [`LoadRecorder`]: accumulates every sample of a load run in memory that does not grow with
//! the number of requests.
//!
//! Per route it keeps two full histograms (as sent and, with a schedule, as due) and exact
//! counters; the verdict's counters (`under_limit`, `reached_timeout`) are decided at record
//! time from the measured [`Duration`], so they are exact where histogram buckets would round.
//! Beside them: one overall histogram of the judged distribution for [`LoadRecorder::progress`],
//! the per-second series (`series.rs`) and the capped error breakdown (`breakdown.rs`).
//! Routes are looked up by `&str`, so recording allocates only the first time a route or a
//! reason is seen.

use std::collections::HashMap;
use std::mem::size_of;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::breakdown::Breakdown;
use super::report::{Distribution, LoadMeta, LoadReport, RouteLatency, RouteResult};
use super::series::SeriesBuilder;
use super::slo::LoadSlo;
use crate::model::{micros_to_ms, new_histogram, LatencySummary, HIGHEST_MICROS};

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOutcome<'a> {
    /// The target answered as the scenario expected.
    Ok,
    /// It answered wrongly or the connection failed; the reason is shown in the breakdown
    /// (e.g. `HTTP 503`, `code Throttling.User`).
    Failed(&'a str),
    /// No answer before `slo.timeout_ms`; the request was abandoned.
    TimedOut,
}

/// Cheap numbers for a live progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Requests finished so far, over all routes.
    pub requests: u64,
    /// Failed or timed-out requests among them.
    pub errors: u64,
    /// The 95th percentile so far over all routes, of the judged distribution, in ms.
    pub p95_ms: f64,
}

/// Accumulates the samples of a run. Memory is bounded by routes × seconds, never by requests.
#[derive(Debug)]
pub struct LoadRecorder {
    slo: LoadSlo,
    scheduled: bool,
    timeout: Duration,
    routes: HashMap<String, RouteAcc>,
    overall: Histogram<u64>,
    errors: u64,
    series: SeriesBuilder,
    breakdown: Breakdown,
}

#[derive(Debug)]
struct RouteAcc {
    /// The quantile rule's limit for this row (`LoadSlo::for_route`).
    limit: Duration,
    count: u64,
    errors: u64,
    timeouts: u64,
    sent: LatencyAcc,
    due: Option<LatencyAcc>,
}

#[derive(Debug)]
struct LatencyAcc {
    histogram: Histogram<u64>,
    under_limit: u64,
    reached_timeout: u64,
}

impl LoadRecorder {
    /// An empty recorder judging against `slo`. `scheduled`: `--rate` set a schedule, so the
    /// as-due distribution is kept too and is the one judged.
    pub fn new(slo: LoadSlo, scheduled: bool) -> Self {
        Self {
            timeout: Duration::from_millis(slo.timeout_ms),
            slo,
            scheduled,
            routes: HashMap::new(),
            overall: new_histogram(),
            errors: 0,
            series: SeriesBuilder::new(),
            breakdown: Breakdown::default(),
        }
    }

    /// One answer (or timeout) of `route`, a route template such as
    /// `aui POST /api/v2/aiagent/getRtcAuthToken`.
    ///
    /// `at`: when it finished, since the run started (picks its second in the series).
    /// `sent`: the whole-response time from when it was sent. `due`: the time from when the
    /// schedule said it was due (at least `sent`; a smaller value is raised to `sent`); `None`
    /// without a schedule, and taken as `sent` when the recorder is scheduled.
    /// A [`SampleOutcome::TimedOut`] sample is recorded at exactly `slo.timeout_ms` as sent,
    /// whatever `sent` says, and as due at the timeout or its `due` time when that is later (a
    /// request already late when sent keeps its lateness); it counts as an error and a breach.
    pub fn record(
        &mut self,
        route: &str,
        at: Duration,
        sent: Duration,
        due: Option<Duration>,
        outcome: SampleOutcome<'_>,
    ) {
        let timed_out = outcome == SampleOutcome::TimedOut;
        let (sent, due) = if timed_out {
            // As due, a request that was already late when sent keeps its lateness.
            let due = due.map_or(self.timeout, |d| d.max(self.timeout));
            (self.timeout, due)
        } else {
            (sent, due.unwrap_or(sent).max(sent))
        };
        let error = outcome != SampleOutcome::Ok;
        let (timeout, scheduled) = (self.timeout, self.scheduled);
        let acc = self.route_mut(route);
        let limit = acc.limit;
        acc.count += 1;
        acc.errors += u64::from(error);
        acc.timeouts += u64::from(timed_out);
        acc.sent.record(sent, limit, timeout, timed_out);
        if let Some(due_acc) = acc.due.as_mut() {
            due_acc.record(due, limit, timeout, timed_out);
        }
        let judged = micros(if scheduled { due } else { sent });
        self.overall.saturating_record(judged);
        self.errors += u64::from(error);
        self.series.record(at, judged, error);
        match outcome {
            SampleOutcome::Ok => {}
            SampleOutcome::Failed(reason) => self.breakdown.count(route, reason),
            SampleOutcome::TimedOut => {
                let reason = format!("timed out after {} ms", self.slo.timeout_ms);
                self.breakdown.count(route, &reason);
            }
        }
    }

    /// Requests, errors and the p95 so far; reads one histogram, fine once a second.
    pub fn progress(&self) -> Progress {
        Progress {
            requests: self.overall.len(),
            errors: self.errors,
            p95_ms: if self.overall.is_empty() {
                0.0
            } else {
                micros_to_ms(self.overall.value_at_quantile(0.95))
            },
        }
    }

    /// The report of the run. `duration_ms`: its wall-clock length; `cut_short`: why it
    /// stopped early, if it did.
    pub fn finish(self, meta: LoadMeta, duration_ms: u64, cut_short: Option<String>) -> LoadReport {
        let mut routes: Vec<RouteResult> = self
            .routes
            .into_iter()
            .map(|(route, acc)| RouteResult {
                route,
                count: acc.count,
                errors: acc.errors,
                timeouts: acc.timeouts,
                sent: acc.sent.finish(),
                due: acc.due.map(LatencyAcc::finish),
            })
            .collect();
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        LoadReport {
            meta,
            slo: self.slo,
            duration_ms,
            cut_short,
            judged: if self.scheduled {
                Distribution::AsDue
            } else {
                Distribution::AsSent
            },
            routes,
            series: self.series.finish(),
            errors: self.breakdown.into_sorted(),
            baseline: None,
        }
    }

    /// Heap and inline bytes the recorder holds, roughly: histogram count arrays (8 bytes per
    /// slot), counters, route names, the series so far and the error breakdown.
    pub fn approx_bytes(&self) -> usize {
        let routes: usize = self
            .routes
            .iter()
            .map(|(name, acc)| {
                let due = acc.due.as_ref().map_or(0, LatencyAcc::approx_bytes);
                name.capacity() + size_of::<(String, RouteAcc)>() + acc.sent.approx_bytes() + due
            })
            .sum();
        size_of::<Self>()
            + routes
            + histogram_bytes(&self.overall)
            + self.series.approx_bytes()
            + self.breakdown.approx_bytes()
    }

    fn route_mut(&mut self, route: &str) -> &mut RouteAcc {
        if !self.routes.contains_key(route) {
            let acc = RouteAcc {
                limit: Duration::from_millis(self.slo.for_route(route).limit_ms),
                count: 0,
                errors: 0,
                timeouts: 0,
                sent: LatencyAcc::new(),
                due: self.scheduled.then(LatencyAcc::new),
            };
            self.routes.insert(route.to_owned(), acc);
        }
        self.routes.get_mut(route).expect("inserted above")
    }
}

impl LatencyAcc {
    fn new() -> Self {
        Self {
            histogram: new_histogram(),
            under_limit: 0,
            reached_timeout: 0,
        }
    }

    fn record(&mut self, latency: Duration, limit: Duration, timeout: Duration, timed_out: bool) {
        self.histogram.saturating_record(micros(latency));
        // A timed-out request is never "under", even with a limit above the timeout.
        self.under_limit += u64::from(!timed_out && latency < limit);
        self.reached_timeout += u64::from(timed_out || latency >= timeout);
    }

    fn finish(self) -> RouteLatency {
        RouteLatency {
            summary: LatencySummary::of(&self.histogram),
            under_limit: self.under_limit,
            reached_timeout: self.reached_timeout,
            histogram: self.histogram,
        }
    }

    fn approx_bytes(&self) -> usize {
        histogram_bytes(&self.histogram)
    }
}

/// The count array of a histogram, 8 bytes a slot, plus the struct itself.
pub(crate) fn histogram_bytes(h: &Histogram<u64>) -> usize {
    h.distinct_values() * size_of::<u64>() + size_of::<Histogram<u64>>()
}

/// Microseconds, clamped to what the histogram tracks.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros())
        .unwrap_or(u64::MAX)
        .min(HIGHEST_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn memory_stays_flat_over_a_million_samples() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
        let route = "aui POST /api/v2/aiagent/getRtcAuthToken";
        let mut warm = 0;
        for i in 0..1_000_000u64 {
            // 10 000 samples a second for 100 s, every seventh one failing for a new reason.
            let at = Duration::from_micros(i * 100);
            let sent = Duration::from_micros(1 + (i * 7_919) % 3_000_000);
            let reason = (i % 7 == 0).then(|| format!("HTTP 503 request {i}"));
            let outcome = reason
                .as_deref()
                .map_or(SampleOutcome::Ok, SampleOutcome::Failed);
            recorder.record(route, at, sent, Some(sent + ms(i % 50)), outcome);
            if i == 20_000 {
                warm = recorder.approx_bytes();
            }
        }
        let after = recorder.approx_bytes();
        // Only the series grows, one SecondStats a second (Vec capacity doubles: 128 slots).
        let series_growth = 128 * size_of::<super::super::SecondStats>();
        assert!(
            after <= warm + series_growth,
            "grew from {warm} to {after} bytes over a million samples"
        );
        assert!(after < 1 << 20, "{after} bytes for one route");
        assert_eq!(recorder.progress().requests, 1_000_000);
    }

    #[test]
    fn one_hour_with_ten_routes_fits_the_documented_figure() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
        let long_reason = "x".repeat(1000);
        for second in 0..3_600u64 {
            for r in 0..10 {
                let route = format!("aui POST /api/v2/aiagent/route{r}");
                let reason = format!("{second} {long_reason}");
                recorder.record(
                    &route,
                    Duration::from_secs(second),
                    ms(5),
                    None,
                    SampleOutcome::Failed(&reason),
                );
            }
        }
        let bytes = recorder.approx_bytes();
        assert_eq!(
            new_histogram().distinct_values(),
            17_408,
            "module docs quote this"
        );
        // 22 histograms of 136 KiB, 3 600 seconds of 48 bytes, 200 reasons of 300 bytes.
        let mib = bytes as f64 / (1 << 20) as f64;
        assert!(
            (3.0..3.4).contains(&mib),
            "{mib:.2} MiB; the module docs say 3.2 MiB"
        );
    }

    #[test]
    fn a_timeout_is_recorded_at_the_timeout_in_both_distributions() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
        recorder.record("r", ms(10), ms(3), Some(ms(4)), SampleOutcome::TimedOut);
        let acc = &recorder.routes["r"];
        assert_eq!((acc.errors, acc.timeouts), (1, 1));
        for dist in [&acc.sent, acc.due.as_ref().unwrap()] {
            assert!(dist.histogram.equivalent(dist.histogram.max(), 20_000_000));
            assert_eq!((dist.under_limit, dist.reached_timeout), (0, 1));
        }
    }

    #[test]
    fn due_below_sent_is_raised_to_sent() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
        recorder.record("r", ms(10), ms(2500), Some(ms(1)), SampleOutcome::Ok);
        assert_eq!(recorder.routes["r"].due.as_ref().unwrap().under_limit, 0);
    }
}
