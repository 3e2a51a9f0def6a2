//! Load-test results: record every sample of an `agentproof load` run in bounded memory, judge
//! an exact SLO verdict, render the reports and compare with a baseline.
//!
//! The flow: a [`LoadRecorder`] built from a [`LoadSlo`] (and, for a journey's steps, a route's
//! own SLO: [`LoadSlo::for_route`], [`LoadRecorder::set_route_slo`]) takes every answer as it
//! finishes ([`LoadRecorder::record`]) and every user that starts or stops
//! ([`LoadRecorder::user_started`], [`LoadRecorder::user_stopped`]), and gives cheap live
//! numbers ([`LoadRecorder::progress`]);
//! [`LoadRecorder::finish`] turns it into a [`LoadReport`], the serializable result
//! (`report.json`). The report judges itself ([`LoadReport::verdict`], [`LoadReport::exit_code`],
//! [`LoadReport::verdict_line`], [`LoadReport::route_lines`]), compares with a baseline read by
//! [`read_load_report`] ([`LoadReport::compare_with`]) and is written as JSON, HTML, Markdown
//! and JUnit by [`write_load_reports`].
//!
//! A distributed run (`agentproof load --worker I/N`) leaves one report per worker, each with
//! its [`WorkerShare`] ([`write_worker_files`] adds the HdrHistogram interval log
//! [`write_interval_log`] writes); [`merge()`] turns them into the exact report of the whole
//! run, judged once.
//!
//! The split, one concern per file: `slo` the limits and their `--slo` syntax, `recorder` the
//! accumulation, `series` the per-second picture, `breakdown` the capped error counts, `report`
//! the result model, `verdict` the exact judgement, `baseline` the comparison, `run` the
//! conversion to a [`crate::Run`] for JUnit, `files` reading and writing, `merge` the merge of
//! worker reports, `interval_log` the HdrHistogram interval log.
//!
//! # Exactness
//!
//! The quantile rule is judged on counts decided at record time from the measured
//! [`Duration`](std::time::Duration) (`under_limit`), never on histogram buckets: 95 of 100
//! answers strictly under 2000 ms pass `p95<2000ms`, 94 fail, and an answer of exactly
//! 2000 ms is not under. A route with its own SLO has its counters decided against its own
//! limits, the same way. See [`verdict`](LoadReport::verdict) for all three rules. With a
//! schedule (`--rate`), the judged distribution is the as-due one: latency from when a
//! request was due, so a target that stalls the load generator pays for the requests it
//! delayed (coordinated omission).
//!
//! # Memory
//!
//! Bounded by routes × seconds, never by requests. Per route: two HdrHistograms (1 µs to
//! 60 s, 3 significant digits: 17 408 slots of 8 bytes, 136 KiB each; the as-due one only
//! with a schedule), a few counters and its own SLO if it has one; one more histogram over all
//! routes for the progress line and one for the current second of the series; per elapsed
//! second one 56-byte [`SecondStats`] (users included: a counter, not a list of users); the
//! error breakdown holds at most 200 (route, reason) pairs of at most 300 bytes of reason
//! each. A one-hour run over 10 routes with a schedule:
//! 22 × 136 KiB + 3 600 × 56 bytes + about 70 KiB of reasons ≈ 3.2 MiB, the same for 1 000 or
//! 100 million requests ([`LoadRecorder::approx_bytes`] reports it for a live recorder; a
//! unit test checks this figure and that a million samples do not move it).
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use reports::load::{LoadMeta, LoadRecorder, LoadSlo, SampleOutcome};
//!
//! let mut slo = LoadSlo::default();
//! slo.parse_rule("p99<1.5s").unwrap();
//! assert_eq!(slo.describe(), "p99<1500ms, max<20000ms, errors<1%");
//!
//! let route = "aui POST /api/v2/aiagent/getRtcAuthToken";
//! let mut recorder = LoadRecorder::new(slo, false);
//! for i in 0..100u64 {
//!     let sent = Duration::from_millis(if i < 99 { 40 } else { 1500 });
//!     recorder.record(route, Duration::from_millis(i * 30), sent, None, SampleOutcome::Ok);
//! }
//! assert_eq!(recorder.progress().requests, 100);
//!
//! let meta = LoadMeta {
//!     scenario: "aui-token-storm".into(),
//!     scenario_description: "every user logs in and asks for RTC tokens".into(),
//!     seed: 7,
//!     command_line: "agentproof load aui-token-storm --users 10".into(),
//!     users: 10,
//!     increase_rate: 5.0,
//!     run_time_secs: 3,
//!     rate_per_sec: None,
//!     targets: BTreeMap::from([("aui".into(), "http://127.0.0.1:18602".into())]),
//!     tool_version: "0.1.0".into(),
//!     goose_version: "0.18.0".into(),
//!     started_at: "2025-01-31T09:30:00Z".into(),
//!     worker: None,
//!     merged_from: Vec::new(),
//!     partial: None,
//! };
//! let report = recorder.finish(meta, 3_000, None);
//! // 99 of 100 answers under 1500 ms: exactly the 99 % the rule asks (1500 ms is not under).
//! assert_eq!(report.routes[0].sent.under_limit, 99);
//! assert_eq!(report.exit_code(), 0);
//! assert!(report.verdict_line().starts_with("PASS: 1 route met p99<1500ms"));
//! assert_eq!(report.series.len(), 3);
//!
//! let json = reports::render::load::json::render(&report);
//! let back: reports::load::LoadReport = serde_json::from_str(&json).unwrap();
//! assert_eq!(back, report);
//! ```

mod baseline;
mod breakdown;
mod files;
mod interval_log;
mod merge;
mod recorder;
mod report;
mod run;
mod series;
mod slo;
mod verdict;

pub use baseline::{
    DeltaStatus, MsDelta, RateDelta, RouteDelta, ERROR_REGRESSION_POINTS, REGRESSION_PCT,
};
pub use breakdown::{ErrorCount, MAX_PAIRS, MAX_REASON_BYTES, OTHER_REASONS};
pub use files::{
    read_load_report, write_load_reports, write_worker_files, LoadReadError, INTERVAL_LOG_FILE,
};
pub use interval_log::{interval_log_tag, write_interval_log};
pub use merge::{merge, LoadMergeError};
pub use recorder::{LoadRecorder, Progress, RouteSloError, SampleOutcome};
pub use report::{Distribution, LoadMeta, LoadReport, RouteLatency, RouteResult, WorkerShare};
pub use series::SecondStats;
pub use slo::{LoadSlo, SloParseError, ACCEPTED_FORMS};
pub(crate) use verdict::{grouped, percent, percent_up};
pub use verdict::{LoadVerdict, RouteVerdict, Rule, RuleVerdict, OWN_SLOS_NAMED};
