//! The AUI app server against a misbehaving cloud: wiremock plays ICE, answering well, badly,
//! slowly or not at all. Each case must end in a bounded, named answer, never a hang or a panic,
//! and what the server sends upstream must be a V3-signed ICE call.

use mocks::aui::{AuiConfig, UpstreamConfig};
use mocks::{MockServer, VirtualClock};
use proptest::prelude::*;
use protocol::alibaba::{encoding, timestamp, v3};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const AK_ID: &str = "LTAI5tAgentproofDemoKey";
const AK_SECRET: &str = "AgentproofDemoSecret0123456789";
const SMALL_TIMEOUT_MS: u64 = 300;

/// Answers each ICE action as ICE would, from the `x-acs-action` header.
struct FakeIce;

impl Respond for FakeIce {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let action = request
            .headers
            .get("x-acs-action")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = match action {
            "StartAIAgentInstance" => json!({"RequestId": "RID-start", "InstanceId": "inst-1"}),
            "DescribeAIAgentInstance" => json!({"RequestId": "RID-describe", "Instance": {
                "Status": "Executing", "CallLogUrl": "https://example.com/log",
                "RuntimeConfig": {"VoiceChat": {"AgentUserId": "a"}}, "TemplateConfig": {},
                "AgentConfig": {"Greeting": "hi"}, "UserData": "{\"k\":1}"}}),
            "GenerateAIAgentCall" => json!({"RequestId": "RID-call", "InstanceId": "inst-2",
                "ChannelId": "ch-2", "Token": "tok", "AIAgentUserId": "agent-2", "UserId": "u"}),
            "GenerateMessageChatToken" => json!({"RequestId": "RID-chat", "AppId": "app",
                "Token": "acet1", "UserId": "u", "Nonce": "AK-1", "Role": "admin",
                "TimeStamp": 1_700_000_000i64, "AppSign": "H4sI"}),
            _ => json!({"RequestId": "RID-other"}),
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

fn config(endpoint: &str, timeout_ms: u64) -> AuiConfig {
    AuiConfig {
        auth: false,
        upstream: UpstreamConfig {
            endpoint: endpoint.to_string(),
            access_key_id: AK_ID.into(),
            access_key_secret: AK_SECRET.into(),
            timeout_ms,
            ..UpstreamConfig::default()
        },
        ..AuiConfig::default()
    }
}

async fn start_aui(endpoint: &str, timeout_ms: u64, clock: VirtualClock) -> MockServer {
    mocks::aui::start(
        config(endpoint, timeout_ms),
        clock,
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn ice_answering(template: impl Respond + 'static) -> wiremock::MockServer {
    let ice = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&ice)
        .await;
    ice
}

async fn post(server: &MockServer, route: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/api/v2/aiagent/{route}", server.url());
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn stop_body() -> Value {
    json!({"ai_agent_instance_id": "inst-1"})
}

#[tokio::test]
async fn an_upstream_that_refuses_connections_gets_502_upstream_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let aui = start_aui(&endpoint, 5000, VirtualClock::new()).await;
    let started = Instant::now();
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], 502);
    assert_eq!(body["error_code"], "UpstreamUnavailable");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_gets_504_within_the_timeout() {
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!({"RequestId": "late"}))
        .set_delay(Duration::from_secs(3));
    let ice = ice_answering(slow).await;
    let aui = start_aui(&ice.uri(), SMALL_TIMEOUT_MS, VirtualClock::new()).await;
    let started = Instant::now();
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error_code"], "UpstreamTimeout");
    assert!(
        body["message"].as_str().unwrap().contains("300 ms"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_upstream_answering_200_with_garbage_gets_502_bad_response() {
    let ice = ice_answering(ResponseTemplate::new(200).set_body_string("<html>oops</html>")).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error_code"], "UpstreamBadResponse");
}

#[tokio::test]
async fn a_200_missing_the_fields_the_route_needs_is_a_bad_response_too() {
    let ice =
        ice_answering(ResponseTemplate::new(200).set_body_json(json!({"RequestId": "R"}))).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let body = json!({"user_id": "u1", "workflow_type": "VoiceChat"});
    let (status, body) = post(&aui, "startAIAgentInstance", body).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("InstanceId"),
        "{body}"
    );
}

#[tokio::test]
async fn an_upstream_5xx_envelope_is_passed_on_with_its_code_and_request_id() {
    let envelope = json!({"RequestId": "RID-503", "HostId": "ice.cn-shanghai.aliyuncs.com",
        "Code": "ServiceUnavailable",
        "Message": "The request has failed due to a temporary failure of the server."});
    let ice = ice_answering(ResponseTemplate::new(503).set_body_json(envelope)).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], 503);
    assert_eq!(body["error_code"], "ServiceUnavailable");
    assert_eq!(body["request_id"], "RID-503");
    assert_eq!(
        body["message"],
        "code: 503, The request has failed due to a temporary failure of the server. request id: RID-503"
    );
}

#[tokio::test]
async fn a_5xx_without_an_alibaba_envelope_is_a_bad_response() {
    let ice =
        ice_answering(ResponseTemplate::new(500).set_body_string("Internal Server Error")).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (502, Some("UpstreamBadResponse"))
    );
}

