//! What a soak found: the verdict (no error, no process gone or panicking, RSS growth under the
//! threshold), the table and notes printed at the end, and `results.json`.

use crate::fleet::stores_text;
use crate::memory::{growth, machine_line, Growth, Samples};
use crate::{Settings, PLATFORMS};
use bench::mixes;
use bench::openloop::Tally;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Everything a soak measured.
pub struct Report<'a> {
    pub settings: &'a Settings,
    pub capacity: Vec<f64>,
    pub rates: Vec<f64>,
    pub capacity_tallies: Vec<Tally>,
    pub tallies: Vec<Tally>,
    pub samples: Samples,
    pub rss_start: Vec<f64>,
    /// Problems with the processes (exited, panicked, stores not at their caps in time).
    pub health: Vec<String>,
    /// The Alibaba mock's store gauges after the capacity burst, at the end of the warm-up, and
    /// at the end.
    pub stores_capacity: Vec<(String, u64)>,
    pub stores_warm: Vec<(String, u64)>,
    pub stores: Vec<(String, u64)>,
    /// Seconds per latency window.
    pub window: f64,
    /// `/proc/loadavg` at the soak's start and end: how busy the machine was.
    pub load: [String; 2],
    pub wall: f64,
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// The latency quantiles a report quotes, in µs.
fn p50_p99_max(tally: &Tally) -> (u64, u64, u64) {
    let l = &tally.latency;
    (l.value_at_quantile(0.5), l.value_at_quantile(0.99), l.max())
}

