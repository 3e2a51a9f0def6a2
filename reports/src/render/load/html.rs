//! The HTML page of a load run: one self-contained file, in the order a reader asks.
//!
//! `#verdict` first (the verdict line, big, green or red, a CUT SHORT badge when the run
//! stopped early, a PARTIAL badge and the note when a merge went ahead without every worker),
//! then `#reproduce` (command line, scenario, seed, load shape, targets, versions, the judged
//! distribution, each route's own SLO, the peak users, and for a distributed run `worker I of
//! N` or `merged from N workers (...)`), the `#latency-over-time`, `#users-over-time` (when the
//! run counted its users) and `#percentile-curve` charts (`chart.rs`), the `#routes` table (as
//! sent and, with a schedule, as due side by side, then each rule; a route judged by its own
//! SLO says so under its name and beside each rule of its own), `#errors` by reason, and
//! `#baseline` when a comparison was made. The ids
//! are stable for browser tests and links. Same rules as the check report: the check report's
//! CSS plus `load.css`, inline SVG only, a CSP forbidding every fetch, every text escaped.

use std::fmt::Write as _;

use super::chart::{latency_over_time, percentile_curve, users_over_time, PALETTE};
use crate::load::{
    DeltaStatus, LoadReport, LoadSlo, LoadVerdict, MsDelta, RouteLatency, RouteResult, Rule,
    RuleVerdict,
};
use crate::render::escape::html;
use crate::render::html::{CSP, STYLE};
use crate::render::ms;

const LOAD_STYLE: &str = include_str!("load.css");

/// The HTML page of `report`.
pub fn render(report: &LoadReport) -> String {
    let verdict = report.verdict();
    let word = if verdict.is_pass() { "PASS" } else { "FAIL" };
    let mut out = String::with_capacity(128 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <title>agentproof load {word}: {}</title>\n<style>\n{STYLE}{LOAD_STYLE}</style></head>\n\
         <body><div class=\"page load\">\n",
        html(&report.meta.scenario)
    );
    verdict_box(&mut out, report, &verdict);
    reproduce(&mut out, report);
    let _ = writeln!(
        out,
        "<section class=\"card\"><h2>Latency over time</h2><p class=\"note\">Every second of the run over all routes, {}; requests per second as grey bars (right axis).</p><figure class=\"wide\">{}</figure></section>",
        judged_words(report),
        latency_over_time(report)
    );
    users_section(&mut out, report);
    curve_section(&mut out, report);
    routes_table(&mut out, report, &verdict);
    errors_table(&mut out, report);
    baseline_table(&mut out, report);
    let _ = writeln!(
        out,
        "<footer>agentproof {} · goose {} · self-contained report, no network needed</footer>\n</div></body></html>",
        html(&report.meta.tool_version),
        html(&report.meta.goose_version)
    );
    out
}

