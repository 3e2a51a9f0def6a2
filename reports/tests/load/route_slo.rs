//! A route's own SLO (a journey step's rules over the run's): counted at record time against
//! its own limits and exact at their edges, named wherever the reports state a rule, left out
//! of the baseline comparison, refused by merge when workers disagree, absent from old JSON.

use std::time::Duration;

use reports::load::{
    merge, LoadMergeError, LoadRecorder, LoadReport, LoadSlo, RouteSloError, Rule, SampleOutcome,
    WorkerShare,
};
use serde_json::Value;

use super::junit::{properties, property, render as junit};
use super::render::schema_errors;
use crate::common::load::meta;
use crate::common::FAST_ROUTE;

/// The journey step with its own rules: `p95<500ms, errors<0.1%`.
const LOGIN: &str = "aui POST /api/v2/aiagent/login";

fn own_login_slo() -> LoadSlo {
    LoadSlo::default()
        .for_route(&["p95<500ms", "errors<0.1%"])
        .unwrap()
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// `LOGIN` judged by [`own_login_slo`], `FAST_ROUTE` by the run's; both get `micros` answers.
fn report_of(micros: &[u64]) -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    recorder.set_route_slo(LOGIN, own_login_slo()).unwrap();
    for (i, &m) in micros.iter().enumerate() {
        let at = Duration::from_millis(i as u64 * 10);
        for route in [LOGIN, FAST_ROUTE] {
            recorder.record(route, at, us(m), None, SampleOutcome::Ok);
        }
    }
    recorder.finish(meta(), 1_000, None)
}

fn route<'r>(report: &'r LoadReport, name: &str) -> &'r reports::load::RouteResult {
    report.routes.iter().find(|r| r.route == name).unwrap()
}

fn failed_rules(report: &LoadReport, name: &str) -> Vec<Rule> {
    let verdict = report.verdict();
    let v = verdict.routes.iter().find(|v| v.route == name).unwrap();
    v.failed().map(|r| r.rule).collect()
}

#[test]
fn a_route_is_judged_by_its_own_limit_exactly_at_the_edge() {
    // 95 answers 1 µs under 500 ms and 5 at exactly 500 ms: one histogram bucket, two sides.
    let mut micros = vec![499_999; 95];
    micros.extend([500_000; 5]);
    let report = report_of(&micros);
    assert_eq!(route(&report, LOGIN).sent.under_limit, 95);
    assert_eq!(route(&report, LOGIN).slo, Some(own_login_slo()));
    assert_eq!(route(&report, FAST_ROUTE).sent.under_limit, 100);
    assert_eq!(route(&report, FAST_ROUTE).slo, None);
    assert!(report.verdict().is_pass(), "{:?}", report.verdict());

    // One more at the limit: 94 % under 500 ms breaks the route's own p95 only.
    micros[94] = 500_000;
    let report = report_of(&micros);
    assert_eq!(failed_rules(&report, LOGIN), [Rule::Quantile]);
    assert_eq!(failed_rules(&report, FAST_ROUTE), []);
    let verdict = report.verdict();
    let login = verdict.routes.iter().find(|v| v.route == LOGIN).unwrap();
    assert_eq!(login.rules[0].got, "94.0% under 500 ms (94 of 100)");
    assert_eq!(login.rules[0].name, "95% of answers under 500 ms");
}

