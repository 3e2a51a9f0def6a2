//! The questions put to the vendor: multi-turn conversations sent as the DUIX platform sends
//! them (protocol::request::duix::webhook_question, the same builder the DUIX mock and the
//! duix-webhook load scenario use), in JSON form and in the SSE form, each answer kept as an
//! [`Exchange`] for the rules to judge.

use super::Setup;
use protocol::request::duix::{webhook_question, Question};
use protocol::request::HttpRequest;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The most of an answer that is read: the DUIX platform refuses larger answers.
pub const MAX_BODY: usize = 1024 * 1024;

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

/// An answer: status, whether it is an event stream, the body, its times.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub is_sse: bool,
    pub body: Vec<u8>,
    /// Until the whole body was read.
    pub elapsed: Duration,
    /// Until the first `data:` line arrived (event streams).
    pub first_event: Option<Duration>,
}

/// No whole answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    TimedOut,
    Failed(String),
}

/// Sends every conversation, `concurrency` at a time (and at `rate` a second when set).
pub async fn converse(setup: &Arc<Setup>, client: &reqwest::Client, stream: bool) -> Vec<Exchange> {
    let requests = if stream {
        setup.sse_requests
    } else {
        setup.requests
    };
    let conversations = requests.div_ceil(setup.turns.max(1));
    let gate = Arc::new(Semaphore::new(setup.concurrency));
    let mut tasks = Vec::new();
    for c in 0..conversations {
        let turns = setup.turns.min(requests - c * setup.turns);
        let (setup, client, gate) = (setup.clone(), client.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            Some(conversation(&setup, &client, c, turns, stream).await)
        }));
    }
    let mut exchanges = Vec::new();
    for task in tasks {
        if let Ok(Some(done)) = task.await {
            exchanges.extend(done);
        }
    }
    exchanges
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
        if let Some(schedule) = &setup.schedule {
            schedule.wait_turn(0, || false).await;
        }
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

/// Sends `request` to the vendor with `headers`, reads the whole answer and times it.
pub async fn send(
    client: &reqwest::Client,
    setup: &Setup,
    request: HttpRequest,
    headers: &[(String, String)],
) -> Result<Answer, Missing> {
    let mut call = client.post(request.url(&setup.url)).body(request.body);
    // The user's headers replace the platform's of the same name; every value stays out of
    // Debug output (they may be credentials).
    let own = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let platform = request.headers.iter().filter(|(n, _)| !own(n));
    for (name, value) in platform.chain(headers) {
        let Ok(mut value) = reqwest::header::HeaderValue::from_str(value) else {
            continue;
        };
        value.set_sensitive(true);
        call = call.header(name.as_str(), value);
    }
    let started = Instant::now();
    let mut response = call.send().await.map_err(|e| missing(&e))?;
    let status = response.status().as_u16();
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    let (mut body, mut first_event) = (Vec::new(), None);
    while let Some(chunk) = response.chunk().await.map_err(|e| missing(&e))? {
        // Look for `data:` in the new bytes and the four before them, not the whole body again.
        let from = body.len().saturating_sub(4);
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(Missing::Failed(format!(
                "an answer over {} KiB, which the platform refuses",
                MAX_BODY / 1024
            )));
        }
        if is_sse && first_event.is_none() && body[from..].windows(5).any(|w| w == b"data:") {
            first_event = Some(started.elapsed());
        }
        // As the platform does, a stream is over at its isEnd event, closed or not.
        if is_sse && chunk.windows(5).any(|w| w == b"isEnd") && super::rules::stream_ended(&body) {
            break;
        }
    }
    Ok(Answer {
        status,
        is_sse,
        body,
        elapsed: started.elapsed(),
        first_event,
    })
}

/// A transport error in words, without the URL (it may carry a key): the load scenarios' words.
fn missing(error: &reqwest::Error) -> Missing {
    match scenarios::exchange::transport_failure(error) {
        scenarios::exchange::Broken::TimedOut => Missing::TimedOut,
        scenarios::exchange::Broken::Reason(why) => Missing::Failed(why),
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
