//! Load-run fixtures: a [`LoadMeta`], the smallest report for one route, and a realistic
//! scheduled run over three routes with a breach, errors, a timeout and hostile text.

use std::collections::BTreeMap;
use std::time::Duration;

use reports::load::{LoadMeta, LoadRecorder, LoadReport, LoadSlo, SampleOutcome};

use super::{FAST_ROUTE, NASTY, SLOW_ROUTE};

/// A third route of the realistic run, on the Alibaba platform.
pub const ALIBABA_ROUTE: &str = "alibaba POST / (StartAIAgentInstance)";

/// How to reproduce the fixture runs.
pub fn meta() -> LoadMeta {
    LoadMeta {
        scenario: "aui-token-storm".into(),
        scenario_description: "every user logs in, then asks for RTC auth tokens".into(),
        seed: 424_242,
        command_line: "agentproof load aui-token-storm --users 50 --rate 200 --seed 424242".into(),
        users: 50,
        increase_rate: 10.0,
        run_time_secs: 60,
        rate_per_sec: Some(200.0),
        targets: BTreeMap::from([
            ("alibaba".into(), "http://127.0.0.1:18601".into()),
            ("aui".into(), "http://127.0.0.1:18602".into()),
        ]),
        tool_version: "0.1.0".into(),
        goose_version: "0.18.0".into(),
        started_at: "2025-01-31T09:30:00Z".into(),
        worker: None,
        merged_from: Vec::new(),
        partial: None,
    }
}

/// One unscheduled route with one sample per entry of `sent_ms` (µs precision), a second apart
/// every 100 samples, all answered fine.
pub fn one_route_report(sent_micros: &[u64]) -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
    for (i, &us) in sent_micros.iter().enumerate() {
        let at = Duration::from_millis(i as u64 * 10);
        recorder.record(
            FAST_ROUTE,
            at,
            Duration::from_micros(us),
            None,
            SampleOutcome::Ok,
        );
    }
    recorder.finish(meta(), 1_000, None)
}

/// A scheduled run of 60 s over three routes: the AUI route meets the SLO as sent and as due,
/// the DUIX one breaks the p95 (as due much worse than as sent), the Alibaba one has errors
/// with hostile reasons and one timeout. Its 50 users ramp up 10 a second over the first 5 s
/// and down over the last 5 s.
pub fn realistic_report() -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
    let mut random = Lcg(7);
    for second in 0..60u64 {
        for k in 0..10u64 {
            let at = Duration::from_millis(second * 1000 + k * 100);
            match second {
                0..5 => recorder.user_started(at),
                55.. => recorder.user_stopped(at),
                _ => {}
            }
        }
        for i in 0..40u64 {
            let at = Duration::from_millis(second * 1000 + i * 25);
            let fast = random.lognormal(35.0);
            recorder.record(
                FAST_ROUTE,
                at,
                ms(fast),
                Some(ms(fast + 2.0)),
                SampleOutcome::Ok,
            );
            if i % 4 == 0 {
                let slow = random.lognormal(1_400.0);
                let queued = if (20..30).contains(&second) {
                    1_500.0
                } else {
                    50.0
                };
                recorder.record(
                    SLOW_ROUTE,
                    at,
                    ms(slow),
                    Some(ms(slow + queued)),
                    SampleOutcome::Ok,
                );
            }
            if i % 8 == 0 {
                let t = random.lognormal(180.0);
                let outcome = match (second, i) {
                    (41, 0) => SampleOutcome::TimedOut,
                    (_, 0) if second % 10 == 3 => SampleOutcome::Failed(NASTY),
                    (_, 8) if second % 15 == 0 => {
                        SampleOutcome::Failed("HTTP 503 Service Unavailable")
                    }
                    _ => SampleOutcome::Ok,
                };
                recorder.record(ALIBABA_ROUTE, at, ms(t), Some(ms(t + 1.0)), outcome);
            }
        }
    }
    recorder.finish(meta(), 60_250, None)
}

fn ms(v: f64) -> Duration {
    Duration::from_micros((v * 1000.0) as u64)
}

/// A small deterministic generator, so fixtures never change between runs.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Log-normal around `median` (sigma 0.6).
    pub fn lognormal(&mut self, median: f64) -> f64 {
        let normal =
            (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos();
        median * (0.6 * normal).exp()
    }
}
