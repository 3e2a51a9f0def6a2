//! The per-second series of a load run: requests, errors and latency of each second.
//!
//! Keeping a histogram per second would cost about 140 KB a second, so the series keeps one
//! reusable histogram for the current second only. When an answer finishes in a later second,
//! the current one is summarised into a [`SecondStats`] (a few numbers), seconds nobody
//! answered in are filled with zeros, and the histogram is reset. An answer that arrives late
//! for an earlier second (workers report out of order) is counted in the current second: the
//! series is a picture of the run, the verdict never reads it.

use std::mem::size_of;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::model::{micros_to_ms, new_histogram};

/// One second of the run, over all routes, of the judged distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecondStats {
    /// Seconds since the run started (answers that finished in `[second, second + 1)`).
    pub second: u64,
    /// Answers that finished in this second, errors included.
    pub requests: u64,
    /// Failed or timed-out requests among them.
    pub errors: u64,
    /// Median latency in ms (0 when nothing finished).
    pub p50_ms: f64,
    /// 95th percentile in ms.
    pub p95_ms: f64,
    /// Slowest answer in ms.
    pub max_ms: f64,
}

/// Builds the contiguous series, as the module docs say.
#[derive(Debug)]
pub(crate) struct SeriesBuilder {
    done: Vec<SecondStats>,
    second: u64,
    current: Histogram<u64>,
    requests: u64,
    errors: u64,
    any: bool,
}

impl SeriesBuilder {
    pub(crate) fn new() -> Self {
        Self {
            done: Vec::new(),
            second: 0,
            current: new_histogram(),
            requests: 0,
            errors: 0,
            any: false,
        }
    }

    /// Counts one answer that finished at `at` with `micros` of judged latency.
    pub(crate) fn record(&mut self, at: Duration, micros: u64, error: bool) {
        let second = at.as_secs();
        if second > self.second {
            self.flush();
            for gap in self.second + 1..second {
                self.done.push(SecondStats::empty(gap));
            }
            self.second = second;
        }
        self.any = true;
        self.current.saturating_record(micros);
        self.requests += 1;
        self.errors += u64::from(error);
    }

    /// The series from second 0 to the last second anything finished in; empty when nothing did.
    pub(crate) fn finish(mut self) -> Vec<SecondStats> {
        if self.any {
            self.flush();
        }
        self.done
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        size_of::<Self>()
            + self.done.capacity() * size_of::<SecondStats>()
            + self.current.distinct_values() * size_of::<u64>()
    }

    fn flush(&mut self) {
        let h = &self.current;
        let stats = if h.is_empty() {
            SecondStats::empty(self.second)
        } else {
            SecondStats {
                second: self.second,
                requests: self.requests,
                errors: self.errors,
                p50_ms: micros_to_ms(h.value_at_quantile(0.50)),
                p95_ms: micros_to_ms(h.value_at_quantile(0.95)),
                max_ms: micros_to_ms(h.max()),
            }
        };
        self.done.push(stats);
        self.current.reset();
        self.requests = 0;
        self.errors = 0;
    }
}

impl SecondStats {
    fn empty(second: u64) -> Self {
        Self {
            second,
            requests: 0,
            errors: 0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            max_ms: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_answer_counts_in_the_current_second() {
        let mut b = SeriesBuilder::new();
        b.record(Duration::from_millis(2500), 1000, false);
        b.record(Duration::from_millis(900), 3000, true);
        let series = b.finish();
        assert_eq!(series.len(), 3);
        assert_eq!((series[2].requests, series[2].errors), (2, 1));
        assert_eq!(series[0], SecondStats::empty(0));
    }

    #[test]
    fn nothing_recorded_is_an_empty_series() {
        assert!(SeriesBuilder::new().finish().is_empty());
    }
}
