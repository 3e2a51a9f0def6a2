//! Test helpers: the proxy on free loopback ports in front of given upstreams, the real clients'
//! interpreters (the venv's Python from .ci/setup-python, node with .ci/setup-node's SDKs), and
//! readiness by polling, never a sleep.

#![allow(dead_code)]

use proxy::platform::Upstream;
use proxy::{Config, Proxy, Running};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const KEY: &str = "LTAI5tAgentproofDemoKey";
pub const SECRET: &str = "AgentproofDemoSecret0123456789";

/// The proxy, listening on free ports, in front of `upstreams`.
pub async fn proxy(upstreams: &[(&str, String)], key: bool, record: Option<PathBuf>) -> Running {
    let upstreams = upstreams
        .iter()
        .map(|(platform, url)| Upstream::parse(&format!("{platform}={url}")).unwrap())
        .collect();
    let mut config = Config::new(upstreams);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.record = record;
    if key {
        config.judge.alibaba_key = Some((KEY.into(), SECRET.into()));
        config.secrets.push(SECRET.into());
    }
    let running = Proxy::start(config).await.expect("the proxy starts");
    for listener in running.listeners() {
        wait_healthy(&format!("{}/__proxy/health", listener.url())).await;
    }
    running
}

/// Waits until the judge, which works off the request path, has judged `count` exchanges.
pub async fn judged(running: &Running, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while running.snapshot().exchanges() < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} exchanges judged",
            running.snapshot().exchanges()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls `url` until it answers 200 (10 s at most).
pub async fn wait_healthy(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(answer) = client.get(url).send().await {
            if answer.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{url} did not answer 200 within 10 s");
}

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python (.ci/setup-python); missing fails the test, saying how to make it.
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv"));
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

/// The folder of the Node SDKs (.ci/setup-node); missing fails the test, saying how to make it.
pub fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/@alicloud/pop-core").exists()
            && dir.join("node_modules/@alicloud/openapi-client").exists(),
        "the Node SDKs are not installed in {}: run .ci/setup-node",
        dir.display()
    );
    dir
}

/// Runs a client script, each line of whose output is `{"check", "ok", "detail"}`; asserts
/// every check passed and at least `at_least` ran.
pub async fn run_checks(mut command: std::process::Command, at_least: usize) {
    let output = tokio::task::spawn_blocking(move || command.output().expect("the client runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("\"ok\": false") || l.contains("\"ok\":false"))
        .collect();
    let checks = stdout.lines().filter(|l| l.starts_with('{')).count();
    assert!(
        output.status.success() && failed.is_empty(),
        "client checks failed ({:?}):\n{}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status,
        failed.join("\n")
    );
    assert!(
        checks >= at_least,
        "expected at least {at_least} checks, got {checks}:\n{stdout}"
    );
}

/// Every broken rule of a finished proxy run, as text, for assertion messages.
pub fn failures(run: &reports::Run) -> String {
    let mut lines = Vec::new();
    for suite in &run.suites {
        for case in &suite.cases {
            if let reports::Outcome::Failed { expected, got } = &case.outcome {
                lines.push(format!(
                    "{}: expected {expected}, got {got}\n{}",
                    case.name,
                    case.detail.clone().unwrap_or_default()
                ));
            }
        }
    }
    lines.join("\n")
}
