//! The shared machinery (edge, admin API, server loop) over real sockets, with a minimal platform so
//! that these tests do not depend on any real platform's rules.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use mocks::{InfraError, MockContext, MockServer, Platform, RequestId, RequestMeta, VirtualClock};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
struct TestPlatform {
    resets: AtomicUsize,
}

impl Platform for TestPlatform {
    fn name(&self) -> &'static str {
        "test"
    }
    fn route_key(&self, _: &Method, uri: &Uri, _: &HeaderMap) -> String {
        match uri.path() {
            "/echo" => "/echo".into(),
            _ => "unknown".into(),
        }
    }
    fn infra_error(&self, error: &InfraError, request: &RequestMeta<'_>) -> Response {
        let body = json!({"error": error.message(), "request_id": request.request_id, "status": error.status().as_u16()});
        (error.status(), Json(body)).into_response()
    }
    fn reset(&self) {
        self.resets.fetch_add(1, Ordering::SeqCst);
    }
}

async fn echo(Extension(id): Extension<RequestId>, body: Bytes) -> Response {
    Json(json!({"request_id": id.0, "len": body.len()})).into_response()
}

async fn start() -> (MockServer, Arc<TestPlatform>, reqwest::Client) {
    start_with(true).await
}

async fn start_with(admin_enabled: bool) -> (MockServer, Arc<TestPlatform>, reqwest::Client) {
    let platform = Arc::new(TestPlatform::default());
    let mut ctx = MockContext::new(platform.clone(), VirtualClock::new());
    ctx.limits.max_body_bytes = 1024;
    if !admin_enabled {
        ctx.disable_admin();
    }
    let app = mocks::app(Arc::new(ctx), Router::new().route("/echo", post(echo)));
    let server = MockServer::start(app, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (server, platform, reqwest::Client::new())
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn health_answers_as_soon_as_start_returns() {
    let (server, _, client) = start().await;
    let health = get_json(&client, format!("{}/__admin/health", server.url())).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["platform"], "test");
    server.shutdown().await;
}

#[tokio::test]
async fn every_answer_carries_the_request_id_the_handler_saw() {
    let (server, _, client) = start().await;
    let response = client
        .post(format!("{}/echo", server.url()))
        .body("hi")
        .send()
        .await
        .unwrap();
    let header = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], header);
    assert_eq!(body["len"], 2);
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_in_the_platform_envelope() {
    let (server, _, client) = start().await;
    let response = client
        .post(format!("{}/echo", server.url()))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("1024"), "{body}");

    // Chunked, so no Content-Length to reject early: the limit still holds while reading.
    let chunks =
        futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 512])));
    let response = client
        .post(format!("{}/echo", server.url()))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn huge_queries_and_unknown_routes_get_the_platform_envelope() {
    let (server, _, client) = start().await;
    let long = "a".repeat(40_000);
    let response = client
        .post(format!("{}/echo?q={long}", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());

    let response = client
        .get(format!("{}/nowhere", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());

    let response = client
        .get(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn clock_moves_by_set_and_advance() {
    let (server, _, client) = start().await;
    let url = format!("{}/__admin/clock", server.url());
    let set: Value = client
        .post(&url)
        .json(&json!({"now_ms": 1_700_000_000_000i64}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!((set["now_ms"].as_i64().unwrap() - 1_700_000_000_000).abs() < 5_000);
    assert!(
        set["now"].as_str().unwrap().starts_with("2023-11-14T22:13"),
        "{set}"
    );
    let advanced: Value = client
        .post(&url)
        .json(&json!({"advance_ms": 86_400_000}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(advanced["now_ms"].as_i64().unwrap() - set["now_ms"].as_i64().unwrap() >= 86_400_000);

    let bad = client
        .post(&url)
        .json(&json!({"now_ms": 1, "advance_ms": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad = client.post(&url).body("not json").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn journal_records_requests_with_secrets_redacted() {
    let (server, _, client) = start().await;
    client
        .post(format!("{}/echo?sig=secret-token&x=1", server.url()))
        .header("authorization", "Bearer very-secret")
        .body(r#"{"password":"hunter2"}"#)
        .send()
        .await
        .unwrap();
    let journal = get_json(&client, format!("{}/__admin/requests", server.url())).await;
    assert_eq!(
        journal["count"], 1,
        "admin calls are not journaled: {journal}"
    );
    let text = journal.to_string();
    assert!(text.contains("/echo"));
    for secret in ["secret-token", "very-secret", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let bad = client
        .get(format!("{}/__admin/requests?limit=lots", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn injected_errors_use_the_platform_envelope_and_can_be_removed() {
    let (server, _, client) = start().await;
    let faults = format!("{}/__admin/faults", server.url());
    let rule = json!({"route": "/echo", "error_rate": 1.0, "error": {"status": 503, "code": "ServiceUnavailable"}});
    let created: Value = client
        .post(&faults)
        .json(&rule)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
    // Admin routes are never faulted.
    assert!(client
        .get(format!("{}/__admin/health", server.url()))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());

    let id = created["id"].as_u64().unwrap();
    let removed = client
        .delete(format!("{faults}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert!(client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let missing = client
        .delete(format!("{faults}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_fault_rules_are_refused_with_the_reason() {
    let (server, _, client) = start().await;
    let faults = format!("{}/__admin/faults", server.url());
    let response = client
        .post(&faults)
        .json(&json!({"route": "*", "error_rate": 0.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("\"error\""));
}

#[tokio::test]
async fn reset_connection_faults_drop_the_connection_unanswered() {
    let (server, _, client) = start().await;
    let rule = json!({"route": "*", "reset_rate": 1.0});
    client
        .post(format!("{}/__admin/faults", server.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    let result = client.post(format!("{}/echo", server.url())).send().await;
    assert!(
        result.is_err(),
        "expected a dropped connection, got {result:?}"
    );
}

#[tokio::test]
async fn injected_latency_delays_the_answer() {
    let (server, _, client) = start().await;
    let rule = json!({"route": "/echo", "latency": {"kind": "fixed", "ms": 300}});
    client
        .post(format!("{}/__admin/faults", server.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap();
    let journal = get_json(&client, format!("{}/__admin/requests", server.url())).await;
    // A lower bound only: the delay is a floor, never a ceiling, so this cannot flake on a slow machine.
    assert!(
        journal["requests"][0]["duration_ms"].as_f64().unwrap() >= 300.0,
        "{journal}"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let (server, _, client) = start().await;
    client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap();
    client
        .get(format!("{}/missing", server.url()))
        .send()
        .await
        .unwrap();
    let text = client
        .get(format!("{}/metrics", server.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"agentproof_requests_total{platform="test",route="/echo",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unknown",status="404"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn reset_clears_journal_faults_and_platform_state() {
    let (server, platform, client) = start().await;
    client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap();
    let rule = json!({"route": "*", "latency": {"kind": "fixed", "ms": 1}});
    client
        .post(format!("{}/__admin/faults", server.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    client
        .post(format!("{}/__admin/reset", server.url()))
        .send()
        .await
        .unwrap();
    let journal = get_json(&client, format!("{}/__admin/requests", server.url())).await;
    let faults = get_json(&client, format!("{}/__admin/faults", server.url())).await;
    assert_eq!(journal["count"], 0);
    assert_eq!(faults["faults"].as_array().unwrap().len(), 0);
    assert_eq!(platform.resets.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let (server, _, client) = start().await;
    let rule = json!({"route": "/echo", "latency": {"kind": "fixed", "ms": 300}});
    client
        .post(format!("{}/__admin/faults", server.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    let url = format!("{}/echo", server.url());
    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel();
    let in_flight = tokio::spawn(async move {
        let request = client.post(url).send();
        let _ = sent_tx.send(());
        request.await.map(|r| r.status())
    });
    sent_rx.await.unwrap();
    // Poll until the edge holds the request (it then sleeps in its injected latency).
    let health = format!("{}/__admin/health", server.url());
    let probe = reqwest::Client::new();
    while get_json(&probe, health.clone()).await["in_flight"] != 1 {
        tokio::task::yield_now().await;
    }
    server.shutdown().await;
    assert_eq!(in_flight.await.unwrap().unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn a_deployed_server_can_leave_the_admin_api_out() {
    let (server, _, client) = start_with(false).await;
    for path in ["/__admin/health", "/__admin/clock", "/metrics"] {
        let response = client
            .get(format!("{}{path}", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert!(client
        .post(format!("{}/echo", server.url()))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
}

#[tokio::test]
async fn aui_and_duix_serve_their_openapi_documents_and_alibaba_says_it_has_none() {
    let clock = VirtualClock::new();
    let local: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let aui = mocks::aui::start(mocks::aui::AuiConfig::default(), clock.clone(), local)
        .await
        .unwrap();
    let duix = mocks::duix::start(mocks::duix::DuixConfig::default(), clock.clone(), local)
        .await
        .unwrap();
    let alibaba = mocks::alibaba::start(mocks::alibaba::AlibabaConfig::default(), clock, local)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for (server, name) in [(&aui, "aui"), (&duix, "duix")] {
        let served = get_json(&client, format!("{}/__admin/openapi.json", server.url())).await;
        assert_eq!(served["openapi"], "3.1.0");
        assert_eq!(
            Some(served),
            schemas::openapi::openapi(name),
            "{name} serves the composed document"
        );
    }
    let none = client
        .get(format!("{}/__admin/openapi.json", alibaba.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    assert!(
        none.json::<Value>().await.unwrap()["Code"].is_string(),
        "in the Alibaba envelope"
    );
}

#[tokio::test]
async fn an_extreme_clock_setting_is_clamped_and_every_request_still_answers() {
    let (server, _, client) = start().await;
    let url = format!("{}/__admin/clock", server.url());
    for change in [
        json!({"offset_ms": i64::MAX}),
        json!({"advance_ms": i64::MAX}),
        json!({"now_ms": i64::MIN}),
    ] {
        let answer = client.post(&url).json(&change).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{change}");
        let now = answer.json::<Value>().await.unwrap()["now_ms"]
            .as_i64()
            .unwrap();
        assert!(
            (0..=mocks::clock::MAX_NOW_MS).contains(&now),
            "{change}: {now}"
        );
        let echo = client.post(format!("{}/echo", server.url())).send().await;
        assert_eq!(echo.unwrap().status(), StatusCode::OK, "{change}");
    }
}

/// Sends `request` on a raw socket, closes the write half, and reads the answer to the end.
async fn send_then_half_close(server: &MockServer, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("answer within 10 s")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    let (server, _, client) = start().await;
    // The delay makes the race certain: the client's FIN arrives long before the answer is ready.
    let rule = json!({"route": "/echo", "latency": {"kind": "fixed", "ms": 200}});
    client
        .post(format!("{}/__admin/faults", server.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    let request = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
    let answer = send_then_half_close(&server, request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(answer.contains("\"len\":2"), "{answer:?}");
}

#[tokio::test]
async fn the_journal_keeps_only_the_start_of_a_huge_header() {
    let (server, _, client) = start().await;
    let huge = "a".repeat(200_000);
    client
        .post(format!("{}/echo", server.url()))
        .header("x-huge", &huge)
        .send()
        .await
        .unwrap();
    let journal = get_json(&client, format!("{}/__admin/requests", server.url())).await;
    let headers = journal["requests"][0]["headers"].to_string();
    assert!(headers.contains("aaaa"), "{headers:.200}");
    assert!(
        headers.len() < 2 * mocks::journal::MAX_BODY_CHARS,
        "{} bytes kept",
        headers.len()
    );
}

#[tokio::test]
async fn a_client_that_writes_its_whole_oversized_body_before_reading_gets_the_413() {
    // The edge decides after 1 MiB, but this client (like many) writes all 2 MiB first and reads
    // only then. Closing with unread bytes makes the kernel answer RST, which throws the 413
    // away unread; the edge drains the rest of a moderately oversized body first, so it arrives.
    let platform = Arc::new(TestPlatform::default());
    let ctx = MockContext::new(platform, VirtualClock::new());
    let app = mocks::app(Arc::new(ctx), Router::new().route("/echo", post(echo)));
    let server = MockServer::start(app, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = server.addr();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let size = 2 * 1024 * 1024;
        let head = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let written = stream.write_all(&vec![b'z'; size]);
        let mut answer = String::new();
        let read = stream.read_to_string(&mut answer);
        (written.is_ok(), read.map_err(|e| e.to_string()), answer)
    })
    .await
    .unwrap();
    assert!(answer.0, "the whole body could be written");
    assert!(answer.1.is_ok(), "the answer was readable: {:?}", answer.1);
    assert!(answer.2.starts_with("HTTP/1.1 413"), "{}", answer.2);
}

#[tokio::test]
async fn oversized_bodies_of_many_sizes_and_both_framings_get_413() {
    let platform = Arc::new(TestPlatform::default());
    let ctx = MockContext::new(platform, VirtualClock::new());
    let app = mocks::app(Arc::new(ctx), Router::new().route("/echo", post(echo)));
    let server = MockServer::start(app, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for round in 0..60 {
        let size = (1024 + 64 * (round + 1)) * 1024;
        let chunks = futures_util::stream::iter(
            (0..size / 65536).map(|_| Ok::<_, std::io::Error>(vec![b'z'; 65536])),
        );
        let body = if round % 2 == 0 {
            reqwest::Body::from(vec![b'z'; size])
        } else {
            reqwest::Body::wrap_stream(chunks)
        };
        let response = client
            .post(format!("{}/echo", server.url()))
            .body(body)
            .send()
            .await
            .expect("the 413 arrives instead of a broken pipe or a reset");
        assert_eq!(
            response.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "round {round}, {size} bytes"
        );
    }
}