#[test]
fn a_route_s_own_error_budget_and_lower_max_are_exact_too() {
    let run = LoadSlo::default();
    let own = run.for_route(&["errors<0.1%", "max<1s"]).unwrap();
    let judged = |failures: u64, slowest: Duration| {
        let mut recorder = LoadRecorder::new(run, false);
        recorder.set_route_slo(LOGIN, own).unwrap();
        for i in 0..2_000u64 {
            let outcome = if i < failures {
                SampleOutcome::Failed("HTTP 503")
            } else {
                SampleOutcome::Ok
            };
            let sent = if i == 1_999 {
                slowest
            } else {
                Duration::from_millis(5)
            };
            recorder.record(LOGIN, Duration::from_millis(i), sent, None, outcome);
        }
        recorder.finish(meta(), 2_000, None)
    };
    // 2 of 2 000 is exactly 0.1 %: allowed. 3 is not.
    assert_eq!(failed_rules(&judged(2, us(999_999)), LOGIN), []);
    assert_eq!(failed_rules(&judged(3, us(999_999)), LOGIN), [Rule::Errors]);
    // An answer of exactly the route's 1 s max reached it, under the run's 20 s timeout.
    let report = judged(0, us(1_000_000));
    assert_eq!(failed_rules(&report, LOGIN), [Rule::Max]);
    let verdict = report.verdict();
    let max = &verdict.routes[0].rules[1];
    assert_eq!(max.name, "no request reaches the route's 1000 ms max");
    assert_eq!(max.short, "max: 1 request reached the route's 1000 ms max");
}

#[test]
fn a_route_s_max_can_only_be_lower_than_the_run_s_timeout() {
    let run = LoadSlo::default();
    let err = run.for_route(&["p99<1s", "max<25s"]).unwrap_err();
    assert_eq!(err.rule, "max<25s");
    assert!(
        err.to_string()
            .contains("a route's max cannot be above the run's 20000 ms timeout"),
        "{err}"
    );
    let mut recorder = LoadRecorder::new(run, false);
    let higher = LoadSlo {
        timeout_ms: 25_000,
        ..run
    };
    let err = recorder.set_route_slo(LOGIN, higher).unwrap_err();
    assert_eq!(
        err.to_string(),
        "route \"aui POST /api/v2/aiagent/login\": max<25000ms is above the run's 20000 ms timeout, at which every request is abandoned; a route's max can only be at most the run's"
    );
    recorder.record(LOGIN, Duration::ZERO, us(5), None, SampleOutcome::Ok);
    assert!(matches!(
        recorder.set_route_slo(LOGIN, own_login_slo()),
        Err(RouteSloError::AfterSamples { count: 1, .. })
    ));
}

#[test]
fn verdict_and_route_lines_name_the_route_s_own_rules() {
    let report = report_of(&[10_000; 100]);
    assert_eq!(
        report.verdict_line(),
        "PASS: 2 routes met the SLO (p95<2000ms, max<20000ms, errors<1%; 1 by its own SLO: aui POST /api/v2/aiagent/login p95<500ms, errors<0.1%), judged as sent, over 200 requests"
    );
    let lines = report.route_lines();
    assert!(
        lines[0].ends_with("PASS"),
        "the run's rules judge {}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("PASS (own SLO p95<500ms, errors<0.1%)"),
        "{}",
        lines[1]
    );
    let failing = report_of(&[600_000; 100]);
    assert!(
        failing.verdict_line().starts_with(
            "FAIL: 1 of 2 routes broke the SLO (p95<2000ms, max<20000ms, errors<1%; 1 by its own SLO: aui POST /api/v2/aiagent/login p95<500ms, errors<0.1%)"
        ),
        "{}",
        failing.verdict_line()
    );
    // No own SLO, no note: the line reads as it always did.
    let plain = LoadRecorder::new(LoadSlo::default(), false);
    let mut plain = plain;
    plain.record(FAST_ROUTE, Duration::ZERO, us(5), None, SampleOutcome::Ok);
    assert!(plain
        .finish(meta(), 10, None)
        .verdict_line()
        .starts_with("PASS: 1 route met p95<2000ms, max<20000ms, errors<1%, judged"));
}

#[test]
fn many_own_slos_are_counted_on_the_verdict_line_not_listed() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    for i in 0..5 {
        let name = format!("aui POST /step{i}");
        recorder.set_route_slo(&name, own_login_slo()).unwrap();
        recorder.record(&name, Duration::ZERO, us(5), None, SampleOutcome::Ok);
    }
    let line = recorder.finish(meta(), 10, None).verdict_line();
    assert!(
        line.contains("; 5 by their own SLO, see the route lines)"),
        "{line}"
    );
}

