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

use anyhow::{bail, Context, Result};
use bench::mixes::{self, AlibabaMix, AuiMix, DuixMix};
use bench::mocks::Mocks;
use bench::openloop::{self, Pace, Plan, Tally};
use bench::wire::Conn;
use clap::Parser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Soaks the Alibaba, AUI and DUIX mocks: capacity measured first, then each mix open-loop at
/// a fraction of it; fails on any error or on RSS growth past the threshold after warm-up.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Exit status: 0 passed, 1 a threshold not met (an error, a panic, a mock gone, \
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
            timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        };
        if !(settings.duration > settings.warmup && settings.warmup >= 0.0) {
            bail!("--duration must be longer than --warmup");
        }
        if !(settings.load > 0.0 && settings.load <= 1.0) {
            bail!("--load is a fraction of capacity, in (0, 1]");
        }
        if settings.capacity_seconds <= 0.0 || settings.rss_interval <= 0.0 {
            bail!("--capacity-seconds and --rss-interval must be positive");
        }
        if settings.capacity_warmup < 0.0 {
            bail!("--capacity-warmup cannot be negative");
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

/// The soak; whether it passed.
fn run(args: &Args) -> Result<bool> {
    let settings = Settings::from(args)?;
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program has no folder")?
            .to_path_buf(),
    };
    let agentproof = bin_dir.join("agentproof");
    if !agentproof.is_file() {
        bail!("no agentproof at {} (--bin-dir)", agentproof.display());
    }
    let out = args.out.clone();
    empty_out(&out)?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    println!("soak: starting the mocks ({})", agentproof.display());
    let mut fleet = Fleet::start(&agentproof, &out, &settings)?;
    let mocks = Arc::new(Mocks::read(&fleet.info_file, &PLATFORMS)?);
    let rss_start = fleet.rss();

    let n = settings.connections;
    let mut alibaba = build(n, |i| AlibabaMix::new(&mocks, i, settings.timeout))?;
    let mut aui = build(n, |i| AuiMix::new(&mocks, i, settings.timeout))?;
    let mut duix = build(n, |i| DuixMix::new(&mocks, i, settings.timeout))?;

    println!(
        "soak: capacity: the three mixes in a closed loop at once, {n} connections each, \
         {} s counted after {} s that fill the stores",
        settings.capacity_seconds, settings.capacity_warmup
    );
    let burst = Duration::from_secs_f64(settings.capacity_seconds + settings.capacity_warmup);
    let closed = || {
        let plan = Plan::new(
            Pace::Closed { duration: burst },
            Duration::from_secs_f64(settings.capacity_warmup),
            Duration::from_millis(50),
        );
        Arc::new(plan.with_windows(Duration::from_secs(1)))
    };
    let runs = (
        openloop::spawn(closed(), alibaba),
        openloop::spawn(closed(), aui),
        openloop::spawn(closed(), duix),
    );
    let capacity_tallies;
    (capacity_tallies, alibaba, aui, duix) = join3(runs)?;
    let capacity: Vec<f64> = capacity_tallies
        .iter()
        .map(|t| t.counted as f64 / settings.capacity_seconds)
        .collect();
    for (platform, (rps, tally)) in PLATFORMS.iter().zip(capacity.iter().zip(&capacity_tallies)) {
        println!("  {platform:<8} {rps:>9.0} req/s{}", errors_note(tally));
    }
    let stores_capacity = alibaba_stores(&mocks.addr("alibaba")?);
    println!(
        "  (Alibaba stores after the burst: {})",
        stores_text(&stores_capacity)
    );

    let rates: Vec<f64> = capacity.iter().map(|c| c * settings.load).collect();
    println!(
        "soak: {} s at {:.0}% of capacity ({}), warm-up {} s, RSS every {} s",
        settings.duration,
        settings.load * 100.0,
        PLATFORMS
            .iter()
            .zip(&rates)
            .map(|(p, r)| format!("{p} {r:.0} req/s"))
            .collect::<Vec<_>>()
            .join(", "),
        settings.warmup,
        settings.rss_interval
    );
    let warmup = Duration::from_secs_f64(settings.warmup);
    let window = Duration::from_secs_f64((settings.duration / 60.0).max(1.0).round());
    let fixed = |rate: f64| {
        let total = (rate * settings.duration).round() as u64;
        let plan = Plan::new(
            Pace::Fixed { rate, total },
            warmup,
            Duration::from_millis(100),
        );
        Arc::new(plan.with_windows(window))
    };
    let plans = [fixed(rates[0]), fixed(rates[1]), fixed(rates[2])];
    let start = plans[0].start();
    let load_start = load_average();
    let sampler = Sampler::spawn(&fleet, start, &settings, &mocks.addr("alibaba")?);
    let runs = (
        openloop::spawn(Arc::clone(&plans[0]), alibaba),
        openloop::spawn(Arc::clone(&plans[1]), aui),
        openloop::spawn(Arc::clone(&plans[2]), duix),
    );
    let (tallies, ..) = join3(runs)?;
    let (samples, stores_warm) = sampler.stop(&fleet, start);
    let wall = start.elapsed().as_secs_f64();
    let load_end = load_average();

    let mut health = fleet.check();
    if settings.quick {
        health.extend(check_quick_caps(&stores_warm));
    }
    let stores = alibaba_stores(&mocks.addr("alibaba")?);
    drop(fleet);
    let report = Report {
        settings: &settings,
        capacity,
        rates,
        capacity_tallies,
        tallies,
        samples,
        rss_start,
        health,
        stores,
        stores_warm,
        stores_capacity,
        window: window.as_secs_f64(),
        load: [load_start, load_end],
        wall,
    };
    let (text, results, passed) = report.build();
    println!("\n{text}");
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&results)?)?;
    println!("\nresults: {}", path.display());
    println!("soak: {}", if passed { "PASSED" } else { "FAILED" });
    Ok(passed)
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

