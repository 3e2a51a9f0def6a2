//! The AUI app server end to end, over real sockets, in front of the real embedded Alibaba mock:
//! login, the v2.2.0 routes through a call's whole life, and the errors a client meets (bad input,
//! no or expired login, unknown instances, the machinery's own errors) in the AUI envelope.

use axum::Router;
use mocks::alibaba::AlibabaConfig;
use mocks::aui::{AuiConfig, UpstreamConfig};
use mocks::{Limits, MockServer, VirtualClock};
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

/// How the AUI server reaches the Alibaba mock.
#[derive(Clone, Copy, Debug)]
enum Hop {
    /// Over a socket, as to the real cloud or a mock in another process.
    Socket,
    /// Called in-process, as `agentproof mock` runs the two in one process.
    InProcess,
}

async fn env_with(config: AuiConfig) -> Env {
    env_on(config, Hop::Socket).await
}

async fn env_on(config: AuiConfig, hop: Hop) -> Env {
    let clock = VirtualClock::new();
    let any_port = "127.0.0.1:0".parse().unwrap();
    let (ctx, alibaba_app) =
        mocks::alibaba::build(AlibabaConfig::default(), clock.clone(), Limits::default());
    let alibaba = MockServer::start_with_limits(alibaba_app.clone(), any_port, &ctx.limits)
        .await
        .unwrap();
    let config = AuiConfig {
        upstream: UpstreamConfig {
            endpoint: alibaba.url(),
            access_key_id: AK_ID.into(),
            access_key_secret: AK_SECRET.into(),
            ..config.upstream.clone()
        },
        ..config
    };
    let (_, aui_app) = match hop {
        Hop::Socket => mocks::aui::build(config, clock.clone(), Limits::default()),
        Hop::InProcess => {
            mocks::aui::build_beside_alibaba(config, clock.clone(), Limits::default(), alibaba_app)
        }
    };
    let aui = MockServer::start(aui_app, any_port).await.unwrap();
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
    for hop in [Hop::Socket, Hop::InProcess] {
        a_call_lives_and_ends(env_on(AuiConfig::default(), hop).await).await;
    }
}

async fn a_call_lives_and_ends(env: Env) {
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
    let journal = journal_of(&env, &env.aui).await;
    let routes: Vec<&str> = journal
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

/// The journal of `server` (the AUI server, or the Alibaba mock: the calls made upstream), oldest
/// first.
async fn journal_of(env: &Env, server: &MockServer) -> Vec<Value> {
    let url = format!("{}/__admin/requests", server.url());
    let journal: Value = env
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    journal["requests"].as_array().unwrap().clone()
}

/// An entry without what differs from one call to the next (date, nonce, the mock's port) and
/// what a journal entry measures (time, sequence): the request as sent, and its status.
fn as_sent(entry: &Value, alibaba_host: &str) -> Value {
    let headers: Vec<Value> = entry["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            match name {
                "x-acs-date" | "x-acs-signature-nonce" => json!([name, "varies"]),
                "host" => json!([name, value.replace(alibaba_host, "the mock")]),
                _ => json!([name, value]),
            }
        })
        .collect();
    json!({"method": entry["method"], "path": entry["path"], "query": entry["query"],
        "route": entry["route"], "status": entry["status"], "headers": headers, "body": entry["body"]})
}

#[tokio::test]
async fn the_in_process_hop_sends_and_answers_what_the_socket_hop_does() {
    let mut seen = Vec::new();
    for hop in [Hop::Socket, Hop::InProcess] {
        let env = env_on(AuiConfig::default(), hop).await;
        let token = env.login().await;
        let t = Some(token.as_str());
        let chat = json!({"ai_agent_id": "a1", "user_id": "u1", "role": "admin", "expire": 600});
        let (status, chat) = env.call("generateMessageChatToken", t, chat).await;
        let unknown = json!({"user_id": "u1", "ai_agent_instance_id": "no_such_instance"});
        let (unknown_status, unknown) = env.call("describeAIAgentInstance", t, unknown).await;
        let host = env._alibaba.url().replace("http://", "");
        let sent: Vec<Value> = journal_of(&env, &env._alibaba)
            .await
            .iter()
            .map(|entry| as_sent(entry, &host))
            .collect();
        let mut fields: Vec<&String> = chat.as_object().unwrap().keys().collect();
        fields.sort();
        let answers = json!({"chat": [status, fields, chat["user_id"], chat["role"]],
            "unknown": [unknown_status, unknown["error_code"], unknown["code"]]});
        seen.push((hop, answers, sent));
    }
    let (_, socket_answers, socket_sent) = &seen[0];
    let (_, in_process_answers, in_process_sent) = &seen[1];
    assert_eq!(socket_sent.len(), 2, "{socket_sent:#?}");
    assert_eq!(socket_answers["chat"][0], 200, "{socket_answers}");
    assert_eq!(socket_answers["unknown"][1], "NotFound", "{socket_answers}");
    assert_eq!(in_process_answers, socket_answers);
    assert_eq!(in_process_sent, socket_sent);
}

