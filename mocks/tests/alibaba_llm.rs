//! The Alibaba agents converse: an RTC agent started through the official RTC Python SDK with a
//! third-party LLMConfig, and an ICE instance whose template names a self-developed LLM, take
//! utterances at `/__admin/agents/{id}/say` and call a recording LLM server, whose recorded
//! requests must be what the platform sends, field by field; failed calls are events on the
//! agent, never a crash. And the reference LLM endpoint is read by the official `openai` Python
//! client's streaming API.
//!
//! The venv comes from `.ci/setup-python` (at `$AGENTPROOF_VENV` or `<workspace>/.venv`). A
//! missing venv fails the test: silently skipping would let the interop rot.

#[path = "common/alibaba.rs"]
mod helper;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use helper::{Mock, ICE, KEY, SECRET};
use mocks::alibaba::llm::{LlmConfig, Template};
use mocks::alibaba::AlibabaConfig;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn venv_python() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join(".venv"));
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

/// Runs `tests/python/<script>` with `args`; its stdout, asserting it succeeded.
async fn python(script: &str, args: Vec<String>) -> String {
    let python = venv_python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .expect("python runs")
    })
    .await
    .expect("python task joins");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && !stdout.contains("\"ok\": false"),
        "{stdout}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// One request the recording LLM received.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    path_and_query: String,
    headers: HeaderMap,
    body: Value,
}

/// A compliant LLM that records every request. It answers `Reply <n>` (n counts its requests);
/// an utterance with `fail` gets 500, one with `slow` no token for 2 s.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    async fn start(&self) -> String {
        let recorder = self.clone();
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let recorder = recorder.clone();
                async move { recorder.answer(method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn answer(
        &self,
        method: axum::http::Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let last = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string();
        let n = {
            let mut all = self.0.lock().unwrap();
            all.push(Recorded {
                method: method.to_string(),
                path_and_query: uri.to_string(),
                headers,
                body,
            });
            all.len()
        };
        if last.contains("fail") {
            let error = json!({"error": {"message": "the model is down", "type": "server_error"}});
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(error)).into_response();
        }
        let wait = Duration::from_millis(if last.contains("slow") { 2000 } else { 0 });
        let chunk = |delta: Value, finish: Option<&str>| {
            let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            format!("data: {chunk}\n\n")
        };
        let events = vec![
            (
                Duration::ZERO,
                chunk(json!({"role": "assistant", "content": ""}), None),
            ),
            (wait, chunk(json!({"content": "Reply "}), None)),
            (
                Duration::ZERO,
                chunk(json!({"content": n.to_string()}), None),
            ),
            (Duration::ZERO, chunk(json!({}), Some("stop"))),
            (Duration::ZERO, "data: [DONE]\n\n".to_string()),
        ];
        let stream = futures_util::stream::unfold(events.into_iter(), |mut events| async move {
            let (wait, event) = events.next()?;
            tokio::time::sleep(wait).await;
            Some((Ok::<_, std::io::Error>(Bytes::from(event)), events))
        });
        (
            [("content-type", "text/event-stream")],
            Body::from_stream(stream),
        )
            .into_response()
    }

    fn all(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().clone()
    }
}

