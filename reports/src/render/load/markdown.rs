//! Markdown of a load run for a CI step summary, GitHub-flavoured, in the page's order: the
//! verdict as a heading, how to reproduce (with each route's own SLO and the peak users),
//! latency over time (a table of at most [`SERIES_ROWS`] rows, grouped for long runs, with
//! the most users of each row when the run counted them), the percentile curve as p50 to
//! p99.99 per route, the route table (a route judged by its own SLO says so), the errors by
//! reason and the baseline comparison. Remote text is escaped and cut to [`CELL_CHARS`]
//! characters per cell.

use std::fmt::Write as _;

use super::html::{
    distributed_facts, judged_words, load_shape, ms_change, peak_users, status_words,
};
use crate::load::{grouped, percent, percent_up, LoadReport, RouteLatency, SecondStats};
use crate::render::escape::markdown as md;
use crate::render::ms;

/// Longest text kept in one cell.
pub const CELL_CHARS: usize = 300;
/// Most rows of the latency-over-time table.
pub const SERIES_ROWS: usize = 30;
/// Most rows of the error table; the rest are counted in one line.
pub const ERROR_ROWS: usize = 50;

/// The Markdown summary of `report`.
pub fn render(report: &LoadReport) -> String {
    let mut out = String::new();
    let verdict = report.verdict();
    let icon = if verdict.is_pass() { "✅" } else { "❌" };
    let cut = if report.cut_short.is_some() {
        " (CUT SHORT)"
    } else {
        ""
    };
    let partial = if report.meta.partial.is_some() {
        " (PARTIAL)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "## {icon} agentproof load {}{cut}{partial}\n\n**{}**\n",
        md(&report.meta.scenario, CELL_CHARS),
        md(&report.verdict_line(), 2 * CELL_CHARS).trim_end()
    );
    if let Some(note) = &report.meta.partial {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Partial merge: {}. The numbers cover only the workers present.\n",
            md(note, CELL_CHARS)
        );
    }
    reproduce(&mut out, report);
    series(&mut out, report);
    curve(&mut out, report);
    routes(&mut out, report);
    errors(&mut out, report);
    baseline(&mut out, report);
    out
}

fn reproduce(out: &mut String, report: &LoadReport) {
    let m = &report.meta;
    let fence = if m.command_line.contains("```") {
        "~~~~"
    } else {
        "```"
    };
    let command = m.command_line.replace(['\r', '\n'], " ");
    let _ = writeln!(
        out,
        "### How to reproduce\n\n{fence}sh\n{command}\n{fence}\n"
    );
    let mut facts = vec![
        ("scenario", m.scenario.clone()),
        ("what it does", m.scenario_description.clone()),
        ("seed", m.seed.to_string()),
    ];
    facts.extend(distributed_facts(report));
    facts.push(("load shape", load_shape(report)));
    facts.extend(
        m.targets
            .iter()
            .map(|(p, url)| ("target", format!("{p} {url}"))),
    );
    facts.push(("SLO", report.slo.describe()));
    facts.extend(
        report
            .own_slos()
            .map(|(route, rules)| ("own SLO", format!("{}: {rules}", route.route))),
    );
    facts.extend(peak_users(report).map(|users| ("peak users", users)));
    facts.extend([
        ("judged", judged_words(report)),
        ("started at", m.started_at.clone()),
        (
            "duration",
            format!("{:.1} s", report.duration_ms as f64 / 1000.0),
        ),
    ]);
    if let Some(why) = &report.cut_short {
        facts.push(("cut short", why.clone()));
    }
    facts.push(("agentproof", m.tool_version.clone()));
    facts.push(("goose", m.goose_version.clone()));
    out.push_str("| | |\n| --- | --- |\n");
    for (name, value) in facts {
        let _ = writeln!(out, "| {name} | {} |", md(&value, CELL_CHARS));
    }
    out.push('\n');
}

fn series(out: &mut String, report: &LoadReport) {
    out.push_str("### Latency over time\n\n");
    if report.series.is_empty() {
        out.push_str("No request finished.\n\n");
        return;
    }
    let group = report.series.len().div_ceil(SERIES_ROWS).max(1);
    // Users only when the run counted them: a column of zeros would say nobody ran.
    let users = report.peak_users() > 0;
    let (users_head, users_rule) = if users {
        (" users |", " ---: |")
    } else {
        ("", "")
    };
    let _ = writeln!(
        out,
        "{}, {}{}.\n\n| seconds |{users_head} requests/s | errors | p50 ms | p95 ms | max ms |\n| --- |{users_rule} ---: | ---: | ---: | ---: | ---: |",
        if group == 1 {
            "Per second".to_owned()
        } else {
            format!("Per {group} seconds (worst p95 and max of the group)")
        },
        judged_words(report),
        if users {
            "; users: the most active at any moment"
        } else {
            ""
        }
    );
    for chunk in report.series.chunks(group) {
        let row = Row::of(chunk);
        let (first, last) = (chunk[0].second, chunk[chunk.len() - 1].second);
        let span = if first == last {
            first.to_string()
        } else {
            format!("{first}–{last}")
        };
        let users = if users {
            format!(" {} |", row.users)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {span} |{users} {:.1} | {} | {} | {} | {} |",
            row.rate,
            row.errors,
            ms(row.p50),
            ms(row.p95),
            ms(row.max)
        );
    }
    out.push('\n');
}

struct Row {
    users: u64,
    rate: f64,
    errors: u64,
    p50: f64,
    p95: f64,
    max: f64,
}

