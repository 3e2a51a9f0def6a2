//! `agentproof load` end to end: the real binary drives goose against real servers on loopback
//! (the embedded mocks, mocks this test starts and faults, or wiremock playing a broken
//! target), and the reports it writes are read back. Every run is a few seconds with a few
//! users: bounded in count and time, loopback only.
//!
//! Load runs are child processes: goose keeps process-wide state (its Ctrl-C handler and
//! killswitch), so two attacks must not share a process.

use harness::config::MockConfig;
use harness::mock_cmd::{Embedded, EmbeddedOptions};
use reports::load::{read_load_report, Distribution, LoadReport, Rule};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

/// A fresh report folder for one test, not yet made (`agentproof load` makes it), inside a
/// temporary folder that is removed with everything in it when the returned `TempDir` drops:
/// keep it alive while the folder is used.
fn report_dir(name: &str) -> (TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix("agentproof-load-")
        .tempdir()
        .expect("a temporary folder");
    let dir = tmp.path().join(name);
    (tmp, dir)
}

/// `agentproof load ARGS --report-dir DIR --no-progress`, run to its end.
async fn load(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .arg("load")
        .args(args)
        .arg("--report-dir")
        .arg(dir)
        .arg("--no-progress")
        .stdin(Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("a short load run ends within two minutes")
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

fn report(dir: &Path) -> LoadReport {
    read_load_report(dir).unwrap_or_else(|e| panic!("report.json in {}: {e}", dir.display()))
}

fn route<'r>(report: &'r LoadReport, name: &str) -> &'r reports::load::RouteResult {
    report
        .routes
        .iter()
        .find(|r| r.route == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
            panic!("no route {name:?} in {names:?}")
        })
}

