//! The agent's calls to a third-party LLM: "self-developed LLM (OpenAI specification)" of ICE/IMS
//! real-time workflows, and `LLMConfig.Vendor = "thirdparty"` of RTC agents (seed 002,
//! PROTOCOLS.md §6). One shape, written once for the three clients that send it: the Alibaba
//! mock's agents, `agentproof llm` and the `alibaba-llm` load scenario.
//!
//! - the request: [`chat_completion`] builds the `POST` (`Authorization: Bearer <key>`, the
//!   OpenAI chat-completions body with `stream: true` and [`ExtendData`]); [`endpoint_url`] says
//!   where it goes (the IMS base URL gets [`CHAT_COMPLETIONS`] appended); [`messages`] bounds the
//!   history as the platform does ([`MAX_RECORDS`]);
//! - the answer: [`StreamReader`] splits the `text/event-stream` into [`Event`]s whatever the
//!   chunking, and [`Transcript`] assembles them (text, chunk count, `finish_reason`,
//!   `[DONE]`), naming the first thing that breaks the stream.
//!
//! ```
//! use protocol::alibaba::llm::{chat_completion, endpoint_url, messages, ChatCall, ExtendData};
//!
//! let history = messages(Some("You are a tour guide."), &[], 3, "今天天气怎么样?");
//! let extend = ExtendData { instance_id: "i1".into(), channel_id: "c1".into(), sentence_id: 1, ..Default::default() };
//! let request = chat_completion(&ChatCall { model: "m", messages: &history, api_key: Some("sk-1"), extend_data: &extend, ..Default::default() });
//! assert_eq!(request.header("authorization"), Some("Bearer sk-1"));
//! let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
//! assert_eq!(body["stream"], true);
//! assert_eq!(body["messages"][1]["content"], "今天天气怎么样?");
//! assert_eq!(endpoint_url("https://llm.example/v1/", true, None), "https://llm.example/v1/chat/completions");
//! ```

use crate::request::HttpRequest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the platform appends to an IMS base URL (the OpenAI `base_url` convention).
pub const CHAT_COMPLETIONS: &str = "/chat/completions";

/// The route template the platform's calls are timed and reported under.
pub const ROUTE: &str = "alibaba POST llm /chat/completions";

/// Most records of `messages`, the system prompt and this utterance included ("最多保留20条
/// 上下文记录", the IMS LLM standard interface page).
pub const MAX_RECORDS: usize = 20;

/// The row the time to the first content token is recorded under (load, reports).
pub const TTFT_ROUTE: &str = "alibaba POST llm /chat/completions ttft";

/// The row the time to the end of the answer (`data: [DONE]`) is recorded under.
pub const END_ROUTE: &str = "alibaba POST llm /chat/completions end";

/// The body members the platform sets itself: `Params` never replaces them.
pub const PLATFORM_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "extendData",
    "max_tokens",
    "temperature",
    "top_p",
];

/// Largest event read from a stream; a longer one is a broken stream, not a memory hazard.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// One record of the conversation: `system`, `user` or `assistant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A record with this role and text.
    pub fn new(role: &str, content: impl Into<String>) -> Message {
        Message {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// `extendData`: who is asking (IMS LLM standard interface page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendData {
    /// The instance (ICE InstanceId; the RTC TaskId for an RTC agent).
    #[serde(rename = "instanceId")]
    pub instance_id: String,
    /// The RTC channel the agent is in.
    #[serde(rename = "channelId")]
    pub channel_id: String,
    /// The same for every call made for one utterance of the user.
    #[serde(rename = "sentenceId")]
    pub sentence_id: u64,
    /// Phone calls only: the caller's number.
    #[serde(
        rename = "callerNumber",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub caller_number: Option<String>,
    /// Phone calls only: the number called.
    #[serde(
        rename = "calleeNumber",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub callee_number: Option<String>,
    /// The `UserData` given when the instance started, as given.
    #[serde(rename = "userData")]
    pub user_data: String,
}

/// The sampling fields, each sent only when configured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sampling {
    /// `MaxToken` → `max_tokens`.
    pub max_tokens: Option<i64>,
    /// `Temperature` → `temperature`.
    pub temperature: Option<f64>,
    /// `TopP` → `top_p`.
    pub top_p: Option<f64>,
}

/// Where `Params` (RTC `LLMConfig.Params`) go in the body: not documented, so configurable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamsAt {
    /// Top-level members of the body beside `model` and `messages` (the OpenAI clients'
    /// `extra_body` convention), never replacing a [`PLATFORM_FIELDS`] member.
    #[default]
    Body,
    /// Members of `extendData`, never replacing one the platform sets.
    ExtendData,
}

