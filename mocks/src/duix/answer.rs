//! Reading a vendor webhook's answer, in either form seed 003 and PROTOCOLS.md §5.4 allow:
//!
//! - JSON `{code, msg, success, data: {conversationId, answer, ...}}`, where `data.answer` is the
//!   text itself, a stringified JSON object `{"answer": "..."}`, or that object itself (the seed's
//!   table and its example disagree, so all three are read);
//! - Server-sent events (`Content-Type: text/event-stream`), each `data:` a JSON
//!   `{"answer": "...", "isEnd": bool}`.

use serde_json::Value;

/// Longest SSE event accepted before the stream is called broken.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// The text of a JSON answer, or why it has none.
pub fn json_answer(body: &[u8]) -> Result<String, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("answer is not JSON: {e}"))?;
    if value.get("success").and_then(Value::as_bool) == Some(false) {
        let why = value["data"]["errorMsg"]
            .as_str()
            .or_else(|| value["msg"].as_str())
            .unwrap_or("no reason given");
        return Err(format!("webhook answered success false: {why}"));
    }
    match value.get("data").and_then(|data| data.get("answer")) {
        Some(Value::String(text)) => Ok(text_of_string(text)),
        Some(Value::Object(object)) => match object.get("answer") {
            Some(Value::String(text)) => Ok(text.clone()),
            _ => Err("data.answer is an object without a string `answer`".into()),
        },
        Some(_) => Err("data.answer is neither a string nor an object".into()),
        None => Err("answer has no data.answer".into()),
    }
}

/// A string answer may be a stringified `{"answer": "..."}`; otherwise it is the text.
fn text_of_string(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => match object.get("answer") {
            Some(Value::String(inner)) => inner.clone(),
            _ => text.to_string(),
        },
        _ => text.to_string(),
    }
}

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub is_end: bool,
}

/// Splits a `text/event-stream` body into events as its bytes arrive.
#[derive(Default)]
pub struct SseReader {
    pending: Vec<u8>,
}

impl SseReader {
    /// Feeds bytes; answers the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Piece>, String> {
        self.pending.extend_from_slice(bytes);
        let mut pieces = Vec::new();
        while let Some((end, gap)) = event_end(&self.pending) {
            let event: Vec<u8> = self.pending.drain(..end + gap).take(end).collect();
            if let Some(piece) = parse_event(&event)? {
                pieces.push(piece);
            }
        }
        if self.pending.len() > MAX_EVENT_BYTES {
            return Err(format!("an event is longer than {MAX_EVENT_BYTES} bytes"));
        }
        Ok(pieces)
    }

    /// The last event, when the stream ended without a blank line after it.
    pub fn finish(&mut self) -> Result<Option<Piece>, String> {
        let rest = std::mem::take(&mut self.pending);
        parse_event(&rest)
    }
}

/// Where the first event ends and how long the blank line after it is.
fn event_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = find(bytes, b"\n\n").map(|at| (at, 2));
    let crlf = find(bytes, b"\r\n\r\n").map(|at| (at, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The piece in one event's `data:` lines; comments, other fields and `[DONE]` carry none
/// (`[DONE]` ends the answer).
fn parse_event(event: &[u8]) -> Result<Option<Piece>, String> {
    let text = String::from_utf8_lossy(event);
    let data: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
        .collect();
    if data.is_empty() {
        return Ok(None);
    }
    let data = data.join("\n");
    if data.trim() == "[DONE]" {
        return Ok(Some(Piece {
            text: String::new(),
            is_end: true,
        }));
    }
    let value: Value =
        serde_json::from_str(&data).map_err(|e| format!("event data is not JSON: {e}"))?;
    let Some(text) = value.get("answer").and_then(Value::as_str) else {
        return Err("event data has no string `answer`".into());
    };
    let is_end = value.get("isEnd").and_then(Value::as_bool).unwrap_or(false);
    Ok(Some(Piece {
        text: text.to_string(),
        is_end,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_json_answer_shapes_give_the_text() {
        let object =
            br#"{"code":"200","success":true,"data":{"answer":{"answer":"hi","operations":{}}}}"#;
        let stringified = br#"{"success":true,"data":{"answer":"{\"answer\":\"hi\"}"}}"#;
        let plain = br#"{"success":true,"data":{"answer":"hi"}}"#;
        for body in [&object[..], &stringified[..], &plain[..]] {
            assert_eq!(json_answer(body).as_deref(), Ok("hi"));
        }
        assert!(json_answer(br#"{"success":false,"msg":"nope"}"#).is_err());
        assert!(json_answer(b"not json").is_err());
        assert!(json_answer(br#"{"data":{"answer":5}}"#).is_err());
    }

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut reader = SseReader::default();
        assert_eq!(reader.push(b"data: {\"answer\":\"a\",").unwrap(), vec![]);
        let pieces = reader
            .push(
                b"\"isEnd\":false}\n\n: comment\n\ndata: {\"answer\":\"b\",\"isEnd\":true}\r\n\r\n",
            )
            .unwrap();
        assert_eq!(pieces.len(), 2);
        assert_eq!(
            pieces[1],
            Piece {
                text: "b".into(),
                is_end: true
            }
        );
        assert_eq!(reader.finish(), Ok(None));
    }

    #[test]
    fn a_broken_event_is_an_error_not_a_panic() {
        let mut reader = SseReader::default();
        assert!(reader.push(b"data: {oops\n\n").is_err());
        assert!(reader.push(&vec![b'x'; MAX_EVENT_BYTES + 1]).is_err());
    }
}
