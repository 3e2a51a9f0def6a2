//! The AUI route handlers, one file per group, and [`Fields`], the request body they all read.
//!
//! - `getRtcAuthToken` (local) and `generateMessageChatToken` (ICE) in [`token`];
//! - `startAIAgentInstance`, `startAIAgentInstanceWithChannel` (ICE `StartAIAgentInstance`, with
//!   RTC tokens made here) in [`start`];
//! - `describeAIAgentInstance`, `stopAIAgentInstance`, `updateAIAgentInstance` in [`instance`];
//! - `generateAIAgentCall` in [`call`].
//!
//! A body is read as a JSON object and each field is checked by name, rather than deserialized into
//! a struct, so that every refusal names the field and what was expected ("user_id is not valid:
//! only A-Z a-z 0-9 _ ..."). Unknown fields are ignored and `null` counts as absent, as the Java
//! server's Jackson does.

pub mod call;
pub mod instance;
pub mod start;
pub mod token;

use super::config::Workflow;
use super::envelope::AuiError;
use super::state::AuiState;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The handlers' state extractor.
pub type AppState = axum::extract::State<Arc<AuiState>>;

/// Longest agent or instance id accepted, in characters: the contract's `maxLength`
/// (`aui/common` `ai_agent_id`, `ai_agent_instance_id`), so that the server never accepts, and
/// echoes back, an id its own answer's schema refuses.
pub const MAX_ID_CHARS: usize = 64;
/// Longest `session_id` accepted, in characters (the contract sets no bound; ICE's are uuids).
pub const MAX_SESSION_ID_CHARS: usize = 256;
/// Longest JSON text accepted for `template_config`, `agent_config`, `user_data`,
/// `chat_sync_config`: ICE takes them in the query string, whose size is limited.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;

