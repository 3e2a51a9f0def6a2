//! The official clients through the proxy in front of the embedded Alibaba mock: Alibaba Cloud's
//! Python SDKs (V3 product SDKs and aliyun-python-sdk-core V1, mocks/tests/python/alibaba_sdk.py)
//! and Node SDK cores (@alicloud/openapi-client V3, @alicloud/pop-core V1,
//! tests/node/alibaba_sdk.js) pass every check, their refusals included, and the proxy's verdict
//! passes every exchange.
//!
//! With the key the proxy re-verifies each signature and signs V3 requests again for the mock's
//! host (the mock sees its own host); without it the client's Host is kept (the mock sees the
//! proxy's), and the SDKs pass either way.

mod common;

use common::{failures, proxy, run_checks, venv_python, KEY, SECRET};
use mocks::alibaba::{start, AlibabaConfig};
use mocks::VirtualClock;
use proxy::judge::Rule;
use proxy::platform::Platform;
use std::process::Command;

/// The `host` headers the mock received, from its journal.
async fn hosts_seen(mock: &str) -> Vec<String> {
    let journal: serde_json::Value = reqwest::get(format!("{mock}/__admin/requests?limit=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = journal["requests"].as_array().cloned().unwrap_or_default();
    entries
        .iter()
        .filter_map(|e| {
            e["headers"].as_array()?.iter().find_map(|h| {
                (h[0] == "host").then(|| h[1].as_str().unwrap_or_default().to_string())
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_pass_through_the_proxy_which_verifies_and_re_signs_their_calls() {
    let mock = start(
        AlibabaConfig::default(),
        VirtualClock::new(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let running = proxy(&[("alibaba", mock.url())], true, None).await;
    let endpoint = running.listeners()[0].addr.to_string();
    let script = common::workspace().join("mocks/tests/python/alibaba_sdk.py");
    let mut command = Command::new(venv_python());
    command.arg(script).args([
        "--endpoint",
        &endpoint,
        "--access-key-id",
        KEY,
        "--access-key-secret",
        SECRET,
    ]);
    run_checks(command, 28).await;
    let finished = running.stop().await.unwrap();
    assert_eq!(finished.run.exit_code(), 0, "{}", failures(&finished.run));
    let alibaba = &finished.snapshot.platforms[&Platform::Alibaba];
    assert!(alibaba.exchanges >= 28, "{} exchanges", alibaba.exchanges);
    let signatures = &alibaba.rules[&Rule::Signature];
    assert!(
        signatures.kept >= 20,
        "signatures verified: {}",
        signatures.kept
    );
    let mock_host = mock.addr().to_string();
    let hosts = hosts_seen(&mock.url()).await;
    assert!(
        hosts.iter().filter(|h| **h == mock_host).count() >= 20,
        "V3 calls re-signed for the mock's host {mock_host}: {hosts:?}"
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_sdk_cores_pass_through_the_proxy_without_its_key() {
    let dir = common::node_dir();
    let mock = start(
        AlibabaConfig::default(),
        VirtualClock::new(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let running = proxy(&[("alibaba", mock.url())], false, None).await;
    let endpoint = running.listeners()[0].addr.to_string();
    let mut command = Command::new("node");
    command
        .current_dir(&dir)
        .arg(dir.join("alibaba_sdk.js"))
        .args([
            "--endpoint",
            &endpoint,
            "--access-key-id",
            KEY,
            "--access-key-secret",
            SECRET,
        ]);
    run_checks(command, 12).await;
    let finished = running.stop().await.unwrap();
    assert_eq!(finished.run.exit_code(), 0, "{}", failures(&finished.run));
    let alibaba = &finished.snapshot.platforms[&Platform::Alibaba];
    assert!(alibaba.exchanges >= 12, "{} exchanges", alibaba.exchanges);
    let kept = |rule| alibaba.rules.get(&rule).map_or(0, |r| r.kept);
    assert!(kept(Rule::AnswerSchema) >= 12 && kept(Rule::RequestSchema) >= 12);
    assert_eq!(kept(Rule::Signature), 0, "no key, nothing verified");
    let proxy_host = endpoint;
    let hosts = hosts_seen(&mock.url()).await;
    assert!(
        hosts.iter().filter(|h| **h == proxy_host).count() >= 6,
        "without the key the V3 calls keep the client's Host {proxy_host}: {hosts:?}"
    );
    mock.shutdown().await;
}
