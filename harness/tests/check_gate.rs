//! The gate catches what it claims: `check` against deliberately broken targets fails exactly the
//! cases that depend on the breakage, and passes the others.
//!
//! Broken targets are the embedded mocks with faults injected through `/__admin/faults`, and
//! wiremock servers answering wrong shapes or accepting expired tokens.

use clap::Parser;
use harness::check::{execute, progress::Progress, Plan};
use harness::config::MockConfig;
use harness::mock_cmd::{Embedded, EmbeddedOptions};
use reports::{Outcome, Run};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs `agentproof check <args>` as a library call, quietly.
async fn check(args: &[&str]) -> Run {
    let mut argv = vec!["agentproof", "check", "--seed", "5"];
    argv.extend_from_slice(args);
    let harness::cli::Command::Check(args) =
        harness::cli::Cli::try_parse_from(argv).unwrap().command
    else {
        unreachable!()
    };
    let plan = Plan::from_args(&args).unwrap();
    execute(&plan, &Progress::quiet()).await.unwrap()
}

/// `platform.suite: case` of every failed case.
fn failed(run: &Run) -> BTreeSet<String> {
    run.suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
        .filter(|(_, c)| matches!(c.outcome, Outcome::Failed { .. }))
        .map(|(s, c)| format!("{}: {}", s.qualified_name(), c.name))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn mocks() -> Embedded {
    Embedded::start(&EmbeddedOptions::ephemeral(), MockConfig::default())
        .await
        .unwrap()
}

async fn inject(url: &str, rule: Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/__admin/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "fault rule refused: {}",
        response.text().await.unwrap()
    );
}

#[tokio::test]
async fn healthy_mocks_pass_every_suite() {
    let run = check(&[]).await;
    assert_eq!(failed(&run), BTreeSet::new());
    assert_eq!(run.exit_code(), 0);
    assert_eq!(run.suites.len(), 15);
}

#[tokio::test]
async fn a_500_injected_on_get_agent_fails_exactly_the_cases_that_call_it() {
    let mocks = mocks().await;
    let url = mocks.url("alibaba").unwrap().to_string();
    inject(&url, json!({"route": "GetAgent", "error_rate": 1.0, "error": {"status": 500, "code": "InternalError"}})).await;
    let target = format!("alibaba={url}");
    let run = check(&[
        "--target",
        &target,
        "--suite",
        "contract",
        "--suite",
        "lifecycle",
    ])
    .await;
    mocks.shutdown().await;
    assert_eq!(
        failed(&run),
        set(&[
            "alibaba.contract: GetAgent answers HTTP 200 with a body valid against alibaba/GetAgent.response",
            "alibaba.lifecycle: agent task: after StartAgent, GetAgent reports it with a start time",
            "alibaba.lifecycle: agent task: UpdateAgent on the running task is accepted and it keeps running",
            "alibaba.lifecycle: agent task: after StopAgent, GetAgent reports a stop time and a status other than running",
        ])
    );
    assert_eq!(run.exit_code(), 1);
}

#[tokio::test]
async fn a_2100_ms_latency_breaks_only_the_slo_of_its_route() {
    let mocks = mocks().await;
    let url = mocks.url("aui").unwrap().to_string();
    inject(&url, json!({"route": "/api/v2/aiagent/getRtcAuthToken", "latency": {"kind": "fixed", "ms": 2100}})).await;
    let target = format!("aui={url}");
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    mocks.shutdown().await;
    assert_eq!(
        failed(&run),
        set(&[]),
        "every contract still holds; only latency breaks"
    );
    let violations = reports::slo::evaluate(&run.suites[0].latency);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0].route,
        "aui POST /api/v2/aiagent/getRtcAuthToken"
    );
    assert_eq!(run.exit_code(), 1);
}

#[tokio::test]
async fn a_503_injected_on_session_stop_fails_bad_input_categories_but_not_the_health_probe() {
    let mocks = mocks().await;
    let url = mocks.url("duix").unwrap().to_string();
    inject(&url, json!({"route": "/duix-openapi-v2/v1/sessionStop", "error_rate": 1.0, "error": {"status": 503, "code": "40002"}})).await;
    let target = format!("duix={url}");
    let run = check(&["--target", &target, "--suite", "bad-input"]).await;
    mocks.shutdown().await;
    let failures = failed(&run);
    assert!(!failures.is_empty());
    assert!(
        failures
            .iter()
            .all(|f| f.starts_with("duix.bad-input: ") && f.contains("generated requests")),
        "{failures:?}"
    );
    assert!(
        !failures.iter().any(|f| f.contains("health probe")),
        "{failures:?}"
    );
}

/// A DUIX stand-in: each endpoint answers the first example of its schema, checkSig as given.
async fn fake_duix(check_sig: Value) -> MockServer {
    let server = MockServer::start().await;
    let example =
        |name: &str| schemas::registry().examples(&format!("duix/{name}.response"))[0].clone();
    Mock::given(method("GET"))
        .and(path("/duix-openapi-v2/sdk/checkSig"))
        .respond_with(ResponseTemplate::new(200).set_body_json(check_sig))
        .mount(&server)
        .await;
    for prefix in ["/duix-openapi-v2/v1/", "/duix-openapi-v2/sdk/v2/"] {
        for name in [
            "getconcurrentNumber",
            "getconcurrentList",
            "distroyCallSessionsByAppId",
        ] {
            Mock::given(method("GET"))
                .and(path(format!("{prefix}{name}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(example(name)))
                .mount(&server)
                .await;
        }
    }
    server
}

#[tokio::test]
async fn a_check_sig_answer_without_ws_service_fails_only_its_contract_case() {
    let server =
        fake_duix(json!({"code": "0", "success": true, "data": {"appId": "1234567890"}})).await;
    let target = format!("duix={}", server.uri());
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    assert_eq!(
        failed(&run),
        set(&["duix.contract: checkSig with a fresh token answers appId and a ws:// wsService, valid against its schema"])
    );
}

#[tokio::test]
async fn a_target_taking_expired_tokens_as_valid_fails_the_expiry_cases() {
    let valid = json!({"code": "0", "success": true, "data": {"appId": "1234567890", "wsService": "ws://127.0.0.1:9/ws"}});
    let server = fake_duix(valid).await;
    let target = format!("duix={}", server.uri());
    let run = check(&["--target", &target, "--suite", "expiry"]).await;
    assert_eq!(
        failed(&run),
        set(&[
            "duix.expiry: a DUIX token is accepted by checkSig until exp and refused with 1006 after it",
            "duix.expiry: a management call accepts the token until exp and refuses it with 1006 after it",
        ])
    );
}

#[tokio::test]
async fn a_wrong_error_code_is_caught_by_its_case() {
    let server = MockServer::start().await;
    let body = json!({"code": "1006", "message": "token失效", "success": false});
    Mock::given(method("GET"))
        .and(path("/duix-openapi-v2/sdk/checkSig"))
        .respond_with(ResponseTemplate::new(401).set_body_json(body))
        .mount(&server)
        .await;
    let target = format!("duix={}", server.uri());
    let run = check(&["--target", &target, "--suite", "errors"]).await;
    let failures = failed(&run);
    assert!(
        failures.contains("duix.errors: checkSig without sig gets 1005"),
        "{failures:?}"
    );
}
