//! The parity report: `parity.json` (the [`Parity`] as is) and `parity.html`, one
//! self-contained page (no script, no fetch) listing each difference once, what differs, how
//! many exchanges show it, and the first such exchange recorded and replayed side by side.

use super::{Difference, Parity};
use crate::page::exchange_text;
use reports::render::escape::html;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where [`write`] put each report.
pub struct Written {
    /// `parity.json`.
    pub json: PathBuf,
    /// `parity.html`.
    pub html: PathBuf,
}

/// Writes `parity.json` and `parity.html` into `dir` (created if missing).
pub fn write(parity: &Parity, dir: &Path) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let written = Written {
        json: dir.join("parity.json"),
        html: dir.join("parity.html"),
    };
    let json = serde_json::to_string_pretty(parity).map_err(std::io::Error::other)?;
    std::fs::write(&written.json, json)?;
    std::fs::write(&written.html, render(parity))?;
    Ok(written)
}

/// The page.
pub fn render(parity: &Parity) -> String {
    let same = parity.differences.is_empty();
    let word = if same { "NO DIFFERENCE" } else { "DIFFERENCES" };
    let mut out = String::with_capacity(32 * 1024);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>agentproof replay: {word}</title><style>{}{SIDE_BY_SIDE}</style></head><body><div class=\"page\">\n\
         <header class=\"top\"><h1>agentproof replay</h1><span class=\"badge {}\" id=\"verdict\">{word}</span></header>",
        reports::render::html::STYLE,
        if same { "pass" } else { "fail" },
    );
    out.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: &str| {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", html(name), html(value));
    };
    fact("started", &parity.started_at);
    fact(
        "duration",
        &format!("{:.1} s", parity.duration_ms as f64 / 1000.0),
    );
    for (platform, url) in &parity.targets {
        fact(&format!("target {platform}"), url);
    }
    fact(
        "exchanges",
        &format!("{} recorded, {} replayed", parity.fixtures, parity.replayed),
    );
    out.push_str("</dl>\n");
    for (seq, why) in &parity.skipped {
        let _ = writeln!(
            out,
            "<p class=\"none\">#{seq} not replayed: {}</p>",
            html(why)
        );
    }
    if same {
        out.push_str("<p class=\"none\" id=\"no-difference\">Every replayed answer matched its recording in status, business code, keys, types and schema verdict.</p>\n");
    }
    for (index, difference) in parity.differences.iter().enumerate() {
        section(&mut out, index, difference);
    }
    out.push_str("<footer>agentproof replay · self-contained report, no network needed</footer>\n</div></body></html>\n");
    out
}

const SIDE_BY_SIDE: &str = ".sides{display:grid;grid-template-columns:1fr 1fr;gap:12px}\
.sides pre{white-space:pre-wrap;word-break:break-all;max-height:420px;overflow:auto}";

fn section(out: &mut String, index: usize, d: &Difference) {
    let seqs: Vec<String> = d.seqs.iter().map(|s| format!("#{s}")).collect();
    let _ = write!(
        out,
        "<section class=\"suite difference\" id=\"difference-{index}\"><h2><span class=\"dot fail\"></span>{}</h2>\
         <p class=\"counts\">{} exchange{} ({})</p><table class=\"latency\"><thead><tr><th>what</th>\
         <th>recorded</th><th>replayed</th></tr></thead><tbody>",
        html(&d.route),
        d.count,
        if d.count == 1 { "" } else { "s" },
        html(&seqs.join(", ")),
    );
    for aspect in &d.aspects {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"expected\"><code>{}</code></td><td class=\"got\"><code>{}</code></td></tr>",
            aspect.what,
            html(&aspect.recorded),
            html(&aspect.replayed)
        );
    }
    let _ = writeln!(
        out,
        "</tbody></table><div class=\"sides\"><div><h3>recorded #{}</h3><pre class=\"detail\">{}</pre></div>\
         <div><h3>replayed</h3><pre class=\"detail\">{}</pre></div></div></section>",
        d.recorded.seq,
        html(&exchange_text(&d.recorded)),
        html(&exchange_text(&d.replayed)),
    );
}
