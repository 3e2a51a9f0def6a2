//! DUIX operations (`duix.*`): the platform's HTTP API with fresh HS256 JWTs of the user's app,
//! and its session WebSocket.
//!
//! goose has no WebSocket client, so a session is driven with tokio-tungstenite here; each
//! exchange (connect, start to start-complete, question to the final answer, stop to bye) is
//! timed like an HTTP answer, validated against `schemas/duix/ws/*`, recorded in the sink and as
//! a goose custom request with its own row (`duix WS question`, ...).

use crate::exchange::{send_paced, Failure, Pace};
use crate::journey::user::Socket;
use crate::ops::{self, Call, WsStep};
use crate::sink::{Outcome, Sample};
use crate::Plan;
use futures_util::{SinkExt, StreamExt};
use goose::goose::{GooseUser, TransactionResult};
use protocol::request::duix as request;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

/// Bytes of frames read for one exchange at the most: a longer answer is a failure (the
/// timeout bounds the time; this bounds the memory, however finely the answer is streamed).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Questions as users put them: Chinese and English, a word to a paragraph, emoji, quotes.
pub const QUESTIONS: &[&str] = &[
    "你好",
    "who are you?",
    "今天上海的天气怎么样？",
    "Can you tell me about your return policy? I bought a jacket last week and it does not fit.",
    "推荐一款适合老人用的手机，预算两千元左右。",
    "price?",
    "Say \"hello\" to my friend 👋",
    "请用三句话介绍一下你们公司的主营业务，以及售后服务的联系方式。",
    "Two lines:\nfirst, then\nsecond.",
];

/// The rows of a whole session (`duix.session`).
pub const SESSION_ROWS: [&str; 4] = [
    "duix WS connect",
    "duix WS start",
    "duix WS question",
    "duix WS stop",
];

/// The row of a WebSocket step (closing is not timed).
pub(crate) fn ws_row(step: WsStep) -> Option<&'static str> {
    match step {
        WsStep::Connect => Some(SESSION_ROWS[0]),
        WsStep::Start => Some(SESSION_ROWS[1]),
        WsStep::Question => Some(SESSION_ROWS[2]),
        WsStep::Stop => Some(SESSION_ROWS[3]),
        WsStep::Close => None,
    }
}

/// `code` "0" and `success` true: the DUIX success envelope.
pub fn duix_success(body: &Value) -> Result<(), String> {
    match (body.get("code"), body.get("success")) {
        (Some(code), Some(Value::Bool(true))) if code == "0" => Ok(()),
        (code, success) => Err(format!(
            "code {code:?}, success {success:?}: expected \"0\", true"
        )),
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A fresh token of the user's app, valid for 30 minutes.
fn token(c: &Call<'_>) -> String {
    let app = &c.state.credentials.duix_app;
    let now = now_secs();
    protocol::duix::sign_token(&app.id, &app.secret, now, now + 1800)
}

/// `duix.checkSig`: the answer's `wsService` is kept for the WebSocket steps.
pub(crate) async fn check_sig(
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let sig = fields.get("sig").map_or_else(|| token(c), ops::text);
    let mut get = request::check_sig(&sig);
    if let Some(route) = c.route {
        get.route = route.to_string();
    }
    let answer = send_get(c, get, "duix/checkSig.response").await?;
    let url = answer
        .pointer("/data/wsService")
        .cloned()
        .unwrap_or(Value::Null);
    c.state.captures.insert("ws_url".into(), url);
    Ok(answer)
}

/// A v1 GET (`getconcurrentNumber`, `getconcurrentList`, `sessionStop`) with a fresh token;
/// `appId` defaults to the user's app.
pub(crate) async fn get(
    path: &'static str,
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let mut query: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.clone(), ops::text(v)))
        .collect();
    if path != "/duix-openapi-v2/v1/sessionStop" && !fields.contains_key("appId") {
        query.push(("appId".into(), c.state.credentials.duix_app.id.clone()));
    }
    let mut get = request::get(path, &query, Some(token(c)));
    if let Some(route) = c.route {
        get.route = route.to_string();
    }
    let name = path.rsplit('/').next().unwrap_or_default();
    let schema = match name {
        "getconcurrentNumber" => "duix/getconcurrentNumber.response",
        "getconcurrentList" => "duix/getconcurrentList.response",
        "distroyCallSessionsByAppId" => "duix/distroyCallSessionsByAppId.response",
        _ => "duix/sessionStop.response",
    };
    send_get(c, get, schema).await
}

async fn send_get(
    c: &mut Call<'_>,
    get: protocol::request::HttpRequest,
    schema: &'static str,
) -> Result<Value, Failure> {
    let base = c.plan.target("duix").map_err(ops::custom)?.to_string();
    let extra = c.extra;
    let rule = |body: &Value| extra.judge(body, 200, duix_success);
    let expect = extra.expect(200, schema, &rule);
    send_paced(c.user, c.plan, &base, get, &expect, c.pace).await
}

