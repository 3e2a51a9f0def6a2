//! The finished result of a load run, [`LoadReport`]: what `report.json` holds.
//!
//! Everything a person or a later run needs is here: how to reproduce the run ([`LoadMeta`]),
//! the SLO it was judged against (and a route's own, where a journey gave it one), per route
//! the exact counters the verdict reads and both
//! latency histograms (as sent, and as due when a schedule was set), the per-second series,
//! the error breakdown and, after [`LoadReport::compare_with`], the comparison with a baseline.
//!
//! Histograms travel as base64 of their compressed HdrHistogram V2 form, as in the check
//! report, so two reports merge or compare count for count. The summary numbers beside them
//! are derived and shown to people; the verdict reads only the exact counters.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::baseline::RouteDelta;
use super::breakdown::ErrorCount;
use super::series::SecondStats;
use super::slo::LoadSlo;
use crate::model::LatencySummary;

/// How to reproduce a load run; printed at the top of every report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadMeta {
    /// Scenario name, e.g. `aui-token-storm`.
    pub scenario: String,
    /// What the scenario does, one sentence or more.
    pub scenario_description: String,
    /// Seed of every random choice the users made.
    pub seed: u64,
    /// The command line that ran it (secrets already masked).
    pub command_line: String,
    /// Concurrent users at full load.
    pub users: u64,
    /// Users started per second until `users` run.
    pub increase_rate: f64,
    /// Planned length of the run, in seconds.
    pub run_time_secs: u64,
    /// Requests per second the schedule asked for (`--rate`); `None` for closed-loop users.
    pub rate_per_sec: Option<f64>,
    /// Base URL per platform (`alibaba`, `aui`, `duix`).
    pub targets: BTreeMap<String, String>,
    /// Version of agentproof.
    pub tool_version: String,
    /// Version of the goose load-test library that drove the users.
    pub goose_version: String,
    /// When the run started, RFC 3339 (`2025-01-31T09:30:00Z`); see [`LoadMeta::started_at_time`].
    pub started_at: String,
    /// The share of a distributed run this report measured (`agentproof load --worker I/N`);
    /// `None` for a whole run and for a merged one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerShare>,
    /// The worker report folders a merged report came from (filled by the caller of
    /// [`merge`](super::merge())); empty for a report that was not merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// Set when a merge was allowed to go ahead without every worker, saying which are
    /// missing, e.g. `3 of 4 workers: worker 2 missing`. The numbers then cover only part of
    /// the load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
}

/// Which share of a distributed run one worker process ran: `agentproof load --worker I/N`
/// runs `index` (0-based) of `count` workers, each with its share of the users and the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerShare {
    /// This worker, from 0 to `count - 1`.
    pub index: u32,
    /// Workers in the whole run.
    pub count: u32,
}

impl LoadMeta {
    /// [`LoadMeta::started_at`] as a time, or `None` when it is not RFC 3339
    /// (`YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or `±HH:MM`) or before 1970.
    pub fn started_at_time(&self) -> Option<std::time::SystemTime> {
        super::merge::parse_rfc3339(&self.started_at)
    }
}

impl WorkerShare {
    /// `worker 2 of 4 (--worker 2/4)`, as the reports print it.
    pub fn words(self) -> String {
        format!(
            "worker {} of {} (--worker {}/{})",
            self.index, self.count, self.index, self.count
        )
    }
}

/// Which latency the verdict judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// From when each request was sent: what a client saw, blind to requests the load
    /// generator failed to send on time while waiting.
    AsSent,
    /// From when the schedule said each request was due: corrected for coordinated omission,
    /// so a stalled target also charges for the requests it delayed.
    AsDue,
}

/// The finished, serializable result of a load run. See the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// How to reproduce it.
    pub meta: LoadMeta,
    /// The SLO it is judged against.
    pub slo: LoadSlo,
    /// Wall-clock length, in milliseconds.
    pub duration_ms: u64,
    /// Why the run stopped before its planned end (Ctrl-C, a fatal error), if it did.
    pub cut_short: Option<String>,
    /// The distribution the verdict reads: as due when a schedule was set, else as sent.
    pub judged: Distribution,
    /// One entry per route template, sorted by route.
    pub routes: Vec<RouteResult>,
    /// Per second from 0 to the last second an answer finished in, over all routes.
    pub series: Vec<SecondStats>,
    /// Errors per route and reason, most frequent first.
    pub errors: Vec<ErrorCount>,
    /// The comparison with a baseline run, filled by [`LoadReport::compare_with`].
    pub baseline: Option<Vec<RouteDelta>>,
}

