//! Comparison with a baseline run (`agentproof load --baseline DIR`): per route, how p50, p95,
//! p99 and the error rate moved.
//!
//! Both sides are read in the current run's judged distribution (the baseline's as-sent one
//! when it kept no as-due). A route **regressed** when its p95 rose by more than
//! [`REGRESSION_PCT`] % or its error rate by at least [`ERROR_REGRESSION_POINTS`] percentage
//! points; it **improved** when its p95 fell by more than [`REGRESSION_PCT`] % and its error
//! rate did not regress. Regressions come first, worst p95 increase first, then the other routes
//! of both runs by p95 change, then routes only one run has. The comparison is information:
//! it never changes the verdict.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::report::{LoadReport, RouteResult};

/// A p95 change beyond this many percent is a regression (up) or an improvement (down).
pub const REGRESSION_PCT: f64 = 5.0;
/// An error-rate rise of at least this many percentage points is a regression.
pub const ERROR_REGRESSION_POINTS: f64 = 0.1;

/// How a route moved between the baseline and this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeltaStatus {
    /// Slower or more errors, beyond the thresholds.
    Regressed,
    /// Faster, errors not worse.
    Improved,
    /// Within the thresholds.
    Similar,
    /// The route is new in this run.
    OnlyInCurrent,
    /// The route was in the baseline only.
    OnlyInBaseline,
}

/// One latency number in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MsDelta {
    /// In the baseline, ms.
    pub baseline_ms: f64,
    /// In this run, ms.
    pub current_ms: f64,
    /// `current_ms - baseline_ms`.
    pub change_ms: f64,
    /// The change in percent of the baseline; `None` when the baseline was 0.
    pub change_pct: Option<f64>,
}

/// The error rate in both runs, as shares (0.01 = 1 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateDelta {
    /// In the baseline.
    pub baseline: f64,
    /// In this run.
    pub current: f64,
    /// The change in percentage points.
    pub change_points: f64,
}

/// One route compared. The deltas are `None` for a route only one run has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteDelta {
    /// Route template.
    pub route: String,
    /// How it moved.
    pub status: DeltaStatus,
    /// Median.
    pub p50: Option<MsDelta>,
    /// 95th percentile.
    pub p95: Option<MsDelta>,
    /// 99th percentile.
    pub p99: Option<MsDelta>,
    /// Error rate.
    pub error_rate: Option<RateDelta>,
}

impl LoadReport {
    /// Fills [`LoadReport::baseline`] with the comparison against `baseline`, ordered as the
    /// module docs say. Calling it again replaces the previous comparison.
    pub fn compare_with(&mut self, baseline: &LoadReport) {
        let judged = self.judged;
        let mut deltas: Vec<RouteDelta> = self
            .routes
            .iter()
            .map(
                |current| match baseline.routes.iter().find(|b| b.route == current.route) {
                    Some(before) => compare(before, current, |r| r.latency(judged).summary),
                    None => one_sided(&current.route, DeltaStatus::OnlyInCurrent),
                },
            )
            .collect();
        deltas.extend(
            baseline
                .routes
                .iter()
                .filter(|b| !self.routes.iter().any(|r| r.route == b.route))
                .map(|b| one_sided(&b.route, DeltaStatus::OnlyInBaseline)),
        );
        deltas.sort_by(order);
        self.baseline = Some(deltas);
    }
}

fn compare(
    before: &RouteResult,
    after: &RouteResult,
    summary: impl Fn(&RouteResult) -> crate::model::LatencySummary,
) -> RouteDelta {
    let (b, a) = (summary(before), summary(after));
    let p95 = ms_delta(b.p95_ms, a.p95_ms);
    let rate = RateDelta {
        baseline: before.error_rate(),
        current: after.error_rate(),
        change_points: (after.error_rate() - before.error_rate()) * 100.0,
    };
    let p95_pct = p95.change_pct.unwrap_or(if p95.change_ms > 0.0 {
        f64::INFINITY
    } else {
        0.0
    });
    let errors_worse = rate.change_points >= ERROR_REGRESSION_POINTS - 1e-9;
    let status = if p95_pct > REGRESSION_PCT || errors_worse {
        DeltaStatus::Regressed
    } else if p95_pct < -REGRESSION_PCT {
        DeltaStatus::Improved
    } else {
        DeltaStatus::Similar
    };
    RouteDelta {
        route: after.route.clone(),
        status,
        p50: Some(ms_delta(b.p50_ms, a.p50_ms)),
        p95: Some(p95),
        p99: Some(ms_delta(b.p99_ms, a.p99_ms)),
        error_rate: Some(rate),
    }
}

fn ms_delta(baseline_ms: f64, current_ms: f64) -> MsDelta {
    let change_ms = current_ms - baseline_ms;
    MsDelta {
        baseline_ms,
        current_ms,
        change_ms,
        change_pct: (baseline_ms > 0.0).then(|| change_ms / baseline_ms * 100.0),
    }
}

fn one_sided(route: &str, status: DeltaStatus) -> RouteDelta {
    RouteDelta {
        route: route.to_owned(),
        status,
        p50: None,
        p95: None,
        p99: None,
        error_rate: None,
    }
}

/// Regressions, then other routes of both runs, then one-sided ones; within a group the
/// largest p95 increase first, then by route.
fn order(a: &RouteDelta, b: &RouteDelta) -> Ordering {
    let group = |d: &RouteDelta| match d.status {
        DeltaStatus::Regressed => 0,
        DeltaStatus::Improved | DeltaStatus::Similar => 1,
        DeltaStatus::OnlyInCurrent => 2,
        DeltaStatus::OnlyInBaseline => 3,
    };
    let change = |d: &RouteDelta| d.p95.map_or(0.0, |p| p.change_ms);
    group(a)
        .cmp(&group(b))
        .then_with(|| change(b).total_cmp(&change(a)))
        .then_with(|| a.route.cmp(&b.route))
}
