//! Comparing with a baseline: regressions first, worst p95 increase first, one-sided routes marked.

use std::time::Duration;

use reports::load::{DeltaStatus, LoadRecorder, LoadReport, LoadSlo, SampleOutcome};

use crate::common::load::meta;

/// One unscheduled run; each route answers 100 times in `ms` ms, `errors` of them failing.
fn run(routes: &[(&str, u64, u64)]) -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    for &(route, ms, errors) in routes {
        for i in 0..100 {
            let outcome = if i < errors {
                SampleOutcome::Failed("HTTP 500")
            } else {
                SampleOutcome::Ok
            };
            let d = Duration::from_millis(ms);
            recorder.record(route, d, d, None, outcome);
        }
    }
    recorder.finish(meta(), 1_000, None)
}

#[test]
fn regressions_come_first_worst_p95_increase_first() {
    let baseline = run(&[
        ("aui GET /a", 100, 0),
        ("aui GET /b", 100, 0),
        ("aui GET /c", 100, 0),
        ("aui GET /d", 100, 0),
        ("aui GET /gone", 10, 0),
    ]);
    let mut current = run(&[
        ("aui GET /a", 90, 0),  // improved
        ("aui GET /b", 150, 0), // +50 %
        ("aui GET /c", 400, 0), // +300 %, the worst
        ("aui GET /d", 101, 2), // p95 similar, errors up 2 points
        ("aui GET /new", 10, 0),
    ]);
    current.compare_with(&baseline);
    let deltas = current.baseline.as_ref().unwrap();
    let order: Vec<(&str, DeltaStatus)> = deltas
        .iter()
        .map(|d| (d.route.as_str(), d.status))
        .collect();
    assert_eq!(
        order,
        [
            ("aui GET /c", DeltaStatus::Regressed),
            ("aui GET /b", DeltaStatus::Regressed),
            ("aui GET /d", DeltaStatus::Regressed),
            ("aui GET /a", DeltaStatus::Improved),
            ("aui GET /new", DeltaStatus::OnlyInCurrent),
            ("aui GET /gone", DeltaStatus::OnlyInBaseline),
        ]
    );
    let c = deltas[0].p95.unwrap();
    assert!(
        (c.baseline_ms - 100.0).abs() < 0.1 && (c.current_ms - 400.0).abs() < 0.5,
        "{c:?}"
    );
    assert!((c.change_pct.unwrap() - 300.0).abs() < 1.0, "{c:?}");
    let d = deltas[2].error_rate.unwrap();
    assert!((d.change_points - 2.0).abs() < 1e-9, "{d:?}");
    assert!(deltas[4].p95.is_none() && deltas[5].error_rate.is_none());
}

#[test]
fn an_unchanged_run_is_similar_everywhere_and_keeps_its_verdict() {
    let baseline = run(&[("aui GET /a", 100, 0), ("aui GET /b", 3_000, 0)]);
    let mut current = baseline.clone();
    let verdict = current.verdict();
    current.compare_with(&baseline);
    let deltas = current.baseline.as_ref().unwrap();
    assert!(
        deltas.iter().all(|d| d.status == DeltaStatus::Similar),
        "{deltas:?}"
    );
    assert_eq!(
        current.verdict(),
        verdict,
        "a comparison never changes the verdict"
    );
    // Comparing again replaces the comparison instead of adding to it.
    current.compare_with(&baseline);
    assert_eq!(current.baseline.as_ref().unwrap().len(), 2);
}
