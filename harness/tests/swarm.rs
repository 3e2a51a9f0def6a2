//! Swarms: `agentproof load --workers 4` spawns four real worker processes against the embedded
//! mocks, and their merged report must be exactly what one run of all their samples gives;
//! each worker's latency log must be readable by HdrHistogram's own Python port; a missing
//! worker is refused. Runs are a few seconds on loopback.

use reports::load::{read_load_report, LoadReport};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;

fn agentproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `$AGENTPROOF_VENV`, else `<workspace>/.venv`.
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

/// The folder of the one swarm run: the tests share it, so it lives in a static, which is never
/// dropped; it is removed when the test process exits instead.
static FOLDER: OnceLock<TempDir> = OnceLock::new();

extern "C" fn remove_the_folder() {
    if let Some(folder) = FOLDER.get() {
        let _ = std::fs::remove_dir_all(folder.path());
    }
}

/// Four workers of aui-token-storm for three seconds, once for all the tests of this file.
fn swarm() -> &'static (PathBuf, Output) {
    static RUN: OnceLock<(PathBuf, Output)> = OnceLock::new();
    RUN.get_or_init(|| {
        let folder = FOLDER.get_or_init(|| {
            // SAFETY: registers a plain function, run by exit() once every test has ended; it
            // only removes files and never unwinds.
            unsafe { libc::atexit(remove_the_folder) };
            TempDir::with_prefix("agentproof-swarm-").expect("a temporary folder")
        });
        // The report folder is made by the run.
        let dir = folder.path().join("report");
        let dir_text = dir.display().to_string();
        let output = agentproof(&[
            "load",
            "--scenario",
            "aui-token-storm",
            "--workers",
            "4",
            "--users",
            "8",
            "--run-time",
            "3s",
            "--report-dir",
            &dir_text,
        ]);
        (dir, output)
    })
}

fn workers(dir: &Path) -> Vec<LoadReport> {
    (0..4)
        .map(|i| read_load_report(&dir.join(format!("worker-{i}"))).expect("a worker report"))
        .collect()
}

#[test]
fn four_workers_merge_into_exactly_the_result_of_all_their_samples() {
    let (dir, output) = swarm();
    assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("PASS: "));
    let merged = read_load_report(dir).expect("the merged report");
    let workers = workers(dir);
    assert_eq!(merged.meta.merged_from.len(), 4);
    let shares: Vec<u64> = workers.iter().map(|w| w.meta.users).collect();
    assert_eq!(shares, [2, 2, 2, 2], "the users are shared out exactly");
    assert_eq!(
        merged.total_requests(),
        workers.iter().map(LoadReport::total_requests).sum::<u64>(),
        "total count = the sum of the workers'"
    );
    for route in &merged.routes {
        // One histogram of every worker's samples, with the same bounds.
        let mut all = route.sent.histogram.clone();
        all.reset();
        for worker in &workers {
            if let Some(mine) = worker.routes.iter().find(|r| r.route == route.route) {
                all.add(&mine.sent.histogram).unwrap();
            }
        }
        assert_eq!(route.count, all.len(), "{}", route.route);
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(
                route.sent.histogram.value_at_quantile(q),
                all.value_at_quantile(q),
                "{} p{}",
                route.route,
                q * 100.0
            );
        }
        assert_eq!(route.sent.histogram.max(), all.max());
    }
    assert!(merged.verdict().is_pass(), "the SLO is judged on the merge");
    assert!(dir.join("report.html").exists() && dir.join("junit.xml").exists());
}

#[test]
fn a_worker_latency_log_reads_back_with_hdrhistograms_python_port() {
    let (dir, output) = swarm();
    assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    let worker = dir.join("worker-1");
    let report = read_load_report(&worker).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/hlog_counts.py");
    let read = Command::new(venv_python())
        .arg(script)
        .arg(worker.join("latency.hlog"))
        .output()
        .expect("python runs");
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let tags: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    for route in &report.routes {
        let tag =
            reports::load::interval_log_tag(&route.route, reports::load::Distribution::AsSent);
        assert_eq!(tags[&tag]["count"], route.count, "{tag}: {tags}");
        // The same largest sample; the two ports may name opposite ends of its bucket (0.1 %).
        // (Their percentile rules differ, so quantiles are not compared across them.)
        let max = tags[&tag]["max_us"].as_f64().unwrap();
        let ours = route.sent.histogram.max() as f64;
        assert!(
            (max - ours).abs() <= ours * 0.002 + 1.0,
            "{tag}: {max} vs {ours}"
        );
    }
}

#[test]
fn a_missing_worker_is_refused_unless_partial_merges_are_allowed() {
    let (dir, output) = swarm();
    assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    let three: Vec<String> = [0, 1, 3]
        .iter()
        .map(|i| dir.join(format!("worker-{i}")).display().to_string())
        .collect();
    let out = dir.join("partial").display().to_string();
    let mut args = vec!["report", "merge"];
    args.extend(three.iter().map(String::as_str));
    args.extend(["--out", &out]);
    let refused = agentproof(&args);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("3 of 4 workers: worker 2 missing"),
        "{}",
        describe(&refused)
    );
    args.push("--allow-partial");
    let partial = agentproof(&args);
    assert_eq!(partial.status.code(), Some(0), "{}", describe(&partial));
    let merged = read_load_report(Path::new(&out)).unwrap();
    assert_eq!(
        merged.meta.partial.as_deref(),
        Some("3 of 4 workers: worker 2 missing")
    );
}

#[test]
fn a_worker_command_line_is_checked_by_a_dry_run() {
    let output = agentproof(&[
        "load",
        "--scenario",
        "aui-token-storm",
        "--worker",
        "3/4",
        "--users",
        "10",
        "--rate",
        "100",
        "--start-at",
        "2026-12-02T12:00:00Z",
        "--dry-run",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("worker 3 of 4") && stdout.contains("users 2,"),
        "{stdout}"
    );
    assert!(stdout.contains("rate 25/s"), "{stdout}");
}
