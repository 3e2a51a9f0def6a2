//! The soak's mixes: for each mock, a cycle of requests every connection goes round, one
//! request per slot of the schedule ([`crate::openloop`]). Each cycle holds state that lives
//! and dies (agent instances started then stopped, tasks, WebSocket sessions), so a leak in
//! any of it shows as memory that keeps growing. Every answer is checked: its status, and a
//! marker only a right answer holds; anything else is a [`Failure`].
//!
//! Alibaba calls are signed on the spot, each with a fresh nonce and now's date: a
//! 10-minute run would need gigabytes of pre-signed requests.

use crate::mocks::{params, Mocks, Signer, RTC_CONFIG, VOICE_CHAT_CONFIG};
use crate::openloop::{Exchange, Failure};
use crate::wire::{self, Answer, Conn};
use anyhow::{anyhow, Context, Result};
use protocol::request::{alibaba, aui, duix};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, Message};

/// Checks an answer: `status` and `marker` in the body.
fn expect(what: &str, answer: &Answer, status: u16, marker: &str) -> Result<(), Failure> {
    if answer.status == status && answer.text().contains(marker) {
        return Ok(());
    }
    let text = answer.text();
    let cut: String = text.chars().take(300).collect();
    Err(Failure::Answer(format!(
        "{what}: HTTP {}, expected {status} with {marker}: {cut}",
        answer.status
    )))
}

/// Sends `request` and checks its answer.
fn ask(
    conn: &mut Conn,
    what: &str,
    request: &[u8],
    status: u16,
    marker: &str,
) -> Result<Answer, Failure> {
    let answer = conn.send(request).map_err(|e| Failure::io(what, &e))?;
    expect(what, &answer, status, marker)?;
    Ok(answer)
}

/// A string field of a JSON answer.
fn field(what: &str, answer: &Answer, pointer: &str) -> Result<String, Failure> {
    serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| Failure::Answer(format!("{what}: no {pointer} in {}", answer.text())))
}

/// Setup failures stop the run before it starts: they say the mock is not what the soak drives.
fn setup(failure: Failure) -> anyhow::Error {
    anyhow!("{failure:?}")
}

const RUNTIME_CONFIG: &str =
    r#"{"AgentUserId":"soak_agent","ChannelId":"soak_channel","AuthToken":"soak_token"}"#;

/// The Alibaba mock's cycle, V3 unless marked V1: GetAgent of the connection's running task
/// (V3, then V1), StartAIAgentInstance, DescribeAIAgentInstance (V1, `Executing`),
/// StopAIAgentInstance, StartAgent of a new task (V1), StopAgent of it.
pub struct AlibabaMix {
    conn: Conn,
    mocks: Arc<Mocks>,
    /// Unique to the connection: task ids are built from it.
    tag: String,
    step: usize,
    started: u64,
    /// The task GetAgent reads, running all along.
    task: Vec<(String, String)>,
    instance: Option<String>,
    cycle_task: Option<Vec<(String, String)>>,
}

/// Names of [`AlibabaMix`]'s steps, in order.
pub const ALIBABA_CYCLE: [&str; 7] = [
    "GetAgent (V3)",
    "GetAgent (V1)",
    "StartAIAgentInstance",
    "DescribeAIAgentInstance (V1)",
    "StopAIAgentInstance",
    "StartAgent (V1)",
    "StopAgent",
];

impl AlibabaMix {
    /// Connects and starts the connection's long-lived task.
    pub fn new(mocks: &Arc<Mocks>, index: usize, timeout: Duration) -> Result<Self> {
        let tag = format!("soak{index}_{}", &alibaba::fresh_nonce()[..8]);
        let task = Self::task_key(&tag, "main");
        let mut mix = AlibabaMix {
            conn: Conn::new(&mocks.addr("alibaba")?, timeout),
            mocks: Arc::clone(mocks),
            tag,
            step: 0,
            started: 0,
            task: task.clone(),
            instance: None,
            cycle_task: None,
        };
        mix.start_task(&task, alibaba::signed)
            .map_err(setup)
            .context("Alibaba StartAgent of the soak's task")?;
        Ok(mix)
    }

    fn task_key(tag: &str, name: &str) -> Vec<(String, String)> {
        params(&[
            ("AppId", "soak_app"),
            ("ChannelId", &format!("{tag}_ch")),
            ("TaskId", &format!("{tag}_{name}")),
        ])
    }

