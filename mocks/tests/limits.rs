//! The limits every mock holds under abuse, each set small and shown acting over real sockets:
//! the header-read timeout (slowloris), the header, query and body sizes (in each platform's
//! envelope), the connection cap, the DUIX WebSocket send timeout, and the journal and nonce
//! store bounds.

#[path = "common/alibaba.rs"]
mod alibaba_helper;
mod duix_support;

use futures_util::SinkExt;
use mocks::alibaba::AlibabaConfig;
use mocks::aui::AuiConfig;
use mocks::duix::DuixConfig;
use mocks::{Limits, MockServer, VirtualClock};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// The most any test here waits for something that must happen.
const BOUND: Duration = Duration::from_secs(10);

/// One platform's server built and served with `limits`.
async fn serve(platform: &str, limits: Limits) -> MockServer {
    let clock = VirtualClock::new();
    let (ctx, router) = match platform {
        "alibaba" => mocks::alibaba::build(AlibabaConfig::default(), clock, limits),
        "aui" => mocks::aui::build(AuiConfig::default(), clock, limits),
        "duix" => mocks::duix::build(DuixConfig::default(), clock, limits),
        other => panic!("no platform {other}"),
    };
    MockServer::start_with_limits(router, "127.0.0.1:0".parse().unwrap(), &ctx.limits)
        .await
        .expect("server starts")
}

async fn health(server: &MockServer) -> u16 {
    reqwest::get(format!("{}/__admin/health", server.url()))
        .await
        .expect("health is answered")
        .status()
        .as_u16()
}

/// Reads until the server closes the connection (end of stream or reset); false if it is still
/// open after [`BOUND`].
async fn closed_by_server(mut stream: impl AsyncRead + Unpin) -> bool {
    let mut buf = [0u8; 1024];
    let reading = async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    };
    tokio::time::timeout(BOUND, reading).await.is_ok()
}

mod header_read_timeout {
    use super::*;

