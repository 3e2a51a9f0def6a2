//! DUIX scenarios: `duix-session-churn` (the platform's HTTP API and its session WebSocket) and
//! `duix-webhook` (the platform's calls to a vendor's dialogue webhook).
//!
//! goose has no WebSocket client, so a session is driven with tokio-tungstenite here; each
//! exchange (start to start-complete, question to the final answer, stop to bye) is timed like
//! an HTTP answer, validated against `schemas/duix/ws/*`, recorded in the sink and as a goose
//! custom request with its own row (`duix WS question`, ...).

use crate::aui::custom;
use crate::exchange::{send, Expect, Failure};
use crate::sink::{Outcome, Sample};
use crate::{step, unique_id, user_rng, Plan};
use futures_util::{SinkExt, StreamExt};
use goose::goose::{GooseUser, Scenario, TransactionResult};
use protocol::request::duix as request;
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

/// Questions per session.
const QUESTIONS_PER_SESSION: usize = 3;
/// Turns of a webhook conversation before it starts afresh.
const TURNS_PER_CONVERSATION: usize = 5;
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

/// checkSig, a WebSocket session with three questions, stop; getconcurrentNumber beside it.
pub fn session_churn(plan: &Arc<Plan>) -> Scenario {
    let session = step!(plan, "session", session)
        .set_weight(3)
        .expect("a positive weight");
    Scenario::new("duix-session-churn")
        .register_transaction(session)
        .register_transaction(step!(plan, "getconcurrentNumber", concurrent_number))
}

/// dh-question calls to the vendor webhook, in multi-turn conversations.
pub fn webhook(plan: &Arc<Plan>) -> Scenario {
    Scenario::new("duix-webhook").register_transaction(step!(plan, "dh-question", webhook_turn))
}

/// `code` "0" and `success` true: the DUIX success envelope.
fn duix_success(body: &Value) -> Result<(), String> {
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

/// A fresh token of the plan's app, valid for 30 minutes.
fn token(plan: &Plan) -> String {
    let app = &plan.credentials.duix_app;
    let now = now_secs();
    protocol::duix::sign_token(&app.id, &app.secret, now, now + 1800)
}

/// This user's random source, made on first use.
fn rng<'u>(user: &'u mut GooseUser, plan: &Plan) -> &'u mut StdRng {
    if user.get_session_data::<StdRng>().is_none() {
        let rng = user_rng(plan, user);
        user.set_session_data(rng);
    }
    user.get_session_data_unchecked_mut::<StdRng>()
}

async fn concurrent_number(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let base = plan.target("duix").map_err(custom)?;
    let query = [("appId".to_string(), plan.credentials.duix_app.id.clone())];
    let get = request::get(request::GET_CONCURRENT_NUMBER, &query, Some(token(plan)));
    let expect = Expect {
        status: 200,
        schema: "duix/getconcurrentNumber.response",
        success: &duix_success,
        sse_event: None,
    };
    send(user, plan, base, get, &expect).await?;
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn session(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let base = plan.target("duix").map_err(custom)?;
    let expect = Expect {
        status: 200,
        schema: "duix/checkSig.response",
        success: &duix_success,
        sse_event: None,
    };
    let answer = send(user, plan, base, request::check_sig(&token(plan)), &expect).await?;
    let ws_url = answer
        .pointer("/data/wsService")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut socket = connect(user, plan, &ws_url).await?;
    let outcome = converse(user, plan, &mut socket).await;
    let _ = socket.close(None).await;
    outcome
}

/// Opens the session WebSocket, timed as `duix WS connect`.
async fn connect(user: &mut GooseUser, plan: &Plan, url: &str) -> Result<Socket, Failure> {
    let due = plan.slot(user.weighted_users_index).await?;
    let sent = Instant::now();
    let connected = tokio::time::timeout(plan.timeout, tokio_tungstenite::connect_async(url)).await;
    let (result, outcome) = match connected {
        Ok(Ok((socket, _))) => (Ok(socket), Ok(())),
        Ok(Err(e)) => (Err(()), Err(Some(format!("WebSocket connect failed: {e}")))),
        Err(_) => (Err(()), Err(None)),
    };
    record(user, plan, "duix WS connect", due, sent, outcome.clone()).await?;
    result.map_err(|()| custom("WebSocket connect failed"))
}

/// start, the questions, stop.
async fn converse(user: &mut GooseUser, plan: &Plan, socket: &mut Socket) -> TransactionResult {
    let conversation = unique_id(rng(user, plan), "conv");
    let dh_code = &plan.credentials.duix_dialogue.dh_code;
    let start = json!({"type": "start", "conversationId": dh_code, "userId": conversation});
    exchange(
        user,
        plan,
        socket,
        "duix WS start",
        start,
        &|frame| match frame["type"].as_str() {
            Some("start-complete") => Some(Ok(())),
            _ => None,
        },
    )
    .await?;
    for _ in 0..QUESTIONS_PER_SESSION {
        let text = QUESTIONS[rng(user, plan).gen_range(0..QUESTIONS.len())];
        let question = json!({"type": "question", "text": text});
        exchange(
            user,
            plan,
            socket,
            "duix WS question",
            question,
            &|frame| match (frame["type"].as_str(), frame["isEnd"].as_bool()) {
                (Some("answer"), Some(true)) => Some(Ok(())),
                _ => None,
            },
        )
        .await?;
    }
    exchange(
        user,
        plan,
        socket,
        "duix WS stop",
        json!({"type": "stop"}),
        &|frame| match (frame["type"].as_str(), frame["reason"].as_str()) {
            (Some("bye"), Some("client-stop")) => Some(Ok(())),
            (Some("bye"), reason) => Some(Err(format!("bye {reason:?}, expected client-stop"))),
            _ => None,
        },
    )
    .await
}

/// What a frame means to an exchange: `None` read on, `Some` done (good or not).
type Until<'a> = &'a (dyn Fn(&Value) -> Option<Result<(), String>> + Sync);

/// Sends `frame` and reads frames until `until` says the exchange is done; every frame must
/// match its schema, and an `error` or early `bye` ends it as a failure.
async fn exchange(
    user: &mut GooseUser,
    plan: &Plan,
    socket: &mut Socket,
    route: &'static str,
    frame: Value,
    until: Until<'_>,
) -> TransactionResult {
    let due = plan.slot(user.weighted_users_index).await?;
    let sent = Instant::now();
    let outcome = match tokio::time::timeout(plan.timeout, talk(socket, frame, until)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(Some(why)),
        Err(_) => Err(None),
    };
    record(user, plan, route, due, sent, outcome).await
}

async fn talk(socket: &mut Socket, frame: Value, until: Until<'_>) -> Result<(), String> {
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
            return done;
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
    route: &'static str,
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
        Some(why) => Err(custom(why)),
    }
}

