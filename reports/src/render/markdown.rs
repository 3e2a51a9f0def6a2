//! Markdown for a CI step summary (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab notes).
//!
//! A heading with the verdict, one line of counts and run facts, then per suite a table of its
//! cases and a table of its routes' latency with the SLO verdict. Suites with more than
//! [`LIST_ALL_UP_TO`] cases list only failures and skips and count the passed ones. Remote text
//! is escaped and cut to [`CELL_CHARS`] characters per cell.

use std::fmt::Write as _;

use crate::model::{Case, LatencySummary, Outcome, Run, Suite, Verdict};
use crate::render::escape::markdown as md;
use crate::render::ms;
use crate::slo::Slo;

/// Suites up to this many cases list every case; larger ones only failures and skips.
pub const LIST_ALL_UP_TO: usize = 20;
/// Longest text kept in one table cell.
pub const CELL_CHARS: usize = 300;

/// The Markdown summary of `run`, judged against the default SLO.
pub fn render(run: &Run) -> String {
    let slo = Slo::default();
    let verdict = run.verdict_with(&slo);
    let mut out = String::new();
    heading(&mut out, &verdict);
    facts(&mut out, run, &verdict);
    for suite in &run.suites {
        suite_section(&mut out, suite, &slo);
    }
    out
}

fn heading(out: &mut String, v: &Verdict) {
    let cases = match (v.failed, v.skipped) {
        (0, 0) => format!("all {} cases passed", v.passed),
        (0, skipped) => format!("{} cases passed, {skipped} skipped", v.passed),
        (failed, _) => format!("{failed} of {} cases failed", v.total()),
    };
    // An SLO breach fails the run even when every case passed.
    let icon = if v.is_pass() { "✅" } else { "❌" };
    let slo = match v.slo_violations {
        0 => "latency SLO met".to_owned(),
        1 => "1 latency SLO violation".to_owned(),
        n => format!("{n} latency SLO violations"),
    };
    let _ = writeln!(out, "## {icon} agentproof: {cases}, {slo}\n");
}

fn facts(out: &mut String, run: &Run, v: &Verdict) {
    let _ = write!(
        out,
        "**{} passed · {} failed · {} skipped** · started {} · {:.1} s · agentproof {}",
        v.passed,
        v.failed,
        v.skipped,
        md(&run.started_at, CELL_CHARS),
        run.duration_ms as f64 / 1000.0,
        md(&run.tool_version, CELL_CHARS),
    );
    if let Some(seed) = run.seed {
        let _ = write!(out, " · seed {seed}");
    }
    for (platform, url) in &run.target {
        let _ = write!(
            out,
            " · {}: {}",
            md(platform, CELL_CHARS),
            md(url, CELL_CHARS)
        );
    }
    out.push_str("\n\n");
}

fn suite_section(out: &mut String, suite: &Suite, slo: &Slo) {
    let count = |status: &str| {
        suite
            .cases
            .iter()
            .filter(|c| c.outcome.status() == status)
            .count()
    };
    let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));
    let ok = failed == 0 && slo.evaluate(&suite.latency).is_empty();
    let _ = writeln!(
        out,
        "### {} {}\n\n{passed} passed, {failed} failed, {skipped} skipped\n",
        if ok { "✅" } else { "❌" },
        md(&suite.qualified_name(), CELL_CHARS),
    );
    cases_table(out, suite, passed);
    latency_table(out, suite, slo);
}

fn cases_table(out: &mut String, suite: &Suite, passed: usize) {
    let list_all = suite.cases.len() <= LIST_ALL_UP_TO;
    // Failures first, then skips, then (small suites only) passes; run order within each.
    let mut listed: Vec<&Case> = suite
        .cases
        .iter()
        .filter(|c| list_all || !matches!(c.outcome, Outcome::Passed))
        .collect();
    listed.sort_by_key(|c| match c.outcome {
        Outcome::Failed { .. } => 0,
        Outcome::Skipped { .. } => 1,
        Outcome::Passed => 2,
    });
    if !listed.is_empty() {
        out.push_str(
            "| | case | expected | got | detail | ms |\n| --- | --- | --- | --- | --- | ---: |\n",
        );
        for case in listed {
            case_row(out, case);
        }
        out.push('\n');
    }
    if !list_all && passed > 0 {
        let _ = writeln!(out, "_{passed} passed cases not listed._\n");
    }
}