impl Row {
    fn of(chunk: &[SecondStats]) -> Self {
        let answered: Vec<&SecondStats> = chunk.iter().filter(|s| s.requests > 0).collect();
        Self {
            users: chunk.iter().map(|s| s.users).max().unwrap_or(0),
            rate: chunk.iter().map(|s| s.requests).sum::<u64>() as f64 / chunk.len() as f64,
            errors: chunk.iter().map(|s| s.errors).sum(),
            p50: answered.iter().map(|s| s.p50_ms).sum::<f64>() / answered.len().max(1) as f64,
            p95: answered.iter().map(|s| s.p95_ms).fold(0.0, f64::max),
            max: answered.iter().map(|s| s.max_ms).fold(0.0, f64::max),
        }
    }
}

fn curve(out: &mut String, report: &LoadReport) {
    if report.routes.is_empty() {
        return;
    }
    out.push_str("### Percentile curve\n\n| route | distribution | p50 ms | p90 ms | p99 ms | p99.9 ms | p99.99 ms | max ms |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in &report.routes {
        let mut dists = vec![("as sent", &r.sent)];
        if let Some(due) = &r.due {
            dists.push(("as due", due));
        }
        for (name, l) in dists {
            let q = |q: f64| ms(l.histogram.value_at_quantile(q) as f64 / 1000.0);
            let _ = writeln!(
                out,
                "| {} | {name} | {} | {} | {} | {} | {} | {} |",
                md(&r.route, CELL_CHARS),
                q(0.5),
                q(0.9),
                q(0.99),
                q(0.999),
                q(0.9999),
                ms(l.summary.max_ms)
            );
        }
    }
    out.push('\n');
}

fn routes(out: &mut String, report: &LoadReport) {
    out.push_str("### Routes\n\n");
    if report.routes.is_empty() {
        out.push_str("No request finished.\n\n");
        return;
    }
    let limit = report.slo.limit_ms;
    let scheduled = report.is_scheduled();
    let mut head =
        "| route | count | errors | timeouts | p50 ms | p95 ms | p99 ms | max ms | under limit |"
            .to_owned();
    let mut rule = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |".to_owned();
    if scheduled {
        head = "| route | count | errors | timeouts | sent p50 | sent p95 | sent p99 | sent max | sent under limit | due p50 | due p95 | due p99 | due max | due under limit (judged) |".to_owned();
        rule.push_str(" ---: | ---: | ---: | ---: | ---: |");
    }
    let own = if report.own_slos().next().is_some() {
        " (a route with its own SLO: under its own limit)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Milliseconds; under limit: share of answers under {limit} ms{own}.\n\n{head} verdict |\n{rule} --- |"
    );
    let verdict = report.verdict();
    for (r, v) in report.routes.iter().zip(&verdict.routes) {
        let name = match report.own_slo(r) {
            Some(own) => format!(
                "{} (own SLO {})",
                r.route,
                own.differences_from(&report.slo)
            ),
            None => r.route.clone(),
        };
        let mut row = format!(
            "| {} | {} | {} | {} |",
            md(&name, CELL_CHARS),
            r.count,
            r.errors,
            r.timeouts
        );
        cells(&mut row, r.count, &r.sent);
        if let (true, Some(due)) = (scheduled, &r.due) {
            cells(&mut row, r.count, due);
        }
        let judged = if v.is_pass() {
            "✅ pass".to_owned()
        } else {
            let failed: Vec<&str> = v.failed().map(|f| f.short.as_str()).collect();
            format!("❌ {}", failed.join("; "))
        };
        let _ = writeln!(out, "{row} {} |", md(&judged, CELL_CHARS));
    }
    out.push('\n');
}

fn cells(row: &mut String, count: u64, l: &RouteLatency) {
    let s = &l.summary;
    let _ = write!(
        row,
        " {} | {} | {} | {} | {}% |",
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms),
        ms(s.max_ms),
        percent(l.under_limit, count)
    );
}

fn errors(out: &mut String, report: &LoadReport) {
    out.push_str("### Errors by reason\n\n");
    if report.errors.is_empty() {
        out.push_str("No request failed or timed out.\n\n");
        return;
    }
    let total = report.total_requests();
    out.push_str(
        "| route | reason | count | share of all requests |\n| --- | --- | ---: | ---: |\n",
    );
    for e in report.errors.iter().take(ERROR_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}% |",
            md(&e.route, CELL_CHARS),
            md(&e.reason, CELL_CHARS),
            grouped(e.count),
            percent_up(e.count, total)
        );
    }
    if report.errors.len() > ERROR_ROWS {
        let rest: u64 = report.errors[ERROR_ROWS..].iter().map(|e| e.count).sum();
        let _ = writeln!(
            out,
            "\n{} more (route, reason) pairs with {} errors in report.json.",
            report.errors.len() - ERROR_ROWS,
            grouped(rest)
        );
    }
    out.push('\n');
}

fn baseline(out: &mut String, report: &LoadReport) {
    let Some(deltas) = &report.baseline else {
        return;
    };
    out.push_str("### Compared with the baseline\n\nRegressions first, the largest p95 increase first.\n\n| route | change | p50 ms | p95 ms | p99 ms | errors |\n| --- | --- | ---: | ---: | ---: | ---: |\n");
    for d in deltas {
        let icon = match d.status {
            crate::load::DeltaStatus::Regressed => "🔴 ",
            crate::load::DeltaStatus::Improved => "🟢 ",
            _ => "",
        };
        let _ = writeln!(
            out,
            "| {} | {icon}{} | {} | {} | {} | {} |",
            md(&d.route, CELL_CHARS),
            status_words(d.status),
            ms_change(d.p50),
            ms_change(d.p95),
            ms_change(d.p99),
            d.error_rate.map_or("–".to_owned(), |r| format!(
                "{:.2}% → {:.2}% ({:+.2} pp)",
                r.baseline * 100.0,
                r.current * 100.0,
                r.change_points
            ))
        );
    }
    out.push('\n');
}
