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
//!
//! A route may have its own SLO ([`LoadRecorder::set_route_slo`], set before its first
//! sample): its counters are then decided against its own limit and max, at record time, as
//! the run's are; the route's accumulator holds its limits, so `record` reads no map for them.
//! The run's timeout stays where a timed-out request is recorded: it is the client's, one per
//! run. Users ([`LoadRecorder::user_started`], [`LoadRecorder::user_stopped`]) are one counter
//! and the series' per-second peak.

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
    /// Users active now, as counted by [`LoadRecorder::user_started`] and
    /// [`LoadRecorder::user_stopped`] (0 when nobody counts them).
    pub users: u64,
}

/// Why [`LoadRecorder::set_route_slo`] refused a route's SLO.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteSloError {
    /// The route's max is above the run's, which is the client timeout.
    #[error("route {route:?}: max<{max_ms}ms is above the run's {run_max_ms} ms timeout, at which every request is abandoned; a route's max can only be at most the run's")]
    AboveRunMax {
        /// The route.
        route: String,
        /// Its max, ms.
        max_ms: u64,
        /// The run's max (the client timeout), ms.
        run_max_ms: u64,
    },
    /// The route already has samples, judged by the SLO it had then.
    #[error("route {route:?} already has {count} samples judged by its earlier SLO: set a route's SLO before the run starts")]
    AfterSamples {
        /// The route.
        route: String,
        /// Samples it has.
        count: u64,
    },
}

/// Accumulates the samples of a run. Memory is bounded by routes × seconds, never by requests.
#[derive(Debug)]
pub struct LoadRecorder {
    slo: LoadSlo,
    scheduled: bool,
    /// The run's timeout: where a timed-out request is recorded, whatever its route's SLO.
    timeout: Duration,
    /// `timed out after 20000 ms`, made once so a timeout allocates nothing.
    timeout_reason: String,
    /// Routes with their own SLO, set before their first sample.
    route_slos: HashMap<String, LoadSlo>,
    routes: HashMap<String, RouteAcc>,
    overall: Histogram<u64>,
    errors: u64,
    users: u64,
    series: SeriesBuilder,
    breakdown: Breakdown,
}

/// What a route's counters are decided against: its own SLO's or the run's.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Under this is `under_limit`.
    limit: Duration,
    /// At or over this is `reached_timeout`.
    max: Duration,
}

impl Limits {
    fn of(slo: &LoadSlo) -> Self {
        Self {
            limit: Duration::from_millis(slo.limit_ms),
            max: Duration::from_millis(slo.timeout_ms),
        }
    }
}

