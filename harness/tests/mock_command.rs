//! `agentproof mock` as a user runs it: a real process, ports picked by the OS, readiness by polling
//! each mock's health endpoint, the info file, and a graceful exit on SIGTERM and SIGINT.

mod common;

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

struct MockProcess {
    child: Child,
    info: Value,
    /// Holds the info file; removed when the test drops this, after the process has exited.
    _folder: TempDir,
}

/// An empty folder for one test's files, removed with them when the `TempDir` drops.
fn temp_folder() -> TempDir {
    tempfile::Builder::new()
        .prefix("agentproof-mock-")
        .tempdir()
        .expect("a temporary folder")
}

/// Starts `agentproof mock` on free ports and waits for its info file and every health endpoint.
async fn start_mock(tag: &str) -> MockProcess {
    let folder = temp_folder();
    let info_file = folder.path().join(format!("{tag}-info.json"));
    let child = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args([
            "mock",
            "--alibaba-port",
            "0",
            "--aui-port",
            "0",
            "--duix-port",
            "0",
            "--webhook-port",
            "0",
            "--llm-port",
            "0",
        ])
        .arg("--info-file")
        .arg(&info_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agentproof binary runs");
    let info = common::read_info_file(&info_file).await;
    common::assert_healthy(&info, &["alibaba", "aui", "duix"]).await;
    MockProcess {
        child,
        info,
        _folder: folder,
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(mut child: Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("agentproof mock did not exit within 20 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn info_file_names_every_platform_with_its_credentials() {
    let mock = start_mock("info").await;
    let info = &mock.info;
    for (platform, keys) in [
        (
            "alibaba",
            &["url", "access_key_id", "access_key_secret"][..],
        ),
        (
            "aui",
            &["url", "app_id", "app_key", "login_user", "login_password"][..],
        ),
        ("duix", &["url", "app_id", "app_key"][..]),
        ("llm", &["url", "api_key"][..]),
    ] {
        for key in keys {
            assert!(
                info[platform][key].as_str().is_some_and(|v| !v.is_empty()),
                "{platform}.{key} missing: {info}"
            );
        }
        assert!(
            info[platform]["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:"),
            "binds loopback by default"
        );
    }
    signal(&mock.child, "TERM");
    assert!(wait_exit(mock.child).success());
}

/// The `THP_enabled:` line of `/proc/<pid>/status` (Linux 6.6 and later print it).
#[cfg(target_os = "linux")]
fn thp_enabled(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
    Some(line["THP_enabled:".len()..].trim().to_string())
}

/// Huge pages are off in the mock process (each 2 MiB page resident whole nearly tripled the
/// memory of idle connections), though this test process has them.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_mock_process_runs_without_transparent_huge_pages() {
    let ours = thp_enabled(std::process::id());
    let mock = start_mock("thp").await;
    let theirs = thp_enabled(mock.child.id());
    signal(&mock.child, "TERM");
    assert!(wait_exit(mock.child).success());
    match ours.as_deref() {
        // A kernel too old to say, or THP already off for everything here: nothing to compare.
        None | Some("0") => eprintln!("THP_enabled not reported or already 0 here: {ours:?}"),
        Some(_) => assert_eq!(theirs.as_deref(), Some("0")),
    }
}

#[tokio::test]
async fn sigint_stops_the_mocks_gracefully() {
    let mock = start_mock("int").await;
    let url = format!(
        "{}/__admin/health",
        mock.info["aui"]["url"].as_str().unwrap()
    );
    signal(&mock.child, "INT");
    assert!(wait_exit(mock.child).success());
    assert!(
        reqwest::get(url).await.is_err(),
        "the port is closed after exit"
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_with_exit_code_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args([
            "mock",
            "--alibaba-port",
            &port,
            "--aui-port",
            "0",
            "--duix-port",
            "0",
            "--webhook-port",
            "0",
            "--llm-port",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--alibaba-port"), "{stderr}");
}

#[test]
fn a_broken_config_file_is_named_with_exit_code_2() {
    let folder = temp_folder();
    let file = folder.path().join("broken.toml");
    std::fs::write(&file, "[aui\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(["mock", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.toml"));
}

#[tokio::test]
async fn no_admin_leaves_the_admin_api_out_but_serves_the_platform() {
    let folder = temp_folder();
    let info_file = folder.path().join("no-admin-info.json");
    let child = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args([
            "mock",
            "--only",
            "alibaba,aui",
            "--no-admin",
            "--alibaba-port",
            "0",
            "--aui-port",
            "0",
            "--llm-port",
            "0",
        ])
        .arg("--info-file")
        .arg(&info_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let info = common::read_info_file(&info_file).await;
    let aui = info["aui"]["url"].as_str().unwrap();
    let health = reqwest::get(format!("{aui}/__admin/health")).await.unwrap();
    assert_eq!(health.status(), 404);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["code"], 404, "the AUI envelope: {body}");
    let login = reqwest::Client::new()
        .post(format!("{aui}/api/v2/aiagent/login"))
        .json(&serde_json::json!({"username": "demo", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(info.get("duix").is_none(), "--only leaves duix out: {info}");
    signal(&child, "TERM");
    assert!(wait_exit(child).success());
}
