//! The malformed requests every webhook must refuse with 400 (seed 003's status table), and
//! the request without the credentials the vendor configured.

use serde_json::{json, Value};

/// One malformed request: its name in the report and its raw body.
pub struct Probe {
    pub name: String,
    pub body: Vec<u8>,
}

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

/// Each required field missing, each of wrong type, the context not a string, broken JSON, a
/// body that is not an object, an empty question.
pub fn malformed(sid: &str, dh_code: &str) -> Vec<Probe> {
    let mut probes = Vec::new();
    let mut push = |name: String, body: Value| {
        probes.push(Probe {
            name,
            body: body.to_string().into_bytes(),
        })
    };
    for field in ["sid", "dh-code", "dh-question", "dh-conversation-id"] {
        let mut body = valid(sid, dh_code);
        body.as_object_mut().map(|o| o.remove(field));
        push(format!("{field} missing"), body);
        let mut body = valid(sid, dh_code);
        body[field] = json!(42);
        push(format!("{field} a number"), body);
    }
    let mut body = valid(sid, dh_code);
    body["dh-context"] = json!({"turns": []});
    push("dh-context an object, not its JSON text".into(), body);
    let mut body = valid(sid, dh_code);
    body["dh-question"] = json!("");
    push("dh-question empty".into(), body);
    push(
        "a JSON array, not an object".into(),
        json!([valid(sid, dh_code)]),
    );
    probes.push(Probe {
        name: "broken JSON".into(),
        body: br#"{"sid": "100003", "dh-question": "who"#.to_vec(),
    });
    probes
}
