//! The readers of an LLM's answer stream, on a vendor's answer body:
//! - protocol's `StreamReader` and `Transcript`, as the mock's agents, `agentproof llm` and the
//!   `alibaba-llm` scenario read a stream chunk by chunk: the events must come out the same
//!   whatever the chunking (below the event-size cap);
//! - `agentproof llm`'s `stream` and `answer` rules, schema and all, on the whole body.
//!
//! Input: one byte whose low 6 bits (plus one) give the chunk size, then the body.

#![no_main]

use harness::vendor_check::llm::fuzzing::{answer, stream, Answer, Exchange};
use libfuzzer_sys::fuzz_target;
use protocol::alibaba::llm::{Event, StreamReader, Transcript, MAX_EVENT_BYTES};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Some((&chunking, body)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunking & 63) + 1;
    let whole = read(body, body.len().max(1));
    let chunked = read(body, chunk);
    if body.len() <= MAX_EVENT_BYTES {
        match (&whole, &chunked) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the events"),
            (Err(_), Err(_)) => {}
            _ => panic!("chunking changed the outcome: {whole:?} vs {chunked:?}"),
        }
    }
    if let Ok(events) = whole {
        let mut transcript = Transcript::default();
        events.into_iter().for_each(|e| transcript.push(e));
        let _ = transcript.end_problem();
    }
    let exchange = Exchange {
        turn: 0,
        records: 2,
        answer: Ok(Answer {
            status: 200,
            is_sse: true,
            body: body.to_vec(),
            elapsed: Duration::from_millis(5),
            first_event: Some(Duration::from_millis(1)),
        }),
    };
    let _ = stream(std::slice::from_ref(&exchange)).line();
    let _ = answer(std::slice::from_ref(&exchange)).line();
});

/// Every event until the first error, and the last one.
fn read(body: &[u8], chunk: usize) -> Result<Vec<Event>, String> {
    let mut reader = StreamReader::default();
    let mut events = Vec::new();
    for part in body.chunks(chunk) {
        events.extend(reader.push(part)?);
    }
    events.extend(reader.finish()?);
    Ok(events)
}
