//! `agentproof check`: the conformance gate.
//!
//! The split: [`Plan`] is the command line parsed and checked before any traffic (targets,
//! suites, seed, credentials, report paths); [`execute`] starts the embedded mocks or probes the
//! targets, runs the suites and returns the `reports::Run`; [`run_cli`] writes the four reports
//! and maps the run to the exit code. Below it:
//! - [`target`]: platforms, `--target` parsing, credentials;
//! - [`aui_target`]: what an AUI target serves and whether it takes the `--aui-auth` given;
//! - [`client`]: the timed HTTP client and one signing client per platform;
//! - [`case`]: expectations (status, code, schema), cases and suites as the report sees them;
//! - [`suites`]: contract, errors and lifecycle per platform;
//! - [`expiry`]: token expiry, through `/__admin/clock` or short expiries;
//! - [`faults`]: server failures for the errors suites, through `/__admin/faults`;
//! - [`badinput`]: generated bad requests (proptest strategies, seeded);
//! - [`progress`]: the progress bar or plain lines.
//!
//! Phases: every platform's contract, errors, lifecycle and bad-input suites run side by side
//! (one platform's suites in order, since they share its quotas); the expiry suites run last, one
//! at a time, because they move the clock the embedded mocks share. The errors suites' fault rules
//! need no such phase: each names one route of its own platform's mock that no suite running
//! meanwhile sends to (see [`faults`]).

pub mod aui_target;
pub mod badinput;
pub mod case;
pub mod client;
pub mod expiry;
pub mod faults;
pub mod progress;
pub mod suites;
pub mod target;

use crate::cli::CheckArgs;
use crate::config::{AuiTargetConfig, MockConfig, OneOrMany};
use crate::mock_cmd::{Embedded, EmbeddedOptions};
use anyhow::{anyhow, bail, Context, Result};
use case::SuiteRun;
use client::{ClockOffset, Http};
use progress::Progress;
use protocol::request::aui::auth::{AuiAuth, AuthError};
use reports::{Run, Suite};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use target::{Credentials, Pair, Platform, Target};

/// Every suite, in run order (expiry runs last, alone).
pub const SUITES: [&str; 5] = ["contract", "errors", "lifecycle", "bad-input", "expiry"];

/// What to run, decided before any request is sent.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Explicit targets; empty means the embedded mocks.
    pub targets: Vec<(Platform, String)>,
    /// `--suite` values (`errors`, `aui.expiry`); empty means all.
    pub suites: Vec<String>,
    pub seed: u64,
    pub bad_inputs: usize,
    pub report_dir: PathBuf,
    pub junit: Option<PathBuf>,
    /// Credentials for explicit targets.
    pub credentials: Credentials,
    pub progress_bar: bool,
    /// Per-request timeout (`--timeout-ms`, 20000 by default).
    pub timeout: Duration,
    /// The AUI routes a target must serve (`--aui-routes`).
    pub aui_routes: aui_target::Required,
}

impl Plan {
    /// Parses and checks the arguments; any error here is a usage error (exit 2).
    pub fn from_args(args: &CheckArgs) -> Result<Plan> {
        let mut targets = Vec::new();
        for spec in &args.target {
            let (platform, url) = target::parse_target(spec)?;
            if targets.iter().any(|(p, _)| *p == platform) {
                bail!("--target {spec:?}: {platform} is given twice");
            }
            targets.push((platform, url));
        }
        for name in &args.suite {
            check_suite_name(name)?;
        }
        let aui_routes = match &args.aui_routes {
            Some(text) => aui_target::Required::parse("--aui-routes", text)?,
            None => aui_routes_of(&aui_target_config(&args.credentials)?)?,
        };
        Ok(Plan {
            targets,
            suites: args.suite.clone(),
            seed: args.seed.unwrap_or_else(random_seed),
            bad_inputs: usize::try_from(args.bad_inputs).unwrap_or(usize::MAX),
            report_dir: args.report_dir.clone(),
            junit: args.junit.clone(),
            credentials: credentials(&args.credentials)?,
            progress_bar: !args.no_progress,
            timeout: Duration::from_millis(args.timeout_ms),
            aui_routes,
        })
    }