/// `n` connections' mixes, set up one after another.
fn build<E>(n: usize, make: impl Fn(usize) -> Result<E>) -> Result<Vec<E>> {
    (0..n).map(make).collect()
}

type Joined = (Vec<Tally>, Vec<AlibabaMix>, Vec<AuiMix>, Vec<DuixMix>);

fn join3(
    (a, b, c): (
        openloop::Running<AlibabaMix>,
        openloop::Running<AuiMix>,
        openloop::Running<DuixMix>,
    ),
) -> Result<Joined> {
    let (ta, ea) = a.join_all()?;
    let (tb, eb) = b.join_all()?;
    let (tc, ec) = c.join_all()?;
    Ok((vec![ta, tb, tc], ea, eb, ec))
}

// ---- the mock processes ---------------------------------------------------------------------

/// One `agentproof mock --only <platform>` process.
struct MockProcess {
    platform: &'static str,
    child: Child,
    log: PathBuf,
}

/// The three mock processes; killed when dropped, whatever happened.
struct Fleet {
    processes: Vec<MockProcess>,
    /// Every mock's info merged.
    info_file: PathBuf,
}

/// How long a mock may take to listen and answer its health check.
const READY_WITHIN: Duration = Duration::from_secs(60);

impl Fleet {
    fn start(agentproof: &Path, out: &Path, settings: &Settings) -> Result<Self> {
        let mut fleet = Fleet {
            processes: Vec::new(),
            info_file: out.join("info.json"),
        };
        let mut info = serde_json::Map::new();
        let alibaba = fleet.spawn(agentproof, out, "alibaba", &alibaba_config(settings))?;
        info.extend(alibaba.clone());
        let upstream = &alibaba["alibaba"];
        let aui = format!(
            "[aui.upstream]\nendpoint = {}\naccess_key_id = {}\naccess_key_secret = {}\n",
            toml_string(&upstream["url"]),
            toml_string(&upstream["access_key_id"]),
            toml_string(&upstream["access_key_secret"]),
        );
        info.extend(fleet.spawn(agentproof, out, "aui", &aui)?);
        // Sessions at once: at most one per connection, and a few closing.
        let key = &bench::mocks::now_ms().to_string();
        let duix = format!(
            "[[duix.apps]]\napp_id = \"soak-app\"\napp_key = \"soak-key-{key}\"\nquota = {}\n",
            (settings.connections * 4).max(8)
        );
        info.extend(fleet.spawn(agentproof, out, "duix", &duix)?);
        std::fs::write(&fleet.info_file, serde_json::to_vec_pretty(&info)?)?;
        Ok(fleet)
    }

