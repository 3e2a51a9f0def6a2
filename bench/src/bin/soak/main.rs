//! The soak behind `scripts/soak`: the three mocks, each in its own process, under their mixes
//! ([`bench::mixes`]) at a fixed fraction of the capacity measured at the start of the run, for
//! a fixed time. It fails when any request fails (a status or answer not the expected one, a
//! connection error, a timeout, a request the sender could not send in time), when a mock
//! process dies or panics, or when a mock's memory (VmRSS) grows by the threshold or more
//! between the end of the warm-up and the end of the run.
//!
//! Steps: start the mocks (polling `/__admin/health`, never sleeping in its place); measure
//! capacity with all three mixes in a closed loop at once (the mocks share the machine during
//! the soak too); send each mix open-loop at `--load` of its capacity, latency from each
//! request's due time, sampling every process's RSS; print a table and write `results.json`.
//! Traffic goes to 127.0.0.1 only, bounded in count and time.

mod fleet;
mod memory;
mod report;

use anyhow::{bail, Context, Result};
use bench::mixes::{AlibabaMix, AuiMix, DuixMix};
use bench::mocks::Mocks;
use bench::openloop::{self, Pace, Plan, Tally};
use clap::Parser;
use fleet::Fleet;
use memory::Sampler;
use report::Report;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Soaks the Alibaba, AUI and DUIX mocks: capacity measured first, then each mix open-loop at
/// a fraction of it; fails on any error or on RSS growth past the threshold after warm-up.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  \
                  scripts/soak                      10 minutes, release build (the manual's run)\n  \
                  scripts/soak --quick              30 s on the test build (CI)\n  \
                  scripts/soak --duration 3600 --warmup 120 --load 0.6\n\n\
                  Exit status: 0 passed, 1 a threshold not met (an error, a panic, a mock gone, \
                  RSS growth), 2 the soak could not run."
)]
struct Args {
    /// The short run: 30 s (10 s warm-up, 2 + 3 s capacity burst, RSS every second), the Alibaba
    /// mock's stores held at 2000 nonces and 500 tasks and instances so that they fill within
    /// the warm-up.
    #[arg(long)]
    quick: bool,
    /// Seconds of the soak itself, warm-up included [default: 600; --quick 30].
    #[arg(long)]
    duration: Option<f64>,
    /// Seconds at the start of the soak not counted in latency and RSS growth [default: 60;
    /// --quick 10].
    #[arg(long)]
    warmup: Option<f64>,
    /// Seconds of the closed-loop capacity burst counted [default: 10; --quick 3].
    #[arg(long)]
    capacity_seconds: Option<f64>,
    /// Seconds of closed loop before the counted burst: the mocks' bounded stores fill, so the
    /// capacity measured is the steady state's, not an empty mock's [default: 15; --quick 2].
    #[arg(long)]
    capacity_warmup: Option<f64>,
    /// Seconds between RSS samples [default: 5; --quick 1].
    #[arg(long)]
    rss_interval: Option<f64>,
    /// The soak's rate, as a fraction of the measured capacity.
    #[arg(long, default_value_t = 0.8)]
    load: f64,
    /// Keep-alive connections per mock (each one request at a time).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Fails when a mock's RSS grows by this many percent or more after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    max_growth_pct: f64,
    /// Seconds a request may take before it counts as a timeout.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Where `agentproof` is [default: the folder of this program].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Folder for the mocks' logs and configs and results.json (emptied first).
    #[arg(long, default_value = "target/soak")]
    out: PathBuf,
}

/// The longest any phase may be: a soak is bounded in time.
const MAX_SECONDS: f64 = 86_400.0;

/// The run's settings, the defaults of `--quick` or of the full run filled in.
#[derive(Debug)]
struct Settings {
    quick: bool,
    duration: f64,
    warmup: f64,
    capacity_seconds: f64,
    capacity_warmup: f64,
    rss_interval: f64,
    load: f64,
    connections: usize,
    max_growth_pct: f64,
    timeout: Duration,
}

