//! `agentproof load`: a goose scenario against the embedded mocks or real targets, with
//! agentproof's own exact SLO verdict and reports.
//!
//! The split: this file turns the arguments into a [`Setup`] (any error there is a usage error,
//! exit 2), finds the targets (the embedded mocks, or the given URLs, probed first so an
//! unreachable one is exit 2 and not a thousand failed requests), runs the attack
//! ([`attack`]), and writes and prints the verdict. [`recorder`] is the sink the scenarios
//! record every sample into; [`progress`] the live line.

mod attack;
mod progress;
mod recorder;
mod swarm;

pub use swarm::run_merge;

use crate::check::target::{parse_target, Credentials};
use crate::cli::LoadArgs;
use crate::config::MockConfig;
use crate::mock_cmd::{Embedded, EmbeddedOptions};
use crate::net::{now_rfc3339, shown_url, webhook_url};
use anyhow::{anyhow, bail, Context, Result};
use recorder::SharedRecorder;
use reports::load::{LoadMeta, LoadRecorder, LoadReport, LoadSlo};
use scenarios::{Plan, ScenarioInfo, Schedule, Targets};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The goose version agentproof embeds (reports name it; a test keeps it equal to Cargo.lock's).
pub const GOOSE_VERSION: &str = "0.19.0";

/// Sessions the embedded DUIX grants its demo app under load: enough for every user, so a 1009
/// is never an artefact of the test; the mock's own ceiling.
const EMBEDDED_DUIX_QUOTA: u32 = 1000;

/// The parsed arguments: what to run, against what, judged how.
pub struct Setup {
    pub scenario: &'static ScenarioInfo,
    pub targets: Vec<(String, String)>,
    pub credentials: Credentials,
    pub webhook_bearer: Option<String>,
    pub dialogue: scenarios::Dialogue,
    /// `--llm-api-key`, `--llm-model`: what the alibaba-llm calls carry.
    pub llm_api_key: Option<String>,
    pub llm_model: String,
    pub slo: LoadSlo,
    pub seed: u64,
    pub users: u64,
    pub increase_rate: f64,
    pub run_time_secs: u64,
    pub rate: Option<f64>,
    pub report_dir: PathBuf,
    pub junit: Option<PathBuf>,
    /// `--baseline`, read before any load so a typo costs nothing.
    pub baseline: Option<(PathBuf, LoadReport)>,
    pub dashboard: bool,
    pub plain_progress: bool,
    /// `--worker I/N`: this process is worker I of N, with its share of users and rate.
    pub worker: Option<(u32, u32)>,
    /// `--start-at`: hold until then.
    pub start_at: Option<time::OffsetDateTime>,
}

impl Setup {
    /// Parses and checks the arguments; every error here is a usage error (exit 2).
    pub fn from_args(args: &LoadArgs) -> Result<Setup> {
        let name = args.scenario.as_deref().unwrap_or_default();
        let scenario = scenarios::find(name).ok_or_else(|| {
            anyhow!(
                "--scenario {name:?}: no such scenario; scenarios are {} (agentproof load --list)",
                names()
            )
        })?;
        let mut slo = LoadSlo {
            timeout_ms: args.timeout_ms,
            ..LoadSlo::default()
        };
        for rule in &args.slo {
            slo.parse_rule(rule).map_err(|e| anyhow!("--slo: {e}"))?;
        }
        slo.timeout_ms = args.timeout_ms;
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0) {
                bail!("--rate {rate}: requests per second must be above 0 and at most 1000000");
            }
        }
        let (users, rate) = match args.worker {
            None => (args.users, args.rate),
            Some((index, count)) => worker_share(args.users, args.rate, index, count)?,
        };
        // A worker starts its share of the users at its share of the increase rate.
        let workers = args.worker.map_or(1.0, |(_, count)| f64::from(count));
        let increase_rate = args
            .increase_rate
            .map_or(users as f64, |rate| rate / workers);
        if !(increase_rate.is_finite() && increase_rate > 0.0) {
            bail!("--increase-rate {increase_rate}: users per second must be above 0");
        }
        let baseline = match &args.baseline {
            Some(dir) => {
                let report = reports::load::read_load_report(dir)
                    .map_err(|e| anyhow!("--baseline {}: {e}", dir.display()))?;
                Some((dir.clone(), report))
            }
            None => None,
        };
        if let Some(junit) = &args.junit {
            let parent = junit.parent().filter(|p| !p.as_os_str().is_empty());
            if parent.is_some_and(|p| !p.is_dir()) {
                bail!("--junit {}: its folder does not exist", junit.display());
            }
        }
        let targets = parse_targets(&args.target)?;
        if targets.is_empty()
            && scenario.name == "duix-session-churn"
            && args.users > u64::from(EMBEDDED_DUIX_QUOTA)
        {
            bail!(
                "--users {}: the embedded DUIX grants at most {EMBEDDED_DUIX_QUOTA} sessions, so more users \
                 would get 1009 (quota) as a test artefact; use at most {EMBEDDED_DUIX_QUOTA} users or a real --target duix=URL",
                args.users
            );
        }
        Ok(Setup {
            scenario,
            targets,
            credentials: crate::check::credentials(&args.credentials)?,
            webhook_bearer: args.webhook_bearer.clone(),
            llm_api_key: args.llm_api_key.clone().filter(|k| !k.is_empty()),
            llm_model: args.llm_model.clone(),
            dialogue: scenarios::Dialogue {
                sid: args.sid.clone(),
                dh_code: args.dh_code.clone(),
            },
            slo,
            seed: args.seed.unwrap_or_else(random_seed),
            users,
            increase_rate,
            run_time_secs: args.run_time,
            rate,
            report_dir: args.report_dir.clone(),
            junit: args.junit.clone(),
            baseline,
            dashboard: args.dashboard,
            plain_progress: args.no_progress,
            worker: args.worker,
            start_at: args.start_at,
        })
    }

    /// Every secret given on the command line or in the environment: never printed or reported.
    fn secrets(&self) -> Vec<String> {
        let mut secrets = self.credentials.given.0.clone();
        secrets.extend(self.webhook_bearer.clone());
        secrets.extend(self.llm_api_key.clone());
        secrets
    }
}

