//! Interop with Alibaba Cloud's official Python SDKs: the V3 product SDKs
//! (alibabacloud-rtc20180111, alibabacloud-ice20201109) and aliyun-python-sdk-core (V1) call the
//! mock in-process; `tests/python/alibaba_sdk.py` does the checks, one JSON line each.
//!
//! The venv comes from `.ci/setup-python` (at `$AGENTPROOF_VENV` or `<workspace>/.venv`). A
//! missing venv fails the test: silently skipping would let the interop rot.

use mocks::alibaba::{start, AlibabaConfig};
use mocks::VirtualClock;
use std::path::PathBuf;
use std::process::Command;

fn venv_python() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join(".venv"));
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdks_accept_our_answers_and_raise_our_errors() {
    let python = venv_python();
    let config = AlibabaConfig::default();
    let credential = config.credentials[0].clone();
    let server = start(config, VirtualClock::new(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock starts");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/alibaba_sdk.py");
    let endpoint = server.addr().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(["--endpoint", &endpoint])
            .args(["--access-key-id", &credential.access_key_id])
            .args(["--access-key-secret", &credential.access_key_secret])
            .output()
            .expect("python runs")
    })
    .await
    .expect("python task joins");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("\"ok\": false"))
        .collect();
    let checks = stdout.lines().filter(|l| l.starts_with('{')).count();
    assert!(
        output.status.success() && failed.is_empty(),
        "SDK checks failed ({:?}):\n{}\n--- stderr ---\n{stderr}",
        output.status,
        failed.join("\n")
    );
    assert!(
        checks >= 28,
        "expected at least 28 checks, got {checks}:\n{stdout}"
    );
    server.shutdown().await;
}