impl Settings {
    fn from(args: &Args) -> Result<Self> {
        let pick = |value: Option<f64>, full: f64, quick: f64| {
            value.unwrap_or(if args.quick { quick } else { full })
        };
        let settings = Settings {
            quick: args.quick,
            duration: pick(args.duration, 600.0, 30.0),
            warmup: pick(args.warmup, 60.0, 10.0),
            capacity_seconds: pick(args.capacity_seconds, 10.0, 3.0),
            capacity_warmup: pick(args.capacity_warmup, 15.0, 2.0),
            rss_interval: pick(args.rss_interval, 5.0, 1.0),
            load: args.load,
            connections: args.connections,
            max_growth_pct: args.max_growth_pct,
            timeout: Duration::try_from_secs_f64(args.timeout)
                .ok()
                .filter(|t| (Duration::from_millis(1)..=Duration::from_secs(600)).contains(t))
                .context("--timeout is seconds in 0.001..=600")?,
        };
        let seconds = [
            settings.duration,
            settings.warmup,
            settings.capacity_seconds,
            settings.capacity_warmup,
            settings.rss_interval,
        ];
        if seconds.iter().any(|s| !(0.0..=MAX_SECONDS).contains(s)) {
            bail!("durations are seconds in 0..={MAX_SECONDS} (a day)");
        }
        if settings.duration <= settings.warmup {
            bail!("--duration must be longer than --warmup");
        }
        if !(settings.load > 0.0 && settings.load <= 1.0) {
            bail!("--load is a fraction of capacity, in (0, 1]");
        }
        if settings.capacity_seconds <= 0.0 || settings.rss_interval <= 0.0 {
            bail!("--capacity-seconds and --rss-interval must be positive");
        }
        if settings.connections == 0 || settings.connections > 256 {
            bail!("--connections must be in 1..=256");
        }
        Ok(settings)
    }
}

/// The mocks, in the order of every table.
const PLATFORMS: [&str; 3] = ["alibaba", "aui", "duix"];

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("soak: {e:#}");
            std::process::exit(2);
        }
    }
}

/// Each connection's mix, per mock: what a phase sends, handed back when it ends.
struct Mixes {
    alibaba: Vec<AlibabaMix>,
    aui: Vec<AuiMix>,
    duix: Vec<DuixMix>,
}

impl Mixes {
    fn new(mocks: &Arc<Mocks>, settings: &Settings) -> Result<Self> {
        let (n, timeout) = (settings.connections, settings.timeout);
        Ok(Mixes {
            alibaba: (0..n)
                .map(|i| AlibabaMix::new(mocks, i, timeout))
                .collect::<Result<_>>()?,
            aui: (0..n)
                .map(|i| AuiMix::new(mocks, i, timeout))
                .collect::<Result<_>>()?,
            duix: (0..n)
                .map(|i| DuixMix::new(mocks, i, timeout))
                .collect::<Result<_>>()?,
        })
    }

    /// Runs the three mixes at once, each on its plan (in [`PLATFORMS`] order); each mock's
    /// tally, and the mixes back for the next phase.
    fn run(self, plans: [Arc<Plan>; 3]) -> Result<(Vec<Tally>, Self)> {
        let [a, b, c] = plans;
        let alibaba = openloop::spawn(a, self.alibaba);
        let aui = openloop::spawn(b, self.aui);
        let duix = openloop::spawn(c, self.duix);
        let (ta, alibaba) = alibaba.join_all()?;
        let (tb, aui) = aui.join_all()?;
        let (tc, duix) = duix.join_all()?;
        Ok((vec![ta, tb, tc], Mixes { alibaba, aui, duix }))
    }
}

/// The soak; whether it passed.
fn run(args: &Args) -> Result<bool> {
    let settings = Settings::from(args)?;
    let agentproof = find_agentproof(args)?;
    let out = args.out.clone();
    empty_out(&out)?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    println!("soak: starting the mocks ({})", agentproof.display());
    let mut fleet = Fleet::start(&agentproof, &out, &settings)?;
    let mocks = Arc::new(Mocks::read(&fleet.info_file, &PLATFORMS)?);
    let alibaba = mocks.addr("alibaba")?;
    let rss_start = fleet.rss();
    let mixes = Mixes::new(&mocks, &settings)?;

    let (capacity_tallies, mixes) = measure_capacity(mixes, &settings)?;
    let capacity: Vec<f64> = capacity_tallies
        .iter()
        .map(|t| t.counted as f64 / settings.capacity_seconds)
        .collect();
    for (platform, (rps, tally)) in PLATFORMS.iter().zip(capacity.iter().zip(&capacity_tallies)) {
        println!("  {platform:<8} {rps:>9.0} req/s{}", errors_note(tally));
    }
    let stores_capacity = fleet::alibaba_stores(&alibaba);
    let stores_line = fleet::stores_text(&stores_capacity);
    println!("  (Alibaba stores after the burst: {stores_line})");

    let rates: Vec<f64> = capacity.iter().map(|c| c * settings.load).collect();
    let window = latency_window(&settings);
    let plans = [0, 1, 2].map(|i| soak_plan(rates[i], window, &settings));
    print_soak_start(&settings, &rates);
    let start = plans[0].start();
    let load_start = memory::load_average();
    let sampler = Sampler::spawn(&fleet, start, &settings, &alibaba);
    let (tallies, _) = mixes.run(plans)?;
    let (samples, stores_warm) = sampler.stop(&fleet, start);
    let wall = start.elapsed().as_secs_f64();

    let mut health = fleet.check();
    if settings.quick {
        health.extend(fleet::check_quick_caps(&stores_warm));
    }
    let report = Report {
        settings: &settings,
        capacity,
        rates,
        capacity_tallies,
        tallies,
        samples,
        rss_start,
        health,
        stores_capacity,
        stores_warm,
        stores: fleet::alibaba_stores(&alibaba),
        window: window.as_secs_f64(),
        load: [load_start, memory::load_average()],
        wall,
    };
    drop(fleet);
    println!("\n{}", report.text());
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report.json())?)?;
    println!("\nresults: {}", path.display());
    let passed = report.passed();
    println!("soak: {}", if passed { "PASSED" } else { "FAILED" });
    Ok(passed)
}

