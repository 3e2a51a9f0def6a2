//! Shared setup for the DUIX integration tests: a platform and the reference vendor on port 0,
//! tokens on the platform's virtual clock, and small HTTP and WebSocket clients.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use mocks::duix::vendor::{self, VendorConfig};
use mocks::duix::{DuixApp, DuixConfig, DEMO_APP_ID, DEMO_APP_KEY};
use mocks::{MockServer, VirtualClock};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub const OTHER_APP_ID: &str = "other-app";
pub const OTHER_APP_KEY: &str = "other-app-key";
pub const DH_CODE: &str = "187265485019156480";
const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running platform and the clock it reads.
pub struct Platform {
    pub server: MockServer,
    pub clock: VirtualClock,
    pub http: reqwest::Client,
}

/// The demo app (quota 2) and a second app (quota 5).
pub fn config() -> DuixConfig {
    let other = DuixApp {
        app_id: OTHER_APP_ID.into(),
        app_key: OTHER_APP_KEY.into(),
        quota: 5,
        crop_id: String::new(),
    };
    DuixConfig {
        apps: vec![DuixApp::default(), other],
        ..DuixConfig::default()
    }
}

/// Starts a platform with `config`, bound to 127.0.0.1 on a free port.
pub async fn platform(config: DuixConfig) -> Platform {
    let clock = VirtualClock::new();
    let server = mocks::duix::start(config, clock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("platform starts");
    Platform {
        server,
        clock,
        http: reqwest::Client::new(),
    }
}

/// Starts the reference vendor webhook.
pub async fn vendor(config: VendorConfig) -> MockServer {
    vendor::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("vendor starts")
}

/// A platform whose dialogue [`DH_CODE`] goes to a fresh reference vendor.
pub async fn platform_with_vendor() -> (Platform, MockServer) {
    let hook = vendor(VendorConfig::default()).await;
    let mut config = config();
    config
        .webhooks
        .insert(DH_CODE.into(), format!("{}/duix-hook", hook.url()));
    (platform(config).await, hook)
}

impl Platform {
    /// A demo-app token valid for 30 minutes of virtual time.
    pub fn token(&self) -> String {
        self.token_for(DEMO_APP_ID, DEMO_APP_KEY, 1800)
    }

    pub fn token_for(&self, app_id: &str, key: &str, ttl_secs: i64) -> String {
        let now = self.clock.now_secs();
        protocol::duix::sign_token(app_id, key, now, now + ttl_secs)
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.server.url())
    }

    /// GET with an optional `token` header; answers status and JSON body.
    pub async fn get(&self, path_and_query: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(self.url(path_and_query));
        if let Some(token) = token {
            request = request.header("token", token);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        (status, response.json().await.expect("body is JSON"))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.json().await.expect("body is JSON"))
    }

    /// `(userConcurrentNumber, totalConcurrentNumber)` of the demo app.
    pub async fn counts(&self) -> (u64, u64) {
        let (status, body) = self
            .get(
                &format!("/duix-openapi-v2/v1/getconcurrentNumber?appId={DEMO_APP_ID}"),
                Some(&self.token()),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        (
            data["userConcurrentNumber"].as_u64().unwrap(),
            data["totalConcurrentNumber"].as_u64().unwrap(),
        )
    }

    /// The wsService checkSig returns for `token`.
    pub async fn ws_service(&self, token: &str) -> String {
        let (status, body) = self
            .get(&format!("/duix-openapi-v2/sdk/checkSig?sig={token}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["wsService"]
            .as_str()
            .expect("wsService")
            .to_string()
    }

    /// Opens the session WebSocket through checkSig's wsService.
    pub async fn connect(&self) -> Ws {
        let url = self.ws_service(&self.token()).await;
        connect_async(url).await.expect("websocket opens").0
    }

    /// Connects and starts a session on `conversation`; answers the socket and the session id.
    pub async fn session(&self, conversation: Option<&str>) -> (Ws, String) {
        let mut ws = self.connect().await;
        let mut start = json!({"type": "start", "userId": "u-1"});
        if let Some(conversation) = conversation {
            start["conversationId"] = json!(conversation);
        }
        send(&mut ws, start).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "start-complete", "{reply}");
        let id = reply["sessionId"].as_str().expect("sessionId").to_string();
        (ws, id)
    }
}

pub async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string()))
        .await
        .expect("frame sent");
}

/// What the server did next.
#[derive(Debug)]
pub enum Event {
    Json(Value),
    Close(Option<(u16, String)>),
    Ended,
}

pub async fn next_event(ws: &mut Ws) -> Event {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("server answers in time");
        return match frame {
            Some(Ok(Message::Text(text))) => {
                Event::Json(serde_json::from_str(text.as_str()).expect("JSON frame"))
            }
            Some(Ok(Message::Close(frame))) => {
                Event::Close(frame.map(|f| (u16::from(f.code), f.reason.as_str().to_string())))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => Event::Ended,
        };
    }
}

pub async fn next_json(ws: &mut Ws) -> Value {
    match next_event(ws).await {
        Event::Json(value) => value,
        other => panic!("expected a JSON message, got {other:?}"),
    }
}

/// Expects `bye` with `reason`, then a close frame with `code` and the same reason.
pub async fn expect_bye(ws: &mut Ws, reason: &str, code: u16) {
    let bye = next_json(ws).await;
    assert_eq!(bye, json!({"type": "bye", "reason": reason}));
    match next_event(ws).await {
        Event::Close(Some((got_code, got_reason))) => {
            assert_eq!((got_code, got_reason.as_str()), (code, reason));
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Reads answers until `isEnd`; answers the pieces.
pub async fn answer_pieces(ws: &mut Ws) -> Vec<Value> {
    let mut pieces = Vec::new();
    loop {
        let message = next_json(ws).await;
        assert_eq!(message["type"], "answer", "{message}");
        let end = message["isEnd"] == true;
        pieces.push(message);
        if end {
            return pieces;
        }
    }
}