/// Turns a handler's result into the response.
pub fn respond(result: Result<Response, AuiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A request body: a JSON object whose fields are read by name.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Parses the body; anything but a JSON object is a 400 naming the problem.
    pub fn parse(body: &[u8]) -> Result<Fields, AuiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(AuiError::bad_body("is empty; send a JSON object"));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Fields(map)),
            Ok(other) => Err(AuiError::bad_body(format!(
                "must be a JSON object, got {}",
                kind(&other)
            ))),
            Err(e) => Err(AuiError::bad_body(format!("is not valid JSON: {e}"))),
        }
    }

    /// The value, with `null` as absent.
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An optional string of at most `max` bytes; an empty string counts as absent.
    pub fn opt_str(&self, name: &str, max: usize) -> Result<Option<&str>, AuiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) if s.len() > max => {
                Err(AuiError::invalid(name, format!("longer than {max} bytes")))
            }
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(AuiError::invalid(
                name,
                format!("must be a string, got {}", kind(other)),
            )),
        }
    }

    /// A required, non-empty string of at most `max` bytes.
    pub fn req_str(&self, name: &str, max: usize) -> Result<&str, AuiError> {
        self.opt_str(name, max)?
            .ok_or_else(|| AuiError::missing(name))
    }

    /// `user_id`: `A-Z a-z 0-9 _`, at most 64 bytes (ICE's rule, [`protocol::aui::is_valid_user_id`]).
    pub fn user_id(&self, required: bool) -> Result<Option<&str>, AuiError> {
        let Some(user_id) = self.opt_str("user_id", usize::MAX)? else {
            return if required {
                Err(AuiError::missing("user_id"))
            } else {
                Ok(None)
            };
        };
        if !protocol::aui::is_valid_user_id(user_id) {
            return Err(AuiError::invalid(
                "user_id",
                "only A-Z a-z 0-9 and _ are allowed, at most 64 bytes",
            ));
        }
        Ok(Some(user_id))
    }

    /// An id (`ai_agent_id`, `ai_agent_instance_id`, `session_id`) of at most `max_chars`
    /// characters, none of them a control character.
    pub fn id(
        &self,
        name: &str,
        max_chars: usize,
        required: bool,
    ) -> Result<Option<&str>, AuiError> {
        let value = self.opt_str(name, usize::MAX)?;
        if let Some(id) = value {
            if id.chars().count() > max_chars {
                return Err(AuiError::invalid(
                    name,
                    format!("longer than {max_chars} characters"),
                ));
            }
            if id.chars().any(char::is_control) {
                return Err(AuiError::invalid(
                    name,
                    "must not contain control characters",
                ));
            }
        }
        match value {
            None if required => Err(AuiError::missing(name)),
            value => Ok(value),
        }
    }

    /// `channel_id`: `A-Z a-z 0-9 _ -`, at most 64 bytes (what ARTC accepts).
    pub fn channel_id(&self, required: bool) -> Result<Option<&str>, AuiError> {
        let value = self.opt_str("channel_id", usize::MAX)?;
        match value {
            None if required => Err(AuiError::missing("channel_id")),
            Some(id)
                if id.len() > 64
                    || !id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Err(AuiError::invalid(
                    "channel_id",
                    "only A-Z a-z 0-9 _ - are allowed, at most 64 bytes",
                ))
            }
            value => Ok(value),
        }
    }

    /// `region`: a region id such as `cn-shanghai` or `ap-southeast-1` (lowercase letters and
    /// digits in `-`-separated words, a letter first), since it becomes part of the upstream host
    /// name: anything else is the client's mistake, not a host the cloud cannot be reached at.
    pub fn region(&self, required: bool) -> Result<Option<&str>, AuiError> {
        let value = self.opt_str("region", 64)?;
        match value {
            None if required => Err(AuiError::missing("region")),
            Some(r) if !is_region_id(r) => Err(AuiError::invalid(
                "region",
                "must be a region id such as cn-shanghai",
            )),
            value => Ok(value),
        }
    }

    /// `workflow_type`: `VoiceChat`, `AvatarChat3D` or `VisionChat`.
    pub fn workflow(&self, required: bool) -> Result<Option<Workflow>, AuiError> {
        let Some(name) = self.opt_str("workflow_type", 64)? else {
            return if required {
                Err(AuiError::missing("workflow_type"))
            } else {
                Ok(None)
            };
        };
        Workflow::parse(name).map(Some).ok_or_else(|| {
            AuiError::invalid(
                "workflow_type",
                "must be one of VoiceChat, AvatarChat3D, VisionChat",
            )
        })
    }

    /// A JSON object given as an object or as a string holding one (the Java DTOs take strings),
    /// returned as compact JSON text for ICE.
    pub fn json_object(&self, name: &str, required: bool) -> Result<Option<String>, AuiError> {
        let text = match self.get(name) {
            None => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(_)) => Some(s.clone()),
                _ => {
                    return Err(AuiError::invalid(
                        name,
                        "the string must hold a JSON object",
                    ))
                }
            },
            Some(Value::Object(object)) => Some(Value::Object(object.clone()).to_string()),
            Some(other) => {
                let why = format!(
                    "must be a JSON object or a string holding one, got {}",
                    kind(other)
                );
                return Err(AuiError::invalid(name, why));
            }
        };
        match text {
            None if required => Err(AuiError::missing(name)),
            Some(t) if t.len() > MAX_CONFIG_BYTES => Err(AuiError::invalid(
                name,
                format!("longer than {MAX_CONFIG_BYTES} bytes"),
            )),
            text => Ok(text),
        }
    }

    /// `user_data`: free text for ICE; an object or array is sent as its JSON text.
    pub fn user_data(&self) -> Result<Option<String>, AuiError> {
        let text = match self.get("user_data") {
            None => return Ok(None),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        if text.len() > MAX_CONFIG_BYTES {
            return Err(AuiError::invalid(
                "user_data",
                format!("longer than {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        Ok(Some(text))
    }

    /// An optional whole number in `range`; a string of digits is accepted, as Jackson does.
    pub fn int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, AuiError> {
        let number = match self.get(name) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        let (low, high) = (range.start(), range.end());
        match number {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(AuiError::invalid(
                name,
                format!("must be a whole number from {low} to {high}"),
            )),
        }
    }
}

/// `cn-shanghai`, `ap-southeast-1`: at least two `-`-separated words of `a-z 0-9`, a letter first.
fn is_region_id(region: &str) -> bool {
    region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.contains('-')
        && region.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The JSON type of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Query params for ICE: the present ones, in the order given.
pub fn params<const N: usize>(pairs: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name.to_string(), v)))
        .collect()
}

/// A JSON value as the text AUI clients expect for `runtime_config` & co.: a string as is, anything
/// else as compact JSON, nothing for null.
pub fn json_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(json: &str) -> Fields {
        Fields::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_with_what_they_are() {
        for (body, expected) in [
            ("", "is empty"),
            ("[1]", "an array"),
            ("{", "not valid JSON"),
        ] {
            let error = Fields::parse(body.as_bytes()).err().unwrap();
            assert_eq!(error.status.as_u16(), 400);
            assert!(error.message.contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn user_ids_are_checked_and_errors_name_the_field() {
        assert_eq!(
            fields(r#"{"user_id":"u_1"}"#).user_id(true).unwrap(),
            Some("u_1")
        );
        assert_eq!(fields(r#"{"user_id":null}"#).user_id(false).unwrap(), None);
        let missing = fields("{}").user_id(true).unwrap_err();
        assert_eq!(
            (missing.error_code.as_str(), missing.message.as_str()),
            ("MissingParameter", "user_id is required")
        );
        for bad in [r#"{"user_id":"a-b"}"#, r#"{"user_id":7}"#] {
            assert!(fields(bad)
                .user_id(true)
                .unwrap_err()
                .message
                .starts_with("user_id"));
        }
        let long = format!(r#"{{"user_id":"{}"}}"#, "a".repeat(65));
        assert!(fields(&long).user_id(true).is_err());
    }

    /// Found by Schemathesis: a 65-character `ai_agent_id` was accepted and echoed in a 200
    /// whose schema allows 64. The bound counts characters, as JSON Schema's `maxLength` does.
    #[test]
    fn ids_are_bounded_in_characters_as_the_contract_is() {
        let id = |text: &str| {
            let body = serde_json::json!({ "ai_agent_id": text }).to_string();
            fields(&body)
                .id("ai_agent_id", MAX_ID_CHARS, true)
                .map(|id| id.map(str::len))
        };
        assert_eq!(id(&"0".repeat(64)).unwrap(), Some(64));
        assert_eq!(id(&"智".repeat(64)).unwrap(), Some(192));
        let error = id(&"0".repeat(65)).unwrap_err();
        assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            error.message,
            "ai_agent_id is not valid: longer than 64 characters"
        );
        assert!(id("a\u{7}b").is_err(), "control characters");
    }

    #[test]
    fn config_fields_take_an_object_or_a_string_holding_one() {
        let f = fields(r#"{"a":{"x":1},"b":"{\"y\":2}","c":"nope","d":[1]}"#);
        assert_eq!(
            f.json_object("a", true).unwrap().as_deref(),
            Some(r#"{"x":1}"#)
        );
        assert_eq!(
            f.json_object("b", true).unwrap().as_deref(),
            Some(r#"{"y":2}"#)
        );
        assert!(f.json_object("c", true).is_err());
        assert!(f.json_object("d", true).is_err());
        assert_eq!(
            f.json_object("e", true).unwrap_err().message,
            "e is required"
        );
    }

    #[test]
    fn numbers_accept_digit_strings_and_stay_in_range() {
        let f = fields(r#"{"a":1800,"b":"60","c":-1,"d":1.5,"e":true}"#);
        assert_eq!(f.int("a", 0..=604800).unwrap(), Some(1800));
        assert_eq!(f.int("b", 0..=604800).unwrap(), Some(60));
        for name in ["c", "d", "e"] {
            assert!(f.int(name, 0..=604800).is_err(), "{name}");
        }
    }

    #[test]
    fn regions_and_channels_are_restricted_to_safe_characters() {
        assert!(fields(r#"{"region":"cn-shanghai"}"#).region(true).is_ok());
        assert!(fields(r#"{"region":"ap-southeast-1"}"#)
            .region(true)
            .is_ok());
        for bad in [
            "evil.com/x",
            "-",
            "cn-",
            "-cn",
            "cn--x",
            "shanghai",
            "1-cn",
            "cn-Shanghai",
        ] {
            let body = json!({ "region": bad }).to_string();
            let error = fields(&body).region(true).unwrap_err();
            assert!(error.message.starts_with("region"), "{bad}: {error}");
        }
        assert!(fields(r#"{"channel_id":"ch-1_A"}"#)
            .channel_id(true)
            .is_ok());
        assert!(fields(r#"{"channel_id":"ch 1"}"#).channel_id(true).is_err());
    }
}
