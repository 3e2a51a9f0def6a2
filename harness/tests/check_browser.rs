//! The HTML report of a real `agentproof check` run, opened in headless Chromium (networking off):
//! the page a person opens after CI must render, with one latency chart per route.
//! Chromium missing fails the test with the install command; it never skips.

use serde_json::Value;
use std::process::Command;

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&path).exists(),
        "headless Chromium is needed at {path}: run scripts/setup-browser (apt-get install chromium) or set CHROMIUM"
    );
    path
}

#[test]
fn the_check_report_renders_in_chromium_with_a_chart_per_route() {
    // The report folder is made by `check`, inside a folder removed when the test ends.
    let tmp =
        tempfile::TempDir::with_prefix("agentproof-check-browser-").expect("a temporary folder");
    let dir = tmp.path().join("report");
    let status = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(["check", "--no-progress", "--report-dir"])
        .arg(&dir)
        .output()
        .unwrap()
        .status;
    assert!(status.success(), "check passes on the embedded mocks");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let routes: usize = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|suite| suite["latency"].as_object().map_or(0, |table| table.len()))
        .sum();
    assert!(routes > 10, "the run timed many routes: {routes}");

    let dom = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("agentproof report"), "the page rendered");
    assert!(
        dom.matches("<svg").count() >= routes,
        "a chart per route: {routes} routes"
    );
    assert!(dom.contains("PASSED") || dom.contains("passed"));
}
