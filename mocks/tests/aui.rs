//! The AUI app server end to end, over real sockets, in front of the real embedded Alibaba mock:
//! login, the v2.2.0 routes through a call's whole life, and the errors a client meets (bad input,
//! no or expired login, unknown instances, the machinery's own errors) in the AUI envelope.

use mocks::alibaba::AlibabaConfig;
use mocks::aui::{AuiConfig, UpstreamConfig};
use mocks::{MockServer, VirtualClock};
use serde_json::{json, Value};

const AK_ID: &str = "LTAI5tAgentproofDemoKey";
const AK_SECRET: &str = "AgentproofDemoSecret0123456789";

/// An Alibaba mock and an AUI server in front of it, sharing one clock, as `agentproof mock` runs them.
struct Env {
    _alibaba: MockServer,
    aui: MockServer,
    clock: VirtualClock,
    http: reqwest::Client,
}

async fn env_with(config: AuiConfig) -> Env {
    let clock = VirtualClock::new();
    let any_port = "127.0.0.1:0".parse().unwrap();
    let alibaba = mocks::alibaba::start(AlibabaConfig::default(), clock.clone(), any_port)
        .await
        .unwrap();
    let config = AuiConfig {
        upstream: UpstreamConfig {
            endpoint: alibaba.url(),
            access_key_id: AK_ID.into(),
            access_key_secret: AK_SECRET.into(),
            ..UpstreamConfig::default()
        },
        ..config
    };
    let aui = mocks::aui::start(config, clock.clone(), any_port)
        .await
        .unwrap();
    Env {
        _alibaba: alibaba,
        aui,
        clock,
        http: reqwest::Client::new(),
    }
}

async fn env() -> Env {
    env_with(AuiConfig::default()).await
}

