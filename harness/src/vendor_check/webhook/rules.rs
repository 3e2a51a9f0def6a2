//! The rules a vendor's webhook is judged by (those that are the webhook's own here; `malformed`,
//! `auth`, `latency` and `timeout` are judged by the engine's shared rules), each its own named case, each judging only what
//! is its own (a missing `answer` is the `answer` rule's alone, a wrong id the
//! `conversation-id` rule's), so a vendor learns exactly which rule it breaks. A request that
//! got no answer at all (reset, cut off, too large) is a problem of the rule it was sent for;
//! one that timed out is the `timeout` rule's finding and, never being under 2000 ms, counts
//! against `latency` too.
//!
//! | rule | what it asks |
//! | --- | --- |
//! | `envelope` | a valid question gets HTTP 200 with the seed's envelope (`duix/webhook.response`, less the two fields below), `success` agreeing with `code` |
//! | `answer` | `data.answer` present: a string holding a JSON object, or the object, with its `answer` text |
//! | `conversation-id` | `data.conversationId` is the request's `dh-conversation-id`, in every turn |
//! | `continuity` | in later turns of a conversation the answer names the same conversation as its first turn's |
//! | `sse` | asked for `text/event-stream`: well-formed events (`duix/webhook.sse-event`), a final `isEnd`, an assembled answer |
//! | `malformed` | a required field missing or of a wrong type, broken JSON, a body not an object: 4xx; the optional `dh-context` malformed or an empty question: 200 or 4xx, as a note; never 5xx |
//! | `auth` | with `--header` credentials, the same request without them gets 401 or 403 |
//! | `latency` | 95 % of answers under 2000 ms, counted exactly |
//! | `timeout` | no request reaches `--timeout-ms` |

use super::super::send::{Answer, Missing};
use super::super::verdict::{cut, fail, most_common, pass, Outcome, Verdict};
use super::traffic::Exchange;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The answers that came (timeouts and transport failures are the `timeout` rule's).
fn answered(exchanges: &[Exchange]) -> impl Iterator<Item = (&Exchange, &Answer)> {
    exchanges
        .iter()
        .filter_map(|e| e.answer.as_ref().ok().map(|a| (e, a)))
}

/// Why the requests that got no answer at all got none (not the timeouts: those are the
/// timeout rule's).
fn unanswered<'a>(
    exchanges: impl Iterator<Item = &'a Exchange> + 'a,
) -> impl Iterator<Item = String> + 'a {
    exchanges.filter_map(|e| match &e.answer {
        Err(Missing::Failed(why)) => Some(format!("no answer ({})", cut(why, 80))),
        _ => None,
    })
}

/// The JSON answers with HTTP 200 (the others are the envelope rule's finding).
fn json_answers(exchanges: &[Exchange]) -> Vec<(&Exchange, Value)> {
    answered(exchanges)
        .filter(|(_, a)| a.status == 200 && !a.is_sse)
        .filter_map(|(e, a)| Some((e, serde_json::from_slice(&a.body).ok()?)))
        .collect()
}

pub fn envelope(exchanges: &[Exchange]) -> Verdict {
    let title =
        "a valid question gets HTTP 200 and the seed's answer envelope, success agreeing with code";
    let schema = schemas::registry()
        .get("duix/webhook.response")
        .expect("the webhook answer schema is embedded");
    let mut problems = Vec::new();
    let mut total = 0;
    for (_, answer) in answered(exchanges).filter(|(e, _)| !e.stream) {
        total += 1;
        let problem = if answer.status != 200 {
            Some(format!("HTTP {}", answer.status))
        } else if answer.is_sse {
            None
        } else {
            match serde_json::from_slice::<Value>(&answer.body) {
                Err(_) => Some("a body that is not JSON".to_string()),
                Ok(json) => envelope_problem(schema, &json),
            }
        };
        problems.extend(problem);
    }
    for why in unanswered(exchanges.iter().filter(|e| !e.stream)) {
        total += 1;
        problems.push(why);
    }
    let outcome = match (total, most_common(problems.iter().cloned())) {
        (0, _) => Outcome::Skip("no answer came (see timeout)".into()),
        (_, (_, 0)) => pass(format!("{total} of {total} answers")),
        (_, (worst, n)) => fail(
            "HTTP 200 with {code, success, data} as duix/webhook.response says",
            format!(
                "{worst} in {n} of {total} answers ({} with a problem)",
                problems.len()
            ),
        ),
    };
    Verdict::new("envelope", title, outcome)
}