#[tokio::test]
async fn an_unconfigured_upstream_is_named_in_a_502() {
    let aui = start_aui("", 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(status, 502);
    assert!(
        body["message"].as_str().unwrap().contains("endpoint"),
        "{body}"
    );
}

/// Checks one received request the way the Alibaba gateway does, and answers its params.
fn verify_v3(request: &Request, clock: &VirtualClock) -> Vec<(String, String)> {
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/");
    assert!(request.body.is_empty());
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let auth = v3::parse_authorization(&header("authorization")).unwrap();
    assert_eq!(auth.access_key_id, AK_ID);
    assert_eq!(v3::missing_required_signed(&auth), None);
    assert_eq!(header("x-acs-version"), "2020-11-09");
    let date = timestamp::parse_utc(&header("x-acs-date")).unwrap();
    assert!(
        timestamp::within_skew(date, clock.now_ms()),
        "x-acs-date follows the virtual clock"
    );
    let params = encoding::parse_query(request.url.query().unwrap_or("")).unwrap();
    let canonical = v3::canonical_request(
        "POST",
        "/",
        &params,
        &headers,
        &auth.signed_headers,
        &header("x-acs-content-sha256"),
    )
    .unwrap();
    v3::verify(&canonical, AK_SECRET, &auth.signature).unwrap();
    params
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[tokio::test]
async fn calls_upstream_are_v3_signed_with_the_configured_secret_and_the_virtual_clock() {
    let ice = ice_answering(FakeIce).await;
    let clock = VirtualClock::new();
    clock.advance_ms(3 * 24 * 3600 * 1000);
    let aui = start_aui(&ice.uri(), 5000, clock.clone()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, &body["result"], &body["request_id"]),
        (200, &json!(true), &json!("RID-other"))
    );
    let received = ice.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let params = verify_v3(&received[0], &clock);
    assert_eq!(param(&params, "InstanceId"), "inst-1");
    assert_eq!(received[0].headers["x-acs-action"], "StopAIAgentInstance");
}

#[tokio::test]
async fn start_sends_the_nested_runtime_config_with_a_seven_day_agent_token() {
    let ice = ice_answering(FakeIce).await;
    let clock = VirtualClock::new();
    let aui = start_aui(&ice.uri(), 5000, clock.clone()).await;
    let request = json!({"user_id": "u_1", "workflow_type": "avatarchat3d",
        "template_config": {"AvatarChat3D": {"Greeting": "hi"}}, "user_data": {"k": 1}, "session_id": "s1"});
    let (status, body) = post(&aui, "startAIAgentInstance", request).await;
    assert_eq!(status, 200, "{body}");
    let received = ice.received_requests().await.unwrap();
    let params = verify_v3(&received[0], &clock);
    assert_eq!(
        param(&params, "AIAgentId"),
        "agentproof_avatar_chat_3d_agent"
    );
    assert_eq!(param(&params, "UserData"), r#"{"k":1}"#);
    assert_eq!(param(&params, "SessionId"), "s1");
    let runtime: Value = serde_json::from_str(param(&params, "RuntimeConfig")).unwrap();
    let inner: Value = serde_json::from_str(runtime["AvatarChat3D"].as_str().unwrap()).unwrap();
    assert_eq!(inner["AgentUserId"], body["ai_agent_user_id"]);
    assert_eq!(inner["ChannelId"], body["channel_id"]);
    let config = AuiConfig::default();
    let now = clock.now_secs();
    let agent = protocol::aui::verify_rtc_token(
        inner["AuthToken"].as_str().unwrap(),
        Some(&config.app_id),
        &config.app_key,
        now,
    )
    .unwrap();
    assert!((agent.timestamp - now - 7 * 86400).abs() <= 2);
    let client = protocol::aui::verify_rtc_token(
        body["rtc_auth_token"].as_str().unwrap(),
        Some(&config.app_id),
        &config.app_key,
        now,
    )
    .unwrap();
    assert_eq!(
        (client.user_id.as_str(), client.channel_id.as_str()),
        ("u_1", body["channel_id"].as_str().unwrap())
    );
    assert!((client.timestamp - now - 86400).abs() <= 2);
}

#[tokio::test]
async fn generate_ai_agent_call_and_message_chat_token_map_the_ice_answer() {
    let ice = ice_answering(FakeIce).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, call) = post(
        &aui,
        "generateAIAgentCall",
        json!({"template_config": "{}", "expire": 600}),
    )
    .await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(
        call,
        json!({"code": 200, "rtc_auth_token": "tok", "ai_agent_id": "agentproof_voice_chat_agent",
        "ai_agent_instance_id": "inst-2", "ai_agent_user_id": "agent-2", "channel_id": "ch-2",
        "workflow_type": "VoiceChat", "request_id": "RID-call"})
    );
    let request = json!({"ai_agent_id": "ag", "user_id": "u", "role": "admin", "expire": 1800});
    let (status, chat) = post(&aui, "generateMessageChatToken", request).await;
    assert_eq!(status, 200, "{chat}");
    assert_eq!(
        chat,
        json!({"code": 200, "message": "success", "request_id": "RID-chat", "app_id": "app",
        "token": "acet1", "user_id": "u", "nonce": "AK-1", "role": "admin", "timestamp": 1_700_000_000i64,
        "app_sign": "H4sI"})
    );
    let (_, describe) = post(
        &aui,
        "describeAIAgentInstance",
        json!({"user_id": "u", "ai_agent_instance_id": "i"}),
    )
    .await;
    assert_eq!(
        describe["runtime_config"],
        r#"{"VoiceChat":{"AgentUserId":"a"}}"#
    );
    assert_eq!(
        (describe["status"].as_str(), describe["user_data"].as_str()),
        (Some("Executing"), Some(r#"{"k":1}"#))
    );
}

/// JSON values of every shape, small enough to keep cases fast.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[A-Za-z0-9_]{0,70}".prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![
            Just("VoiceChat"),
            Just("{}"),
            Just("{\"a\":1}"),
            Just("cn-shanghai")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: [&str; 14] = [
    "user_id",
    "channel_id",
    "ai_agent_id",
    "ai_agent_instance_id",
    "workflow_type",
    "region",
    "template_config",
    "user_data",
    "session_id",
    "chat_sync_config",
    "expire",
    "role",
    "username",
    "password",
];

/// Bodies a careless or hostile client might send: objects of the real field names with values of
/// any type, other JSON, and bytes that are not JSON at all.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let object = prop::collection::btree_map(prop::sample::select(&FIELDS[..]), json_value(), 0..8)
        .prop_map(|m| serde_json::to_vec(&m).unwrap());
    prop_oneof![
        4 => object,
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
}

#[test]
fn no_body_makes_any_route_answer_5xx_while_the_cloud_is_healthy() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_ice, aui) = runtime.block_on(async {
        let ice = ice_answering(FakeIce).await;
        let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
        (ice, aui)
    });
    let client = reqwest::Client::new();
    let config = ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    };
    proptest!(config, |(route in prop::sample::select(&mocks::aui::ROUTES[..]), body in body())| {
        let url = format!("{}{route}", aui.url());
        let (status, answer) = runtime.block_on(async {
            let response = client.post(url).body(body.clone()).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
        prop_assert!(status < 500, "{} {} -> {} {}", route, String::from_utf8_lossy(&body), status, answer);
        prop_assert_eq!(&answer["code"], &json!(status));
    });
}

/// A hand-made upstream on a raw socket: reads one request head, writes `head`, then calls `tail`
/// with the socket to misbehave as long as it likes.
async fn raw_upstream<F, Fut>(head: &'static str, tail: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tail = std::sync::Arc::new(tail);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tail = tail.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                if socket.write_all(head.as_bytes()).await.is_ok() {
                    tail(socket).await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_body_that_never_ends_gets_504_within_the_timeout() {
    use tokio::io::AsyncWriteExt;
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let endpoint = raw_upstream(head, |mut socket| async move {
        while socket.write_all(b"1\r\n \r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let aui = start_aui(&endpoint, SMALL_TIMEOUT_MS, VirtualClock::new()).await;
    let started = Instant::now();
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (504, Some("UpstreamTimeout")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_two_gigabyte_answer_is_refused_after_a_megabyte() {
    use tokio::io::AsyncWriteExt;
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2147483648\r\n\r\n";
    let endpoint = raw_upstream(head, |mut socket| async move {
        let block = vec![b' '; 64 * 1024];
        while socket.write_all(&block).await.is_ok() {}
    })
    .await;
    let aui = start_aui(&endpoint, 5000, VirtualClock::new()).await;
    let started = Instant::now();
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (502, Some("UpstreamBadResponse")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("larger than"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_redirect_from_the_cloud_is_not_followed() {
    let elsewhere = ice_answering(FakeIce).await;
    let redirect = ResponseTemplate::new(307).insert_header("location", elsewhere.uri() + "/");
    let ice = ice_answering(redirect).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (502, Some("UpstreamBadResponse")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("307"), "{body}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn valid_json_of_the_wrong_shape_is_a_bad_response_on_every_upstream_route() {
    let wrong = json!({"RequestId": 7, "Instance": "nope", "InstanceId": {"a": 1}, "Token": [1],
        "AppId": null, "ChannelId": true});
    let ice = ice_answering(ResponseTemplate::new(200).set_body_json(wrong)).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    for (route, body) in [
        (
            "describeAIAgentInstance",
            json!({"user_id": "u", "ai_agent_instance_id": "i"}),
        ),
        (
            "startAIAgentInstance",
            json!({"user_id": "u", "workflow_type": "VoiceChat"}),
        ),
        ("generateAIAgentCall", json!({"template_config": {}})),
        (
            "generateMessageChatToken",
            json!({"user_id": "u", "ai_agent_id": "a"}),
        ),
    ] {
        let (status, answer) = post(&aui, route, body).await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (502, Some("UpstreamBadResponse")),
            "{route}: {answer}"
        );
    }
}

#[tokio::test]
async fn an_alibaba_error_with_a_non_json_body_is_a_bad_response() {
    let ice = ice_answering(ResponseTemplate::new(400).set_body_string("Bad Request")).await;
    let aui = start_aui(&ice.uri(), 5000, VirtualClock::new()).await;
    let (status, body) = post(&aui, "stopAIAgentInstance", stop_body()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (502, Some("UpstreamBadResponse")),
        "{body}"
    );
}