/// Runs `scenario` for two seconds against the embedded mocks and checks it answered every
/// request rightly, on every route the journey has.
async fn scenario_passes_on_the_embedded_mocks(scenario: &str, routes: &[&str]) {
    let (_tmp, dir) = report_dir(scenario);
    let output = load(
        &dir,
        &["--scenario", scenario, "--run-time", "2s", "--users", "3"],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("PASS: "),
        "the verdict comes first: {stdout}"
    );
    let report = report(&dir);
    assert!(report.total_requests() > 0, "{}", describe(&output));
    assert_eq!(
        report.total_errors(),
        0,
        "no failed request: {:?}",
        report.errors
    );
    for name in routes {
        assert!(route(&report, name).count > 0, "{name} was driven");
    }
    for file in [
        "goose-report.html",
        "goose-report.json",
        "junit.xml",
        "report.md",
    ] {
        assert!(
            dir.join(file).exists(),
            "{file} is written beside report.json"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aui_token_storm_answers_every_request_on_the_embedded_mocks() {
    scenario_passes_on_the_embedded_mocks(
        "aui-token-storm",
        &[
            "aui POST /api/v2/aiagent/login",
            "aui POST /api/v2/aiagent/getRtcAuthToken",
            "aui POST /api/v2/aiagent/generateMessageChatToken",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aui_call_lifecycle_answers_every_request_on_the_embedded_mocks() {
    scenario_passes_on_the_embedded_mocks(
        "aui-call-lifecycle",
        &[
            "aui POST /api/v2/aiagent/startAIAgentInstance",
            "aui POST /api/v2/aiagent/describeAIAgentInstance",
            "aui POST /api/v2/aiagent/stopAIAgentInstance",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_openapi_answers_every_request_on_the_embedded_mocks() {
    let actions = [
        "StartAgent",
        "GetAgent",
        "UpdateAgent",
        "StopAgent",
        "StartAIAgentInstance",
        "DescribeAIAgentInstance",
        "UpdateAIAgentInstance",
        "StopAIAgentInstance",
        "GenerateAIAgentCall",
        "GenerateMessageChatToken",
    ];
    let routes: Vec<String> = actions.iter().map(|a| format!("alibaba {a}")).collect();
    let routes: Vec<&str> = routes.iter().map(String::as_str).collect();
    scenario_passes_on_the_embedded_mocks("alibaba-openapi", &routes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duix_session_churn_answers_every_request_and_frame_on_the_embedded_mocks() {
    scenario_passes_on_the_embedded_mocks(
        "duix-session-churn",
        &[
            "duix GET /duix-openapi-v2/sdk/checkSig",
            "duix GET /duix-openapi-v2/v1/getconcurrentNumber",
            "duix WS connect",
            "duix WS start",
            "duix WS question",
            "duix WS stop",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duix_webhook_answers_every_question_on_the_embedded_reference_webhook() {
    scenario_passes_on_the_embedded_mocks("duix-webhook", &["duix POST webhook dh-question"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_llm_streams_on_the_embedded_reference_endpoint_with_ttft_and_end_rows() {
    scenario_passes_on_the_embedded_mocks(
        "alibaba-llm",
        &[
            "alibaba POST llm /chat/completions ttft",
            "alibaba POST llm /chat/completions end",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_slo_on_the_first_token_judges_that_row_alone() {
    // A model whose first token takes 300 ms and whose answer ends soon after.
    let config = mocks::alibaba::llm::vendor::VendorConfig {
        api_key: Some("load-key".into()),
        first_token_delay_ms: 300,
        token_delay_ms: 0,
    };
    let server = mocks::alibaba::llm::vendor::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let target = format!("llm={}", mocks::alibaba::llm::vendor::base_url(&server));
    let (_tmp, dir) = report_dir("llm-ttft-slo");
    let args = [
        "--scenario",
        "alibaba-llm",
        "--target",
        &target,
        "--llm-api-key",
        "load-key",
        "--run-time",
        "2s",
        "--users",
        "2",
        "--slo",
        "ttft p95<200ms",
    ];
    let output = load(&dir, &args).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        !describe(&output).contains("load-key"),
        "the key is never printed"
    );
    let report = report(&dir);
    assert_eq!(report.total_errors(), 0, "{:?}", report.errors);
    let verdict = report.verdict();
    for route in &verdict.routes {
        let failed: Vec<Rule> = route.failed().map(|r| r.rule).collect();
        match route.route.ends_with(" ttft") {
            true => assert_eq!(failed, [Rule::Quantile], "ttft p95<200ms broke"),
            false => assert_eq!(failed, [], "{} keeps p95<2000ms", route.route),
        }
    }
    server.shutdown().await;
}

/// The embedded mocks, started in this test's process so the test can fault them.
async fn mocks() -> Embedded {
    Embedded::start(&EmbeddedOptions::ephemeral(), MockConfig::default())
        .await
        .expect("the mocks start on free loopback ports")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lognormal_latency_on_one_aui_route_breaks_exactly_that_route() {
    let mocks = mocks().await;
    let aui = mocks.url("aui").unwrap().to_string();
    // Median 1500 ms, sigma 0.5: about 28 % of answers take longer than 2000 ms.
    let fault = json!({
        "route": "/api/v2/aiagent/getRtcAuthToken",
        "latency": {"kind": "lognormal", "median_ms": 1500.0, "sigma": 0.5, "max_ms": 6000},
    });
    let added = reqwest::Client::new()
        .post(format!("{aui}/__admin/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);

    let (_tmp, dir) = report_dir("breach");
    let target = format!("aui={aui}");
    let output = load(
        &dir,
        &[
            "--scenario",
            "aui-token-storm",
            "--target",
            &target,
            "--users",
            "20",
            "--run-time",
            "5s",
        ],
    )
    .await;
    mocks.shutdown().await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "the SLO broke: {}",
        describe(&output)
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("FAIL: 1 of 3 routes broke the SLO"),
        "{stdout}"
    );
    let report = report(&dir);
    let verdict = report.verdict();
    for route in &verdict.routes {
        let failed: Vec<Rule> = route.failed().map(|r| r.rule).collect();
        if route.route == "aui POST /api/v2/aiagent/getRtcAuthToken" {
            assert_eq!(
                failed,
                [Rule::Quantile],
                "the p95 rule broke there, only it"
            );
        } else {
            assert_eq!(failed, [], "{} passes", route.route);
        }
    }
    let slow = route(&report, "aui POST /api/v2/aiagent/getRtcAuthToken");
    assert!(slow.count >= 20, "enough slow samples: {}", slow.count);
    assert!(slow.sent.under_limit * 100 < slow.count * 95);
}

/// wiremock as an AUI server that logs in fine and answers getRtcAuthToken with a wrong shape.
async fn aui_with_a_wrong_shape() -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    let example = |name: &str| schemas::registry().examples(name)[0].clone();
    let routes = [
        ("/api/v2/aiagent/login", example("aui/login.response")),
        (
            "/api/v2/aiagent/generateMessageChatToken",
            example("aui/generateMessageChatToken.response"),
        ),
        (
            "/api/v2/aiagent/getRtcAuthToken",
            json!({"code": 200, "rtc_auth_token": 7, "channel_id": "c", "timestamp": 1}),
        ),
    ];
    for (route, body) in routes {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_answering_the_wrong_shape_fails_those_requests_with_the_reason() {
    let server = aui_with_a_wrong_shape().await;
    let (_tmp, dir) = report_dir("wrong-shape");
    let target = format!("aui={}", server.uri());
    let output = load(
        &dir,
        &[
            "--scenario",
            "aui-token-storm",
            "--target",
            &target,
            "--users",
            "2",
            "--run-time",
            "2s",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let report = report(&dir);
    let wrong = route(&report, "aui POST /api/v2/aiagent/getRtcAuthToken");
    assert!(wrong.count > 0);
    assert_eq!(wrong.errors, wrong.count, "every wrong answer is a failure");
    let right = route(&report, "aui POST /api/v2/aiagent/generateMessageChatToken");
    assert_eq!(right.errors, 0, "the well-shaped route has no failure");
    let reasons: Vec<&str> = report
        .errors
        .iter()
        .filter(|e| e.route == wrong.route)
        .map(|e| e.reason.as_str())
        .collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("breaks aui/getRtcAuthToken.response at /rtc_auth_token"),
        "{reasons:?}"
    );
    assert!(
        text(&output.stdout).contains("breaks aui/getRtcAuthToken.response"),
        "the reason is printed too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_judges_latency_from_when_each_request_was_due() {
    let (_tmp, dir) = report_dir("scheduled");
    let output = load(
        &dir,
        &[
            "--scenario",
            "aui-token-storm",
            "--run-time",
            "2s",
            "--users",
            "4",
            "--rate",
            "200",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(text(&output.stdout).contains("judged as due"));
    let report = report(&dir);
    assert_eq!(report.judged, Distribution::AsDue);
    assert_eq!(report.meta.rate_per_sec, Some(200.0));
    for route in &report.routes {
        let due = route.due.as_ref().expect("the as-due distribution is kept");
        assert_eq!(due.summary.count, route.sent.summary.count);
        assert!(
            due.summary.max_ms >= route.sent.summary.max_ms,
            "due >= sent"
        );
    }
    // 200 requests a second for 2 s and the ramp: the schedule, not the users, set the pace.
    let total = report.total_requests();
    assert!((300..=700).contains(&total), "{total} requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_usage_and_unreachable_targets_exit_2_naming_the_problem() {
    let (_tmp, dir) = report_dir("usage");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = format!("aui=http://127.0.0.1:{port}");
    let cases: [(&[&str], &str); 5] = [
        (&["--scenario", "aui-token-strom"], "no such scenario"),
        (
            &["--scenario", "aui-token-storm", "--slo", "p95<2x"],
            "bad SLO rule",
        ),
        (
            &["--scenario", "aui-token-storm", "--run-time", "soon"],
            "not a duration",
        ),
        (
            &["--scenario", "duix-webhook", "--target", &unreachable],
            "give --target webhook=URL",
        ),
        (
            &["--scenario", "aui-token-storm", "--target", &unreachable],
            "cannot reach the aui target",
        ),
    ];
    for (args, needle) in cases {
        let output = load(&dir, args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&output)
        );
        assert!(
            text(&output.stderr).contains(needle),
            "{args:?}: {}",
            describe(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_names_every_scenario() {
    let (_tmp, dir) = report_dir("list");
    let output = load(&dir, &["--list"]).await;
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    for scenario in scenarios::BUILTINS {
        assert!(stdout.contains(scenario.name), "{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_folder_adds_per_route_deltas_and_junit_goes_where_asked() {
    let (_before_tmp, before) = report_dir("baseline-before");
    let short = [
        "--scenario",
        "duix-webhook",
        "--run-time",
        "1s",
        "--users",
        "2",
    ];
    assert!(load(&before, &short).await.status.success());
    let (_after_tmp, after) = report_dir("baseline-after");
    let junit = after.with_extension("xml");
    let mut args = short.to_vec();
    let (baseline, junit_arg) = (before.display().to_string(), junit.display().to_string());
    args.extend(["--baseline", &baseline, "--junit", &junit_arg]);
    let output = load(&after, &args).await;
    assert!(output.status.success(), "{}", describe(&output));
    let deltas = report(&after)
        .baseline
        .expect("the comparison is in the report");
    assert_eq!(deltas.len(), 1, "{deltas:?}");
    assert_eq!(deltas[0].route, "duix POST webhook dh-question");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("duix POST webhook dh-question"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_the_run_early_and_still_writes_every_report_marked_cut_short() {
    let mocks = mocks().await;
    let aui = mocks.url("aui").unwrap().to_string();
    let (_tmp, dir) = report_dir("ctrl-c");
    let target = format!("aui={aui}");
    let child = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(["load", "--scenario", "aui-token-storm", "--users", "2"])
        .args(["--run-time", "5m", "--no-progress", "--target", &target])
        .arg("--report-dir")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready when the mock has served load traffic: poll its journal, no sleep standing in.
    let client = reqwest::Client::new();
    let journal = format!("{aui}/__admin/requests?route=/api/v2/aiagent/getRtcAuthToken&limit=5");
    let mut served = false;
    for _ in 0..600 {
        let entries: Value = client
            .get(&journal)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if entries["count"].as_u64().is_some_and(|n| n >= 5) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the load reached the mock");
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends soon after Ctrl-C, long before its 5 minutes")
        .unwrap();
    mocks.shutdown().await;
    assert!(
        text(&output.stdout).contains("cut short"),
        "{}",
        describe(&output)
    );
    let report = report(&dir);
    assert!(
        report.cut_short.is_some(),
        "report.json says it was cut short"
    );
    assert!(report.total_requests() > 0);
    for file in ["report.html", "report.md", "junit.xml", "goose-report.html"] {
        assert!(dir.join(file).exists(), "{file} is written after Ctrl-C");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("CUT SHORT"), "the page says so");
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "headless Chromium is needed at {path}: run scripts/setup-browser (apt-get install chromium) or set CHROMIUM"
    );
    path
}

/// Headless, offline Chromium on a page, with `flags` (`--dump-dom`, `--screenshot=...`).
async fn chromium_on(page: &Path, profile: &Path, flags: &[&str]) -> Output {
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(flags)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(90), output)
        .await
        .expect("chromium ends within 90 s")
        .expect("chromium runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_report_opens_in_chromium_with_its_charts() {
    let (_tmp, dir) = report_dir("browser");
    let output = load(
        &dir,
        &[
            "--scenario",
            "aui-token-storm",
            "--run-time",
            "3s",
            "--users",
            "4",
            "--increase-rate",
            "2",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    // goose's users, counted as it starts and stops them: a ramp of 2 a second up to 4.
    let users: Vec<u64> = report(&dir).series.iter().map(|s| s.users).collect();
    assert_eq!(users.iter().max(), Some(&4), "{users:?}");
    assert!(users[0] < 4, "the ramp shows: {users:?}");
    assert!(users.windows(2).take(2).all(|w| w[0] <= w[1]), "{users:?}");
    let page = dir.join("report.html");
    let dom = chromium_on(&page, &dir.join("profile-dom"), &["--dump-dom"]).await;
    assert!(dom.status.success(), "{}", text(&dom.stderr));
    let dom = text(&dom.stdout);
    let body = dom.split("<body").nth(1).expect("a body");
    let first_id = body.split("id=\"").nth(1).unwrap_or_default();
    assert!(
        first_id.starts_with("verdict\""),
        "the verdict is on top: {first_id:.40}"
    );
    for id in ["latency-over-time", "users-over-time", "percentile-curve"] {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("#{id} rendered"));
        let chart = &dom[at..];
        let chart = &chart[..chart.find("</svg>").expect("an svg chart")];
        assert!(
            chart.contains("<polyline") || chart.contains("<path"),
            "#{id} draws lines"
        );
    }
    assert!(dom.contains("id=\"routes\""), "the per-route table");
    assert!(dom.contains("/api/v2/aiagent/getRtcAuthToken"));
    let shot = dir.join("report.png");
    let taken = chromium_on(
        &page,
        &dir.join("profile-shot"),
        &[&format!("--screenshot={}", shot.display())],
    )
    .await;
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real picture"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_a_broken_test_exit_2_and_the_run_still_ends() {
    use wiremock::{matchers::any, Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    let refused = json!({"code": 403, "message": "wrong user name or password"});
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_json(refused))
        .mount(&server)
        .await;
    let (_tmp, dir) = report_dir("refused-login");
    let target = format!("aui={}", server.uri());
    let output = load(
        &dir,
        &[
            "--scenario",
            "aui-token-storm",
            "--target",
            &target,
            "--users",
            "4",
            "--run-time",
            "2s",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        text(&output.stderr).contains(
            "every login was refused (HTTP 403 code 403, expected 200): check --aui-user"
        ),
        "{}",
        describe(&output)
    );
    assert!(
        dir.join("report.html").exists(),
        "the reports are still written"
    );
}

/// wiremock as a vendor webhook that streams its answers as Server-Sent Events.
async fn streaming_vendor(events: &str) -> wiremock::MockServer {
    use wiremock::{matchers::method, Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(events, "text/event-stream"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_answering_in_server_sent_events_is_judged_event_by_event() {
    let good = "data: {\"answer\":\"你好\",\"isEnd\":false}\n\ndata: {\"answer\":\"!\",\"isEnd\":true}\n\n";
    let cut = "data: {\"answer\":\"你好\",\"isEnd\":false}\n\n";
    for (events, failing) in [(good, false), (cut, true)] {
        let vendor = streaming_vendor(events).await;
        let (_tmp, dir) = report_dir(if failing { "sse-cut" } else { "sse-good" });
        let target = format!("webhook={}/hook", vendor.uri());
        let output = load(
            &dir,
            &[
                "--scenario",
                "duix-webhook",
                "--target",
                &target,
                "--users",
                "2",
                "--run-time",
                "1s",
            ],
        )
        .await;
        let report = report(&dir);
        let route = route(&report, "duix POST webhook dh-question");
        assert!(route.count > 0, "{}", describe(&output));
        if failing {
            assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
            assert_eq!(route.errors, route.count);
            assert_eq!(
                report.errors[0].reason,
                "the event stream ended without isEnd"
            );
        } else {
            assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
            assert_eq!(route.errors, 0, "{:?}", report.errors);
        }
    }
}

/// wiremock answering every request with `status` and `body`.
async fn answering(status: u16, body: Value) -> wiremock::MockServer {
    use wiremock::{matchers::any, Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

/// Each platform's sign-in (the AUI login, DUIX checkSig, the signed Alibaba calls) refused is
/// the test's failure, exit 2 naming the credentials' flag; answered with a broken shape or a
/// 5xx it is the target's, exit 1 with the reason on the verdict line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_answered_wrongly_fails_the_target_and_only_a_refused_one_the_test() {
    let cases = [
        // (platform, scenario, status, body, exit, what stdout or stderr must say)
        ("aui", "aui-token-storm", 200, json!({"code": 200}), 1,
         "; every login failed: breaks aui/login.response at /"),
        ("aui", "aui-call-lifecycle", 500, json!({"code": 500, "message": "NullPointerException"}), 1,
         "; every login failed: HTTP 500 code 500, expected 200"),
        ("duix", "duix-session-churn", 200, json!({"code": "40001", "success": false, "message": "appid"}), 2,
         "every checkSig was refused (HTTP 200 code 40001): check --duix-app"),
        ("duix", "duix-session-churn", 200, json!({}), 1, "; every checkSig failed: breaks duix/checkSig.response"),
        ("alibaba", "alibaba-openapi", 404, json!({"Code": "InvalidAccessKeyId.NotFound", "RequestId": "r"}), 2,
         "every signed Alibaba call was refused (HTTP 404 code InvalidAccessKeyId.NotFound, expected 200): check --alibaba-key"),
        ("alibaba", "alibaba-openapi", 200, json!({"Code": "InternalError"}), 1,
         "; every signed Alibaba call failed: "),
    ];
    for (i, (platform, scenario, status, body, exit, says)) in cases.into_iter().enumerate() {
        let server = answering(status, body).await;
        let (_tmp, dir) = report_dir(&format!("sign-in-{i}"));
        let target = format!("{platform}={}", server.uri());
        let args = [
            "--scenario",
            scenario,
            "--target",
            &target,
            "--users",
            "2",
            "--run-time",
            "1s",
        ];
        let output = load(&dir, &args).await;
        let case = format!("{scenario} answered HTTP {status}: {}", describe(&output));
        assert_eq!(output.status.code(), Some(exit), "{case}");
        let stdout = text(&output.stdout);
        match exit {
            1 => {
                let verdict = stdout.lines().next().unwrap_or_default();
                assert!(
                    verdict.starts_with("FAIL: ") && verdict.contains(says),
                    "{case}"
                );
            }
            _ => assert!(text(&output.stderr).contains(says), "{case}"),
        }
        assert!(dir.join("report.json").exists(), "{case}");
    }
}
