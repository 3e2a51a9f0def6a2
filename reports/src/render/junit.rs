//! JUnit XML, the format CI test tabs (GitLab, Jenkins, GitHub test reporters) read.
//!
//! One `<testsuite>` per suite, named `<platform>.<suite>`; one `<testcase>` per case with that
//! name as `classname`. A failed case carries `<failure message="expected X, got Y">` whose body
//! repeats both and adds the detail; a skipped case `<skipped message="reason"/>`. Each route of
//! the suite's latency table adds a testcase `latency <route>` that fails with the SLO
//! violations. Everything from the run is escaped, control characters included.

use std::fmt::Write as _;

use crate::model::{Case, LatencySummary, Outcome, Run, Suite};
use crate::render::escape::{xml_attr, xml_text};
use crate::render::ms;
use crate::slo::{Slo, SloViolation};

/// The JUnit XML document for `run`, judged against the default SLO.
pub fn render(run: &Run) -> String {
    render_with(run, &SuiteExtras::default())
}

/// What a caller that knows more than the [`Run`] model adds to every `<testsuite>`; the
/// default adds nothing, so [`render`] stays the check report's renderer unchanged.
///
/// A load run ([`crate::render::load::junit`]) needs both: its cases each carry the whole
/// run's duration, so the sum would multiply it by the case count, and its reproduction
/// facts (command line, load shape, SLO...) have no place in a [`Run`]. Keeping the override
/// here, at the writer, leaves the model and [`crate::load::LoadReport::to_run`] as they are.
#[derive(Debug, Default)]
pub(crate) struct SuiteExtras {
    /// The suite's `time`, in milliseconds, instead of the sum of its cases' durations.
    pub(crate) time_ms: Option<u64>,
    /// `<property>` elements after the standard ones (platform, target, seed, tool_version),
    /// in this order; names and values are escaped.
    pub(crate) properties: Vec<(&'static str, String)>,
}

/// [`render`], with `extras` added to every suite.
pub(crate) fn render_with(run: &Run, extras: &SuiteExtras) -> String {
    let slo = Slo::default();
    let verdict = run.verdict_with(&slo);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        r#"<testsuites name="agentproof" tests="{}" failures="{}" errors="0" skipped="{}" time="{}" timestamp="{}">"#,
        verdict.total() + route_count(run),
        verdict.failed + failing_routes(run, &slo),
        verdict.skipped,
        seconds(run.duration_ms),
        xml_attr(&run.started_at),
    );
    for suite in &run.suites {
        suite_xml(&mut out, run, suite, &slo, extras);
    }
    out.push_str("</testsuites>\n");
    out
}

fn suite_xml(out: &mut String, run: &Run, suite: &Suite, slo: &Slo, extras: &SuiteExtras) {
    let failures =
        suite.cases.iter().filter(|c| is_failed(c)).count() + suite_failing_routes(suite, slo);
    let skipped = suite.cases.iter().filter(|c| is_skipped(c)).count();
    let time_ms = extras
        .time_ms
        .unwrap_or_else(|| suite.cases.iter().map(|c| c.duration_ms).sum());
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="{skipped}" time="{}" timestamp="{}">"#,
        xml_attr(&suite.qualified_name()),
        suite.cases.len() + suite.latency.len(),
        seconds(time_ms),
        xml_attr(&run.started_at),
    );
    properties_xml(out, run, suite, &extras.properties);
    let classname = xml_attr(&suite.qualified_name());
    for case in &suite.cases {
        case_xml(out, &classname, case);
    }
    for (route, h) in suite.latency.iter() {
        let violations = slo.check_route(route, h);
        latency_case_xml(out, &classname, route, &LatencySummary::of(h), &violations);
    }
    out.push_str("  </testsuite>\n");
}

fn properties_xml(out: &mut String, run: &Run, suite: &Suite, extra: &[(&str, String)]) {
    out.push_str("    <properties>\n");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(
            out,
            r#"      <property name="{}" value="{}"/>"#,
            xml_attr(name),
            xml_attr(value)
        );
    };
    property("platform", &suite.platform);
    if let Some(url) = run.target.get(&suite.platform) {
        property("target", url);
    }
    if let Some(seed) = run.seed {
        property("seed", &seed.to_string());
    }
    property("tool_version", &run.tool_version);
    for (name, value) in extra {
        property(name, value);
    }
    out.push_str("    </properties>\n");
}

