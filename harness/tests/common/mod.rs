//! What several test files do with a running `agentproof mock` process: wait for its
//! `--info-file`, then for each server's health endpoint (readiness by polling, never a sleep);
//! and [`sample_aui`], an AUI app server shaped like Alibaba's official sample.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

pub mod sample_aui;

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a mock process may take to write its info file.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The info file's JSON, once the mock has written all of it.
pub async fn read_info_file(path: &Path) -> Value {
    let deadline = Instant::now() + START_LIMIT;
    loop {
        let text = std::fs::read_to_string(path).ok();
        if let Some(info) = text.and_then(|text| serde_json::from_str(&text).ok()) {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "no info file at {} after {} s",
            path.display(),
            START_LIMIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each of `platforms` (named as in the info file) answers its health endpoint with 200 and
/// its own name.
pub async fn assert_healthy(info: &Value, platforms: &[&str]) {
    let client = reqwest::Client::new();
    for platform in platforms {
        let url = format!("{}/__admin/health", info[platform]["url"].as_str().unwrap());
        let answer = client.get(url).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{platform} is healthy");
        let health: Value = answer.json().await.unwrap();
        assert_eq!(health["platform"], *platform);
    }
}

/// A finished command's exit code and output, for an assertion's message.
pub fn describe(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
