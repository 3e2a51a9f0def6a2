//! What the recorder keeps: a contiguous series, a capped error breakdown, live progress.

use std::time::Duration;

use reports::load::{LoadRecorder, LoadSlo, SampleOutcome, MAX_PAIRS, OTHER_REASONS};

use crate::common::load::meta;
use crate::common::FAST_ROUTE;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn series_is_contiguous_from_zero_with_zeros_for_silent_seconds() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    for (at_ms, latency) in [(3_200, 10), (3_900, 30), (7_050, 500)] {
        recorder.record(FAST_ROUTE, ms(at_ms), ms(latency), None, SampleOutcome::Ok);
    }
    let series = recorder.finish(meta(), 8_000, None).series;
    let seconds: Vec<u64> = series.iter().map(|s| s.second).collect();
    assert_eq!(seconds, (0..=7).collect::<Vec<_>>());
    let requests: Vec<u64> = series.iter().map(|s| s.requests).collect();
    assert_eq!(requests, [0, 0, 0, 2, 0, 0, 0, 1]);
    assert_eq!(series[5].p95_ms, 0.0);
    assert!((series[3].max_ms - 30.0).abs() < 0.05, "{:?}", series[3]);
    assert!((series[7].p50_ms - 500.0).abs() < 0.5, "{:?}", series[7]);
}

#[test]
fn series_of_a_scheduled_run_shows_the_as_due_latency() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
    recorder.record(
        FAST_ROUTE,
        ms(100),
        ms(10),
        Some(ms(900)),
        SampleOutcome::Ok,
    );
    let series = recorder.finish(meta(), 1_000, None).series;
    assert!((series[0].max_ms - 900.0).abs() < 1.0, "{:?}", series[0]);
}

#[test]
fn error_breakdown_is_capped_and_keeps_every_count() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    let distinct = MAX_PAIRS + 50;
    for i in 0..distinct {
        let reason = format!("HTTP 500 request-id {i}");
        recorder.record(
            FAST_ROUTE,
            ms(1),
            ms(5),
            None,
            SampleOutcome::Failed(&reason),
        );
    }
    recorder.record(
        FAST_ROUTE,
        ms(1),
        ms(5),
        None,
        SampleOutcome::Failed("HTTP 500 request-id 0"),
    );
    let report = recorder.finish(meta(), 10, None);
    assert_eq!(report.errors.len(), MAX_PAIRS + 1);
    assert_eq!(report.errors[0].reason, OTHER_REASONS);
    assert_eq!(report.errors[0].count, 50);
    assert_eq!(report.errors[1].reason, "HTTP 500 request-id 0");
    assert_eq!(report.errors[1].count, 2);
    let total: u64 = report.errors.iter().map(|e| e.count).sum();
    assert_eq!(total, report.routes[0].errors);
}

#[test]
fn long_reasons_are_cut_to_300_bytes_on_a_character_boundary() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    let reason = format!("a{}", "中".repeat(200));
    recorder.record(
        FAST_ROUTE,
        ms(1),
        ms(5),
        None,
        SampleOutcome::Failed(&reason),
    );
    let report = recorder.finish(meta(), 10, None);
    let kept = &report.errors[0].reason;
    assert_eq!(kept.len(), 298, "1 + 99 three-byte characters");
    assert!(reason.starts_with(kept.as_str()));
}

#[test]
fn progress_counts_requests_errors_and_the_running_p95() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    assert_eq!(recorder.progress().requests, 0);
    for i in 1..=100u64 {
        let outcome = if i % 10 == 0 {
            SampleOutcome::Failed("HTTP 502")
        } else {
            SampleOutcome::Ok
        };
        recorder.record(FAST_ROUTE, ms(i), ms(i), None, outcome);
    }
    recorder.record(
        "aui GET /other",
        ms(1),
        ms(1),
        None,
        SampleOutcome::TimedOut,
    );
    let p = recorder.progress();
    assert_eq!((p.requests, p.errors), (101, 11));
    assert!((95.0..=97.0).contains(&p.p95_ms), "{p:?}");
}

#[test]
fn routes_come_out_sorted_with_their_own_counts() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
    for route in ["duix GET /b", "aui GET /a", "duix GET /b"] {
        recorder.record(route, ms(1), ms(2), Some(ms(3)), SampleOutcome::Ok);
    }
    let report = recorder.finish(meta(), 10, None);
    let routes: Vec<(&str, u64)> = report
        .routes
        .iter()
        .map(|r| (r.route.as_str(), r.count))
        .collect();
    assert_eq!(routes, [("aui GET /a", 1), ("duix GET /b", 2)]);
    assert_eq!(report.routes[1].due.as_ref().unwrap().summary.count, 2);
}
