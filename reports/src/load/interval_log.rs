//! A load report's latencies as a standard HdrHistogram V2 interval log (`latency.hlog`), for
//! HdrHistogram tools in any language (`HistogramLogProcessor`, Python's `hdrh`, Rust's
//! `IntervalLogIterator`).
//!
//! [`write_interval_log`] writes the headers `StartTime` and `BaseTime` (both the run's start,
//! so interval timestamps are seconds since it) and `MaxValueDivisor: 1000`, a comment line
//! saying what is in the log, then one interval per route and distribution spanning the whole
//! run (start 0, length `duration_ms`): tag `sent:<route>` for the latency as sent and, with a
//! schedule, `due:<route>` for the latency as due ([`interval_log_tag`]). Values are
//! microseconds, as in the report's histograms; only the max column of each line reads in
//! milliseconds. The histograms are the report's own, so every count matches it exactly.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use reports::load::{interval_log_tag, Distribution};
//!
//! assert_eq!(
//!     interval_log_tag("aui POST /api/v2/x,y", Distribution::AsDue),
//!     "due:aui_POST_/api/v2/x_y"
//! );
//! ```

use std::io;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;

use super::report::{Distribution, LoadReport};

/// The interval-log tag of one route's distribution: `sent:` or `due:` and the route with every
/// space, other whitespace and comma replaced by `_` (tags may contain none of them).
pub fn interval_log_tag(route: &str, which: Distribution) -> String {
    let prefix = match which {
        Distribution::AsSent => "sent:",
        Distribution::AsDue => "due:",
    };
    let route: String = route
        .chars()
        .map(|c| {
            if c == ',' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    format!("{prefix}{route}")
}

/// Writes `report` to `out` as the interval log the module docs describe. `start`: when the
/// run started (for a worker, the `--start-at` instant); it becomes `StartTime` and `BaseTime`.
/// Fails only when `out` does (a serialization failure is reported as an I/O error too).
pub fn write_interval_log(
    report: &LoadReport,
    start: SystemTime,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let comment = format!(
        "agentproof load {}: HdrHistogram V2 interval log. Values are microseconds; the max column is milliseconds (MaxValueDivisor 1000). One interval per route over the whole run ({} ms), tagged sent:<route> (latency from when each request was sent) and, with a --rate schedule, due:<route> (from when it was due); spaces and commas in routes are written as _. The report judged {}.",
        report.meta.scenario,
        report.duration_ms,
        report.judged.words()
    )
    .replace(['\r', '\n'], " ");
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment(&comment)
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(out, &mut serializer)?;
    let length = Duration::from_millis(report.duration_ms);
    for route in &report.routes {
        let mut distributions = vec![(Distribution::AsSent, &route.sent)];
        if let Some(due) = &route.due {
            distributions.push((Distribution::AsDue, due));
        }
        for (which, latency) in distributions {
            let tag = interval_log_tag(&route.route, which);
            log.write_histogram(&latency.histogram, Duration::ZERO, length, Tag::new(&tag))
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_have_no_forbidden_characters() {
        let tag = interval_log_tag("aui POST /x,y\r\n\tz", Distribution::AsSent);
        assert_eq!(tag, "sent:aui_POST_/x_y___z");
        assert!(Tag::new(&tag).is_some());
    }
}
