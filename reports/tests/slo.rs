//! SLO boundaries as the exit code sees them: "reaches" means `>=`.

use std::time::Duration;

use reports::{Case, Run};

use crate::common::empty_run;

fn run_with_samples(ms: &[u64]) -> Run {
    let mut run = empty_run();
    run.suites[0].cases.push(Case::passed("ok", 1));
    for &m in ms {
        run.suites[0]
            .latency
            .record("aui GET /x", Duration::from_millis(m));
    }
    run
}

#[test]
fn p95_of_exactly_2000_ms_exits_one() {
    assert_eq!(run_with_samples(&[2000; 100]).exit_code(), 1);
}

#[test]
fn p95_of_1999_ms_exits_zero() {
    assert_eq!(run_with_samples(&[1999; 100]).exit_code(), 0);
}

#[test]
fn one_request_at_the_20000_ms_timeout_among_thousands_exits_one() {
    let mut samples = vec![10; 10_000];
    samples.push(20_000);
    let run = run_with_samples(&samples);
    assert_eq!(run.verdict().slo_violations, 1);
    assert_eq!(run.exit_code(), 1);
}

#[test]
fn slow_tail_under_both_limits_exits_zero() {
    let mut samples = vec![10; 100];
    samples.extend([1999, 1999, 1999, 1999, 19_900]);
    assert_eq!(run_with_samples(&samples).exit_code(), 0);
}