    fn call(
        &mut self,
        what: &str,
        action: &str,
        params: &[(String, String)],
        sign: Signer,
        marker: &str,
    ) -> Result<Answer, Failure> {
        let request = self.mocks.raw_call(action, params, sign);
        ask(&mut self.conn, what, &request, 200, marker)
    }

    fn start_task(&mut self, key: &[(String, String)], sign: Signer) -> Result<(), Failure> {
        let mut start = key.to_vec();
        start.extend(params(&[
            ("TemplateId", "tpl_soak"),
            ("RtcConfig", RTC_CONFIG),
            ("VoiceChatConfig", VOICE_CHAT_CONFIG),
        ]));
        self.call("StartAgent", "StartAgent", &start, sign, "\"RequestId\"")
            .map(drop)
    }
}

impl Exchange for AlibabaMix {
    fn exchange(&mut self, _: u64) -> Result<(), Failure> {
        let mut step = self.step;
        // A stop whose start failed has nothing to stop: the slot goes to the next step.
        if matches!(step, 3 | 4) && self.instance.is_none() {
            step = 5;
        }
        if step == 6 && self.cycle_task.is_none() {
            step = 0;
        }
        self.step = (step + 1) % ALIBABA_CYCLE.len();
        let what = ALIBABA_CYCLE[step];
        let running = "\"Status\":\"1\"";
        match step {
            0 => {
                let task = self.task.clone();
                self.call(what, "GetAgent", &task, alibaba::signed, running)
                    .map(drop)
            }
            1 => {
                let task = self.task.clone();
                self.call(what, "GetAgent", &task, alibaba::signed_v1, running)
                    .map(drop)
            }
            2 => {
                self.instance = None;
                let start = params(&[
                    ("AIAgentId", "soak_agent"),
                    ("RuntimeConfig", RUNTIME_CONFIG),
                ]);
                let answer = self.call(
                    what,
                    "StartAIAgentInstance",
                    &start,
                    alibaba::signed,
                    "\"InstanceId\"",
                )?;
                self.instance = Some(field(what, &answer, "/InstanceId")?);
                Ok(())
            }
            3 | 4 => {
                let id = self.instance.clone().unwrap_or_default();
                let key = params(&[("InstanceId", &id)]);
                if step == 3 {
                    let executing = "\"Status\":\"Executing\"";
                    self.call(
                        what,
                        "DescribeAIAgentInstance",
                        &key,
                        alibaba::signed_v1,
                        executing,
                    )
                    .map(drop)
                } else {
                    self.instance = None;
                    self.call(
                        what,
                        "StopAIAgentInstance",
                        &key,
                        alibaba::signed,
                        "\"RequestId\"",
                    )
                    .map(drop)
                }
            }
            5 => {
                self.started += 1;
                let key = Self::task_key(&self.tag, &self.started.to_string());
                self.cycle_task = None;
                self.start_task(&key, alibaba::signed_v1)?;
                self.cycle_task = Some(key);
                Ok(())
            }
            _ => {
                let key = self.cycle_task.take().unwrap_or_default();
                self.call(what, "StopAgent", &key, alibaba::signed, "\"RequestId\"")
                    .map(drop)
            }
        }
    }
}

/// Names of [`AuiMix`]'s steps, in order: the token storm's 3:1 of RTC and message-chat
/// tokens (the second through ICE upstream), then an agent instance started and stopped
/// through the upstream.
pub const AUI_CYCLE: [&str; 6] = [
    "getRtcAuthToken",
    "getRtcAuthToken",
    "getRtcAuthToken",
    "generateMessageChatToken",
    "startAIAgentInstance",
    "stopAIAgentInstance",
];

/// The AUI app server's cycle ([`AUI_CYCLE`]), with the bearer token of one login.
pub struct AuiMix {
    conn: Conn,
    host: String,
    token: String,
    rtc: Vec<u8>,
    chat: Vec<u8>,
    step: usize,
    instance: Option<String>,
}

const AUI_OK: &str = "\"code\":200";

