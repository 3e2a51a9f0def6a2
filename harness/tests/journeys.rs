//! Journey files end to end: the real binary runs files against real servers on loopback (the
//! embedded mocks, or wiremock recording what it was sent), and each feature is shown to fire:
//! a capture reaches the later request, a unique feeder never hands a row twice, think time shows
//! in the rate, stages show in the users over time, what a user started is stopped when it
//! stops (also on Ctrl-C), every built-in runs from its printed file, and a broken file is
//! named by its line before anything is sent. Each run is a few seconds, loopback only.

mod common;

use common::describe;
use harness::config::MockConfig;
use harness::mock_cmd::{Embedded, EmbeddedOptions};
use reports::load::{read_load_report, LoadReport};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::process::Command;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fresh folder for one test, removed with everything in it when the `TempDir` drops.
fn folder(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("agentproof-journeys-{name}-"))
        .tempdir()
        .expect("a temporary folder")
}

/// `agentproof load ARGS` in `dir`, reports in `dir/report`.
fn load_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentproof"));
    command
        .current_dir(dir)
        .arg("load")
        .args(args)
        .args(["--report-dir", "report", "--no-progress"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn load(dir: &Path, args: &[&str]) -> Output {
    let output = load_command(dir, args).output();
    tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("a short run ends within two minutes")
        .expect("the binary runs")
}

fn report(dir: &Path) -> LoadReport {
    read_load_report(&dir.join("report"))
        .unwrap_or_else(|e| panic!("the report in {}: {e}", dir.display()))
}

fn count(report: &LoadReport, route: &str) -> (u64, u64) {
    report
        .routes
        .iter()
        .find(|r| r.route == route)
        .map_or((0, 0), |r| (r.count, r.errors))
}

/// wiremock answering JSON on every path.
async fn recorder() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"order": {"id": "ord-7f3a"}})),
        )
        .mount(&server)
        .await;
    Mock::given(path_regex(".*"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_reaches_the_later_request() {
    let server = recorder().await;
    let tmp = folder("capture");
    let dir = tmp.path();
    std::fs::write(
        dir.join("journey.toml"),
        r#"
[[journeys]]
name = "orders"
[[journeys.steps]]
op = "http.request"
fields = { method = "POST", url = "/orders", body = { item = "{{ id(item) }}" } }
capture = { order = "/order/id" }
[[journeys.steps]]
op = "http.request"
name = "order page"
fields = { url = "/orders/{{ order }}?user={{ user }}" }
"#,
    )
    .unwrap();
    let target = format!("http={}", server.uri());
    let args = [
        "--scenario-file",
        "journey.toml",
        "--target",
        &target,
        "--users",
        "1",
        "--run-time",
        "1s",
    ];
    let output = load(dir, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let received = server.received_requests().await.unwrap();
    let pages: Vec<String> = received
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| format!("{}?{}", r.url.path(), r.url.query().unwrap_or_default()))
        .collect();
    assert!(!pages.is_empty());
    assert!(
        pages.iter().all(|p| p == "/orders/ord-7f3a?user=0"),
        "the captured id in every later request: {pages:?}"
    );
    let posted: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(
        posted["item"].as_str().unwrap().starts_with("item_"),
        "{posted}"
    );
    let report = report(dir);
    assert!(count(&report, "order page").0 > 0, "the step's own row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_feeder_never_hands_a_row_twice_and_too_few_rows_are_refused_before_the_run() {
    let server = recorder().await;
    let tmp = folder("unique");
    let dir = tmp.path();
    let rows: Vec<String> = (0..12).map(|i| format!("acct-{i:02},k{i}")).collect();
    std::fs::write(
        dir.join("accounts.csv"),
        format!("name,key\n{}\n", rows.join("\n")),
    )
    .unwrap();
    std::fs::write(
        dir.join("journey.toml"),
        r#"
[feeders.accounts]
file = "accounts.csv"
mode = "unique"
[[journeys]]
name = "accounts"
[[journeys.on_start]]
op = "http.request"
name = "hello"
fields = { url = "/hello", headers = { x-account = "{{ accounts.name }}", x-user = "{{ user }}" } }
[[journeys.steps]]
op = "http.request"
fields = { url = "/work" }
think = "200ms"
"#,
    )
    .unwrap();
    let target = format!("http={}", server.uri());
    for (worker, users) in [("0/2", "12"), ("1/2", "12")] {
        let args = [
            "--scenario-file",
            "journey.toml",
            "--target",
            &target,
            "--users",
            users,
            "--run-time",
            "1s",
            "--worker",
            worker,
        ];
        let output = load(dir, &args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "worker {worker}: {}",
            describe(&output)
        );
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for request in server.received_requests().await.unwrap() {
        if request.url.path() != "/hello" {
            continue;
        }
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        let (account, user) = (header("x-account"), header("x-user"));
        if let Some(other) = seen.insert(account.clone(), user.clone()) {
            panic!("{account} handed to user {other} and to user {user}");
        }
    }
    assert_eq!(
        seen.len(),
        12,
        "two workers of 6 users: 12 distinct rows: {seen:?}"
    );
    let output = load(
        dir,
        &[
            "--scenario-file",
            "journey.toml",
            "--target",
            &target,
            "--users",
            "13",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(
        describe(&output).contains("feeder \"accounts\" is unique and has 12 rows for 13 users"),
        "{}",
        describe(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_time_shows_in_the_rate() {
    let server = recorder().await;
    let tmp = folder("think");
    let dir = tmp.path();
    let journey = |think: &str| {
        format!("[[journeys]]\nname = \"t\"\n[[journeys.steps]]\nop = \"http.request\"\nname = \"get\"\nfields = {{ url = \"/x\" }}\n{think}\n")
    };
    std::fs::write(dir.join("busy.toml"), journey("")).unwrap();
    std::fs::write(dir.join("thinking.toml"), journey("think = \"500ms\"")).unwrap();
    let target = format!("http={}", server.uri());
    let mut counts = Vec::new();
    for file in ["busy.toml", "thinking.toml"] {
        let args = [
            "--scenario-file",
            file,
            "--target",
            &target,
            "--users",
            "2",
            "--run-time",
            "2s",
        ];
        let output = load(dir, &args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{file}: {}",
            describe(&output)
        );
        let report = report(dir);
        let per_second: Vec<u64> = report.series.iter().map(|s| s.requests).collect();
        counts.push((count(&report, "get").0, per_second));
    }
    let (thinking, per_second) = &counts[1];
    // Two users waiting 500 ms after each request send at most four a second (plus one each at
    // the start), however fast the server: a rate no busy loop keeps under.
    assert!(
        *thinking <= 2 * (3 * 2 + 1) + 2,
        "{thinking} requests in 3 s with think time"
    );
    assert!(
        per_second.iter().all(|n| *n <= 6),
        "per second: {per_second:?}"
    );
    assert!(
        counts[0].0 > 5 * thinking,
        "without think time far more: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_plan_shows_its_ramp_in_the_users_over_time() {
    let server = recorder().await;
    let tmp = folder("stages");
    let dir = tmp.path();
    std::fs::write(
        dir.join("journey.toml"),
        "[load]\nstages = [{ users = 6, over = \"3s\" }, { users = 6, over = \"1s\" }, { users = 0, over = \"2s\" }]\n\
         [[journeys]]\nname = \"s\"\n[[journeys.steps]]\nop = \"http.request\"\nfields = { url = \"/x\" }\nthink = \"100ms\"\n",
    )
    .unwrap();
    let target = format!("http={}", server.uri());
    let output = load(
        dir,
        &["--scenario-file", "journey.toml", "--target", &target],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("PASS"), "the verdict first: {stdout}");
    let users: Vec<u64> = report(dir).series.iter().map(|s| s.users).collect();
    let peak = users.iter().copied().max().unwrap_or(0);
    assert_eq!(peak, 6, "{users:?}");
    let at_peak = users.iter().position(|u| *u == peak).unwrap();
    assert!(users[0] < peak, "it ramps up: {users:?}");
    assert!(
        users[at_peak..].iter().any(|u| *u < peak),
        "and down: {users:?}"
    );
}

/// The embedded Alibaba mock in this process, and its journal's count of each action.
async fn alibaba() -> Embedded {
    let mut options = EmbeddedOptions::ephemeral();
    options.only = vec!["alibaba".to_string()];
    Embedded::start(&options, MockConfig::default())
        .await
        .unwrap()
}

async fn actions(mock: &Embedded) -> HashMap<String, u64> {
    let url = format!(
        "{}/__admin/requests?limit=1000",
        mock.url("alibaba").unwrap()
    );
    let journal: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let mut counts = HashMap::new();
    for entry in journal["requests"].as_array().unwrap() {
        let route = entry["route"].as_str().unwrap_or_default().to_string();
        *counts.entry(route).or_default() += 1;
    }
    counts
}

/// A journey that starts an agent task and then thinks for a long time: the run ends (or is
/// cut) in the middle of it.
const STARTS_AND_THINKS: &str = r#"
[[journeys]]
name = "forgets to stop"
[[journeys.steps]]
op = "alibaba.StartAgent"
think = "30s"
[[journeys.steps]]
op = "alibaba.StopAgent"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_user_started_is_stopped_when_the_run_ends_or_is_cut() {
    let mock = alibaba().await;
    let tmp = folder("stops");
    let dir = tmp.path();
    std::fs::write(dir.join("journey.toml"), STARTS_AND_THINKS).unwrap();
    let target = format!("alibaba={}", mock.url("alibaba").unwrap());
    let args = [
        "--scenario-file",
        "journey.toml",
        "--target",
        &target,
        "--users",
        "3",
        "--run-time",
        "2s",
    ];
    let output = load(dir, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let ended = actions(&mock).await;
    assert_eq!(ended.get("StartAgent"), Some(&3), "{ended:?}");
    assert_eq!(
        ended.get("StopAgent"),
        Some(&3),
        "every task stopped at the end: {ended:?}"
    );

    let child = load_command(
        dir,
        &[
            "--scenario-file",
            "journey.toml",
            "--target",
            &target,
            "--users",
            "2",
            "--run-time",
            "1m",
        ],
    )
    .spawn()
    .unwrap();
    // Ctrl-C once both users have started their task (the mock's journal says so).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while actions(&mock).await.get("StartAgent").copied().unwrap_or(0) < 5 {
        assert!(tokio::time::Instant::now() < deadline, "the tasks start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().unwrap() as i32;
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("Ctrl-C ends the run")
        .unwrap();
    let cut = actions(&mock).await;
    assert_eq!(
        cut.get("StopAgent"),
        Some(&5),
        "stopped on Ctrl-C too: {cut:?}\n{}",
        describe(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("cut short"),
        "{}",
        describe(&output)
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_built_in_runs_from_the_file_it_prints() {
    let tmp = folder("builtins");
    let dir = tmp.path();
    for builtin in scenarios::BUILTINS {
        let output = load(dir, &["--print-scenario", builtin.name]).await;
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        let file = format!("{}.toml", builtin.name);
        std::fs::write(dir.join(&file), &output.stdout).unwrap();
        let mut args = vec![
            "--scenario-file",
            file.as_str(),
            "--run-time",
            "1s",
            "--users",
            "2",
        ];
        // http-get loads any server: the DUIX mock's health route is one of the embedded mocks'.
        let mock;
        let target;
        if builtin.name == "http-get" {
            let mut options = EmbeddedOptions::ephemeral();
            options.only = vec!["duix".to_string()];
            mock = Some(
                Embedded::start(&options, MockConfig::default())
                    .await
                    .unwrap(),
            );
            target = format!(
                "http={}/__admin/health",
                mock.as_ref().unwrap().url("duix").unwrap()
            );
            args.extend(["--target", target.as_str()]);
        }
        let output = load(dir, &args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {}",
            builtin.name,
            describe(&output)
        );
        let report = report(dir);
        assert_eq!(report.meta.scenario, builtin.name);
        assert!(
            report.total_requests() > 0 && report.total_errors() == 0,
            "{}: {}",
            builtin.name,
            describe(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_of_200_users_from_a_unique_feeder_runs_on_the_embedded_mocks() {
    let tmp = folder("two-hundred");
    let dir = tmp.path();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples");
    for file in ["users.csv", "mocks.toml"] {
        std::fs::copy(examples.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(
        dir.join("journey.toml"),
        r#"
[feeders.users]
file = "users.csv"
mode = "unique"
[credentials]
aui_user = { id = "{{ users.user }}", secret = "{{ users.password }}" }
[[journeys]]
name = "calls"
[[journeys.on_start]]
op = "aui.login"
[[journeys.steps]]
op = "aui.getRtcAuthToken"
think = "1s"
"#,
    )
    .unwrap();
    let args = [
        "--scenario-file",
        "journey.toml",
        "--config",
        "mocks.toml",
        "--users",
        "200",
        "--increase-rate",
        "100",
        "--run-time",
        "2s",
        "--slo",
        "p95<20s",
    ];
    let output = load(dir, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let report = report(dir);
    assert_eq!(
        count(&report, "aui POST /api/v2/aiagent/login"),
        (200, 0),
        "200 users, each its own login"
    );
    assert_eq!(report.total_errors(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_is_named_by_its_line_before_anything_is_sent() {
    let tmp = folder("broken");
    let dir = tmp.path();
    std::fs::write(dir.join("users.csv"), "name,password\na,b\n").unwrap();
    let cases = [
        ("[[journeys]]\nname = \"j\"\n[[journeys.steps]]\nop = \"alibaba.StartAgnet\"\n", "4:6: no operation \"alibaba.StartAgnet\"; nearest: alibaba.StartAgent"),
        ("[[journeys]]\nname = \"j\"\n[[journeys.steps]]\nop = \"aui.getRtcAuthToken\"\nfields = { chanel_id = \"x\" }\n", "5:12: aui.getRtcAuthToken has no field \"chanel_id\""),
        ("[[journeys]]\nname = \"j\"\n[[journeys.steps]]\nop = \"aui.getRtcAuthToken\"\nfields = { channel_id = \"{{ room }}\" }\n", "{{ room }}: nothing is captured before this step"),
        ("[feeders.users]\nfile = \"users.csv\"\n[[journeys]]\nname = \"j\"\n[[journeys.steps]]\nop = \"aui.login\"\nfields = { username = \"{{ users.nmae }}\" }\n", "feeder \"users\" has no column \"nmae\"; its columns are name, password"),
        ("[[journeys]]\nname = \"j\"\n[[journeys.steps]]\nop = \"alibaba.GetAgent\"\n", "alibaba.GetAgent's AppId defaults to \"{{ app_id }}\", but no earlier step captures \"app_id\""),
        ("[[journeys]]\nname = \"j\"\nthnik = \"1s\"\n", "3:1: unknown field `thnik`"),
    ];
    for (text, says) in cases {
        std::fs::write(dir.join("bad.toml"), text).unwrap();
        let output = load(
            dir,
            &[
                "--scenario-file",
                "bad.toml",
                "--target",
                "http=http://127.0.0.1:9",
            ],
        )
        .await;
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("bad.toml:") && stderr.contains(says),
            "want {says:?}: {stderr}"
        );
    }
}

/// Every operation of the catalogue, in an order where each has what it needs.
const EVERY_OPERATION: &str = r#"
[[journeys]]
name = "everything"
[[journeys.on_start]]
op = "aui.login"
[[journeys.steps]]
op = "alibaba.StartAgent"
fields = { sign = "v1" }
[[journeys.steps]]
op = "alibaba.GetAgent"
[[journeys.steps]]
op = "alibaba.UpdateAgent"
[[journeys.steps]]
op = "alibaba.StopAgent"
[[journeys.steps]]
op = "alibaba.StartAIAgentInstance"
[[journeys.steps]]
op = "alibaba.DescribeAIAgentInstance"
fields = { sign = "v1" }
[[journeys.steps]]
op = "alibaba.UpdateAIAgentInstance"
[[journeys.steps]]
op = "alibaba.StopAIAgentInstance"
[[journeys.steps]]
op = "alibaba.GenerateAIAgentCall"
[[journeys.steps]]
op = "alibaba.GenerateMessageChatToken"
[[journeys.steps]]
op = "aui.getRtcAuthToken"
[[journeys.steps]]
op = "aui.generateMessageChatToken"
[[journeys.steps]]
op = "aui.startAIAgentInstance"
[[journeys.steps]]
op = "aui.describeAIAgentInstance"
[[journeys.steps]]
op = "aui.updateAIAgentInstance"
[[journeys.steps]]
op = "aui.stopAIAgentInstance"
[[journeys.steps]]
op = "aui.startAIAgentInstanceWithChannel"
[[journeys.steps]]
op = "aui.generateAIAgentCall"
[[journeys.steps]]
op = "duix.checkSig"
[[journeys.steps]]
op = "duix.ws.connect"
[[journeys.steps]]
op = "duix.ws.start"
[[journeys.steps]]
op = "duix.ws.question"
fields = { text = "请介绍一下你们的退货政策" }
[[journeys.steps]]
op = "duix.getconcurrentList"
[[journeys.steps]]
op = "duix.sessionStop"
[[journeys.steps]]
op = "duix.ws.close"
[[journeys.steps]]
op = "duix.getconcurrentNumber"
[[journeys.steps]]
op = "duix.checkSig"
[[journeys.steps]]
op = "duix.session"
fields = { questions = 1 }
[[journeys.steps]]
op = "duix.checkSig"
[[journeys.steps]]
op = "duix.ws.connect"
[[journeys.steps]]
op = "duix.ws.start"
[[journeys.steps]]
op = "duix.ws.stop"
[[journeys.steps]]
op = "duix.ws.close"
[[journeys.steps]]
op = "duix.distroyCallSessionsByAppId"
[[journeys.steps]]
op = "webhook.question"
[[journeys.steps]]
op = "llm.chat"
[[journeys.steps]]
op = "http.request"
fields = { url = "{{ target.duix }}/__admin/health", schema = "json" }
expect = { json = { "/status" = "ok" } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_catalogue_runs_on_the_embedded_mocks() {
    let tmp = folder("every-op");
    let dir = tmp.path();
    std::fs::write(dir.join("journey.toml"), EVERY_OPERATION).unwrap();
    let named: Vec<&str> = EVERY_OPERATION
        .lines()
        .filter_map(|l| l.strip_prefix("op = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    for op in scenarios::ops::CATALOGUE {
        assert!(
            named.contains(&op.name),
            "{} is not in the journey",
            op.name
        );
    }
    // The embedded mocks (the duix one also as the http target).
    let mocks = Embedded::start(&EmbeddedOptions::ephemeral(), MockConfig::default())
        .await
        .unwrap();
    let targets: Vec<String> = ["alibaba", "aui", "duix", "webhook", "llm"]
        .iter()
        .map(|p| format!("{p}={}", mocks.url(p).unwrap()))
        .chain([format!("http={}", mocks.url("duix").unwrap())])
        .collect();
    let mut args = vec![
        "--scenario-file",
        "journey.toml",
        "--users",
        "1",
        "--run-time",
        "2s",
    ];
    args.extend(["--llm-api-key", harness::config::DEMO_LLM_API_KEY]);
    for target in &targets {
        args.extend(["--target", target.as_str()]);
    }
    let output = load(dir, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let report = report(dir);
    assert_eq!(report.total_errors(), 0, "{}", describe(&output));
    assert!(
        report.routes.len() >= 30,
        "a row per route: {}",
        describe(&output)
    );
    mocks.shutdown().await;
}