#[tokio::test]
async fn injected_upstream_faults_end_the_same_over_either_hop() {
    let config = AuiConfig {
        auth: false,
        ..AuiConfig::default()
    };
    let faults = [
        json!({"route": "DescribeAIAgentInstance", "error_rate": 1.0,
            "error": {"status": 503, "code": "ServiceUnavailable", "message": "busy"}}),
        json!({"route": "DescribeAIAgentInstance", "reset_rate": 1.0}),
        json!({"route": "DescribeAIAgentInstance", "latency": {"kind": "fixed", "ms": 2000}}),
    ];
    let mut seen = Vec::new();
    for hop in [Hop::Socket, Hop::InProcess] {
        let mut endings = Vec::new();
        for fault in &faults {
            let mut config = config.clone();
            config.upstream.timeout_ms = 300;
            let env = env_on(config, hop).await;
            let url = format!("{}/__admin/faults", env._alibaba.url());
            let added = env.http.post(url).json(fault).send().await.unwrap();
            assert_eq!(added.status(), 201, "{fault}");
            let body = json!({"user_id": "u1", "ai_agent_instance_id": "i1"});
            let (status, answer) = env.call("describeAIAgentInstance", None, body).await;
            endings.push(json!([status, answer["error_code"]]));
        }
        seen.push((hop, endings));
    }
    assert_eq!(
        seen[0].1,
        [
            json!([503, "ServiceUnavailable"]),
            json!([502, "UpstreamUnavailable"]),
            json!([504, "UpstreamTimeout"])
        ],
        "over the socket"
    );
    assert_eq!(seen[1].1, seen[0].1, "in-process");
}

#[tokio::test]
async fn beside_the_alibaba_mock_the_aui_server_calls_it_without_a_socket() {
    // The endpoint names a port nobody listens on: only a call made in-process is answered.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let clock = VirtualClock::new();
    let (_, alibaba) =
        mocks::alibaba::build(AlibabaConfig::default(), clock.clone(), Limits::default());
    let mut config = AuiConfig {
        auth: false,
        ..AuiConfig::default()
    };
    config.upstream.endpoint = endpoint;
    config.upstream.access_key_id = AK_ID.into();
    config.upstream.access_key_secret = AK_SECRET.into();
    let any_port = "127.0.0.1:0".parse().unwrap();
    let body = json!({"ai_agent_id": "a1", "user_id": "u1"});
    let (_, on_socket) = mocks::aui::build(config.clone(), clock.clone(), Limits::default());
    let on_socket = Env {
        _alibaba: MockServer::start(Router::new(), any_port).await.unwrap(),
        aui: MockServer::start(on_socket, any_port).await.unwrap(),
        clock: clock.clone(),
        http: reqwest::Client::new(),
    };
    let (status, answer) = on_socket
        .call("generateMessageChatToken", None, body.clone())
        .await;
    assert_eq!(
        (status, &answer["error_code"]),
        (502, &json!("UpstreamUnavailable"))
    );
    let (_, beside) = mocks::aui::build_beside_alibaba(config, clock, Limits::default(), alibaba);
    let beside = Env {
        aui: MockServer::start(beside, any_port).await.unwrap(),
        ..on_socket
    };
    let (status, answer) = beside.call("generateMessageChatToken", None, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["user_id"], "u1", "{answer}");
}