    #[tokio::test]
    async fn a_slowloris_client_is_cut_off_while_others_are_served() {
        let limits = Limits {
            header_read_timeout_ms: 1000,
            ..Limits::default()
        };
        let server = serve("alibaba", limits).await;
        // One client trickles its head a byte every 300 ms, for up to a minute.
        let (trickler, mut writer) = TcpStream::connect(server.addr())
            .await
            .unwrap()
            .into_split();
        writer
            .write_all(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        let trickle = tokio::spawn(async move {
            for _ in 0..200 {
                if writer.write_all(b"a").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        // Another connects and sends nothing at all.
        let silent = TcpStream::connect(server.addr()).await.unwrap();

        assert_eq!(health(&server).await, 200, "others are served meanwhile");
        // Cut off well before the 30 s default would do it.
        assert!(closed_by_server(trickler).await, "the trickler is cut off");
        assert!(
            closed_by_server(silent).await,
            "the silent client is cut off"
        );
        assert_eq!(health(&server).await, 200);
        trickle.abort();
    }
}

mod sizes {
    use super::*;

    /// Where each platform takes a POST with a body.
    fn post_route(platform: &str) -> &'static str {
        match platform {
            "alibaba" => "/",
            "aui" => "/api/v2/aiagent/login",
            _ => "/__duix/webhooks",
        }
    }

    /// Asserts the platform's own error envelope with `status`.
    fn assert_envelope(platform: &str, status: u16, answer: &(u16, Value)) {
        let (got, body) = answer;
        assert_eq!(*got, status, "{platform}: {body}");
        match platform {
            "alibaba" => {
                assert_eq!(body["Code"], "RequestTooLarge", "{body}");
                assert!(body["RequestId"].is_string() && body["Message"].is_string());
            }
            "aui" => {
                assert_eq!(body["code"], status, "{body}");
                assert!(body["error_code"].is_string() && body["message"].is_string());
            }
            _ => {
                assert_eq!(body["code"], "-1", "{body}");
                assert_eq!(body["success"], false, "{body}");
                assert!(body["message"].is_string());
            }
        }
    }

    /// A status no size limit answers: the request reached the platform.
    fn assert_served(platform: &str, answer: &(u16, Value)) {
        let (status, body) = answer;
        assert!(
            ![413, 414, 431].contains(status),
            "{platform} refused a request under its limits: {status} {body}"
        );
    }

    async fn post(
        server: &MockServer,
        platform: &str,
        query: &str,
        header: &str,
        body: &str,
    ) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{}?{query}", server.url(), post_route(platform)))
            .header("x-padding", header)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
        (status, body)
    }

    #[tokio::test]
    async fn each_platform_answers_oversized_heads_and_bodies_in_its_envelope() {
        let limits = Limits {
            max_body_bytes: 64,
            max_header_bytes: 2048,
            max_query_bytes: 256,
            ..Limits::default()
        };
        for platform in ["alibaba", "aui", "duix"] {
            let server = serve(platform, limits.clone()).await;
            let small = (
                "a=b".to_string(),
                "x".repeat(100),
                r#"{"a":"b"}"#.to_string(),
            );
            let answer = post(&server, platform, &small.0, &small.1, &small.2).await;
            assert_served(platform, &answer);

            let big_body = format!(r#"{{"a":"{}"}}"#, "b".repeat(100));
            let answer = post(&server, platform, &small.0, &small.1, &big_body).await;
            assert_envelope(platform, 413, &answer);

            let big_header = "x".repeat(3000);
            let answer = post(&server, platform, &small.0, &big_header, &small.2).await;
            assert_envelope(platform, 431, &answer);

            let big_query = format!("a={}", "b".repeat(300));
            let answer = post(&server, platform, &big_query, &small.1, &small.2).await;
            assert_envelope(platform, 414, &answer);
            server.shutdown().await;
        }
    }
}

mod connection_cap {
    use super::*;

    /// A raw HTTP/1.1 keep-alive connection.
    struct Raw(BufReader<TcpStream>);

    impl Raw {
        async fn connect(addr: SocketAddr) -> Raw {
            Raw(BufReader::new(TcpStream::connect(addr).await.unwrap()))
        }

        async fn send_health_request(&mut self) {
            let request = b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n";
            self.0.get_mut().write_all(request).await.unwrap();
        }

        /// The status of the next answer, its body read too.
        async fn answer(&mut self) -> u16 {
            let mut line = String::new();
            self.0.read_line(&mut line).await.unwrap();
            let status = line.split(' ').nth(1).and_then(|s| s.parse().ok());
            let mut length = 0;
            loop {
                line.clear();
                self.0.read_line(&mut line).await.unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap();
                    }
                }
            }
            let mut body = vec![0u8; length];
            self.0.read_exact(&mut body).await.unwrap();
            status.unwrap_or_else(|| panic!("not an HTTP answer: {line}"))
        }

        async fn health(&mut self) -> u16 {
            self.send_health_request().await;
            tokio::time::timeout(BOUND, self.answer())
                .await
                .expect("a connection being served is answered")
        }
    }

    #[tokio::test]
    async fn beyond_the_cap_a_connection_waits_until_one_closes_and_served_ones_are_not_hurt() {
        let limits = Limits {
            max_connections: Some(4),
            ..Limits::default()
        };
        let server = serve("duix", limits).await;
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut connection = Raw::connect(server.addr()).await;
            assert_eq!(connection.health().await, 200);
            held.push(connection);
        }
        // The fifth connects (the kernel queues it) but is not served while four are open.
        let mut fifth = Raw::connect(server.addr()).await;
        fifth.send_health_request().await;
        let early = tokio::time::timeout(Duration::from_millis(1500), fifth.answer()).await;
        assert!(
            early.is_err(),
            "the fifth connection was served past the cap"
        );
        for connection in &mut held {
            assert_eq!(connection.health().await, 200, "served ones still answer");
        }
        // One closes: the fifth is accepted and answered.
        drop(held.pop());
        let answered = tokio::time::timeout(BOUND, fifth.answer()).await;
        assert_eq!(answered.expect("answered once a slot frees"), 200);
        for connection in &mut held {
            assert_eq!(connection.health().await, 200);
        }
    }
}

mod ws_send_timeout {
    use super::duix_support::{self, next_json};
    use super::*;

