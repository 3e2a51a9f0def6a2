//! The malformed requests an LLM endpoint is sent, each marked with what the OpenAI
//! chat-completions contract asks of the answer (OpenAI's API refuses each with 400).
//!
//! Two kinds, so that a vendor is failed only for what would break on the platform:
//! - **must refuse** (4xx): what the contract requires, missing or of the wrong type: a body that
//!   is not JSON or not an object, `messages` missing, not an array or empty, a record without a
//!   `role`, a record whose `content` is a number. Answering 200 means answering a conversation
//!   the vendor could not have read.
//! - **may accept** (200 or 4xx, reported as a note): what the platform always sends right and a
//!   vendor may ignore: `model` missing (a vendor serving one model need not read it),
//!   `stream` false (the platform only streams; answering the whole completion, streaming
//!   anyway or refusing are all right), `extendData` missing (it is the platform's, not
//!   OpenAI's), a record with a role the platform never sends, `max_tokens` not an integer and
//!   `temperature` out of OpenAI's range (sampling fields a vendor may ignore), an empty
//!   utterance.
//!
//! No case may get a 5xx or no answer: the platform would hear silence either way.

use super::super::rules::{Expectation, Probe};
use serde_json::{json, Value};

const MODEL_IS_THE_VENDORS: &str =
    "the platform always sends model; a vendor serving one model may ignore it";
const PLATFORM_ONLY_STREAMS: &str =
    "the platform only streams; the whole completion as JSON, a stream anyway, or a refusal are all right";
const EXTEND_DATA_IS_THE_PLATFORMS: &str =
    "extendData is the platform's addition to OpenAI's body; a vendor may require it or not";
const ROLE_NEVER_SENT: &str =
    "the platform sends only system, user and assistant; a vendor may read the text anyway";
const SAMPLING_MAY_BE_IGNORED: &str =
    "the platform sends sampling fields in range; a vendor may ignore them";
const EMPTY_IS_A_STRING: &str =
    "an empty string is a string; answering it (\"sorry, I did not catch that\") is as right as refusing it";

/// A valid body, to spoil one thing at a time.
fn valid(model: &str) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a friendly voice assistant."},
            {"role": "user", "content": "你好"},
        ],
        "stream": true,
        "extendData": {"instanceId": "agentproof-probe", "channelId": "agentproof-probe", "sentenceId": 1, "userData": ""},
    })
}

/// Each must-refuse and may-accept case, for a vendor serving `model`.
pub fn malformed(model: &str) -> Vec<Probe> {
    let mut probes = Vec::new();
    let mut push = |name: &str, body: Value, expect: Expectation| {
        probes.push(Probe {
            name: name.to_string(),
            body: body.to_string().into_bytes(),
            expect,
        })
    };
    let spoiled = |change: &dyn Fn(&mut Value)| {
        let mut body = valid(model);
        change(&mut body);
        body
    };
    let remove =
        |field: &'static str| move |b: &mut Value| drop(b.as_object_mut().map(|o| o.remove(field)));
    push(
        "messages missing",
        spoiled(&remove("messages")),
        Expectation::Refuse,
    );
    push(
        "messages a string, not an array",
        spoiled(&|b| b["messages"] = json!("你好")),
        Expectation::Refuse,
    );
    push(
        "messages empty",
        spoiled(&|b| b["messages"] = json!([])),
        Expectation::Refuse,
    );
    push(
        "a record without role",
        spoiled(&|b| b["messages"] = json!([{"content": "你好"}])),
        Expectation::Refuse,
    );
    push(
        "a record whose content is a number",
        spoiled(&|b| b["messages"] = json!([{"role": "user", "content": 42}])),
        Expectation::Refuse,
    );
    push(
        "a JSON array, not an object",
        json!([valid(model)]),
        Expectation::Refuse,
    );
    push(
        "model missing",
        spoiled(&remove("model")),
        Expectation::MayAccept(MODEL_IS_THE_VENDORS),
    );
    push(
        "stream false",
        spoiled(&|b| b["stream"] = json!(false)),
        Expectation::MayAccept(PLATFORM_ONLY_STREAMS),
    );
    push(
        "extendData missing",
        spoiled(&remove("extendData")),
        Expectation::MayAccept(EXTEND_DATA_IS_THE_PLATFORMS),
    );
    push(
        "a record with role robot",
        spoiled(&|b| b["messages"] = json!([{"role": "robot", "content": "你好"}])),
        Expectation::MayAccept(ROLE_NEVER_SENT),
    );
    push(
        "max_tokens a string",
        spoiled(&|b| b["max_tokens"] = json!("many")),
        Expectation::MayAccept(SAMPLING_MAY_BE_IGNORED),
    );
    push(
        "temperature 5, over OpenAI's 2",
        spoiled(&|b| b["temperature"] = json!(5)),
        Expectation::MayAccept(SAMPLING_MAY_BE_IGNORED),
    );
    push(
        "the utterance empty",
        spoiled(&|b| b["messages"][1]["content"] = json!("")),
        Expectation::MayAccept(EMPTY_IS_A_STRING),
    );
    probes.push(Probe {
        name: "broken JSON".into(),
        body: br#"{"model": "m", "messages": [{"role": "user", "content": "hi"#.to_vec(),
        expect: Expectation::Refuse,
    });
    probes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_probe_spoils_one_thing_of_a_valid_body() {
        let probes = malformed("m");
        assert_eq!(probes.len(), 14);
        let must = probes
            .iter()
            .filter(|p| p.expect == Expectation::Refuse)
            .count();
        assert_eq!(must, 7);
        let names: std::collections::BTreeSet<&str> =
            probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), probes.len(), "names are distinct");
        let empty: Value = serde_json::from_slice(&probes[12].body).unwrap();
        assert_eq!(empty["messages"][1]["content"], "");
        assert_eq!(empty["model"], "m");
    }
}