/// Everything measured for one route template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteResult {
    /// Route template, `<platform> <METHOD> <path template>`.
    pub route: String,
    /// The route's own SLO, when it has one that differs from the run's
    /// ([`LoadRecorder::set_route_slo`](super::LoadRecorder::set_route_slo)); `None` when the
    /// run's judges it. Its counters were decided against it. Absent in JSON when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<LoadSlo>,
    /// Requests that finished (answered, failed or timed out).
    pub count: u64,
    /// Failed or timed-out requests.
    pub errors: u64,
    /// Requests abandoned at the timeout (also counted in `errors`).
    pub timeouts: u64,
    /// Latency from when each request was sent.
    pub sent: RouteLatency,
    /// Latency from when each request was due; present when a schedule was set.
    pub due: Option<RouteLatency>,
}

/// One latency distribution of one route: exact counters plus the histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteLatency {
    /// Numbers for people, read from the histogram (bucket tops, within 0.1 %).
    #[serde(flatten)]
    pub summary: LatencySummary,
    /// Requests that took strictly less than `slo.limit_ms` (the route's own SLO's, else the
    /// run's), counted at record time from the measured duration, not from histogram buckets.
    /// The quantile rule reads this.
    pub under_limit: u64,
    /// Requests that reached `slo.timeout_ms` (the route's own, else the run's; timed-out ones
    /// always do). The max rule reads this.
    pub reached_timeout: u64,
    /// Every sample in microseconds (1 µs to 60 s, 3 digits), for exact merges and comparisons.
    /// JSON: base64 of the compressed HdrHistogram V2 serialization.
    #[serde(with = "histogram_blob")]
    pub histogram: Histogram<u64>,
}

impl RouteResult {
    /// The distribution `which`; as due falls back to as sent when the run had no schedule.
    pub fn latency(&self, which: Distribution) -> &RouteLatency {
        match (which, &self.due) {
            (Distribution::AsDue, Some(due)) => due,
            _ => &self.sent,
        }
    }

    /// The platform word of the route: `aui` for `aui POST /x`.
    pub fn platform(&self) -> &str {
        self.route.split_whitespace().next().unwrap_or("")
    }

    /// Failed share of requests, 0 when there were none.
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
}

impl LoadReport {
    /// The SLO `route` is judged by: its own, else the run's.
    pub fn slo_of<'a>(&'a self, route: &'a RouteResult) -> &'a LoadSlo {
        route.slo.as_ref().unwrap_or(&self.slo)
    }

    /// The route's own SLO when it has one that differs from the run's.
    pub fn own_slo<'a>(&self, route: &'a RouteResult) -> Option<&'a LoadSlo> {
        route
            .slo
            .as_ref()
            .filter(|own| !own.differences_from(&self.slo).is_empty())
    }

    /// The routes that have their own SLO, with the rules that differ from the run's
    /// (`p95<500ms, errors<0.1%`), in route order.
    pub fn own_slos(&self) -> impl Iterator<Item = (&RouteResult, String)> {
        self.routes.iter().filter_map(|r| {
            self.own_slo(r)
                .map(|own| (r, own.differences_from(&self.slo)))
        })
    }

    /// The most users active at any moment of the run, as the series counted them; 0 when
    /// users were not counted.
    pub fn peak_users(&self) -> u64 {
        self.series.iter().map(|s| s.users).max().unwrap_or(0)
    }

    /// The routes' judged distributions, in route order.
    pub fn judged_latencies(&self) -> impl Iterator<Item = (&RouteResult, &RouteLatency)> {
        self.routes.iter().map(|r| (r, r.latency(self.judged)))
    }

    /// Requests over all routes.
    pub fn total_requests(&self) -> u64 {
        self.routes.iter().map(|r| r.count).sum()
    }

    /// Errors over all routes.
    pub fn total_errors(&self) -> u64 {
        self.routes.iter().map(|r| r.errors).sum()
    }

    /// True when a schedule was set, so both distributions were kept.
    pub fn is_scheduled(&self) -> bool {
        self.judged == Distribution::AsDue
    }
}

impl Distribution {
    /// `as sent` or `as due`, as reports print it.
    pub fn words(self) -> &'static str {
        match self {
            Distribution::AsSent => "as sent",
            Distribution::AsDue => "as due",
        }
    }
}

/// Histograms as base64 HdrHistogram V2 blobs, restored into the crate's standard bounds.
mod histogram_blob {
    use hdrhistogram::Histogram;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::{decode_histogram, encode_histogram, new_histogram, HIGHEST_MICROS};

    pub(super) fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_histogram(h).map_err(S::Error::custom)?)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let text = String::deserialize(d)?;
        let source = decode_histogram(&text).map_err(D::Error::custom)?;
        let mut h = new_histogram();
        if h.add(&source).is_err() {
            // A foreign histogram with a wider range: clamp value by value, as LatencyTable does.
            for v in source.iter_recorded() {
                let value = v.value_iterated_to().min(HIGHEST_MICROS);
                h.saturating_record_n(value, v.count_at_value());
            }
        }
        Ok(h)
    }
}
