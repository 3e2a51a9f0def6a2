//! The verdict of a load run, judged exactly from counters, never from histogram buckets.
//!
//! Per route, on the judged distribution, three rules:
//!
//! * **quantile**: passes iff `under_limit × 1 000 000 ≥ count × round(quantile × 1 000 000)`,
//!   integer arithmetic, so 95 of 100 answers under 2000 ms pass and 94 fail; an answer of
//!   exactly the limit is not under it;
//! * **max**: passes iff no request reached `timeout_ms` (a timed-out one always has);
//! * **errors**: passes iff `errors × 1 000 000 ≤ count × round(max_error_rate × 1 000 000)`.
//!
//! A route with its own SLO ([`RouteResult::slo`]) is judged by it, with the same
//! arithmetic on its counters (decided against its own limits at record time); the other
//! routes by the run's. Failed answers count in the quantile and max rules with the time they
//! took. The run passes
//! when every route passes, and fails when no request finished at all: a load test that
//! measured nothing proves nothing. A cut-short run is judged on what it measured; the lines
//! say it was cut short.

use serde::{Deserialize, Serialize};

use super::report::{LoadReport, RouteLatency, RouteResult};
use super::slo::LoadSlo;
use crate::model::{EXIT_FAIL, EXIT_PASS};
use crate::render::ms;

/// Which rule of the SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A share of answers under the limit (`p95<2000ms`).
    Quantile,
    /// No request reaching the timeout (`max<20000ms`).
    Max,
    /// The error rate (`errors<1%`).
    Errors,
}

/// One rule on one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleVerdict {
    /// Which rule.
    pub rule: Rule,
    /// True when the route met it.
    pub passed: bool,
    /// The rule in words, e.g. `95% of answers under 2000 ms`.
    pub name: String,
    /// What the rule asks, e.g. `at least 95% under 2000 ms`.
    pub expected: String,
    /// What was measured, e.g. `87.1% under 2000 ms (707 of 812)`.
    pub got: String,
    /// The same for a one-line summary, e.g. `p95: 87.1% under 2000 ms (needs 95%)`.
    pub short: String,
}

/// The rules of one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteVerdict {
    /// Route template.
    pub route: String,
    /// Quantile, max and errors, in that order.
    pub rules: Vec<RuleVerdict>,
}

/// The verdict over all routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadVerdict {
    /// One per route, in the report's route order.
    pub routes: Vec<RouteVerdict>,
}

impl RouteVerdict {
    /// True when every rule passed.
    pub fn is_pass(&self) -> bool {
        self.rules.iter().all(|r| r.passed)
    }

    /// The rules that failed.
    pub fn failed(&self) -> impl Iterator<Item = &RuleVerdict> {
        self.rules.iter().filter(|r| !r.passed)
    }
}

impl LoadVerdict {
    /// True when at least one route was measured and every route passed.
    pub fn is_pass(&self) -> bool {
        !self.routes.is_empty() && self.routes.iter().all(RouteVerdict::is_pass)
    }

    /// Routes that broke a rule.
    pub fn failed_routes(&self) -> usize {
        self.routes.iter().filter(|r| !r.is_pass()).count()
    }

    /// [`EXIT_PASS`] or [`EXIT_FAIL`].
    pub fn exit_code(&self) -> i32 {
        if self.is_pass() {
            EXIT_PASS
        } else {
            EXIT_FAIL
        }
    }
}

impl LoadReport {
    /// Judges every route as the module docs say.
    pub fn verdict(&self) -> LoadVerdict {
        LoadVerdict {
            routes: self
                .judged_latencies()
                .map(|(route, latency)| judge(self.slo_of(route), &self.slo, route, latency))
                .collect(),
        }
    }

    /// ` (1 by its own SLO: aui POST /x p95<500ms)` for the verdict line, naming each route
    /// judged by its own rules, up to [`OWN_SLOS_NAMED`] of them; empty when none is.
    fn own_slo_note(&self) -> String {
        let own: Vec<(&RouteResult, String)> = self.own_slos().collect();
        match own.len() {
            0 => String::new(),
            1 => format!("1 by its own SLO: {} {}", own[0].0.route, own[0].1),
            n if n <= OWN_SLOS_NAMED => {
                let named: Vec<String> = own
                    .iter()
                    .map(|(route, rules)| format!("{} {rules}", route.route))
                    .collect();
                format!("{n} by their own SLO: {}", named.join("; "))
            }
            n => format!("{n} by their own SLO, see the route lines"),
        }
    }

