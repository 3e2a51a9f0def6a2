//! The live page at `/__proxy/` (refreshed every 2 s, no script) and its data at
//! `/__proxy/status.json`: per platform the exchanges and failures, per rule how many kept and
//! broke it with the offending exchanges (secrets masked), latency per route against the SLO.

use crate::exchange::Fixture;
use crate::judge::Rule;
use crate::server::Shared;
use crate::tally::{Example, PlatformTally, Snapshot};
use reports::render::escape::html as escape;
use reports::{LatencySummary, Slo};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Examples shown per rule on the page (the reports list them all).
const SHOWN: usize = 10;

/// The live page.
pub fn page(shared: &Shared, snapshot: &Snapshot) -> String {
    let failing = snapshot.failed() > 0;
    let mut out = String::with_capacity(32 * 1024);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"2\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>agentproof proxy: {}</title><style>{}</style></head><body><div class=\"page\">",
        verdict_word(failing),
        reports::render::html::STYLE
    );
    let _ = writeln!(
        out,
        "<header class=\"top\"><h1>agentproof proxy</h1><span class=\"badge {}\" id=\"verdict\">{}</span></header>",
        if failing { "fail" } else { "pass" },
        verdict_word(failing)
    );
    facts(&mut out, shared, snapshot);
    for (platform, tally) in &snapshot.platforms {
        section(&mut out, platform.name(), tally);
    }
    if snapshot.platforms.is_empty() {
        out.push_str(
            "<p class=\"none\">No exchange yet: point a client at a listener above.</p>\n",
        );
    }
    out.push_str("<footer>agentproof proxy · this page refreshes every 2 s · data at /__proxy/status.json</footer>\n</div></body></html>\n");
    out
}

fn verdict_word(failing: bool) -> &'static str {
    if failing {
        "FAILING"
    } else {
        "PASSING"
    }
}

fn facts(out: &mut String, shared: &Shared, snapshot: &Snapshot) {
    out.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
    };
    fact("started", &shared.started_at);
    fact(
        "running",
        &format!("{:.0} s", shared.started.elapsed().as_secs_f64()),
    );
    for listener in &shared.listeners {
        fact(
            &format!("{} listener", listener.platform),
            &format!("{} → {}", listener.url(), listener.upstream.url),
        );
    }
    if let Some(dir) = &shared.recording {
        fact("recording", &dir.display().to_string());
    }
    out.push_str("</dl>\n<div class=\"stats\">");
    let mut stat = |class: &str, n: u64, label: &str, id: &str| {
        let zero = if n == 0 { " zero" } else { "" };
        let _ = write!(
            out,
            "<div class=\"stat {class}{zero}\" id=\"{id}\"><span class=\"n\">{n}</span><span class=\"l\">{label}</span></div>"
        );
    };
    let exchanges = snapshot.exchanges();
    let failed = snapshot.failed();
    stat(
        "passed",
        exchanges - failed,
        "exchanges kept every rule",
        "kept",
    );
    stat("failed", failed, "exchanges broke a rule", "broken");
    let class = if snapshot.unjudged == 0 {
        "skipped"
    } else {
        "failed"
    };
    stat(
        class,
        snapshot.unjudged,
        "forwarded but not judged",
        "unjudged",
    );
    out.push_str("</div>\n");
}

fn section(out: &mut String, platform: &str, tally: &PlatformTally) {
    let _ = writeln!(
        out,
        "<section class=\"suite\" id=\"platform-{platform}\"><h2><span class=\"dot {}\"></span>{platform}</h2>\
         <p class=\"counts\">{} exchanges · <b class=\"{}\">{} broke a rule</b></p>",
        if tally.failed == 0 { "pass" } else { "fail" },
        tally.exchanges,
        if tally.failed == 0 { "" } else { "fail" },
        tally.failed
    );
    out.push_str("<table class=\"latency\"><thead><tr><th>rule</th><th>kept</th><th>noted</th><th>broken</th></tr></thead><tbody>");
    for rule in Rule::ALL {
        let (kept, noted, broken) = tally
            .rules
            .get(&rule)
            .map_or((0, 0, 0), |r| (r.kept, r.noted, r.broken));
        let class = if broken == 0 { "pass" } else { "fail" };
        let _ = write!(
            out,
            "<tr><td>{} <span class=\"reason\">— {}</span></td><td>{kept}</td><td>{noted}</td><td class=\"verdict {class}\">{broken}</td></tr>",
            rule.name(),
            escape(rule.title())
        );
    }
    out.push_str("</tbody></table>\n");
    for (rule, rule_tally) in &tally.rules {
        for example in rule_tally.examples.iter().take(SHOWN) {
            example_html(out, example);
        }
        if rule_tally.broken as usize > SHOWN {
            let _ = write!(
                out,
                "<p class=\"none\">… and {} more exchanges that broke {} (all of them in the reports)</p>",
                rule_tally.broken as usize - SHOWN,
                rule.name()
            );
        }
    }
    latency(out, tally);
    out.push_str("</section>\n");
}