fn verdict_box(out: &mut String, report: &LoadReport, verdict: &LoadVerdict) {
    let (class, word) = if verdict.is_pass() {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let _ = write!(
        out,
        "<header id=\"verdict\" class=\"verdict {class}\"><div class=\"kicker\"><span class=\"badge {class}\">{word}</span>"
    );
    if report.cut_short.is_some() {
        out.push_str("<span class=\"badge cut\">CUT SHORT</span>");
    }
    if report.meta.partial.is_some() {
        out.push_str("<span class=\"badge cut partial\">PARTIAL</span>");
    }
    let _ = write!(
        out,
        "<span>agentproof load · {}</span></div><p class=\"line\">{}</p>",
        html(&report.meta.scenario),
        html(&report.verdict_line())
    );
    if let Some(note) = &report.meta.partial {
        let _ = write!(
            out,
            "<p class=\"partial\" id=\"partial\">Partial merge: {}. The numbers cover only the workers present.</p>",
            html(note)
        );
    }
    out.push_str("</header>\n");
}

/// The facts of a distributed run, in the order both reports print them: `worker` for a
/// worker's report (`worker 2 of 4 (--worker 2/4)`), `merged` for a merged one
/// (`merged from 4 workers (w0, w1, w2, w3)`) and `partial` when workers were missing.
pub(crate) fn distributed_facts(report: &LoadReport) -> Vec<(&'static str, String)> {
    let m = &report.meta;
    let mut facts = Vec::new();
    if let Some(worker) = m.worker {
        facts.push(("worker", worker.words()));
    }
    if !m.merged_from.is_empty() {
        let n = m.merged_from.len();
        let s = if n == 1 { "" } else { "s" };
        facts.push((
            "merged",
            format!("merged from {n} worker{s} ({})", m.merged_from.join(", ")),
        ));
    }
    if let Some(note) = &m.partial {
        facts.push(("partial", note.clone()));
    }
    facts
}

fn reproduce(out: &mut String, report: &LoadReport) {
    let m = &report.meta;
    let _ = write!(
        out,
        "<section class=\"card\" id=\"reproduce\"><h2>How to reproduce</h2><pre class=\"command\">{}</pre><dl class=\"facts\">",
        html(&m.command_line)
    );
    let mut fact = |name: &str, value: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", html(name), html(value));
    };
    fact("scenario", &m.scenario);
    fact("what it does", &m.scenario_description);
    fact("seed", &m.seed.to_string());
    for (name, value) in distributed_facts(report) {
        fact(name, &value);
    }
    fact("load shape", &load_shape(report));
    for (platform, url) in &m.targets {
        fact(&format!("target {platform}"), url);
    }
    fact("SLO", &report.slo.describe());
    for (route, rules) in report.own_slos() {
        fact("own SLO", &format!("{}: {rules}", route.route));
    }
    if let Some(users) = peak_users(report) {
        fact("peak users", &users);
    }
    fact("judged", &judged_words(report));
    fact("started at", &m.started_at);
    fact(
        "duration",
        &format!("{:.1} s", report.duration_ms as f64 / 1000.0),
    );
    if let Some(why) = &report.cut_short {
        fact("cut short", why);
    }
    fact("agentproof", &m.tool_version);
    fact("goose", &m.goose_version);
    out.push_str("</dl></section>\n");
}

/// `10 users, 5 new per second, 60 s planned, scheduled at 200 requests/s`.
pub(crate) fn load_shape(report: &LoadReport) -> String {
    let m = &report.meta;
    let rate = match m.rate_per_sec {
        Some(rate) => format!("scheduled at {rate} requests/s"),
        None => "closed loop (no --rate schedule)".to_owned(),
    };
    format!(
        "{} users, {} new per second, {} s planned, {rate}",
        m.users, m.increase_rate, m.run_time_secs
    )
}

/// `10, in second 4 (the most active at any moment)`, or `None` when users were not counted.
pub(crate) fn peak_users(report: &LoadReport) -> Option<String> {
    let peak = report.peak_users();
    let at = report.series.iter().find(|s| s.users == peak)?;
    (peak > 0).then(|| {
        let merged = if report.meta.merged_from.is_empty() {
            ""
        } else {
            ", the workers' added"
        };
        format!(
            "{peak}, first in second {} (the most active at any moment of a second{merged})",
            at.second
        )
    })
}

/// Which distribution the verdict read, in words.
pub(crate) fn judged_words(report: &LoadReport) -> String {
    if report.is_scheduled() {
        "as due: latency from when the schedule said each request was due (corrected for coordinated omission)".into()
    } else {
        "as sent: latency from when each request was sent (no schedule, so no coordinated-omission correction)".into()
    }
}

fn users_section(out: &mut String, report: &LoadReport) {
    let Some(chart) = users_over_time(report) else {
        return;
    };
    let _ = writeln!(
        out,
        "<section class=\"card\"><h2>Users over time</h2><p class=\"note\">Users active in each second: the most at any moment of it{}; peak {}.</p><figure class=\"wide\">{chart}</figure></section>",
        if report.meta.merged_from.is_empty() {
            ""
        } else {
            ", the workers' added"
        },
        report.peak_users()
    );
}

