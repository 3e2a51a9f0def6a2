//! What an agent remembers of its conversation, kept beside its task or instance in the state
//! (and evicted with it): the records it sends as history, the next `sentenceId`, and the call
//! log. Everything is bounded so memory does not grow with traffic: the history at
//! [`MAX_RECORDS`] records and [`MAX_HISTORY_BYTES`] (oldest rounds dropped first; the platform
//! never sends more than twenty records), the log at [`CALL_LOG_LEN`] calls, an utterance at
//! [`MAX_UTTERANCE_BYTES`].
//!
//! Only a call that answered to its end adds its round to the history: a failed call is in the
//! log, and the next utterance is sent without it (the documentation does not say; this is the
//! mock's choice, as the DUIX mock's dh-context keeps only answered turns).

use super::call::{Failure, Reply};
use protocol::alibaba::llm::{Message, MAX_RECORDS};
use serde::Serialize;
use std::collections::VecDeque;

/// Longest utterance `say` takes (a spoken sentence is far shorter).
pub const MAX_UTTERANCE_BYTES: usize = 4096;
/// Most bytes of history text an agent keeps.
pub const MAX_HISTORY_BYTES: usize = 32 * 1024;
/// Calls kept in the log.
pub const CALL_LOG_LEN: usize = 20;
/// How much of an answer the log keeps (the whole is in `say`'s answer and the history).
const LOGGED_TEXT_CHARS: usize = 200;

/// One agent's conversation.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    history: VecDeque<Message>,
    last_sentence: u64,
    calls: VecDeque<CallRecord>,
}

/// One call in the log.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// The call's `extendData.sentenceId`.
    pub sentence_id: u64,
    /// When it was made, ms since the epoch on the mock's virtual clock.
    pub at_ms: i64,
    /// Where it went (secret query values masked).
    pub url: String,
    /// What the user said.
    pub utterance: String,
    /// Whether the answer streamed to its end.
    pub ok: bool,
    /// The answer (the first 200 characters), or what arrived before the failure.
    pub text: String,
    pub chunks: usize,
    pub ttft_ms: Option<f64>,
    pub total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<LoggedFailure>,
}

/// A failure as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedFailure {
    pub kind: super::call::FailureKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl CallRecord {
    /// The log's record of a call that went to `url`.
    pub fn new(
        sentence_id: u64,
        at_ms: i64,
        url: String,
        utterance: &str,
        outcome: &Result<Reply, Failure>,
    ) -> CallRecord {
        let base = CallRecord {
            sentence_id,
            at_ms,
            url,
            utterance: utterance.to_string(),
            ok: outcome.is_ok(),
            text: String::new(),
            chunks: 0,
            ttft_ms: None,
            total_ms: 0.0,
            finish_reason: None,
            error: None,
        };
        match outcome {
            Ok(reply) => CallRecord {
                text: cut(&reply.text),
                chunks: reply.chunks,
                ttft_ms: Some(reply.ttft_ms),
                total_ms: reply.total_ms,
                finish_reason: reply.finish_reason.clone(),
                ..base
            },
            Err(failure) => CallRecord {
                text: cut(&failure.partial_text),
                chunks: failure.chunks,
                ttft_ms: failure.ttft_ms,
                total_ms: failure.total_ms,
                error: Some(LoggedFailure {
                    kind: failure.kind,
                    message: failure.message.clone(),
                    status: failure.status,
                }),
                ..base
            },
        }
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(LOGGED_TEXT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

impl Conversation {
    /// The id of the next utterance's calls: 1, 2, 3...
    pub fn next_sentence(&mut self) -> u64 {
        self.last_sentence += 1;
        self.last_sentence
    }

    /// The records kept, oldest first.
    pub fn history(&self) -> Vec<Message> {
        self.history.iter().cloned().collect()
    }

    /// Keeps an answered round; drops the oldest rounds past the bounds.
    pub fn keep_round(&mut self, utterance: &str, answer: &str) {
        self.history.push_back(Message::new("user", utterance));
        self.history.push_back(Message::new("assistant", answer));
        let bytes = |h: &VecDeque<Message>| h.iter().map(|m| m.content.len()).sum::<usize>();
        while self.history.len() > MAX_RECORDS
            || (self.history.len() > 2 && bytes(&self.history) > MAX_HISTORY_BYTES)
        {
            self.history.pop_front();
            self.history.pop_front();
        }
    }

    /// Adds a call to the log, forgetting the oldest past [`CALL_LOG_LEN`].
    pub fn log(&mut self, record: CallRecord) {
        if self.calls.len() >= CALL_LOG_LEN {
            self.calls.pop_front();
        }
        self.calls.push_back(record);
    }

    /// The log, oldest first.
    pub fn calls(&self) -> impl Iterator<Item = &CallRecord> {
        self.calls.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_and_log_stay_bounded() {
        let mut talk = Conversation::default();
        for i in 0..50 {
            talk.keep_round(&format!("q{i}"), &format!("a{i}"));
        }
        let history = talk.history();
        assert_eq!(history.len(), MAX_RECORDS);
        assert_eq!(history[0].content, "q40", "whole rounds, the newest");
        talk.keep_round("big", &"x".repeat(MAX_HISTORY_BYTES));
        assert_eq!(
            talk.history().len(),
            2,
            "one round over the byte bound stays alone"
        );
        for i in 0..30 {
            let failed: Result<Reply, Failure> = Err(Failure {
                kind: super::super::call::FailureKind::TimedOut,
                message: "slow".into(),
                status: None,
                partial_text: String::new(),
                chunks: 0,
                ttft_ms: None,
                total_ms: 1.0,
            });
            talk.log(CallRecord::new(i, 0, "u".into(), "hi", &failed));
        }
        assert_eq!(talk.calls().count(), CALL_LOG_LEN);
        assert_eq!(talk.calls().next().unwrap().sentence_id, 10);
        assert_eq!(talk.next_sentence(), 1);
        assert_eq!(talk.next_sentence(), 2);
    }
}