/// Everything one call carries.
#[derive(Debug, Clone)]
pub struct ChatCall<'a> {
    /// `model` (RTC `Model`, IMS `ModelId`).
    pub model: &'a str,
    /// The records, from [`messages`].
    pub messages: &'a [Message],
    /// `Authorization: Bearer <key>` when set.
    pub api_key: Option<&'a str>,
    /// The sampling fields given.
    pub sampling: Sampling,
    /// `extendData`.
    pub extend_data: &'a ExtendData,
    /// User key/values (RTC `LLMConfig.Params`), placed as `params_at` says.
    pub params: Option<&'a Map<String, Value>>,
    /// Where `params` go.
    pub params_at: ParamsAt,
}

/// An `extendData` with nothing set, for [`ChatCall::default`].
static NO_EXTEND_DATA: ExtendData = ExtendData {
    instance_id: String::new(),
    channel_id: String::new(),
    sentence_id: 0,
    caller_number: None,
    callee_number: None,
    user_data: String::new(),
};

impl Default for ChatCall<'_> {
    fn default() -> Self {
        ChatCall {
            model: "",
            messages: &[],
            api_key: None,
            sampling: Sampling::default(),
            extend_data: &NO_EXTEND_DATA,
            params: None,
            params_at: ParamsAt::Body,
        }
    }
}

/// The URL a call goes to: `base` with [`CHAT_COMPLETIONS`] appended when `append_path` (its
/// trailing slashes dropped first), then `extra_query` (`k=v&k2=v2`, ICE `OpenAIExtraQuery`)
/// joined to any query `base` has.
pub fn endpoint_url(base: &str, append_path: bool, extra_query: Option<&str>) -> String {
    let (path, query) = match base.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (base, None),
    };
    let mut url = match append_path {
        true => format!("{}{CHAT_COMPLETIONS}", path.trim_end_matches('/')),
        false => path.to_string(),
    };
    let extra = extra_query
        .map(|q| q.trim_start_matches(['?', '&']))
        .filter(|q| !q.is_empty());
    let queries: Vec<&str> = query
        .filter(|q| !q.is_empty())
        .into_iter()
        .chain(extra)
        .collect();
    if !queries.is_empty() {
        url.push('?');
        url.push_str(&queries.join("&"));
    }
    url
}

/// The records of one call: the system prompt (when non-empty), the newest history records
/// that fit, this utterance last.
///
/// `history` is oldest first. At most `depth` rounds (a user record and its answer: RTC
/// `HistoryDepth`, ICE `LlmHistoryLimit`) are kept, and at most [`MAX_RECORDS`] records in all
/// (the system prompt and the utterance count); a window that would start with an answer loses
/// it (a model should not read an answer without its question).
pub fn messages(
    prompt: Option<&str>,
    history: &[Message],
    depth: usize,
    utterance: &str,
) -> Vec<Message> {
    let system = prompt
        .filter(|p| !p.is_empty())
        .map(|p| Message::new("system", p));
    let room = depth
        .saturating_mul(2)
        .min(MAX_RECORDS - 1 - usize::from(system.is_some()));
    let mut window = &history[history.len().saturating_sub(room)..];
    while window.first().is_some_and(|m| m.role == "assistant") {
        window = &window[1..];
    }
    system
        .into_iter()
        .chain(window.iter().cloned())
        .chain(std::iter::once(Message::new("user", utterance)))
        .collect()
}

