//! The session WebSocket's messages (DUIX-SESSION.md): one JSON text frame each, `type` first.

use super::answer::Piece;
use protocol::duix::DuixError;
use serde::{Deserialize, Serialize};

/// What a client may send. Unknown members are refused, as the schemas
/// (`schemas/duix/ws/*.schema.json`) do.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientMessage {
    Start {
        #[serde(rename = "conversationId", default)]
        conversation_id: Option<String>,
        #[serde(rename = "userId", default)]
        user_id: Option<String>,
    },
    Question {
        text: String,
        #[serde(rename = "conversationId", default)]
        conversation_id: Option<String>,
    },
    Stop {},
}

/// What the server sends.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    StartComplete {
        #[serde(rename = "sessionId")]
        session_id: String,
    },
    Answer {
        #[serde(rename = "sessionId")]
        session_id: String,
        text: String,
        #[serde(rename = "isEnd")]
        is_end: bool,
        #[serde(rename = "latencyMs")]
        latency_ms: u64,
    },
    Error {
        code: String,
        message: String,
    },
    Bye {
        reason: String,
    },
}

impl ServerMessage {
    /// `error` with a catalog code; the message is the catalog text, then `detail`.
    pub fn error(error: DuixError, detail: impl std::fmt::Display) -> Self {
        ServerMessage::Error {
            code: error.code.to_string(),
            message: format!("{}: {detail}", error.message),
        }
    }

    /// A malformed frame: code `-1`, the session goes on.
    pub fn bad_frame(detail: impl std::fmt::Display) -> Self {
        Self::error(DuixError::SYSTEM_ERROR, format!("bad message: {detail}"))
    }

    /// One piece of an answer.
    pub fn answer(session_id: &str, piece: Piece, latency_ms: u64) -> Self {
        ServerMessage::Answer {
            session_id: session_id.to_string(),
            text: piece.text,
            is_end: piece.is_end,
            latency_ms,
        }
    }

    /// The frame's text.
    pub fn to_text(&self) -> String {
        // Strings, numbers and booleans only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_strictly() {
        let start: ClientMessage =
            serde_json::from_str(r#"{"type":"start","conversationId":"c","userId":"u"}"#).unwrap();
        assert!(matches!(
            start,
            ClientMessage::Start {
                conversation_id: Some(_),
                user_id: Some(_)
            }
        ));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"stop"}"#).is_ok());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"stop","x":1}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"question"}"#).is_err());
    }

    #[test]
    fn server_messages_use_the_wire_names() {
        let piece = Piece {
            text: "hi".into(),
            is_end: true,
        };
        let text = ServerMessage::answer("s", piece, 7).to_text();
        assert_eq!(
            text,
            r#"{"type":"answer","sessionId":"s","text":"hi","isEnd":true,"latencyMs":7}"#
        );
        let done = ServerMessage::StartComplete {
            session_id: "s".into(),
        }
        .to_text();
        assert_eq!(done, r#"{"type":"start-complete","sessionId":"s"}"#);
    }
}
