//! Users over time: the recorder keeps the most users active in each second, merge adds the
//! workers' on wall-clock time, and the reports show the ramp (HTML chart, Markdown peak and
//! column, JUnit property, JSON valid against its schema).

use std::time::Duration;

use reports::load::{merge, LoadRecorder, LoadReport, LoadSlo, SampleOutcome, WorkerShare};

use super::junit::{properties, property, render as junit};
use super::render::schema_errors;
use crate::common::load::{meta, realistic_report};
use crate::common::FAST_ROUTE;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `users` start at the given instants and stop at the others; one answer every 100 ms until
/// `answers_until_ms`.
fn ramp(starts: &[u64], stops: &[u64], answers_until_ms: u64) -> LoadRecorder {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    let mut events: Vec<(u64, i8)> = starts.iter().map(|&t| (t, 1)).collect();
    events.extend(stops.iter().map(|&t| (t, -1)));
    events.extend((0..answers_until_ms).step_by(100).map(|t| (t, 0)));
    events.sort();
    for (t, kind) in events {
        match kind {
            1 => recorder.user_started(ms(t)),
            -1 => recorder.user_stopped(ms(t)),
            _ => recorder.record(FAST_ROUTE, ms(t), ms(5), None, SampleOutcome::Ok),
        }
    }
    recorder
}

fn users(report: &LoadReport) -> Vec<u64> {
    report.series.iter().map(|s| s.users).collect()
}

#[test]
fn each_second_holds_the_most_users_active_at_any_moment_of_it() {
    // Ramp to 4 over 2 s (one every 500 ms), hold, then down one a second from 4.5 s; a user
    // that lives 200 ms within second 6 still counts there.
    let recorder = ramp(
        &[0, 500, 1_000, 1_500, 6_100],
        &[4_500, 5_500, 6_300, 6_500, 7_500],
        8_000,
    );
    assert_eq!(recorder.progress().users, 0, "all stopped");
    let report = recorder.finish(meta(), 8_000, None);
    assert_eq!(users(&report), [2, 4, 4, 4, 4, 3, 3, 1]);
    assert_eq!(report.peak_users(), 4);
}

#[test]
fn users_who_stop_after_the_last_answer_do_not_lengthen_the_series() {
    let report = ramp(&[0, 0], &[3_900, 4_200], 3_000).finish(meta(), 4_200, None);
    assert_eq!(users(&report), [2, 2, 2]);
}

#[test]
fn silent_seconds_before_the_first_answer_carry_the_users_already_running() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    recorder.user_started(ms(100));
    recorder.user_started(ms(200));
    recorder.record(FAST_ROUTE, ms(3_500), ms(3_000), None, SampleOutcome::Ok);
    let report = recorder.finish(meta(), 4_000, None);
    assert_eq!(users(&report), [2, 2, 2, 2]);
    assert_eq!(report.series[1].requests, 0);
}

fn worker(index: u32, started_at: &str, recorder: LoadRecorder) -> LoadReport {
    let mut m = meta();
    m.started_at = started_at.into();
    m.worker = Some(WorkerShare { index, count: 2 });
    recorder.finish(m, 5_000, None)
}

#[test]
fn merge_adds_the_workers_users_second_by_second_on_wall_clock_time() {
    // Worker 1 started a second after worker 0: its second k is the merge's second k + 1.
    let w0 = worker(
        0,
        "2025-01-31T09:30:00Z",
        ramp(&[0, 500, 1_000], &[], 4_000),
    );
    let w1 = worker(1, "2025-01-31T09:30:01Z", ramp(&[0, 900], &[2_500], 4_000));
    assert_eq!(users(&w0), [2, 3, 3, 3]);
    assert_eq!(users(&w1), [2, 2, 2, 1]);
    let merged = merge(vec![w1, w0], false).unwrap();
    assert_eq!(users(&merged), [2, 5, 5, 5, 1]);
    assert_eq!(merged.peak_users(), 5);
    let json = reports::render::load::json::render(&merged);
    let errors = schema_errors(&json);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_reports_show_the_ramp_and_its_peak() {
    let report = realistic_report();
    assert_eq!(&users(&report)[..6], [10, 20, 30, 40, 50, 50]);
    assert_eq!(&users(&report)[54..], [50, 50, 40, 30, 20, 10]);

    let json = reports::render::load::json::render(&report);
    let errors = schema_errors(&json);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["series"][2]["users"], 30);

    let html = reports::render::load::html::render(&report);
    let chart = &html[html
        .find("<svg id=\"users-over-time\"")
        .expect("the users chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert!(
        chart.contains("<path class=\"line users\" d=\"M70.0 "),
        "{chart}"
    );
    assert!(html.contains("<dt>peak users</dt><dd>50, first in second 4"));

    let markdown = reports::render::load::markdown::render(&report);
    assert!(
        markdown.contains(
            "| peak users | 50, first in second 4 (the most active at any moment of a second) |"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("| seconds | users | requests/s |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| 0–1 | 20 |"),
        "the most users of the row: {markdown}"
    );

    let props = properties(&junit(&report));
    assert_eq!(property(&props, "peak_users"), Some("50"));
}

#[test]
fn a_run_that_did_not_count_users_shows_no_users_at_all() {
    let report = ramp(&[], &[], 2_000).finish(meta(), 2_000, None);
    assert_eq!(report.peak_users(), 0);
    let html = reports::render::load::html::render(&report);
    assert!(!html.contains("users-over-time"));
    assert!(!html.contains("peak users"));
    let markdown = reports::render::load::markdown::render(&report);
    assert!(markdown.contains("| seconds | requests/s |"), "{markdown}");
    assert!(!markdown.contains("peak users"));
    assert_eq!(property(&properties(&junit(&report)), "peak_users"), None);
}

#[test]
fn users_keep_the_recorder_s_memory_flat() {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    let mut warm = 0;
    for i in 0..200_000u64 {
        let at = Duration::from_micros(i * 500);
        recorder.user_started(at);
        recorder.record(FAST_ROUTE, at, ms(5), None, SampleOutcome::Ok);
        recorder.user_stopped(at);
        if i == 10_000 {
            warm = recorder.approx_bytes();
        }
    }
    // 100 s of series: at most one doubling of the per-second list (128 slots of 56 bytes).
    assert!(recorder.approx_bytes() <= warm + 128 * 56);
}