/// `POST` with the OpenAI chat-completions body, `stream: true`, as the platform sends it. The
/// request has no path of its own: send it to [`endpoint_url`] (`request.url(&url)`).
pub fn chat_completion(call: &ChatCall<'_>) -> HttpRequest {
    let mut body = Map::new();
    body.insert("model".into(), Value::from(call.model));
    body.insert(
        "messages".into(),
        serde_json::to_value(call.messages).unwrap_or_default(),
    );
    body.insert("stream".into(), Value::Bool(true));
    let Sampling {
        max_tokens,
        temperature,
        top_p,
    } = call.sampling;
    if let Some(n) = max_tokens {
        body.insert("max_tokens".into(), n.into());
    }
    if let Some(t) = temperature {
        body.insert("temperature".into(), t.into());
    }
    if let Some(p) = top_p {
        body.insert("top_p".into(), p.into());
    }
    let mut extend = match serde_json::to_value(call.extend_data) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let params = call.params.into_iter().flatten();
    match call.params_at {
        ParamsAt::Body => {
            for (key, value) in params.filter(|(k, _)| !PLATFORM_FIELDS.contains(&k.as_str())) {
                body.insert(key.clone(), value.clone());
            }
        }
        ParamsAt::ExtendData => {
            for (key, value) in params {
                extend.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    body.insert("extendData".into(), Value::Object(extend));
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("accept".to_string(), "text/event-stream".to_string()),
    ];
    if let Some(key) = call.api_key {
        headers.push(("authorization".to_string(), format!("Bearer {key}")));
    }
    HttpRequest {
        method: "POST",
        path_and_query: String::new(),
        headers,
        body: serde_json::to_vec(&Value::Object(body)).unwrap_or_default(),
        route: ROUTE.to_string(),
    }
}

/// One event of the answer stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `data: {...}`: a chunk's JSON (not yet judged: see [`chunk_problem`]).
    Chunk(Value),
    /// `data: [DONE]`: the end.
    Done,
}

/// Reads `text/event-stream` bytes as they come: events end at a blank line (CRLF, LF or CR
/// line ends), their `data:` lines joined with `\n`; comments (`:`) and other fields (`event:`,
/// `id:`, `retry:`) are skipped, as the SSE format says.
#[derive(Debug, Default)]
pub struct StreamReader {
    /// Bytes of the event being read.
    pending: Vec<u8>,
    /// A CR ended the last push: an LF starting the next one belongs to it.
    after_cr: bool,
}

impl StreamReader {
    /// The events completed by `bytes`. An event whose data is not JSON (nor `[DONE]`), or one
    /// over [`MAX_EVENT_BYTES`], is an error; the reader is not used after one.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Event>, String> {
        let mut events = Vec::new();
        for &byte in bytes {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            let byte = if byte == b'\r' {
                self.after_cr = true;
                b'\n'
            } else {
                byte
            };
            self.pending.push(byte);
            if self.pending.ends_with(b"\n\n") {
                let block = std::mem::take(&mut self.pending);
                events.extend(parse_block(&block)?);
            } else if self.pending.len() > MAX_EVENT_BYTES {
                return Err(format!("an event over {} KiB", MAX_EVENT_BYTES / 1024));
            }
        }
        Ok(events)
    }

    /// The last event when the stream closed without its blank line.
    pub fn finish(self) -> Result<Option<Event>, String> {
        parse_block(&self.pending)
    }
}

/// The event of one block (its lines up to the blank line), if it has data.
fn parse_block(block: &[u8]) -> Result<Option<Event>, String> {
    let text = String::from_utf8_lossy(block);
    let data: Vec<&str> = text
        .split('\n')
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    if data.is_empty() {
        return Ok(None);
    }
    let data = data.join("\n");
    if data.trim() == "[DONE]" {
        return Ok(Some(Event::Done));
    }
    serde_json::from_str(&data)
        .map(|chunk| Some(Event::Chunk(chunk)))
        .map_err(|_| "an event whose data is neither JSON nor [DONE]".to_string())
}

/// What is wrong with a chunk's shape, the OpenAI streaming contract's essentials:
/// `object` `chat.completion.chunk`, a `choices` array whose first member has a `delta`
/// object; `None` when it is right. (The full contract is the `alibaba/llm.chunk` schema.)
pub fn chunk_problem(chunk: &Value) -> Option<String> {
    if !chunk.is_object() {
        return Some("a chunk that is not a JSON object".into());
    }
    if chunk.get("object").and_then(Value::as_str) != Some("chat.completion.chunk") {
        return Some("a chunk whose object is not \"chat.completion.chunk\"".into());
    }
    match chunk.get("choices").and_then(Value::as_array) {
        None => Some("a chunk without a choices array".into()),
        // OpenAI's own last chunk with usage (stream_options.include_usage) has no choices.
        Some(choices) if choices.is_empty() => chunk
            .get("usage")
            .is_none()
            .then(|| "a chunk with an empty choices array".into()),
        Some(choices) => (!choices[0].get("delta").is_some_and(Value::is_object))
            .then(|| "a chunk whose choices[0] has no delta object".into()),
    }
}

/// `choices[0].delta.content` of a chunk, when it is a string.
pub fn delta_content(chunk: &Value) -> Option<&str> {
    chunk.pointer("/choices/0/delta/content")?.as_str()
}

/// `choices[0].finish_reason` of a chunk, when set.
pub fn finish_reason(chunk: &Value) -> Option<&str> {
    chunk.pointer("/choices/0/finish_reason")?.as_str()
}

