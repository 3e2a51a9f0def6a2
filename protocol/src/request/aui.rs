//! The AUI Kits v2 app server's requests: JSON POSTs under `/api/v2/aiagent/`, with the bearer
//! token its login hands out (PROTOCOLS.md §4.2), or whatever other auth the team's server wants
//! ([`auth`]).

pub mod auth;

use super::HttpRequest;

/// Bearer login (the mock's route, beside the others).
pub const LOGIN: &str = "/api/v2/aiagent/login";
/// An ARTC token for a channel.
pub const GET_RTC_AUTH_TOKEN: &str = "/api/v2/aiagent/getRtcAuthToken";
/// A message-chat token, through an ICE call upstream.
pub const GENERATE_MESSAGE_CHAT_TOKEN: &str = "/api/v2/aiagent/generateMessageChatToken";
/// Starts an AI-agent instance upstream.
pub const START_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/startAIAgentInstance";
/// Reads an AI-agent instance.
pub const DESCRIBE_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/describeAIAgentInstance";
/// Stops an AI-agent instance.
pub const STOP_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/stopAIAgentInstance";

/// Whether a path only reads (`describeAIAgentInstance`): its POST may be sent again and changes
/// nothing. Login and the token calls issue something, start and stop act upstream.
pub fn is_read(path: &str) -> bool {
    path == DESCRIBE_AI_AGENT_INSTANCE
}

/// The route template of a path: `aui POST <path>`.
pub fn route(path: &str) -> String {
    format!("aui POST {path}")
}

/// `Authorization: Bearer <token>`'s value.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `POST path` with `body` as JSON and, when given, this exact `Authorization` value.
pub fn post(path: &str, body: Vec<u8>, authorization: Option<String>) -> HttpRequest {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(value) = authorization {
        headers.push(("authorization".to_string(), value));
    }
    HttpRequest {
        method: "POST",
        path_and_query: path.to_string(),
        headers,
        body,
        route: route(path),
    }
}

/// `POST path` with a JSON body and the session's bearer token.
pub fn call(path: &str, body: &serde_json::Value, token: &str) -> HttpRequest {
    post(path, body.to_string().into_bytes(), Some(bearer(token)))
}

/// The login request; its answer's `token` is the bearer token of the session.
pub fn login(user: &str, password: &str) -> HttpRequest {
    let body = serde_json::json!({"username": user, "password": password});
    post(LOGIN, body.to_string().into_bytes(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_carries_json_and_the_bearer_token() {
        let request = call(
            GET_RTC_AUTH_TOKEN,
            &serde_json::json!({"user_id": "u1"}),
            "t0k",
        );
        assert_eq!(request.header("authorization"), Some("Bearer t0k"));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.body, br#"{"user_id":"u1"}"#);
        assert_eq!(request.route, "aui POST /api/v2/aiagent/getRtcAuthToken");
    }

    #[test]
    fn login_sends_no_authorization() {
        let request = login("demo", "pw\"d");
        assert_eq!(request.header("authorization"), None);
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["password"], "pw\"d");
    }
}