/// `total` split over `count` workers: worker `index` gets its share, and the shares add up to
/// `total` exactly (the first `total % count` workers take one more).
pub fn share(total: u64, index: u32, count: u32) -> u64 {
    let count = u64::from(count.max(1));
    total / count + u64::from(u64::from(index) < total % count)
}

/// Worker `index`'s users and rate (in thousandths of a request per second, so the rate shares
/// add up exactly too).
pub(crate) fn worker_share(
    users: u64,
    rate: Option<f64>,
    index: u32,
    count: u32,
) -> Result<(u64, Option<f64>)> {
    if users < u64::from(count) {
        bail!("--users {users} over --worker .../{count}: every worker needs at least one user");
    }
    let rate = match rate {
        None => None,
        Some(rate) => {
            let milli = (rate * 1000.0).round() as u64;
            let own = share(milli, index, count);
            if own == 0 {
                bail!("--rate {rate} over {count} workers leaves worker {index} no requests");
            }
            Some(own as f64 / 1000.0)
        }
    };
    Ok((share(users, index, count), rate))
}

/// `PLATFORM=URL` for alibaba, aui, duix (as `check` reads them), webhook, llm and http.
fn parse_targets(specs: &[String]) -> Result<Vec<(String, String)>> {
    let mut targets: Vec<(String, String)> = Vec::new();
    for spec in specs {
        if let Some(url) = spec.strip_prefix("llm=") {
            let example = "https://llm.example/v1";
            let url = crate::net::vendor_url(url, "--target llm=...", "--llm-api-key", example)?;
            if targets.iter().any(|(p, _)| p == "llm") {
                bail!("--target {spec:?}: llm is given twice");
            }
            targets.push(("llm".to_string(), url));
            continue;
        }
        let (platform, url) = match (spec.strip_prefix("webhook="), spec.strip_prefix("http=")) {
            (Some(url), _) => (
                "webhook".to_string(),
                webhook_url(url, "--target webhook=...", "--webhook-bearer")?,
            ),
            // Any server, for the http-get scenario: the URL is used as given, like a webhook's.
            (_, Some(url)) => (
                "http".to_string(),
                webhook_url(url, "--target http=...", "nothing (http-get sends none)")?,
            ),
            _ => {
                let (platform, url) = parse_target(spec).map_err(|e| {
                    anyhow!("{e} (load also takes webhook=URL for the duix-webhook scenario, llm=URL for alibaba-llm and http=URL for http-get)")
                })?;
                (platform.name().to_string(), url)
            }
        };
        if targets.iter().any(|(p, _)| *p == platform) {
            bail!("--target {spec:?}: {platform} is given twice");
        }
        targets.push((platform, url));
    }
    Ok(targets)
}

