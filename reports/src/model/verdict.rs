//! The tally of a run and the process exit code it maps to.
//!
//! Exit codes, shared by every agentproof command:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | every case passed or was skipped, and every route met the SLO |
//! | 1 | a case failed or a route broke the SLO |
//! | 2 | the run could not happen: bad usage or configuration (decided by the CLI, never here) |

use serde::{Deserialize, Serialize};

use super::Run;
use crate::slo::Slo;

/// Exit code when everything passed.
pub const EXIT_PASS: i32 = 0;
/// Exit code when a case failed or the SLO broke.
pub const EXIT_FAIL: i32 = 1;
/// Exit code for a usage or configuration error; the CLI returns it, no run model does.
pub const EXIT_USAGE: i32 = 2;

/// Case counts over all suites, and SLO violations over all routes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that were skipped.
    pub skipped: usize,
    /// Route SLO violations (a route breaking both p95 and timeout counts twice).
    pub slo_violations: usize,
}

impl Verdict {
    /// True when no case failed and the SLO held.
    pub fn is_pass(&self) -> bool {
        self.failed == 0 && self.slo_violations == 0
    }

    /// [`EXIT_PASS`] or [`EXIT_FAIL`].
    pub fn exit_code(&self) -> i32 {
        if self.is_pass() {
            EXIT_PASS
        } else {
            EXIT_FAIL
        }
    }

    /// Number of cases.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

impl Run {
    /// Tally against the default SLO (p95 < 2000 ms, max < 20000 ms).
    pub fn verdict(&self) -> Verdict {
        self.verdict_with(&Slo::default())
    }

    /// Tally against `slo`.
    pub fn verdict_with(&self, slo: &Slo) -> Verdict {
        let mut v = Verdict::default();
        for suite in &self.suites {
            for case in &suite.cases {
                match case.outcome {
                    super::Outcome::Passed => v.passed += 1,
                    super::Outcome::Failed { .. } => v.failed += 1,
                    super::Outcome::Skipped { .. } => v.skipped += 1,
                }
            }
            v.slo_violations += slo.evaluate(&suite.latency).len();
        }
        v
    }

    /// 0 when all pass, 1 when a case failed or the default SLO broke. See the module docs.
    pub fn exit_code(&self) -> i32 {
        self.verdict().exit_code()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use crate::model::{Case, Suite};

    use super::*;

    fn run(cases: Vec<Case>) -> Run {
        let mut suite = Suite::new("s", "aui");
        suite.cases = cases;
        Run {
            tool_version: "0".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            duration_ms: 1,
            target: BTreeMap::new(),
            seed: None,
            suites: vec![suite],
        }
    }

    #[test]
    fn all_passed_and_skipped_exits_zero() {
        let r = run(vec![Case::passed("a", 1), Case::skipped("b", "no clock")]);
        let v = r.verdict();
        assert_eq!((v.passed, v.failed, v.skipped), (1, 0, 1));
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn one_failure_exits_one() {
        let r = run(vec![
            Case::passed("a", 1),
            Case::failed("b", "200", "500", 1),
        ]);
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn an_slo_violation_alone_exits_one() {
        let mut r = run(vec![Case::passed("a", 1)]);
        for _ in 0..99 {
            r.suites[0].latency.record("r", Duration::from_millis(5));
        }
        r.suites[0].latency.record("r", Duration::from_secs(20));
        assert_eq!(r.verdict().slo_violations, 1);
        assert_eq!(r.exit_code(), EXIT_FAIL);
    }

    #[test]
    fn empty_run_passes() {
        assert_eq!(run(vec![]).exit_code(), EXIT_PASS);
    }
}