fn case_row(out: &mut String, case: &Case) {
    let (icon, expected, got) = match &case.outcome {
        Outcome::Passed => ("✅", String::new(), String::new()),
        Outcome::Failed { expected, got } => ("❌", md(expected, CELL_CHARS), md(got, CELL_CHARS)),
        Outcome::Skipped { reason } => (
            "⏭️",
            format!("skipped: {}", md(reason, CELL_CHARS)),
            String::new(),
        ),
    };
    let detail = case
        .detail
        .as_deref()
        .map(|d| md(d, CELL_CHARS))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "| {icon} | {} | {expected} | {got} | {detail} | {} |",
        md(&case.name, CELL_CHARS),
        case.duration_ms
    );
}

fn latency_table(out: &mut String, suite: &Suite, slo: &Slo) {
    if suite.latency.is_empty() {
        return;
    }
    out.push_str("**Latency**\n\n| route | count | p50 ms | p95 ms | p99 ms | max ms | SLO |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (route, h) in suite.latency.iter() {
        let s = LatencySummary::of(h);
        let violations: Vec<String> = slo
            .check_route(route, h)
            .iter()
            .map(ToString::to_string)
            .collect();
        let verdict = if violations.is_empty() {
            "✅".to_owned()
        } else {
            format!("❌ {}", violations.join("; "))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {verdict} |",
            md(route, CELL_CHARS),
            s.count,
            ms(s.p50_ms),
            ms(s.p95_ms),
            ms(s.p99_ms),
            ms(s.max_ms),
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run_with(cases: Vec<Case>) -> Run {
        let mut suite = Suite::new("login", "aui");
        suite.cases = cases;
        Run {
            tool_version: "0.1.0".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            duration_ms: 1500,
            target: BTreeMap::new(),
            seed: Some(7),
            suites: vec![suite],
        }
    }

    #[test]
    fn heading_counts_skips_apart_and_fails_on_an_slo_breach() {
        let skipped = render(&run_with(vec![
            Case::passed("ok", 1),
            Case::skipped("later", "no clock"),
        ]));
        assert!(
            skipped.starts_with("## ✅ agentproof: 1 cases passed, 1 skipped"),
            "{skipped}"
        );

        let mut slow = run_with(vec![Case::passed("ok", 1)]);
        slow.suites[0]
            .latency
            .record("aui POST /x", std::time::Duration::from_millis(2500));
        let text = render(&slow);
        assert!(
            text.starts_with("## ❌ agentproof: all 1 cases passed, 1 latency SLO violation"),
            "{text}"
        );
    }

    #[test]
    fn small_suite_lists_every_case() {
        let text = render(&run_with(vec![
            Case::passed("ok one", 1),
            Case::failed("bad", "200", "500", 2),
        ]));
        assert!(
            text.starts_with("## ❌ agentproof: 1 of 2 cases failed"),
            "{text}"
        );
        assert!(text.contains("| ✅ | ok one |"), "{text}");
        assert!(text.contains("| ❌ | bad | 200 | 500 |"), "{text}");
    }

    #[test]
    fn large_suite_counts_passed_cases_instead_of_listing_them() {
        let mut cases: Vec<Case> = (0..30).map(|i| Case::passed(format!("p{i}"), 1)).collect();
        cases.push(Case::skipped("clock", "no /__admin/clock"));
        let text = render(&run_with(cases));
        assert!(!text.contains("| p3 |"), "{text}");
        assert!(text.contains("_30 passed cases not listed._"), "{text}");
        assert!(text.contains("skipped: no /\\_\\_admin/clock"), "{text}");
    }

    #[test]
    fn remote_text_cannot_break_the_table() {
        let text = render(&run_with(vec![Case::failed("a|b\nc", "x", "<script>", 1)]));
        assert!(text.contains("| a\\|b c |"), "{text}");
        assert!(text.contains("\\<script\\>"), "{text}");
    }
}