fn case_xml(out: &mut String, classname: &str, case: &Case) {
    let _ = write!(
        out,
        r#"    <testcase name="{}" classname="{classname}" time="{}""#,
        xml_attr(&case.name),
        seconds(case.duration_ms),
    );
    match &case.outcome {
        Outcome::Passed => out.push_str("/>\n"),
        Outcome::Failed { expected, got } => {
            let message = format!("expected {expected}, got {got}");
            let mut body = format!("expected: {expected}\ngot: {got}");
            if let Some(detail) = &case.detail {
                let _ = write!(body, "\n\n{detail}");
            }
            failure_xml(out, &message, "contract", &body);
        }
        Outcome::Skipped { reason } => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml_attr(reason)
            );
        }
    }
}

fn latency_case_xml(
    out: &mut String,
    classname: &str,
    route: &str,
    s: &LatencySummary,
    violations: &[SloViolation],
) {
    let _ = write!(
        out,
        r#"    <testcase name="{}" classname="{classname}" time="0""#,
        xml_attr(&format!("latency {route}")),
    );
    if violations.is_empty() {
        out.push_str("/>\n");
        return;
    }
    let message: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let body = format!(
        "count {}, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        s.count,
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms)
    );
    failure_xml(out, &message.join("; "), "slo", &body);
}

/// Closes an open `<testcase` start tag with a failure child.
fn failure_xml(out: &mut String, message: &str, kind: &str, body: &str) {
    let _ = writeln!(
        out,
        ">\n      <failure message=\"{}\" type=\"{kind}\">{}</failure>\n    </testcase>",
        xml_attr(message),
        xml_text(body)
    );
}

fn is_failed(case: &Case) -> bool {
    matches!(case.outcome, Outcome::Failed { .. })
}

fn is_skipped(case: &Case) -> bool {
    matches!(case.outcome, Outcome::Skipped { .. })
}

fn route_count(run: &Run) -> usize {
    run.suites.iter().map(|s| s.latency.len()).sum()
}

fn failing_routes(run: &Run, slo: &Slo) -> usize {
    run.suites
        .iter()
        .map(|s| suite_failing_routes(s, slo))
        .sum()
}

fn suite_failing_routes(suite: &Suite, slo: &Slo) -> usize {
    suite
        .latency
        .iter()
        .filter(|(route, h)| !slo.check_route(route, h).is_empty())
        .count()
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;

    fn run_with(case: Case) -> Run {
        let mut suite = Suite::new("login", "aui");
        suite.cases.push(case);
        Run {
            tool_version: "0.1.0".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            duration_ms: 1500,
            target: BTreeMap::new(),
            seed: None,
            suites: vec![suite],
        }
    }

    #[test]
    fn failure_message_names_expected_against_got() {
        let xml = render(&run_with(Case::failed("c", "HTTP 403", "HTTP 500", 12)));
        assert!(
            xml.contains(r#"<failure message="expected HTTP 403, got HTTP 500" type="contract">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"classname="aui.login" time="0.012""#),
            "{xml}"
        );
    }

    #[test]
    fn skipped_case_carries_its_reason() {
        let xml = render(&run_with(Case::skipped("c", "no /__admin/clock")));
        assert!(
            xml.contains(r#"<skipped message="no /__admin/clock"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn a_route_breaking_the_slo_is_a_failing_testcase() {
        let mut run = run_with(Case::passed("c", 1));
        run.suites[0]
            .latency
            .record("aui GET /slow", Duration::from_secs(21));
        let xml = render(&run);
        assert!(
            xml.contains(r#"<testcase name="latency aui GET /slow""#),
            "{xml}"
        );
        assert!(xml.contains("reached the 20000 ms timeout"), "{xml}");
        assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
    }

    #[test]
    fn seconds_keep_milliseconds() {
        assert_eq!(seconds(1500), "1.500");
        assert_eq!(seconds(7), "0.007");
    }
}