    /// 0 when the SLO held on every route, 1 when it broke (or nothing was measured).
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }

    /// The first line the CLI prints, e.g. `FAIL: 1 of 3 routes broke the SLO (p95<2000ms,
    /// max<20000ms, errors<1%), judged as due (corrected for coordinated omission), over 812
    /// requests`. Routes judged by their own SLO are named after the run's rules: `(p95<2000ms,
    /// max<20000ms, errors<1%; 1 by its own SLO: aui POST /api/v2/aiagent/login p95<500ms)`.
    pub fn verdict_line(&self) -> String {
        let verdict = self.verdict();
        let note = self.own_slo_note();
        let slo = if note.is_empty() {
            self.slo.describe()
        } else {
            format!("{}; {note}", self.slo.describe())
        };
        let routes = plural(self.routes.len() as u64, "route", "routes");
        let head = if self.routes.is_empty() {
            format!("FAIL: no request finished, so nothing was judged against {slo}")
        } else if verdict.is_pass() && note.is_empty() {
            format!("PASS: {routes} met {slo}")
        } else if verdict.is_pass() {
            format!("PASS: {routes} met the SLO ({slo})")
        } else {
            format!(
                "FAIL: {} of {routes} broke the SLO ({slo})",
                verdict.failed_routes()
            )
        };
        let judged = if self.is_scheduled() {
            "judged as due (corrected for coordinated omission)"
        } else {
            "judged as sent"
        };
        let mut line = format!(
            "{head}, {judged}, over {}",
            plural(self.total_requests(), "request", "requests")
        );
        if let Some(why) = &self.cut_short {
            line.push_str(&format!("; cut short: {why}"));
        }
        line
    }

    /// One aligned line per route: counts, judged percentiles, then PASS or FAIL with the
    /// broken rules, and `(own SLO p95<500ms)` for a route judged by its own rules.
    pub fn route_lines(&self) -> Vec<String> {
        let width = self.routes.iter().map(|r| r.route.chars().count()).max();
        let verdict = self.verdict();
        self.judged_latencies()
            .zip(&verdict.routes)
            .map(|((route, latency), v)| {
                let s = &latency.summary;
                let judged = if v.is_pass() {
                    "PASS".to_owned()
                } else {
                    let failed: Vec<&str> = v.failed().map(|r| r.short.as_str()).collect();
                    format!("FAIL {}", failed.join("; "))
                };
                let own = match route.slo.map(|own| own.differences_from(&self.slo)) {
                    Some(rules) if !rules.is_empty() => format!(" (own SLO {rules})"),
                    _ => String::new(),
                };
                format!(
                    "{:<width$}  count {}  errors {}  p50 {} ms  p95 {} ms  p99 {} ms  max {} ms  {judged}{own}",
                    route.route,
                    route.count,
                    route.errors,
                    ms(s.p50_ms),
                    ms(s.p95_ms),
                    ms(s.p99_ms),
                    ms(s.max_ms),
                    width = width.unwrap_or(0),
                )
            })
            .collect()
    }
}

/// Routes with their own SLO the verdict line names one by one; more are counted.
pub const OWN_SLOS_NAMED: usize = 3;

/// `route` by `slo` (its own or the run's, `run`).
fn judge(
    slo: &LoadSlo,
    run: &LoadSlo,
    route: &RouteResult,
    latency: &RouteLatency,
) -> RouteVerdict {
    RouteVerdict {
        route: route.route.clone(),
        rules: vec![
            quantile_rule(slo, route.count, latency.under_limit),
            max_rule(slo, run, latency),
            errors_rule(slo, route.count, route.errors),
        ],
    }
}

/// The quantile rule, as the module docs say.
pub(crate) fn quantile_passes(slo: &LoadSlo, count: u64, under_limit: u64) -> bool {
    u128::from(under_limit) * 1_000_000 >= u128::from(count) * u128::from(slo.quantile_ppm())
}