#[derive(Debug)]
struct RouteAcc {
    own_slo: Option<LoadSlo>,
    limits: Limits,
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
            slo,
            scheduled,
            timeout: Duration::from_millis(slo.timeout_ms),
            timeout_reason: format!("timed out after {} ms", slo.timeout_ms),
            route_slos: HashMap::new(),
            routes: HashMap::new(),
            overall: new_histogram(),
            errors: 0,
            users: 0,
            series: SeriesBuilder::new(),
            breakdown: Breakdown::default(),
        }
    }

    /// Judges `route` by `slo` instead of the run's (build it with [`LoadSlo::for_route`]).
    /// Call it before the route's first sample; a later call replaces an earlier one, and an
    /// SLO with the run's rules removes the route's own. Refused when `slo`'s max is above
    /// the run's (the client timeout: see [`LoadSlo::for_route`]) or the route has samples.
    pub fn set_route_slo(&mut self, route: &str, slo: LoadSlo) -> Result<(), RouteSloError> {
        if slo.timeout_ms > self.slo.timeout_ms {
            return Err(RouteSloError::AboveRunMax {
                route: route.to_owned(),
                max_ms: slo.timeout_ms,
                run_max_ms: self.slo.timeout_ms,
            });
        }
        if let Some(acc) = self.routes.get(route) {
            return Err(RouteSloError::AfterSamples {
                route: route.to_owned(),
                count: acc.count,
            });
        }
        if slo.differences_from(&self.slo).is_empty() {
            self.route_slos.remove(route);
        } else {
            self.route_slos.insert(route.to_owned(), slo);
        }
        Ok(())
    }

    /// A user started its journey at `at` (since the run started): one more active user from
    /// then on. With goose: from the user's first `on_start` transaction.
    pub fn user_started(&mut self, at: Duration) {
        self.users += 1;
        self.series.users(at, self.users);
    }

    /// A user stopped at `at`: one fewer active user (never below 0). With goose: from the
    /// user's last `on_stop` transaction, which goose runs when it stops a user (a ramp down or
    /// the run's end).
    pub fn user_stopped(&mut self, at: Duration) {
        self.users = self.users.saturating_sub(1);
        self.series.users(at, self.users);
    }

    /// One answer (or timeout) of `route`, a route template such as
    /// `aui POST /api/v2/aiagent/getRtcAuthToken`.
    ///
    /// `at`: when it finished, since the run started (picks its second in the series).
    /// `sent`: the whole-response time from when it was sent. `due`: the time from when the
    /// schedule said it was due (at least `sent`; a smaller value is raised to `sent`); `None`
    /// without a schedule, and taken as `sent` when the recorder is scheduled.
    /// A [`SampleOutcome::TimedOut`] sample is recorded at exactly the run's `slo.timeout_ms`
    /// (the client's, whatever the route's own SLO) as sent,
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
        let scheduled = self.scheduled;
        let acc = self.route_mut(route);
        let limits = acc.limits;
        acc.count += 1;
        acc.errors += u64::from(error);
        acc.timeouts += u64::from(timed_out);
        acc.sent.record(sent, limits, timed_out);
        if let Some(due_acc) = acc.due.as_mut() {
            due_acc.record(due, limits, timed_out);
        }
        let judged = micros(if scheduled { due } else { sent });
        self.overall.saturating_record(judged);
        self.errors += u64::from(error);
        self.series.record(at, judged, error);
        match outcome {
            SampleOutcome::Ok => {}
            SampleOutcome::Failed(reason) => self.breakdown.count(route, reason),
            SampleOutcome::TimedOut => self.breakdown.count(route, &self.timeout_reason),
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
            users: self.users,
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
                slo: acc.own_slo,
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
        let own_slos: usize = self
            .route_slos
            .keys()
            .map(|name| name.capacity() + size_of::<(String, LoadSlo)>())
            .sum();
        size_of::<Self>()
            + routes
            + own_slos
            + histogram_bytes(&self.overall)
            + self.series.approx_bytes()
            + self.breakdown.approx_bytes()
    }

    fn route_mut(&mut self, route: &str) -> &mut RouteAcc {
        if !self.routes.contains_key(route) {
            let own_slo = self.route_slos.get(route).copied();
            let acc = RouteAcc {
                own_slo,
                limits: Limits::of(own_slo.as_ref().unwrap_or(&self.slo)),
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

    fn record(&mut self, latency: Duration, limits: Limits, timed_out: bool) {
        self.histogram.saturating_record(micros(latency));
        // A timed-out request is never "under", even with a limit above the timeout.
        self.under_limit += u64::from(!timed_out && latency < limits.limit);
        self.reached_timeout += u64::from(timed_out || latency >= limits.max);
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
        // 22 histograms of 136 KiB, 3 600 seconds of 56 bytes, 200 reasons of 300 bytes.
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
    fn a_route_with_its_own_slo_judges_by_it_and_the_others_by_the_run() {
        let run = LoadSlo::default();
        let mut recorder = LoadRecorder::new(run, false);
        let own = run.for_route(&["p95<500ms", "max<1s"]).unwrap();
        recorder.set_route_slo("login", own).unwrap();
        for route in ["login", "token"] {
            for latency in [499, 500, 999, 1000] {
                recorder.record(route, ms(1), ms(latency), None, SampleOutcome::Ok);
            }
        }
        let login = &recorder.routes["login"].sent;
        assert_eq!((login.under_limit, login.reached_timeout), (1, 1));
        let token = &recorder.routes["token"].sent;
        assert_eq!((token.under_limit, token.reached_timeout), (4, 0));
        // A timed-out request is still recorded at the run's timeout, the client's.
        recorder.record("login", ms(1), ms(3), None, SampleOutcome::TimedOut);
        let login = &recorder.routes["login"].sent;
        assert!(login
            .histogram
            .equivalent(login.histogram.max(), 20_000_000));
        assert_eq!(login.reached_timeout, 2);
    }

    #[test]
    fn a_route_slo_is_refused_above_the_run_max_and_after_samples() {
        let run = LoadSlo::default();
        let mut recorder = LoadRecorder::new(run, false);
        let higher = LoadSlo {
            timeout_ms: 20_001,
            ..run
        };
        assert!(matches!(
            recorder.set_route_slo("r", higher),
            Err(RouteSloError::AboveRunMax { .. })
        ));
        recorder.record("r", ms(1), ms(3), None, SampleOutcome::Ok);
        let err = recorder
            .set_route_slo("r", run.for_route(&["p95<1ms"]).unwrap())
            .unwrap_err();
        assert_eq!(
            err,
            RouteSloError::AfterSamples {
                route: "r".into(),
                count: 1
            }
        );
        // The run's own rules are no override at all.
        recorder.set_route_slo("s", run).unwrap();
        assert!(recorder.route_slos.is_empty());
    }

    #[test]
    fn users_count_up_and_down_and_never_below_zero() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
        recorder.user_started(ms(0));
        recorder.user_started(ms(10));
        recorder.user_stopped(ms(20));
        assert_eq!(recorder.progress().users, 1);
        recorder.user_stopped(ms(30));
        recorder.user_stopped(ms(40));
        assert_eq!(recorder.progress().users, 0);
    }

    #[test]
    fn due_below_sent_is_raised_to_sent() {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
        recorder.record("r", ms(10), ms(2500), Some(ms(1)), SampleOutcome::Ok);
        assert_eq!(recorder.routes["r"].due.as_ref().unwrap().under_limit, 0);
    }
}
