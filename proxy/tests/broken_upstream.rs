//! A target that breaks its contracts behind the proxy (wiremock, answering as no AUI or Alibaba
//! server should) is reported exchange by exchange: each broken exchange under the rule it
//! broke, in the reports and on the live page, which headless Chromium renders; the bearer the
//! client sent never shows.

mod common;

use common::{failures, proxy};
use proxy::judge::Rule;
use proxy::platform::Platform;
use serde_json::json;
use std::collections::BTreeMap;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BEARER: &str = "Bearer s3cr3t-b3arer-value";

async fn answering(server: &MockServer, route: &str, status: u16, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// A broken AUI server and a broken Alibaba gateway; `rule → seqs` expected broken.
async fn broken_upstreams() -> (MockServer, MockServer) {
    let aui = MockServer::start().await;
    let base = "/api/v2/aiagent/";
    answering(
        &aui,
        &format!("{base}login"),
        200,
        json!({"code": 200, "token": "not-a-jwt", "expire": 1}),
    )
    .await;
    answering(
        &aui,
        &format!("{base}getRtcAuthToken"),
        200,
        json!({"code": 200}),
    )
    .await;
    answering(
        &aui,
        &format!("{base}describeAIAgentInstance"),
        500,
        json!({"code": 404, "message": "未查询到"}),
    )
    .await;
    answering(
        &aui,
        &format!("{base}generateMessageChatToken"),
        200,
        json!({"code": "weird", "message": "?"}),
    )
    .await;
    answering(
        &aui,
        &format!("{base}stopAIAgentInstance"),
        200,
        json!({"code": 200, "result": true, "request_id": "7B117AF5-2A16-412C-B127-000000000001"}),
    )
    .await;
    let alibaba = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "RequestId": "7B117AF5-2A16-412C-B127-000000000001", "HostId": "rtc.aliyuncs.com",
            "Code": "Weird.Code", "Message": "no such code", "Recommend": "https://api.aliyun.com/troubleshoot"
        })))
        .mount(&alibaba)
        .await;
    (aui, alibaba)
}

/// Sends the requests through the proxy, in order; returns each one's seq (from 1).
async fn send_all(aui: &str, alibaba: &str) {
    let client = reqwest::Client::new();
    let base = format!("{aui}/api/v2/aiagent/");
    let sends = [
        (
            "login",
            json!({"username": "demo", "password": "hunter2-password"}),
        ),
        ("getRtcAuthToken", json!({"user_id": "alice"})),
        (
            "describeAIAgentInstance",
            json!({"user_id": "alice", "ai_agent_instance_id": "i1"}),
        ),
        (
            "generateMessageChatToken",
            json!({"ai_agent_id": "a1", "user_id": "alice"}),
        ),
        ("stopAIAgentInstance", json!({"user_id": "alice"})),
        ("stopAIAgentInstance", json!({"ai_agent_instance_id": "i1"})),
    ];
    for (route, body) in sends {
        let answer = client
            .post(format!("{base}{route}"))
            .header("authorization", BEARER)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().as_u16() < 600);
    }
    let answer = client
        .get(format!(
            "{alibaba}/?Action=GetAgent&Version=2018-01-11&AppId=a&ChannelId=c&TaskId=t"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        400,
        "the upstream's answer is forwarded unchanged"
    );
}

