//! What a client relies on in an answer, recorded and replayed side by side: the status, the
//! business code, the envelope's keys and the JSON type of each, and the schema verdict. Values
//! are not compared (ids, tokens and times differ on every run); a recorded value scrubbed to
//! `***` matches any type.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One way the replayed answer differs from the recorded one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Aspect {
    /// `answer`, `status`, `code`, `keys`, `types`, `body` or `schema`.
    pub what: &'static str,
    /// The recording's side.
    pub recorded: String,
    /// The replay's side.
    pub replayed: String,
}

/// The parts of an answer compared.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// Why there was no answer, when there was none.
    pub failure: Option<String>,
    /// HTTP status.
    pub status: u16,
    /// `success`, the business code, or `not the platform's envelope`.
    pub code: String,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
    /// The schema the answer was judged against, and whether it held.
    pub schema: Option<(String, bool)>,
}

/// Every aspect in which `replayed` differs from `recorded`.
pub fn differences(recorded: &Seen, replayed: &Seen) -> Vec<Aspect> {
    let aspect = |what, recorded: String, replayed: String| Aspect {
        what,
        recorded,
        replayed,
    };
    match (&recorded.failure, &replayed.failure) {
        (None, None) => {}
        (Some(a), Some(_)) => {
            let _ = a;
            return Vec::new();
        }
        (a, b) => {
            let side = |f: &Option<String>, seen: &Seen| match f {
                Some(why) => format!("no answer: {why}"),
                None => format!("HTTP {}", seen.status),
            };
            return vec![aspect("answer", side(a, recorded), side(b, replayed))];
        }
    }
    let mut found = Vec::new();
    if recorded.status != replayed.status {
        found.push(aspect(
            "status",
            recorded.status.to_string(),
            replayed.status.to_string(),
        ));
    }
    if recorded.code != replayed.code {
        found.push(aspect("code", recorded.code.clone(), replayed.code.clone()));
    }
    match (&recorded.json, &replayed.json) {
        (Some(a), Some(b)) => found.extend(shape_differences(a, b)),
        (None, None) => {}
        (a, b) => {
            let kind =
                |json: &Option<Value>| if json.is_some() { "JSON" } else { "not JSON" }.to_string();
            found.push(aspect("body", kind(a), kind(b)));
        }
    }
    if let (Some((name, a)), Some((_, b))) = (&recorded.schema, &replayed.schema) {
        if a != b {
            let verdict = |ok: bool| {
                if ok {
                    format!("valid against {name}")
                } else {
                    format!("invalid against {name}")
                }
            };
            found.push(aspect("schema", verdict(*a), verdict(*b)));
        }
    }
    found
}

/// JSON type of each path (`/Instance/Status`; array elements as `/[]`), `*` for a scrubbed
/// `***` (any type).
pub fn shape(value: &Value) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

fn walk(value: &Value, path: String, out: &mut BTreeMap<String, &'static str>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(s) if s == "***" => "*",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let shown = if path.is_empty() {
        "/".to_string()
    } else {
        path.clone()
    };
    out.insert(shown, kind);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, format!("{path}/[]"), out);
            }
        }
        _ => {}
    }
}

fn shape_differences(recorded: &Value, replayed: &Value) -> Vec<Aspect> {
    let a = shape(recorded);
    let b = shape(replayed);
    let only = |this: &BTreeMap<String, &str>, other: &BTreeMap<String, &str>| -> Vec<String> {
        this.keys()
            .filter(|path| !other.contains_key(*path))
            .filter(|path| !parent_missing(path, other))
            .cloned()
            .collect()
    };
    let mut found = Vec::new();
    let (gone, added) = (only(&a, &b), only(&b, &a));
    if !gone.is_empty() || !added.is_empty() {
        let list = |paths: Vec<String>| {
            if paths.is_empty() {
                "—".to_string()
            } else {
                paths.join(", ")
            }
        };
        found.push(Aspect {
            what: "keys",
            recorded: format!("only here: {}", list(gone)),
            replayed: format!("only here: {}", list(added)),
        });
    }
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (path, kind) in &a {
        match b.get(path) {
            Some(other) if other != kind && *kind != "*" && *other != "*" => {
                left.push(format!("{path}: {kind}"));
                right.push(format!("{path}: {other}"));
            }
            _ => {}
        }
    }
    if !left.is_empty() {
        found.push(Aspect {
            what: "types",
            recorded: left.join(", "),
            replayed: right.join(", "),
        });
    }
    found
}

/// Whether a path's parent is itself absent from `other` (only the top-most missing key
/// counts), or scrubbed there (`***` stands for anything below it).
fn parent_missing(path: &str, other: &BTreeMap<String, &str>) -> bool {
    match path.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => {
            other.get(parent).is_none_or(|kind| *kind == "*")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen(status: u16, json: Value) -> Seen {
        Seen {
            failure: None,
            status,
            code: "success".into(),
            json: Some(json),
            schema: Some(("s".into(), true)),
        }
    }

    #[test]
    fn the_same_shape_with_other_values_is_no_difference() {
        let a = seen(
            200,
            json!({"RequestId": "A", "Instance": {"Status": "Executing", "x": [1, 2]}}),
        );
        let b = seen(
            200,
            json!({"RequestId": "B", "Instance": {"Status": "Finished", "x": [3]}}),
        );
        assert_eq!(differences(&a, &b), []);
    }

    #[test]
    fn a_missing_key_is_named_once_at_its_top() {
        let a = seen(200, json!({"RequestId": "A", "Instance": {"Status": "E"}}));
        let b = seen(200, json!({"RequestId": "B"}));
        let found = differences(&a, &b);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].what, "keys");
        assert_eq!(found[0].recorded, "only here: /Instance");
    }

    #[test]
    fn a_changed_type_and_status_are_told_apart() {
        let a = seen(200, json!({"code": 200, "expire": 5}));
        let mut b = seen(201, json!({"code": 200, "expire": "5"}));
        b.schema = Some(("s".into(), false));
        let found: Vec<&str> = differences(&a, &b).iter().map(|d| d.what).collect();
        assert_eq!(found, ["status", "types", "schema"]);
    }

    #[test]
    fn a_scrubbed_value_matches_any_type() {
        let a = seen(200, json!({"token": "***"}));
        let b = seen(200, json!({"token": {"v": 1}}));
        assert_eq!(differences(&a, &b), []);
    }
}
