//! The goose attack: a run's shape becomes a `GooseConfiguration` (no second argument parser),
//! the journeys' scenarios are registered, and the run's end is reported back: planned, or cut
//! short. Stages become goose's test plan. `agentproof load` runs it, and so can a goose binary
//! of your own ([`crate::library`]).
//!
//! goose's telnet controller stays off: it would bind a fixed port. Its
//! request timeout is ours, its end-of-run tables are not printed (stdout is for the verdict),
//! and its own HTML and JSON reports go into the report folder beside ours.

use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::Scenario;
use goose::GooseAttack;
use std::path::PathBuf;

/// Where `--dashboard` serves goose's live dashboard (goose's own default port).
pub const DASHBOARD_PORT: u16 = 5118;

/// The shape of an attack and where goose's own reports go.
#[derive(Clone, Debug)]
pub struct AttackOptions {
    /// Users at full load (ignored with stages).
    pub users: u64,
    /// Users started per second.
    pub increase_rate: f64,
    /// Seconds of load once the users run.
    pub run_time_secs: u64,
    /// `(users, seconds)` stages instead of the three above.
    pub stages: Option<Vec<(u64, u64)>>,
    /// The request timeout, ms.
    pub timeout_ms: u64,
    /// Where goose writes goose-report.html and goose-report.json (created if missing).
    pub report_dir: PathBuf,
    /// Serve goose's live dashboard on 127.0.0.1:[`DASHBOARD_PORT`].
    pub dashboard: bool,
}

/// How the attack ended.
pub struct Ended {
    /// Why it stopped early (Ctrl-C), if it did.
    pub cut_short: Option<String>,
}

/// Runs `scenarios` against `host` (the first target; requests carry full URLs); the error
/// says why it could not run.
pub async fn run(
    scenarios: Vec<Scenario>,
    setup: &AttackOptions,
    host: &str,
) -> Result<Ended, String> {
    std::fs::create_dir_all(&setup.report_dir).map_err(|e| {
        format!(
            "cannot create the report folder {}: {e}",
            setup.report_dir.display()
        )
    })?;
    let config = configuration(setup, host);
    goose::reset_killswitch();
    let mut attack = GooseAttack::initialize_with_config(config)
        .map_err(|e| format!("goose refused the configuration: {e}"))?;
    if let Some(stages) = &setup.stages {
        let plan = stages
            .iter()
            .map(|(users, secs)| format!("{users},{secs}s"))
            .collect::<Vec<_>>()
            .join(";");
        attack = attack
            .set_default(GooseDefault::TestPlan, plan.as_str())
            .map(|boxed| *boxed)
            .map_err(|e| format!("goose refused the stages {plan}: {e}"))?;
    }
    for scenario in scenarios {
        attack = attack.register_scenario(scenario);
    }
    let quiet = StdoutToStderr::new();
    let executed = attack.execute().await;
    drop(quiet);
    executed.map_err(|e| format!("the load test could not run: {e}"))?;
    let cut_short = goose::is_killswitch_triggered()
        .then(|| "interrupted (Ctrl-C) before the planned end".to_string());
    goose::reset_killswitch();
    Ok(Ended { cut_short })
}

/// The goose configuration of a setup.
fn configuration(setup: &AttackOptions, host: &str) -> GooseConfiguration {
    let report = |name: &str| setup.report_dir.join(name).display().to_string();
    // Field by field: GooseConfiguration has private fields, so no struct literal.
    let mut config = GooseConfiguration::default();
    config.host = Some(host.to_string());
    // Stages go in as goose's test plan (a default: the configuration's field is private).
    if setup.stages.is_none() {
        config.users = Some(usize::try_from(setup.users).unwrap_or(usize::MAX));
        config.increase_rate = Some(setup.increase_rate.to_string());
        config.run_time = Some(setup.run_time_secs.to_string());
    }
    config.timeout = Some(format!("{:.3}", setup.timeout_ms as f64 / 1000.0));
    config.report_file = vec![report("goose-report.html"), report("goose-report.json")];
    config.no_print_metrics = true;
    // goose keys its error table by the whole error text, so a long run against a target
    // that fails in many ways would grow it without bound; our report keeps a capped breakdown.
    config.no_error_summary = true;
    config.quiet = 1;
    config.no_telnet = true;
    if setup.dashboard {
        // goose logs the dashboard's address at info level, which our log filter hides; we
        // pin it to loopback and print it ourselves.
        config.dashboard = true;
        config.dashboard_host = Some("127.0.0.1".to_string());
        config.dashboard_port = Some(DASHBOARD_PORT);
        eprintln!("goose dashboard (read-only): http://127.0.0.1:{DASHBOARD_PORT}/");
    }
    config
}

/// stdout sent to stderr while it lives: goose prints a line of its own to stdout when a test
/// plan has launched its users (not governed by its quiet flag), and stdout is for the verdict,
/// first. Nothing of ours is printed to stdout while the attack runs.
struct StdoutToStderr {
    #[cfg(target_os = "linux")]
    saved: Option<i32>,
}

impl StdoutToStderr {
    fn new() -> Self {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(target_os = "linux")]
        {
            // SAFETY: dup and dup2 on the process's own standard descriptors; a failure leaves
            // stdout as it was (saved is None).
            let saved = unsafe { libc::dup(1) };
            if saved >= 0 && unsafe { libc::dup2(2, 1) } >= 0 {
                return StdoutToStderr { saved: Some(saved) };
            }
            StdoutToStderr { saved: None }
        }
        #[cfg(not(target_os = "linux"))]
        StdoutToStderr {}
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        #[cfg(target_os = "linux")]
        if let Some(saved) = self.saved.take() {
            // SAFETY: restores the descriptor saved in `new`, then closes the copy.
            unsafe {
                libc::dup2(saved, 1);
                libc::close(saved);
            }
        }
    }
}
