//! The malformed requests a webhook is sent (seed 003's status table: 400 for "Request
//! body/headers are invalid"), each marked with what the platform asks of the answer.
//!
//! Two kinds, so that a vendor is failed only for what would break on the platform:
//! - **must refuse** (4xx): a required field (`sid`, `dh-code`, `dh-question`,
//!   `dh-conversation-id`, seed 003: "Y") missing or not a string, broken JSON, a body that is
//!   not the documented object. Answering 200 means the vendor answers a question it could not
//!   have read.
//! - **may accept** (200 or 4xx, reported as a note): what the seed leaves open. The optional
//!   `dh-context` ("N") sent as an object or as text that is not JSON (the platform always sends
//!   JSON text; a vendor that does not use the context has no reason to read it), and an empty
//!   `dh-question` (a String, as the seed asks; answering it with a prompt to speak is as right
//!   as refusing it).
//!
//! No case may get a 5xx or no answer: the platform would see a crash either way.

use super::super::rules::{Expectation, Probe};
use serde_json::{json, Value};

/// Why an optional `dh-context` that is not JSON text may be accepted.
const CONTEXT_IS_OPTIONAL: &str =
    "dh-context is optional (seed 003: N) and the platform always sends JSON text; a vendor may ignore it";
/// Why an empty question may be accepted.
const EMPTY_QUESTION_IS_A_STRING: &str =
    "the seed asks for a String, and an empty one is; answering it (\"please say that again\") is as right as refusing it";

/// A valid body, to spoil one thing at a time.
fn valid(sid: &str, dh_code: &str) -> Value {
    json!({
        "sid": sid,
        "dh-code": dh_code,
        "dh-question": "who are you?",
        "dh-conversation-id": uuid::Uuid::new_v4().to_string(),
        "dh-context": "{}",
    })
}

/// Each required field missing and of a wrong type, a body that is not an object, broken JSON
/// (must refuse); the context an object or not JSON, an empty question (may accept).
pub fn malformed(sid: &str, dh_code: &str) -> Vec<Probe> {
    let mut probes = Vec::new();
    let mut push = |name: &str, body: Value, expect: Expectation| {
        probes.push(Probe {
            name: name.to_string(),
            body: body.to_string().into_bytes(),
            expect,
        })
    };
    for field in ["sid", "dh-code", "dh-question", "dh-conversation-id"] {
        let mut body = valid(sid, dh_code);
        body.as_object_mut().map(|o| o.remove(field));
        push(&format!("{field} missing"), body, Expectation::Refuse);
        let mut body = valid(sid, dh_code);
        body[field] = json!(42);
        push(&format!("{field} a number"), body, Expectation::Refuse);
    }
    push(
        "a JSON array, not an object",
        json!([valid(sid, dh_code)]),
        Expectation::Refuse,
    );
    let mut body = valid(sid, dh_code);
    body["dh-context"] = json!({"turns": []});
    push(
        "dh-context an object, not its JSON text",
        body,
        Expectation::MayAccept(CONTEXT_IS_OPTIONAL),
    );
    let mut body = valid(sid, dh_code);
    body["dh-context"] = json!("not JSON {");
    push(
        "dh-context text that is not JSON",
        body,
        Expectation::MayAccept(CONTEXT_IS_OPTIONAL),
    );
    let mut body = valid(sid, dh_code);
    body["dh-question"] = json!("");
    push(
        "dh-question empty",
        body,
        Expectation::MayAccept(EMPTY_QUESTION_IS_A_STRING),
    );
    probes.push(Probe {
        name: "broken JSON".into(),
        body: br#"{"sid": "100003", "dh-question": "who"#.to_vec(),
        expect: Expectation::Refuse,
    });
    probes
}
