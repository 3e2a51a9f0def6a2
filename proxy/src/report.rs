//! The proxy's verdict as a `reports::Run`, rendered by the reports crate like `check`'s (JSON,
//! JUnit, Markdown, HTML): a suite `proxy` per platform whose latency table is the platform's
//! routes (judged against the SLO by the reports crate), a passed case per rule every exchange
//! kept (with how many), and a failed case per exchange that broke a rule, naming the exchange,
//! what the rule asks and what came, with the exchange (scrubbed) as its detail.

use crate::judge::Rule;
use crate::page::exchange_text;
use crate::server::Listener;
use crate::tally::{Snapshot, KEPT_EXAMPLES};
use reports::{Case, Run, Suite};
use std::collections::BTreeMap;

/// The run of a proxy session.
pub fn run(listeners: &[Listener], snapshot: &Snapshot, started_at: &str, duration_ms: u64) -> Run {
    let mut suites = Vec::new();
    for listener in listeners {
        let platform = listener.platform;
        let mut suite = Suite::new("proxy", platform.name());
        let tally = snapshot
            .platforms
            .get(&platform)
            .cloned()
            .unwrap_or_default();
        if tally.exchanges == 0 {
            suite.cases.push(Case::skipped(
                "exchanges",
                "no exchange came through this listener",
            ));
        }
        for rule in Rule::ALL {
            let Some(rule_tally) = tally.rules.get(&rule) else {
                continue;
            };
            let name = format!("{}: {}", rule.name(), rule.title());
            if rule_tally.broken == 0 {
                if rule_tally.kept + rule_tally.noted > 0 {
                    let mut detail = format!("{} exchanges kept it", rule_tally.kept);
                    if rule_tally.noted > 0 {
                        detail.push_str(&format!(
                            "; {} requests outside their schemas were accepted by the upstream \
                             (noted; --strict-requests fails them)",
                            rule_tally.noted
                        ));
                    }
                    suite.cases.push(Case::passed(name, 0).with_detail(detail));
                }
                continue;
            }
            for example in &rule_tally.examples {
                let e = &example.exchange;
                let case = Case::failed(
                    format!("#{} {}: {}", e.seq, e.route, rule.name()),
                    example.expected.clone(),
                    example.got.clone(),
                    e.elapsed_ms as u64,
                );
                suite.cases.push(case.with_detail(exchange_text(e)));
            }
            let unlisted = rule_tally
                .broken
                .saturating_sub(rule_tally.examples.len() as u64);
            if unlisted > 0 {
                suite.cases.push(Case::failed(
                    format!("{}: {unlisted} more exchanges", rule.name()),
                    rule.title(),
                    format!(
                        "{unlisted} more exchanges broke it (the first {KEPT_EXAMPLES} are listed)"
                    ),
                    0,
                ));
            }
        }
        suite.latency = tally.latency;
        suites.push(suite);
    }
    if snapshot.unjudged > 0 {
        let mut suite = Suite::new("proxy", "all");
        suite.cases.push(Case::failed(
            "every exchange forwarded was judged",
            "every exchange judged",
            format!(
                "{} exchanges were forwarded but not judged: the judge fell behind a streamed answer",
                snapshot.unjudged
            ),
            0,
        ));
        suites.push(suite);
    }
    Run {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_string(),
        duration_ms,
        target: listeners
            .iter()
            .map(|l| (l.platform.name().to_string(), l.upstream.url.clone()))
            .collect::<BTreeMap<_, _>>(),
        seed: None,
        suites,
    }
}
