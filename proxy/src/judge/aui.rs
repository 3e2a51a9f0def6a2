//! AUI app server exchanges: `POST /api/v2/aiagent/<route>` with a JSON body, judged against
//! `aui/<route>.request` and `.response` (the schema set is the route table); errors are
//! `{code, message|msg, ...}` with `code` an HTTP-like number other than 200, sent with that
//! status (agentproof's server) or with 200 (the Java reference server, PROTOCOLS.md §4.4).

use super::{code_text, Envelope, Operation, ReadAnswer};
use crate::exchange::{Answer, Request};
use serde_json::Value;

/// Where the v2 routes live.
pub const PREFIX: &str = "/api/v2/aiagent/";

/// The route template and schemas of an AUI request; a path without schemas is
/// `aui <METHOD> unknown`.
pub fn operation(request: &Request) -> Operation {
    let name = request
        .path()
        .strip_prefix(PREFIX)
        .filter(|name| is_route(name) && request.method == "POST");
    let Some(name) = name else {
        return Operation {
            route: format!("aui {} unknown", method_word(&request.method)),
            request: None,
            success_schema: None,
        };
    };
    let document = serde_json::from_slice::<Value>(&request.body)
        .map_err(|e| format!("the body is not JSON ({e})"));
    Operation {
        route: protocol::request::aui::route(&format!("{PREFIX}{name}")),
        request: Some((format!("aui/{name}.request"), document)),
        success_schema: Some(format!("aui/{name}.response")),
    }
}

/// Whether `aui/<name>.request` is a schema: the routes agentproof knows.
fn is_route(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
        && schemas::registry()
            .get(&format!("aui/{name}.request"))
            .is_some()
}

/// The method as a route word: one of the few HTTP knows, else `OTHER` (routes are a small set).
pub fn method_word(method: &str) -> &str {
    match method {
        "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" => method,
        _ => "OTHER",
    }
}

/// `{"code": 200, ...}` is a success, any other numeric `code` an error.
pub fn read_answer(answer: &Answer) -> ReadAnswer {
    let json = answer.json();
    let envelope = match json.as_ref().and_then(|j| j.get("code")) {
        Some(code) if code.as_i64() == Some(200) => Envelope::Success,
        Some(code) => match code_text(code) {
            Some(code) => Envelope::Error { code },
            None => Envelope::Unreadable("`code` is neither a number nor text".into()),
        },
        None if answer.status == 204 && answer.body.is_empty() => Envelope::Success,
        None => Envelope::Unreadable(match &json {
            Some(_) => "a JSON body without `code`".into(),
            None => format!("a body that is not JSON ({} bytes)", answer.body.len()),
        }),
    };
    ReadAnswer { envelope, json }
}

/// AUI's codes are HTTP statuses: any from 400 to 599.
pub fn is_catalogued(code: &str) -> bool {
    code.parse::<u16>().is_ok_and(|n| (400..600).contains(&n))
}

/// The status equals the code, or is 200 as the Java server sends every answer.
pub fn statuses(code: &str) -> Vec<u16> {
    match code.parse::<u16>() {
        Ok(n) => vec![n, 200],
        Err(_) => Vec::new(),
    }
}