impl AuiMix {
    /// Connects and logs in.
    pub fn new(mocks: &Arc<Mocks>, index: usize, timeout: Duration) -> Result<Self> {
        let host = mocks.addr("aui")?;
        let mut conn = Conn::new(&host, timeout);
        let login = aui::login(
            mocks.field("aui", "login_user")?,
            mocks.field("aui", "login_password")?,
        );
        let answer = ask(
            &mut conn,
            "login",
            &wire::raw(&login, &host),
            200,
            "\"token\"",
        )
        .map_err(setup)
        .context("AUI login")?;
        let token = field("login", &answer, "/token").map_err(setup)?;
        let user = format!("soak_user_{index}");
        let rtc = aui::call(
            aui::GET_RTC_AUTH_TOKEN,
            &json!({"user_id": user, "channel_id": "soak_channel"}),
            &token,
        );
        let chat = aui::call(
            aui::GENERATE_MESSAGE_CHAT_TOKEN,
            &json!({"ai_agent_id": "soak_agent", "user_id": user, "role": "admin", "expire": 1800}),
            &token,
        );
        Ok(AuiMix {
            rtc: wire::raw(&rtc, &host),
            chat: wire::raw(&chat, &host),
            conn,
            host,
            token,
            step: 0,
            instance: None,
        })
    }
}

impl Exchange for AuiMix {
    fn exchange(&mut self, _: u64) -> Result<(), Failure> {
        let mut step = self.step;
        if step == 5 && self.instance.is_none() {
            step = 0;
        }
        self.step = (step + 1) % AUI_CYCLE.len();
        let what = AUI_CYCLE[step];
        match step {
            0..=2 => ask(&mut self.conn, what, &self.rtc, 200, AUI_OK).map(drop),
            3 => ask(&mut self.conn, what, &self.chat, 200, AUI_OK).map(drop),
            4 => {
                let body = json!({"user_id": "soak_user", "workflow_type": "VoiceChat"});
                let request = aui::call(aui::START_AI_AGENT_INSTANCE, &body, &self.token);
                let raw = wire::raw(&request, &self.host);
                let answer = ask(&mut self.conn, what, &raw, 200, AUI_OK)?;
                self.instance = Some(field(what, &answer, "/ai_agent_instance_id")?);
                Ok(())
            }
            _ => {
                let id = self.instance.take().unwrap_or_default();
                let body = json!({"ai_agent_instance_id": id});
                let request = aui::call(aui::STOP_AI_AGENT_INSTANCE, &body, &self.token);
                let raw = wire::raw(&request, &self.host);
                ask(&mut self.conn, what, &raw, 200, AUI_OK).map(drop)
            }
        }
    }
}

/// checkSig and getconcurrentNumber pairs per session in [`DuixMix`]'s cycle.
pub const DUIX_PAIRS_PER_SESSION: usize = 5;

/// The DUIX mock's cycle: [`DUIX_PAIRS_PER_SESSION`] pairs of checkSig and getconcurrentNumber,
/// then one whole session on the WebSocket checkSig names (connect, `start`, a `question`
/// answered through the reference webhook, `stop`, `bye`, the closing handshake): one slot.
pub struct DuixMix {
    conn: Conn,
    timeout: Duration,
    check_sig: Vec<u8>,
    concurrent: Vec<u8>,
    ws_url: String,
    user: String,
    step: usize,
}

const DUIX_OK: &str = "\"code\":\"0\"";

impl DuixMix {
    /// Connects and asks checkSig once for the session WebSocket's URL.
    pub fn new(mocks: &Arc<Mocks>, index: usize, timeout: Duration) -> Result<Self> {
        let host = mocks.addr("duix")?;
        let mut conn = Conn::new(&host, timeout);
        let token = mocks.duix_token();
        let check_sig = wire::raw(&duix::check_sig(&token), &host);
        let app = params(&[("appId", mocks.field("duix", "app_id")?)]);
        let concurrent = duix::get(duix::GET_CONCURRENT_NUMBER, &app, Some(token));
        let answer = ask(&mut conn, "checkSig", &check_sig, 200, DUIX_OK)
            .map_err(setup)
            .context("DUIX checkSig")?;
        let ws_url = field("checkSig", &answer, "/data/wsService").map_err(setup)?;
        Ok(DuixMix {
            conn,
            timeout,
            check_sig,
            concurrent: wire::raw(&concurrent, &host),
            ws_url,
            user: format!("soak-user-{index}"),
            step: 0,
        })
    }

