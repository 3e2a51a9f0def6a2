//! Combining the runs of many workers into one: `agentproof report merge`.
//!
//! Suites with the same platform and name become one suite: cases are concatenated in worker
//! order and histograms added, so every count and quantile is what one machine would have
//! measured. Run-level fields: the first run's `tool_version`; the earliest `started_at`
//! (compared as text, exact for the UTC `Z` stamps agentproof writes); the longest
//! `duration_ms` (workers run side by side); the union of targets; the seed when all agree.

use std::collections::BTreeMap;

use super::{Run, Suite};

/// Why runs could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no runs to merge")]
    NoRuns,
    /// Two workers drove different servers for the same platform.
    #[error("runs disagree on the {platform} target: {first} vs {other}")]
    TargetConflict {
        /// The platform both runs name.
        platform: String,
        /// URL in the earlier run.
        first: String,
        /// URL in the later run.
        other: String,
    },
}

impl Run {
    /// Merges worker runs into one exact run. See the module docs for each field.
    pub fn merge(runs: impl IntoIterator<Item = Run>) -> Result<Run, MergeError> {
        let mut runs = runs.into_iter();
        let mut merged = runs.next().ok_or(MergeError::NoRuns)?;
        let first_suites = std::mem::take(&mut merged.suites);
        merged.suites = merge_suites(Vec::new(), first_suites);
        for run in runs {
            merged.absorb_header(&run)?;
            merged.suites = merge_suites(std::mem::take(&mut merged.suites), run.suites);
        }
        Ok(merged)
    }

    fn absorb_header(&mut self, other: &Run) -> Result<(), MergeError> {
        if other.started_at < self.started_at {
            self.started_at.clone_from(&other.started_at);
        }
        self.duration_ms = self.duration_ms.max(other.duration_ms);
        if self.seed != other.seed {
            self.seed = None;
        }
        for (platform, url) in &other.target {
            match self.target.get(platform) {
                Some(first) if first != url => {
                    return Err(MergeError::TargetConflict {
                        platform: platform.clone(),
                        first: first.clone(),
                        other: url.clone(),
                    })
                }
                Some(_) => {}
                None => {
                    self.target.insert(platform.clone(), url.clone());
                }
            }
        }
        Ok(())
    }
}

/// Folds `incoming` into `acc`, keeping first-seen suite order.
fn merge_suites(mut acc: Vec<Suite>, incoming: Vec<Suite>) -> Vec<Suite> {
    let mut index: BTreeMap<(String, String), usize> = acc
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.platform.clone(), s.name.clone()), i))
        .collect();
    for suite in incoming {
        let key = (suite.platform.clone(), suite.name.clone());
        match index.get(&key) {
            Some(&i) => {
                acc[i].cases.extend(suite.cases);
                acc[i].latency.merge(&suite.latency);
            }
            None => {
                index.insert(key, acc.len());
                acc.push(suite);
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::model::Case;

    use super::*;

    fn worker(started_at: &str, seed: u64, url: &str) -> Run {
        let mut suite = Suite::new("storm", "aui");
        suite.cases.push(Case::passed(format!("worker {seed}"), 1));
        suite
            .latency
            .record("aui GET /x", Duration::from_millis(seed));
        Run {
            tool_version: "0.1.0".into(),
            started_at: started_at.into(),
            duration_ms: seed * 10,
            target: BTreeMap::from([("aui".into(), url.into())]),
            seed: Some(seed),
            suites: vec![suite],
        }
    }

    #[test]
    fn same_suite_from_two_workers_becomes_one() {
        let a = worker("2025-01-01T00:00:02Z", 1, "http://h");
        let b = worker("2025-01-01T00:00:01Z", 2, "http://h");
        let m = Run::merge([a, b]).unwrap();
        assert_eq!(m.suites.len(), 1);
        assert_eq!(m.suites[0].cases.len(), 2);
        assert_eq!(m.suites[0].latency.summary("aui GET /x").unwrap().count, 2);
        assert_eq!(m.started_at, "2025-01-01T00:00:01Z");
        assert_eq!(m.duration_ms, 20);
        assert_eq!(m.seed, None);
    }

    #[test]
    fn suites_of_the_same_name_on_different_platforms_stay_apart() {
        let a = worker("t", 1, "http://h");
        let mut b = worker("t", 1, "http://h");
        b.suites[0].platform = "duix".into();
        let m = Run::merge([a, b]).unwrap();
        assert_eq!(m.suites.len(), 2);
        assert_eq!(m.seed, Some(1));
    }

    #[test]
    fn conflicting_targets_are_an_error() {
        let err = Run::merge([worker("t", 1, "http://a"), worker("t", 1, "http://b")]);
        assert!(
            matches!(err, Err(MergeError::TargetConflict { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn nothing_to_merge_is_an_error() {
        assert_eq!(Run::merge([]), Err(MergeError::NoRuns));
    }
}