impl Env {
    async fn login(&self) -> String {
        let (status, body) = self
            .call(
                "login",
                None,
                json!({"username": "demo", "password": "demo"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    async fn call(&self, route: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.send_raw(route, token, body.to_string().into_bytes())
            .await
    }

    async fn send_raw(&self, route: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let url = format!("{}/api/v2/aiagent/{route}", self.aui.url());
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/__admin/{path}", self.aui.url());
        self.http
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn assert_error(status: u16, body: &Value, expected_status: u16, error_code: &str, mentions: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], expected_status, "{body}");
    assert_eq!(body["error_code"], error_code, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains(mentions),
        "{body}"
    );
}

#[tokio::test]
async fn a_call_lives_and_ends_through_the_aui_routes_and_the_alibaba_mock() {
    let env = env().await;
    let token = env.login().await;
    let t = Some(token.as_str());

    let (status, chat) = env
        .call(
            "generateMessageChatToken",
            t,
            json!({
        "ai_agent_id": "agentproof_voice_chat_agent", "user_id": "alice_1", "role": "admin",
        "expire": 1800, "region": "cn-shanghai"}),
        )
        .await;
    assert_eq!(status, 200, "{chat}");
    for field in [
        "app_id",
        "token",
        "nonce",
        "app_sign",
        "request_id",
        "timestamp",
    ] {
        assert!(!chat[field].is_null(), "{field} in {chat}");
    }
    assert_eq!(
        (chat["message"].as_str(), chat["user_id"].as_str()),
        (Some("success"), Some("alice_1"))
    );

    let (status, started) = env
        .call(
            "startAIAgentInstance",
            t,
            json!({"user_id": "alice_1", "workflow_type": "VoiceChat"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    let instance = started["ai_agent_instance_id"]
        .as_str()
        .unwrap()
        .to_string();
    let config = AuiConfig::default();
    let client = protocol::aui::verify_rtc_token(
        started["rtc_auth_token"].as_str().unwrap(),
        Some(&config.app_id),
        &config.app_key,
        env.clock.now_secs(),
    )
    .unwrap();
    assert_eq!(
        (client.user_id.as_str(), client.channel_id.as_str()),
        ("alice_1", started["channel_id"].as_str().unwrap())
    );

    let describe = json!({"user_id": "alice_1", "ai_agent_instance_id": instance});
    let (status, running) = env
        .call("describeAIAgentInstance", t, describe.clone())
        .await;
    assert_eq!(
        (status, running["status"].as_str()),
        (200, Some("Executing")),
        "{running}"
    );
    let runtime: Value = serde_json::from_str(running["runtime_config"].as_str().unwrap()).unwrap();
    assert!(runtime.get("VoiceChat").is_some(), "{runtime}");
    assert_eq!(running["message"], "success");

    let (status, stopped) = env
        .call(
            "stopAIAgentInstance",
            t,
            json!({"ai_agent_instance_id": instance}),
        )
        .await;
    assert_eq!(
        (status, &stopped["result"]),
        (200, &json!(true)),
        "{stopped}"
    );
    let (_, finished) = env.call("describeAIAgentInstance", t, describe).await;
    assert_eq!(finished["status"], "Finished", "{finished}");
}

#[tokio::test]
async fn rtc_tokens_verify_with_the_app_key_and_last_24_hours_of_virtual_time() {
    let env = env().await;
    let token = env.login().await;
    env.clock.advance_ms(1000 * 3600);
    let (status, body) = env
        .call("getRtcAuthToken", Some(&token), json!({"user_id": "bob"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let channel = body["channel_id"].as_str().unwrap();
    assert!(
        channel.len() == 32
            && channel
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let now = env.clock.now_secs();
    let timestamp = body["timestamp"].as_i64().unwrap();
    assert!(
        (timestamp - now - 86400).abs() <= 2,
        "timestamp {timestamp}, now {now}"
    );
    let config = AuiConfig::default();
    let claims = protocol::aui::verify_rtc_token(
        body["rtc_auth_token"].as_str().unwrap(),
        Some(&config.app_id),
        &config.app_key,
        now,
    )
    .unwrap();
    assert_eq!(
        (
            claims.user_id.as_str(),
            claims.channel_id.as_str(),
            claims.timestamp
        ),
        ("bob", channel, timestamp)
    );

    let (_, given) = env
        .call(
            "getRtcAuthToken",
            Some(&token),
            json!({"user_id": "bob", "channel_id": "room_7"}),
        )
        .await;
    assert_eq!(given["channel_id"], "room_7");
}

#[tokio::test]
async fn the_channel_routes_update_and_generated_calls_work_end_to_end() {
    let env = env().await;
    let token = env.login().await;
    let t = Some(token.as_str());
    let (status, started) = env
        .call(
            "startAIAgentInstanceWithChannel",
            t,
            json!({
        "user_id": "carol", "ai_agent_id": "agentproof_vision_chat_agent", "channel_id": "room_1",
        "workflow_type": "VisionChat", "region": "cn-shanghai", "user_data": "{\"vip\":true}"}),
        )
        .await;
    assert_eq!(status, 200, "{started}");
    assert!(started["ai_agent_user_id"].is_string() && started["request_id"].is_string());
    assert!(started.get("channel_id").is_none(), "{started}");
    let instance = started["ai_agent_instance_id"].as_str().unwrap();
    let update = json!({"ai_agent_instance_id": instance, "template_config": {"VisionChat": {"Greeting": "hello"}}});
    let (status, updated) = env.call("updateAIAgentInstance", t, update).await;
    assert_eq!(
        (status, &updated["result"]),
        (200, &json!(true)),
        "{updated}"
    );

    let (status, call) = env
        .call(
            "generateAIAgentCall",
            t,
            json!({"user_id": "carol", "template_config": "{}", "workflow_type": "VoiceChat"}),
        )
        .await;
    assert_eq!(status, 200, "{call}");
    for field in [
        "rtc_auth_token",
        "ai_agent_instance_id",
        "ai_agent_user_id",
        "channel_id",
        "request_id",
    ] {
        assert!(call[field].is_string(), "{field} in {call}");
    }
    assert_eq!(
        (call["workflow_type"].as_str(), call["ai_agent_id"].as_str()),
        (Some("VoiceChat"), Some("agentproof_voice_chat_agent"))
    );
}

#[tokio::test]
async fn a_cloud_refusing_the_servers_access_key_is_a_502_not_the_clients_fault() {
    let env = env().await;
    let config = AuiConfig {
        upstream: UpstreamConfig {
            endpoint: env._alibaba.url(),
            access_key_id: AK_ID.into(),
            access_key_secret: "not-the-secret".into(),
            ..UpstreamConfig::default()
        },
        ..AuiConfig::default()
    };
    let aui = mocks::aui::start(config, env.clock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let env = Env { aui, ..env };
    let token = env.login().await;
    let body = json!({"user_id": "u1", "ai_agent_instance_id": "i"});
    let (status, answer) = env
        .call("describeAIAgentInstance", Some(&token), body)
        .await;
    assert_error(status, &answer, 502, "SignatureDoesNotMatch", "AccessKey");
    assert!(answer["request_id"].is_string(), "{answer}");
}

#[tokio::test]
async fn an_unknown_instance_gets_the_upstream_error_with_its_code_and_request_id() {
    let env = env().await;
    let token = env.login().await;
    let (status, body) = env
        .call(
            "describeAIAgentInstance",
            Some(&token),
            json!({"user_id": "u1", "ai_agent_instance_id": "no_such_instance"}),
        )
        .await;
    assert_error(status, &body, 404, "NotFound", "no_such_instance");
    assert!(body["request_id"].is_string(), "{body}");
    let message = body["message"].as_str().unwrap();
    let request_id = body["request_id"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("code: {status}, ")),
        "{message}"
    );
    assert!(
        message.ends_with(&format!("request id: {request_id}")),
        "{message}"
    );
}

#[tokio::test]
async fn a_missing_user_id_is_a_400_naming_it() {
    let env = env().await;
    let token = env.login().await;
    for (route, body) in [
        ("getRtcAuthToken", json!({"channel_id": "c"})),
        (
            "describeAIAgentInstance",
            json!({"ai_agent_instance_id": "i"}),
        ),
        (
            "startAIAgentInstance",
            json!({"workflow_type": "VoiceChat", "user_id": ""}),
        ),
        (
            "generateMessageChatToken",
            json!({"ai_agent_id": "a", "user_id": null}),
        ),
    ] {
        let (status, answer) = env.call(route, Some(&token), body).await;
        assert_error(
            status,
            &answer,
            400,
            "MissingParameter",
            "user_id is required",
        );
    }
}

#[tokio::test]
async fn user_ids_outside_word_characters_or_over_64_bytes_are_a_400_naming_it() {
    let env = env().await;
    let token = env.login().await;
    for bad in [
        json!("alice-1"),
        json!("a b"),
        json!("用户"),
        json!("a".repeat(65)),
        json!(42),
    ] {
        let (status, answer) = env
            .call("getRtcAuthToken", Some(&token), json!({"user_id": bad}))
            .await;
        assert_error(status, &answer, 400, "InvalidParameter", "user_id");
    }
    let (status, _) = env
        .call(
            "getRtcAuthToken",
            Some(&token),
            json!({"user_id": "a".repeat(64)}),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_bad_input_is_a_400_naming_the_field() {
    let env = env().await;
    let token = env.login().await;
    let t = Some(token.as_str());
    let cases = [
        (
            "startAIAgentInstance",
            json!({"user_id": "u"}),
            "workflow_type",
        ),
        (
            "startAIAgentInstance",
            json!({"user_id": "u", "workflow_type": "Chat"}),
            "workflow_type",
        ),
        (
            "startAIAgentInstance",
            json!({"user_id": "u", "workflow_type": "VoiceChat", "template_config": "not json"}),
            "template_config",
        ),
        (
            "startAIAgentInstanceWithChannel",
            json!({"user_id": "u", "ai_agent_id": "a", "channel_id": "c", "workflow_type": "VoiceChat"}),
            "region",
        ),
        ("stopAIAgentInstance", json!({}), "ai_agent_instance_id"),
        (
            "updateAIAgentInstance",
            json!({"ai_agent_instance_id": "i"}),
            "template_config",
        ),
        (
            "generateMessageChatToken",
            json!({"ai_agent_id": "a", "user_id": "u", "expire": "soon"}),
            "expire",
        ),
        (
            "generateAIAgentCall",
            json!({"template_config": {}, "region": "../etc"}),
            "region",
        ),
        (
            "generateMessageChatToken",
            json!({"ai_agent_id": "a", "user_id": "u", "region": "-"}),
            "region",
        ),
    ];
    for (route, body, field) in cases {
        let (status, answer) = env.call(route, t, body).await;
        assert_eq!(
            (status, &answer["code"]),
            (400, &json!(400)),
            "{route}: {answer}"
        );
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{route}: {answer}"
        );
    }
    for (raw, mentions) in [
        (&b"{\"user_id\":"[..], "not valid JSON"),
        (b"[]", "JSON object"),
        (b"", "empty"),
    ] {
        let (status, answer) = env.send_raw("getRtcAuthToken", t, raw.to_vec()).await;
        assert_error(status, &answer, 400, "InvalidBody", mentions);
    }
}

#[tokio::test]
async fn routes_need_a_bearer_token_from_login() {
    let env = env().await;
    let body = json!({"user_id": "u"});
    let (status, answer) = env.call("getRtcAuthToken", None, body.clone()).await;
    assert_error(status, &answer, 403, "Forbidden", "Bearer");
    let (status, answer) = env
        .call("getRtcAuthToken", Some("not.a.jwt"), body.clone())
        .await;
    assert_error(status, &answer, 403, "Forbidden", "not valid");
    let (status, answer) = env
        .call(
            "login",
            None,
            json!({"username": "demo", "password": "wrong"}),
        )
        .await;
    assert_error(
        status,
        &answer,
        403,
        "Forbidden",
        "wrong username or password",
    );
    let (status, answer) = env.call("login", None, json!({"username": "demo"})).await;
    assert_error(status, &answer, 400, "MissingParameter", "password");
}

/// An HS256 JWT for `demo` signed with `key`, valid for an hour of `env`'s clock.
fn jwt_signed_with(env: &Env, key: &str) -> String {
    let now = env.clock.now_secs();
    protocol::duix::sign_token("demo", key, now, now + 3600)
}

#[tokio::test]
async fn a_token_signed_with_a_published_key_is_refused_unless_that_key_is_configured() {
    let env = env().await;
    let body = json!({"user_id": "u"});
    let forged = jwt_signed_with(&env, "agentproof-demo-jwt-secret");
    let (status, answer) = env
        .call("getRtcAuthToken", Some(&forged), body.clone())
        .await;
    assert_error(status, &answer, 403, "Forbidden", "signature");

    let env = env_with(AuiConfig {
        jwt_secret: "configured-key".into(),
        ..AuiConfig::default()
    })
    .await;
    let token = jwt_signed_with(&env, "configured-key");
    assert_eq!(env.call("getRtcAuthToken", Some(&token), body).await.0, 200);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_even_when_one_is_valid() {
    let env = env().await;
    let token = env.login().await;
    let url = format!("{}/api/v2/aiagent/getRtcAuthToken", env.aui.url());
    for pair in [
        [format!("Bearer {token}"), "Bearer x".into()],
        ["Bearer x".into(), format!("Bearer {token}")],
    ] {
        let response = env
            .http
            .post(&url)
            .header("authorization", &pair[0])
            .header("authorization", &pair[1])
            .json(&json!({"user_id": "u"}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert_error(
            status,
            &answer,
            403,
            "Forbidden",
            "one Authorization header",
        );
    }
}

#[tokio::test]
async fn a_bearer_token_expires_when_the_clock_passes_its_expiry() {
    let env = env().await;
    let (status, login) = env
        .call(
            "login",
            None,
            json!({"username": "demo", "password": "demo"}),
        )
        .await;
    assert_eq!(status, 200);
    let expire = login["expire"].as_i64().unwrap();
    assert!(
        (expire - env.clock.now_secs() - 7 * 86400).abs() <= 2,
        "{login}"
    );
    let token = login["token"].as_str().unwrap();
    let body = json!({"user_id": "u"});
    assert_eq!(
        env.call("getRtcAuthToken", Some(token), body.clone())
            .await
            .0,
        200
    );
    env.admin("clock", json!({"advance_ms": 7 * 86400 * 1000 - 60_000}))
        .await;
    assert_eq!(
        env.call("getRtcAuthToken", Some(token), body.clone())
            .await
            .0,
        200
    );
    env.admin("clock", json!({"advance_ms": 120_000})).await;
    let (status, answer) = env.call("getRtcAuthToken", Some(token), body.clone()).await;
    assert_error(status, &answer, 403, "Forbidden", "expired");
    let fresh = env.login().await;
    assert_eq!(env.call("getRtcAuthToken", Some(&fresh), body).await.0, 200);
}

#[tokio::test]
async fn with_auth_off_no_token_is_needed() {
    let env = env_with(AuiConfig {
        auth: false,
        ..AuiConfig::default()
    })
    .await;
    let (status, body) = env
        .call("getRtcAuthToken", None, json!({"user_id": "u"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn cors_preflights_answer_204_without_a_token_and_answers_carry_cors_headers() {
    let env = env().await;
    let url = format!("{}/api/v2/aiagent/startAIAgentInstance", env.aui.url());
    let response = env
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        response.headers()["access-control-allow-headers"],
        "authorization,content-type"
    );
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let response = env.http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn the_machinery_answers_in_the_aui_envelope() {
    let env = env().await;
    let token = env.login().await;
    let (status, answer) = env.call("noSuchRoute", Some(&token), json!({})).await;
    assert_error(status, &answer, 404, "NotFound", "No such route");
    let url = format!("{}/api/v2/aiagent/getRtcAuthToken", env.aui.url());
    let response = env.http.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error_code"],
        "MethodNotAllowed"
    );
    let huge = vec![b' '; 2 * 1024 * 1024];
    let (status, answer) = env.send_raw("getRtcAuthToken", Some(&token), huge).await;
    assert_error(status, &answer, 413, "PayloadTooLarge", "limit");

    let rule = json!({"route": "/api/v2/aiagent/getRtcAuthToken", "error_rate": 1.0,
        "error": {"status": 503, "code": "Overloaded", "message": "try later"}});
    env.admin("faults", rule).await;
    let (status, answer) = env
        .call("getRtcAuthToken", Some(&token), json!({"user_id": "u"}))
        .await;
    assert_eq!(
        answer,
        json!({"code": 503, "message": "try later", "error_code": "Overloaded"})
    );
    assert_eq!(status, 503);
}

#[tokio::test]
async fn the_journal_files_requests_under_their_route() {
    let env = env().await;
    let token = env.login().await;
    env.call("getRtcAuthToken", Some(&token), json!({"user_id": "u"}))
        .await;
    env.call("whatever", Some(&token), json!({})).await;
    let url = format!("{}/__admin/requests", env.aui.url());
    let journal: Value = env
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routes: Vec<&str> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    assert_eq!(
        routes,
        [
            "/api/v2/aiagent/login",
            "/api/v2/aiagent/getRtcAuthToken",
            "unknown"
        ]
    );
}