    fn session(&mut self) -> Result<(), Failure> {
        let what = "WebSocket session";
        let (host, _) = ws_target(&self.ws_url)
            .ok_or_else(|| Failure::Answer(format!("wsService {:?}", self.ws_url)))?;
        let stream = wire::connect(host, self.timeout).map_err(|e| Failure::io(what, &e))?;
        let (mut socket, _) =
            tungstenite::client::client(self.ws_url.as_str(), stream).map_err(|e| match e {
                tungstenite::HandshakeError::Failure(e) => ws_failure("WebSocket handshake", e),
                tungstenite::HandshakeError::Interrupted(_) => {
                    Failure::Timeout("WebSocket handshake: no answer in time".into())
                }
            })?;
        let start = json!({"type": "start", "conversationId": "soak", "userId": self.user});
        talk(&mut socket, "start", start, |f| {
            f["type"] == "start-complete"
        })?;
        let question = json!({"type": "question", "text": "how long is a soak?"});
        talk(&mut socket, "question", question, |f| {
            f["type"] == "answer" && f["isEnd"] == true
        })?;
        talk(&mut socket, "stop", json!({"type": "stop"}), |f| {
            f["type"] == "bye" && f["reason"] == "client-stop"
        })?;
        // The server's close frame (1000 after a client stop), our answer to it, the end.
        match socket.read() {
            Ok(Message::Close(Some(frame))) if u16::from(frame.code) == 1000 => {}
            Ok(other) => {
                return Err(Failure::Answer(format!(
                    "after bye: {other:?}, expected a close frame 1000"
                )))
            }
            Err(e) => return Err(ws_failure("after bye", e)),
        }
        loop {
            match socket.read() {
                Ok(_) => continue,
                Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
                Err(e) => return Err(ws_failure("closing handshake", e)),
            }
        }
    }
}

/// `host:port` and path of a `ws://` URL.
fn ws_target(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("ws://")?;
    let slash = rest.find('/')?;
    Some((&rest[..slash], &rest[slash..]))
}

type Socket = tungstenite::WebSocket<std::net::TcpStream>;

fn ws_failure(what: &str, error: tungstenite::Error) -> Failure {
    match error {
        tungstenite::Error::Io(e) => Failure::io(what, &e),
        other => Failure::Io(format!("{what}: {other}")),
    }
}

/// Frames read for one message's answer at most.
const MAX_FRAMES: usize = 256;

/// Sends `frame` and reads frames until `done` says one is the answer; an `error` or a `bye`
/// before it is a failure.
fn talk(
    socket: &mut Socket,
    what: &str,
    frame: Value,
    done: impl Fn(&Value) -> bool,
) -> Result<(), Failure> {
    socket
        .send(Message::text(frame.to_string()))
        .map_err(|e| ws_failure(what, e))?;
    for _ in 0..MAX_FRAMES {
        let text = match socket.read().map_err(|e| ws_failure(what, e))? {
            Message::Text(text) => text,
            Message::Close(close) => {
                return Err(Failure::Answer(format!("{what}: closed: {close:?}")))
            }
            _ => continue,
        };
        let frame: Value = serde_json::from_str(text.as_str())
            .map_err(|_| Failure::Answer(format!("{what}: a frame that is not JSON: {text}")))?;
        if done(&frame) {
            return Ok(());
        }
        if matches!(frame["type"].as_str(), Some("error" | "bye")) {
            return Err(Failure::Answer(format!("{what}: {frame}")));
        }
    }
    Err(Failure::Answer(format!(
        "{what}: no answer in {MAX_FRAMES} frames"
    )))
}

impl Exchange for DuixMix {
    fn exchange(&mut self, _: u64) -> Result<(), Failure> {
        let step = self.step;
        self.step = (step + 1) % (2 * DUIX_PAIRS_PER_SESSION + 1);
        match step {
            s if s == 2 * DUIX_PAIRS_PER_SESSION => self.session(),
            s if s % 2 == 0 => {
                ask(&mut self.conn, "checkSig", &self.check_sig, 200, DUIX_OK).map(drop)
            }
            _ => ask(
                &mut self.conn,
                "getconcurrentNumber",
                &self.concurrent,
                200,
                DUIX_OK,
            )
            .map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ws_service_url_splits_into_host_and_path() {
        assert_eq!(
            ws_target("ws://127.0.0.1:9/duix-openapi-v2/ws?sig=a.b"),
            Some(("127.0.0.1:9", "/duix-openapi-v2/ws?sig=a.b"))
        );
        assert_eq!(ws_target("wss://x/y"), None);
    }

    #[test]
    fn an_answer_without_its_marker_fails_and_says_what_it_was() {
        let answer = Answer {
            status: 200,
            body: br#"{"code":"1005"}"#.to_vec(),
        };
        match expect("checkSig", &answer, 200, DUIX_OK) {
            Err(Failure::Answer(m)) => assert!(m.contains("checkSig") && m.contains("1005"), "{m}"),
            other => panic!("{other:?}"),
        }
        let ok = Answer {
            status: 200,
            body: br#"{"code":"0"}"#.to_vec(),
        };
        assert!(expect("checkSig", &ok, 200, DUIX_OK).is_ok());
    }
}