/// The error rule, as the module docs say.
pub(crate) fn errors_pass(slo: &LoadSlo, count: u64, errors: u64) -> bool {
    u128::from(errors) * 1_000_000 <= u128::from(count) * u128::from(slo.error_ppm())
}

fn quantile_rule(slo: &LoadSlo, count: u64, under: u64) -> RuleVerdict {
    let (q, limit) = (slo.quantile_percent(), slo.limit_ms);
    let share = percent(under, count);
    RuleVerdict {
        rule: Rule::Quantile,
        passed: quantile_passes(slo, count, under),
        name: format!("{q}% of answers under {limit} ms"),
        expected: format!("at least {q}% under {limit} ms"),
        got: format!("{share}% under {limit} ms ({under} of {count})"),
        short: format!(
            "{}: {share}% under {limit} ms (needs {q}%)",
            slo.quantile_name()
        ),
    }
}

/// The max rule. A route's own max below the run's is not the timeout (the client waits for
/// the run's), so it is named as the route's max.
fn max_rule(slo: &LoadSlo, run: &LoadSlo, latency: &RouteLatency) -> RuleVerdict {
    let (max, reached) = (slo.timeout_ms, latency.reached_timeout);
    let what = if max == run.timeout_ms {
        format!("the {max} ms timeout")
    } else {
        format!("the route's {max} ms max")
    };
    RuleVerdict {
        rule: Rule::Max,
        passed: reached == 0,
        name: format!("no request reaches {what}"),
        expected: format!("no request at or over {max} ms"),
        got: format!(
            "{} at or over {max} ms (max {} ms)",
            plural(reached, "request", "requests"),
            ms(latency.summary.max_ms)
        ),
        short: format!(
            "max: {} reached {what}",
            plural(reached, "request", "requests")
        ),
    }
}

fn errors_rule(slo: &LoadSlo, count: u64, errors: u64) -> RuleVerdict {
    let limit = slo.error_percent();
    let share = percent_up(errors, count);
    RuleVerdict {
        rule: Rule::Errors,
        passed: errors_pass(slo, count, errors),
        name: format!("at most {limit}% errors"),
        expected: format!("at most {limit}% failed or timed out"),
        got: format!("{share}% failed or timed out ({errors} of {count})"),
        short: format!("errors: {share}% (allowed {limit}%)"),
    }
}

/// `part` of `whole` in percent with one decimal, rounded down: never a passing-looking 100.0
/// for 9 999 of 10 000, and `<0.1` rather than a clean-looking 0.0.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0".into();
    }
    let tenths = u128::from(part) * 1000 / u128::from(whole);
    if part > 0 && tenths == 0 {
        return "<0.1".into();
    }
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Like [`percent`] but rounded up (for error rates): 1.01 % shows as 1.1 %, not 1.0 %.
pub(crate) fn percent_up(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0".into();
    }
    let tenths = (u128::from(part) * 1000).div_ceil(u128::from(whole));
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `1 request`, `12 345 requests`: digits grouped by thousands with a space.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

/// `12345` → `12 345`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_floors_to_a_tenth_and_never_looks_cleaner_than_it_is() {
        assert_eq!(percent(707, 812), "87.0");
        assert_eq!(percent(9999, 10_000), "99.9");
        assert_eq!(percent(1, 100_000), "<0.1");
        assert_eq!(percent(95, 100), "95.0");
        assert_eq!(percent(0, 0), "0");
        assert_eq!(percent_up(101, 10_000), "1.1");
        assert_eq!(percent_up(0, 10), "0.0");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(12_345), "12 345");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000_000), "1 000 000");
        assert_eq!(plural(1, "route", "routes"), "1 route");
    }

    #[test]
    fn quantile_rule_is_exact_in_millionths() {
        let slo = LoadSlo::default();
        assert!(quantile_passes(&slo, 100, 95));
        assert!(!quantile_passes(&slo, 100, 94));
        assert!(quantile_passes(&slo, 0, 0));
        assert!(!quantile_passes(&slo, 1_000_000_000, 949_999_999));
    }
}
