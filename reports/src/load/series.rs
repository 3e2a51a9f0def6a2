//! The per-second series of a load run: requests, errors, latency and users of each second.
//!
//! Keeping a histogram per second would cost about 140 KB a second, so the series keeps one
//! reusable histogram for the current second only. When an answer finishes in a later second,
//! the current one is summarised into a [`SecondStats`] (a few numbers), seconds nobody
//! answered in are filled with zeros, and the histogram is reset. An answer that arrives late
//! for an earlier second (workers report out of order) is counted in the current second: the
//! series is a picture of the run, the verdict never reads it.
//!
//! Users: the recorder passes every change of the active-user count (a user started or
//! stopped). A second's `users` is the most users active at any moment of it: the count it
//! began with, raised by every start within it. The most, not the count at its end, because
//! the end of a second is an arbitrary instant: the last second of a run would read 0 (every
//! user stops as it ends) while its requests were sent by all of them, and a user that lived
//! for half a second would show nowhere. A second nothing changed in carries the count on.
//! One compare per change, no allocation: exact and cheap. The series still ends at the last
//! second an answer finished in; user changes after it (users stopping once the run ended)
//! measured nothing and are left out.

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
    /// The most users active at any moment of this second (see the module docs); 0 in a
    /// report from a run that did not count its users, or from before they were counted.
    #[serde(default)]
    pub users: u64,
}

/// Builds the contiguous series, as the module docs say.
#[derive(Debug)]
pub(crate) struct SeriesBuilder {
    done: Vec<SecondStats>,
    second: u64,
    current: Histogram<u64>,
    requests: u64,
    errors: u64,
    /// The last second an answer finished in, `None` before the first.
    last_answered: Option<u64>,
    /// Users active now, and the most active so far in the current second.
    active: u64,
    peak: u64,
}

impl SeriesBuilder {
    pub(crate) fn new() -> Self {
        Self {
            done: Vec::new(),
            second: 0,
            current: new_histogram(),
            requests: 0,
            errors: 0,
            last_answered: None,
            active: 0,
            peak: 0,
        }
    }

    /// Counts one answer that finished at `at` with `micros` of judged latency.
    pub(crate) fn record(&mut self, at: Duration, micros: u64, error: bool) {
        self.advance(at);
        self.last_answered = Some(self.second);
        self.current.saturating_record(micros);
        self.requests += 1;
        self.errors += u64::from(error);
    }

    /// Notes that `active` users run from `at` on.
    pub(crate) fn users(&mut self, at: Duration, active: u64) {
        self.advance(at);
        self.active = active;
        self.peak = self.peak.max(active);
    }

    /// The series from second 0 to the last second anything finished in; empty when nothing did.
    pub(crate) fn finish(mut self) -> Vec<SecondStats> {
        let Some(last) = self.last_answered else {
            return Vec::new();
        };
        self.flush();
        self.done.truncate(
            usize::try_from(last)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        );
        self.done
    }

    /// Moves on to the second of `at`, closing the seconds before it; an earlier `at` (late)
    /// stays in the current second.
    fn advance(&mut self, at: Duration) {
        let second = at.as_secs();
        if second > self.second {
            self.flush();
            for gap in self.second + 1..second {
                self.done.push(SecondStats::empty(gap, self.active));
            }
            self.second = second;
            self.peak = self.active;
        }
    }

    pub(crate) fn approx_bytes(&self) -> usize {
        size_of::<Self>()
            + self.done.capacity() * size_of::<SecondStats>()
            + self.current.distinct_values() * size_of::<u64>()
    }

    fn flush(&mut self) {
        let h = &self.current;
        let stats = if h.is_empty() {
            SecondStats::empty(self.second, self.peak)
        } else {
            SecondStats {
                second: self.second,
                requests: self.requests,
                errors: self.errors,
                p50_ms: micros_to_ms(h.value_at_quantile(0.50)),
                p95_ms: micros_to_ms(h.value_at_quantile(0.95)),
                max_ms: micros_to_ms(h.max()),
                users: self.peak,
            }
        };
        self.done.push(stats);
        self.current.reset();
        self.requests = 0;
        self.errors = 0;
    }
}

impl SecondStats {
    /// A second no answer finished in, with `users` active.
    fn empty(second: u64, users: u64) -> Self {
        Self {
            second,
            requests: 0,
            errors: 0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            max_ms: 0.0,
            users,
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
        assert_eq!(series[0], SecondStats::empty(0, 0));
    }

    #[test]
    fn users_are_the_most_active_in_each_second_and_carry_over_silent_ones() {
        let mut b = SeriesBuilder::new();
        let at = Duration::from_millis;
        b.users(at(0), 1);
        b.users(at(500), 2);
        b.record(at(900), 1000, false);
        b.users(at(1_200), 1); // one stops: second 1 still saw 2 at its start
        b.users(at(3_100), 3);
        b.record(at(3_500), 1000, false);
        b.users(at(3_900), 0);
        b.users(at(5_000), 0); // after the last answer: not in the series
        let users: Vec<u64> = b.finish().iter().map(|s| s.users).collect();
        assert_eq!(users, [2, 2, 1, 3]);
    }

    #[test]
    fn nothing_recorded_is_an_empty_series() {
        assert!(SeriesBuilder::new().finish().is_empty());
    }
}
