//! Merging the reports of a distributed load run: `agentproof report merge DIR... --out DIR`.
//!
//! `agentproof load --worker I/N --start-at T` runs share `I` (0-based) of `N` of the users and
//! the rate; the `N` worker processes start at the same instant and each writes its own report.
//! [`merge()`] turns those reports into the report one process measuring every sample would
//! have written, and the SLO is judged once, on the merged result:
//!
//! * **refusals** ([`LoadMergeError`]): no report, a report that is not a worker report,
//!   workers of different sizes of run, a worker index out of range or given twice, different
//!   scenarios, SLOs or schedule kinds, a route two workers judged by different SLOs (its own
//!   or the run's: [`RouteResult::slo`]; a route only one worker measured is compared with
//!   nothing), a `started_at` that is not RFC 3339, and missing workers
//!   (`3 of 4 workers: worker 2 missing`) unless `allow_partial`, which merges what is there and
//!   says so in [`LoadMeta::partial`].
//! * **routes**, exact: a union by route name; count, errors and timeouts add; each
//!   distribution (as sent, and as due with a schedule) adds its histogram and its exact
//!   counters `under_limit` and `reached_timeout`, and its summary is recomputed from the
//!   merged histogram. Histograms share the crate's fixed bounds, so the merged p50/p95/p99/max
//!   equal those of one histogram of all samples, and the verdict, read from the exact counters,
//!   equals that of one recorder that recorded everything. A route keeps its own SLO, the same
//!   in every worker that has the route.
//! * **series**, per second, lined up on wall-clock time: worker second `k` is second
//!   `k + offset` of the merge, `offset` being the worker's `started_at` minus the earliest one,
//!   rounded to the nearest second. The merged series runs contiguously from the earliest start
//!   to the last second any worker has. Requests and errors add exactly and `max_ms` is the
//!   maximum; the p50 and p95 of a second cannot be merged exactly from per-second summaries:
//!   the merge takes the request-weighted mean of the workers' p50 and the largest of their
//!   p95. Users add: each worker's second holds the most users it had at any moment of that
//!   second, so the sum is the users of the whole run in that second when the workers' peaks
//!   coincide, and at most one second's starts above it when they do not (workers start their
//!   users at the same instants, so a ramp adds up). The series is a picture; the exact
//!   numbers are the route histograms.
//! * **errors**: counts add per (route, reason), bounded by the same 200-pair cap as the
//!   recorder (pairs are taken worker by worker, most frequent first; once the cap is reached,
//!   new reasons are pooled under [`OTHER_REASONS`](super::OTHER_REASONS)), sorted as the
//!   recorder sorts them.
//! * **meta**: scenario, description, seed, command line, targets and versions of the first
//!   worker (the lowest index; seeds differ per worker); users, rate and ramp rate summed; the
//!   longest planned run time; the earliest `started_at`; no worker share; `merged_from` left
//!   empty for the caller to fill with the folder names. `duration_ms` runs from the earliest
//!   start to the latest end (start + duration), `cut_short` names every worker that was cut
//!   short with its reason, and there is no baseline comparison (compare the merged report).
//!
//! # Example
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use reports::load::{merge, LoadMeta, LoadRecorder, LoadSlo, SampleOutcome, WorkerShare};
//!
//! fn meta(worker: Option<WorkerShare>) -> LoadMeta {
//!     LoadMeta {
//!         scenario: "aui-token-storm".into(),
//!         scenario_description: "every user logs in and asks for RTC tokens".into(),
//!         seed: 7,
//!         command_line: "agentproof load aui-token-storm --users 10 --worker 0/2".into(),
//!         users: 5,
//!         increase_rate: 5.0,
//!         run_time_secs: 2,
//!         rate_per_sec: None,
//!         targets: BTreeMap::new(),
//!         tool_version: "0.1.0".into(),
//!         goose_version: "0.18.0".into(),
//!         started_at: "2025-01-31T09:30:00Z".into(),
//!         worker,
//!         merged_from: Vec::new(),
//!         partial: None,
//!     }
//! }
//!
//! let route = "aui POST /api/v2/aiagent/getRtcAuthToken";
//! let mut all = LoadRecorder::new(LoadSlo::default(), false);
//! let mut workers = Vec::new();
//! for index in 0..2u32 {
//!     let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
//!     for i in 0..50u64 {
//!         let at = Duration::from_millis(i * 40);
//!         let sent = Duration::from_millis(20 + i * (u64::from(index) + 1) * 7);
//!         recorder.record(route, at, sent, None, SampleOutcome::Ok);
//!         all.record(route, at, sent, None, SampleOutcome::Ok);
//!     }
//!     let share = WorkerShare { index, count: 2 };
//!     workers.push(recorder.finish(meta(Some(share)), 2_000, None));
//! }
//! let mut merged = merge(workers, false).unwrap();
//! merged.meta.merged_from = vec!["w0".into(), "w1".into()]; // the caller names the folders
//! let single = all.finish(meta(None), 2_000, None);
//! assert_eq!(merged.routes[0].count, 100);
//! assert_eq!(merged.routes[0].sent.summary, single.routes[0].sent.summary);
//! assert_eq!(merged.routes[0].sent.under_limit, single.routes[0].sent.under_limit);
//! assert_eq!(merged.verdict(), single.verdict());
//! assert_eq!(merged.meta.users, 10);
//! assert_eq!(merged.meta.worker, None);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use super::breakdown::Breakdown;
use super::report::{LoadMeta, LoadReport, RouteLatency, RouteResult, WorkerShare};
use super::series::SecondStats;
use super::slo::LoadSlo;
use crate::model::{LatencySummary, HIGHEST_MICROS};