/// `agentproof` in `--bin-dir`, or beside this program (cargo builds both into one folder).
fn find_agentproof(args: &Args) -> Result<PathBuf> {
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program has no folder")?
            .to_path_buf(),
    };
    let agentproof = bin_dir.join("agentproof");
    if !agentproof.is_file() {
        bail!(
            "no agentproof at {} (build it with `cargo build -p harness`, or give --bin-dir)",
            agentproof.display()
        );
    }
    Ok(agentproof)
}

/// Capacity: the three mixes in a closed loop at once (the mocks share the machine during the
/// soak too), the first `--capacity-warmup` seconds filling the Alibaba mock's bounded stores so
/// that what is counted is the steady state's rate, not an empty mock's.
fn measure_capacity(mixes: Mixes, settings: &Settings) -> Result<(Vec<Tally>, Mixes)> {
    println!(
        "soak: capacity: the three mixes in a closed loop at once, {} connections each, {} s \
         counted after {} s that fill the stores",
        settings.connections, settings.capacity_seconds, settings.capacity_warmup
    );
    let warmup = Duration::from_secs_f64(settings.capacity_warmup);
    let duration = warmup + Duration::from_secs_f64(settings.capacity_seconds);
    let plan = || {
        let plan = Plan::new(Pace::Closed { duration }, warmup, Duration::from_millis(50));
        Arc::new(plan.with_windows(Duration::from_secs(1)))
    };
    mixes.run([plan(), plan(), plan()])
}

/// Latency windows of a second, or a sixtieth of the run when that is longer.
fn latency_window(settings: &Settings) -> Duration {
    Duration::from_secs_f64((settings.duration / 60.0).max(1.0).round())
}

/// One mock's open-loop plan: `rate` requests a second for the soak's duration.
fn soak_plan(rate: f64, window: Duration, settings: &Settings) -> Arc<Plan> {
    let total = (rate * settings.duration).round() as u64;
    let warmup = Duration::from_secs_f64(settings.warmup);
    let plan = Plan::new(
        Pace::Fixed { rate, total },
        warmup,
        Duration::from_millis(100),
    );
    Arc::new(plan.with_windows(window))
}

fn print_soak_start(settings: &Settings, rates: &[f64]) {
    let rates: Vec<String> = PLATFORMS
        .iter()
        .zip(rates)
        .map(|(p, r)| format!("{p} {r:.0} req/s"))
        .collect();
    println!(
        "soak: {} s at {:.0}% of capacity ({}), warm-up {} s, RSS every {} s",
        settings.duration,
        settings.load * 100.0,
        rates.join(", "),
        settings.warmup,
        settings.rss_interval
    );
}

/// Empties `out` for this run, refusing a folder that holds something other than a soak's.
fn empty_out(out: &Path) -> Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(out) {
        let ours = out.join("info.json").exists() || out.join("results.json").exists();
        if entries.next().is_some() && !ours {
            bail!(
                "{} is not empty and holds no earlier soak: pick another --out",
                out.display()
            );
        }
        std::fs::remove_dir_all(out).with_context(|| format!("cannot empty {}", out.display()))?;
    }
    Ok(())
}

fn errors_note(tally: &Tally) -> String {
    if tally.errors() == 0 {
        String::new()
    } else {
        format!(" ({} errors: {:?})", tally.errors(), tally.samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_and_full_runs_have_their_own_defaults_and_bad_settings_are_refused() {
        let quick = Settings::from(&Args::parse_from(["soak", "--quick"])).unwrap();
        assert_eq!((quick.duration, quick.warmup), (30.0, 10.0));
        let full = Settings::from(&Args::parse_from(["soak"])).unwrap();
        assert_eq!((full.duration, full.warmup, full.load), (600.0, 60.0, 0.8));
        for bad in [
            &["soak", "--duration", "10", "--warmup", "20"][..],
            &["soak", "--load", "1.5"],
            &["soak", "--connections", "0"],
            &["soak", "--timeout", "inf"],
            &["soak", "--timeout", "0"],
            &["soak", "--duration", "1e9"],
            &["soak", "--quick", "--capacity-warmup=-1"],
            &["soak", "--rss-interval", "NaN"],
        ] {
            assert!(Settings::from(&Args::parse_from(bad)).is_err(), "{bad:?}");
        }
    }
}