    /// Whether `suite` of `platform` is selected.
    pub fn wants(&self, platform: Platform, suite: &str) -> bool {
        self.suites.is_empty()
            || self
                .suites
                .iter()
                .any(|s| s == suite || *s == format!("{platform}.{suite}"))
    }
}

fn check_suite_name(name: &str) -> Result<()> {
    let suite = match name.split_once('.') {
        Some((platform, suite)) => {
            Platform::parse(platform).ok_or_else(|| {
                anyhow!("--suite {name:?}: unknown platform {platform:?} (alibaba, aui, duix)")
            })?;
            suite
        }
        None => name,
    };
    if SUITES.contains(&suite) {
        return Ok(());
    }
    let hint = SUITES
        .iter()
        .filter(|_| !suite.is_empty())
        .find(|s| s.starts_with(suite) || suite.starts_with(**s) || distance(s, suite) <= 2)
        .map(|s| format!("did you mean {s:?}? "))
        .unwrap_or_default();
    bail!(
        "--suite {name:?}: unknown suite {suite:?}; {hint}suites are {}",
        SUITES.join(", ")
    )
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// The credentials of `--alibaba-key`, `--aui-user`, `--aui-app`, `--duix-app` (or their
/// environment variables) over the demo defaults, and the AUI auth of `--aui-auth` and the
/// `--aui-login-*` options (flag, environment, then `[target.aui]` of `--config`); the secrets
/// given are kept for redaction.
pub fn credentials(args: &crate::cli::CredentialArgs) -> Result<Credentials> {
    let mut creds = Credentials::default();
    let pairs = [
        ("--alibaba-key", &args.alibaba_key, &mut creds.alibaba_key),
        ("--aui-user", &args.aui_user, &mut creds.aui_user),
        ("--aui-app", &args.aui_app, &mut creds.aui_app),
        ("--duix-app", &args.duix_app, &mut creds.duix_app),
    ];
    let mut given = Vec::new();
    for (flag, value, slot) in pairs {
        if let Some(value) = value {
            *slot = Pair::parse(flag, value)?;
            given.push(slot.secret.clone());
        }
    }
    creds.aui_auth = aui_auth(args, &aui_target_config(args)?)?;
    given.extend(creds.aui_auth.secrets());
    creds.given = target::Secrets(given);
    Ok(creds)
}

/// `[target.aui]` of `--config`; empty without one.
pub fn aui_target_config(args: &crate::cli::CredentialArgs) -> Result<AuiTargetConfig> {
    match &args.config {
        None => Ok(AuiTargetConfig::default()),
        // The platform sections are the mocks' and their environment variables are not read here.
        Some(path) => Ok(MockConfig::load(Some(path), |_| None)?.target.aui),
    }
}

/// The AUI auth: `--aui-auth` (or AGENTPROOF_CHECK_AUI_AUTH), else the file's `auth`; each login
/// option from its flag, else the file.
fn aui_auth(args: &crate::cli::CredentialArgs, file: &AuiTargetConfig) -> Result<AuiAuth> {
    let specs: Vec<String> = match args.aui_auth.is_empty() {
        true => file.auth.items(),
        false => args.aui_auth.clone(),
    };
    // The environment variable holds one spec per line; a trailing newline is no spec.
    let specs: Vec<&str> = specs
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let auth = AuiAuth::parse(&specs).map_err(|e| anyhow!("--aui-auth: {e}"))?;
    let pick = |flag: &Option<String>, file: &Option<String>| flag.clone().or_else(|| file.clone());
    let path = pick(&args.aui_login_path, &file.login_path);
    let body = pick(&args.aui_login_body, &file.login_body);
    let pointer = pick(&args.aui_login_token, &file.login_token);
    auth.with_login(path.as_deref(), body.as_deref(), pointer.as_deref())
        .map_err(|e| {
            let flag = match e {
                AuthError::LoginPath(_) => "--aui-login-path",
                AuthError::LoginBody(_) => "--aui-login-body",
                _ => "--aui-login-token",
            };
            anyhow!("{flag}: {e}")
        })
}

/// The file's `routes`: `"served"`, `"all"`, or a list of names.
fn aui_routes_of(file: &AuiTargetConfig) -> Result<aui_target::Required> {
    let flag = "[target.aui] routes";
    match &file.routes {
        OneOrMany::Absent => Ok(aui_target::Required::Served),
        OneOrMany::One(text) => aui_target::Required::parse(flag, text),
        OneOrMany::Many(names) => aui_target::Required::parse(flag, &names.join(",")),
    }
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Everything a suite needs about its target.
#[derive(Clone)]
pub struct Ctx {
    pub target: Target,
    pub creds: Credentials,
    pub seed: u64,
    pub bad_inputs: usize,
    pub http: Http,
    pub progress: Progress,
    /// The target clock's offset from ours, while the expiry suite has moved it.
    pub clock: ClockOffset,
}

impl Ctx {
    pub fn platform(&self) -> Platform {
        self.target.platform
    }

    pub fn url(&self) -> &str {
        &self.target.url
    }

    /// Why a case needing `paths` of an AUI target is skipped: one of them is not served (and
    /// not required by `--aui-routes`).
    pub fn unserved(&self, paths: &[&str]) -> Option<String> {
        self.target.served.as_ref()?.skip_reason(paths)
    }
}

/// `agentproof check`: plan, run, write the reports, exit 0/1 (2 comes back as an error).
pub async fn run_cli(args: CheckArgs) -> Result<u8> {
    let plan = Plan::from_args(&args)?;
    eprintln!(
        "agentproof check: seed {} (replay with --seed {})",
        plan.seed, plan.seed
    );
    let progress = Progress::new(plan.progress_bar);
    let run = execute(&plan, &progress).await;
    progress.finish();
    let run = run?;
    let written = reports::write_all(&run, &plan.report_dir).with_context(|| {
        format!(
            "cannot write the reports into --report-dir {}",
            plan.report_dir.display()
        )
    })?;
    if let Some(junit) = &plan.junit {
        std::fs::write(junit, reports::render::junit::render(&run))
            .with_context(|| format!("cannot write --junit {}", junit.display()))?;
    }
    let verdict = run.verdict();
    for suite in &run.suites {
        for violation in reports::slo::Slo::default().evaluate(&suite.latency) {
            println!(
                "SLO broken in {}: {}: {violation}",
                suite.qualified_name(),
                violation.route
            );
        }
    }
    println!(
        "{} passed, {} failed, {} skipped, {} SLO violations; reports in {} (open {})",
        verdict.passed,
        verdict.failed,
        verdict.skipped,
        verdict.slo_violations,
        plan.report_dir.display(),
        written.html.display()
    );
    Ok(u8::try_from(run.exit_code()).unwrap_or(1))
}

/// Starts the embedded mocks (no targets) or probes the targets, then runs every selected suite.
pub async fn execute(plan: &Plan, progress: &Progress) -> Result<Run> {
    let started_at = now_rfc3339();
    let started = Instant::now();
    let http = Http::with_timeout(plan.timeout)?;
    let (embedded, targets, creds) = if plan.targets.is_empty() {
        let embedded = Embedded::start(&EmbeddedOptions::ephemeral(), MockConfig::default())
            .await
            .context("cannot start the embedded mocks")?;
        let creds = Credentials::from_info(&embedded.info);
        let urls: Vec<(Platform, String)> = Platform::ALL
            .into_iter()
            .filter_map(|p| embedded.url(p.name()).map(|u| (p, u.to_string())))
            .collect();
        (Some(embedded), urls, creds)
    } else {
        (None, plan.targets.clone(), plan.credentials.clone())
    };
    let result = run_targets(plan, progress, &http, &targets, &creds).await;
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    let suites = result?;
    Ok(Run {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        target: targets
            .iter()
            .map(|(p, u)| (p.name().to_string(), u.clone()))
            .collect::<BTreeMap<_, _>>(),
        seed: Some(plan.seed),
        suites,
    })
}

async fn run_targets(
    plan: &Plan,
    progress: &Progress,
    http: &Http,
    targets: &[(Platform, String)],
    creds: &Credentials,
) -> Result<Vec<Suite>> {
    let mut contexts = Vec::new();
    for (platform, url) in targets {
        let http = http.for_target();
        let mut target = probe(&http, *platform, url).await?;
        if *platform == Platform::Aui && !plan.targets.is_empty() {
            let served =
                aui_target::probe(&http, url, creds, &plan.aui_routes, &aui_target::ROUTES);
            let served = served.await?;
            eprintln!(
                "agentproof check: aui target with --aui-auth {}: {}",
                creds.aui_auth.describe(),
                served.summary()
            );
            target.served = Some(served);
        }
        contexts.push(Ctx {
            target,
            creds: creds.clone(),
            seed: plan.seed,
            bad_inputs: plan.bad_inputs,
            http,
            progress: progress.clone(),
            clock: ClockOffset::default(),
        });
    }
    let parallel = contexts.iter().map(|ctx| async move {
        let mut suites = Vec::new();
        for name in SUITES.iter().filter(|s| **s != "expiry") {
            if plan.wants(ctx.platform(), name) {
                suites.push(run_suite(ctx, name).await);
            }
        }
        suites
    });
    let mut suites: Vec<Suite> = futures_util::future::join_all(parallel)
        .await
        .into_iter()
        .flatten()
        .collect();
    for ctx in &contexts {
        if plan.wants(ctx.platform(), "expiry") {
            suites.push(run_suite(ctx, "expiry").await);
        }
    }
    Ok(suites)
}

/// Checks that `url` can be reached (exit 2 naming the URL otherwise) and whether it has the
/// mocks' `/__admin/clock` and `/__admin/faults` (each probed once per target). A target that
/// accepts the connection but does not answer in time is checked anyway: it is broken, not absent,
/// and its suites fail saying so.
pub async fn probe(http: &Http, platform: Platform, url: &str) -> Result<Target> {
    let route = format!("{platform} GET /__admin/clock");
    let request = http.client().get(format!("{url}/__admin/clock"));
    let reply = http.send(platform, &route, request).await;
    if let (Some(why), false) = (&reply.failure, reply.timed_out) {
        if reply.status == 0 {
            bail!("the {platform} target {url} cannot be reached: {why}");
        }
    }
    let has_clock =
        reply.status == 200 && reply.field("now_ms").is_some_and(serde_json::Value::is_i64);
    let route = format!("{platform} GET /__admin/faults");
    let request = http.client().get(format!("{url}/__admin/faults"));
    let reply = http.send(platform, &route, request).await;
    let has_faults = reply.status == 200
        && reply
            .field("faults")
            .is_some_and(serde_json::Value::is_array);
    Ok(Target {
        platform,
        url: url.to_string(),
        has_clock,
        has_faults,
        served: None,
    })
}

/// Runs one suite of one platform.
pub async fn run_suite(ctx: &Ctx, name: &str) -> Suite {
    let mut run = SuiteRun::new(ctx.platform(), name, &ctx.http, &ctx.progress)
        .redacting(ctx.creds.given.0.clone());
    match name {
        "contract" => suites::contract(ctx, &mut run).await,
        "errors" => suites::errors(ctx, &mut run).await,
        "lifecycle" => suites::lifecycle(ctx, &mut run).await,
        "bad-input" => badinput::run(ctx, &mut run).await,
        _ => expiry::run(ctx, &mut run).await,
    }
    run.finish()
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> CheckArgs {
        let mut argv = vec!["agentproof", "check"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Check(args) => args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_plan_names_its_targets_and_seed() {
        let plan = Plan::from_args(&args(&["--target", "aui=http://h:1", "--seed", "7"])).unwrap();
        assert_eq!(
            plan.targets,
            vec![(Platform::Aui, "http://h:1".to_string())]
        );
        assert_eq!(plan.seed, 7);
        assert!(plan.wants(Platform::Aui, "expiry"));
    }

    #[test]
    fn suites_filter_by_name_or_platform_dot_name() {
        let plan =
            Plan::from_args(&args(&["--suite", "errors", "--suite", "duix.expiry"])).unwrap();
        assert!(plan.wants(Platform::Aui, "errors"));
        assert!(plan.wants(Platform::Duix, "expiry"));
        assert!(!plan.wants(Platform::Aui, "expiry"));
    }

    #[test]
    fn usage_errors_name_the_flag() {
        for (argv, needle) in [
            (vec!["--suite", "speed"], "unknown suite"),
            (
                vec!["--suite", "bad-inputs"],
                r#"did you mean "bad-input"?"#,
            ),
            (
                vec!["--suite", "aui.contracts"],
                r#"did you mean "contract"?"#,
            ),
            (vec!["--suite", "expirey"], r#"did you mean "expiry"?"#),
            (vec!["--suite", "zoom.errors"], "unknown platform"),
            (
                vec!["--target", "aui=http://a", "--target", "aui=http://b"],
                "twice",
            ),
            (vec!["--aui-user", "nocolon"], "--aui-user"),
        ] {
            let error = Plan::from_args(&args(&argv)).unwrap_err().to_string();
            assert!(error.contains(needle), "{argv:?}: {error}");
        }
    }

    #[test]
    fn secrets_given_by_flag_are_kept_for_redaction_but_never_debug_printed() {
        let plan = Plan::from_args(&args(&["--alibaba-key", "LTAIx:Sup3rSecret"])).unwrap();
        assert_eq!(plan.credentials.given.0, vec!["Sup3rSecret".to_string()]);
        assert!(!format!("{plan:?}").contains("Sup3rSecret"));
    }

    #[test]
    fn aui_auth_and_routes_come_from_flags_and_their_secrets_are_kept_for_redaction() {
        let plan = Plan::from_args(&args(&[
            "--aui-auth",
            "bearer:Sup3rToken",
            "--aui-auth",
            "header:X-Api-Key:Sup3rKey",
            "--aui-routes",
            "getRtcAuthToken,describeAIAgentInstance",
        ]))
        .unwrap();
        let auth = &plan.credentials.aui_auth;
        assert_eq!(auth.describe(), "bearer:***, header:X-Api-Key:***");
        assert_eq!(plan.credentials.given.0, ["Sup3rToken", "Sup3rKey"]);
        assert_eq!(
            plan.aui_routes.describe(),
            "getRtcAuthToken,describeAIAgentInstance"
        );
        assert!(!format!("{plan:?}").contains("Sup3r"), "{plan:?}");
        let login = Plan::from_args(&args(&["--aui-login-path", "/sso/login"])).unwrap();
        assert_eq!(
            login.credentials.aui_auth.login().unwrap().path,
            "/sso/login"
        );
    }

    #[test]
    fn aui_options_fall_back_to_the_config_files_target_section() {
        let tmp = tempfile::TempDir::with_prefix("agentproof-check-config-").unwrap();
        let dir = tmp.path();
        let file = dir.join("agentproof.toml");
        let text = "[aui]\napp_id = \"mock-side\"\n\n[target.aui]\nauth = \"none\"\nroutes = [\"getRtcAuthToken\"]\n";
        std::fs::write(&file, text).unwrap();
        let path = file.to_str().unwrap();
        let plan = Plan::from_args(&args(&["--config", path])).unwrap();
        assert_eq!(plan.credentials.aui_auth.describe(), "none");
        assert_eq!(plan.aui_routes.describe(), "getRtcAuthToken");
        let flags_win = Plan::from_args(&args(&[
            "--config",
            path,
            "--aui-auth",
            "login",
            "--aui-routes",
            "all",
        ]))
        .unwrap();
        assert_eq!(
            flags_win.credentials.aui_auth.describe(),
            "login at /api/v2/aiagent/login"
        );
        assert_eq!(flags_win.aui_routes, aui_target::Required::All);
        std::fs::write(&file, "[target.aui]\nrotues = \"all\"\n").unwrap();
        let error = format!(
            "{:#}",
            Plan::from_args(&args(&["--config", path])).unwrap_err()
        );
        assert!(
            error.contains("rotues") && error.contains("agentproof.toml"),
            "{error}"
        );
    }

    #[test]
    fn bad_aui_options_name_their_flag() {
        for (argv, needle) in [
            (vec!["--aui-auth", "token:abc"], "--aui-auth"),
            (
                vec!["--aui-auth", "none", "--aui-auth", "bearer:x"],
                "exclude each other",
            ),
            (vec!["--aui-login-token", "token"], "--aui-login-token"),
            (vec!["--aui-login-body", "{user}"], "--aui-login-body"),
            (vec!["--aui-routes", "startAgent"], "--aui-routes"),
        ] {
            let error = Plan::from_args(&args(&argv)).unwrap_err().to_string();
            assert!(error.contains(needle), "{argv:?}: {error}");
        }
    }

    #[test]
    fn fewer_than_500_bad_inputs_is_refused_by_the_parser() {
        let argv = ["agentproof", "check", "--bad-inputs", "10"];
        assert!(crate::cli::Cli::try_parse_from(argv).is_err());
    }
}