/// Why [`merge()`] refused; every message names the values that disagree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadMergeError {
    /// Nothing to merge.
    #[error("no load reports to merge")]
    NoReports,
    /// A report without a worker share: a whole run or an already merged one.
    #[error("report {position} of those given (scenario {scenario:?}, started {started_at}) is not a worker report: it has no worker share; merge only the reports of one `agentproof load --worker I/N` run")]
    NotWorker {
        /// Its place in the list given, counting from 1.
        position: usize,
        /// Its scenario.
        scenario: String,
        /// When it started.
        started_at: String,
    },
    /// Two workers name different numbers of workers: reports of different runs.
    #[error("worker {} says the run had {} workers, worker {} says {}: reports of different runs", .first.index, .first.count, .other.index, .other.count)]
    WorkerCounts {
        /// The first report's share.
        first: WorkerShare,
        /// The share that disagrees.
        other: WorkerShare,
    },
    /// A worker index not below the worker count.
    #[error("{}", out_of_range(*.share))]
    OutOfRange {
        /// The impossible share.
        share: WorkerShare,
    },
    /// The same worker twice.
    #[error(
        "worker {index} of {count} is given twice: two reports of the same worker, or of two runs"
    )]
    Duplicate {
        /// The worker index.
        index: u32,
        /// Workers in the run.
        count: u32,
    },
    /// Workers ran different scenarios.
    #[error("worker {first_worker} ran scenario {first:?} but worker {other_worker} ran {other:?}: reports of different runs")]
    Scenario {
        /// The lowest worker index.
        first_worker: u32,
        /// Its scenario.
        first: String,
        /// The worker that disagrees.
        other_worker: u32,
        /// Its scenario.
        other: String,
    },
    /// Workers were judged against different SLOs.
    #[error("worker {first_worker} was judged against {} but worker {other_worker} against {}: the merged run could not be judged once", .first.describe(), .other.describe())]
    Slo {
        /// The lowest worker index.
        first_worker: u32,
        /// Its SLO.
        first: LoadSlo,
        /// The worker that disagrees.
        other_worker: u32,
        /// Its SLO.
        other: LoadSlo,
    },
    /// Two workers judged one route by different SLOs (a route's own, or the run's).
    #[error("route {route:?} was judged against {} by worker {first_worker} but against {} by worker {other_worker}: the merged route could not be judged once (were the workers given the same journey file?)", .first.describe(), .other.describe())]
    RouteSlo {
        /// The route.
        route: String,
        /// The lowest worker index that has the route.
        first_worker: u32,
        /// The SLO it judged the route by.
        first: LoadSlo,
        /// The worker that disagrees.
        other_worker: u32,
        /// The SLO it judged the route by.
        other: LoadSlo,
    },
    /// One worker ran a `--rate` schedule and another did not.
    #[error("worker {scheduled_worker} ran a --rate schedule (judged as due) but worker {closed_worker} ran closed-loop users (judged as sent): reports of different runs")]
    Schedule {
        /// A worker with a schedule.
        scheduled_worker: u32,
        /// A worker without one.
        closed_worker: u32,
    },
    /// A `started_at` that [`LoadMeta::started_at_time`] cannot read.
    #[error("worker {worker} has started_at {value:?}, not an RFC 3339 time such as 2025-01-31T09:30:00Z, so its seconds cannot be lined up")]
    BadStartTime {
        /// The worker index.
        worker: u32,
        /// The text found.
        value: String,
    },
    /// Workers are missing and `allow_partial` was not given. The message is the note a partial
    /// merge records, e.g. `3 of 4 workers: worker 2 missing`.
    #[error("{note}")]
    Missing {
        /// Worker indices missing, ascending.
        missing: Vec<u32>,
        /// Workers in the run.
        count: u32,
        /// `3 of 4 workers: worker 2 missing`.
        note: String,
    },
}