    /// Starts one mock on free ports and waits for it: its info file, then its health check.
    fn spawn(
        &mut self,
        agentproof: &Path,
        out: &Path,
        platform: &'static str,
        config: &str,
    ) -> Result<serde_json::Map<String, Value>> {
        let config_file = out.join(format!("{platform}.toml"));
        std::fs::write(&config_file, config)?;
        let info_file = out.join(format!("{platform}.json"));
        let log = out.join(format!("{platform}.log"));
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(agentproof)
            .args(["mock", "--only", platform, "--config"])
            .arg(&config_file)
            .args(["--info-file"])
            .arg(&info_file)
            .args(["--alibaba-port", "0", "--aui-port", "0", "--duix-port", "0"])
            .args(["--webhook-port", "0"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", agentproof.display()))?;
        self.processes.push(MockProcess {
            platform,
            child,
            log: log.clone(),
        });
        let deadline = Instant::now() + READY_WITHIN;
        let info = loop {
            if let Ok(text) = std::fs::read(&info_file) {
                if let Ok(Value::Object(map)) = serde_json::from_slice(&text) {
                    break map;
                }
            }
            self.still_running(platform, &log)?;
            if Instant::now() > deadline {
                bail!(
                    "the {platform} mock wrote no {} within {READY_WITHIN:?}",
                    info_file.display()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let url = info[platform]["url"]
            .as_str()
            .with_context(|| format!("no {platform}.url in {}", info_file.display()))?;
        wait_healthy(
            &protocol::request::alibaba::host_of(url),
            platform,
            deadline,
        )?;
        Ok(info)
    }

    fn still_running(&mut self, platform: &str, log: &Path) -> Result<()> {
        let process = self
            .processes
            .iter_mut()
            .find(|p| p.platform == platform)
            .context("no such process")?;
        if let Some(status) = process.child.try_wait()? {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            bail!("the {platform} mock exited ({status}):\n{text}");
        }
        Ok(())
    }

    /// Each process's VmRSS, in MiB (NaN once it is gone).
    fn rss(&self) -> Vec<f64> {
        self.processes
            .iter()
            .map(|p| rss_mib(p.child.id()).unwrap_or(f64::NAN))
            .collect()
    }

    /// What went wrong with the processes: one exited, or a log tells of a panic.
    fn check(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        for process in &mut self.processes {
            if let Ok(Some(status)) = process.child.try_wait() {
                problems.push(format!("the {} mock exited ({status})", process.platform));
            }
            let log = std::fs::read_to_string(&process.log).unwrap_or_default();
            let panics = log.matches("panicked").count();
            if panics > 0 {
                problems.push(format!(
                    "the {} mock's log tells of {panics} panic(s): {}",
                    process.platform,
                    process.log.display()
                ));
            }
        }
        problems
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
    }
}

/// The Alibaba mock's config: the defaults for the full run. The short run holds its stores
/// smaller, so that they fill within its 10-second warm-up: growth after it is then a leak, not
/// a bounded store on its way to its cap.
fn alibaba_config(settings: &Settings) -> String {
    let mut config = String::new();
    for (key, _, cap) in QUICK_CAPS.iter().filter(|_| settings.quick) {
        config.push_str(&format!("{key} = {cap}\n"));
    }
    if config.is_empty() {
        config
    } else {
        format!("[alibaba]\n{config}")
    }
}

/// The short run's Alibaba store caps: config key, the gauge that shows it, the cap.
const QUICK_CAPS: [(&str, &str, u64); 3] = [
    ("nonce_capacity", "agentproof_alibaba_nonces", 2000),
    ("max_agent_tasks", "agentproof_alibaba_agent_tasks", 500),
    (
        "max_ai_agent_instances",
        "agentproof_alibaba_ai_agent_instances",
        500,
    ),
];

/// In the short run, the stores must be at the caps it configured at the end of the warm-up:
/// else the growth it reports includes their filling (or the mock ignored a key it does not
/// know, which an `[alibaba]` section does silently).
fn check_quick_caps(warm: &[(String, u64)]) -> Vec<String> {
    QUICK_CAPS
        .iter()
        .filter_map(|(key, gauge, cap)| {
            let held = warm.iter().find(|(name, _)| name == gauge).map(|(_, v)| *v);
            (held != Some(*cap)).then(|| {
                format!(
                    "the Alibaba mock's {gauge} was {held:?} at the end of the warm-up, not the \
                     {cap} of [alibaba] {key}: its growth figure includes a store still filling"
                )
            })
        })
        .collect()
}

fn toml_string(value: &Value) -> String {
    // A JSON string is a valid TOML basic string for the ASCII the mocks print.
    Value::String(value.as_str().unwrap_or_default().to_string()).to_string()
}

/// Polls `GET /__admin/health` until it answers 200.
fn wait_healthy(addr: &str, platform: &str, deadline: Instant) -> Result<()> {
    let request = format!("GET /__admin/health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    loop {
        let mut conn = Conn::new(addr, Duration::from_secs(2));
        match conn.send(request.as_bytes()) {
            Ok(answer) if answer.status == 200 => return Ok(()),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(answer) => bail!(
                "the {platform} mock's health check answered {}",
                answer.status
            ),
            Err(e) => bail!("the {platform} mock's health check failed: {e}"),
        }
    }
}

/// The Alibaba mock's `agentproof_alibaba_*` gauges (its stores' sizes), from `/metrics`.
fn alibaba_stores(addr: &str) -> Vec<(String, u64)> {
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let Ok(answer) = Conn::new(addr, Duration::from_secs(5)).send(request.as_bytes()) else {
        return Vec::new();
    };
    gauges(&answer.text(), "agentproof_alibaba_")
}

/// `nonces 100000, agent_tasks 10000, …`.
fn stores_text(gauges: &[(String, u64)]) -> String {
    gauges
        .iter()
        .map(|(name, value)| format!("{} {value}", name.trim_start_matches("agentproof_alibaba_")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name value` of the Prometheus samples whose name starts with `prefix`.
fn gauges(text: &str, prefix: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| {
            let name = line.split(['{', ' ']).next()?;
            let value = line.rsplit(' ').next()?.parse().ok()?;
            Some((name.to_string(), value))
        })
        .collect()
}

// ---- memory -----------------------------------------------------------------------------------

/// VmRSS in KiB from the text of `/proc/<pid>/status`.
fn vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_rss_kib(&status).map(|kib| kib as f64 / 1024.0)
}

/// RSS samples: seconds since the soak's start, then each process's MiB.
type Samples = Vec<(f64, Vec<f64>)>;

/// Samples every process's RSS at a fixed interval while the soak runs.
struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Samples>>,
    /// The Alibaba mock's store gauges at the end of the warm-up.
    stores: Arc<Mutex<Vec<(String, u64)>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn spawn(fleet: &Fleet, start: Instant, settings: &Settings, alibaba: &str) -> Self {
        let pids: Vec<u32> = fleet.processes.iter().map(|p| p.child.id()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let interval = Duration::from_secs_f64(settings.rss_interval);
        let progress_every = if settings.quick { 10.0 } else { 60.0 };
        let (stop_flag, out) = (Arc::clone(&stop), Arc::clone(&samples));
        let stores = Arc::new(Mutex::new(Vec::new()));
        let stores_out = Arc::clone(&stores);
        let (duration, warmup, alibaba) = (settings.duration, settings.warmup, alibaba.to_string());
        let thread = std::thread::spawn(move || {
            let mut next = start;
            let mut next_progress = progress_every;
            while !stop_flag.load(Ordering::Relaxed) {
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    // Pacing, in short steps so that a stop is prompt.
                    std::thread::sleep(wait.min(Duration::from_millis(100)));
                    continue;
                }
                let t = start.elapsed().as_secs_f64();
                let rss: Vec<f64> = pids
                    .iter()
                    .map(|&pid| rss_mib(pid).unwrap_or(f64::NAN))
                    .collect();
                if t >= next_progress {
                    next_progress += progress_every;
                    println!(
                        "  {t:>5.0}/{duration} s  RSS {}",
                        PLATFORMS
                            .iter()
                            .zip(&rss)
                            .map(|(p, r)| format!("{p} {r:.1} MiB"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                let first_warm = out
                    .lock()
                    .map(|mut samples| {
                        let first = t >= warmup && samples.iter().all(|(at, _)| *at < warmup);
                        samples.push((t, rss));
                        first
                    })
                    .unwrap_or(false);
                if first_warm {
                    if let Ok(mut stores) = stores_out.lock() {
                        *stores = alibaba_stores(&alibaba);
                    }
                }
                next += interval;
            }
        });
        Sampler {
            stop,
            samples,
            stores,
            thread,
        }
    }

    /// Stops sampling and takes one last sample, the run's end; the samples and the Alibaba
    /// stores at the end of the warm-up.
    fn stop(self, fleet: &Fleet, start: Instant) -> (Samples, Vec<(String, u64)>) {
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
struct Growth {
    warm_mib: f64,
    end_mib: f64,
    max_mib: f64,
    /// (end − warm) / warm, in percent.
    growth_pct: f64,
    /// (max − warm) / warm, in percent.
    max_growth_pct: f64,
}

/// The growth of process `index` in `samples`: from the first sample at or past `warmup`
/// seconds to the last one.
fn growth(samples: &Samples, index: usize, warmup: f64) -> Option<Growth> {
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

// ---- the report ---------------------------------------------------------------------------

struct Report<'a> {
    settings: &'a Settings,
    capacity: Vec<f64>,
    rates: Vec<f64>,
    capacity_tallies: Vec<Tally>,
    tallies: Vec<Tally>,
    samples: Samples,
    rss_start: Vec<f64>,
    health: Vec<String>,
    /// The Alibaba mock's store gauges at the end, and at the end of the warm-up.
    stores: Vec<(String, u64)>,
    stores_warm: Vec<(String, u64)>,
    /// … and after the capacity burst.
    stores_capacity: Vec<(String, u64)>,
    /// Seconds per latency window.
    window: f64,
    /// `/proc/loadavg` at the soak's start and end: how busy the machine was.
    load: [String; 2],
    wall: f64,
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

impl Report<'_> {
    /// The table, results.json, and whether the soak passed.
    fn build(&self) -> (String, Value, bool) {
        let s = self.settings;
        let mut passed = self.health.is_empty();
        let mut lines = vec![
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
            ),
            String::new(),
            "| mock | capacity req/s | rate req/s | requests | errors | RSS at warm-up end | \
             RSS at end | RSS max | growth | p50 / p99 / max latency |"
                .to_string(),
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |".to_string(),
        ];
        let mut mocks = serde_json::Map::new();
        for (i, platform) in PLATFORMS.iter().enumerate() {
            let tally = &self.tallies[i];
            let burst = &self.capacity_tallies[i];
            let errors = tally.errors() + burst.errors();
            let memory = growth(&self.samples, i, s.warmup);
            if errors > 0 {
                passed = false;
            }
            let (memory_cells, memory_json) = match &memory {
                Some(g) => {
                    if g.growth_pct.is_nan() || g.growth_pct >= s.max_growth_pct {
                        passed = false;
                    }
                    (
                        format!(
                            "{:.1} MiB | {:.1} MiB | {:.1} MiB | {:+.1}%",
                            g.warm_mib, g.end_mib, g.max_mib, g.growth_pct
                        ),
                        json!({"warmup_end_mib": g.warm_mib, "end_mib": g.end_mib,
                               "max_mib": g.max_mib, "growth_pct": g.growth_pct,
                               "max_growth_pct": g.max_growth_pct}),
                    )
                }
                None => {
                    passed = false;
                    ("n/a | n/a | n/a | n/a".to_string(), Value::Null)
                }
            };
            let l = &tally.latency;
            let (p50, p99, max) = (l.value_at_quantile(0.5), l.value_at_quantile(0.99), l.max());
            lines.push(format!(
                "| {platform} | {:.0} | {:.0} | {} | {errors} | {memory_cells} | {} / {} / {} ms |",
                self.capacity[i],
                self.rates[i],
                tally.sent(),
                ms(p50),
                ms(p99),
                ms(max)
            ));
            let series: Vec<Value> = self
                .samples
                .iter()
                .map(|(t, rss)| json!([(t * 10.0).round() / 10.0, rss.get(i)]))
                .collect();
            mocks.insert(
                platform.to_string(),
                json!({
                    "mix": mix_of(platform),
                    "capacity_rps": self.capacity[i],
                    "capacity_burst": tally_json(burst),
                    "capacity_per_second": burst.windows.iter().map(|w| w.sent).collect::<Vec<_>>(),
                    "rate_rps": self.rates[i],
                    "soak": tally_json(tally),
                    "errors": errors,
                    "latency_us": {"p50": p50, "p99": p99, "max": max},
                    "rss_start_mib": self.rss_start.get(i),
                    "memory": memory_json,
                    "rss_samples": series,
                    "latency_windows": {
                        "seconds": self.window,
                        "columns": ["start_s", "sent", "failed", "max_ms"],
                        "rows": tally.windows.iter().enumerate().map(|(n, w)| {
                            json!([n as f64 * self.window, w.sent, w.failed, w.max_us as f64 / 1000.0])
                        }).collect::<Vec<_>>(),
                    },
                }),
            );
        }
        lines.push(String::new());
        lines.push(format!(
            "Mixes: alibaba {}; aui {}; duix {}.",
            mix_of("alibaba"),
            mix_of("aui"),
            mix_of("duix")
        ));
        for (i, platform) in PLATFORMS.iter().enumerate() {
            for (phase, tally) in [
                ("capacity", &self.capacity_tallies[i]),
                ("soak", &self.tallies[i]),
            ] {
                if tally.errors() > 0 {
                    lines.push(format!(
                        "{platform} {phase}: {} bad answers, {} connection errors, {} timeouts, {} unsent; first: {:?}",
                        tally.bad_answers, tally.io_errors, tally.timeouts, tally.unsent, tally.samples
                    ));
                }
            }
        }
        let worst: Vec<String> = PLATFORMS
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
            .collect();
        lines.push(format!(
            "Worst {} s window of due times: {}. Load average (1, 5, 15 min) at the start {}, at \
             the end {}.",
            self.window,
            worst.join(", "),
            self.load[0],
            self.load[1]
        ));
        let stores = stores_text;
        if !self.stores.is_empty() {
            lines.push(format!(
                "Alibaba mock's stores at the warm-up's end: {}; at the end: {}.",
                stores(&self.stores_warm),
                stores(&self.stores)
            ));
            if !self.stores_warm.is_empty() && self.stores_warm != self.stores {
                lines.push(
                    "Note: the stores were still filling at the end of the warm-up, so the growth \
                     includes bounded stores reaching their caps: warm up for longer."
                        .to_string(),
                );
            }
        }
        for problem in &self.health {
            lines.push(problem.clone());
        }
        lines.push(format!(
            "Thresholds: 0 errors, RSS growth after warm-up under {}%: {}.",
            s.max_growth_pct,
            if passed { "met" } else { "NOT met" }
        ));
        let results = json!({
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
                "after_capacity_burst": self.stores_capacity.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "warmup_end": self.stores_warm.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                "end": self.stores.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            },
            "load_average": {"start": self.load[0], "end": self.load[1]},
            "problems": self.health,
            "passed": passed,
        });
        (lines.join("\n"), results, passed)
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

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn machine_line() -> String {
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
        assert_eq!(vm_rss_kib(STATUS), Some(20480));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        assert_eq!(vm_rss_kib("VmRSS:\tlots kB\n"), None);
    }

    #[test]
    fn gauges_are_read_by_prefix_labels_or_not() {
        let text = "# HELP agentproof_alibaba_nonces n\n# TYPE agentproof_alibaba_nonces gauge\n\
                    agentproof_alibaba_nonces{platform=\"alibaba\"} 2000\n\
                    agentproof_alibaba_agent_tasks 500\nagentproof_requests_total{x=\"y\"} 9\n";
        assert_eq!(
            gauges(text, "agentproof_alibaba_"),
            vec![
                ("agentproof_alibaba_nonces".to_string(), 2000),
                ("agentproof_alibaba_agent_tasks".to_string(), 500)
            ]
        );
    }

    #[test]
    fn the_quick_run_writes_its_caps_and_insists_on_them_being_reached() {
        let quick = Settings::from(&Args::parse_from(["soak", "--quick"])).unwrap();
        let config = alibaba_config(&quick);
        assert!(config.starts_with("[alibaba]\n") && config.contains("max_agent_tasks = 500\n"));
        let full = Settings::from(&Args::parse_from(["soak"])).unwrap();
        assert_eq!(alibaba_config(&full), "");
        let full_stores: Vec<(String, u64)> = QUICK_CAPS
            .iter()
            .map(|(_, gauge, cap)| (gauge.to_string(), *cap))
            .collect();
        assert!(check_quick_caps(&full_stores).is_empty());
        let mut filling = full_stores.clone();
        filling[1].1 = 120;
        let problems = check_quick_caps(&filling);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("max_agent_tasks"), "{problems:?}");
        assert_eq!(check_quick_caps(&[]).len(), 3, "no gauges at all");
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
        ] {
            assert!(Settings::from(&Args::parse_from(bad)).is_err(), "{bad:?}");
        }
    }
}