/// One step on the session WebSocket.
pub(crate) async fn ws(
    step: WsStep,
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    match step {
        WsStep::Connect => {
            if let Some(mut old) = c.state.socket.take() {
                let _ = old.close(None).await;
            }
            let url = ops::field(&fields, "url");
            let socket = connect(c.user, c.plan, &url, c.pace).await?;
            c.state.socket = Some(socket);
            Ok(Value::Null)
        }
        WsStep::Close => {
            if let Some(mut socket) = c.state.socket.take() {
                let _ = socket.close(None).await;
            }
            Ok(Value::Null)
        }
        WsStep::Start => {
            let dh_code = c.plan.credentials.duix_dialogue.dh_code.clone();
            let conversation = fields.get("conversationId").map_or(dh_code, ops::text);
            let start = json!({"type": "start", "conversationId": conversation, "userId": ops::field(&fields, "userId")});
            let frame = exchange_on(c, SESSION_ROWS[1], start, &started).await?;
            c.state
                .captures
                .insert("session_id".into(), frame["sessionId"].clone());
            Ok(frame)
        }
        WsStep::Question => {
            let text = match fields.get("text") {
                Some(text) => ops::text(text),
                None => QUESTIONS[c.state.rng.gen_range(0..QUESTIONS.len())].to_string(),
            };
            let question = json!({"type": "question", "text": text});
            exchange_on(c, SESSION_ROWS[2], question, &answered).await
        }
        WsStep::Stop => exchange_on(c, SESSION_ROWS[3], json!({"type": "stop"}), &said_bye).await,
    }
}

/// `duix.session`: connect to the last checkSig's WebSocket, start, the questions, stop, close.
pub(crate) async fn session(
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let url = c
        .state
        .captures
        .get("ws_url")
        .map(ops::text)
        .unwrap_or_default();
    let questions = ops::field(&fields, "questions").parse::<u32>().unwrap_or(3);
    let connect = Map::from_iter([("url".to_string(), Value::String(url))]);
    ws(WsStep::Connect, c, connect).await?;
    let outcome = async {
        ws(WsStep::Start, c, fields.clone()).await?;
        for _ in 0..questions {
            ws(WsStep::Question, c, Map::new()).await?;
        }
        ws(WsStep::Stop, c, Map::new()).await
    }
    .await;
    ws(WsStep::Close, c, Map::new()).await?;
    outcome
}

fn started(frame: &Value) -> Option<Result<(), String>> {
    match frame["type"].as_str() {
        Some("start-complete") => Some(Ok(())),
        _ => None,
    }
}

fn answered(frame: &Value) -> Option<Result<(), String>> {
    match (frame["type"].as_str(), frame["isEnd"].as_bool()) {
        (Some("answer"), Some(true)) => Some(Ok(())),
        _ => None,
    }
}

fn said_bye(frame: &Value) -> Option<Result<(), String>> {
    match (frame["type"].as_str(), frame["reason"].as_str()) {
        (Some("bye"), Some("client-stop")) => Some(Ok(())),
        (Some("bye"), reason) => Some(Err(format!("bye {reason:?}, expected client-stop"))),
        _ => None,
    }
}

/// An exchange on the user's open socket; a step without one fails saying so.
async fn exchange_on(
    c: &mut Call<'_>,
    row: &'static str,
    frame: Value,
    until: Until<'_>,
) -> Result<Value, Failure> {
    let Some(mut socket) = c.state.socket.take() else {
        return Err(ops::custom(format!(
            "{row}: no session WebSocket open (a duix.ws.connect step first)"
        )));
    };
    let row = c.route.map_or(row.to_string(), str::to_string);
    let result = exchange(
        c.user,
        c.plan,
        &mut socket,
        &row,
        frame,
        until,
        c.pace,
        c.extra,
    )
    .await;
    c.state.socket = Some(socket);
    result
}

/// Opens the session WebSocket, timed as `duix WS connect`.
async fn connect(
    user: &mut GooseUser,
    plan: &Plan,
    url: &str,
    pace: Pace,
) -> Result<Socket, Failure> {
    let due = due(user, plan, pace).await?;
    let sent = Instant::now();
    let connected = tokio::time::timeout(plan.timeout, tokio_tungstenite::connect_async(url)).await;
    let (result, outcome) = match connected {
        Ok(Ok((socket, _))) => (Ok(socket), Ok(())),
        Ok(Err(e)) => (Err(()), Err(Some(format!("WebSocket connect failed: {e}")))),
        Err(_) => (Err(()), Err(None)),
    };
    record(user, plan, SESSION_ROWS[0], due, sent, outcome.clone()).await?;
    result.map_err(|()| ops::custom("WebSocket connect failed"))
}

