//! The rules that are an LLM endpoint's own, each judging only what is its own, so a vendor
//! learns exactly which rule it breaks: a request answered at the wrong path is the `path`
//! rule's alone; a stream whose chunks are not readable is `stream`'s, and `answer` judges only
//! readable streams; a timed-out request is the `timeout` rule's finding and, never under the
//! limit, counts against `ttft` too. (`auth`, `malformed`, `ttft` and `timeout` are judged by
//! the engine's shared rules.)
//!
//! | rule | what it asks |
//! | --- | --- |
//! | `path` | `POST <base URL>/chat/completions` is answered there: no 404, 405 or redirect |
//! | `stream` | HTTP 200 `text/event-stream`; `data:` lines each a `chat.completion.chunk` with `choices[0].delta` (`alibaba/llm.chunk`), a `finish_reason` at the end, `data: [DONE]` last |
//! | `answer` | the assembled answer of a readable stream is not empty |
//! | `auth` | with `--api-key`, the same request without it and with a wrong key get 401 or 403 |
//! | `malformed` | each must-refuse body gets 4xx, each may-accept one 200 or 4xx (a note), none 5xx |
//! | `ttft` | 95 % of first content tokens under `--ttft-ms`, counted exactly |
//! | `timeout` | no request reaches `--timeout-ms` |

use super::super::send::{Answer, Missing};
use super::super::verdict::{cut, fail, pass, worst_of, Outcome, Verdict};
use super::traffic::{transcript, Exchange};
use protocol::alibaba::llm::{Event, StreamReader, CHAT_COMPLETIONS};
use serde_json::Value;

/// Statuses that say the request went to the wrong place.
fn misrouted(status: u16) -> bool {
    matches!(status, 404 | 405 | 300..=399)
}

/// The answers that came (timeouts and transport failures are other rules' findings).
fn answered(exchanges: &[Exchange]) -> impl Iterator<Item = &Answer> {
    exchanges.iter().filter_map(|e| e.answer.as_ref().ok())
}

pub fn path(exchanges: &[Exchange], base: &str, url: &str) -> Verdict {
    let title = "POST <base URL>/chat/completions is answered there (no 404, 405 or redirect)";
    let total = answered(exchanges).count();
    let wrong: Vec<u16> = answered(exchanges)
        .map(|a| a.status)
        .filter(|s| misrouted(*s))
        .collect();
    let shown = crate::net::shown_url(url);
    let outcome = match wrong.first() {
        _ if total == 0 => Outcome::Skip("no request was answered (see timeout)".into()),
        None => {
            let turns = exchanges.iter().map(|e| e.turn + 1).max().unwrap_or(0);
            let records = exchanges.iter().map(|e| e.records).max().unwrap_or(0);
            pass(format!(
                "{total} requests answered at {shown} (conversations of up to {turns} turns, {records} records)"
            ))
        }
        Some(status) => {
            let hint = if base
                .split('?')
                .next()
                .unwrap_or_default()
                .trim_end_matches('/')
                .ends_with(CHAT_COMPLETIONS)
            {
                "--url ends with /chat/completions: give the base URL, the platform appends /chat/completions"
            } else if (300..400).contains(status) {
                "the platform follows no redirect: give the URL that answers"
            } else {
                "the platform POSTs to the base URL + /chat/completions: serve that path"
            };
            fail(
                "an answer at <base URL>/chat/completions",
                format!(
                    "HTTP {status} at {shown} in {} of {total} requests; {hint}",
                    wrong.len()
                ),
            )
        }
    };
    Verdict::new("path", title, outcome)
}

/// A rule that cannot be judged while the path is wrong.
pub fn not_at_the_path(rule: &'static str, title: &'static str) -> Verdict {
    Verdict::new(
        rule,
        title,
        Outcome::Skip("the endpoint is not answered at the path (see path)".into()),
    )
}

pub fn stream(exchanges: &[Exchange]) -> Verdict {
    let title = "text/event-stream of chat.completion.chunk events with choices[0].delta, a finish_reason, data: [DONE] last";
    let schema = schemas::registry()
        .get("alibaba/llm.chunk")
        .expect("the LLM chunk schema is embedded");
    let mut problems = Vec::new();
    let (mut total, mut chunks) = (0, 0);
    for exchange in exchanges {
        let problem =
            match &exchange.answer {
                Err(Missing::TimedOut) => continue,
                Ok(a) if misrouted(a.status) => continue,
                Err(Missing::Failed(why)) => Some(format!("no answer ({})", cut(why, 80))),
                Ok(a) if a.status != 200 => Some(refusal(a)),
                Ok(a) if !a.is_sse => {
                    Some(format!(
                "HTTP 200 without Content-Type text/event-stream (the platform only streams){}",
                if looks_like_completion(&a.body) { ": a whole chat.completion" } else { "" }
            ))
                }
                Ok(a) => match stream_problem(schema, &a.body) {
                    Ok(n) => {
                        chunks += n;
                        None
                    }
                    Err(why) => Some(why),
                },
            };
        total += 1;
        problems.extend(problem);
    }
    let outcome = match worst_of(&problems, total, "requests") {
        _ if total == 0 => Outcome::Skip("no request was answered at the path (see path, timeout)".into()),
        None => pass(format!(
            "{total} streams, {chunks} chunks, each stream ending with a finish_reason and data: [DONE]"
        )),
        Some(got) => fail(
            "HTTP 200, Content-Type text/event-stream, data: chunks as alibaba/llm.chunk, a finish_reason, data: [DONE] last",
            got,
        ),
    };
    Verdict::new("stream", title, outcome)
}