#[test]
fn every_renderer_says_the_route_s_own_rule_where_it_differs() {
    let report = report_of(&[10_000; 100]);
    let json = reports::render::load::json::render(&report);
    let errors = schema_errors(&json);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let value: Value = serde_json::from_str(&json).unwrap();
    let routes = value["routes"].as_array().unwrap();
    assert_eq!(routes[1]["route"], LOGIN);
    assert_eq!(routes[1]["slo"]["limit_ms"], 500);
    assert!(
        routes[0].get("slo").is_none(),
        "the run's SLO is not repeated"
    );
    let back: LoadReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);

    let markdown = reports::render::load::markdown::render(&report);
    assert!(
        markdown
            .contains("| own SLO | aui POST /api/v2/aiagent/login: p95\\<500ms, errors\\<0.1% |"),
        "{markdown}"
    );
    assert!(
        markdown
            .contains("| aui POST /api/v2/aiagent/login (own SLO p95\\<500ms, errors\\<0.1%) |"),
        "{markdown}"
    );

    let html = reports::render::load::html::render(&report);
    assert!(
        html.contains(
            "<dt>own SLO</dt><dd>aui POST /api/v2/aiagent/login: p95&lt;500ms, errors&lt;0.1%</dd>"
        ),
        "the reproduce facts"
    );
    assert!(html.contains("<span class=\"own\">own SLO p95&lt;500ms, errors&lt;0.1%</span>"));
    assert!(html.contains("<span class=\"own\">own p95&lt;500ms</span>"));
    assert!(html.contains("<span class=\"own\">own errors&lt;0.1%</span>"));
    assert!(
        !html.contains("own max&lt;"),
        "the max is the run's: not named as the route's own"
    );
    assert!(html.contains("<span class=\"own\">under own 500 ms</span>"));

    let elements = junit(&report);
    let props = properties(&elements);
    assert_eq!(
        property(&props, "route_slo"),
        Some("aui POST /api/v2/aiagent/login: p95<500ms, errors<0.1%")
    );
    let cases: Vec<&str> = elements
        .iter()
        .filter(|e| e.0 == "testcase")
        .map(|e| crate::junit::attr(e, "name"))
        .collect();
    assert!(
        cases.contains(&"aui POST /api/v2/aiagent/login: 95% of answers under 500 ms"),
        "{cases:?}"
    );
    assert!(
        cases.contains(&"aui POST /api/v2/aiagent/getRtcAuthToken: 95% of answers under 2000 ms")
    );
}

#[test]
fn the_baseline_comparison_is_the_same_with_or_without_own_slos() {
    let own = report_of(&[10_000; 100]);
    let mut plain = own.clone();
    for r in &mut plain.routes {
        r.slo = None;
    }
    let baseline = report_of(&[12_000; 100]);
    let (mut a, mut b) = (own, plain);
    a.compare_with(&baseline);
    b.compare_with(&baseline);
    assert_eq!(a.baseline, b.baseline);
    assert_eq!(a.baseline.unwrap().len(), 2);
}

/// Worker `index` of 2 measured `micros` on `LOGIN` (judged by `login`) and `FAST_ROUTE`.
fn worker(index: u32, login: LoadSlo, micros: &[u64]) -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    recorder.set_route_slo(LOGIN, login).unwrap();
    for (i, &m) in micros.iter().enumerate() {
        for route in [LOGIN, FAST_ROUTE] {
            recorder.record(
                route,
                Duration::from_millis(i as u64),
                us(m),
                None,
                SampleOutcome::Ok,
            );
        }
    }
    let mut m = meta();
    m.worker = Some(WorkerShare { index, count: 2 });
    recorder.finish(m, 1_000, None)
}

