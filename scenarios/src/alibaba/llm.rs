//! `llm.chat` (the built-in `alibaba-llm` scenario's step): an Alibaba agent's calls to a
//! vendor's LLM, as the platform makes them (`protocol::alibaba::llm`): streamed chat completions
//! in multi-turn conversations (Chinese and English, the history growing to the 20-record cap,
//! then a new conversation), each with its `extendData`.
//!
//! A streamed answer has two times that matter, so each gets its own row, in agentproof's
//! verdict and in goose's report (custom requests, as the DUIX WebSocket answers are):
//! [`TTFT_ROUTE`], until the first content token (silence on a call), and [`END_ROUTE`], until
//! `data: [DONE]` (a step's `name` gets ` ttft` and ` end` added). An SLO can be set on
//! either (`--slo 'ttft p95<800ms'`). goose's own row for the POST times it to the answer's
//! headers. A stream that breaks the contract (not an event
//! stream, a chunk without `choices`, no `finish_reason` or `[DONE]`) fails both rows with the
//! reason.

use crate::exchange::{transport_failure, Broken, Failure, Pace};
use crate::journey::user::LlmTalk;
use crate::ops::{self, Call};
use crate::sink::{Outcome, Sample};
use goose::goose::{GooseMethod, GooseRequest};
use protocol::alibaba::llm::{
    chat_completion, delta_content, endpoint_url, messages, ChatCall, Event, ExtendData, Message,
    Sampling, StreamReader, Transcript, END_ROUTE, TTFT_ROUTE,
};
use rand::Rng;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// What users say to the agent: Chinese and English, a word to a paragraph, as speech
/// recognition hands it over.
pub const UTTERANCES: &[&str] = &[
    "你好",
    "What can you help me with?",
    "今天上海的天气怎么样？",
    "I'd like to change my delivery address to the office, is that possible?",
    "帮我查一下明天早上八点去杭州的高铁票。",
    "yes",
    "Tell me a short joke about cats.",
    "请用两句话介绍一下你自己，然后告诉我怎么联系人工客服。",
    "How long does shipping to Shenzhen usually take?",
    "好的，谢谢",
];

/// The system prompt the scenario's agent is configured with.
pub const PROMPT: &str = "You are a friendly voice assistant. Answer in one or two short sentences, in the user's language.";

/// Rounds sent as history (IMS `LlmHistoryLimit`'s default): with the prompt, the tenth turn
/// reaches the 20-record cap.
pub const HISTORY_DEPTH: usize = 10;

/// Turns of a conversation before the next one starts.
pub const TURNS: usize = 10;

/// The sampling fields sent (seed 002's defaults and example).
pub const SAMPLING: Sampling = Sampling {
    max_tokens: Some(500),
    temperature: Some(0.7),
    top_p: Some(0.8),
};

/// Most bytes of one answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// `llm.chat`: the next turn of the user's conversation with the vendor's LLM; the answer's
/// text and chunk count (`{"text", "chunks"}`) for captures.
pub(crate) async fn chat(c: &mut Call<'_>, fields: Map<String, Value>) -> Result<Value, Failure> {
    let base = c.plan.target("llm").map_err(ops::custom)?.to_string();
    let number = |name: &str, default: usize| {
        ops::field(&fields, name)
            .parse::<usize>()
            .unwrap_or(default)
    };
    let (turns, depth) = (
        number("turns", TURNS).max(1),
        number("history_depth", HISTORY_DEPTH),
    );
    let prompt = fields.get("prompt").map_or(PROMPT.to_string(), ops::text);
    let model = fields
        .get("model")
        .map_or(c.plan.credentials.llm_model.clone(), ops::text);
    let index = c.state.index;
    let rng = &mut c.state.rng;
    let talk = &mut c.state.llm;
    if talk.turns == 0 || talk.turns >= turns {
        *talk = LlmTalk::default();
        talk.extend = ExtendData {
            instance_id: format!("{:032x}", rng.gen::<u128>()),
            channel_id: format!("channel_{index}_{:08x}", rng.gen::<u32>()),
            user_data: r#"{"source":"agentproof load"}"#.to_string(),
            ..ExtendData::default()
        };
    }
    let utterance = match fields.get("utterance") {
        Some(u) => ops::text(u),
        None => UTTERANCES[rng.gen_range(0..UTTERANCES.len())].to_string(),
    };
    talk.turns += 1;
    talk.extend.sentence_id += 1;
    let records = messages(Some(&prompt), &talk.history, depth, &utterance);
    let request = chat_completion(&ChatCall {
        model: &model,
        messages: &records,
        api_key: c.plan.credentials.llm_api_key.as_deref(),
        sampling: SAMPLING,
        extend_data: &talk.extend,
        ..ChatCall::default()
    });
    let rows = match c.route {
        Some(route) => (format!("{route} ttft"), format!("{route} end")),
        None => (TTFT_ROUTE.to_string(), END_ROUTE.to_string()),
    };
    let url = endpoint_url(&base, true, None);
    let (text, chunks) = stream(c, &url, request, &rows).await?;
    let talk = &mut c.state.llm;
    talk.history.push(Message::new("user", utterance));
    talk.history.push(Message::new("assistant", text.clone()));
    Ok(json!({"text": text, "chunks": chunks}))
}