/// What is wrong with the envelope, leaving `data.answer` and `data.conversationId` to their
/// own rules.
fn envelope_problem(schema: &schemas::Schema, json: &Value) -> Option<String> {
    let own =
        |path: &str| path.starts_with("/data/answer") || path.starts_with("/data/conversationId");
    if let Some(v) = schema
        .violations(json)
        .iter()
        .find(|v| !own(&v.instance_path))
    {
        return Some(scenarios::exchange::violation("duix/webhook.response", v));
    }
    let (code, success) = (json["code"].as_str(), json["success"].as_bool());
    match (code, success) {
        (Some("200"), Some(true)) => None,
        (Some(code), Some(true)) => Some(format!("success true with code {code:?} (200 expected)")),
        (code, _) => {
            let why = json["errorMsg"]
                .as_str()
                .or(json["msg"].as_str())
                .unwrap_or_default();
            Some(format!(
                "success false to a valid question (code {:?}: {})",
                code.unwrap_or_default(),
                cut(why, 80)
            ))
        }
    }
}

pub fn answer(exchanges: &[Exchange]) -> Verdict {
    let title = "data.answer is present: a string holding a JSON object, or the object, with its answer text";
    let answers = json_answers(exchanges);
    let problems: Vec<String> = answers
        .iter()
        .filter_map(|(_, json)| answer_problem(&json["data"]["answer"]))
        .collect();
    let total = answers.len();
    let outcome = match most_common(problems.iter().cloned()) {
        _ if total == 0 => Outcome::Skip("no HTTP 200 JSON answer came".into()),
        (_, 0) => pass(format!("{total} of {total} answers")),
        (worst, n) => fail(
            "data.answer, e.g. {\"answer\": \"text to speak\"} or its JSON text",
            format!("{worst} in {n} of {total} answers"),
        ),
    };
    Verdict::new("answer", title, outcome)
}

fn answer_problem(answer: &Value) -> Option<String> {
    let object = match answer {
        Value::Null => return Some("no data.answer".into()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(object) => object,
            Err(_) => return Some("data.answer is a string that is not JSON".into()),
        },
        other => other.clone(),
    };
    match object.get("answer") {
        Some(Value::String(_)) => None,
        Some(_) => Some("data.answer.answer is not a string".into()),
        None => Some("data.answer has no answer text".into()),
    }
}

pub fn conversation_id(exchanges: &[Exchange]) -> Verdict {
    let title = "data.conversationId is the request's dh-conversation-id, in every turn";
    let answers = json_answers(exchanges);
    let total = answers.len();
    let wrong: Vec<(&Exchange, String)> = answers
        .iter()
        .filter_map(|(e, json)| {
            let got = &json["data"]["conversationId"];
            (got.as_str() != Some(e.conversation_id.as_str())).then(|| (*e, got.to_string()))
        })
        .collect();
    let later_turns = answers.iter().filter(|(e, _)| e.turn > 0).count();
    let outcome = match wrong.first() {
        _ if total == 0 => Outcome::Skip("no HTTP 200 JSON answer came".into()),
        None => pass(format!(
            "{total} of {total} answers, {later_turns} of them in later turns of a conversation"
        )),
        Some(_) => {
            let (got, _) = most_common(wrong.iter().map(|(_, g)| g.clone()));
            let sent = wrong
                .iter()
                .find(|(_, g)| *g == got)
                .map_or("", |(e, _)| &e.conversation_id[..8]);
            fail(
                "the dh-conversation-id sent, in every turn",
                format!(
                    "sent {sent}…, got {} in {} of {total} answers",
                    cut(&got, 80),
                    wrong.len()
                ),
            )
        }
    };
    Verdict::new("conversation-id", title, outcome)
}

/// Later turns name the same conversation as the first turn's answer did.
pub fn continuity(exchanges: &[Exchange]) -> Verdict {
    let title = "later turns of a conversation keep the conversationId of its first turn";
    let answers = json_answers(exchanges);
    let first: BTreeMap<&str, &Value> = answers
        .iter()
        .filter(|(e, _)| e.turn == 0)
        .map(|(e, json)| (e.conversation_id.as_str(), &json["data"]["conversationId"]))
        .collect();
    let later: Vec<(&Exchange, &Value)> = answers
        .iter()
        .filter(|(e, _)| e.turn > 0)
        .filter_map(|(e, json)| {
            let opened = first.get(e.conversation_id.as_str())?;
            Some((*e, *opened)).filter(|_| json["data"]["conversationId"] != **opened)
        })
        .collect();
    let judged = answers
        .iter()
        .filter(|(e, _)| e.turn > 0 && first.contains_key(e.conversation_id.as_str()))
        .count();
    let outcome = match later.first() {
        _ if judged == 0 => Outcome::Skip("no conversation got answers in two turns (use --requests 2 or more)".into()),
        None => pass(format!("{judged} later-turn answers kept their conversation's id")),
        Some((e, opened)) => fail(
            "the conversation's id in every later turn",
            format!(
                "turn {} of {}… answered {}, its first turn {} ({} of {judged} later-turn answers changed it)",
                e.turn + 1,
                &e.conversation_id[..8],
                cut(&answers.iter().find(|(x, _)| x.conversation_id == e.conversation_id && x.turn == e.turn).map_or(String::new(), |(_, j)| j["data"]["conversationId"].to_string()), 80),
                cut(&opened.to_string(), 80),
                later.len()
            ),
        ),
    };
    Verdict::new("continuity", title, outcome)
}