/// The schedule's slot, or none at [`Pace::Now`].
async fn due(user: &GooseUser, plan: &Plan, pace: Pace) -> Result<Option<Instant>, Failure> {
    match pace {
        Pace::Scheduled => plan.slot(user.weighted_users_index).await,
        Pace::Now => Ok(None),
    }
}

/// What a frame means to an exchange: `None` read on, `Some` done (good or not).
type Until<'a> = &'a (dyn Fn(&Value) -> Option<Result<(), String>> + Sync);

/// Sends `frame` and reads frames until `until` says the exchange is done; every frame must
/// match its schema, and an `error` or early `bye` ends it as a failure. The last frame, which
/// must also show what the step expects.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    user: &mut GooseUser,
    plan: &Plan,
    socket: &mut Socket,
    route: &str,
    frame: Value,
    until: Until<'_>,
    pace: Pace,
    extra: &crate::journey::Extra,
) -> Result<Value, Failure> {
    let due = due(user, plan, pace).await?;
    let sent = Instant::now();
    let outcome = match tokio::time::timeout(plan.timeout, talk(socket, frame, until)).await {
        Ok(Ok(last)) => extra.check(&last).map(|()| last).map_err(Some),
        Ok(Err(why)) => Err(Some(why)),
        Err(_) => Err(None),
    };
    let last = outcome.as_ref().ok().cloned().unwrap_or(Value::Null);
    record(user, plan, route, due, sent, outcome.map(drop)).await?;
    Ok(last)
}

async fn talk(socket: &mut Socket, frame: Value, until: Until<'_>) -> Result<Value, String> {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .map_err(|e| format!("send failed: {e}"))?;
    let mut read = 0;
    while read <= MAX_ANSWER_BYTES {
        let message = match socket.next().await {
            Some(Ok(message)) => message,
            Some(Err(e)) => return Err(format!("connection failed: {e}")),
            None => return Err("connection closed before the answer".into()),
        };
        let text = match message {
            Message::Text(text) => {
                read += text.len();
                text
            }
            Message::Close(close) => return Err(format!("closed before the answer: {close:?}")),
            _ => continue,
        };
        let frame: Value =
            serde_json::from_str(&text).map_err(|_| "a frame that is not JSON".to_string())?;
        let kind = frame["type"].as_str().unwrap_or_default().to_string();
        check_frame(&kind, &frame)?;
        if let Some(done) = until(&frame) {
            return done.map(|()| frame);
        }
        match kind.as_str() {
            "error" => return Err(format!("error {} {}", frame["code"], frame["message"])),
            "bye" => return Err(format!("bye {} before the answer", frame["reason"])),
            _ => {}
        }
    }
    Err(format!(
        "no end of the answer in {MAX_ANSWER_BYTES} bytes of frames"
    ))
}

/// A frame against `duix/ws/<type>`.
fn check_frame(kind: &str, frame: &Value) -> Result<(), String> {
    let name = match kind {
        "start-complete" => "duix/ws/start-complete",
        "answer" => "duix/ws/answer",
        "error" => "duix/ws/error",
        "bye" => "duix/ws/bye",
        other => return Err(format!("a frame of unknown type {other:?}")),
    };
    let schema = schemas::registry().get(name).ok_or("schema missing")?;
    match schema.violations(frame).first() {
        Some(v) => Err(format!(
            "breaks {name} at {}: {}",
            v.instance_path, v.message
        )),
        None => Ok(()),
    }
}

/// Records a WebSocket exchange in the sink and as a goose custom request; `Err(None)` is a
/// timeout. A failure fails the transaction.
async fn record(
    user: &mut GooseUser,
    plan: &Plan,
    route: &str,
    due: Option<Instant>,
    sent: Instant,
    outcome: Result<(), Option<String>>,
) -> TransactionResult {
    let finished = Instant::now();
    let why = match &outcome {
        Ok(()) => None,
        Err(Some(why)) => Some(why.clone()),
        Err(None) => Some(format!("timed out after {} ms", plan.timeout.as_millis())),
    };
    plan.sink.record(&Sample {
        route,
        due,
        sent,
        finished,
        outcome: match &outcome {
            Ok(()) => Outcome::Ok,
            Err(Some(why)) => Outcome::Failed(why),
            Err(None) => Outcome::TimedOut,
        },
    });
    let elapsed = finished - sent;
    user.record_custom_request_duration("WS", route, elapsed, why.is_none(), None, why.as_deref())
        .await?;
    match why {
        None => Ok(()),
        Some(why) => Err(ops::custom(why)),
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn wss_urls_are_dialled_with_tls_compiled_in() {
        // A closed local port: the dial must fail on the socket, not on "TLS not compiled in".
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let error = tokio_tungstenite::connect_async(format!("wss://127.0.0.1:{port}/ws"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, tokio_tungstenite::tungstenite::Error::Io(_)),
            "{error}"
        );
    }
}
