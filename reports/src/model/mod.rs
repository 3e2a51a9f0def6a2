//! The run model every renderer reads: a [`Run`] holds [`Suite`]s, a suite holds [`Case`]s
//! with their [`Outcome`] and a [`LatencyTable`] of per-route histograms.
//!
//! The split: this file holds the plain data; `latency` the histograms and their summaries,
//! `latency_serde` their JSON form, `verdict` the pass/fail tally and exit code, `merge` the
//! exact combination of runs from many workers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod latency;
mod latency_serde;
mod merge;
mod verdict;

pub(crate) use latency::{micros_to_ms, new_histogram};
pub use latency::{
    LatencySummary, LatencyTable, HIGHEST_MICROS, LOWEST_MICROS, SIGNIFICANT_DIGITS,
};
pub(crate) use latency_serde::{decode_histogram, encode_histogram};
pub use merge::MergeError;
pub use verdict::{Verdict, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};

/// One invocation of agentproof (a conformance check, a load test, or their merge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Version of the agentproof binary that produced the run.
    pub tool_version: String,
    /// When the run started, RFC 3339 (e.g. `2025-01-31T09:30:00Z`).
    pub started_at: String,
    /// Wall-clock length of the run in milliseconds.
    pub duration_ms: u64,
    /// Base URL per platform (`alibaba`, `aui`, `duix`) the run drove.
    pub target: BTreeMap<String, String>,
    /// Seed of the generated inputs, to replay a run.
    pub seed: Option<u64>,
    /// The suites, in run order.
    pub suites: Vec<Suite>,
}

/// A named group of cases against one platform, with the latency of its requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// Suite name, e.g. `token-expiry`.
    pub name: String,
    /// Platform the suite drives: `alibaba`, `aui` or `duix`.
    pub platform: String,
    /// The cases, in run order.
    pub cases: Vec<Case>,
    /// Every request the suite sent, per route template.
    #[serde(default)]
    pub latency: LatencyTable,
}

/// One check and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// What the case checks, as a sentence.
    pub name: String,
    /// Pass, fail (expected against got) or skip (with the reason).
    pub outcome: Outcome,
    /// Time the case took, in milliseconds.
    pub duration_ms: u64,
    /// Free text for a person: the response body, a schema error path, a hint.
    pub detail: Option<String>,
}

/// How a case ended. JSON: `{"status": "passed"}`, `{"status": "failed", "expected", "got"}`,
/// `{"status": "skipped", "reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The target behaved as the contract says.
    Passed,
    /// The target broke the contract.
    Failed {
        /// What the contract asks for, e.g. `HTTP 403, code InvalidAccessKeyId.NotFound`.
        expected: String,
        /// What the target answered.
        got: String,
    },
    /// The case could not apply to this target.
    Skipped {
        /// Why, e.g. `target has no /__admin/clock`.
        reason: String,
    },
}

impl Case {
    /// A passed case.
    pub fn passed(name: impl Into<String>, duration_ms: u64) -> Self {
        Self::with_outcome(name, Outcome::Passed, duration_ms)
    }

    /// A failed case naming what was expected and what came back.
    pub fn failed(
        name: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
        duration_ms: u64,
    ) -> Self {
        let outcome = Outcome::Failed {
            expected: expected.into(),
            got: got.into(),
        };
        Self::with_outcome(name, outcome, duration_ms)
    }

    /// A skipped case with its reason.
    pub fn skipped(name: impl Into<String>, reason: impl Into<String>) -> Self {
        let outcome = Outcome::Skipped {
            reason: reason.into(),
        };
        Self::with_outcome(name, outcome, 0)
    }

    /// Adds free-text detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    fn with_outcome(name: impl Into<String>, outcome: Outcome, duration_ms: u64) -> Self {
        Self {
            name: name.into(),
            outcome,
            duration_ms,
            detail: None,
        }
    }
}

impl Suite {
    /// An empty suite for `platform`.
    pub fn new(name: impl Into<String>, platform: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            platform: platform.into(),
            cases: Vec::new(),
            latency: LatencyTable::new(),
        }
    }

    /// `<platform>.<name>`, the JUnit class name of the suite's cases.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.platform, self.name)
    }
}

impl Outcome {
    /// `passed`, `failed` or `skipped`, as in the JSON.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_is_tagged_by_status_in_json() {
        let case = Case::failed("c", "200", "500", 3);
        let value = serde_json::to_value(&case).unwrap();
        assert_eq!(value["outcome"]["status"], "failed");
        assert_eq!(value["outcome"]["expected"], "200");
        assert_eq!(value["outcome"]["got"], "500");
    }

    #[test]
    fn suite_without_latency_deserializes_to_an_empty_table() {
        let json = r#"{"name":"s","platform":"aui","cases":[]}"#;
        let suite: Suite = serde_json::from_str(json).unwrap();
        assert!(suite.latency.is_empty());
    }

    #[test]
    fn qualified_name_is_platform_dot_suite() {
        assert_eq!(Suite::new("login", "aui").qualified_name(), "aui.login");
    }
}
