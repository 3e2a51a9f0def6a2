//! A recording of the embedded mocks, made through the proxy, replays against fresh mocks with no
//! difference (ids remapped, Alibaba calls signed afresh, the AUI login made again, refusals
//! refused again); the same recording with one answer edited to hold one deliberate difference
//! is reported exactly once. Every recorded line is valid against the fixture schema.

mod common;

use common::{proxy, KEY, SECRET};
use mocks::{MockServer, VirtualClock};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::{self, HttpRequest};
use proxy::exchange::FIXTURE_SCHEMA;
use proxy::platform::Platform;
use proxy::replay::{self, Credentials, Plan};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

struct Mocks {
    alibaba: MockServer,
    aui: MockServer,
    duix: MockServer,
}

impl Mocks {
    async fn start() -> Mocks {
        let clock = VirtualClock::new();
        let any = "127.0.0.1:0".parse().unwrap();
        let alibaba =
            mocks::alibaba::start(mocks::alibaba::AlibabaConfig::default(), clock.clone(), any)
                .await
                .unwrap();
        let mut aui = mocks::aui::AuiConfig::default();
        aui.upstream.endpoint = alibaba.url();
        aui.upstream.access_key_id = KEY.into();
        aui.upstream.access_key_secret = SECRET.into();
        let aui = mocks::aui::start(aui, clock.clone(), any).await.unwrap();
        let duix = mocks::duix::start(mocks::duix::DuixConfig::default(), clock, any)
            .await
            .unwrap();
        Mocks { alibaba, aui, duix }
    }

    fn targets(&self) -> BTreeMap<Platform, String> {
        BTreeMap::from([
            (Platform::Alibaba, self.alibaba.url()),
            (Platform::Aui, self.aui.url()),
            (Platform::Duix, self.duix.url()),
        ])
    }

    async fn stop(self) {
        self.alibaba.shutdown().await;
        self.aui.shutdown().await;
        self.duix.shutdown().await;
    }
}

fn now_ms() -> i64 {
    proxy::exchange::now_ms()
}

async fn send(client: &reqwest::Client, base: &str, request: HttpRequest) -> Value {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, request.url(base));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let answer = builder.body(request.body).send().await.unwrap();
    answer.json().await.unwrap_or(Value::Null)
}

fn alibaba_call(
    base: &str,
    action: &str,
    params: &[(&str, &str)],
    secret: &str,
    v1: bool,
) -> HttpRequest {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let host = request::alibaba::host_of(base);
    let date = format_utc(now_ms());
    let nonce = request::alibaba::fresh_nonce();
    let call = request::alibaba::Call {
        method: "POST",
        host: &host,
        action,
        version: request::alibaba::api_version(action),
        params: &params,
        access_key_id: KEY,
        secret,
        date: &date,
        nonce: &nonce,
    };
    if v1 {
        request::alibaba::signed_v1(call)
    } else {
        request::alibaba::signed(call)
    }
}

/// A day of a client's traffic, through the proxy's listeners.
async fn traffic(urls: &BTreeMap<Platform, String>) {
    let client = reqwest::Client::new();
    let alibaba = &urls[&Platform::Alibaba];
    let runtime = r#"{"AgentUserId":"agent_r","ChannelId":"ch_r","AuthToken":"tok"}"#;
    let started = send(
        &client,
        alibaba,
        alibaba_call(
            alibaba,
            "StartAIAgentInstance",
            &[("AIAgentId", "agent-1"), ("RuntimeConfig", runtime)],
            SECRET,
            false,
        ),
    )
    .await;
    let instance = started["InstanceId"]
        .as_str()
        .expect("an instance")
        .to_string();
    for action in [
        "DescribeAIAgentInstance",
        "StopAIAgentInstance",
        "DescribeAIAgentInstance",
    ] {
        send(
            &client,
            alibaba,
            alibaba_call(alibaba, action, &[("InstanceId", &instance)], SECRET, false),
        )
        .await;
    }
    send(
        &client,
        alibaba,
        alibaba_call(
            alibaba,
            "GenerateMessageChatToken",
            &[("AIAgentId", "agent-1"), ("UserId", "user_1")],
            SECRET,
            true,
        ),
    )
    .await;
    send(
        &client,
        alibaba,
        alibaba_call(
            alibaba,
            "GetAgent",
            &[
                ("AppId", "app1"),
                ("ChannelId", "ch1"),
                ("TaskId", "nobody"),
            ],
            SECRET,
            true,
        ),
    )
    .await;
    send(
        &client,
        alibaba,
        alibaba_call(
            alibaba,
            "DescribeAIAgentInstance",
            &[("InstanceId", &instance)],
            "not-the-secret",
            false,
        ),
    )
    .await;

    let aui = &urls[&Platform::Aui];
    let login = send(&client, aui, request::aui::login("demo", "demo")).await;
    let token = login["token"].as_str().expect("a bearer").to_string();
    let call = |path: &str, body: Value| request::aui::call(path, &body, &token);
    send(
        &client,
        aui,
        call(
            request::aui::GET_RTC_AUTH_TOKEN,
            json!({"user_id": "alice"}),
        ),
    )
    .await;
    let started = send(
        &client,
        aui,
        call(
            request::aui::START_AI_AGENT_INSTANCE,
            json!({"user_id": "alice", "workflow_type": "VoiceChat"}),
        ),
    )
    .await;
    let id = started["ai_agent_instance_id"]
        .as_str()
        .expect("an instance")
        .to_string();
    send(
        &client,
        aui,
        call(
            request::aui::DESCRIBE_AI_AGENT_INSTANCE,
            json!({"user_id": "alice", "ai_agent_instance_id": id}),
        ),
    )
    .await;
    send(
        &client,
        aui,
        call(
            request::aui::STOP_AI_AGENT_INSTANCE,
            json!({"ai_agent_instance_id": id}),
        ),
    )
    .await;
    send(
        &client,
        aui,
        request::aui::post(
            request::aui::GET_RTC_AUTH_TOKEN,
            br#"{"user_id":"alice"}"#.to_vec(),
            Some("Bearer not-a-token".into()),
        ),
    )
    .await;

    let duix = &urls[&Platform::Duix];
    let now = now_ms() / 1000;
    let token = protocol::duix::sign_token(
        mocks::duix::DEMO_APP_ID,
        mocks::duix::DEMO_APP_KEY,
        now,
        now + 1800,
    );
    send(&client, duix, request::duix::check_sig(&token)).await;
    let app = vec![("appId".to_string(), mocks::duix::DEMO_APP_ID.to_string())];
    send(
        &client,
        duix,
        request::duix::get(request::duix::GET_CONCURRENT_NUMBER, &app, Some(token)),
    )
    .await;
    send(
        &client,
        duix,
        request::duix::get(
            request::duix::GET_CONCURRENT_NUMBER,
            &app,
            Some("x.y.z".into()),
        ),
    )
    .await;
}

