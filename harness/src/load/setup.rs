//! `agentproof load`'s arguments, checked and resolved into a [`Setup`] before anything runs:
//! the journeys (a built-in scenario or a `--scenario-file`, compiled), the load shape (the
//! file's `[load]` with the flags given over it), the SLO (the default, the file's rules, then
//! `--slo`), the targets (the file's, then `--target`), a worker's share. Every error here is a
//! usage error (exit 2) that names the flag or the file's line.

use crate::check::target::{parse_target, Credentials};
use crate::cli::LoadArgs;
use crate::net::webhook_url;
use anyhow::{anyhow, bail, Result};
use reports::load::{LoadReport, LoadSlo};
use scenarios::Journeys;
use std::path::PathBuf;
use std::sync::Arc;

/// Sessions the embedded DUIX grants its demo app under load: enough for every user, so a 1009
/// is never an artefact of the test; the mock's own ceiling.
pub const EMBEDDED_DUIX_QUOTA: u32 = 1000;

/// Users when neither the flags nor the file say.
const DEFAULT_USERS: u64 = 10;
/// Run time when neither the flags nor the file say.
const DEFAULT_RUN_SECS: u64 = 30;

/// The parsed arguments: what to run, against what, judged how.
pub struct Setup {
    /// The compiled journeys (a built-in scenario's or the file's).
    pub journeys: Arc<Journeys>,
    /// `--scenario-file`, when the journeys come from one.
    pub scenario_file: Option<PathBuf>,
    pub targets: Vec<(String, String)>,
    pub credentials: Credentials,
    pub webhook_bearer: Option<String>,
    pub dialogue: scenarios::Dialogue,
    /// `--llm-api-key`, `--llm-model`: what `llm.chat` calls carry.
    pub llm_api_key: Option<String>,
    pub llm_model: String,
    pub slo: LoadSlo,
    /// Each step row's own SLO, over the run's.
    pub route_slos: Vec<(String, LoadSlo)>,
    pub seed: u64,
    /// Users at full load (the peak of the stages).
    pub users: u64,
    pub increase_rate: f64,
    /// The planned load after the ramp (with stages: their whole length).
    pub run_time_secs: u64,
    /// Stages, `(users, seconds)`, instead of a ramp and a run time.
    pub stages: Option<Vec<(u64, u64)>>,
    pub rate: Option<f64>,
    pub report_dir: PathBuf,
    pub junit: Option<PathBuf>,
    /// `--baseline`, read before any load so a typo costs nothing.
    pub baseline: Option<(PathBuf, LoadReport)>,
    pub dashboard: bool,
    pub plain_progress: bool,
    /// `--worker I/N`: this process is worker I of N, with its share of users and rate.
    pub worker: Option<(u32, u32)>,
    /// The index of this process's first user among the run's (earlier workers' users first).
    pub first_user: u64,
    /// `--start-at`: hold until then.
    pub start_at: Option<time::OffsetDateTime>,
    /// `--config`'s mock sections: the embedded mocks' configuration, read before any load.
    pub mock_config: Option<crate::config::MockConfig>,
}

