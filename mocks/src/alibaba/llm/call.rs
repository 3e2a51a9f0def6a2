//! One call to an agent's LLM, as the platform makes it: `POST`, read the event stream as it
//! comes, time the first content token and the end. The platform's behaviour on failures is not
//! published; the mock's choice, as the DUIX webhook call does it: bounded in time
//! (`first_token_timeout_ms`, `timeout_ms` of `[alibaba.llm]`) and in size
//! ([`MAX_ANSWER_BYTES`]), no redirect followed, and every failure a [`Failure`] value in three
//! kinds (refused, timed out, broken stream) with the words to fix it. Nothing here panics or
//! holds a lock.

use protocol::alibaba::llm::{delta_content, StreamReader, Transcript};
use protocol::request::HttpRequest;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Largest answer read, all events together.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How much of a refusal's body is kept for its message.
const REFUSAL_EXCERPT: usize = 300;

/// The client every agent calls its LLM with, and its two timeouts.
#[derive(Debug, Clone)]
pub struct Caller {
    client: reqwest::Client,
    first_token_timeout: Duration,
    timeout: Duration,
}

/// An answer that streamed to its end.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// The `delta.content` pieces joined.
    pub text: String,
    /// Chunks read (not counting `[DONE]`).
    pub chunks: usize,
    /// Until the first non-empty content piece, ms.
    pub ttft_ms: f64,
    /// Until `data: [DONE]`, ms.
    pub total_ms: f64,
    /// The `finish_reason` of the last chunk.
    pub finish_reason: Option<String>,
}

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No connection, or an HTTP status other than 2xx.
    Refused,
    /// No content token within the first-token timeout, or no end within the timeout.
    TimedOut,
    /// Not an event stream, a chunk that breaks the contract, no `[DONE]`, cut off, too large.
    BrokenStream,
}

/// A failed call: what kind, in words, and what had arrived.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// The HTTP status, when one came.
    pub status: Option<u16>,
    /// The text that arrived before the failure.
    pub partial_text: String,
    pub chunks: usize,
    pub ttft_ms: Option<f64>,
    pub total_ms: f64,
}

impl Caller {
    /// A caller with these timeouts, in ms.
    pub fn new(first_token_timeout_ms: u64, timeout_ms: u64) -> Caller {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_millis(timeout_ms.min(5000)))
            .build()
            .unwrap_or_default();
        Caller {
            client,
            first_token_timeout: Duration::from_millis(first_token_timeout_ms),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    /// Sends `request` to `url` and reads the answer to its end.
    pub async fn call(&self, url: &str, request: HttpRequest) -> Result<Reply, Failure> {
        let started = Instant::now();
        let mut progress = Progress::default();
        let outcome = self.exchange(url, request, started, &mut progress).await;
        let total_ms = ms(started.elapsed());
        let ttft_ms = progress.first_token.map(ms);
        match outcome {
            Ok(()) => Ok(Reply {
                text: progress.transcript.text,
                chunks: progress.transcript.chunks,
                ttft_ms: ttft_ms.unwrap_or(total_ms),
                total_ms,
                finish_reason: progress.transcript.finish_reason,
            }),
            Err((kind, message)) => Err(Failure {
                kind,
                message,
                status: progress.status,
                partial_text: progress.transcript.text,
                chunks: progress.transcript.chunks,
                ttft_ms,
                total_ms,
            }),
        }
    }

    async fn exchange(
        &self,
        url: &str,
        request: HttpRequest,
        started: Instant,
        progress: &mut Progress,
    ) -> Result<(), (FailureKind, String)> {
        let deadline = |progress: &Progress| match progress.first_token {
            None => started + self.first_token_timeout.min(self.timeout),
            Some(_) => started + self.timeout,
        };
        let mut call = self.client.post(url).body(request.body);
        for (name, value) in &request.headers {
            if let Ok(mut value) = reqwest::header::HeaderValue::from_str(value) {
                value.set_sensitive(name == "authorization");
                call = call.header(name.as_str(), value);
            }
        }
        let sent = tokio::time::timeout_at(deadline(progress).into(), call.send()).await;
        let mut response = match sent {
            Err(_) => return Err(self.timed_out(progress)),
            Ok(Err(e)) => return Err((FailureKind::Refused, transport_words(&e))),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        progress.status = Some(status);
        if !response.status().is_success() {
            let excerpt = read_excerpt(&mut response).await;
            return Err((FailureKind::Refused, format!("HTTP {status}{excerpt}")));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
        {
            let message = format!(
                "Content-Type {content_type}, not text/event-stream (the platform only streams)"
            );
            return Err((FailureKind::BrokenStream, message));
        }
        let mut reader = StreamReader::default();
        loop {
            let next = tokio::time::timeout_at(deadline(progress).into(), response.chunk()).await;
            let chunk = match next {
                Err(_) => return Err(self.timed_out(progress)),
                Ok(Err(e)) => return Err((FailureKind::BrokenStream, transport_words(&e))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            progress.read += chunk.len();
            if progress.read > MAX_ANSWER_BYTES {
                let message = format!("an answer over {} KiB", MAX_ANSWER_BYTES / 1024);
                return Err((FailureKind::BrokenStream, message));
            }
            let events = reader
                .push(&chunk)
                .map_err(|why| (FailureKind::BrokenStream, why))?;
            for event in events {
                progress.take(event, started);
            }
            if progress.transcript.done {
                // The platform stops reading at [DONE], closed or not.
                return stream_result(&progress.transcript);
            }
        }
        if let Some(event) = reader
            .finish()
            .map_err(|why| (FailureKind::BrokenStream, why))?
        {
            progress.take(event, started);
        }
        stream_result(&progress.transcript)
    }

    fn timed_out(&self, progress: &Progress) -> (FailureKind, String) {
        let message = match progress.first_token {
            None => format!(
                "no content token within {} ms (first_token_timeout_ms)",
                self.first_token_timeout.min(self.timeout).as_millis()
            ),
            Some(_) => format!(
                "the answer did not end within {} ms (timeout_ms)",
                self.timeout.as_millis()
            ),
        };
        (FailureKind::TimedOut, message)
    }
}

/// What has arrived so far.
#[derive(Default)]
struct Progress {
    status: Option<u16>,
    read: usize,
    first_token: Option<Duration>,
    transcript: Transcript,
}

impl Progress {
    fn take(&mut self, event: protocol::alibaba::llm::Event, started: Instant) {
        if let protocol::alibaba::llm::Event::Chunk(chunk) = &event {
            let token = delta_content(chunk).is_some_and(|t| !t.is_empty());
            if token && self.first_token.is_none() {
                self.first_token = Some(started.elapsed());
            }
        }
        self.transcript.push(event);
    }
}

fn stream_result(transcript: &Transcript) -> Result<(), (FailureKind, String)> {
    match transcript.end_problem() {
        None => Ok(()),
        Some(problem) => Err((FailureKind::BrokenStream, problem)),
    }
}

/// `: <the first bytes of the body>` of a refusal, for its message.
async fn read_excerpt(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= REFUSAL_EXCERPT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), read).await;
    let text = String::from_utf8_lossy(&body[..body.len().min(REFUSAL_EXCERPT)]).into_owned();
    let text = text.trim();
    match text.is_empty() {
        true => String::new(),
        false => format!(": {text}"),
    }
}

/// A transport error in words, without the URL (its query may hold a key).
fn transport_words(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the answer was cut off"
    } else {
        "the request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}
