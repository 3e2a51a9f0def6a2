//! Per-`dh-code` statistics of the webhook calls the platform made, served at
//! `GET /__duix/webhook-stats`.
//!
//! Percentiles come from the last [`SAMPLES_KEPT`] successful calls of each dh-code (a bounded
//! window, not the whole run: the harness keeps exact histograms of its own). At most
//! [`MAX_CODES`] dh-codes are tracked; later ones share the key `(other)`.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Samples kept per dh-code.
pub const SAMPLES_KEPT: usize = 1024;
/// dh-codes tracked separately.
pub const MAX_CODES: usize = 1024;
/// The seed's latency target: 95% of answers within 2000 ms.
const TARGET_MS: u64 = 2000;

/// How one webhook call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    TimedOut,
    Failed,
}

#[derive(Default)]
struct CodeStats {
    calls: u64,
    answered: u64,
    timed_out: u64,
    failed: u64,
    over_target: u64,
    samples: VecDeque<u64>,
}

/// The statistics of every dh-code.
#[derive(Default)]
pub struct WebhookStats {
    inner: Mutex<BTreeMap<String, CodeStats>>,
}

impl WebhookStats {
    /// Records one call to the webhook of `dh_code` that took `elapsed` (to its whole answer).
    pub fn record(&self, dh_code: &str, outcome: Outcome, elapsed: Duration) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = if map.contains_key(dh_code) || map.len() < MAX_CODES {
            dh_code
        } else {
            "(other)"
        };
        let stats = map.entry(key.to_string()).or_default();
        stats.calls += 1;
        let ms = elapsed.as_millis().min(u128::from(u64::MAX)) as u64;
        match outcome {
            Outcome::Answered => {
                stats.answered += 1;
                stats.over_target += u64::from(ms > TARGET_MS);
                if stats.samples.len() == SAMPLES_KEPT {
                    stats.samples.pop_front();
                }
                stats.samples.push_back(ms);
            }
            Outcome::TimedOut => stats.timed_out += 1,
            Outcome::Failed => stats.failed += 1,
        }
    }

    /// `{"<dh-code>": {calls, answered, timed_out, failed, over_2000ms, latency_ms: {...}}}`.
    pub fn to_json(&self) -> Value {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Map::new();
        for (code, stats) in map.iter() {
            out.insert(code.clone(), stats.to_json());
        }
        Value::Object(out)
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl CodeStats {
    fn to_json(&self) -> Value {
        json!({
            "calls": self.calls,
            "answered": self.answered,
            "timed_out": self.timed_out,
            "failed": self.failed,
            "over_2000ms": self.over_target,
            "latency_ms": latency_json(&self.samples),
        })
    }
}

/// count, min, p50, p95, max, mean (nearest-rank percentiles) of the kept samples.
fn latency_json(samples: &VecDeque<u64>) -> Value {
    let mut sorted: Vec<u64> = samples.iter().copied().collect();
    sorted.sort_unstable();
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return json!({"count": 0});
    };
    let rank =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    let mean = sorted.iter().sum::<u64>() as f64 / sorted.len() as f64;
    json!({
        "count": sorted.len(), "min": min, "p50": rank(0.50), "p95": rank(0.95),
        "max": max, "mean": mean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_answered_calls() {
        let stats = WebhookStats::default();
        for ms in 1..=100 {
            stats.record("d", Outcome::Answered, Duration::from_millis(ms));
        }
        stats.record("d", Outcome::TimedOut, Duration::from_millis(20_000));
        let json = stats.to_json();
        assert_eq!(json["d"]["calls"], 101);
        assert_eq!(json["d"]["timed_out"], 1);
        assert_eq!(json["d"]["latency_ms"]["p95"], 95);
        assert_eq!(json["d"]["latency_ms"]["p50"], 50);
        assert_eq!(json["d"]["over_2000ms"], 0);
    }
}