/// One user's conversation with the vendor webhook.
#[derive(Clone)]
struct Conversation {
    id: String,
    turns: Vec<(String, String)>,
    rng: StdRng,
}

async fn webhook_turn(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let url = plan.target("webhook").map_err(custom)?.to_string();
    if user.get_session_data::<Conversation>().is_none() {
        let rng = user_rng(plan, user);
        user.set_session_data(Conversation {
            id: String::new(),
            turns: Vec::new(),
            rng,
        });
    }
    let talk = user.get_session_data_unchecked_mut::<Conversation>();
    if talk.id.is_empty() || talk.turns.len() >= TURNS_PER_CONVERSATION {
        talk.id = uuid::Uuid::from_u128(talk.rng.gen()).to_string();
        talk.turns.clear();
    }
    let question = QUESTIONS[talk.rng.gen_range(0..QUESTIONS.len())].to_string();
    let context = dh_context(&talk.turns);
    let id = talk.id.clone();
    let built = request::webhook_question(
        &request::Question {
            sid: &plan.credentials.duix_dialogue.sid,
            dh_code: &plan.credentials.duix_dialogue.dh_code,
            question: &question,
            conversation_id: &id,
            context: &context,
        },
        false,
        plan.credentials.webhook_bearer.as_deref(),
    );
    let same_conversation = |body: &Value| webhook_success(body, &id);
    let expect = Expect {
        status: 200,
        schema: "duix/webhook.response",
        success: &same_conversation,
        sse_event: Some("duix/webhook.sse-event"),
    };
    let answer = send(user, plan, &url, built, &expect).await?;
    let text = answer_text(&answer);
    let talk = user.get_session_data_unchecked_mut::<Conversation>();
    talk.turns.push((question, text));
    Ok(())
}

/// `success` true and `data.conversationId` the one sent.
fn webhook_success(body: &Value, conversation_id: &str) -> Result<(), String> {
    if body.get("success") != Some(&Value::Bool(true)) {
        return Err(format!("success {:?}, expected true", body.get("success")));
    }
    match body.pointer("/data/conversationId").and_then(Value::as_str) {
        Some(id) if id == conversation_id => Ok(()),
        other => Err(format!(
            "data.conversationId {other:?}, not the dh-conversation-id sent"
        )),
    }
}

/// The previous turns as the platform sends them: `{}`, then `{"turns":[{question,answer}]}`.
fn dh_context(turns: &[(String, String)]) -> String {
    if turns.is_empty() {
        return "{}".into();
    }
    let turns: Vec<Value> = turns
        .iter()
        .map(|(q, a)| json!({"question": q, "answer": a}))
        .collect();
    json!({ "turns": turns }).to_string()
}

/// The answer text: `data.answer` is a string (maybe holding JSON) or an object with `answer`;
/// a streamed answer is already joined under `answer`.
fn answer_text(body: &Value) -> String {
    if let Some(streamed) = body
        .get("events")
        .and(body.get("answer"))
        .and_then(Value::as_str)
    {
        return streamed.to_string();
    }
    let answer = &body["data"]["answer"];
    let object = match answer {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).unwrap_or(Value::String(text.clone()))
        }
        other => other.clone(),
    };
    match &object {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("answer")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_lists_previous_turns() {
        assert_eq!(dh_context(&[]), "{}");
        let context = dh_context(&[("q".into(), "a".into())]);
        let parsed: Value = serde_json::from_str(&context).unwrap();
        assert_eq!(parsed["turns"][0]["answer"], "a");
    }

    #[test]
    fn the_answer_is_read_in_both_forms() {
        let object = json!({"data": {"answer": {"answer": "hi"}}});
        assert_eq!(answer_text(&object), "hi");
        let text = json!({"data": {"answer": "{\"answer\":\"hi\"}"}});
        assert_eq!(answer_text(&text), "hi");
    }

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

    #[test]
    fn another_conversation_id_is_a_failure() {
        let body = json!({"success": true, "data": {"conversationId": "b"}});
        assert!(webhook_success(&body, "a").is_err());
        assert!(webhook_success(&body, "b").is_ok());
    }
}
