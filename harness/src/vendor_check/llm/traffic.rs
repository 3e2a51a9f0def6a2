//! The conversations put to the vendor's LLM: ten turns each, sent as an Alibaba agent sends them
//! (`protocol::alibaba::llm`, the builder the mock's agents and the `alibaba-llm` load scenario
//! use), the history growing with each answered turn to the 20-record cap, each answer kept as
//! an [`Exchange`] for the rules to judge.

use super::super::send::{self, Answer, Arrival, Missing, Watch};
use super::Setup;
use protocol::alibaba::llm::{
    chat_completion, delta_content, messages, ChatCall, Event, ExtendData, Message, StreamReader,
    Transcript,
};
use protocol::request::HttpRequest;
use scenarios::alibaba::llm::{HISTORY_DEPTH, PROMPT, SAMPLING, TURNS, UTTERANCES};
use std::sync::Arc;

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The turn in its conversation, from 0.
    pub turn: usize,
    /// Records in `messages` (the system prompt and the utterance included).
    pub records: usize,
    pub answer: Result<Answer, Missing>,
}

/// Sends every conversation, `--concurrency` at a time (and at `--rate` a second when set).
pub async fn converse(setup: &Arc<Setup>, client: &reqwest::Client) -> Vec<Exchange> {
    let requests = setup.common.requests;
    let conversations = requests.div_ceil(TURNS);
    send::conversations(conversations, setup.common.concurrency, |c| {
        let (setup, client) = (setup.clone(), client.clone());
        let turns = TURNS.min(requests - c * TURNS);
        async move { conversation(&setup, &client, c, turns).await }
    })
    .await
}

/// One conversation of `turns` utterances, its `extendData` the same but for `sentenceId`.
async fn conversation(
    setup: &Setup,
    client: &reqwest::Client,
    index: usize,
    turns: usize,
) -> Vec<Exchange> {
    let mut extend = ExtendData {
        instance_id: uuid::Uuid::new_v4().simple().to_string(),
        channel_id: format!("agentproof-check-{index}"),
        sentence_id: 0,
        user_data: r#"{"source":"agentproof llm"}"#.to_string(),
        ..ExtendData::default()
    };
    let mut history: Vec<Message> = Vec::new();
    let mut exchanges = Vec::new();
    for turn in 0..turns {
        let utterance = UTTERANCES[(index * 3 + turn) % UTTERANCES.len()];
        extend.sentence_id += 1;
        let records = messages(Some(PROMPT), &history, HISTORY_DEPTH, utterance);
        let request = chat_completion(&ChatCall {
            model: &setup.model,
            messages: &records,
            api_key: setup.api_key.as_deref(),
            sampling: SAMPLING,
            extend_data: &extend,
            ..ChatCall::default()
        });
        setup.common.wait_turn().await;
        let answer = send(client, setup, request, &[]).await;
        // As the platform does: only an answered turn goes into the history.
        if let Some(text) = answer.as_ref().ok().and_then(answer_text) {
            history.push(Message::new("user", utterance));
            history.push(Message::new("assistant", text));
        }
        exchanges.push(Exchange {
            turn,
            records: records.len(),
            answer,
        });
    }
    exchanges
}

/// Sends `request` to the endpoint with `headers` over the platform's, reads the answer and
/// times its first content token; the stream is over at `data: [DONE]`, as the platform reads it.
pub async fn send(
    client: &reqwest::Client,
    setup: &Setup,
    request: HttpRequest,
    headers: &[(String, String)],
) -> Result<Answer, Missing> {
    let mut watch = LlmWatch::default();
    send::send(client, &setup.url, request, headers, &mut watch).await
}

/// The first non-empty `delta.content`, and the end at `data: [DONE]`.
#[derive(Default)]
struct LlmWatch {
    reader: StreamReader,
    broken: bool,
}

impl Watch for LlmWatch {
    fn arrived(&mut self, body: &[u8], fresh: usize) -> Arrival {
        let mut seen = Arrival::default();
        if self.broken {
            return seen;
        }
        match self.reader.push(&body[body.len() - fresh..]) {
            // The stream rule reads the whole body again and says what broke.
            Err(_) => self.broken = true,
            Ok(events) => {
                for event in events {
                    match event {
                        Event::Done => seen.ended = true,
                        Event::Chunk(chunk) => {
                            seen.first_mark |= delta_content(&chunk).is_some_and(|t| !t.is_empty())
                        }
                    }
                }
            }
        }
        seen
    }
}

/// An answer's stream read whole: the events in order, or why they cannot be read.
pub fn transcript(body: &[u8]) -> Result<Transcript, String> {
    let mut reader = StreamReader::default();
    let mut transcript = Transcript::default();
    for event in reader.push(body)? {
        transcript.push(event);
    }
    if let Some(event) = reader.finish()? {
        transcript.push(event);
    }
    Ok(transcript)
}

/// The answer's text, for the next turn's history: a 200 event stream's content joined.
pub fn answer_text(answer: &Answer) -> Option<String> {
    (answer.status == 200 && answer.is_sse)
        .then(|| transcript(&answer.body).ok())
        .flatten()
        .map(|t| t.text)
        .filter(|t| !t.is_empty())
}