fn names() -> String {
    scenarios::SCENARIOS
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// `agentproof load --list`.
fn list() {
    println!("Scenarios (agentproof load --scenario NAME):");
    for s in scenarios::SCENARIOS {
        println!("  {:<20} [{}]", s.name, s.platforms.join(", "));
        println!(
            "      {}",
            s.description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

/// `agentproof load`: run, write the reports, print the verdict first; exit 0/1 (2 is an error).
pub async fn run_cli(args: LoadArgs) -> Result<u8> {
    if args.list {
        list();
        return Ok(0);
    }
    if let Some(workers) = args.workers {
        return swarm::run_local(&args, workers).await;
    }
    let setup = Setup::from_args(&args)?;
    if args.dry_run {
        print_plan(&setup);
        return Ok(0);
    }
    eprintln!(
        "agentproof load: scenario {}, seed {} (replay with --seed {}), {} users, {} s{}",
        setup.scenario.name,
        setup.seed,
        setup.seed,
        setup.users,
        setup.run_time_secs,
        setup
            .rate
            .map(|r| format!(", {r} req/s scheduled"))
            .unwrap_or_default()
    );
    let (targets, embedded) = resolve_targets(&setup).await?;
    if let Some(at) = setup.start_at {
        hold_until(at).await;
    }
    let outcome = run_with_targets(&setup, &targets, embedded.as_ref()).await;
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    let report = outcome?;
    finish(&setup, report)
}

/// `--dry-run`: what would run, and exit.
fn print_plan(setup: &Setup) {
    println!(
        "scenario {} ({})",
        setup.scenario.name,
        setup.scenario.platforms.join(", ")
    );
    if let Some((index, count)) = setup.worker {
        println!("worker {index} of {count}");
    }
    println!(
        "users {}, {} new per second, {} s, rate {}, seed {}",
        setup.users,
        setup.increase_rate,
        setup.run_time_secs,
        setup
            .rate
            .map_or("closed loop".to_string(), |r| format!("{r}/s")),
        setup.seed
    );
    match setup.targets.is_empty() {
        true => println!("targets: the embedded mocks"),
        false => {
            for (platform, url) in &setup.targets {
                println!("target {platform} {}", shown_url(url));
            }
        }
    }
    if let Some(at) = setup.start_at {
        println!("start at {at}");
    }
    println!(
        "SLO {}; reports in {}",
        setup.slo.describe(),
        setup.report_dir.display()
    );
}

/// Waits until `at` (a worker's `--start-at`), saying so; at once when it has passed.
async fn hold_until(at: time::OffsetDateTime) {
    let wait = at - time::OffsetDateTime::now_utc();
    if wait.is_positive() {
        eprintln!(
            "agentproof load: holding until {at} ({:.1} s)",
            wait.as_seconds_f64()
        );
        let wait = Duration::try_from(wait).unwrap_or_default();
        tokio::time::sleep(wait).await;
    } else if wait < -time::Duration::seconds(1) {
        eprintln!("agentproof load: --start-at {at} has passed; starting now");
    }
}

/// The targets: the embedded mocks when none is given, else the given ones, each reachable.
async fn resolve_targets(setup: &Setup) -> Result<(BTreeMap<String, String>, Option<Embedded>)> {
    if setup.targets.is_empty() {
        let mut config = MockConfig::default();
        for app in &mut config.duix.apps {
            app.quota = EMBEDDED_DUIX_QUOTA;
        }
        let embedded = Embedded::start(&EmbeddedOptions::ephemeral(), config)
            .await
            .context("cannot start the embedded mocks")?;
        let targets = ["alibaba", "aui", "duix", "webhook", "llm"]
            .into_iter()
            .filter_map(|p| Some((p.to_string(), embedded.url(p)?.to_string())))
            .collect();
        return Ok((targets, Some(embedded)));
    }
    for platform in setup.scenario.platforms {
        if !setup.targets.iter().any(|(p, _)| p == platform) {
            bail!(
                "--scenario {} drives {platform}: give --target {platform}=URL (or no --target at all, for the embedded mocks)",
                setup.scenario.name
            );
        }
    }
    for (platform, url) in &setup.targets {
        probe(platform, url).await?;
    }
    Ok((setup.targets.iter().cloned().collect(), None))
}

/// The target answers TCP within 5 s, or the connect error in words (exit 2).
async fn probe(platform: &str, url: &str) -> Result<()> {
    crate::net::tcp_reachable(url).await.map_err(|why| {
        anyhow!(
            "cannot reach the {platform} target {}: {why}",
            shown_url(url)
        )
    })
}

/// Builds the plan, runs the attack, and finishes the recorder into the report.
async fn run_with_targets(
    setup: &Setup,
    targets: &BTreeMap<String, String>,
    embedded: Option<&Embedded>,
) -> Result<LoadReport> {
    let credentials = match embedded {
        Some(embedded) => Credentials::from_info(&embedded.info),
        None => setup.credentials.clone(),
    };
    let recorder = Arc::new(SharedRecorder::new(LoadRecorder::new(
        setup.slo.clone(),
        setup.rate.is_some(),
    )));
    let get = |p: &str| targets.get(p).cloned();
    let plan = Arc::new(Plan {
        targets: Targets {
            alibaba: get("alibaba"),
            aui: get("aui"),
            duix: get("duix"),
            webhook: get("webhook"),
            llm: get("llm"),
            http: get("http"),
        },
        credentials: scenarios::Credentials {
            alibaba: pair(&credentials.alibaba_key),
            aui_user: pair(&credentials.aui_user),
            duix_app: pair(&credentials.duix_app),
            webhook_bearer: setup.webhook_bearer.clone(),
            duix_dialogue: setup.dialogue.clone(),
            llm_api_key: match embedded {
                Some(embedded) => embedded
                    .info
                    .get("llm")
                    .and_then(|l| l["api_key"].as_str())
                    .map(str::to_string),
                None => setup.llm_api_key.clone(),
            },
            llm_model: setup.llm_model.clone(),
        },
        sink: recorder.clone(),
        schedule: setup
            .rate
            .map(|rate| Schedule::new(rate, usize::try_from(setup.users).unwrap_or(usize::MAX))),
        timeout: Duration::from_millis(setup.slo.timeout_ms),
        seed: setup.seed,
        // The ramp, the planned run time and a second of grace: no request is sent after it.
        deadline: Some(
            Instant::now()
                + Duration::from_secs_f64(setup.users as f64 / setup.increase_rate)
                + Duration::from_secs(setup.run_time_secs + 1),
        ),
    });
    let scenario = scenarios::build(setup.scenario.name, &plan)?;
    let host = setup
        .scenario
        .platforms
        .iter()
        .find_map(|p| targets.get(*p))
        .cloned()
        .unwrap_or_default();
    // A worker's run starts at the common --start-at instant, so the merge lines them up.
    let started_at = match setup.start_at {
        Some(at) if setup.worker.is_some() => at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| now_rfc3339()),
        _ => now_rfc3339(),
    };
    let started = Instant::now();
    let ramp = progress::Ramp {
        users: setup.users,
        increase_rate: setup.increase_rate,
        run_time_secs: setup.run_time_secs,
    };
    let ticker = progress::spawn(recorder.clone(), ramp, setup.plain_progress);
    let ended = attack::run(scenario, setup, &host).await;
    ticker.abort();
    progress::finish(setup.plain_progress);
    let ended = ended?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let meta = LoadMeta {
        scenario: setup.scenario.name.to_string(),
        scenario_description: setup
            .scenario
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        seed: setup.seed,
        command_line: masked_command_line(&setup.secrets()),
        users: setup.users,
        increase_rate: setup.increase_rate,
        run_time_secs: setup.run_time_secs,
        rate_per_sec: setup.rate,
        targets: targets
            .iter()
            .filter(|(p, _)| setup.scenario.platforms.contains(&p.as_str()))
            .map(|(p, u)| (p.clone(), shown_url(u)))
            .collect(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        goose_version: GOOSE_VERSION.to_string(),
        started_at,
        worker: setup
            .worker
            .map(|(index, count)| reports::load::WorkerShare { index, count }),
        merged_from: Vec::new(),
        partial: None,
    };
    let recorder = recorder
        .take()
        .ok_or_else(|| anyhow!("the run's recorder was already taken"))?;
    let mut report = recorder.finish(meta, duration_ms, ended.cut_short);
    redact(&mut report, &setup.secrets());
    Ok(report)
}

fn pair(p: &crate::check::target::Pair) -> scenarios::Pair {
    scenarios::Pair::new(p.id.clone(), p.secret.clone())
}

/// Writes every report, compares with the baseline, prints the verdict first.
fn finish(setup: &Setup, mut report: LoadReport) -> Result<u8> {
    if let Some((_, baseline)) = &setup.baseline {
        report.compare_with(baseline);
    }
    if setup.worker.is_some() {
        let start = std::time::SystemTime::now() - Duration::from_millis(report.duration_ms);
        let start = setup.start_at.map_or(start, std::time::SystemTime::from);
        reports::load::write_worker_files(&report, start, &setup.report_dir).with_context(
            || {
                format!(
                    "cannot write the worker files into {}",
                    setup.report_dir.display()
                )
            },
        )?;
    }
    let written =
        reports::load::write_load_reports(&report, &setup.report_dir).with_context(|| {
            format!(
                "cannot write the reports into --report-dir {}",
                setup.report_dir.display()
            )
        })?;
    if let Some(junit) = &setup.junit {
        std::fs::write(junit, reports::render::load::junit::render(&report))
            .with_context(|| format!("cannot write --junit {}", junit.display()))?;
    }
    println!("{}", report.verdict_line());
    for line in report.route_lines() {
        println!("  {line}");
    }
    for error in report.errors.iter().take(10) {
        println!(
            "  error x{}: {}: {}",
            error.count, error.route, error.reason
        );
    }
    if let (Some((dir, _)), Some(deltas)) = (&setup.baseline, &report.baseline) {
        println!(
            "  compared with {} ({} routes)",
            dir.display(),
            deltas.len()
        );
    }
    if let Some(rate) = setup.rate {
        let achieved = report.total_requests() as f64 / (report.duration_ms.max(1) as f64 / 1000.0);
        if achieved < rate * 0.9 {
            println!(
                "  warning: the schedule asked for {rate} requests/s, the users sent {achieved:.0}/s: raise --users"
            );
        }
    }
    println!(
        "reports in {} (open {}; goose's own: goose-report.html)",
        setup.report_dir.display(),
        written.html.display()
    );
    if let Some(why) = broken_test(&report) {
        bail!("the test broke, not the target's SLO: {why}");
    }
    if setup.worker.is_some() {
        // The SLO is judged once, on the merge: a worker whose share broke it still did its
        // job (so a Kubernetes Indexed Job completes), and says so.
        if report.exit_code() != 0 {
            println!("  (worker: the SLO is judged on the merge; this worker exits 0)");
        }
        return Ok(0);
    }
    Ok(u8::try_from(report.exit_code()).unwrap_or(1))
}

/// Why a run says nothing about the target's service level (exit 2, not 1): no request ever
/// finished, every login was refused, or the target never answered at all.
fn broken_test(report: &LoadReport) -> Option<String> {
    if report.total_requests() == 0 {
        return Some("no request finished".into());
    }
    let first_reason = |route: &str| {
        report
            .errors
            .iter()
            .find(|e| e.route == route)
            .map_or(String::new(), |e| e.reason.clone())
    };
    if let Some(login) = report
        .routes
        .iter()
        .find(|r| r.route.ends_with("/login") && r.count > 0 && r.errors == r.count)
    {
        let why = first_reason(&login.route);
        return Some(format!("every login failed ({why}): check --aui-user"));
    }
    let unanswered =
        |reason: &str| reason.starts_with("cannot connect") || reason.starts_with("no answer");
    if report.total_errors() == report.total_requests()
        && report.errors.iter().all(|e| unanswered(&e.reason))
    {
        let why = report
            .errors
            .first()
            .map_or(String::new(), |e| e.reason.clone());
        return Some(format!("the target never answered ({why})"));
    }
    None
}

/// The command line as typed, with every secret value replaced by `***`.
pub(crate) fn masked_command_line(secrets: &[String]) -> String {
    const SECRET_FLAGS: [&str; 5] = [
        "--alibaba-key",
        "--aui-user",
        "--aui-app",
        "--duix-app",
        "--webhook-bearer",
    ];
    let mut words = Vec::new();
    let mut mask_next = false;
    for arg in std::env::args() {
        let word = if mask_next {
            mask_next = false;
            "***".to_string()
        } else if let Some((flag, _)) = arg
            .split_once('=')
            .filter(|(f, _)| SECRET_FLAGS.contains(f))
        {
            format!("{flag}=***")
        } else {
            mask_next = SECRET_FLAGS.contains(&arg.as_str());
            arg
        };
        words.push(mask(&word, secrets));
    }
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+*".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn mask(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// Secrets a target echoed into a failure reason never reach a report.
fn redact(report: &mut LoadReport, secrets: &[String]) {
    for error in &mut report.errors {
        error.reason = mask(&error.reason, secrets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_goose_version_is_the_one_in_cargo_lock() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"goose\""))
            .expect("goose is in Cargo.lock");
        assert!(
            entry.contains(&format!("version = \"{GOOSE_VERSION}\"")),
            "{entry}"
        );
    }

    #[test]
    fn webhook_targets_are_read_beside_the_platforms() {
        let targets = parse_targets(&[
            "webhook=http://127.0.0.1:9000/hook/".into(),
            "aui=http://127.0.0.1:1".into(),
        ])
        .unwrap();
        assert_eq!(
            targets[0],
            ("webhook".into(), "http://127.0.0.1:9000/hook/".into())
        );
        assert_eq!(targets[1].0, "aui");
        let keyed = parse_targets(&["webhook=https://v.example/h?key=k1".into()]).unwrap();
        assert_eq!(keyed[0].1, "https://v.example/h?key=k1", "used as given");
        assert_eq!(shown_url(&keyed[0].1), "https://v.example/h?***");
        for bad in ["webhook=ftp://x", "webhook=nope", "webhook=http://u:p@x/"] {
            assert!(parse_targets(&[bad.into()]).is_err(), "{bad}");
        }
        let twice = parse_targets(&["aui=http://a".into(), "aui=http://b".into()]).unwrap_err();
        assert!(twice.to_string().contains("given twice"), "{twice}");
        let unknown = parse_targets(&["zoom=http://a".into()]).unwrap_err();
        assert!(unknown.to_string().contains("webhook=URL"), "{unknown}");
    }

    #[test]
    fn worker_shares_add_up_exactly() {
        for (total, count) in [(10, 4), (7, 7), (1001, 3), (5, 1)] {
            let sum: u64 = (0..count).map(|i| share(total, i, count)).sum();
            assert_eq!(sum, total, "{total} over {count}");
        }
        let rates: Vec<f64> = (0..3)
            .map(|i| worker_share(3, Some(100.0), i, 3).unwrap().1.unwrap())
            .collect();
        assert_eq!(
            rates
                .iter()
                .map(|r| (r * 1000.0).round() as u64)
                .sum::<u64>(),
            100_000
        );
        assert!(
            worker_share(2, None, 0, 4).is_err(),
            "a worker without users"
        );
    }

    #[test]
    fn secrets_are_masked_in_text() {
        let masked = mask("key=Sup3r and Sup3r", &["Sup3r".into(), String::new()]);
        assert_eq!(masked, "key=*** and ***");
        assert_eq!(shell_quote("p95<2000ms"), "'p95<2000ms'");
        assert_eq!(shell_quote("--users"), "--users");
    }
}
