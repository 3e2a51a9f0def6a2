//! The end of a check, the same for both rule sets: the verdict line first (`PASS`, `PASS (1
//! skipped: auth)`, `FAIL: 2 of 9 rules broken`), a line per rule, then the reports written
//! (report.json, junit.xml, report.md, report.html, and `--junit`); exit 0 or 1.

use super::verdict::{Outcome, Verdict};
use crate::net::shown_url;
use anyhow::{Context, Result};
use reports::{LatencyTable, Run, Suite};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What a check was and where its reports go.
pub struct Finish<'a> {
    /// The suite's name and platform in the reports: `webhook`/`duix`, `llm`/`alibaba`.
    pub suite: &'static str,
    pub platform: &'static str,
    /// The reports' target key (`webhook`, `llm`) and its URL (shown without its query).
    pub target: (&'static str, &'a str),
    pub started_at: String,
    pub elapsed: Duration,
    pub report_dir: &'a PathBuf,
    pub junit: Option<&'a PathBuf>,
}

/// Writes the reports, prints the verdict first, returns the exit code.
pub fn finish(finish: Finish<'_>, verdicts: &[Verdict], latency: LatencyTable) -> Result<u8> {
    let run = to_run(&finish, verdicts, latency);
    let written = reports::write_all(&run, finish.report_dir).with_context(|| {
        format!(
            "cannot write the reports into --report-dir {}",
            finish.report_dir.display()
        )
    })?;
    if let Some(junit) = finish.junit {
        std::fs::write(junit, reports::render::junit::render(&run))
            .with_context(|| format!("cannot write --junit {}", junit.display()))?;
    }
    let broken = verdicts.iter().filter(|v| v.failed()).count();
    println!("{}", verdict_line(verdicts));
    for verdict in verdicts {
        println!("{}", verdict.line());
    }
    println!(
        "reports in {}: {}, {}, {}, {}{}",
        finish.report_dir.display(),
        written.html.display(),
        written.json.display(),
        written.junit.display(),
        written.markdown.display(),
        finish
            .junit
            .map_or(String::new(), |j| format!(", {}", j.display()))
    );
    Ok(u8::from(broken > 0))
}

/// `PASS`, `PASS (2 skipped: auth, sse)` or `FAIL: 1 of 9 rules broken`.
pub fn verdict_line(verdicts: &[Verdict]) -> String {
    let broken = verdicts.iter().filter(|v| v.failed()).count();
    let skipped: Vec<&str> = verdicts
        .iter()
        .filter(|v| matches!(v.outcome, Outcome::Skip(_)))
        .map(|v| v.rule)
        .collect();
    match (broken, skipped.len()) {
        (0, 0) => "PASS".to_string(),
        (0, n) => format!("PASS ({n} skipped: {})", skipped.join(", ")),
        (n, _) => format!("FAIL: {n} of {} rules broken", verdicts.len()),
    }
}

fn to_run(finish: &Finish<'_>, verdicts: &[Verdict], latency: LatencyTable) -> Run {
    let mut suite = Suite::new(finish.suite, finish.platform);
    suite.cases = verdicts.iter().map(Verdict::case).collect();
    suite.latency = latency;
    let (key, url) = finish.target;
    Run {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: finish.started_at.clone(),
        duration_ms: u64::try_from(finish.elapsed.as_millis()).unwrap_or(u64::MAX),
        target: BTreeMap::from([(key.to_string(), shown_url(url))]),
        seed: None,
        suites: vec![suite],
    }
}
