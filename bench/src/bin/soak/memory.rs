//! Memory and the machine: each mock process's VmRSS read from `/proc/<pid>/status` at a fixed
//! interval while the soak runs, its growth after the warm-up, and the machine line and load
//! average a report quotes.

use crate::{fleet, PLATFORMS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// VmRSS in MiB of process `pid`; `None` once it is gone.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_field_kib(&status, "VmRSS:").map(|kib| kib as f64 / 1024.0)
}

/// RSS samples: seconds since the soak's start, then each process's MiB.
pub type Samples = Vec<(f64, Vec<f64>)>;

/// What the sampling thread needs, moved into it.
struct Sampling {
    pids: Vec<u32>,
    start: Instant,
    interval: Duration,
    /// Seconds between progress lines, and the run's length and warm-up, in seconds.
    progress_every: f64,
    duration: f64,
    warmup: f64,
    /// The Alibaba mock's address, read for its store gauges at the end of the warm-up.
    alibaba: String,
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Samples>>,
    stores: Arc<Mutex<Vec<(String, u64)>>>,
}

impl Sampling {
    fn run(self) {
        let mut next = self.start;
        let mut next_progress = self.progress_every;
        while !self.stop.load(Ordering::Relaxed) {
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                // Pacing, in short steps so that a stop is prompt.
                std::thread::sleep(wait.min(Duration::from_millis(100)));
                continue;
            }
            let t = self.start.elapsed().as_secs_f64();
            let rss: Vec<f64> = self
                .pids
                .iter()
                .map(|&pid| rss_mib(pid).unwrap_or(f64::NAN))
                .collect();
            if t >= next_progress {
                next_progress += self.progress_every;
                println!("  {t:>5.0}/{} s  RSS {}", self.duration, rss_line(&rss));
            }
            if self.push(t, rss) {
                if let Ok(mut stores) = self.stores.lock() {
                    *stores = fleet::alibaba_stores(&self.alibaba);
                }
            }
            next += self.interval;
        }
    }

    /// Keeps one sample; whether it is the first past the warm-up.
    fn push(&self, t: f64, rss: Vec<f64>) -> bool {
        let Ok(mut samples) = self.samples.lock() else {
            return false;
        };
        let first = t >= self.warmup && samples.iter().all(|(at, _)| *at < self.warmup);
        samples.push((t, rss));
        first
    }
}

/// `alibaba 45.5 MiB, aui 33.3 MiB, duix 37.5 MiB`.
fn rss_line(rss: &[f64]) -> String {
    PLATFORMS
        .iter()
        .zip(rss)
        .map(|(p, r)| format!("{p} {r:.1} MiB"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Samples every process's RSS at a fixed interval while the soak runs.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Samples>>,
    /// The Alibaba mock's store gauges at the end of the warm-up.
    stores: Arc<Mutex<Vec<(String, u64)>>>,
    thread: JoinHandle<()>,
}

impl Sampler {
    /// Samples the fleet's processes every `--rss-interval` seconds from `start`, with a
    /// progress line every 10 s (`--quick`) or minute.
    pub fn spawn(
        fleet: &fleet::Fleet,
        start: Instant,
        settings: &crate::Settings,
        alibaba: &str,
    ) -> Self {
        let (stop, samples, stores) = Default::default();
        let sampling = Sampling {
            pids: fleet.pids(),
            start,
            interval: Duration::from_secs_f64(settings.rss_interval),
            progress_every: if settings.quick { 10.0 } else { 60.0 },
            duration: settings.duration,
            warmup: settings.warmup,
            alibaba: alibaba.to_string(),
            stop: Arc::clone(&stop),
            samples: Arc::clone(&samples),
            stores: Arc::clone(&stores),
        };
        let thread = std::thread::spawn(move || sampling.run());
        Sampler {
            stop,
            samples,
            stores,
            thread,
        }
    }

    /// Stops sampling and takes one last sample, the run's end; the samples and the Alibaba
    /// stores at the end of the warm-up.
    pub fn stop(self, fleet: &fleet::Fleet, start: Instant) -> (Samples, Vec<(String, u64)>) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let mut samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        samples.push((start.elapsed().as_secs_f64(), fleet.rss()));
        let stores = self.stores.lock().map(|s| s.clone()).unwrap_or_default();
        (samples, stores)
    }
}

/// One process's memory over the run, after the warm-up.
#[derive(Debug, PartialEq)]
pub struct Growth {
    pub warm_mib: f64,
    pub end_mib: f64,
    pub max_mib: f64,
    /// (end − warm) / warm, in percent.
    pub growth_pct: f64,
    /// (max − warm) / warm, in percent.
    pub max_growth_pct: f64,
}

/// The growth of process `index` in `samples`: from the first sample at or past `warmup`
/// seconds to the last one.
pub fn growth(samples: &Samples, index: usize, warmup: f64) -> Option<Growth> {
    let after: Vec<f64> = samples
        .iter()
        .filter(|(t, _)| *t >= warmup)
        .filter_map(|(_, rss)| rss.get(index).copied())
        .collect();
    let (&warm, &end) = (after.first()?, after.last()?);
    if !(warm > 0.0 && end.is_finite()) {
        return None;
    }
    let max = after.iter().copied().fold(f64::MIN, f64::max);
    Some(Growth {
        warm_mib: warm,
        end_mib: end,
        max_mib: max,
        growth_pct: (end - warm) / warm * 100.0,
        max_growth_pct: (max - warm) / warm * 100.0,
    })
}

/// The first three fields of `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

pub fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| vm_field_kib(&t, "MemTotal:"))
        .map_or(0.0, |kib| kib as f64 / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB")
}

fn vm_field_kib(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str =
        "Name:\tagentproof\nVmPeak:\t  900000 kB\nVmRSS:\t   20480 kB\nThreads:\t4\n";

    #[test]
    fn vm_rss_is_read_from_the_status_file_and_only_from_its_line() {
        assert_eq!(vm_field_kib(STATUS, "VmRSS:"), Some(20480));
        assert_eq!(vm_field_kib("Name:\tx\n", "VmRSS:"), None);
        assert_eq!(vm_field_kib("VmRSS:\tlots kB\n", "VmRSS:"), None);
    }

    #[test]
    fn our_own_rss_is_readable() {
        let mib = rss_mib(std::process::id()).unwrap();
        assert!(mib > 0.5 && mib < 4096.0, "{mib}");
    }

    #[test]
    fn growth_runs_from_the_first_sample_past_the_warmup_to_the_last() {
        let samples: Samples = vec![
            (0.0, vec![5.0]),
            (4.9, vec![9.0]),
            (5.0, vec![10.0]),
            (6.0, vec![12.0]),
            (7.0, vec![10.5]),
        ];
        let g = growth(&samples, 0, 5.0).unwrap();
        assert_eq!((g.warm_mib, g.end_mib, g.max_mib), (10.0, 10.5, 12.0));
        assert!((g.growth_pct - 5.0).abs() < 1e-9 && (g.max_growth_pct - 20.0).abs() < 1e-9);
        assert_eq!(growth(&samples, 0, 8.0), None, "no sample past the warm-up");
        assert_eq!(growth(&samples, 1, 0.0), None, "no such process");
    }
}