    #[tokio::test]
    async fn a_websocket_client_that_never_reads_is_dropped_and_its_slot_freed() {
        let config = DuixConfig {
            ws_send_timeout_ms: 1000,
            ..duix_support::config()
        };
        let platform = duix_support::platform(config).await;
        // A small receive buffer, so that the server's sends back up soon.
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(platform.server.addr()).await.unwrap();
        let url = platform.ws_service(&platform.token()).await;
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("websocket opens");
        ws.send(Message::text(r#"{"type":"start"}"#)).await.unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "start-complete");
        assert_eq!(platform.counts().await, (1, 1));

        // Each frame that is not JSON gets an `error` back, which this client never reads. Once
        // the server stops reading too, sends stall; the socket stays open all the same.
        let flood = tokio::spawn(async move {
            for _ in 0..1_000_000 {
                let sent = tokio::time::timeout(BOUND, ws.send(Message::text("x"))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
            std::future::pending::<()>().await;
            drop(ws);
        });
        let deadline = tokio::time::Instant::now() + 2 * BOUND;
        while platform.counts().await != (0, 0) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the session of a client that never reads still holds its slot"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        flood.abort();
        // The slot is usable again.
        let (_ws, _) = platform.session(None).await;
        assert_eq!(platform.counts().await, (1, 1));
    }
}

mod bounded_stores {
    use super::alibaba_helper::{Mock, ICE};
    use super::*;

    async fn metric(url: &str, name: &str) -> u64 {
        let text = reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|line| line.starts_with(name) && line.contains('{'))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    #[tokio::test]
    async fn the_journal_keeps_at_most_its_configured_capacity() {
        let limits = Limits {
            journal_capacity: 3,
            ..Limits::default()
        };
        let server = serve("duix", limits).await;
        let client = reqwest::Client::new();
        for i in 0..10 {
            let url = format!("{}/nowhere/{i}", server.url());
            assert_eq!(client.get(url).send().await.unwrap().status(), 404);
        }
        let journal: Value = client
            .get(format!("{}/__admin/requests?limit=1000", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let paths: Vec<&str> = journal["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["/nowhere/7", "/nowhere/8", "/nowhere/9"]);
        assert_eq!(metric(&server.url(), "agentproof_journal_entries").await, 3);
    }

    #[tokio::test]
    async fn the_nonce_store_stays_at_its_configured_bound() {
        let config = AlibabaConfig {
            nonce_capacity: 5,
            ..AlibabaConfig::default()
        };
        let mock = Mock::with(config).await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        let requests: Vec<_> = (0..20)
            .map(|_| mock.v3("GenerateMessageChatToken", ICE, &params))
            .collect();
        for (sent, request) in requests.iter().enumerate() {
            mock.send_v3(request).await.assert_ok();
            let held = metric(&mock.url(), "agentproof_alibaba_nonces").await;
            assert_eq!(held, (sent as u64 + 1).min(5));
        }
        // The newest are still refused as replays.
        mock.send_v3(&requests[19])
            .await
            .assert_error(400, "SignatureNonceUsed");
    }

    #[tokio::test]
    async fn tasks_and_instances_stay_at_their_configured_bounds_finished_ones_going_first() {
        let config = AlibabaConfig {
            max_agent_tasks: 3,
            max_ai_agent_instances: 3,
            ..AlibabaConfig::default()
        };
        let mock = Mock::with(config).await;
        const RTC: &str = "2018-01-11";
        let rtc = json!({"UserId": "agent1", "TargetUserIds": ["u1"]}).to_string();
        let runtime = json!({"AgentUserId": "a", "ChannelId": "c", "AuthToken": "t"}).to_string();
        let start = [("AIAgentId", "a1"), ("RuntimeConfig", runtime.as_str())];
        let running = mock
            .call_v3("StartAIAgentInstance", ICE, &start)
            .await
            .assert_ok();
        let running = running["InstanceId"].as_str().unwrap().to_string();
        let task = |n: usize| format!("t{n}");
        fn key(t: &str) -> Vec<(&str, &str)> {
            vec![("AppId", "app1"), ("ChannelId", "c1"), ("TaskId", t)]
        }
        let first = task(0);
        let mut start_task = key(&first);
        start_task.extend([("TemplateId", "tpl1"), ("RtcConfig", rtc.as_str())]);
        mock.call_v3("StartAgent", RTC, &start_task)
            .await
            .assert_ok();
        // Start-and-stop cycles, as a soak sends them: the bound holds, and the running entry
        // outlives every finished one.
        for n in 1..20 {
            let id = mock
                .call_v3("StartAIAgentInstance", ICE, &start)
                .await
                .assert_ok();
            let id = id["InstanceId"].as_str().unwrap().to_string();
            let by_id = [("InstanceId", id.as_str())];
            mock.call_v3("StopAIAgentInstance", ICE, &by_id)
                .await
                .assert_ok();
            let name = task(n);
            let mut start_task = key(&name);
            start_task.extend([("TemplateId", "tpl1"), ("RtcConfig", rtc.as_str())]);
            mock.call_v3("StartAgent", RTC, &start_task)
                .await
                .assert_ok();
            mock.call_v3("StopAgent", RTC, &key(&name))
                .await
                .assert_ok();
            let url = mock.url();
            let instances = metric(&url, "agentproof_alibaba_ai_agent_instances").await;
            let tasks = metric(&url, "agentproof_alibaba_agent_tasks").await;
            assert_eq!(
                (instances, tasks),
                ((n as u64 + 1).min(3), (n as u64 + 1).min(3))
            );
        }
        let by_id = [("InstanceId", running.as_str())];
        let kept = mock
            .call_v3("DescribeAIAgentInstance", ICE, &by_id)
            .await
            .assert_ok();
        assert_eq!(kept["Instance"]["Status"], "Executing");
        let kept = mock
            .call_v3("GetAgent", RTC, &key(&first))
            .await
            .assert_ok();
        assert_eq!(kept["Status"], "1");
        let gone = mock.call_v3("GetAgent", RTC, &key(&task(1))).await;
        gone.assert_error(404, "NotFound");
    }
}
