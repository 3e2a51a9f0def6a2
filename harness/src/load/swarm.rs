//! Many load processes, one exact result: `agentproof load --workers N` spawns N worker
//! processes of this binary (`--worker I/N`, one `--start-at` for all), waits for them, and
//! merges their folders as `agentproof report merge` does ([`merge_folders`]).
//!
//! Without `--target`, this process starts the embedded mocks once and points every worker at
//! them: the workers load one set of mocks, as they would load one real target.

use super::setup::{worker_share, EMBEDDED_DUIX_QUOTA};
use super::Setup;
use crate::cli::LoadArgs;
use crate::config::MockConfig;
use crate::mock_cmd::{Embedded, EmbeddedOptions};
use anyhow::{anyhow, bail, Context, Result};
use reports::load::{read_load_report, LoadReport};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Flags of ours the workers must not inherit (each gets its own, or the parent keeps them).
const PARENT_ONLY: [&str; 9] = [
    "--dashboard",
    "--no-progress",
    "--workers",
    "--report-dir",
    "--junit",
    "--baseline",
    "--start-at",
    "--worker",
    "--dry-run",
];

/// `--workers N`: run, wait, merge into `--report-dir`, judge once.
pub async fn run_local(args: &LoadArgs, workers: u32) -> Result<u8> {
    // Checks every argument (and each worker's share) before anything starts.
    let setup = Setup::from_args(args)?;
    worker_share(setup.users, setup.rate, 0, workers)?;
    let embedded = match args.target.is_empty() {
        true => Some(embedded_mocks().await?),
        false => None,
    };
    let mut passed = worker_args(std::env::args().skip(2).collect());
    if let Some(mocks) = &embedded {
        for platform in setup.platforms() {
            let url = mocks
                .url(platform)
                .ok_or_else(|| anyhow!("the embedded mocks have no {platform}"))?;
            passed.extend(["--target".to_string(), format!("{platform}={url}")]);
        }
    }
    // Time for every process to start and resolve its targets before the common instant.
    let start_at = time::OffsetDateTime::now_utc()
        + time::Duration::milliseconds(2000 + 100 * i64::from(workers));
    let start_text = start_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    eprintln!(
        "agentproof load: {workers} worker processes, starting together at {start_text}, folders {}/worker-*",
        setup.report_dir.display()
    );
    let folders: Vec<PathBuf> = (0..workers)
        .map(|i| setup.report_dir.join(format!("worker-{i}")))
        .collect();
    let mut children = Vec::new();
    for (i, folder) in folders.iter().enumerate() {
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("load")
            .args(&passed)
            .args([
                "--worker",
                &format!("{i}/{workers}"),
                "--start-at",
                &start_text,
            ])
            .arg("--no-progress")
            .arg("--report-dir")
            .arg(folder)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a worker process")?;
        children.push(child);
    }
    let mut failures = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().await?;
        if !matches!(output.status.code(), Some(0 | 1)) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| l.starts_with("error"))
                .unwrap_or("");
            failures.push(format!(
                "worker {i}: exit {:?} {last}",
                output.status.code()
            ));
        }
    }
    if let Some(mocks) = embedded {
        mocks.shutdown().await;
    }
    if !failures.is_empty() {
        bail!(
            "{} of {workers} workers failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    merge_folders(
        &folders,
        &setup.report_dir,
        false,
        setup.junit.as_deref(),
        setup.baseline.as_ref().map(|(_, b)| b),
    )
    .await
}

/// The embedded mocks, started once for every worker.
async fn embedded_mocks() -> Result<Embedded> {
    let mut config = MockConfig::default();
    for app in &mut config.duix.apps {
        app.quota = EMBEDDED_DUIX_QUOTA;
    }
    Embedded::start(&EmbeddedOptions::ephemeral(), config)
        .await
        .context("cannot start the embedded mocks")
}

/// The command line's load arguments less the flags only the parent uses.
fn worker_args(args: Vec<String>) -> Vec<String> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        let flag = arg.split('=').next().unwrap_or_default();
        if PARENT_ONLY.contains(&flag) {
            // These three take no value; the others do unless `--flag=value`. (`--no-progress`
            // is given to every worker anyway: twice would be a usage error.)
            skip_value = !matches!(flag, "--dry-run" | "--dashboard" | "--no-progress")
                && !arg.contains('=');
            continue;
        }
        kept.push(arg);
    }
    kept
}

/// Reads the worker folders, merges them exactly, writes the merged reports into `out`,
/// prints the verdict first; 0 or 1 by the merged SLO, an error (exit 2) when they cannot
/// be merged.
pub async fn merge_folders(
    folders: &[PathBuf],
    out: &Path,
    allow_partial: bool,
    junit: Option<&Path>,
    baseline: Option<&LoadReport>,
) -> Result<u8> {
    let mut reports = Vec::new();
    for folder in folders {
        let report = read_load_report(folder).map_err(|e| anyhow!("{}: {e}", folder.display()))?;
        reports.push(report);
    }
    let mut merged =
        reports::load::merge(reports, allow_partial).map_err(|e| anyhow!("cannot merge: {e}"))?;
    merged.meta.merged_from = folders.iter().map(|f| f.display().to_string()).collect();
    merged.meta.command_line = super::masked_command_line(&[]);
    if let Some(baseline) = baseline {
        merged.compare_with(baseline);
    }
    let written = reports::load::write_load_reports(&merged, out)
        .with_context(|| format!("cannot write the merged reports into {}", out.display()))?;
    if let Some(junit) = junit {
        std::fs::write(junit, reports::render::load::junit::render(&merged))
            .with_context(|| format!("cannot write --junit {}", junit.display()))?;
    }
    println!("{}", merged.verdict_line());
    if let Some(partial) = &merged.meta.partial {
        println!("  PARTIAL: {partial}");
    }
    for line in merged.route_lines() {
        println!("  {line}");
    }
    for error in merged.errors.iter().take(10) {
        println!(
            "  error x{}: {}: {}",
            error.count, error.route, error.reason
        );
    }
    println!(
        "merged {} worker reports into {} (open {})",
        folders.len(),
        out.display(),
        written.html.display()
    );
    Ok(u8::try_from(merged.exit_code()).unwrap_or(1))
}

/// `agentproof report merge`.
pub async fn run_merge(args: &crate::cli::MergeArgs) -> Result<u8> {
    merge_folders(
        &args.dirs,
        &args.out,
        args.allow_partial,
        args.junit.as_deref(),
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_inherit_the_load_flags_but_not_the_parents() {
        let args = [
            "--scenario",
            "aui-token-storm",
            "--workers",
            "4",
            "--report-dir",
            "out",
            "--junit=x.xml",
            "--users",
            "8",
            "--dry-run",
            "--dashboard",
            "--no-progress",
            "--rate",
            "9",
        ];
        let kept = worker_args(args.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            kept,
            [
                "--scenario",
                "aui-token-storm",
                "--users",
                "8",
                "--rate",
                "9"
            ]
        );
    }
}
