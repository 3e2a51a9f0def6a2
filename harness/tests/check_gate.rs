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

/// `platform.suite: case` of every case with `outcome`, e.g. `passed`.
fn with_outcome(run: &Run, outcome: fn(&Outcome) -> bool) -> BTreeSet<String> {
    run.suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
        .filter(|(_, c)| outcome(&c.outcome))
        .map(|(s, c)| format!("{}: {}", s.qualified_name(), c.name))
        .collect()
}

/// The errors cases a client cannot cause: run through `/__admin/faults` where the target has it.
const SERVER_FAILURE_CASES: [&str; 7] = [
    "alibaba.errors: GetAgent during a server failure gets InternalError with HTTP 500 in the gateway's envelope",
    "alibaba.errors: GetAgent while the service is unavailable gets ServiceUnavailable with HTTP 503 in the gateway's envelope",
    "aui.errors: describeAIAgentInstance during a server failure gets code 500 (服务器异常) in the AUI error envelope",
    "aui.errors: describeAIAgentInstance when the upstream cannot be reached gets code 502 in the AUI error envelope",
    "aui.errors: describeAIAgentInstance when the upstream does not answer in time gets code 504 in the AUI error envelope",
    "duix.errors: getconcurrentNumber during a server failure gets -1 (系统异常) in the DUIX error envelope",
    "duix.errors: getconcurrentNumber during an internal failure gets 40002 (内部错误) in the DUIX error envelope",
];

#[tokio::test]
async fn healthy_mocks_pass_every_suite() {
    let run = check(&[]).await;
    assert_eq!(failed(&run), BTreeSet::new());
    assert_eq!(run.exit_code(), 0);
    assert_eq!(run.suites.len(), 15);
    let passed = with_outcome(&run, |o| matches!(o, Outcome::Passed));
    let missing: Vec<_> = SERVER_FAILURE_CASES
        .iter()
        .filter(|case| !passed.contains(**case))
        .collect();
    assert!(
        missing.is_empty(),
        "server failures are injected, not skipped: {missing:#?}"
    );
}