#[test]
fn merge_keeps_a_route_s_own_slo_and_its_exact_counts() {
    let halves = [vec![499_999; 60], vec![500_000; 40]];
    let merged = merge(
        vec![
            worker(0, own_login_slo(), &halves[0]),
            worker(1, own_login_slo(), &halves[1]),
        ],
        false,
    )
    .unwrap();
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    recorder.set_route_slo(LOGIN, own_login_slo()).unwrap();
    for (i, &m) in halves.concat().iter().enumerate() {
        for route in [LOGIN, FAST_ROUTE] {
            let at = Duration::from_millis(i as u64);
            recorder.record(route, at, us(m), None, SampleOutcome::Ok);
        }
    }
    let single = recorder.finish(meta(), 1_000, None);
    assert_eq!(merged.routes, single.routes);
    assert_eq!(route(&merged, LOGIN).sent.under_limit, 60);
    assert_eq!(merged.verdict(), single.verdict());
    assert_eq!(failed_rules(&merged, LOGIN), [Rule::Quantile]);
}

#[test]
fn merge_refuses_workers_that_judged_a_route_by_different_slos() {
    let stricter = LoadSlo::default().for_route(&["p95<400ms"]).unwrap();
    let err = merge(
        vec![
            worker(0, own_login_slo(), &[5_000; 10]),
            worker(1, stricter, &[5_000; 10]),
        ],
        false,
    )
    .unwrap_err();
    assert!(
        matches!(&err, LoadMergeError::RouteSlo { route, first_worker: 0, other_worker: 1, .. } if route == LOGIN)
    );
    assert_eq!(
        err.to_string(),
        "route \"aui POST /api/v2/aiagent/login\" was judged against p95<500ms, max<20000ms, errors<0.1% by worker 0 but against p95<400ms, max<20000ms, errors<1% by worker 1: the merged route could not be judged once (were the workers given the same journey file?)"
    );
    // A worker with no own SLO for the route judged it by the run's: refused too.
    let err = merge(
        vec![
            worker(1, own_login_slo(), &[5_000; 10]),
            worker(0, LoadSlo::default(), &[5_000; 10]),
        ],
        false,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("route \"aui POST /api/v2/aiagent/login\" was judged against p95<2000ms, max<20000ms, errors<1% by worker 0 but against p95<500ms"),
        "{err}"
    );
    // A route only one worker measured has nothing to disagree with.
    let mut other = worker(1, stricter, &[5_000; 10]);
    other.routes.retain(|r| r.route != LOGIN);
    let merged = merge(vec![worker(0, own_login_slo(), &[5_000; 10]), other], false).unwrap();
    assert_eq!(route(&merged, LOGIN).slo, Some(own_login_slo()));
    assert_eq!(route(&merged, FAST_ROUTE).count, 20);
}

#[test]
fn reports_from_before_route_slos_and_users_still_read() {
    // Today's report, stripped of every field this version added: what an older agentproof
    // wrote, as `--baseline` and `report merge` read it.
    let mut report = report_of(&[10_000; 100]);
    for r in &mut report.routes {
        r.slo = None;
    }
    let json = reports::render::load::json::render(&report);
    let mut value: Value = serde_json::from_str(&json).unwrap();
    for second in value["series"].as_array_mut().unwrap() {
        second.as_object_mut().unwrap().remove("users").unwrap();
    }
    assert!(!value["series"].to_string().contains("users"));
    assert!(!value["routes"][1].as_object().unwrap().contains_key("slo"));
    let dir = tempfile::TempDir::with_prefix("agentproof-old-report-").expect("a temporary folder");
    std::fs::write(dir.path().join("report.json"), value.to_string()).unwrap();
    let old = reports::load::read_load_report(dir.path()).expect("an old report reads");
    drop(dir);
    assert_eq!(old, report);
    assert!(old.series.iter().all(|s| s.users == 0));
    assert_eq!(old.peak_users(), 0);
    assert!(old.routes.iter().all(|r| r.slo.is_none()));
    assert!(schema_errors(&value.to_string()).is_empty());
}
