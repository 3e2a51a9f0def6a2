//! `agentproof load`: journeys (a built-in scenario or the user's file) against the embedded
//! mocks or real targets, with agentproof's own exact SLO verdict and reports.
//!
//! The split: [`setup`] turns the arguments into a [`Setup`] (any error there is a usage
//! error, exit 2); this file finds the targets (the embedded mocks, or the given URLs, probed
//! first so an unreachable one is exit 2 and not a thousand failed requests), runs the attack
//! (`scenarios::attack`, into the recorder `scenarios::SharedRecorder`, which also counts the
//! users the journeys start and stop), and writes and prints the verdict; [`blame`] tells a
//! broken test from a broken target; [`progress`] is the live line; [`catalogue`] prints
//! `--list`, `--ops` and `--print-scenario`.

mod blame;
mod catalogue;
mod progress;
mod setup;
mod swarm;

pub use setup::{share_of as share, Setup};
pub use swarm::run_merge;

use crate::config::MockConfig;
use crate::mock_cmd::{Embedded, EmbeddedOptions};
use crate::net::{now_rfc3339, shown_url};
use anyhow::{anyhow, bail, Context, Result};
use reports::load::{LoadMeta, LoadRecorder, LoadReport};
use scenarios::SharedRecorder;
use scenarios::{Plan, Schedule, Targets};
use setup::EMBEDDED_DUIX_QUOTA;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use scenarios::GOOSE_VERSION;

/// `agentproof load`: run, write the reports, print the verdict first; exit 0/1 (2 is an error).
pub async fn run_cli(args: crate::cli::LoadArgs) -> Result<u8> {
    if args.list {
        catalogue::list();
        return Ok(0);
    }
    if args.ops {
        catalogue::ops();
        return Ok(0);
    }
    if let Some(name) = &args.print_scenario {
        catalogue::print_scenario(name)?;
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
    let shape = match &setup.stages {
        Some(stages) => format!("stages {}", stages_text(stages)),
        None => format!("{} users, {} s", setup.users, setup.run_time_secs),
    };
    eprintln!(
        "agentproof load: scenario {}, seed {} (replay with --seed {}), {shape}{}",
        setup.name(),
        setup.seed,
        setup.seed,
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

/// `--dry-run`: what would run, and exit (the journeys compiled, the feeders read, the
/// shares checked: nothing is sent).
fn print_plan(setup: &Setup) {
    let journeys = &setup.journeys;
    println!(
        "scenario {} ({})",
        setup.name(),
        setup.platforms().join(", ")
    );
    if let Some(file) = &setup.scenario_file {
        println!("journey file {}: checked", file.display());
    }
    for journey in &journeys.journeys {
        println!(
            "  journey {:?}: weight {}, {} on start, {} steps, {} on stop",
            journey.name,
            journey.weight,
            count_steps(&journey.on_start),
            count_steps(&journey.steps),
            count_steps(&journey.on_stop)
        );
    }
    for feeder in &journeys.feeders {
        println!(
            "  feeder {:?}: {} rows, columns {}",
            feeder.name,
            feeder.len(),
            feeder.columns.join(", ")
        );
    }
    if let Some((index, count)) = setup.worker {
        println!("worker {index} of {count}");
    }
    let shape = match &setup.stages {
        Some(stages) => format!("stages {}", stages_text(stages)),
        None => format!(
            "users {}, {} new per second, {} s",
            setup.users, setup.increase_rate, setup.run_time_secs
        ),
    };
    println!(
        "{shape}, rate {}, seed {}",
        setup
            .rate
            .map_or("closed loop".to_string(), |r| format!("{r}/s")),
        setup.seed
    );
    if setup.platforms().contains(&"aui") && !setup.targets.is_empty() {
        println!("aui auth {}", setup.credentials.aui_auth.describe());
    }
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
    for (route, slo) in &setup.route_slos {
        println!("  {route}: SLO {}", slo.describe());
    }
}

/// Steps of a list, loops counted by their steps.
fn count_steps(steps: &[scenarios::journey::Step]) -> usize {
    steps
        .iter()
        .map(|s| match s {
            scenarios::journey::Step::Loop { steps, .. } => count_steps(steps),
            _ => 1,
        })
        .sum()
}

/// Stages as `--stages` takes them: `20,30s;20,120s;0,10s`.
fn stages_text(stages: &[(u64, u64)]) -> String {
    stages
        .iter()
        .map(|(users, secs)| format!("{users},{secs}s"))
        .collect::<Vec<_>>()
        .join(";")
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
        let mut config = match &setup.mock_config {
            Some(config) => config.clone(),
            None => MockConfig::default(),
        };
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
    for platform in setup.platforms() {
        if !setup.targets.iter().any(|(p, _)| p == platform) {
            bail!(
                "scenario {} drives {platform}: give --target {platform}=URL (or a [targets] {platform} in the journey file; or no target at all, for the embedded mocks)",
                setup.name()
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
        Some(embedded) => crate::check::target::Credentials::from_info(&embedded.info),
        None => setup.credentials.clone(),
    };
    let mut recorder = LoadRecorder::new(setup.slo, setup.rate.is_some());
    for (route, slo) in &setup.route_slos {
        recorder
            .set_route_slo(route, *slo)
            .map_err(|e| anyhow!("{e}"))?;
    }
    let recorder = Arc::new(SharedRecorder::new(recorder));
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
            aui_auth: credentials.aui_auth.clone(),
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
        // The ramp and the run time, or the stages, and a second of grace: no request is sent
        // after it.
        deadline: Some(Instant::now() + Duration::from_secs_f64(setup.planned_secs() + 1.0)),
        first_user: setup.first_user,
    });
    let scenarios = scenarios::journey::scenarios(&setup.journeys, &plan)?;
    let host = setup
        .platforms()
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
        planned_secs: setup.planned_secs(),
    };
    let ticker = progress::spawn(recorder.clone(), ramp, setup.plain_progress);
    let attack = scenarios::attack::AttackOptions {
        users: setup.users,
        increase_rate: setup.increase_rate,
        run_time_secs: setup.run_time_secs,
        stages: setup.stages.clone(),
        timeout_ms: setup.slo.timeout_ms,
        report_dir: setup.report_dir.clone(),
        dashboard: setup.dashboard,
    };
    let ended = scenarios::attack::run(scenarios, &attack, &host)
        .await
        .map_err(|e| anyhow!("{e}"));
    ticker.abort();
    progress::finish(setup.plain_progress);
    let ended = ended?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let meta = LoadMeta {
        scenario: setup.name().to_string(),
        scenario_description: setup
            .journeys
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
            .filter(|(p, _)| setup.platforms().contains(&p.as_str()))
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
    let target_broke = blame::broken_sign_in(&report);
    match &target_broke {
        Some(why) => println!("{}; {why}", report.verdict_line()),
        None => println!("{}", report.verdict_line()),
    }
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
    if let Some(why) = blame::broken_test(&report) {
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
    let code = u8::try_from(report.exit_code()).unwrap_or(1);
    // A sign-in answered wrongly every time fails the target even if no rule saw enough of it.
    Ok(if target_broke.is_some() {
        code.max(1)
    } else {
        code
    })
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
    fn secrets_are_masked_in_text() {
        let masked = mask("key=Sup3r and Sup3r", &["Sup3r".into(), String::new()]);
        assert_eq!(masked, "key=*** and ***");
        assert_eq!(shell_quote("p95<2000ms"), "'p95<2000ms'");
        assert_eq!(shell_quote("--users"), "--users");
    }
}
