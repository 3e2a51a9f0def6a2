//! The Markdown summary of a full run.

use crate::common::{sample_run, FAST_ROUTE, SLOW_ROUTE};

#[test]
fn summary_line_tables_and_latency_verdicts() {
    let text = reports::render::markdown::render(&sample_run());
    assert!(
        text.starts_with("## ❌ agentproof: 2 of 50 cases failed, 1 latency SLO violation\n"),
        "{text}"
    );
    assert!(
        text.contains("**47 passed · 2 failed · 1 skipped**"),
        "{text}"
    );
    assert!(text.contains("_40 passed cases not listed._"), "{text}");
    assert!(
        text.contains("| StartAgent with a valid V3 signature \\#0 |"),
        "small suites list passes: {text}"
    );
    let fast = text
        .lines()
        .find(|l| l.contains("getRtcAuthToken"))
        .unwrap();
    assert!(
        fast.starts_with(&format!("| {} | 20000 |", FAST_ROUTE)),
        "{fast}"
    );
    assert!(fast.ends_with("| ✅ |"), "{fast}");
    let slow = text.lines().find(|l| l.contains(SLOW_ROUTE)).unwrap();
    assert!(slow.contains("❌ p95 "), "{slow}");
}