fn example_html(out: &mut String, example: &Example) {
    let e = &example.exchange;
    let _ = writeln!(
        out,
        "<div class=\"case failed example\" data-rule=\"{}\" data-seq=\"{}\"><div class=\"case-head\"><span class=\"pill fail\">{}</span>\
         <span class=\"name\">#{} {}</span></div>\
         <dl class=\"diff\"><dt>expected</dt><dd class=\"expected\"><code>{}</code></dd>\
         <dt>got</dt><dd class=\"got\"><code>{}</code></dd></dl><pre class=\"detail\">{}</pre></div>",
        example.rule,
        e.seq,
        example.rule,
        e.seq,
        escape(&e.route),
        escape(&example.expected),
        escape(&example.got),
        escape(&exchange_text(e))
    );
}

/// An exchange as text: request line, headers, body; status, headers, body.
pub fn exchange_text(e: &Fixture) -> String {
    let mut text = String::new();
    let query = if e.request.query.is_empty() {
        String::new()
    } else {
        format!("?{}", e.request.query)
    };
    let _ = writeln!(text, "{} {}{query}", e.request.method, e.request.path);
    for (name, value) in &e.request.headers {
        let _ = writeln!(text, "{name}: {value}");
    }
    if !e.request.body.text.is_empty() {
        let _ = writeln!(text, "\n{}", e.request.body.text);
    }
    match (&e.answer, &e.failure) {
        (Some(answer), _) => {
            let _ = writeln!(text, "\n→ HTTP {} ({:.2} ms)", answer.status, e.elapsed_ms);
            for (name, value) in &answer.headers {
                let _ = writeln!(text, "{name}: {value}");
            }
            if !answer.body.text.is_empty() {
                let _ = writeln!(text, "\n{}", answer.body.text);
            }
        }
        (None, failure) => {
            let _ = writeln!(
                text,
                "\n→ no answer: {}",
                failure.as_deref().unwrap_or("unknown")
            );
        }
    }
    text
}

fn latency(out: &mut String, tally: &PlatformTally) {
    if tally.latency.is_empty() {
        return;
    }
    let slo = Slo::default();
    out.push_str(
        "<h3>Latency per route</h3><table class=\"latency\"><thead><tr><th>route</th><th>count</th>\
         <th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>SLO</th></tr></thead><tbody>",
    );
    for (route, histogram) in tally.latency.iter() {
        let s = LatencySummary::of(histogram);
        let violations = slo.check_route(route, histogram);
        let (class, verdict) = match violations.first() {
            None => ("pass", "✓ met".to_string()),
            Some(v) => ("fail", format!("✗ {v}")),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td class=\"verdict {class}\">{}</td></tr>",
            escape(route),
            s.count,
            s.p50_ms,
            s.p95_ms,
            s.p99_ms,
            s.max_ms,
            escape(&verdict)
        );
    }
    out.push_str("</tbody></table>\n");
}

/// `/__proxy/status.json`: the same, for scripts.
pub fn json(shared: &Shared, snapshot: &Snapshot) -> String {
    let platforms: serde_json::Map<String, Value> = snapshot
        .platforms
        .iter()
        .map(|(platform, tally)| {
            let rules: serde_json::Map<String, Value> = tally
                .rules
                .iter()
                .map(|(rule, r)| {
                    let value = json!({"kept": r.kept, "noted": r.noted, "broken": r.broken, "examples": r.examples});
                    (rule.name().to_string(), value)
                })
                .collect();
            let latency: serde_json::Map<String, Value> = tally
                .latency
                .iter()
                .map(|(route, h)| (route.to_string(), json!(LatencySummary::of(h))))
                .collect();
            let value = json!({
                "exchanges": tally.exchanges,
                "failed": tally.failed,
                "rules": rules,
                "latency": latency,
            });
            (platform.name().to_string(), value)
        })
        .collect();
    let listeners: Vec<Value> = shared
        .listeners
        .iter()
        .map(|l| json!({"platform": l.platform, "url": l.url(), "upstream": l.upstream.url}))
        .collect();
    json!({
        "started_at": shared.started_at,
        "exchanges": snapshot.exchanges(),
        "failed": snapshot.failed(),
        "unjudged": snapshot.unjudged,
        "listeners": listeners,
        "platforms": platforms,
    })
    .to_string()
}
