//! The SSE readers of the two webhook clients, on a vendor's answer body:
//! - the DUIX mock's (`mocks::duix::answer::SseReader`, as `webhook.rs` reads a streamed answer
//!   chunk by chunk, and `json_answer` for the JSON form); the events must come out the same
//!   whatever the chunking;
//! - `agentproof webhook`'s (`sse_events`, `stream_ended` after each chunk as `traffic::send`
//!   calls it, the next turn's `answer_text`, and the `sse` rule's verdict, schema and all).
//!
//! Input: one byte whose low 6 bits (plus one) give the chunk size, then the body.

#![no_main]

use harness::vendor_check::webhook::fuzzing::{
    answer_text, sse, sse_events, stream_ended, Answer, Exchange,
};
use libfuzzer_sys::fuzz_target;
use mocks::duix::answer::{json_answer, Piece, SseReader, MAX_EVENT_BYTES};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunking & 63) + 1;

    // The DUIX mock: as one read, and as the transport might deliver it.
    let whole = read(body, body.len().max(1));
    let chunked = read(body, chunk);
    // An event longer than the cap fails by itself, earlier in small chunks; below it, chunking
    // must not change what is read.
    if body.len() <= MAX_EVENT_BYTES {
        match (&whole, &chunked) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the events"),
            (Err(_), Err(_)) => {}
            _ => panic!("chunking changed the outcome: {whole:?} vs {chunked:?}"),
        }
    }
    let _ = json_answer(body);

    // agentproof webhook.
    let _ = sse_events(body);
    // As `traffic::send` reads: after each chunk that mentions isEnd, is the stream over?
    let mut read = 0;
    for part in body.chunks(chunk) {
        read += part.len();
        if part.windows(5).any(|w| w == b"isEnd") && stream_ended(&body[..read]) {
            break;
        }
    }
    for is_sse in [true, false] {
        let answer = Answer {
            status: 200,
            is_sse,
            body: body.to_vec(),
            elapsed: Duration::from_millis(5),
            first_event: Some(Duration::from_millis(1)),
        };
        let _ = answer_text(&answer);
        let exchange = Exchange {
            conversation_id: "3f8e5b0c-5d1e-4e4b-9d7e-000000000000".into(),
            turn: 0,
            stream: true,
            answer: Ok(answer),
        };
        let _ = sse(&[exchange]).line();
    }
});

/// Every piece until the first error (the reader is not used after one) and the last one.
fn read(body: &[u8], chunk: usize) -> Result<Vec<Piece>, String> {
    let mut reader = SseReader::default();
    let mut pieces = Vec::new();
    for part in body.chunks(chunk) {
        pieces.extend(reader.push(part)?);
    }
    pieces.extend(reader.finish()?);
    Ok(pieces)
}
