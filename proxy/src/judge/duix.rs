//! DUIX openapi-v2 exchanges: `GET /duix-openapi-v2/sdk/checkSig`, `/v1/<endpoint>` and
//! `/sdk/v2/<endpoint>`, the query as the `duix/<endpoint>.request` schema's object; answers are
//! `{code, message, data, success}` with `code` "0" (or "") for success and one of
//! [`protocol::duix::DuixError`]'s codes otherwise, sent with [`DuixError::status`] or 200 (the
//! platform documents no statuses), `-1` also with 400 (a malformed request).

use super::{aui::method_word, code_text, Envelope, Operation, ReadAnswer};
use crate::exchange::{Answer, Request};
use mocks::duix::routes::{CHECK_SIG, MANAGEMENT_PREFIXES};
use protocol::duix::DuixError;
use serde_json::{Map, Value};

/// The route template and schemas of a DUIX request; others are `duix <METHOD> unknown`.
pub fn operation(request: &Request) -> Operation {
    let path = request.path();
    let endpoint = if path == CHECK_SIG {
        Some("checkSig")
    } else {
        MANAGEMENT_PREFIXES
            .iter()
            .find_map(|prefix| path.strip_prefix(prefix))
    };
    let known = endpoint.filter(|name| {
        !name.is_empty()
            && !name.contains('/')
            && request.method == "GET"
            && schemas::registry()
                .get(&format!("duix/{name}.request"))
                .is_some()
    });
    let Some(name) = known else {
        return Operation {
            route: format!("duix {} unknown", method_word(&request.method)),
            request: None,
            success_schema: None,
        };
    };
    Operation {
        route: protocol::request::duix::route(path),
        request: Some((
            format!("duix/{name}.request"),
            Ok(query_object(request.query())),
        )),
        success_schema: Some(format!("duix/{name}.response")),
    }
}

/// The query as a JSON object of strings (the first value of a repeated key).
fn query_object(query: &str) -> Value {
    let mut object = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        object
            .entry(decode(key))
            .or_insert_with(|| Value::String(decode(value)));
    }
    Value::Object(object)
}

/// `code` "0" or "" is a success; any other code an error.
pub fn read_answer(answer: &Answer) -> ReadAnswer {
    let json = answer.json();
    let envelope = match json.as_ref().and_then(|j| j.get("code")).map(code_text) {
        Some(Some(code)) if code == "0" || code.is_empty() => Envelope::Success,
        Some(Some(code)) => Envelope::Error { code },
        Some(None) => Envelope::Unreadable("`code` is neither text nor a number".into()),
        None => Envelope::Unreadable(match &json {
            Some(_) => "a JSON body without `code`".into(),
            None => format!("a body that is not JSON ({} bytes)", answer.body.len()),
        }),
    };
    ReadAnswer { envelope, json }
}

/// Whether the DUIX catalogue has `code`.
pub fn is_catalogued(code: &str) -> bool {
    DuixError::from_code(code).is_some()
}

/// The code's status, or 200; `-1` also 400.
pub fn statuses(code: &str) -> Vec<u16> {
    let Some(error) = DuixError::from_code(code) else {
        return Vec::new();
    };
    let mut statuses = vec![error.status(), 200];
    if error == DuixError::SYSTEM_ERROR {
        statuses.push(400);
    }
    statuses
}
