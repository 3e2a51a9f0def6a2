//! One suite's section of the HTML page: counts, cases (failures first and expanded), the
//! latency table and a chart per route.

use std::fmt::Write as _;

use super::chart::route_svg;
use crate::model::{Case, LatencySummary, Outcome, Suite};
use crate::render::escape::html;
use crate::render::ms;
use crate::slo::Slo;

/// Passed cases are folded into a `<details>` when a suite has more than this many.
const UNFOLDED_PASSED: usize = 20;

/// True when no case failed and every route met `slo`.
pub(super) fn is_pass(suite: &Suite, slo: &Slo) -> bool {
    let failed = suite
        .cases
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Failed { .. }));
    !failed && slo.evaluate(&suite.latency).is_empty()
}

/// Writes `<section id="suite-{index}">` for `suite`.
pub(super) fn section(out: &mut String, index: usize, suite: &Suite, slo: &Slo) {
    let of = |status: &str| -> Vec<&Case> {
        suite
            .cases
            .iter()
            .filter(|c| c.outcome.status() == status)
            .collect()
    };
    let (failed, skipped, passed) = (of("failed"), of("skipped"), of("passed"));
    let dot = if is_pass(suite, slo) { "pass" } else { "fail" };
    let _ = writeln!(
        out,
        "<section class=\"suite\" id=\"suite-{index}\"><h2><span class=\"dot {dot}\"></span>{}</h2>\
         <p class=\"counts\"><b class=\"pass\">{} passed</b> · <b class=\"{}\">{} failed</b> · {} skipped · platform {}</p>",
        html(&suite.qualified_name()),
        passed.len(),
        if failed.is_empty() { "" } else { "fail" },
        failed.len(),
        skipped.len(),
        html(&suite.platform),
    );
    failed.iter().for_each(|c| failed_case(out, c));
    skipped.iter().for_each(|c| skipped_case(out, c));
    passed_cases(out, &passed);
    if suite.cases.is_empty() {
        out.push_str("<p class=\"none\">No cases.</p>");
    }
    latency(out, index, suite, slo);
    out.push_str("</section>\n");
}

fn failed_case(out: &mut String, case: &Case) {
    let Outcome::Failed { expected, got } = &case.outcome else {
        return;
    };
    let _ = write!(
        out,
        "<div class=\"case failed\"><div class=\"case-head\"><span class=\"pill fail\">FAIL</span>\
         <span class=\"name\">{}</span><span class=\"time\">{} ms</span></div>\
         <dl class=\"diff\"><dt>expected</dt><dd class=\"expected\"><code>{}</code></dd>\
         <dt>got</dt><dd class=\"got\"><code>{}</code></dd></dl>",
        html(&case.name),
        case.duration_ms,
        html(expected),
        html(got),
    );
    if let Some(detail) = &case.detail {
        let _ = write!(out, "<pre class=\"detail\">{}</pre>", html(detail));
    }
    out.push_str("</div>\n");
}

fn skipped_case(out: &mut String, case: &Case) {
    let Outcome::Skipped { reason } = &case.outcome else {
        return;
    };
    let _ = writeln!(
        out,
        "<div class=\"case\"><div class=\"case-head\"><span class=\"pill skip\">SKIP</span>\
         <span class=\"name\">{} <span class=\"reason\">— {}</span></span></div></div>",
        html(&case.name),
        html(reason),
    );
}

fn passed_cases(out: &mut String, passed: &[&Case]) {
    if passed.is_empty() {
        return;
    }
    let fold = passed.len() > UNFOLDED_PASSED;
    if fold {
        let _ = write!(
            out,
            "<details class=\"passed\"><summary>{} passed cases</summary>",
            passed.len()
        );
    }
    out.push_str("<ul class=\"cases\">");
    for case in passed {
        let _ = write!(
            out,
            "<li><span class=\"pill pass\">PASS</span><span class=\"name\">{}</span><span class=\"time\">{} ms</span></li>",
            html(&case.name),
            case.duration_ms
        );
    }
    out.push_str("</ul>");
    if fold {
        out.push_str("</details>");
    }
    out.push('\n');
}

fn latency(out: &mut String, index: usize, suite: &Suite, slo: &Slo) {
    if suite.latency.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Latency</h3><table class=\"latency\"><thead><tr><th>route</th><th>count</th>\
         <th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>SLO</th></tr></thead><tbody>",
    );
    for (route, h) in suite.latency.iter() {
        latency_row(
            out,
            route,
            &LatencySummary::of(h),
            &slo.check_route(route, h),
        );
    }
    out.push_str("</tbody></table>\n");
    for (j, (route, h)) in suite.latency.iter().enumerate() {
        let _ = writeln!(
            out,
            "<figure class=\"chart\"><figcaption>{}</figcaption>{}</figure>",
            html(route),
            route_svg(&format!("chart-{index}-{j}"), route, h, slo)
        );
    }
}

fn latency_row(
    out: &mut String,
    route: &str,
    s: &LatencySummary,
    violations: &[crate::slo::SloViolation],
) {
    let (class, verdict) = if violations.is_empty() {
        ("pass", "✓ met".to_owned())
    } else {
        let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
        ("fail", format!("✗ {}", text.join("; ")))
    };
    let _ = write!(
        out,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"verdict {class}\">{}</td></tr>",
        html(route),
        s.count,
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms),
        html(&verdict),
    );
}
