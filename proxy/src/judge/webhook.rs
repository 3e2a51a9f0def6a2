//! A DUIX vendor's dialogue webhook: `POST` with `{sid, dh-code, dh-question,
//! dh-conversation-id, dh-context?}` (`duix/webhook.request`), answered with the envelope
//! `{code: "200", success: true, data: {conversationId, answer}}` (`duix/webhook.response`), or
//! as Server-Sent Events each valid against `duix/webhook.sse-event`, the last with `isEnd`;
//! refusals are `{code, success: false, msg?}` (`duix/webhook.error`) with 400, 401, 403 or a
//! 5xx, `code` the status as text as the reference webhook sends it.

use super::{
    aui::method_word, code_text, fail, violations, Envelope, Finding, Operation, ReadAnswer,
};
use crate::exchange::{Answer, Request};
use serde_json::Value;

/// The route the webhook's questions are timed under.
pub const ROUTE: &str = protocol::request::duix::WEBHOOK_ROUTE;

/// Every POST is a question; anything else `webhook <METHOD> unknown`.
pub fn operation(request: &Request) -> Operation {
    if request.method != "POST" {
        return Operation {
            route: format!("webhook {} unknown", method_word(&request.method)),
            request: None,
            success_schema: None,
        };
    }
    let document = serde_json::from_slice::<Value>(&request.body)
        .map_err(|e| format!("the body is not JSON ({e})"));
    Operation {
        route: ROUTE.to_string(),
        request: Some(("duix/webhook.request".into(), document)),
        success_schema: Some("duix/webhook.response".into()),
    }
}

/// Whether the answer is an event stream.
pub fn is_stream(answer: &Answer) -> bool {
    answer.content_type().starts_with("text/event-stream")
}

/// A stream is a success; JSON with `success: true` too; anything else an error with its code.
pub fn read_answer(answer: &Answer) -> ReadAnswer {
    if is_stream(answer) && answer.status == 200 {
        return ReadAnswer {
            envelope: Envelope::Success,
            json: None,
        };
    }
    let json = answer.json();
    let envelope = match &json {
        Some(body) if body.get("success") == Some(&Value::Bool(true)) => Envelope::Success,
        Some(body) => match body.get("code").and_then(code_text) {
            Some(code) => Envelope::Error { code },
            None => Envelope::Unreadable("a JSON body without `code`".into()),
        },
        None => Envelope::Unreadable(format!(
            "a body that is not JSON ({} bytes)",
            answer.body.len()
        )),
    };
    ReadAnswer { envelope, json }
}

/// The webhook's error codes are HTTP statuses as text.
pub fn is_catalogued(code: &str) -> bool {
    code.parse::<u16>().is_ok_and(|n| (400..600).contains(&n))
}

/// The code's own status.
pub fn statuses(code: &str) -> Vec<u16> {
    code.parse::<u16>().map(|n| vec![n]).unwrap_or_default()
}

/// Each `data:` event of a stream against `duix/webhook.sse-event`, and a last one with `isEnd`.
pub fn stream_finding(answer: &Answer) -> Finding {
    let Ok(text) = std::str::from_utf8(&answer.body) else {
        return fail("UTF-8 events", "a stream that is not UTF-8");
    };
    let Some(schema) = schemas::registry().get("duix/webhook.sse-event") else {
        return Finding::Skip;
    };
    let mut last_end = false;
    let mut events = 0;
    for data in text
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
    {
        events += 1;
        let Ok(event) = serde_json::from_str::<Value>(data) else {
            return fail(
                "events valid against duix/webhook.sse-event",
                format!("event {events} is not JSON"),
            );
        };
        if let Some(why) = violations(schema, &event) {
            return fail(
                "events valid against duix/webhook.sse-event",
                format!("event {events}: {why}"),
            );
        }
        last_end = event.get("isEnd") == Some(&Value::Bool(true));
    }
    if last_end {
        Finding::Pass
    } else {
        fail(
            "a stream ending with an isEnd event",
            format!("{events} events, the last without isEnd"),
        )
    }
}