/// The JSON of each event of a stream: its `data:` lines joined, events apart at blank lines
/// (CRLF, LF or CR line ends), as the SSE format says.
pub fn sse_events(body: &[u8]) -> Result<Vec<Value>, String> {
    let text = String::from_utf8_lossy(body)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let data: Vec<&str> = block
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            continue;
        }
        let event = serde_json::from_str(&data.join("\n"))
            .map_err(|_| "an event whose data is not JSON".to_string())?;
        events.push(event);
    }
    Ok(events)
}

/// Whether the events so far end with `isEnd` true (the last one complete).
pub fn stream_ended(body: &[u8]) -> bool {
    let complete = body.ends_with(b"\n\n") || body.ends_with(b"\r\n\r\n");
    complete
        && sse_events(body)
            .ok()
            .and_then(|events| events.last().map(|e| e["isEnd"] == Value::Bool(true)))
            .unwrap_or(false)
}

pub fn sse(exchanges: &[Exchange]) -> Verdict {
    let title =
        "asked for text/event-stream: well-formed events, a final isEnd, an assembled answer";
    let asked: Vec<&Exchange> = exchanges.iter().filter(|e| e.stream).collect();
    let streams: Vec<&Answer> = asked
        .iter()
        .filter_map(|e| e.answer.as_ref().ok())
        .filter(|a| a.status == 200 && a.is_sse)
        .collect();
    let mut problems: Vec<String> = asked
        .iter()
        .filter_map(|e| match &e.answer {
            Ok(a) if a.status != 200 => Some(format!("HTTP {}", a.status)),
            Ok(a) if !a.is_sse && !is_json_envelope(&a.body) => {
                Some("an answer that is neither an event stream nor the JSON envelope".into())
            }
            Err(Missing::Failed(why)) => Some(format!("no answer ({})", cut(why, 80))),
            _ => None,
        })
        .collect();
    if streams.is_empty() && problems.is_empty() {
        let why = match asked.is_empty() {
            true => "no stream was asked for",
            false => {
                "the webhook answers JSON even when asked for a stream (the platform reads both)"
            }
        };
        return Verdict::new("sse", title, Outcome::Skip(why.into()));
    }
    let schema = schemas::registry()
        .get("duix/webhook.sse-event")
        .expect("the SSE event schema is embedded");
    let (mut first, mut end) = (Duration::ZERO, Duration::ZERO);
    for answer in &streams {
        first = first.max(answer.first_event.unwrap_or(answer.elapsed));
        end = end.max(answer.elapsed);
        let problem = match sse_events(&answer.body) {
            Err(why) => Some(why),
            Ok(events) => stream_problem(schema, &events),
        };
        problems.extend(problem);
    }
    let total = asked
        .iter()
        .filter(|e| !matches!(e.answer, Err(Missing::TimedOut)))
        .count();
    let outcome = match most_common(problems.iter().cloned()) {
        (_, 0) => pass(format!(
            "{} streams, first event within {} ms, the end within {} ms",
            streams.len(),
            first.as_millis(),
            end.as_millis()
        )),
        (worst, n) => fail(
            "data: events as duix/webhook.sse-event, the last with isEnd true",
            format!("{worst} in {n} of {total} stream requests"),
        ),
    };
    Verdict::new("sse", title, outcome)
}

/// Whether `body` is the JSON answer envelope (a stream request may be answered in JSON).
fn is_json_envelope(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|json| json.get("data").is_some())
}

fn stream_problem(schema: &schemas::Schema, events: &[Value]) -> Option<String> {
    if let Some(v) = events
        .iter()
        .find_map(|e| schema.violations(e).into_iter().next())
    {
        return Some(scenarios::exchange::violation("duix/webhook.sse-event", &v));
    }
    if events.last().and_then(|e| e["isEnd"].as_bool()) != Some(true) {
        return Some("the stream ended without isEnd".into());
    }
    let text: String = events.iter().filter_map(|e| e["answer"].as_str()).collect();
    text.is_empty()
        .then(|| "the assembled answer is empty".into())
}

#[cfg(test)]
mod tests {
    use super::super::super::rules::{Expectation, Probe};
    use super::*;
    use serde_json::json;

