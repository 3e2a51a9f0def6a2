//! Fixtures shared by the integration tests and the browser test.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use reports::{Case, LatencyTable, Run, Suite};

pub mod load;

/// Text a hostile or broken server might send back: markup, quotes, entities, controls.
pub const NASTY: &str =
    "<script>alert(\"x\")</script> & 'q' ]]> \u{1}\u{8}\u{1b}[31m \u{FFFF} é 中 \r\n";

/// A route that meets the SLO and one whose p95 breaks it.
pub const FAST_ROUTE: &str = "aui POST /api/v2/aiagent/getRtcAuthToken";
pub const SLOW_ROUTE: &str = "duix GET /openapi-v2/session/list";

/// The smallest run: one suite, no cases, no latency.
pub fn empty_run() -> Run {
    Run {
        tool_version: "0.1.0".into(),
        started_at: "2025-01-31T09:30:00Z".into(),
        duration_ms: 0,
        target: BTreeMap::new(),
        seed: None,
        suites: vec![Suite::new("empty", "aui")],
    }
}

/// A realistic run: three suites over three platforms, passes, failures with hostile text,
/// skips, and latency on four routes, one of them breaking the p95 SLO.
pub fn sample_run() -> Run {
    let mut run = empty_run();
    run.duration_ms = 83_412;
    run.seed = Some(424_242);
    run.target = BTreeMap::from([
        ("alibaba".into(), "http://127.0.0.1:18080".into()),
        ("aui".into(), "http://127.0.0.1:18081".into()),
        ("duix".into(), "http://127.0.0.1:18082".into()),
    ]);
    run.suites = vec![alibaba_suite(), aui_suite(), duix_suite()];
    run
}

fn alibaba_suite() -> Suite {
    let mut suite = Suite::new("signature-v3", "alibaba");
    for i in 0..6 {
        suite.cases.push(Case::passed(
            format!("StartAgent with a valid V3 signature #{i}"),
            3 + i,
        ));
    }
    suite.cases.push(
        Case::failed(
            "clock skew past 15 minutes is refused",
            "HTTP 400, code SignatureNonceUsed",
            "HTTP 200, code OK",
            14,
        )
        .with_detail("response body:\n{\"RequestId\":\"5C1F…\",\"Code\":\"OK\"}"),
    );
    suite.latency = lognormal_table("alibaba POST / (StartAgent)", 4.0, 3_000, 11);
    suite
}

fn aui_suite() -> Suite {
    let mut suite = Suite::new("token-storm", "aui");
    for i in 0..40 {
        suite.cases.push(Case::passed(
            format!("token {i} verifies against the app key"),
            1 + i % 5,
        ));
    }
    suite.cases.push(Case::skipped(
        "token expires after 24 h",
        "target has no /__admin/clock",
    ));
    suite
        .cases
        .push(Case::failed(NASTY, NASTY, NASTY, 7).with_detail(NASTY));
    suite.latency = lognormal_table(FAST_ROUTE, 35.0, 20_000, 7);
    suite.latency.merge(&lognormal_table(
        "aui POST /api/v2/aiagent/startAIAgentInstance",
        180.0,
        4_000,
        5,
    ));
    suite
}

fn duix_suite() -> Suite {
    let mut suite = Suite::new("webhook", "duix");
    suite
        .cases
        .push(Case::passed("dh-question gets an answer", 950));
    suite.latency = lognormal_table(SLOW_ROUTE, 1_400.0, 2_000, 3);
    suite
}

/// `n` deterministic samples spread log-normally around `median_ms`.
pub fn lognormal_table(route: &str, median_ms: f64, n: usize, seed: u64) -> LatencyTable {
    let mut table = LatencyTable::new();
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    for _ in 0..n {
        let normal = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
        let ms = median_ms * (0.6 * normal).exp();
        table.record(route, Duration::from_micros((ms * 1000.0) as u64));
    }
    table
}