/// `HTTP 401: <the OpenAI error message>`.
fn refusal(answer: &Answer) -> String {
    let message = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|json| json.pointer("/error/message")?.as_str().map(|m| cut(m, 80)));
    match message {
        Some(message) => format!("HTTP {} ({message})", answer.status),
        None => format!("HTTP {}", answer.status),
    }
}

fn looks_like_completion(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|json| json["object"] == "chat.completion")
}

/// What breaks a stream, in the order a vendor should fix it: unreadable events, a chunk's
/// essentials, its full schema, the end. The chunk count when nothing does.
fn stream_problem(schema: &schemas::Schema, body: &[u8]) -> Result<usize, String> {
    let mut reader = StreamReader::default();
    let mut events = reader.push(body)?;
    events.extend(reader.finish()?);
    let read = transcript(body)?;
    if let Some(problem) = &read.problem {
        return Err(problem.clone());
    }
    let violation = events.iter().find_map(|event| match event {
        Event::Chunk(chunk) => schema.violations(chunk).into_iter().next(),
        Event::Done => None,
    });
    if let Some(v) = violation {
        return Err(scenarios::exchange::violation("alibaba/llm.chunk", &v));
    }
    match read.end_problem() {
        Some(problem) => Err(problem),
        None => Ok(read.chunks),
    }
}

pub fn answer(exchanges: &[Exchange]) -> Verdict {
    let title = "the assembled answer is not empty";
    let readable: Vec<String> = answered(exchanges)
        .filter(|a| a.status == 200 && a.is_sse)
        .filter_map(|a| transcript(&a.body).ok())
        .filter(|t| t.problem.is_none() && t.chunks > 0)
        .map(|t| t.text)
        .collect();
    let total = readable.len();
    let empty = readable.iter().filter(|t| t.trim().is_empty()).count();
    let sample = readable.iter().find(|t| !t.trim().is_empty());
    let outcome = match empty {
        _ if total == 0 => Outcome::Skip("no readable stream came (see stream)".into()),
        0 => pass(format!(
            "{total} of {total} answers have text, e.g. {:?}",
            cut(sample.map_or("", String::as_str), 60)
        )),
        n => fail(
            "delta.content pieces that join into a non-empty answer",
            format!("an empty answer in {n} of {total} readable streams"),
        ),
    };
    Verdict::new("answer", title, outcome)
}

/// The first content token's time of each stream that brought one; `None` for a timeout.
pub fn first_tokens(exchanges: &[Exchange]) -> Vec<Option<std::time::Duration>> {
    exchanges
        .iter()
        .filter_map(|e| match &e.answer {
            Ok(a) => a.first_event.map(Some),
            Err(Missing::TimedOut) => Some(None),
            Err(Missing::Failed(_)) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn exchange(status: u16, is_sse: bool, body: &str) -> Exchange {
        Exchange {
            turn: 0,
            records: 2,
            answer: Ok(Answer {
                status,
                is_sse,
                body: body.as_bytes().to_vec(),
                elapsed: Duration::from_millis(5),
                first_event: Some(Duration::from_millis(1)),
            }),
        }
    }

    const GOOD: &str = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

    #[test]
    fn a_good_stream_passes_stream_and_answer() {
        let exchanges = [exchange(200, true, GOOD)];
        assert!(
            !stream(&exchanges).failed(),
            "{}",
            stream(&exchanges).line()
        );
        assert_eq!(
            answer(&exchanges).line(),
            "  ok    answer: 1 of 1 answers have text, e.g. \"hi\""
        );
    }

    #[test]
    fn chunks_without_choices_are_the_stream_rules_not_the_answers() {
        let body = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"content\":\"hi\"}\n\ndata: [DONE]\n\n";
        let exchanges = [exchange(200, true, body)];
        let verdict = stream(&exchanges);
        assert!(
            verdict.line().contains("a chunk without a choices array"),
            "{}",
            verdict.line()
        );
        assert!(matches!(answer(&exchanges).outcome, Outcome::Skip(_)));
    }

    #[test]
    fn a_stream_without_done_fails_stream_only() {
        let exchanges = [exchange(
            200,
            true,
            GOOD.trim_end_matches("data: [DONE]\n\n"),
        )];
        assert!(stream(&exchanges).line().contains("without data: [DONE]"));
        assert!(!answer(&exchanges).failed());
    }

    #[test]
    fn a_wrong_path_is_the_path_rules_with_a_hint() {
        let exchanges = [exchange(404, false, "{}")];
        let verdict = path(
            &exchanges,
            "http://h/v1/chat/completions",
            "http://h/v1/chat/completions/chat/completions",
        );
        assert!(
            verdict.line().contains("--url ends with /chat/completions"),
            "{}",
            verdict.line()
        );
        assert!(matches!(stream(&exchanges).outcome, Outcome::Skip(_)));
        let refused = [exchange(
            401,
            false,
            r#"{"error":{"message":"Incorrect API key provided."}}"#,
        )];
        assert!(stream(&refused)
            .line()
            .contains("HTTP 401 (Incorrect API key provided.)"));
    }
}
