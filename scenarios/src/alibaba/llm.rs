//! The `alibaba-llm` scenario: an Alibaba agent's calls to a vendor's LLM, as the platform makes
//! them (`protocol::alibaba::llm`): streamed chat completions in multi-turn conversations
//! (Chinese and English, the history growing to the 20-record cap, then a new conversation),
//! each with its `extendData`.
//!
//! A streamed answer has two times that matter, so each gets its own row, in agentproof's
//! verdict and in goose's report (custom requests, as the DUIX WebSocket answers are):
//! [`TTFT_ROUTE`], until the first content token (silence on a call), and [`END_ROUTE`], until
//! `data: [DONE]`. An SLO can be set on either (`--slo 'ttft p95<800ms'`). goose's own row for
//! the POST times it to the answer's headers. A stream that breaks the contract (not an event
//! stream, a chunk without `choices`, no `finish_reason` or `[DONE]`) fails both rows with the
//! reason.

use crate::aui::custom;
use crate::exchange::{transport_failure, Broken, Failure};
use crate::plan::Plan;
use crate::sink::{Outcome, Sample};
use crate::{step, user_rng};
use goose::goose::{GooseMethod, GooseRequest, GooseUser, Scenario, TransactionResult};
use protocol::alibaba::llm::{
    chat_completion, delta_content, endpoint_url, messages, ChatCall, Event, ExtendData, Message,
    Sampling, StreamReader, Transcript, END_ROUTE, TTFT_ROUTE,
};
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::Arc;
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

/// Streamed chat completions in multi-turn conversations.
pub fn chat(plan: &Arc<Plan>) -> Scenario {
    Scenario::new("alibaba-llm").register_transaction(step!(plan, "chat completion", turn))
}

/// One user's conversation.
#[derive(Clone)]
struct Talk {
    history: Vec<Message>,
    turns: usize,
    extend: ExtendData,
    rng: StdRng,
}

impl Talk {
    fn restart(&mut self, user: usize) {
        self.history.clear();
        self.turns = 0;
        self.extend = ExtendData {
            instance_id: format!("{:032x}", self.rng.gen::<u128>()),
            channel_id: format!("channel_{user}_{:08x}", self.rng.gen::<u32>()),
            sentence_id: 0,
            user_data: r#"{"source":"agentproof load"}"#.to_string(),
            ..ExtendData::default()
        };
    }
}

async fn turn(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let base = plan.target("llm").map_err(custom)?.to_string();
    let index = user.weighted_users_index;
    if user.get_session_data::<Talk>().is_none() {
        let mut talk = Talk {
            history: Vec::new(),
            turns: 0,
            extend: ExtendData::default(),
            rng: user_rng(plan, user),
        };
        talk.restart(index);
        user.set_session_data(talk);
    }
    let talk = user.get_session_data_unchecked_mut::<Talk>();
    if talk.turns >= TURNS {
        talk.restart(index);
    }
    let utterance = UTTERANCES[talk.rng.gen_range(0..UTTERANCES.len())];
    talk.turns += 1;
    talk.extend.sentence_id += 1;
    let records = messages(Some(PROMPT), &talk.history, HISTORY_DEPTH, utterance);
    let request = chat_completion(&ChatCall {
        model: &plan.credentials.llm_model,
        messages: &records,
        api_key: plan.credentials.llm_api_key.as_deref(),
        sampling: SAMPLING,
        extend_data: &talk.extend,
        ..ChatCall::default()
    });
    let url = endpoint_url(&base, true, None);
    let answer = stream(user, plan, &url, request).await?;
    let talk = user.get_session_data_unchecked_mut::<Talk>();
    talk.history.push(Message::new("user", utterance));
    talk.history.push(Message::new("assistant", answer));
    Ok(())
}

/// What one streamed answer came to.
struct Streamed {
    /// Since sent: the first content token, the end.
    ttft: Option<Duration>,
    end: Duration,
    outcome: Result<String, Broken>,
}

/// Sends the POST through goose, reads the stream, records the two rows; the answer's text
/// when the stream kept the contract.
async fn stream(
    user: &mut GooseUser,
    plan: &Plan,
    url: &str,
    request: protocol::request::HttpRequest,
) -> Result<String, Failure> {
    let due = plan.slot(user.weighted_users_index).await?;
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
    for (route, elapsed) in [(TTFT_ROUTE, ttft), (END_ROUTE, streamed.end)] {
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
        Ok(text) => Ok(text),
        Err(broken) => {
            let why = broken.to_string();
            user.set_failure(&why, &mut goose.request, None, None)?;
            Err(custom(why))
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
            outcome: Ok(transcript.text),
        },
        Some(problem) => fail(ttft, problem),
    }
}