fn credentials() -> Credentials {
    Credentials {
        alibaba_key: (KEY.into(), SECRET.into()),
        aui_user: ("demo".into(), "demo".into()),
        aui_auth: Default::default(),
        duix_app: (
            mocks::duix::DEMO_APP_ID.into(),
            mocks::duix::DEMO_APP_KEY.into(),
        ),
        webhook_bearer: None,
    }
}

async fn replay_against_fresh_mocks(dir: &std::path::Path) -> replay::Parity {
    let mocks = Mocks::start().await;
    let plan = Plan {
        fixtures: proxy::record::read(dir).unwrap(),
        targets: mocks.targets(),
        credentials: credentials(),
        timeout: Duration::from_secs(10),
    };
    let parity = replay::replay(&plan).await;
    mocks.stop().await;
    parity
}

fn shown(parity: &replay::Parity) -> String {
    serde_json::to_string_pretty(&parity.differences).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_of_the_mocks_replays_against_them_with_no_difference_and_one_edit_shows_once()
{
    // The proxy makes the recording's folder inside one removed when the test ends.
    let tmp = tempfile::TempDir::with_prefix("agentproof-replay-").expect("a temporary folder");
    let dir = tmp.path().join("recording");
    let mocks = Mocks::start().await;
    let upstreams: Vec<(&str, String)> = mocks
        .targets()
        .into_iter()
        .map(|(p, url)| (p.name(), url))
        .collect();
    let running = proxy(&upstreams, true, Some(dir.clone())).await;
    let urls: BTreeMap<Platform, String> = running
        .listeners()
        .iter()
        .map(|l| (l.platform, l.url()))
        .collect();
    traffic(&urls).await;
    let finished = running.stop().await.unwrap();
    mocks.stop().await;
    assert_eq!(
        finished.run.exit_code(),
        0,
        "{}",
        common::failures(&finished.run)
    );
    assert_eq!(finished.recorded, 16);

    let schema: Value = serde_json::from_str(FIXTURE_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = std::fs::read_to_string(dir.join("exchanges.jsonl")).unwrap();
    for line in text.lines() {
        let fixture: Value = serde_json::from_str(line).unwrap();
        assert!(validator.is_valid(&fixture), "{line}");
        assert!(
            !line.contains(SECRET),
            "the key's secret never lands in a fixture"
        );
    }
    assert!(dir.join("fixture.schema.json").exists());

    let parity = replay_against_fresh_mocks(&dir).await;
    assert_eq!(parity.replayed, 16);
    assert!(parity.differences.is_empty(), "{}", shown(&parity));

    let edited = dir.join("edited");
    std::fs::create_dir_all(&edited).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let chat = lines
        .iter_mut()
        .find(|f| f["route"] == "alibaba GenerateMessageChatToken")
        .expect("the chat token was recorded");
    let mut body: Value =
        serde_json::from_str(chat["answer"]["body"]["text"].as_str().unwrap()).unwrap();
    body["Extra"] = json!("a key the mock never sends");
    chat["answer"]["body"]["text"] = Value::String(body.to_string());
    let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(edited.join("exchanges.jsonl"), lines.join("\n") + "\n").unwrap();

    let parity = replay_against_fresh_mocks(&edited).await;
    assert_eq!(parity.differences.len(), 1, "{}", shown(&parity));
    let difference = &parity.differences[0];
    assert_eq!(difference.count, 1);
    assert_eq!(difference.route, "alibaba GenerateMessageChatToken");
    assert_eq!(difference.aspects.len(), 1, "{}", shown(&parity));
    assert_eq!(difference.aspects[0].what, "keys");
    assert!(difference.aspects[0].recorded.contains("/Extra"));
    let written = proxy::replay::report::write(&parity, &edited.join("report")).unwrap();
    let html = std::fs::read_to_string(written.html).unwrap();
    assert_eq!(html.matches("class=\"suite difference\"").count(), 1);
    assert!(html.contains("/Extra"));
}