/// A stream's events assembled: the answer, what ended it, the first thing wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The `delta.content` pieces joined.
    pub text: String,
    /// Chunks read (not counting `[DONE]`).
    pub chunks: usize,
    /// The `finish_reason` given, if one was.
    pub finish_reason: Option<String>,
    /// `data: [DONE]` came.
    pub done: bool,
    /// The first thing that breaks the stream contract (a chunk's shape, an event after
    /// `[DONE]`, a `finish_reason` before the last chunk), in words.
    pub problem: Option<String>,
}

impl Transcript {
    /// Takes the next event.
    pub fn push(&mut self, event: Event) {
        let problem = match event {
            _ if self.done => Some("an event after data: [DONE]".to_string()),
            Event::Done => {
                self.done = true;
                None
            }
            Event::Chunk(chunk) => {
                self.chunks += 1;
                let problem = chunk_problem(&chunk);
                if let Some(text) = delta_content(&chunk) {
                    self.text.push_str(text);
                }
                let late = self.finish_reason.is_some()
                    && delta_content(&chunk).is_some_and(|t| !t.is_empty());
                if let Some(reason) = finish_reason(&chunk) {
                    self.finish_reason = Some(reason.to_string());
                }
                problem.or_else(|| late.then(|| "content after the finish_reason chunk".into()))
            }
        };
        if self.problem.is_none() {
            self.problem = problem;
        }
    }

