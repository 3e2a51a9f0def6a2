//! The DUIX platform's calls to a vendor's dialogue webhook (`webhook.question`): dh-question
//! requests exactly as the platform sends them, in multi-turn conversations (a new one every
//! `turns` questions) whose earlier turns travel as `dh-context`. The answer must echo the
//! conversation id; it may come as JSON or as Server-Sent Events.

use crate::duix::QUESTIONS;
use crate::exchange::{send_paced, Failure};
use crate::ops::{self, Call};
use protocol::request::duix as request;
use rand::Rng;
use serde_json::{json, Map, Value};

/// `webhook.question`: the next turn of the user's conversation.
pub(crate) async fn question(
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let url = c.plan.target("webhook").map_err(ops::custom)?.to_string();
    let turns = ops::field(&fields, "turns")
        .parse::<usize>()
        .unwrap_or(5)
        .max(1);
    let rng = &mut c.state.rng;
    let talk = &mut c.state.conversation;
    if talk.id.is_empty() || talk.turns.len() >= turns {
        talk.id = uuid::Uuid::from_u128(rng.gen()).to_string();
        talk.turns.clear();
    }
    let question = match fields.get("question") {
        Some(q) => ops::text(q),
        None => QUESTIONS[rng.gen_range(0..QUESTIONS.len())].to_string(),
    };
    let context = dh_context(&talk.turns);
    let id = talk.id.clone();
    let dialogue = &c.plan.credentials.duix_dialogue;
    let sid = fields.get("sid").map_or(dialogue.sid.clone(), ops::text);
    let dh_code = fields
        .get("dh-code")
        .map_or(dialogue.dh_code.clone(), ops::text);
    let mut built = request::webhook_question(
        &request::Question {
            sid: &sid,
            dh_code: &dh_code,
            question: &question,
            conversation_id: &id,
            context: &context,
        },
        false,
        c.plan.credentials.webhook_bearer.as_deref(),
    );
    if let Some(route) = c.route {
        built.route = route.to_string();
    }
    let extra = c.extra;
    let rule = |body: &Value| extra.judge(body, 200, |b| webhook_success(b, &id));
    let mut expect = extra.expect(200, "duix/webhook.response", &rule);
    if extra.status.is_none() {
        expect.sse_event = Some("duix/webhook.sse-event");
    }
    let answer = send_paced(c.user, c.plan, &url, built, &expect, c.pace).await?;
    let text = answer_text(&answer);
    c.state.conversation.turns.push((question, text));
    Ok(answer)
}

/// `success` true and `data.conversationId` the one sent.
fn webhook_success(body: &Value, conversation_id: &str) -> Result<(), String> {
    if body.get("success") != Some(&Value::Bool(true)) {
        return Err(format!("success {:?}, expected true", body.get("success")));
    }
    match body.pointer("/data/conversationId").and_then(Value::as_str) {
        Some(id) if id == conversation_id => Ok(()),
        other => Err(format!(
            "data.conversationId {other:?}, not the dh-conversation-id sent"
        )),
    }
}

/// The previous turns as the platform sends them: `{}`, then `{"turns":[{question,answer}]}`.
fn dh_context(turns: &[(String, String)]) -> String {
    if turns.is_empty() {
        return "{}".into();
    }
    let turns: Vec<Value> = turns
        .iter()
        .map(|(q, a)| json!({"question": q, "answer": a}))
        .collect();
    json!({ "turns": turns }).to_string()
}

/// The answer text: `data.answer` is a string (maybe holding JSON) or an object with `answer`;
/// a streamed answer is already joined under `answer`.
fn answer_text(body: &Value) -> String {
    if let Some(streamed) = body
        .get("events")
        .and(body.get("answer"))
        .and_then(Value::as_str)
    {
        return streamed.to_string();
    }
    let answer = &body["data"]["answer"];
    let object = match answer {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).unwrap_or(Value::String(text.clone()))
        }
        other => other.clone(),
    };
    match &object {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("answer")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_lists_previous_turns() {
        assert_eq!(dh_context(&[]), "{}");
        let context = dh_context(&[("q".into(), "a".into())]);
        let parsed: Value = serde_json::from_str(&context).unwrap();
        assert_eq!(parsed["turns"][0]["answer"], "a");
    }

    #[test]
    fn the_answer_is_read_in_both_forms() {
        let object = json!({"data": {"answer": {"answer": "hi"}}});
        assert_eq!(answer_text(&object), "hi");
        let text = json!({"data": {"answer": "{\"answer\":\"hi\"}"}});
        assert_eq!(answer_text(&text), "hi");
    }

    #[test]
    fn another_conversation_id_is_a_failure() {
        let body = json!({"success": true, "data": {"conversationId": "b"}});
        assert!(webhook_success(&body, "a").is_err());
        assert!(webhook_success(&body, "b").is_ok());
    }
}