impl Report<'_> {
    /// Errors of mock `i`, in the capacity burst and the soak.
    fn errors(&self, i: usize) -> u64 {
        self.tallies[i].errors() + self.capacity_tallies[i].errors()
    }

    fn growth(&self, i: usize) -> Option<Growth> {
        growth(&self.samples, i, self.settings.warmup)
    }

    /// Whether every threshold held: no problem with a process, no error, and each mock's RSS
    /// known and grown by less than the threshold after the warm-up.
    pub fn passed(&self) -> bool {
        self.health.is_empty() && self.threshold_failures().is_empty()
    }

    /// Each mock's broken threshold, said: `alibaba: RSS grew +12.3% after the warm-up (limit
    /// 10%)`. The processes' problems are in `health`.
    fn threshold_failures(&self) -> Vec<String> {
        let limit = self.settings.max_growth_pct;
        let mut failures = Vec::new();
        for (i, platform) in PLATFORMS.iter().enumerate() {
            let errors = self.errors(i);
            if errors > 0 {
                failures.push(format!("{platform}: {errors} errors (limit 0)"));
            }
            match self.growth(i) {
                Some(g) if g.growth_pct < limit => {}
                Some(g) => failures.push(format!(
                    "{platform}: RSS grew {:+.1}% after the warm-up (limit {limit}%)",
                    g.growth_pct
                )),
                None => failures.push(format!(
                    "{platform}: no RSS reading past the warm-up (the process gone?)"
                )),
            }
        }
        failures
    }

    /// The text printed at the end: a Markdown table, then notes.
    pub fn text(&self) -> String {
        let mut lines = vec![self.title(), String::new()];
        lines.extend(self.table());
        lines.push(String::new());
        lines.extend(self.notes());
        lines.join("\n")
    }

    fn title(&self) -> String {
        let s = self.settings;
        format!(
            "Soak: {} s ({} s warm-up) at {:.0}% of the capacity measured in a {} s closed-loop \
             burst (after {} s that fill the stores), {} connections per mock; {}.",
            s.duration,
            s.warmup,
            s.load * 100.0,
            s.capacity_seconds,
            s.capacity_warmup,
            s.connections,
            machine_line()
        )
    }

    fn table(&self) -> Vec<String> {
        let mut lines = vec![
            "| mock | capacity req/s | rate req/s | requests | errors | RSS at warm-up end | \
             RSS at end | RSS max | growth | p50 / p99 / max latency |"
                .to_string(),
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |".to_string(),
        ];
        for (i, platform) in PLATFORMS.iter().enumerate() {
            let memory = match self.growth(i) {
                Some(g) => format!(
                    "{:.1} MiB | {:.1} MiB | {:.1} MiB | {:+.1}%",
                    g.warm_mib, g.end_mib, g.max_mib, g.growth_pct
                ),
                None => "n/a | n/a | n/a | n/a".to_string(),
            };
            let (p50, p99, max) = p50_p99_max(&self.tallies[i]);
            lines.push(format!(
                "| {platform} | {:.0} | {:.0} | {} | {} | {memory} | {} / {} / {} ms |",
                self.capacity[i],
                self.rates[i],
                self.tallies[i].sent(),
                self.errors(i),
                ms(p50),
                ms(p99),
                ms(max)
            ));
        }
        lines
    }

    /// The mixes, each error's kinds, the worst latency windows, the machine's load, the stores,
    /// the processes' problems and the verdict.
    fn notes(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Mixes: alibaba {}; aui {}; duix {}.",
            mix_of("alibaba"),
            mix_of("aui"),
            mix_of("duix")
        )];
        lines.extend(self.error_lines());
        lines.push(format!(
            "Worst {} s window of due times: {}. Load average (1, 5, 15 min) at the start {}, at \
             the end {}.",
            self.window,
            self.worst_windows().join(", "),
            self.load[0],
            self.load[1]
        ));
        if !self.stores.is_empty() {
            lines.push(format!(
                "Alibaba mock's stores at the warm-up's end: {}; at the end: {}.",
                stores_text(&self.stores_warm),
                stores_text(&self.stores)
            ));
            if !self.stores_warm.is_empty() && self.stores_warm != self.stores {
                lines.push(
                    "Note: the stores were still filling at the end of the warm-up, so the growth \
                     includes bounded stores reaching their caps: warm up for longer."
                        .to_string(),
                );
            }
        }
        lines.extend(self.health.iter().cloned());
        lines.extend(self.threshold_failures());
        lines.push(format!(
            "Thresholds: 0 errors, RSS growth after warm-up under {}%: {}.",
            self.settings.max_growth_pct,
            if self.passed() { "met" } else { "NOT met" }
        ));
        lines
    }

    fn error_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (i, platform) in PLATFORMS.iter().enumerate() {
            let phases = [
                ("capacity", &self.capacity_tallies[i]),
                ("soak", &self.tallies[i]),
            ];
            for (phase, t) in phases.into_iter().filter(|(_, t)| t.errors() > 0) {
                lines.push(format!(
                    "{platform} {phase}: {} bad answers, {} connection errors, {} timeouts, {} \
                     unsent; first: {:?}",
                    t.bad_answers, t.io_errors, t.timeouts, t.unsent, t.samples
                ));
            }
        }
        lines
    }

    /// Each mock's latency window with the worst request: `alibaba 46.64 ms at 16-17 s`.
    fn worst_windows(&self) -> Vec<String> {
        PLATFORMS
            .iter()
            .zip(&self.tallies)
            .filter_map(|(platform, tally)| {
                let (n, w) = tally
                    .windows
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, w)| w.max_us)?;
                Some(format!(
                    "{platform} {} ms at {:.0}-{:.0} s",
                    ms(w.max_us),
                    n as f64 * self.window,
                    (n + 1) as f64 * self.window
                ))
            })
            .collect()
    }

    /// `results.json`: the settings, every figure of the table with its series, the verdict.
    pub fn json(&self) -> Value {
        let s = self.settings;
        let mocks: serde_json::Map<String, Value> = PLATFORMS
            .iter()
            .enumerate()
            .map(|(i, platform)| (platform.to_string(), self.mock_json(i)))
            .collect();
        let stores = |gauges: &[(String, u64)]| gauges.iter().cloned().collect::<BTreeMap<_, _>>();
        json!({
            "machine": machine_line(),
            "settings": {
                "quick": s.quick, "duration_s": s.duration, "warmup_s": s.warmup,
                "capacity_seconds": s.capacity_seconds, "capacity_warmup_s": s.capacity_warmup,
                "rss_interval_s": s.rss_interval,
                "load": s.load, "connections_per_mock": s.connections,
                "max_growth_pct": s.max_growth_pct, "timeout_s": s.timeout.as_secs_f64(),
            },
            "wall_s": self.wall,
            "mocks": mocks,
            "alibaba_stores": {
                "after_capacity_burst": stores(&self.stores_capacity),
                "warmup_end": stores(&self.stores_warm),
                "end": stores(&self.stores),
            },
            "load_average": {"start": self.load[0], "end": self.load[1]},
            "problems": self.health,
            "failures": self.threshold_failures(),
            "passed": self.passed(),
        })
    }

    fn mock_json(&self, i: usize) -> Value {
        let (tally, burst) = (&self.tallies[i], &self.capacity_tallies[i]);
        let (p50, p99, max) = p50_p99_max(tally);
        let memory = self.growth(i).map(|g| {
            json!({"warmup_end_mib": g.warm_mib, "end_mib": g.end_mib, "max_mib": g.max_mib,
                   "growth_pct": g.growth_pct, "max_growth_pct": g.max_growth_pct})
        });
        let series: Vec<Value> = self
            .samples
            .iter()
            .map(|(t, rss)| json!([(t * 10.0).round() / 10.0, rss.get(i)]))
            .collect();
        let windows: Vec<Value> = tally
            .windows
            .iter()
            .enumerate()
            .map(|(n, w)| {
                json!([
                    n as f64 * self.window,
                    w.sent,
                    w.failed,
                    w.max_us as f64 / 1000.0
                ])
            })
            .collect();
        json!({
            "mix": mix_of(PLATFORMS[i]),
            "capacity_rps": self.capacity[i],
            "capacity_burst": tally_json(burst),
            "capacity_per_second": burst.windows.iter().map(|w| w.sent).collect::<Vec<_>>(),
            "rate_rps": self.rates[i],
            "soak": tally_json(tally),
            "errors": self.errors(i),
            "latency_us": {"p50": p50, "p99": p99, "max": max},
            "rss_start_mib": self.rss_start.get(i),
            "memory": memory,
            "rss_samples": series,
            "latency_windows": {
                "seconds": self.window,
                "columns": ["start_s", "sent", "failed", "max_ms"],
                "rows": windows,
            },
        })
    }
}
fn tally_json(tally: &Tally) -> Value {
    json!({
        "sent": tally.sent(), "ok": tally.ok, "counted": tally.counted,
        "bad_answers": tally.bad_answers, "io_errors": tally.io_errors,
        "timeouts": tally.timeouts, "unsent": tally.unsent, "first_errors": tally.samples,
    })
}