/// `POST /__admin/agents/{id}/say`: status and JSON.
async fn say(mock: &Mock, id: &str, text: &str) -> (u16, Value) {
    let answer = mock
        .http
        .post(format!("{}/__admin/agents/{id}/say", mock.url()))
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

async fn get_json(mock: &Mock, url: &str) -> Value {
    mock.http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn quick_timeouts() -> LlmConfig {
    LlmConfig {
        first_token_timeout_ms: 500,
        timeout_ms: 5000,
        ..LlmConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rtc_agent_started_by_the_official_sdk_calls_its_llm_as_the_platform_does() {
    let recorder = Recorder::default();
    let llm = format!("{}/v1/chat/completions", recorder.start().await);
    let mock = Mock::with(AlibabaConfig {
        llm: quick_timeouts(),
        ..AlibabaConfig::default()
    })
    .await;
    let (task, channel) = ("task-llm-1", "channel-llm-1");
    let sdk = |command: &str| {
        vec![
            "--endpoint".into(),
            mock.server.addr().to_string(),
            "--access-key-id".into(),
            KEY.into(),
            "--access-key-secret".into(),
            SECRET.into(),
            "--task".into(),
            task.into(),
            "--channel".into(),
            channel.into(),
            "--llm-url".into(),
            llm.clone(),
            "--llm-key".into(),
            "llm-secret-key".into(),
            command.into(),
        ]
    };
    python("alibaba_llm_agent.py", sdk("start")).await;

    let utterances = [
        "你好",
        "What's the weather like?",
        "第三句话",
        "and the fourth",
    ];
    let mut last = Value::Null;
    for (i, text) in utterances.iter().enumerate() {
        let (status, answer) = say(&mock, task, text).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["text"], format!("Reply {}", i + 1), "{answer}");
        assert_eq!(answer["sentence_id"], i + 1);
        last = answer;
    }
    let ttft = last["ttft_ms"].as_f64().unwrap();
    assert!(
        ttft > 0.0 && last["total_ms"].as_f64().unwrap() >= ttft,
        "{last}"
    );
    assert_eq!(last["chunks"], 4);
    assert_eq!(last["request"]["headers"]["authorization"], "Bearer ***");
    assert!(
        !last.to_string().contains("llm-secret-key"),
        "the key is masked: {last}"
    );

    let recorded = recorder.all();
    assert_eq!(recorded.len(), 4);
    let sent = &recorded[3];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path_and_query, "/v1/chat/completions",
        "the Url as given"
    );
    let header = |name: &str| sent.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("authorization"), Some("Bearer llm-secret-key"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("accept"), Some("text/event-stream"));
    let body = &sent.body;
    assert_eq!(body["model"], "vendor-model-1");
    assert_eq!(body["stream"], true);
    assert_eq!(
        (
            body["max_tokens"].as_i64(),
            body["temperature"].as_f64(),
            body["top_p"].as_f64()
        ),
        (Some(500), Some(0.5), Some(0.9))
    );
    assert_eq!(
        body["verification_code"], "code-123",
        "Params merged into the body"
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "你是一个友好的语音助手。"},
            {"role": "user", "content": "What's the weather like?"},
            {"role": "assistant", "content": "Reply 2"},
            {"role": "user", "content": "第三句话"},
            {"role": "assistant", "content": "Reply 3"},
            {"role": "user", "content": "and the fourth"},
        ]),
        "HistoryDepth 2: the last two rounds, oldest first, this utterance last"
    );
    assert_eq!(
        body["extendData"],
        json!({"instanceId": task, "channelId": channel, "sentenceId": 4, "userData": ""})
    );
    let ids: Vec<&Value> = recorded
        .iter()
        .map(|r| &r.body["extendData"]["sentenceId"])
        .collect();
    assert_eq!(ids, [&json!(1), &json!(2), &json!(3), &json!(4)]);
    assert_eq!(
        last["request"]["body"], *body,
        "say shows the request that was sent"
    );

    // Failures are events on the agent, and the mock carries on.
    let (status, refused) = say(&mock, task, "please fail").await;
    assert_eq!(status, 502, "{refused}");
    assert_eq!(refused["error"]["kind"], "refused");
    assert_eq!(refused["error"]["status"], 500);
    let (status, silent) = say(&mock, task, "slow one").await;
    assert_eq!(status, 502, "{silent}");
    assert_eq!(silent["error"]["kind"], "timed_out", "{silent}");
    let agent = get_json(&mock, &format!("{}/__admin/agents/{task}", mock.url())).await;
    let calls = agent["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 6, "{agent}");
    assert!(
        calls[4]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{agent}"
    );
    assert_eq!(
        agent["history"].as_array().unwrap().len(),
        8,
        "failed turns are not kept"
    );
    let health = mock
        .http
        .get(format!("{}/__admin/health", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    python("alibaba_llm_agent.py", sdk("stop")).await;
    let (status, stopped) = say(&mock, task, "are you there?").await;
    assert_eq!(
        (status, stopped["Code"].as_str()),
        (400, Some("IncorrectTaskStatus")),
        "{stopped}"
    );
    assert_eq!(recorder.all().len(), 6, "a stopped agent calls nobody");
    mock.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_instance_calls_its_templates_llm_with_its_agent_config() {
    let recorder = Recorder::default();
    let base = format!("{}/v1", recorder.start().await);
    let template: Template = serde_json::from_value(json!({"llm": {
        "base_url": base, "model": "workflow-model", "api_key": "ice-key"}}))
    .unwrap();
    let mock = Mock::with(AlibabaConfig {
        llm: quick_timeouts(),
        templates: [("agent-llm".to_string(), template)].into(),
        ..AlibabaConfig::default()
    })
    .await;
    let runtime =
        json!({"AgentUserId": "agent_1", "ChannelId": "room9", "AuthToken": "t"}).to_string();
    let agent_config = json!({"LlmConfig": {"LlmSystemPrompt": "be brief", "LlmHistoryLimit": 1,
        "OpenAIExtraQuery": "api-version=2024-02-01"}})
    .to_string();
    let start = [
        ("AIAgentId", "agent-llm"),
        ("RuntimeConfig", runtime.as_str()),
        ("AgentConfig", agent_config.as_str()),
        ("UserData", "{\"vip\":true}"),
    ];
    let started = mock
        .call_v3("StartAIAgentInstance", ICE, &start)
        .await
        .assert_ok();
    let id = started["InstanceId"].as_str().unwrap().to_string();
    for text in ["first", "second"] {
        let (status, answer) = say(&mock, &id, text).await;
        assert_eq!(status, 200, "{answer}");
    }
    let recorded = recorder.all();
    let sent = &recorded[1];
    assert_eq!(
        sent.path_and_query,
        "/v1/chat/completions?api-version=2024-02-01"
    );
    assert_eq!(sent.headers["authorization"], "Bearer ice-key");
    assert_eq!(sent.body["model"], "workflow-model");
    assert!(
        sent.body.get("max_tokens").is_none(),
        "no sampling field configured"
    );
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "first"},
               {"role": "assistant", "content": "Reply 1"}, {"role": "user", "content": "second"}])
    );
    assert_eq!(
        sent.body["extendData"],
        json!({"instanceId": id, "channelId": "room9", "sentenceId": 2, "userData": "{\"vip\":true}"})
    );
    let described = mock
        .call_v3("DescribeAIAgentInstance", ICE, &[("InstanceId", &id)])
        .await
        .assert_ok();
    let log_url = described["Instance"]["CallLogUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        log_url.ends_with(&format!("/__admin/agents/{id}")),
        "{described}"
    );
    let log = get_json(&mock, &log_url).await;
    assert_eq!(
        (log["kind"].as_str(), log["calls"].as_array().map(Vec::len)),
        (Some("ice"), Some(2)),
        "{log}"
    );

    // An agent without a template, an unknown id, a bad body: clear refusals.
    let other = [
        ("AIAgentId", "no-template"),
        ("RuntimeConfig", runtime.as_str()),
    ];
    let other = mock
        .call_v3("StartAIAgentInstance", ICE, &other)
        .await
        .assert_ok();
    let (status, answer) = say(&mock, other["InstanceId"].as_str().unwrap(), "hi").await;
    assert_eq!(
        (status, answer["Code"].as_str()),
        (400, Some("LLMNotConfigured")),
        "{answer}"
    );
    assert!(answer["Message"]
        .as_str()
        .unwrap()
        .contains("[alibaba.templates.no-template.llm]"));
    let (status, answer) = say(&mock, "nobody", "hi").await;
    assert_eq!(
        (status, answer["Code"].as_str()),
        (404, Some("NotFound")),
        "{answer}"
    );
    let bad = mock
        .http
        .post(format!("{}/__admin/agents/{id}/say", mock.url()))
        .body("{\"words\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    mock.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_client_streams_the_reference_endpoint() {
    let config = mocks::alibaba::llm::vendor::VendorConfig {
        api_key: Some("reference-key".into()),
        ..Default::default()
    };
    let server = mocks::alibaba::llm::vendor::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = mocks::alibaba::llm::vendor::base_url(&server);
    let args = vec![
        "--base-url".to_string(),
        base,
        "--api-key".into(),
        "reference-key".into(),
    ];
    let stdout = python("openai_stream.py", args).await;
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("\"ok\": true"))
            .count(),
        5,
        "{stdout}"
    );
    server.shutdown().await;
}