fn expected() -> BTreeMap<(Platform, Rule), Vec<u64>> {
    BTreeMap::from([
        ((Platform::Aui, Rule::AnswerSchema), vec![1, 2, 4]),
        ((Platform::Aui, Rule::Status), vec![3]),
        ((Platform::Aui, Rule::Code), vec![4]),
        ((Platform::Alibaba, Rule::Code), vec![7]),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_exchange_is_reported_under_its_rule_and_nothing_else_is() {
    let (aui, alibaba) = broken_upstreams().await;
    let running = proxy(
        &[("aui", aui.uri()), ("alibaba", alibaba.uri())],
        false,
        None,
    )
    .await;
    let (aui_url, alibaba_url) = (running.listeners()[0].url(), running.listeners()[1].url());
    send_all(&aui_url, &alibaba_url).await;
    common::judged(&running, 7).await;
    let page = reqwest::get(format!("{aui_url}/__proxy/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status: serde_json::Value = reqwest::get(format!("{aui_url}/__proxy/status.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let finished = running.stop().await.unwrap();

    let mut found: BTreeMap<(Platform, Rule), Vec<u64>> = BTreeMap::new();
    for (platform, tally) in &finished.snapshot.platforms {
        for (rule, rule_tally) in &tally.rules {
            let seqs: Vec<u64> = rule_tally.examples.iter().map(|e| e.exchange.seq).collect();
            if !seqs.is_empty() {
                found.insert((*platform, *rule), seqs);
            }
        }
    }
    assert_eq!(found, expected(), "{}", failures(&finished.run));
    assert_eq!(finished.run.exit_code(), 1);
    let failed_cases: Vec<&str> = finished
        .run
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| c.outcome.status() == "failed")
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failed_cases.len(),
        6,
        "one case per broken exchange and rule: {failed_cases:?}"
    );
    let aui = &finished.snapshot.platforms[&Platform::Aui];
    assert_eq!(
        aui.rules[&Rule::RequestSchema].noted,
        1,
        "#5 accepted outside its schema"
    );
    assert!(failed_cases.contains(&"#3 aui POST /api/v2/aiagent/describeAIAgentInstance: status"));
    assert_eq!(status["failed"], 5, "{status}");

    for seq in [1, 2, 3, 4] {
        assert!(
            page.contains(&format!("data-seq=\"{seq}\"")),
            "exchange #{seq} on the live page"
        );
    }
    let reports = serde_json::to_string(&finished.run).unwrap();
    for text in [&page, &reports, &status.to_string()] {
        assert!(
            !text.contains("s3cr3t-b3arer-value"),
            "the bearer is masked"
        );
        assert!(!text.contains("hunter2-password"), "the password is masked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_page_renders_in_headless_chromium_with_every_broken_exchange() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "headless Chromium is needed at {chromium}: run scripts/setup-browser (apt-get install chromium) or set CHROMIUM"
    );
    let (aui, alibaba) = broken_upstreams().await;
    let running = proxy(
        &[("aui", aui.uri()), ("alibaba", alibaba.uri())],
        false,
        None,
    )
    .await;
    let (aui_url, alibaba_url) = (running.listeners()[0].url(), running.listeners()[1].url());
    send_all(&aui_url, &alibaba_url).await;
    common::judged(&running, 7).await;
    // Chromium makes its profile folder inside one removed when the test ends.
    let tmp =
        tempfile::TempDir::with_prefix("agentproof-proxy-chromium-").expect("a temporary folder");
    let profile = tmp.path().join("profile");
    let page_url = format!("{alibaba_url}/__proxy/");
    let dom = tokio::task::spawn_blocking(move || {
        std::process::Command::new(chromium)
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
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(page_url)
            .output()
            .expect("chromium runs")
    })
    .await
    .unwrap();
    let finished = running.stop().await.unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("agentproof proxy") && dom.contains("FAILING"),
        "{dom}"
    );
    assert!(dom.contains("id=\"platform-aui\"") && dom.contains("id=\"platform-alibaba\""));
    for ((_, rule), seqs) in expected() {
        for seq in seqs {
            let marker = format!("data-rule=\"{}\" data-seq=\"{seq}\"", rule.name());
            assert!(dom.contains(&marker), "{marker} in the rendered page");
        }
    }
    assert!(dom.contains("Latency per route"));
    assert!(!dom.contains("s3cr3t-b3arer-value"));
    assert_eq!(finished.snapshot.failed(), 5);
}