    /// What is wrong with the whole stream once it closed: the first problem seen, else no
    /// `finish_reason`, else no `[DONE]`.
    pub fn end_problem(&self) -> Option<String> {
        if let Some(problem) = &self.problem {
            return Some(problem.clone());
        }
        if self.chunks == 0 {
            return Some("no chunk before the stream ended".into());
        }
        if self.finish_reason.is_none() {
            return Some("no chunk with a finish_reason".into());
        }
        (!self.done).then(|| "the stream ended without data: [DONE]".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chunk(content: &str, finish: Option<&str>) -> String {
        let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]});
        format!("data: {chunk}\n\n")
    }

    fn read_all(body: &[u8], size: usize) -> Result<Transcript, String> {
        let mut reader = StreamReader::default();
        let mut transcript = Transcript::default();
        for part in body.chunks(size.max(1)) {
            reader
                .push(part)?
                .into_iter()
                .for_each(|e| transcript.push(e));
        }
        reader
            .finish()?
            .into_iter()
            .for_each(|e| transcript.push(e));
        Ok(transcript)
    }

    #[test]
    fn a_stream_reads_the_same_whatever_its_chunking() {
        let body = format!(
            "{}: keep-alive\n\n{}{}data: [DONE]\n\n",
            chunk("你好", None),
            chunk(", world", None),
            chunk("", Some("stop"))
        )
        .replace('\n', "\r\n");
        for size in [1, 2, 3, 7, 64, body.len()] {
            let transcript = read_all(body.as_bytes(), size).unwrap();
            assert_eq!(transcript.text, "你好, world", "chunks of {size}");
            assert_eq!(transcript.chunks, 3);
            assert_eq!(transcript.finish_reason.as_deref(), Some("stop"));
            assert_eq!(transcript.end_problem(), None, "chunks of {size}");
        }
    }

    #[test]
    fn each_broken_stream_names_what_broke() {
        let no_done = format!("{}{}", chunk("a", None), chunk("", Some("stop")));
        assert_eq!(
            read_all(no_done.as_bytes(), 5)
                .unwrap()
                .end_problem()
                .unwrap(),
            "the stream ended without data: [DONE]"
        );
        let no_finish = format!("{}data: [DONE]\n\n", chunk("a", None));
        assert_eq!(
            read_all(no_finish.as_bytes(), 5)
                .unwrap()
                .end_problem()
                .unwrap(),
            "no chunk with a finish_reason"
        );
        let no_choices =
            "data: {\"object\":\"chat.completion.chunk\",\"content\":\"a\"}\n\ndata: [DONE]\n\n";
        assert_eq!(
            read_all(no_choices.as_bytes(), 5)
                .unwrap()
                .end_problem()
                .unwrap(),
            "a chunk without a choices array"
        );
        let after = format!(
            "{}data: [DONE]\n\n{}",
            chunk("", Some("stop")),
            chunk("x", None)
        );
        assert_eq!(
            read_all(after.as_bytes(), 5)
                .unwrap()
                .end_problem()
                .unwrap(),
            "an event after data: [DONE]"
        );
        assert!(read_all(b"data: {oops\n\n", 3).is_err());
        assert!(StreamReader::default()
            .push(&vec![b'a'; MAX_EVENT_BYTES + 1])
            .is_err());
    }

    proptest::proptest! {
        /// Any pieces of text, streamed as chunks, cut anywhere: the answer is their join.
        #[test]
        fn any_pieces_cut_anywhere_assemble_into_their_join(
            pieces in proptest::collection::vec("\\PC{0,12}", 1..8),
            cuts in proptest::collection::vec(1usize..40, 1..20),
            crlf in proptest::bool::ANY,
        ) {
            let mut body: String = pieces.iter().map(|p| chunk(p, None)).collect();
            body.push_str(&chunk("", Some("stop")));
            body.push_str("data: [DONE]\n\n");
            if crlf {
                body = body.replace('\n', "\r\n");
            }
            let bytes = body.as_bytes();
            let mut reader = StreamReader::default();
            let mut transcript = Transcript::default();
            let (mut at, mut i) = (0, 0);
            while at < bytes.len() {
                let end = (at + cuts[i % cuts.len()]).min(bytes.len());
                for event in reader.push(&bytes[at..end]).unwrap() {
                    transcript.push(event);
                }
                at = end;
                i += 1;
            }
            proptest::prop_assert_eq!(&transcript.text, &pieces.concat());
            proptest::prop_assert_eq!(transcript.chunks, pieces.len() + 1);
            proptest::prop_assert_eq!(transcript.end_problem(), None);
        }
    }

    #[test]
    fn history_keeps_whole_rounds_within_depth_and_twenty_records() {
        let history: Vec<Message> = (0..30)
            .flat_map(|i| {
                [
                    Message::new("user", format!("q{i}")),
                    Message::new("assistant", format!("a{i}")),
                ]
            })
            .collect();
        let three = messages(Some("be brief"), &history, 3, "now");
        let roles: Vec<&str> = three.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(
            roles,
            [
                "system",
                "user",
                "assistant",
                "user",
                "assistant",
                "user",
                "assistant",
                "user"
            ]
        );
        assert_eq!(three[1].content, "q27");
        assert_eq!(three.last().unwrap().content, "now");
        let deep = messages(None, &history, 100, "now");
        assert!(deep.len() <= MAX_RECORDS, "{}", deep.len());
        assert_eq!(deep[0].role, "user", "never an answer without its question");
        let capped = messages(Some("be brief"), &history, 100, "now");
        assert_eq!(capped.len(), MAX_RECORDS, "the system prompt counts");
        assert_eq!(
            (capped[0].role.as_str(), capped[1].role.as_str()),
            ("system", "user")
        );
        assert_eq!(
            messages(Some(""), &[], 3, "hi"),
            [Message::new("user", "hi")]
        );
        assert_eq!(messages(None, &history, 0, "hi").len(), 1);
    }

    #[test]
    fn the_url_gets_the_path_and_the_extra_query() {
        assert_eq!(
            endpoint_url("http://h/v1", true, None),
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url("http://h/x", false, Some("a=1")),
            "http://h/x?a=1"
        );
        assert_eq!(
            endpoint_url("http://h/v1/?k=v", true, Some("api-version=2024-02-01")),
            "http://h/v1/chat/completions?k=v&api-version=2024-02-01"
        );
    }

    #[test]
    fn params_never_replace_what_the_platform_sets() {
        let params = json!({"verification_code": "x", "model": "evil", "instanceId": "evil"});
        let params = params.as_object().unwrap();
        let extend = ExtendData {
            instance_id: "i1".into(),
            ..Default::default()
        };
        let call = |at| ChatCall {
            model: "m",
            params: Some(params),
            params_at: at,
            extend_data: &extend,
            ..Default::default()
        };
        let body: Value =
            serde_json::from_slice(&chat_completion(&call(ParamsAt::Body)).body).unwrap();
        assert_eq!(
            (body["model"].as_str(), body["verification_code"].as_str()),
            (Some("m"), Some("x"))
        );
        assert!(
            body.get("max_tokens").is_none(),
            "only the sampling fields given"
        );
        let body: Value =
            serde_json::from_slice(&chat_completion(&call(ParamsAt::ExtendData)).body).unwrap();
        assert_eq!(body["extendData"]["verification_code"], "x");
        assert_eq!(body["extendData"]["instanceId"], "i1");
        assert_eq!(body["extendData"]["sentenceId"], 0);
        assert!(body.get("verification_code").is_none());
    }
}
