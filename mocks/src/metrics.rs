//! Prometheus text metrics at `/metrics`: request counts by route and status, and a latency histogram
//! by route. Route keys are bounded ([`MAX_ROUTES`]); past that, requests count under `other`, so an
//! attacker sending random paths cannot grow memory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Most distinct route keys tracked.
pub const MAX_ROUTES: usize = 256;
/// Histogram bucket upper bounds, seconds (the SLO's 2 s and the 20 s timeout are among them).
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 20.0,
];

/// A value that goes up and down (a store's size), rendered as a Prometheus gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// The metric name, `agentproof_...`.
    pub name: &'static str,
    pub help: &'static str,
    pub value: u64,
}

#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

/// Counters of one mock server.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let key = if routes.contains_key(route) || routes.len() < MAX_ROUTES {
            route
        } else {
            "other"
        };
        let stats = match routes.get_mut(key) {
            Some(stats) => stats,
            None => routes.entry(key.to_string()).or_default(),
        };
        let secs = elapsed.as_secs_f64();
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum_secs += secs;
        for (bucket, bound) in stats.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
    }

    /// Forgets everything counted.
    pub fn clear(&self) {
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The Prometheus text exposition (format 0.0.4): the counters, then `gauges`.
    pub fn render(&self, platform: &str, gauges: &[Gauge]) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str("# HELP agentproof_requests_total Requests answered by the mock.\n");
        out.push_str("# TYPE agentproof_requests_total counter\n");
        for (route, stats) in &routes {
            for (status, n) in &stats.by_status {
                let labels = labels(platform, route);
                let _ = writeln!(
                    out,
                    "agentproof_requests_total{{{labels},status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP agentproof_request_duration_seconds Time to answer, including injected latency.\n");
        out.push_str("# TYPE agentproof_request_duration_seconds histogram\n");
        for (route, stats) in &routes {
            let labels = labels(platform, route);
            for (bound, n) in BUCKETS.iter().zip(stats.buckets) {
                let _ = writeln!(
                    out,
                    "agentproof_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "agentproof_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "agentproof_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_secs
            );
            let _ = writeln!(
                out,
                "agentproof_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        for gauge in gauges {
            let _ = writeln!(out, "# HELP {} {}", gauge.name, gauge.help);
            let _ = writeln!(out, "# TYPE {} gauge", gauge.name);
            let _ = writeln!(
                out,
                "{}{{platform=\"{}\"}} {}",
                gauge.name,
                escape(platform),
                gauge.value
            );
        }
        out
    }
}

fn labels(platform: &str, route: &str) -> String {
    format!(
        "platform=\"{}\",route=\"{}\"",
        escape(platform),
        escape(route)
    )
}

/// Escapes a label value as the exposition format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("StartAgent", 200, Duration::from_millis(3));
        metrics.record("StartAgent", 400, Duration::from_millis(300));
        let gauge = Gauge {
            name: "agentproof_things",
            help: "Things held.",
            value: 7,
        };
        let text = metrics.render("alibaba", &[gauge]);
        assert!(text.contains("# TYPE agentproof_things gauge\n"));
        assert!(text.contains(r#"agentproof_things{platform="alibaba"} 7"#));
        assert!(text.contains(
            r#"agentproof_requests_total{platform="alibaba",route="StartAgent",status="200"} 1"#
        ));
        assert!(text.contains(r#"route="StartAgent",le="0.005"} 1"#));
        assert!(text.contains(r#"route="StartAgent",le="0.5"} 2"#));
        assert!(text.contains(
            r#"agentproof_request_duration_seconds_count{platform="alibaba",route="StartAgent"} 2"#
        ));
    }

    #[test]
    fn route_keys_are_bounded() {
        let metrics = Metrics::default();
        for i in 0..(MAX_ROUTES + 50) {
            metrics.record(&format!("/random/{i}"), 404, Duration::ZERO);
        }
        assert_eq!(metrics.routes.lock().unwrap().len(), MAX_ROUTES + 1);
        assert!(metrics.render("duix", &[]).contains("route=\"other\""));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
