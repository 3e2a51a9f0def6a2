//! The ids a recording captured, mapped to the ones the target gave: an instance id a start
//! answered in the recording is another on the target, and every later request that names it
//! must name the target's. Captured from the answers, recorded and replayed side by side: a
//! string under the same key whose name says id (`InstanceId`, `ai_agent_instance_id`,
//! `channel_id`, `sessionId`, ...) and whose value differs.

use serde_json::Value;
use std::collections::BTreeMap;

/// Shortest value taken for an id: shorter ones would be replaced inside other text.
const MIN_ID_CHARS: usize = 6;

/// Recorded id → the target's.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    ids: BTreeMap<String, String>,
}

impl IdMap {
    /// How many ids are mapped.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The target's id for a recorded one.
    pub fn get(&self, recorded: &str) -> Option<&str> {
        self.ids.get(recorded).map(String::as_str)
    }

    /// `text` with every recorded id replaced by the target's, longest first.
    pub fn apply(&self, text: &str) -> String {
        if self.ids.is_empty() {
            return text.to_string();
        }
        let mut keys: Vec<&String> = self
            .ids
            .keys()
            .filter(|k| text.contains(k.as_str()))
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        let mut text = text.to_string();
        for key in keys {
            text = text.replace(key.as_str(), &self.ids[key]);
        }
        text
    }

    /// Learns the ids of one answer, recorded and replayed.
    pub fn capture(&mut self, recorded: &Value, replayed: &Value) {
        match (recorded, replayed) {
            (Value::Object(a), Value::Object(b)) => {
                for (key, left) in a {
                    let Some(right) = b.get(key) else { continue };
                    match (left, right) {
                        (Value::String(l), Value::String(r)) if names_an_id(key) => {
                            if l != r && l.len() >= MIN_ID_CHARS && !l.contains("***") {
                                self.ids.insert(l.clone(), r.clone());
                            }
                        }
                        _ => self.capture(left, right),
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                for (left, right) in a.iter().zip(b) {
                    self.capture(left, right);
                }
            }
            _ => {}
        }
    }
}

/// `InstanceId`, `ai_agent_instance_id`, `sessionId`, `channel_id`: yes; `RequestId`: no (it
/// names an answer, never sent back).
fn names_an_id(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    (lower.ends_with("id") || lower.ends_with("_id")) && !lower.contains("request")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_differing_between_the_answers_are_mapped_and_applied() {
        let mut ids = IdMap::default();
        ids.capture(
            &json!({"InstanceId": "aaaaaaaa", "RequestId": "r1r1r1r1", "Instance": {"SessionId": "ssssss01"}}),
            &json!({"InstanceId": "bbbbbbbb", "RequestId": "r2r2r2r2", "Instance": {"SessionId": "ssssss02"}}),
        );
        assert_eq!(ids.get("aaaaaaaa"), Some("bbbbbbbb"));
        assert_eq!(ids.get("ssssss01"), Some("ssssss02"));
        assert_eq!(ids.get("r1r1r1r1"), None, "request ids are never sent back");
        assert_eq!(
            ids.apply("InstanceId=aaaaaaaa&x=ssssss01"),
            "InstanceId=bbbbbbbb&x=ssssss02"
        );
    }

    #[test]
    fn short_and_scrubbed_values_are_not_ids() {
        let mut ids = IdMap::default();
        ids.capture(
            &json!({"appId": "1", "token_id": "***"}),
            &json!({"appId": "2", "token_id": "x"}),
        );
        assert!(ids.is_empty());
    }
}