impl Setup {
    /// Parses and checks the arguments; every error here is a usage error (exit 2).
    pub fn from_args(args: &LoadArgs) -> Result<Setup> {
        let (mut journeys, scenario_file) = journeys(args)?;
        let shape = Shape::resolve(args, &journeys)?;
        let (slo, route_slos) = slo(args, &journeys)?;
        if let Some(rate) = shape.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0) {
                bail!("--rate {rate}: requests per second must be above 0 and at most 1000000");
            }
        }
        let worker = args.worker;
        let share = match worker {
            None => shape.clone(),
            Some((index, count)) => shape.share(index, count)?,
        };
        let first_user = match worker {
            None => 0,
            Some((index, count)) => (0..index).map(|i| share_of(shape.users, i, count)).sum(),
        };
        if let Some((index, count)) = worker {
            journeys.split_feeders(index, count);
        }
        journeys
            .check_users(share.users)
            .map_err(|why| anyhow!("{why}"))?;
        let targets = targets(args, &journeys)?;
        let needs_duix_sessions = journeys.platforms.contains(&"duix");
        if targets.is_empty() && needs_duix_sessions && shape.users > u64::from(EMBEDDED_DUIX_QUOTA)
        {
            bail!(
                "{} users: the embedded DUIX grants at most {EMBEDDED_DUIX_QUOTA} sessions, so more users \
                 would get 1009 (quota) as a test artefact; use at most {EMBEDDED_DUIX_QUOTA} users or a real --target duix=URL",
                shape.users
            );
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
        Ok(Setup {
            journeys: Arc::new(journeys),
            scenario_file,
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
            route_slos,
            seed: args.seed.unwrap_or_else(random_seed),
            users: share.users,
            increase_rate: share.increase_rate,
            run_time_secs: share.run_time_secs,
            stages: share.stages,
            rate: share.rate,
            report_dir: args.report_dir.clone(),
            junit: args.junit.clone(),
            baseline,
            dashboard: args.dashboard,
            plain_progress: args.no_progress,
            worker,
            first_user,
            start_at: args.start_at,
            mock_config: args
                .credentials
                .config
                .as_deref()
                .map(|path| crate::config::MockConfig::load(Some(path), |_| None))
                .transpose()
                .map_err(|e| anyhow!("--config: {e:#}"))?,
        })
    }

    /// The scenario's name in reports.
    pub fn name(&self) -> &str {
        &self.journeys.name
    }

    /// The platforms the journeys send to.
    pub fn platforms(&self) -> &[&'static str] {
        &self.journeys.platforms
    }

    /// Every secret given on the command line or in the environment: never printed or reported.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = self.credentials.given.0.clone();
        secrets.extend(self.webhook_bearer.clone());
        secrets.extend(self.llm_api_key.clone());
        secrets
    }

    /// Seconds from the first user's start until the planned end.
    pub fn planned_secs(&self) -> f64 {
        match &self.stages {
            Some(stages) => stages.iter().map(|(_, secs)| *secs as f64).sum(),
            None => self.users as f64 / self.increase_rate + self.run_time_secs as f64,
        }
    }
}

/// The journeys to run: a built-in scenario or a journey file.
fn journeys(args: &LoadArgs) -> Result<(Journeys, Option<PathBuf>)> {
    if let Some(path) = &args.scenario_file {
        return Ok((Journeys::load(path)?, Some(path.clone())));
    }
    let name = args.scenario.as_deref().unwrap_or_default();
    // A path where a name goes (`--scenario journeys/mine.toml`, as a Kubernetes ConfigMap
    // mounts it): the journey file.
    if scenarios::find(name).is_none() && (name.ends_with(".toml") || name.contains('/')) {
        let path = PathBuf::from(name);
        return Ok((Journeys::load(&path)?, Some(path)));
    }
    let builtin = scenarios::find(name).ok_or_else(|| {
        anyhow!(
            "--scenario {name:?}: no such scenario; scenarios are {} (agentproof load --list)",
            names()
        )
    })?;
    Ok((Journeys::builtin(builtin)?, None))
}

/// The run's SLO (the default, the file's rules, `--slo`) and each step row's own: a step's
/// `slo`, then the rules that name rows (`ttft p95<800ms`: the rows whose name contains `ttft`).
fn slo(args: &LoadArgs, journeys: &Journeys) -> Result<(LoadSlo, Vec<(String, LoadSlo)>)> {
    let mut slo = LoadSlo {
        timeout_ms: args.timeout_ms,
        ..LoadSlo::default()
    };
    let rules = journeys
        .slo
        .iter()
        .map(|r| ("the journey file's slo", r))
        .chain(args.slo.iter().map(|r| ("--slo", r)));
    let mut row_rules = Vec::new();
    for (origin, rule) in rules {
        match scenarios::journey::row_rule(rule) {
            Some((word, own)) => row_rules.push((origin, rule, word, own)),
            None => slo.parse_rule(rule).map_err(|e| anyhow!("{origin}: {e}"))?,
        }
    }
    // The client timeout is one for the run: --timeout-ms.
    slo.timeout_ms = args.timeout_ms;
    let mut route_slos = Vec::new();
    for (route, rules) in &journeys.route_slos {
        let own = slo
            .for_route(rules)
            .map_err(|e| anyhow!("the step {route:?}'s slo: {e}"))?;
        route_slos.push((route.clone(), own));
    }
    for (origin, rule, word, own) in row_rules {
        let rows: Vec<&String> = journeys.rows.iter().filter(|r| r.contains(&word)).collect();
        if rows.is_empty() {
            bail!(
                "{origin} {rule:?}: no row of {} has {word:?} in its name; its rows: {}",
                journeys.name,
                journeys.rows.join(", ")
            );
        }
        for row in rows {
            let index = match route_slos.iter().position(|(r, _)| r == row) {
                Some(index) => index,
                None => {
                    route_slos.push((row.clone(), slo));
                    route_slos.len() - 1
                }
            };
            let (_, current) = &mut route_slos[index];
            *current = current
                .for_route(&[&own])
                .map_err(|e| anyhow!("{origin} {rule:?}: {e}"))?;
        }
    }
    Ok((slo, route_slos))
}