    /// Every probe answered by `status_of` its expectation.
    fn malformed_with(status_of: impl Fn(&Probe) -> Result<u16, Missing>) -> Verdict {
        let probes: Vec<_> = super::super::probes::malformed("100003", "1")
            .into_iter()
            .map(|p| {
                let answer = status_of(&p).map(|status| Answer {
                    status,
                    is_sse: false,
                    body: Vec::new(),
                    elapsed: Duration::from_millis(1),
                    first_event: None,
                });
                (p, answer)
            })
            .collect();
        super::super::super::rules::malformed(&probes, &super::super::MALFORMED)
    }

    fn may_accept(p: &Probe) -> bool {
        matches!(p.expect, Expectation::MayAccept(_))
    }

    #[test]
    fn a_lenient_vendor_passes_malformed_with_a_note_per_case_it_accepted() {
        let lenient = malformed_with(|p| Ok(if may_accept(p) { 200 } else { 400 }));
        assert!(!lenient.failed(), "{}", lenient.line());
        assert_eq!(lenient.notes.len(), 3, "{}", lenient.line());
        assert!(lenient
            .notes
            .iter()
            .all(|n| n.contains("HTTP 200, accepted")));
        let strict = malformed_with(|_| Ok(422));
        assert!(!strict.failed(), "any 4xx refuses: {}", strict.line());
        assert!(strict.notes.iter().all(|n| n.contains("refused")));
    }

    #[test]
    fn a_must_refuse_case_answered_200_or_any_case_answered_5xx_fails_malformed() {
        let accepts_all = malformed_with(|_| Ok(200));
        let Outcome::Fail { got, .. } = &accepts_all.outcome else {
            panic!(
                "accepting a missing dh-question must fail: {}",
                accepts_all.line()
            );
        };
        assert!(got.starts_with("10 of 13 wrong"), "{got}");
        assert!(!got.contains("dh-context"), "may accept: {got}");
        let crashes_on_context = malformed_with(|p| Ok(if may_accept(p) { 500 } else { 400 }));
        let Outcome::Fail { got, .. } = &crashes_on_context.outcome else {
            panic!("a 5xx must fail: {}", crashes_on_context.line());
        };
        assert!(
            got.starts_with("3 of 13 wrong: dh-context an object"),
            "{got}"
        );
        let reset = malformed_with(|p| match may_accept(p) {
            true => Err(Missing::Failed("connection reset".into())),
            false => Ok(400),
        });
        assert!(reset.failed(), "no answer is never right: {}", reset.line());
    }

    #[test]
    fn an_answer_may_be_the_object_or_its_json_text() {
        assert_eq!(answer_problem(&json!({"answer": "hi"})), None);
        assert_eq!(answer_problem(&json!("{\"answer\":\"hi\"}")), None);
        assert!(answer_problem(&json!("hi")).is_some());
        assert!(answer_problem(&Value::Null).is_some());
        assert!(answer_problem(&json!({"operations": {}})).is_some());
    }

    #[test]
    fn success_must_agree_with_code() {
        let schema = schemas::registry().get("duix/webhook.response").unwrap();
        let body = |code: &str, success: bool| json!({"code": code, "success": success, "data": {"conversationId": "c", "answer": "{}"}});
        assert_eq!(envelope_problem(schema, &body("200", true)), None);
        assert!(envelope_problem(schema, &body("500", true)).is_some());
        assert!(envelope_problem(schema, &body("200", false)).is_some());
        let no_answer = json!({"code": "200", "success": true, "data": {"conversationId": "c"}});
        assert_eq!(
            envelope_problem(schema, &no_answer),
            None,
            "the answer rule's, not this one's"
        );
    }

    #[test]
    fn events_join_their_data_lines_and_end_at_is_end() {
        let body = b"data: {\"answer\":\r\ndata: \"hi\",\"isEnd\":true}\r\n\r\n";
        let events = sse_events(body).unwrap();
        assert_eq!(events[0]["answer"], "hi");
        assert!(stream_ended(body));
        assert!(
            !stream_ended(b"data: {\"answer\":\"hi\",\"isEnd\":true}"),
            "not complete yet"
        );
        assert!(!stream_ended(
            b"data: {\"answer\":\"hi\",\"isEnd\":false}\n\n"
        ));
    }

    #[test]
    fn an_event_stream_must_end_with_is_end() {
        let schema = schemas::registry().get("duix/webhook.sse-event").unwrap();
        let events = sse_events(b"data: {\"answer\":\"a\",\"isEnd\":false}\n\n").unwrap();
        assert_eq!(
            stream_problem(schema, &events).as_deref(),
            Some("the stream ended without isEnd")
        );
        assert!(sse_events(b"data: {oops}\n\n").is_err());
    }
}
