//! A goose load test of your own, with agentproof's parts: its operations (signing, login,
//! checked answers) as goose transactions, its recorder, its exact SLO verdict and its reports.
//!
//! Build the scenarios from a journey (TOML text, [`Journeys::from_toml`]) and add transactions
//! of your own to them; a transaction of yours that sends through [`crate::exchange::send`] is
//! timed, judged and recorded like agentproof's. [`run`] runs the goose attack and writes
//! `report.json`, `report.html`, `report.md` and `junit.xml` into the report folder, as
//! `agentproof load` does; the report's [`verdict_line`](reports::load::LoadReport::verdict_line)
//! and [`exit_code`](reports::load::LoadReport::exit_code) are the verdict.
//!
//! `examples/custom-goose/` in the repository is a whole binary built on it.
//!
//! ```no_run
//! use scenarios::library::{run, Options};
//! use scenarios::{Credentials, Journeys, Pair, Targets};
//! use std::sync::Arc;
//!
//! # async fn example() -> Result<(), String> {
//! let journey = r#"
//! [[journeys]]
//! name = "tokens"
//! [[journeys.on_start]]
//! op = "aui.login"
//! [[journeys.steps]]
//! op = "aui.getRtcAuthToken"
//! "#;
//! let journeys = Arc::new(Journeys::from_toml(journey, "tokens").map_err(|e| e.to_string())?);
//! let targets = Targets { aui: Some("http://127.0.0.1:18602".into()), ..Targets::default() };
//! let credentials = Credentials::demo();
//! let options = Options::new("tokens", targets, credentials);
//! let report = run(options, |plan| scenarios::journey::scenarios(&journeys, plan)).await?;
//! println!("{}", report.verdict_line());
//! std::process::exit(report.exit_code());
//! # }
//! ```

use crate::attack::AttackOptions;
use crate::{Credentials, Plan, ScenarioError, Schedule, SharedRecorder, Targets};
use goose::goose::Scenario;
use reports::load::{LoadMeta, LoadRecorder, LoadReport, LoadSlo};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A run of your own: what to name it, where the targets are, the load shape, the SLO.
#[derive(Clone, Debug)]
pub struct Options {
    /// Its name in the reports.
    pub name: String,
    /// What it does, in a line.
    pub description: String,
    pub targets: Targets,
    pub credentials: Credentials,
    /// Users at full load.
    pub users: u64,
    /// Users started per second.
    pub increase_rate: f64,
    /// Seconds of load once the users run.
    pub run_time_secs: u64,
    /// `(users, seconds)` stages instead of users, increase rate and run time.
    pub stages: Option<Vec<(u64, u64)>>,
    /// Requests a second over all users (a schedule, latency corrected for coordinated
    /// omission); `None`: closed loop.
    pub rate: Option<f64>,
    /// The SLO (default `p95<2000ms, max<20000ms, errors<1%`); its `max` is the timeout.
    pub slo: LoadSlo,
    /// Seed of every random choice.
    pub seed: u64,
    /// Where the reports go.
    pub report_dir: PathBuf,
}

impl Options {
    /// Ten users for ten seconds, the default SLO, reports in `agentproof-load-report`.
    pub fn new(name: &str, targets: Targets, credentials: Credentials) -> Options {
        Options {
            name: name.to_string(),
            description: String::new(),
            targets,
            credentials,
            users: 10,
            increase_rate: 10.0,
            run_time_secs: 10,
            stages: None,
            rate: None,
            slo: LoadSlo::default(),
            seed: 1,
            report_dir: PathBuf::from("agentproof-load-report"),
        }
    }

    fn planned_secs(&self) -> f64 {
        match &self.stages {
            Some(stages) => stages.iter().map(|(_, s)| *s as f64).sum(),
            None => self.users as f64 / self.increase_rate.max(0.001) + self.run_time_secs as f64,
        }
    }
}

/// Runs the scenarios `build` makes for the plan, records every answer, writes the reports into
/// `options.report_dir` and returns the report (its verdict judged exactly).
pub async fn run(
    options: Options,
    build: impl FnOnce(&Arc<Plan>) -> Result<Vec<Scenario>, ScenarioError>,
) -> Result<LoadReport, String> {
    let recorder = Arc::new(SharedRecorder::new(LoadRecorder::new(
        options.slo,
        options.rate.is_some(),
    )));
    let users = options.stages.as_ref().map_or(options.users, |s| {
        s.iter().map(|(u, _)| *u).max().unwrap_or(1)
    });
    let plan = Arc::new(Plan {
        targets: options.targets.clone(),
        credentials: options.credentials.clone(),
        sink: recorder.clone(),
        schedule: options
            .rate
            .map(|rate| Schedule::new(rate, usize::try_from(users).unwrap_or(usize::MAX))),
        timeout: Duration::from_millis(options.slo.timeout_ms),
        seed: options.seed,
        deadline: Some(Instant::now() + Duration::from_secs_f64(options.planned_secs() + 1.0)),
        first_user: 0,
    });
    let scenarios = build(&plan).map_err(|e| e.to_string())?;
    let host = [
        &plan.targets.aui,
        &plan.targets.alibaba,
        &plan.targets.duix,
        &plan.targets.webhook,
        &plan.targets.http,
    ]
    .into_iter()
    .find_map(|t| t.clone())
    .unwrap_or_default();
    let attack = AttackOptions {
        users,
        increase_rate: options.increase_rate,
        run_time_secs: options.run_time_secs,
        stages: options.stages.clone(),
        timeout_ms: options.slo.timeout_ms,
        report_dir: options.report_dir.clone(),
        dashboard: false,
    };
    let started_at = now_rfc3339();
    let started = Instant::now();
    let ended = crate::attack::run(scenarios, &attack, &host).await?;
    let meta = LoadMeta {
        scenario: options.name.clone(),
        scenario_description: options.description.clone(),
        seed: options.seed,
        command_line: std::env::args().next().unwrap_or_default(),
        users,
        increase_rate: options.increase_rate,
        run_time_secs: options.run_time_secs,
        rate_per_sec: options.rate,
        targets: targets(&options.targets),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        goose_version: crate::GOOSE_VERSION.to_string(),
        started_at,
        worker: None,
        merged_from: Vec::new(),
        partial: None,
    };
    let recorder = recorder
        .take()
        .ok_or("the run's recorder was already taken")?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = recorder.finish(meta, duration_ms, ended.cut_short);
    reports::load::write_load_reports(&report, &options.report_dir).map_err(|e| {
        format!(
            "cannot write the reports into {}: {e}",
            options.report_dir.display()
        )
    })?;
    Ok(report)
}

/// The targets as reports show them: no user info, no query (it may hold a key).
fn targets(targets: &Targets) -> std::collections::BTreeMap<String, String> {
    let shown = |url: &str| url.split(['?', '#']).next().unwrap_or(url).to_string();
    [
        ("alibaba", &targets.alibaba),
        ("aui", &targets.aui),
        ("duix", &targets.duix),
        ("webhook", &targets.webhook),
        ("http", &targets.http),
    ]
    .into_iter()
    .filter_map(|(p, u)| Some((p.to_string(), shown(u.as_deref()?))))
    .collect()
}

fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    protocol::alibaba::timestamp::format_utc(ms)
}
