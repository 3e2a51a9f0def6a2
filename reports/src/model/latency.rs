//! Per-route latency histograms: [`LatencyTable`] and its [`LatencySummary`].
//!
//! Every request is timed into an HdrHistogram keyed by its route template
//! (`<platform> <METHOD> <path template>`, never a concrete URL). Histograms count in
//! microseconds from 1 µs to 60 s with 3 significant digits, so any value is kept within
//! 0.1 % of what was recorded and two tables merge exactly by adding their counts.
//!
//! The JSON form of a table lives in [`super::latency_serde`].

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Smallest value a histogram tells apart: 1 µs.
pub const LOWEST_MICROS: u64 = 1;
/// Largest value a histogram tracks: 60 s. Longer requests are counted as 60 s.
pub const HIGHEST_MICROS: u64 = 60_000_000;
/// Significant decimal digits kept for every value (0.1 % relative precision).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// One latency histogram per route template, in microseconds.
///
/// Every histogram in a table has the same bounds ([`LOWEST_MICROS`], [`HIGHEST_MICROS`],
/// [`SIGNIFICANT_DIGITS`]); that invariant is what makes [`LatencyTable::merge`] exact and
/// infallible.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyTable {
    routes: BTreeMap<String, Histogram<u64>>,
}

/// The numbers a report shows for one route, all derived from its histogram.
///
/// Quantiles are read with `Histogram::value_at_quantile`, which returns the highest value
/// equivalent to the bucket holding the quantile; `max_ms` is likewise the top of the
/// highest non-empty bucket. An empty histogram summarises to all zeros.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// Number of requests recorded.
    pub count: u64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile in milliseconds (the SLO quantile).
    pub p95_ms: f64,
    /// 99th percentile in milliseconds.
    pub p99_ms: f64,
    /// Slowest request in milliseconds.
    pub max_ms: f64,
    /// Mean latency in milliseconds.
    pub mean_ms: f64,
}

/// A fresh, empty histogram with the crate's standard bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_MICROS, HIGHEST_MICROS, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Milliseconds for a microsecond count, as the reports print them.
pub fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl LatencyTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Times one request of `route`. Latencies beyond 60 s are counted as 60 s.
    pub fn record(&mut self, route: &str, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram_mut(route).saturating_record(micros);
    }

    /// The summary of `route`, or `None` when the table has never seen that route.
    pub fn summary(&self, route: &str) -> Option<LatencySummary> {
        self.routes.get(route).map(LatencySummary::of)
    }

    /// Adds every count of `other` into `self`. Exact: the result equals one table that
    /// recorded both sets of samples.
    pub fn merge(&mut self, other: &LatencyTable) {
        for (route, histogram) in &other.routes {
            self.insert_histogram(route, histogram);
        }
    }

    /// Route templates in sorted order.
    pub fn routes(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// The raw histogram of `route` (microseconds), for charts and custom quantiles.
    pub fn histogram(&self, route: &str) -> Option<&Histogram<u64>> {
        self.routes.get(route)
    }

    /// Routes with their histograms, sorted by route.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Histogram<u64>)> {
        self.routes.iter().map(|(route, h)| (route.as_str(), h))
    }

    /// True when no route was ever recorded.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Adds a histogram of any bounds into `route`, clamping values past 60 s.
    pub(crate) fn insert_histogram(&mut self, route: &str, source: &Histogram<u64>) {
        let target = self.histogram_mut(route);
        if target.add(source).is_err() {
            // Only a foreign histogram with a larger range gets here: re-record value by value.
            for v in source.iter_recorded() {
                let value = v.value_iterated_to().min(HIGHEST_MICROS);
                target.saturating_record_n(value, v.count_at_value());
            }
        }
    }

    fn histogram_mut(&mut self, route: &str) -> &mut Histogram<u64> {
        self.routes
            .entry(route.to_owned())
            .or_insert_with(new_histogram)
    }
}

impl LatencySummary {
    /// Summarises one histogram (microseconds) as described on the type.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::EMPTY;
        }
        Self {
            count: h.len(),
            p50_ms: micros_to_ms(h.value_at_quantile(0.50)),
            p95_ms: micros_to_ms(h.value_at_quantile(0.95)),
            p99_ms: micros_to_ms(h.value_at_quantile(0.99)),
            max_ms: micros_to_ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }

    const EMPTY: Self = LatencySummary {
        count: 0,
        p50_ms: 0.0,
        p95_ms: 0.0,
        p99_ms: 0.0,
        max_ms: 0.0,
        mean_ms: 0.0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn summary_reads_quantiles_within_a_tenth_of_a_percent() {
        let mut table = LatencyTable::new();
        for n in 1..=100 {
            table.record("aui GET /x", ms(n));
        }
        let s = table.summary("aui GET /x").unwrap();
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() <= 0.05, "{s:?}");
        assert!((s.p95_ms - 95.0).abs() <= 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() <= 0.1, "{s:?}");
    }

    #[test]
    fn unknown_route_has_no_summary() {
        assert_eq!(LatencyTable::new().summary("nope"), None);
    }

    #[test]
    fn latencies_past_sixty_seconds_are_clamped_not_lost() {
        let mut table = LatencyTable::new();
        table.record("r", Duration::from_secs(3600));
        let s = table.summary("r").unwrap();
        assert_eq!(s.count, 1);
        assert!(s.max_ms >= 60_000.0 && s.max_ms < 60_100.0, "{s:?}");
    }

    #[test]
    fn merge_adds_routes_missing_on_either_side() {
        let mut a = LatencyTable::new();
        a.record("one", ms(5));
        let mut b = LatencyTable::new();
        b.record("two", ms(7));
        b.record("one", ms(9));
        a.merge(&b);
        assert_eq!(a.routes().collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(a.summary("one").unwrap().count, 2);
        assert_eq!(a.summary("two").unwrap().count, 1);
    }

    #[test]
    fn foreign_histogram_with_wider_range_is_clamped_on_insert() {
        let mut wide = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        wide.record(120_000_000).unwrap();
        wide.record(1_000).unwrap();
        let mut table = LatencyTable::new();
        table.insert_histogram("r", &wide);
        let s = table.summary("r").unwrap();
        assert_eq!(s.count, 2);
        assert!(s.max_ms <= 60_100.0, "{s:?}");
    }
}
