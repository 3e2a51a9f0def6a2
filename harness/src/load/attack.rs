//! The goose attack: our arguments become a `GooseConfiguration` (no second argument parser),
//! the journeys' scenarios are registered, and the run's end is reported back: planned, or cut
//! short. Stages become goose's test plan.
//!
//! goose's telnet controller stays off: it would bind a fixed port. Its
//! request timeout is ours, its end-of-run tables are not printed (stdout is for the verdict),
//! and its own HTML and JSON reports go into the report folder beside ours.

use super::Setup;
use anyhow::{anyhow, Result};
use goose::config::{GooseConfiguration, GooseDefault, GooseDefaultType};
use goose::goose::Scenario;
use goose::GooseAttack;

/// Where `--dashboard` serves goose's live dashboard (goose's own default port).
pub const DASHBOARD_PORT: u16 = 5118;

/// How the attack ended.
pub struct Ended {
    /// Why it stopped early (Ctrl-C), if it did.
    pub cut_short: Option<String>,
}

/// Runs `scenarios` against `host` (the first target; requests carry full URLs).
pub async fn run(scenarios: Vec<Scenario>, setup: &Setup, host: &str) -> Result<Ended> {
    std::fs::create_dir_all(&setup.report_dir).map_err(|e| {
        anyhow!(
            "cannot create --report-dir {}: {e}",
            setup.report_dir.display()
        )
    })?;
    let config = configuration(setup, host);
    goose::reset_killswitch();
    let mut attack = GooseAttack::initialize_with_config(config)
        .map_err(|e| anyhow!("goose refused the configuration: {e}"))?;
    if let Some(stages) = &setup.stages {
        let plan = stages
            .iter()
            .map(|(users, secs)| format!("{users},{secs}s"))
            .collect::<Vec<_>>()
            .join(";");
        attack = attack
            .set_default(GooseDefault::TestPlan, plan.as_str())
            .map(|boxed| *boxed)
            .map_err(|e| anyhow!("goose refused the stages {plan}: {e}"))?;
    }
    for scenario in scenarios {
        attack = attack.register_scenario(scenario);
    }
    let quiet = StdoutToStderr::new();
    let executed = attack.execute().await;
    drop(quiet);
    executed.map_err(|e| anyhow!("the load test could not run: {e}"))?;
    let cut_short = goose::is_killswitch_triggered()
        .then(|| "interrupted (Ctrl-C) before the planned end".to_string());
    goose::reset_killswitch();
    Ok(Ended { cut_short })
}

/// The goose configuration of a setup.
fn configuration(setup: &Setup, host: &str) -> GooseConfiguration {
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
    config.timeout = Some(format!("{:.3}", setup.slo.timeout_ms as f64 / 1000.0));
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