fn curve_section(out: &mut String, report: &LoadReport) {
    let _ = write!(
        out,
        "<section class=\"card\"><h2>Percentile curve</h2><p class=\"note\">Latency at each percentile, one line per route{}.</p><figure class=\"wide\">{}",
        if report.is_scheduled() {
            "; dashed as sent, solid as due"
        } else {
            ""
        },
        percentile_curve(report)
    );
    out.push_str("<ul class=\"legend\">");
    for (i, route) in report.routes.iter().enumerate() {
        let _ = write!(
            out,
            "<li class=\"s{}\"><span class=\"swatch\"></span>{}</li>",
            i % PALETTE,
            html(&route.route)
        );
    }
    out.push_str("</ul></figure></section>\n");
}

fn routes_table(out: &mut String, report: &LoadReport, verdict: &LoadVerdict) {
    let limit = report.slo.limit_ms;
    out.push_str("<section class=\"card\"><h2>Routes</h2>");
    if report.routes.is_empty() {
        out.push_str("<p class=\"none\" id=\"routes\">No request finished.</p></section>\n");
        return;
    }
    let dists: Vec<(&str, bool)> = if report.is_scheduled() {
        vec![("as sent", false), ("as due (judged)", true)]
    } else {
        vec![("as sent (judged)", true)]
    };
    out.push_str("<div class=\"scroll\"><table class=\"load\" id=\"routes\"><thead><tr><th class=\"route\" rowspan=\"2\">route</th><th rowspan=\"2\">count</th><th rowspan=\"2\">errors</th><th rowspan=\"2\">timeouts</th>");
    for (name, judged) in &dists {
        let class = if *judged { "group judged" } else { "group" };
        let _ = write!(out, "<th class=\"{class}\" colspan=\"5\">{name}, ms</th>");
    }
    out.push_str("<th class=\"group\" colspan=\"3\">verdict</th></tr><tr>");
    for _ in &dists {
        let _ = write!(
            out,
            "<th>p50</th><th>p95</th><th>p99</th><th>max</th><th>under {limit}</th>"
        );
    }
    let slo = &report.slo;
    let _ = write!(
        out,
        "<th class=\"rule\">{}&lt;{}ms</th><th class=\"rule\">max&lt;{}ms</th><th class=\"rule\">errors&lt;{}%</th></tr></thead><tbody>",
        html(&slo.quantile_name()),
        slo.limit_ms,
        slo.timeout_ms,
        html(&slo.error_percent())
    );
    for (route, v) in report.routes.iter().zip(&verdict.routes) {
        let own = report.own_slo(route);
        let _ = write!(
            out,
            "<tr><td class=\"route\">{}{}</td><td>{}</td><td>{}</td><td>{}</td>",
            html(&route.route),
            own.map_or(String::new(), |own| format!(
                "<span class=\"own\">own SLO {}</span>",
                html(&own.differences_from(slo))
            )),
            route.count,
            route.errors,
            route.timeouts
        );
        let own_limit = own.filter(|o| o.limit_ms != slo.limit_ms);
        latency_cells(out, route, &route.sent, own_limit);
        if let (true, Some(due)) = (report.is_scheduled(), &route.due) {
            latency_cells(out, route, due, own_limit);
        }
        for rule in &v.rules {
            let (class, mark) = if rule.passed {
                ("pass", "✓")
            } else {
                ("fail", "✗ ")
            };
            let own_rule = own
                .filter(|own| own.rule_text(rule.rule) != slo.rule_text(rule.rule))
                .map_or(String::new(), |own| {
                    format!(
                        "<span class=\"own\">own {}</span>",
                        html(&own.rule_text(rule.rule))
                    )
                });
            let _ = write!(
                out,
                "<td class=\"rule {class}\" title=\"{}\">{mark}{}{own_rule}</td>",
                html(&rule.got),
                html(&compact(report, route, rule))
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>\n");
}

/// A rule's result in a few characters for the table; the full sentence is its tooltip.
fn compact(report: &LoadReport, route: &RouteResult, rule: &RuleVerdict) -> String {
    let latency = route.latency(report.judged);
    let slo = report.slo_of(route);
    match (rule.rule, rule.passed) {
        (_, true) => String::new(),
        (Rule::Quantile, false) => format!(
            "{}% under, needs {}%",
            crate::load::percent(latency.under_limit, route.count),
            slo.quantile_percent()
        ),
        (Rule::Max, false) if slo.timeout_ms == report.slo.timeout_ms => {
            format!("{} at timeout", latency.reached_timeout)
        }
        (Rule::Max, false) => format!("{} at own max", latency.reached_timeout),
        (Rule::Errors, false) => format!(
            "{}%, allowed {}%",
            crate::load::percent_up(route.errors, route.count),
            slo.error_percent()
        ),
    }
}

/// The latency cells of one distribution; `own_limit`: the route's own SLO when its limit is
/// not the run's, so the under-limit share says which limit it is under.
fn latency_cells(
    out: &mut String,
    route: &RouteResult,
    l: &RouteLatency,
    own_limit: Option<&LoadSlo>,
) {
    let s = &l.summary;
    let under = own_limit.map_or(String::new(), |own| {
        format!("<span class=\"own\">under own {} ms</span>", own.limit_ms)
    });
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{under}</td>",
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms),
        crate::load::percent(l.under_limit, route.count)
    );
}

fn errors_table(out: &mut String, report: &LoadReport) {
    out.push_str("<section class=\"card\"><h2>Errors by reason</h2>");
    if report.errors.is_empty() {
        out.push_str(
            "<p class=\"none\" id=\"errors\">No request failed or timed out.</p></section>\n",
        );
        return;
    }
    out.push_str("<div class=\"scroll\"><table class=\"load\" id=\"errors\"><thead><tr><th class=\"route\">route</th><th class=\"route\">reason</th><th>count</th></tr></thead><tbody>");
    for e in &report.errors {
        let _ = write!(
            out,
            "<tr><td class=\"route\">{}</td><td class=\"reason\">{}</td><td>{}</td></tr>",
            html(&e.route),
            html(&e.reason),
            e.count
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn baseline_table(out: &mut String, report: &LoadReport) {
    let Some(deltas) = &report.baseline else {
        return;
    };
    out.push_str("<section class=\"card\"><h2>Compared with the baseline</h2><p class=\"note\">Regressions first, the largest p95 increase first. Red: slower by more than 5 % at p95 or more errors; green: faster.</p>");
    out.push_str("<div class=\"scroll\"><table class=\"load\" id=\"baseline\"><thead><tr><th class=\"route\">route</th><th class=\"route\">change</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th></tr></thead><tbody>");
    for d in deltas {
        let _ = write!(
            out,
            "<tr class=\"{}\"><td class=\"route\">{}</td><td class=\"reason\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            status_class(d.status),
            html(&d.route),
            status_words(d.status),
            ms_change(d.p50),
            ms_change(d.p95),
            ms_change(d.p99),
            d.error_rate.map_or("–".to_owned(), |r| format!(
                "{:.2}% → {:.2}% ({:+.2} pp)",
                r.baseline * 100.0,
                r.current * 100.0,
                r.change_points
            )),
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

pub(super) fn status_class(status: DeltaStatus) -> &'static str {
    match status {
        DeltaStatus::Regressed => "regressed",
        DeltaStatus::Improved => "improved",
        DeltaStatus::Similar => "similar",
        DeltaStatus::OnlyInCurrent | DeltaStatus::OnlyInBaseline => "one-sided",
    }
}

pub(crate) fn status_words(status: DeltaStatus) -> &'static str {
    match status {
        DeltaStatus::Regressed => "regressed",
        DeltaStatus::Improved => "improved",
        DeltaStatus::Similar => "similar",
        DeltaStatus::OnlyInCurrent => "new in this run",
        DeltaStatus::OnlyInBaseline => "only in the baseline",
    }
}

/// `120.0 → 180.0 (+50.0%)`, or `–` for a one-sided route.
pub(crate) fn ms_change(delta: Option<MsDelta>) -> String {
    let Some(d) = delta else {
        return "–".into();
    };
    let pct = d
        .change_pct
        .map_or(String::new(), |p| format!(" ({p:+.1}%)"));
    format!("{} → {}{pct}", ms(d.baseline_ms), ms(d.current_ms))
}
