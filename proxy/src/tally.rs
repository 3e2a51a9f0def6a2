//! What the proxy has seen so far, in bounded memory whatever the traffic: per platform the
//! exchanges, per rule how many kept and broke it with the first [`KEPT_EXAMPLES`] offending
//! exchanges (scrubbed fixtures) and a latency histogram per route. The live page,
//! `/__proxy/status.json` and the final reports read it.

use crate::exchange::{Exchange, Fixture};
use crate::judge::{Finding, Rule, Verdict};
use crate::platform::Platform;
use reports::LatencyTable;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Offending exchanges kept per platform and rule (the reports list each of them).
pub const KEPT_EXAMPLES: usize = 100;
/// The longest body a kept example shows; the rest is cut.
const EXAMPLE_BODY_CHARS: usize = 2000;

/// One exchange that broke a rule, as the reports and the live page show it.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// The rule it broke.
    pub rule: &'static str,
    /// What the rule asks.
    pub expected: String,
    /// What the exchange did.
    pub got: String,
    /// The exchange, scrubbed, bodies cut to a readable length.
    pub exchange: Fixture,
}

/// How one rule fared on one platform.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleTally {
    /// Exchanges that kept it.
    pub kept: u64,
    /// Exchanges that broke it.
    pub broken: u64,
    /// Exchanges noted under it (see [`Finding::Note`]).
    pub noted: u64,
    /// The first offending exchanges.
    pub examples: Vec<Example>,
}

/// One platform's traffic.
#[derive(Clone, Debug, Default)]
pub struct PlatformTally {
    /// Exchanges judged.
    pub exchanges: u64,
    /// Exchanges that broke at least one rule.
    pub failed: u64,
    /// Per rule.
    pub rules: BTreeMap<Rule, RuleTally>,
    /// Per route, from the request's arrival to the answer's last byte.
    pub latency: LatencyTable,
}

/// The whole tally, behind one short lock.
#[derive(Debug, Default)]
pub struct Tally {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    platforms: BTreeMap<Platform, PlatformTally>,
    /// Exchanges forwarded but not judged: the judge was behind.
    unjudged: u64,
}

/// A copy of the tally at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Per platform.
    pub platforms: BTreeMap<Platform, PlatformTally>,
    /// Exchanges forwarded but not judged.
    pub unjudged: u64,
}

impl Tally {
    /// Adds one judged exchange; `secrets` are masked in the examples kept.
    pub fn record(&self, exchange: &Exchange, verdict: &Verdict, secrets: &[String]) {
        let mut fixture = None;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let platform = inner.platforms.entry(exchange.platform).or_default();
        platform.exchanges += 1;
        platform.latency.record(&verdict.route, exchange.elapsed);
        if !verdict.passed() {
            platform.failed += 1;
        }
        for (rule, finding) in &verdict.findings {
            let tally = platform.rules.entry(*rule).or_default();
            match finding {
                Finding::Pass => tally.kept += 1,
                Finding::Skip => {}
                Finding::Note(_) => tally.noted += 1,
                Finding::Fail { expected, got } => {
                    tally.broken += 1;
                    let fixture = fixture.get_or_insert_with(|| shown(exchange, verdict, secrets));
                    let example = Example {
                        rule: rule.name(),
                        expected: crate::exchange::mask(expected, secrets),
                        got: crate::exchange::mask(got, secrets),
                        exchange: fixture.clone(),
                    };
                    if tally.examples.len() < KEPT_EXAMPLES {
                        // Two judges finish out of order; the reports list by arrival.
                        let at = tally
                            .examples
                            .partition_point(|e| e.exchange.seq < example.exchange.seq);
                        tally.examples.insert(at, example);
                    }
                }
            }
        }
    }

    /// Counts an exchange the judge could not take.
    pub fn unjudged(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unjudged += 1;
    }

    /// A copy of everything now.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            platforms: inner.platforms.clone(),
            unjudged: inner.unjudged,
        }
    }
}

impl Snapshot {
    /// Exchanges judged, over every platform.
    pub fn exchanges(&self) -> u64 {
        self.platforms.values().map(|p| p.exchanges).sum()
    }

    /// Exchanges that broke a rule, over every platform.
    pub fn failed(&self) -> u64 {
        self.platforms.values().map(|p| p.failed).sum()
    }
}

/// The scrubbed exchange with its bodies cut to a readable length.
fn shown(exchange: &Exchange, verdict: &Verdict, secrets: &[String]) -> Fixture {
    let mut fixture = exchange.fixture(&verdict.route, verdict.for_fixture(), secrets);
    let cut = |text: &mut String| {
        if let Some((at, _)) = text.char_indices().nth(EXAMPLE_BODY_CHARS) {
            text.truncate(at);
            text.push('…');
        }
    };
    cut(&mut fixture.request.body.text);
    if let Some(answer) = &mut fixture.answer {
        cut(&mut answer.body.text);
    }
    fixture
}
