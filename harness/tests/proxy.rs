//! `agentproof proxy` and `agentproof replay` end to end, as a CI job runs them: the proxy binary
//! in front of the embedded mocks records `agentproof check`'s contract suites going through it
//! and passes every exchange (exit 0, check's reports written); `agentproof replay` of that
//! recording against fresh embedded mocks finds no difference (exit 0); the recording with one
//! answer edited is one difference (exit 1). Usage errors exit 2 naming the flag.

use harness::mock_cmd::{Embedded, EmbeddedOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn agentproof() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agentproof"))
}

fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("proxy")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits for the proxy's --info-file, then for each listener's /__proxy/health.
async fn listeners(info: &Path, child: &mut Child) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    loop {
        assert!(Instant::now() < deadline, "the proxy did not start");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the proxy exited early: {status}");
        }
        if let Some(listeners) = std::fs::read_to_string(info)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        {
            let mut healthy = true;
            for (_, listener) in listeners.as_object().unwrap() {
                let url = format!("{}/__proxy/health", listener["url"].as_str().unwrap());
                healthy &= client
                    .get(url)
                    .send()
                    .await
                    .is_ok_and(|a| a.status() == 200);
            }
            if healthy {
                return listeners;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn run(command: &mut Command) -> Output {
    command.output().expect("agentproof runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_through_the_proxy_passes_records_and_replays_with_no_difference_then_one() {
    let dir = workdir("e2e");
    let mocks = Embedded::start(&EmbeddedOptions::ephemeral(), Default::default())
        .await
        .unwrap();
    let info = dir.join("proxy.json");
    let recording = dir.join("recording");
    let mut proxy = agentproof()
        .args(["proxy", "--listen", "127.0.0.1:0"])
        .args([
            "--alibaba-key",
            "LTAI5tAgentproofDemoKey:AgentproofDemoSecret0123456789",
        ])
        .arg("--info-file")
        .arg(&info)
        .arg("--record")
        .arg(&recording)
        .arg("--report-dir")
        .arg(dir.join("proxy-report"))
        .args(["alibaba", "aui", "duix"].iter().flat_map(|p| {
            [
                "--upstream".to_string(),
                format!("{p}={}", mocks.url(p).unwrap()),
            ]
        }))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let listeners = listeners(&info, &mut proxy).await;
    let targets: Vec<String> = ["alibaba", "aui", "duix"]
        .iter()
        .flat_map(|p| {
            [
                "--target".to_string(),
                format!("{p}={}", listeners[p]["url"].as_str().unwrap()),
            ]
        })
        .collect();
    let check_dir = dir.join("check-report");
    let check = tokio::task::spawn_blocking(move || {
        run(agentproof()
            .args(["check", "--no-progress", "--suite", "contract"])
            .args(targets)
            .arg("--report-dir")
            .arg(check_dir))
    })
    .await
    .unwrap();
    assert!(
        check.status.success(),
        "check through the proxy: {}",
        text(&check)
    );

    // SAFETY: kill(2) with a child's pid and SIGINT touches no memory of ours.
    unsafe { libc::kill(proxy.id() as i32, libc::SIGINT) };
    let proxied = tokio::task::spawn_blocking(move || proxy.wait_with_output().unwrap())
        .await
        .unwrap();
    mocks.shutdown().await;
    assert_eq!(proxied.status.code(), Some(0), "{}", text(&proxied));
    let stdout = String::from_utf8_lossy(&proxied.stdout);
    assert!(stdout.starts_with("PASS: "), "{stdout}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("proxy-report/report.json")).unwrap(),
    )
    .unwrap();
    let suites = report["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 3, "a suite per platform");
    for suite in suites {
        assert!(!suite["latency"].as_object().unwrap().is_empty(), "{suite}");
    }
    let lines = std::fs::read_to_string(recording.join("exchanges.jsonl")).unwrap();
    assert!(
        lines.lines().count() >= 15,
        "{} exchanges recorded",
        lines.lines().count()
    );
    assert!(!lines.contains("AgentproofDemoSecret0123456789"));

    let replayed = run(agentproof()
        .arg("replay")
        .arg(&recording)
        .arg("--report-dir")
        .arg(dir.join("parity")));
    assert_eq!(replayed.status.code(), Some(0), "{}", text(&replayed));
    assert!(String::from_utf8_lossy(&replayed.stdout).starts_with("SAME: "));
    let parity = std::fs::read_to_string(dir.join("parity/parity.html")).unwrap();
    assert!(parity.contains("NO DIFFERENCE"));

    let edited = dir.join("edited");
    std::fs::create_dir_all(&edited).unwrap();
    let mut done = false;
    let lines: Vec<String> = lines
        .lines()
        .map(|line| {
            let mut fixture: Value = serde_json::from_str(line).unwrap();
            if !done && fixture["answer"]["status"] == 200 && fixture["platform"] == "duix" {
                fixture["answer"]["status"] = Value::from(202);
                done = true;
            }
            fixture.to_string()
        })
        .collect();
    assert!(done, "a DUIX success was recorded");
    std::fs::write(edited.join("exchanges.jsonl"), lines.join("\n")).unwrap();
    let replayed = run(agentproof()
        .arg("replay")
        .arg(&edited)
        .arg("--report-dir")
        .arg(dir.join("parity-edited")));
    assert_eq!(replayed.status.code(), Some(1), "{}", text(&replayed));
    let stdout = String::from_utf8_lossy(&replayed.stdout);
    assert!(stdout.contains(", 1 differences (1 exchanges)"), "{stdout}");
    assert!(stdout.contains("status 202 → 200"), "{stdout}");
}

#[test]
fn usage_errors_exit_2_naming_what_to_fix() {
    for (args, needle) in [
        (vec!["proxy"], "--upstream"),
        (
            vec!["proxy", "--upstream", "zoom=http://127.0.0.1:1"],
            "unknown platform",
        ),
        (vec!["proxy", "--upstream", "aui=ftp://x"], "http://"),
        (
            vec![
                "proxy",
                "--upstream",
                "aui=http://127.0.0.1:1",
                "--upstream",
                "aui=http://127.0.0.1:2",
            ],
            "twice",
        ),
        (
            vec![
                "proxy",
                "--upstream",
                "alibaba=http://127.0.0.1:1",
                "--alibaba-key",
                "nocolon",
            ],
            "--alibaba-key",
        ),
        (vec!["replay", "/nonexistent/recording"], "cannot read"),
    ] {
        let output = run(agentproof().args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn duration_stops_the_proxy_and_writes_the_reports_even_with_no_exchange() {
    let dir = workdir("duration");
    let output = run(agentproof()
        .args([
            "proxy",
            "--upstream",
            "aui=http://127.0.0.1:9",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--duration", "1s", "--report-dir"])
        .arg(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("PASS: 0 exchanges"));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["suites"][0]["cases"][0]["outcome"]["status"],
        "skipped"
    );
    for file in ["junit.xml", "report.md", "report.html"] {
        assert!(dir.join(file).exists(), "{file}");
    }
}