/// The load shape: the file's, each part the flags give over it.
#[derive(Clone, Debug)]
struct Shape {
    users: u64,
    increase_rate: f64,
    run_time_secs: u64,
    stages: Option<Vec<(u64, u64)>>,
    rate: Option<f64>,
}

impl Shape {
    fn resolve(args: &LoadArgs, journeys: &Journeys) -> Result<Shape> {
        let file = &journeys.load;
        let flags_shape =
            args.users.is_some() || args.increase_rate.is_some() || args.run_time.is_some();
        let stages: Option<Vec<(u64, u64)>> = match (&args.stages, &file.stages) {
            (Some(stages), _) => Some(stages.0.clone()),
            // Flags for users or run time replace the file's stages.
            (None, Some(stages)) if !flags_shape => Some(
                stages
                    .iter()
                    .map(|(u, d)| (*u, d.as_secs().max(1)))
                    .collect(),
            ),
            _ => None,
        };
        let rate = args.rate.or(file.rate);
        if let Some(stages) = stages {
            let users = stages.iter().map(|(u, _)| *u).max().unwrap_or(1).max(1);
            let run_time_secs = stages.iter().map(|(_, s)| *s).sum();
            let first = stages[0];
            let increase_rate = first.0.max(1) as f64 / first.1.max(1) as f64;
            return Ok(Shape {
                users,
                increase_rate,
                run_time_secs,
                stages: Some(stages),
                rate,
            });
        }
        let users = args.users.or(file.users).unwrap_or(DEFAULT_USERS);
        let increase_rate = match (args.increase_rate, args.users) {
            (Some(rate), _) => rate,
            // --users without --increase-rate starts them all at once, as before files.
            (None, Some(users)) => users as f64,
            (None, None) => file.increase_rate.unwrap_or(users as f64),
        };
        if !(increase_rate.is_finite() && increase_rate > 0.0) {
            bail!("--increase-rate {increase_rate}: users per second must be above 0");
        }
        let run_time_secs = args
            .run_time
            .or(file.duration.map(|d| d.as_secs().max(1)))
            .unwrap_or(DEFAULT_RUN_SECS);
        Ok(Shape {
            users,
            increase_rate,
            run_time_secs,
            stages: None,
            rate,
        })
    }

    /// Worker `index`'s share of `count`: of the users (of each stage), the increase rate and
    /// the request rate; the shares add up exactly.
    fn share(&self, index: u32, count: u32) -> Result<Shape> {
        let (users, rate) = worker_share(self.users, self.rate, index, count)?;
        let stages = self.stages.as_ref().map(|stages| {
            stages
                .iter()
                .map(|(u, secs)| (share_of(*u, index, count), *secs))
                .collect()
        });
        Ok(Shape {
            users,
            increase_rate: self.increase_rate / f64::from(count),
            run_time_secs: self.run_time_secs,
            stages,
            rate,
        })
    }
}

/// `total` split over `count` workers: worker `index` gets its share, and the shares add up to
/// `total` exactly (the first `total % count` workers take one more).
pub fn share_of(total: u64, index: u32, count: u32) -> u64 {
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
            let own = share_of(milli, index, count);
            if own == 0 {
                bail!("--rate {rate} over {count} workers leaves worker {index} no requests");
            }
            Some(own as f64 / 1000.0)
        }
    };
    Ok((share_of(users, index, count), rate))
}

/// The targets: the file's, each platform `--target` gives replaced.
fn targets(args: &LoadArgs, journeys: &Journeys) -> Result<Vec<(String, String)>> {
    let mut targets = parse_targets(&args.target)?;
    for (platform, url) in &journeys.targets {
        if !targets.iter().any(|(p, _)| p == platform) {
            targets.push((platform.clone(), url.clone()));
        }
    }
    Ok(targets)
}

/// `PLATFORM=URL` for alibaba, aui, duix (as `check` reads them), webhook, llm and http.
pub(crate) fn parse_targets(specs: &[String]) -> Result<Vec<(String, String)>> {
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
            // Any server, for http.request steps: the URL is used as given, like a webhook's.
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

/// The built-in scenarios' names.
pub fn names() -> String {
    scenarios::BUILTINS
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::shown_url;

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
            let sum: u64 = (0..count).map(|i| share_of(total, i, count)).sum();
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
}
