//! The verdict is exact at its edges: counts, never histogram buckets.

use std::time::Duration;

use reports::load::{LoadRecorder, LoadSlo, Rule, SampleOutcome};

use crate::common::load::{meta, one_route_report, realistic_report};
use crate::common::FAST_ROUTE;

fn samples(under: usize, over: usize, over_micros: u64) -> Vec<u64> {
    let mut v = vec![1_999_999; under];
    v.extend(std::iter::repeat_n(over_micros, over));
    v
}

#[test]
fn ninety_five_of_a_hundred_under_the_limit_passes_p95() {
    let report = one_route_report(&samples(95, 5, 2_000_000));
    assert_eq!(report.routes[0].sent.under_limit, 95);
    assert!(report.verdict().is_pass(), "{:?}", report.verdict());
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn ninety_four_of_a_hundred_under_the_limit_fails_p95() {
    let report = one_route_report(&samples(94, 6, 2_000_001));
    let verdict = report.verdict();
    assert_eq!(report.exit_code(), 1);
    let failed: Vec<Rule> = verdict.routes[0].failed().map(|r| r.rule).collect();
    assert_eq!(failed, [Rule::Quantile]);
    assert_eq!(
        verdict.routes[0].rules[0].got,
        "94.0% under 2000 ms (94 of 100)"
    );
}

#[test]
fn an_answer_of_exactly_the_limit_is_not_under_it() {
    // 95 answers of exactly 2000 ms and 5 fast ones: only 5 % are under.
    let mut v = vec![2_000_000; 95];
    v.extend([10; 5]);
    let report = one_route_report(&v);
    assert_eq!(report.routes[0].sent.under_limit, 5);
    assert_eq!(report.exit_code(), 1);
    // One microsecond less is under, although both land in the same histogram bucket.
    let report = one_route_report(&[1_999_999; 100]);
    assert_eq!(report.routes[0].sent.under_limit, 100);
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn one_request_at_the_timeout_among_thousands_fails_max() {
    let mut v = vec![5_000; 9_999];
    v.push(20_000_000);
    let report = one_route_report(&v);
    let verdict = report.verdict();
    let failed: Vec<Rule> = verdict.routes[0].failed().map(|r| r.rule).collect();
    assert_eq!(failed, [Rule::Max]);
    assert_eq!(report.routes[0].sent.reached_timeout, 1);
    let mut v = vec![5_000; 9_999];
    v.push(19_999_999);
    assert_eq!(one_route_report(&v).exit_code(), 0);
}

#[test]
fn one_timed_out_request_fails_max_and_counts_as_an_error_at_the_timeout() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    for i in 0..999u64 {
        let at = Duration::from_millis(i);
        recorder.record(
            FAST_ROUTE,
            at,
            Duration::from_millis(3),
            None,
            SampleOutcome::Ok,
        );
    }
    // The client gave up; whatever `sent` says, the sample is the timeout.
    let (at, sent) = (Duration::from_secs(21), Duration::from_millis(4));
    recorder.record(FAST_ROUTE, at, sent, None, SampleOutcome::TimedOut);
    let report = recorder.finish(meta(), 21_000, None);
    let route = &report.routes[0];
    assert_eq!((route.count, route.errors, route.timeouts), (1000, 1, 1));
    assert!(
        (route.sent.summary.max_ms - 20_000.0).abs() <= 20.0,
        "{}",
        route.sent.summary.max_ms
    );
    assert_eq!(route.sent.under_limit, 999);
    let failed: Vec<Rule> = report.verdict().routes[0]
        .failed()
        .map(|r| r.rule)
        .collect();
    assert_eq!(failed, [Rule::Max], "1 error in 1000 is within errors<1%");
    assert_eq!(report.errors[0].reason, "timed out after 20000 ms");
}

#[test]
fn the_error_rule_allows_exactly_its_rate() {
    let run = |errors: u64| {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
        for i in 0..100 {
            let outcome = if i < errors {
                SampleOutcome::Failed("HTTP 500")
            } else {
                SampleOutcome::Ok
            };
            let d = Duration::from_millis(5);
            recorder.record(FAST_ROUTE, d, d, None, outcome);
        }
        recorder.finish(meta(), 100, None)
    };
    assert_eq!(run(1).exit_code(), 0, "1 of 100 is errors<1%");
    let two = run(2);
    assert_eq!(two.exit_code(), 1);
    assert_eq!(
        two.verdict().routes[0].failed().next().unwrap().short,
        "errors: 2.0% (allowed 1%)"
    );
}

#[test]
fn with_a_schedule_the_as_due_distribution_is_judged() {
    let record = |scheduled: bool| {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), scheduled);
        for i in 0..100u64 {
            let at = Duration::from_millis(i * 100);
            // Fast once sent, but every request waited 2.5 s for its turn.
            let sent = Duration::from_millis(50);
            let due = Duration::from_millis(2_550);
            recorder.record(FAST_ROUTE, at, sent, Some(due), SampleOutcome::Ok);
        }
        recorder.finish(meta(), 10_000, None)
    };
    let scheduled = record(true);
    assert_eq!(scheduled.routes[0].sent.under_limit, 100);
    assert_eq!(scheduled.routes[0].due.as_ref().unwrap().under_limit, 0);
    assert_eq!(scheduled.exit_code(), 1);
    assert!(
        scheduled
            .verdict_line()
            .contains("judged as due (corrected for coordinated omission)"),
        "{}",
        scheduled.verdict_line()
    );
    let closed_loop = record(false);
    assert!(closed_loop.routes[0].due.is_none());
    assert_eq!(closed_loop.exit_code(), 0);
    assert!(closed_loop.verdict_line().contains("judged as sent"));
}

#[test]
fn a_run_that_measured_nothing_fails() {
    let report = LoadRecorder::new(LoadSlo::default(), false).finish(meta(), 5, None);
    assert_eq!(report.exit_code(), 1);
    assert!(report
        .verdict_line()
        .starts_with("FAIL: no request finished"));
}

#[test]
fn verdict_line_counts_routes_requests_and_says_when_cut_short() {
    let mut report = realistic_report();
    let line = report.verdict_line();
    assert_eq!(
        line,
        "FAIL: 2 of 3 routes broke the SLO (p95<2000ms, max<20000ms, errors<1%), \
         judged as due (corrected for coordinated omission), over 3 300 requests"
    );
    report.cut_short = Some("interrupted by Ctrl-C after 31 s".into());
    assert!(report
        .verdict_line()
        .ends_with("; cut short: interrupted by Ctrl-C after 31 s"));
    let pass = one_route_report(&[1_000; 12_345]);
    assert_eq!(
        pass.verdict_line(),
        "PASS: 1 route met p95<2000ms, max<20000ms, errors<1%, judged as sent, over 12 345 requests"
    );
}

#[test]
fn route_lines_align_and_name_the_broken_rule() {
    let report = one_route_report(&samples(94, 6, 2_400_000));
    let lines = report.route_lines();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert!(
        line.starts_with(&format!("{FAST_ROUTE}  count 100  errors 0  p50 ")),
        "{line}"
    );
    assert!(
        line.ends_with("FAIL p95: 94.0% under 2000 ms (needs 95%)"),
        "{line}"
    );
    let realistic = realistic_report().route_lines();
    let starts: Vec<usize> = realistic
        .iter()
        .map(|l| l.find("  count").unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{realistic:#?}");
    assert_eq!(realistic.iter().filter(|l| l.ends_with("PASS")).count(), 1);
}