/// Merges the reports of the workers of one distributed run into the report of the whole run,
/// as the module docs say: refusing reports that do not belong together, exact on routes and
/// the verdict, lined up on wall-clock time for the series.
///
/// `allow_partial`: merge even when workers are missing, recording which in
/// [`LoadMeta::partial`]; otherwise that is [`LoadMergeError::Missing`]. The order of
/// `reports` does not matter. The caller fills [`LoadMeta::merged_from`] (and may replace
/// [`LoadMeta::command_line`]).
pub fn merge(
    mut reports: Vec<LoadReport>,
    allow_partial: bool,
) -> Result<LoadReport, LoadMergeError> {
    let partial = check(&mut reports, allow_partial)?;
    let starts = reports
        .iter()
        .map(|r| {
            r.meta
                .started_at_time()
                .ok_or_else(|| LoadMergeError::BadStartTime {
                    worker: index_of(r),
                    value: r.meta.started_at.clone(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let earliest = *starts.iter().min().expect("at least one report");
    let offsets_ms: Vec<u64> = starts
        .iter()
        .map(|t| {
            let d = t.duration_since(earliest).unwrap_or_default();
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
        })
        .collect();
    let first = reports
        .iter()
        .zip(&offsets_ms)
        .find(|(_, &o)| o == 0)
        .map(|(r, _)| r.meta.started_at.clone())
        .expect("the earliest start has offset 0");

    let duration_ms = reports
        .iter()
        .zip(&offsets_ms)
        .map(|(r, &o)| o.saturating_add(r.duration_ms))
        .max()
        .unwrap_or(0);
    let cut_short: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.cut_short
                .as_ref()
                .map(|why| format!("worker {}: {why}", index_of(r)))
        })
        .collect();
    let series = merge_series(&reports, &offsets_ms);
    let errors = merge_errors(&reports);
    let meta = merge_meta(&reports, first, partial);
    let (slo, judged) = (reports[0].slo, reports[0].judged);

    let mut routes: BTreeMap<String, RouteResult> = BTreeMap::new();
    for report in reports {
        for route in report.routes {
            match routes.get_mut(&route.route) {
                Some(into) => absorb_route(into, route),
                None => {
                    routes.insert(route.route.clone(), route);
                }
            }
        }
    }

    Ok(LoadReport {
        meta,
        slo,
        duration_ms,
        cut_short: (!cut_short.is_empty()).then(|| cut_short.join("; ")),
        judged,
        routes: routes.into_values().collect(),
        series,
        errors,
        baseline: None,
    })
}

/// Every refusal; sorts `reports` by worker index. Returns the partial note, if any.
fn check(
    reports: &mut [LoadReport],
    allow_partial: bool,
) -> Result<Option<String>, LoadMergeError> {
    if reports.is_empty() {
        return Err(LoadMergeError::NoReports);
    }
    for (i, r) in reports.iter().enumerate() {
        if r.meta.worker.is_none() {
            return Err(LoadMergeError::NotWorker {
                position: i + 1,
                scenario: r.meta.scenario.clone(),
                started_at: r.meta.started_at.clone(),
            });
        }
    }
    let share = |r: &LoadReport| r.meta.worker.expect("checked above");
    let head = share(&reports[0]);
    let mut seen = BTreeSet::new();
    for r in reports.iter() {
        let s = share(r);
        if s.count != head.count {
            return Err(LoadMergeError::WorkerCounts {
                first: head,
                other: s,
            });
        }
        if s.index >= s.count {
            return Err(LoadMergeError::OutOfRange { share: s });
        }
        if !seen.insert(s.index) {
            return Err(LoadMergeError::Duplicate {
                index: s.index,
                count: s.count,
            });
        }
    }
    reports.sort_by_key(|r| share(r).index);
    let first = &reports[0];
    for r in reports.iter().skip(1) {
        if r.meta.scenario != first.meta.scenario {
            return Err(LoadMergeError::Scenario {
                first_worker: index_of(first),
                first: first.meta.scenario.clone(),
                other_worker: index_of(r),
                other: r.meta.scenario.clone(),
            });
        }
        if r.slo != first.slo {
            return Err(LoadMergeError::Slo {
                first_worker: index_of(first),
                first: first.slo,
                other_worker: index_of(r),
                other: r.slo,
            });
        }
        if r.is_scheduled() != first.is_scheduled() {
            let (scheduled, closed) = if first.is_scheduled() {
                (first, r)
            } else {
                (r, first)
            };
            return Err(LoadMergeError::Schedule {
                scheduled_worker: index_of(scheduled),
                closed_worker: index_of(closed),
            });
        }
    }
    check_route_slos(reports)?;
    let missing: Vec<u32> = (0..head.count).filter(|i| !seen.contains(i)).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let note = missing_note(reports.len(), head.count, &missing);
    if allow_partial {
        Ok(Some(note))
    } else {
        Err(LoadMergeError::Missing {
            missing,
            count: head.count,
            note,
        })
    }
}

/// Every route judged by the same SLO in every worker that measured it; `reports` sorted by
/// worker index and sharing the run's SLO.
fn check_route_slos(reports: &[LoadReport]) -> Result<(), LoadMergeError> {
    let mut first: BTreeMap<&str, (u32, LoadSlo)> = BTreeMap::new();
    for report in reports {
        for route in &report.routes {
            let slo = *report.slo_of(route);
            let (first_worker, first_slo) =
                *first.entry(&route.route).or_insert((index_of(report), slo));
            if first_slo != slo {
                return Err(LoadMergeError::RouteSlo {
                    route: route.route.clone(),
                    first_worker,
                    first: first_slo,
                    other_worker: index_of(report),
                    other: slo,
                });
            }
        }
    }
    Ok(())
}

fn out_of_range(share: WorkerShare) -> String {
    if share.count == 0 {
        return format!(
            "worker {} of 0 cannot exist: a run has at least one worker",
            share.index
        );
    }
    format!(
        "worker {} of {} cannot exist: worker indices run from 0 to {}",
        share.index,
        share.count,
        share.count - 1
    )
}

/// `3 of 4 workers: worker 2 missing`, `2 of 4 workers: workers 0 and 3 missing`,
/// `1 of 4 workers: workers 0, 1 and 3 missing`.
fn missing_note(present: usize, count: u32, missing: &[u32]) -> String {
    let names: Vec<String> = missing.iter().map(u32::to_string).collect();
    let list = match names.as_slice() {
        [one] => format!("worker {one}"),
        [init @ .., last] => format!("workers {} and {last}", init.join(", ")),
        [] => String::new(),
    };
    format!("{present} of {count} workers: {list} missing")
}

fn index_of(report: &LoadReport) -> u32 {
    report.meta.worker.map_or(0, |w| w.index)
}

fn merge_meta(reports: &[LoadReport], started_at: String, partial: Option<String>) -> LoadMeta {
    let first = &reports[0].meta;
    let rate = reports
        .iter()
        .filter_map(|r| r.meta.rate_per_sec)
        .fold(None, |sum: Option<f64>, rate| {
            Some(sum.unwrap_or(0.0) + rate)
        });
    LoadMeta {
        scenario: first.scenario.clone(),
        scenario_description: first.scenario_description.clone(),
        seed: first.seed,
        command_line: first.command_line.clone(),
        users: reports.iter().map(|r| r.meta.users).sum(),
        increase_rate: reports.iter().map(|r| r.meta.increase_rate).sum(),
        run_time_secs: reports
            .iter()
            .map(|r| r.meta.run_time_secs)
            .max()
            .unwrap_or(0),
        rate_per_sec: rate,
        targets: first.targets.clone(),
        tool_version: first.tool_version.clone(),
        goose_version: first.goose_version.clone(),
        started_at,
        worker: None,
        merged_from: Vec::new(),
        partial,
    }
}

fn absorb_route(into: &mut RouteResult, route: RouteResult) {
    into.count += route.count;
    into.errors += route.errors;
    into.timeouts += route.timeouts;
    absorb_latency(&mut into.sent, &route.sent);
    match (&mut into.due, route.due) {
        (Some(into), Some(due)) => absorb_latency(into, &due),
        (into @ None, due @ Some(_)) => *into = due,
        (_, None) => {}
    }
}

fn absorb_latency(into: &mut RouteLatency, other: &RouteLatency) {
    add_histogram(&mut into.histogram, &other.histogram);
    into.under_limit += other.under_limit;
    into.reached_timeout += other.reached_timeout;
    into.summary = LatencySummary::of(&into.histogram);
}

/// Adds `source` into `target`; exact for the crate's standard bounds, which every histogram
/// of a report has (deserialization restores them). A wider one is clamped value by value.
fn add_histogram(target: &mut Histogram<u64>, source: &Histogram<u64>) {
    if target.add(source).is_err() {
        for v in source.iter_recorded() {
            let value = v.value_iterated_to().min(HIGHEST_MICROS);
            target.saturating_record_n(value, v.count_at_value());
        }
    }
}

/// The per-second series on the earliest start's clock, as the module docs say.
fn merge_series(reports: &[LoadReport], offsets_ms: &[u64]) -> Vec<SecondStats> {
    #[derive(Default, Clone, Copy)]
    struct Acc {
        requests: u64,
        errors: u64,
        p50_weighted: f64,
        p50_only: f64,
        contributors: u32,
        p95: f64,
        max: f64,
        users: u64,
    }
    let shifts: Vec<usize> = offsets_ms
        .iter()
        .map(|&ms| usize::try_from(ms.saturating_add(500) / 1000).unwrap_or(usize::MAX))
        .collect();
    let len = reports
        .iter()
        .zip(&shifts)
        .filter(|(r, _)| !r.series.is_empty())
        .map(|(r, &shift)| shift.saturating_add(r.series.len()))
        .max()
        .unwrap_or(0);
    let mut acc = vec![Acc::default(); len];
    for (report, &shift) in reports.iter().zip(&shifts) {
        for (k, s) in report.series.iter().enumerate() {
            let a = &mut acc[shift + k];
            a.requests += s.requests;
            a.errors += s.errors;
            a.users += s.users;
            a.max = a.max.max(s.max_ms);
            if s.requests > 0 {
                a.p50_weighted += s.p50_ms * s.requests as f64;
                a.p50_only = s.p50_ms;
                a.contributors += 1;
                a.p95 = a.p95.max(s.p95_ms);
            }
        }
    }
    acc.into_iter()
        .enumerate()
        .map(|(second, a)| SecondStats {
            second: second as u64,
            requests: a.requests,
            errors: a.errors,
            p50_ms: match a.contributors {
                0 => 0.0,
                1 => a.p50_only,
                _ => a.p50_weighted / a.requests as f64,
            },
            p95_ms: a.p95,
            max_ms: a.max,
            users: a.users,
        })
        .collect()
}

/// Worker by worker (ascending index), each worker's pairs most frequent first, through the
/// recorder's capped breakdown.
fn merge_errors(reports: &[LoadReport]) -> Vec<super::ErrorCount> {
    let mut breakdown = Breakdown::default();
    for report in reports {
        for e in &report.errors {
            breakdown.count_n(&e.route, &e.reason, e.count);
        }
    }
    breakdown.into_sorted()
}

/// Reads `YYYY-MM-DDTHH:MM:SS`, an optional fraction (up to nanoseconds are kept), then `Z` or
/// `±HH:MM`. `None` for anything else, an impossible date, or a time before 1970.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let digits = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for i in 0..9 {
            let d = if i < digits {
                u32::from(b[at + i] - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + d;
        }
        at += digits;
    }
    let offset_secs = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == at + 6 && sep(at + 3, b":") => {
            let (h, m) = (num(at + 1, at + 3)?, num(at + 4, at + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Option<f64> {
        parse_rfc3339(text).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64())
    }

    #[test]
    fn rfc3339_stamps_parse_to_unix_time() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(secs("2025-01-31T09:30:00Z"), Some(1_738_315_800.0));
        assert_eq!(secs("2024-02-29T23:59:59Z"), Some(1_709_251_199.0));
        assert_eq!(secs("2025-01-31T09:30:00.25Z"), Some(1_738_315_800.25));
        assert_eq!(secs("2025-01-31T10:30:00+01:00"), Some(1_738_315_800.0));
        assert_eq!(secs("2025-01-31T08:00:00-01:30"), Some(1_738_315_800.0));
        let nanos = parse_rfc3339("2025-01-31T09:30:00.123456789Z").unwrap();
        assert_eq!(
            nanos.duration_since(UNIX_EPOCH).unwrap().subsec_nanos(),
            123_456_789
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2025-01-31",
            "2025-01-31T09:30:00",
            "2025-02-29T09:30:00Z",
            "2025-13-01T09:30:00Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T09:30:00.Z",
            "2025-01-31T09:30:00+0100",
            "2025-01-31T09:30:00Zjunk",
            "1969-12-31T23:59:59Z",
            "２025-01-31T09:30:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn missing_notes_list_every_missing_worker() {
        assert_eq!(missing_note(3, 4, &[2]), "3 of 4 workers: worker 2 missing");
        assert_eq!(
            missing_note(2, 4, &[0, 3]),
            "2 of 4 workers: workers 0 and 3 missing"
        );
        assert_eq!(
            missing_note(1, 4, &[0, 1, 3]),
            "1 of 4 workers: workers 0, 1 and 3 missing"
        );
    }
}
