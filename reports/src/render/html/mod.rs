//! One self-contained HTML page: open it from disk, mail it, attach it to a CI run.
//!
//! No external resource of any kind: no script, no stylesheet link, no web font, no image
//! URL. The CSS is inlined (`style.css` beside this file) and every chart is inline SVG
//! (`chart.rs`); a Content-Security-Policy meta tag forbids the browser any fetch, as a second
//! guard should escaping ever fail. Layout: the verdict and facts at the top, coloured
//! pass/fail/skip counts, a table of contents, then a section per suite (`suite.rs`) with its
//! failures expanded (expected against got, detail), skips with reasons, passed cases
//! (folded when many), its latency table and one chart per route.

use std::fmt::Write as _;

use crate::model::{Run, Verdict};
use crate::render::escape::html;
use crate::slo::Slo;

pub(crate) mod chart;
mod suite;

/// The page's stylesheet, inlined; `agentproof proxy`'s live page wears it too.
pub const STYLE: &str = include_str!("style.css");
pub(crate) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The HTML page for `run`, judged against the default SLO.
pub fn render(run: &Run) -> String {
    let slo = Slo::default();
    let verdict = run.verdict_with(&slo);
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, &verdict);
    out.push_str("<body><div class=\"page\">\n");
    header(&mut out, run, &verdict);
    stats(&mut out, &verdict);
    toc(&mut out, run, &slo);
    out.push_str("<main>\n");
    for (index, s) in run.suites.iter().enumerate() {
        suite::section(&mut out, index, s, &slo);
    }
    if run.suites.is_empty() {
        out.push_str("<p class=\"none\">This run has no suites.</p>\n");
    }
    let _ = writeln!(
        out,
        "</main>\n<footer>agentproof {} · self-contained report, no network needed</footer>\n</div></body></html>",
        html(&run.tool_version)
    );
    out
}

fn head(out: &mut String, v: &Verdict) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <title>agentproof report: {}</title>\n<style>\n{STYLE}</style></head>\n",
        verdict_word(v)
    );
}

fn header(out: &mut String, run: &Run, v: &Verdict) {
    let class = if v.is_pass() { "pass" } else { "fail" };
    let _ = writeln!(
        out,
        "<header class=\"top\"><h1>agentproof report</h1><span class=\"badge {class}\">{}</span></header>",
        verdict_word(v)
    );
    out.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", html(name), html(value));
    };
    fact("started", &run.started_at);
    fact(
        "duration",
        &format!("{:.1} s", run.duration_ms as f64 / 1000.0),
    );
    fact("agentproof", &run.tool_version);
    if let Some(seed) = run.seed {
        fact("seed", &seed.to_string());
    }
    for (platform, url) in &run.target {
        fact(&format!("target {platform}"), url);
    }
    out.push_str("</dl>\n");
}

fn stats(out: &mut String, v: &Verdict) {
    out.push_str("<div class=\"stats\">");
    let mut stat = |class: &str, n: usize, label: &str| {
        let zero = if n == 0 { " zero" } else { "" };
        let _ = write!(
            out,
            "<div class=\"stat {class}{zero}\"><span class=\"n\">{n}</span><span class=\"l\">{label}</span></div>"
        );
    };
    stat("passed", v.passed, "passed");
    stat("failed", v.failed, "failed");
    stat("skipped", v.skipped, "skipped");
    let slo_class = if v.slo_violations == 0 {
        "passed"
    } else {
        "failed"
    };
    stat(slo_class, v.slo_violations, "latency SLO violations");
    out.push_str("</div>\n");
}

fn toc(out: &mut String, run: &Run, slo: &Slo) {
    if run.suites.len() < 2 {
        return;
    }
    out.push_str("<nav class=\"toc\" aria-label=\"suites\"><ul>");
    for (index, s) in run.suites.iter().enumerate() {
        let class = if suite::is_pass(s, slo) {
            "pass"
        } else {
            "fail"
        };
        let _ = write!(
            out,
            "<li><span class=\"dot {class}\"></span><a href=\"#suite-{index}\">{}</a></li>",
            html(&s.qualified_name())
        );
    }
    out.push_str("</ul></nav>\n");
}

fn verdict_word(v: &Verdict) -> &'static str {
    if v.is_pass() {
        "PASSED"
    } else {
        "FAILED"
    }
}
