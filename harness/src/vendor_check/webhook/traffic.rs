//! The questions put to the vendor: multi-turn conversations sent as the DUIX platform sends
//! them (protocol::request::duix::webhook_question, the same builder the DUIX mock and the
//! duix-webhook load scenario use), in JSON form and in the SSE form, each answer kept as an
//! [`Exchange`] for the rules to judge.

use super::super::send::{self, Answer, Arrival, Missing, Watch};
use super::Setup;
use protocol::request::duix::{webhook_question, Question};
use protocol::request::HttpRequest;
use serde_json::{json, Value};
use std::sync::Arc;

/// Previous turns the platform puts into dh-context at the most.
const CONTEXT_TURNS: usize = 10;

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The dh-conversation-id sent.
    pub conversation_id: String,
    /// The turn in its conversation, from 0.
    pub turn: usize,
    /// Asked for the stream alone (`Accept: text/event-stream`).
    pub stream: bool,
    pub answer: Result<Answer, Missing>,
}

/// Sends every conversation, `--concurrency` at a time (and at `--rate` a second when set).
pub async fn converse(setup: &Arc<Setup>, client: &reqwest::Client, stream: bool) -> Vec<Exchange> {
    let requests = if stream {
        setup.sse_requests
    } else {
        setup.common.requests
    };
    let turns = setup.turns.max(1);
    let conversations = requests.div_ceil(turns);
    send::conversations(conversations, setup.common.concurrency, |c| {
        let (setup, client) = (setup.clone(), client.clone());
        let turns = turns.min(requests - c * turns);
        async move { conversation(&setup, &client, c, turns, stream).await }
    })
    .await
}

/// One conversation of `turns` questions with the same id and a growing dh-context.
async fn conversation(
    setup: &Setup,
    client: &reqwest::Client,
    index: usize,
    turns: usize,
    stream: bool,
) -> Vec<Exchange> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut history: Vec<Value> = Vec::new();
    let mut exchanges = Vec::new();
    for turn in 0..turns {
        let question = &setup.questions[(index * 7 + turn) % setup.questions.len()];
        let context = match history.is_empty() {
            true => "{}".to_string(),
            false => json!({ "turns": history }).to_string(),
        };
        let request = webhook_question(
            &Question {
                sid: &setup.sid,
                dh_code: &setup.dh_code,
                question,
                conversation_id: &id,
                context: &context,
            },
            stream,
            None,
        );
        setup.common.wait_turn().await;
        let answer = send(client, setup, request, &setup.headers).await;
        // As the platform does: only answered turns, the last ten, go into dh-context.
        if let Some(text) = answer
            .as_ref()
            .ok()
            .filter(|a| a.status == 200)
            .map(answer_text)
        {
            history.push(json!({"question": question, "answer": text}));
            if history.len() > CONTEXT_TURNS {
                history.remove(0);
            }
        }
        exchanges.push(Exchange {
            conversation_id: id.clone(),
            turn,
            stream,
            answer,
        });
    }
    exchanges
}

/// Sends `request` to the vendor with `headers`, reads the whole answer and times it (the
/// first event; a stream is over at its isEnd event, as the platform reads it).
pub async fn send(
    client: &reqwest::Client,
    setup: &Setup,
    request: HttpRequest,
    headers: &[(String, String)],
) -> Result<Answer, Missing> {
    send::send(client, &setup.url, request, headers, &mut DuixWatch).await
}

/// The first `data:` line, and the end at an isEnd event.
struct DuixWatch;

impl Watch for DuixWatch {
    fn arrived(&mut self, body: &[u8], fresh: usize) -> Arrival {
        // Look for `data:` in the new bytes and the four before them, not the whole body again.
        let from = body.len().saturating_sub(fresh + 4);
        let new = &body[body.len() - fresh..];
        Arrival {
            first_mark: body[from..].windows(5).any(|w| w == b"data:"),
            ended: new.windows(5).any(|w| w == b"isEnd") && super::rules::stream_ended(body),
        }
    }
}

/// The answer's text for the next turn's dh-context: `data.answer(.answer)`, or the stream's
/// pieces joined.
pub fn answer_text(answer: &Answer) -> String {
    if answer.is_sse {
        return super::rules::sse_events(&answer.body)
            .ok()
            .map(|events| events.iter().filter_map(|e| e["answer"].as_str()).collect())
            .unwrap_or_default();
    }
    let Ok(json) = serde_json::from_slice::<Value>(&answer.body) else {
        return String::new();
    };
    let answer = &json["data"]["answer"];
    let object = match answer {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    object["answer"].as_str().unwrap_or_default().to_string()
}