fn mix_of(platform: &str) -> String {
    match platform {
        "alibaba" => mixes::ALIBABA_CYCLE.join(", "),
        "aui" => format!(
            "{} (through the Alibaba mock upstream but the RTC tokens)",
            mixes::AUI_CYCLE.join(", ")
        ),
        _ => format!(
            "{} × (checkSig, getconcurrentNumber), one WebSocket session (start, question \
             answered through the reference webhook, stop, close)",
            mixes::DUIX_PAIRS_PER_SESSION
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn settings() -> Settings {
        Settings::from(&crate::Args::parse_from(["soak", "--quick"])).unwrap()
    }

    fn tally(ok: u64) -> Tally {
        let mut tally = Tally::new().unwrap();
        tally.ok = ok;
        tally
    }

    /// A quick run's report: every mock answered `ok` requests, RSS 10 MiB at the warm-up's end
    /// (10 s) and `end` MiB at the end.
    fn report(settings: &Settings, end: [f64; 3]) -> Report<'_> {
        Report {
            settings,
            capacity: vec![100.0; 3],
            rates: vec![80.0; 3],
            capacity_tallies: (0..3).map(|_| tally(300)).collect(),
            tallies: (0..3).map(|_| tally(2400)).collect(),
            samples: vec![
                (0.0, vec![5.0; 3]),
                (10.0, vec![10.0; 3]),
                (30.0, end.to_vec()),
            ],
            rss_start: vec![5.0; 3],
            health: Vec::new(),
            stores_capacity: Vec::new(),
            stores_warm: Vec::new(),
            stores: Vec::new(),
            window: 1.0,
            load: ["0.1 0.1 0.1".into(), "0.2 0.2 0.2".into()],
            wall: 30.0,
        }
    }

    #[test]
    fn a_clean_flat_run_passes_and_says_so() {
        let settings = settings();
        let report = report(&settings, [10.5, 9.0, 10.0]);
        assert!(report.passed());
        let text = report.text();
        assert!(
            text.contains("| alibaba | 100 | 80 | 2400 | 0 | 10.0 MiB | 10.5 MiB |"),
            "{text}"
        );
        assert!(text.ends_with(": met."), "{text}");
        let json = report.json();
        assert_eq!(json["passed"], true);
        assert_eq!(json["mocks"]["aui"]["memory"]["end_mib"], 9.0);
    }

    #[test]
    fn each_threshold_fails_the_run_on_its_own() {
        let settings = settings();
        // Growth of exactly the threshold fails: it must stay under 10%.
        let grown = report(&settings, [10.0, 11.0, 10.0]);
        assert!(!grown.passed());
        assert!(grown
            .text()
            .contains("aui: RSS grew +10.0% after the warm-up (limit 10%)"));
        let gone = report(&settings, [10.0, 10.0, f64::NAN]);
        assert!(!gone.passed(), "a mock gone");
        assert!(
            gone.text().contains("duix: no RSS reading"),
            "{}",
            gone.text()
        );
        let mut unsent = report(&settings, [10.0; 3]);
        unsent.tallies[2].unsent = 1;
        assert!(!unsent.passed());
        assert!(unsent.text().contains("duix: 1 errors (limit 0)"));
        let mut bad_burst = report(&settings, [10.0; 3]);
        bad_burst.capacity_tallies[0].bad_answers = 1;
        assert!(!bad_burst.passed());
        assert!(bad_burst.text().contains("alibaba capacity: 1 bad answers"));
        let mut sick = report(&settings, [10.0; 3]);
        sick.health.push("the duix mock exited (signal: 9)".into());
        assert!(!sick.passed());
        assert_eq!(sick.json()["passed"], false);
        assert_eq!(gone.json()["failures"].as_array().map(Vec::len), Some(1));
        assert!(sick.text().contains("NOT met"));
    }
}