async fn fault_rules(url: &str) -> Vec<Value> {
    let answer: Value = reqwest::get(format!("{url}/__admin/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["faults"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_errors_suites_leave_no_fault_rule_behind_even_when_a_case_fails() {
    let mocks = mocks().await;
    let alibaba = mocks.url("alibaba").unwrap().to_string();
    let earlier = json!({"route": "GetAgent", "error_rate": 1.0, "error": {"status": 502, "code": "BadGateway"}});
    inject(&alibaba, earlier).await;
    let targets: Vec<String> = ["alibaba", "aui", "duix"]
        .iter()
        .map(|p| format!("{p}={}", mocks.url(p).unwrap()))
        .collect();
    let run = check(&[
        "--target",
        &targets[0],
        "--target",
        &targets[1],
        "--target",
        &targets[2],
        "--suite",
        "errors",
    ])
    .await;
    let left: Vec<Vec<Value>> = futures_util::future::join_all(
        ["alibaba", "aui", "duix"].map(|p| fault_rules(mocks.url(p).unwrap())),
    )
    .await;
    mocks.shutdown().await;
    let failures = failed(&run);
    for case in &SERVER_FAILURE_CASES[..2] {
        assert!(
            failures.contains(*case),
            "the earlier 502 rule wins: {failures:#?}"
        );
    }
    let passed = with_outcome(&run, |o| matches!(o, Outcome::Passed));
    for case in &SERVER_FAILURE_CASES[2..] {
        assert!(passed.contains(*case), "{case}: {passed:#?}");
    }
    assert_eq!(
        left[0].len(),
        1,
        "only the earlier rule stays: {:?}",
        left[0]
    );
    assert_eq!(left[0][0]["error"]["code"], "BadGateway");
    assert_eq!(left[1], Vec::<Value>::new());
    assert_eq!(left[2], Vec::<Value>::new());
}

#[tokio::test]
async fn targets_without_admin_faults_skip_the_server_failure_cases_saying_why() {
    let alibaba = MockServer::start().await;
    let aui = fake_aui(|_, channel| (String::new(), channel.unwrap_or_default().to_string())).await;
    let duix = fake_duix(json!({"code": "0", "success": true})).await;
    let targets = [
        format!("alibaba={}", alibaba.uri()),
        format!("aui={}/gw", aui.uri()),
        format!("duix={}", duix.uri()),
    ];
    let run = check(&[
        "--target",
        &targets[0],
        "--target",
        &targets[1],
        "--target",
        &targets[2],
        "--suite",
        "errors",
    ])
    .await;
    const REASON: &str =
        "needs /__admin/faults (a server failure a client cannot cause on purpose)";
    let skipped = with_outcome(
        &run,
        |o| matches!(o, Outcome::Skipped { reason } if reason == REASON),
    );
    assert_eq!(
        skipped,
        set(&SERVER_FAILURE_CASES),
        "each skipped with {REASON:?}"
    );
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

const AUI_APP: (&str, &str) = ("agentproof-demo-app", "agentproof-demo-app-key");

/// An AUI stand-in under the path prefix `/gw`: every route answers the first example of its
/// schema, getRtcAuthToken a token made by `sign(user_id, channel_id or None)`.
async fn fake_aui(
    sign: impl Fn(&str, Option<&str>) -> (String, String) + Send + Sync + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gw/api/v2/aiagent/getRtcAuthToken"))
        .respond_with(move |request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let user = body["user_id"].as_str().unwrap_or_default();
            let (token, channel) = sign(user, body["channel_id"].as_str());
            let answer = json!({"code": 200, "rtc_auth_token": token, "channel_id": channel, "timestamp": 4_102_444_800i64});
            ResponseTemplate::new(200).set_body_json(answer)
        })
        .mount(&server)
        .await;
    for name in [
        "login",
        "generateMessageChatToken",
        "startAIAgentInstance",
        "describeAIAgentInstance",
        "updateAIAgentInstance",
        "stopAIAgentInstance",
        "startAIAgentInstanceWithChannel",
        "generateAIAgentCall",
    ] {
        let example = schemas::registry().examples(&format!("aui/{name}.response"))[0].clone();
        Mock::given(method("POST"))
            .and(path(format!("/gw/api/v2/aiagent/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(example))
            .mount(&server)
            .await;
    }
    server
}

fn rtc_token(key: &str, user: &str, channel: &str) -> String {
    protocol::aui::rtc_token(AUI_APP.0, key, channel, user, 4_102_444_800)
}

#[tokio::test]
async fn an_aui_token_signed_with_the_wrong_key_fails_both_token_cases() {
    let server = fake_aui(|user, channel| {
        let channel = channel.map_or_else(protocol::aui::new_channel_id, str::to_string);
        (rtc_token("not-the-app-key", user, &channel), channel)
    })
    .await;
    let target = format!("aui={}/gw/", server.uri());
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    assert_eq!(
        failed(&run),
        set(&[
            "aui.contract: getRtcAuthToken answers a token of the app for the user and channel asked, valid against its schema",
            "aui.contract: getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it",
        ])
    );
    assert_eq!(run.exit_code(), 1);
}

#[tokio::test]
async fn an_aui_channel_id_that_is_not_32_hex_fails_only_the_generated_channel_case() {
    let server = fake_aui(|user, channel| {
        let channel = channel.map_or_else(|| "room-1".to_string(), str::to_string);
        (rtc_token(AUI_APP.1, user, &channel), channel)
    })
    .await;
    let target = format!("aui={}/gw", server.uri());
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    assert_eq!(
        failed(&run),
        set(&["aui.contract: getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it"])
    );
}

#[tokio::test]
async fn an_aui_token_for_another_channel_than_asked_fails_its_case() {
    let server = fake_aui(|user, _| {
        let channel = protocol::aui::new_channel_id();
        (rtc_token(AUI_APP.1, user, &channel), channel)
    })
    .await;
    let target = format!("aui={}/gw", server.uri());
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    assert_eq!(
        failed(&run),
        set(&["aui.contract: getRtcAuthToken answers a token of the app for the user and channel asked, valid against its schema"])
    );
}

/// A proxy in front of `upstream` that hands every answer to `rewrite(status, body)` first.
async fn rewriting_proxy(
    upstream: String,
    rewrite: fn(u16, Value) -> (u16, Value),
) -> (String, tokio::task::JoinHandle<()>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    let client = reqwest::Client::new();
    let forward = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let url = format!(
                "{upstream}{}",
                uri.path_and_query().map_or("/", |p| p.as_str())
            );
            let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
            let mut request = client.request(method, url).body(body.to_vec());
            for (name, value) in &headers {
                request = request.header(name.as_str(), value.as_bytes());
            }
            let answer = request.send().await.unwrap();
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            let (status, body) = rewrite(status, body);
            (StatusCode::from_u16(status).unwrap(), axum::Json(body))
        }
    };
    let app = axum::Router::new().fallback(forward);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, task)
}

fn is_signature_mismatch(body: &Value) -> bool {
    body["Code"] == "SignatureDoesNotMatch"
}

async fn alibaba_behind(rewrite: fn(u16, Value) -> (u16, Value)) -> Run {
    let mocks = mocks().await;
    let upstream = mocks.url("alibaba").unwrap().to_string();
    let (url, proxy) = rewriting_proxy(upstream, rewrite).await;
    let target = format!("alibaba={url}");
    let run = check(&[
        "--target",
        &target,
        "--suite",
        "errors",
        "--suite",
        "bad-input",
    ])
    .await;
    proxy.abort();
    mocks.shutdown().await;
    run
}

const SIGNATURE_CASES: [&str; 3] = [
    "alibaba.errors: a signature made with the wrong secret gets SignatureDoesNotMatch",
    "alibaba.errors: a signature with one digit changed gets SignatureDoesNotMatch",
    "alibaba.bad-input: bad signatures and tokens: 84 generated requests each get the error envelope with a fitting code, never a 5xx",
];

#[tokio::test]
async fn an_alibaba_target_accepting_bad_signatures_with_200_fails_exactly_the_signature_cases() {
    let run = alibaba_behind(|status, body| match is_signature_mismatch(&body) {
        true => (
            200,
            json!({"RequestId": "8F4E1B0A-0000-0000-0000-000000000001"}),
        ),
        false => (status, body),
    })
    .await;
    assert_eq!(failed(&run), set(&SIGNATURE_CASES));
    assert_eq!(run.exit_code(), 1);
}

#[tokio::test]
async fn an_alibaba_target_answering_signature_does_not_match_with_500_fails_exactly_the_signature_cases(
) {
    let run = alibaba_behind(|status, body| match is_signature_mismatch(&body) {
        true => (500, body),
        false => (status, body),
    })
    .await;
    assert_eq!(failed(&run), set(&SIGNATURE_CASES));
}

/// A target that accepts every connection and never answers; counts the connections.
async fn hung_target() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            held.push(socket);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_target_that_never_answers_fails_every_case_within_a_few_timeouts() {
    let (url, accepted) = hung_target().await;
    let target = format!("duix={url}");
    let started = std::time::Instant::now();
    let run = check(&["--target", &target, "--timeout-ms", "300"]).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        accepted.load(std::sync::atomic::Ordering::Relaxed) <= 8,
        "it stopped sending after the target hung"
    );
    assert_eq!(run.exit_code(), 1);
    let cases: Vec<_> = run.suites.iter().flat_map(|s| &s.cases).collect();
    assert!(
        cases.iter().all(|c| !matches!(c.outcome, Outcome::Passed)),
        "nothing passes"
    );
    let failures = failed(&run);
    for needle in [
        "duix.contract: ",
        "duix.bad-input: ",
        "health probe",
        "duix.expiry: ",
    ] {
        assert!(
            failures.iter().any(|f| f.contains(needle)),
            "{needle}: {failures:?}"
        );
    }
    let gots: Vec<String> = cases
        .iter()
        .filter_map(|c| match &c.outcome {
            Outcome::Failed { got, .. } => Some(got.clone()),
            _ => None,
        })
        .collect();
    assert!(
        gots.iter()
            .all(|g| g.contains("timed out after 300 ms")
                || g.contains("the target stopped answering")),
        "{gots:#?}"
    );
}

#[tokio::test]
async fn a_redirect_to_a_conforming_server_is_not_followed() {
    let valid = json!({"code": "0", "success": true, "data": {"appId": "1234567890", "wsService": "ws://127.0.0.1:9/ws"}});
    let conforming = fake_duix(valid).await;
    let server = MockServer::start().await;
    let location = format!("{}/duix-openapi-v2/sdk/checkSig", conforming.uri());
    Mock::given(method("GET"))
        .and(path("/duix-openapi-v2/sdk/checkSig"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", location.as_str()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(move |request: &wiremock::Request| {
            let to = format!("{}{}", conforming.uri(), request.url.path());
            ResponseTemplate::new(307).insert_header("location", to.as_str())
        })
        .mount(&server)
        .await;
    let target = format!("duix={}", server.uri());
    let run = check(&["--target", &target, "--suite", "contract"]).await;
    let failures = failed(&run);
    assert!(!failures.is_empty());
    assert!(
        failures.iter().all(|f| f.starts_with("duix.contract: ")),
        "{failures:?}"
    );
    assert!(failures.contains("duix.contract: checkSig with a fresh token answers appId and a ws:// wsService, valid against its schema"));
}