/// What one streamed answer came to.
struct Streamed {
    /// Since sent: the first content token, the end.
    ttft: Option<Duration>,
    end: Duration,
    /// The text and the chunk count, or why the stream broke.
    outcome: Result<(String, usize), Broken>,
}

/// Sends the POST through goose, reads the stream, records the two rows; the answer's text and
/// chunk count when the stream kept the contract.
async fn stream(
    c: &mut Call<'_>,
    url: &str,
    request: protocol::request::HttpRequest,
    (ttft_row, end_row): &(String, String),
) -> Result<(String, usize), Failure> {
    let (user, plan) = (&mut *c.user, c.plan);
    let due = match c.pace {
        Pace::Scheduled => plan.slot(user.weighted_users_index).await?,
        Pace::Now => None,
    };
    let mut builder = user.get_request_builder(&GooseMethod::Post, url)?;
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let goose_request = GooseRequest::builder()
        .set_request_builder(builder.body(request.body))
        .name(request.route.as_str())
        .expect_status_code(200)
        .build();
    let sent = Instant::now();
    let mut goose = user.request(goose_request).await?;
    let streamed = match goose.response {
        Ok(response) => read(response, sent, plan.timeout).await,
        Err(e) => Streamed {
            ttft: None,
            end: sent.elapsed(),
            outcome: Err(transport_failure(&e)),
        },
    };
    let why = streamed.outcome.as_ref().err().map(ToString::to_string);
    let outcome = match &streamed.outcome {
        Ok(_) => Outcome::Ok,
        Err(Broken::TimedOut) => Outcome::TimedOut,
        Err(Broken::Reason(why)) => Outcome::Failed(why),
    };
    // A failed stream with no token: the first-token row fails at the end's time.
    let ttft = streamed.ttft.unwrap_or(streamed.end);
    for (route, elapsed) in [(ttft_row.as_str(), ttft), (end_row.as_str(), streamed.end)] {
        plan.sink.record(&Sample {
            route,
            due,
            sent,
            finished: sent + elapsed,
            outcome,
        });
        user.record_custom_request_duration(
            "SSE",
            route,
            elapsed,
            why.is_none(),
            None,
            why.as_deref(),
        )
        .await?;
    }
    match streamed.outcome {
        Ok(answer) => Ok(answer),
        Err(broken) => {
            let why = broken.to_string();
            user.set_failure(&why, &mut goose.request, None, None)?;
            Err(ops::custom(why))
        }
    }
}

/// Reads the answer within `timeout` of `sent`.
async fn read(mut response: reqwest::Response, sent: Instant, timeout: Duration) -> Streamed {
    let status = response.status().as_u16();
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"));
    let mut ttft = None;
    let fail = |ttft, why: String| Streamed {
        ttft,
        end: sent.elapsed(),
        outcome: Err(Broken::Reason(why)),
    };
    if status != 200 {
        return fail(None, format!("HTTP {status}, expected 200"));
    }
    if !is_sse {
        return fail(
            None,
            "HTTP 200 without Content-Type text/event-stream".into(),
        );
    }
    let (mut reader, mut transcript, mut read) =
        (StreamReader::default(), Transcript::default(), 0);
    let deadline = tokio::time::Instant::from_std(sent + timeout);
    while !transcript.done {
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => {
                return Streamed {
                    ttft,
                    end: timeout,
                    outcome: Err(Broken::TimedOut),
                }
            }
            Ok(Err(e)) => {
                return Streamed {
                    ttft,
                    end: sent.elapsed(),
                    outcome: Err(transport_failure(&e)),
                }
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        read += chunk.len();
        if read > MAX_ANSWER_BYTES {
            return fail(
                ttft,
                format!("an answer over {} KiB", MAX_ANSWER_BYTES / 1024),
            );
        }
        let events = match reader.push(&chunk) {
            Ok(events) => events,
            Err(why) => return fail(ttft, why),
        };
        for event in events {
            if let Event::Chunk(chunk) = &event {
                if ttft.is_none() && delta_content(chunk).is_some_and(|t| !t.is_empty()) {
                    ttft = Some(sent.elapsed());
                }
            }
            transcript.push(event);
        }
    }
    if !transcript.done {
        // A last event whose blank line never came.
        if let Ok(Some(event)) = reader.finish() {
            transcript.push(event);
        }
    }
    let end = sent.elapsed();
    match transcript.end_problem() {
        None => Streamed {
            ttft,
            end,
            outcome: Ok((transcript.text, transcript.chunks)),
        },
        Some(problem) => fail(ttft, problem),
    }
}
