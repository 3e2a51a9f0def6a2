//! OpenAPI 3.1 documents composed from the registry's schemas.
//!
//! [`openapi`] builds the document of one HTTP API: `"aui"` (the AUI app server routes and
//! login), `"duix"` (the DUIX openapi-v2 endpoints), `"duix-webhook"` (the dialogue webhook a
//! vendor implements) and `"alibaba-llm"` (the streaming chat completion a vendor's LLM serves an
//! Alibaba agent). OpenAPI 3.1 schemas are JSON Schema 2020-12 (`jsonSchemaDialect`), so
//! the documents embed the very schema files of this crate under `components/schemas` and
//! only add paths, parameters and security around them.
//!
//! ```
//! let document = schemas::openapi::openapi("aui").expect("a known document");
//! assert_eq!(document["openapi"], "3.1.0");
//! assert!(document["paths"]["/api/v2/aiagent/getRtcAuthToken"]["post"].is_object());
//! assert!(schemas::openapi::openapi("nope").is_none());
//! ```

mod alibaba_llm;
mod aui;
mod compose;
mod duix;
mod duix_webhook;

pub use alibaba_llm::LLM_PATH;
pub use duix_webhook::WEBHOOK_PATH;

use serde_json::{json, Map, Value};

/// The names [`openapi`] knows.
pub const DOCUMENTS: &[&str] = &["aui", "duix", "duix-webhook", "alibaba-llm"];

/// The OpenAPI version of every document.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The `jsonSchemaDialect` of every document: the dialect of the embedded schemas.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The path of the AUI login route in the `aui` document (one of the two paths of the sister
/// AUI app servers, PROTOCOLS.md §4.2).
pub const AUI_LOGIN_PATH: &str = "/api/v2/aiagent/login";

/// The OpenAPI 3.1 document named `name` (one of [`DOCUMENTS`]), or `None` for another name.
/// Built anew on each call.
pub fn openapi(name: &str) -> Option<Value> {
    match name {
        "aui" => Some(aui::document()),
        "duix" => Some(duix::document()),
        "duix-webhook" => Some(duix_webhook::document()),
        "alibaba-llm" => Some(alibaba_llm::document()),
        _ => None,
    }
}

/// `info.version` of every document: this crate's version.
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The title of schema `name`, for an operation summary.
fn title(name: &str) -> String {
    crate::registry()
        .get(name)
        .and_then(|schema| schema.title())
        .unwrap_or(name)
        .to_owned()
}

/// The description of schema `name`, for an operation or response description.
fn description(name: &str) -> String {
    crate::registry()
        .get(name)
        .and_then(|schema| schema.description())
        .unwrap_or(name)
        .to_owned()
}

/// One status an operation answers besides 200, and when it does.
pub(crate) type ErrorStatus = (&'static str, &'static str);

/// The statuses the shared edge of every mock answers before any handler runs, each in the
/// platform's error envelope (the limits are `[limits]` of the mock's TOML file).
pub(crate) const EDGE_STATUSES: &[ErrorStatus] = &[
    ("413", "Payload Too Large: the body is over `[limits] max_body_bytes` (default 1 MiB)."),
    ("414", "URI Too Long: the query string is over `[limits] max_query_bytes` (default 32 KiB)."),
    (
        "431",
        "Request Header Fields Too Large: the header section is over `[limits] max_header_bytes` (default 1 MiB).",
    ),
];

/// `responses` members for `statuses`, each with `error` (a `$ref` to the platform's error
/// envelope) as its JSON body, in status order.
pub(crate) fn error_responses(error: &Value, statuses: &[&[ErrorStatus]]) -> Map<String, Value> {
    let mut all: Vec<ErrorStatus> = statuses.iter().flat_map(|s| s.iter().copied()).collect();
    all.sort_by_key(|(status, _)| *status);
    all.into_iter()
        .map(|(status, description)| {
            let response = json!({
                "description": description,
                "content": { "application/json": { "schema": error } }
            });
            (status.to_owned(), response)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_names_its_dialect_and_version() {
        for name in DOCUMENTS {
            let document = openapi(name).unwrap();
            assert_eq!(document["openapi"], OPENAPI_VERSION, "{name}");
            assert_eq!(document["jsonSchemaDialect"], JSON_SCHEMA_DIALECT, "{name}");
            assert_eq!(document["info"]["version"], version(), "{name}");
        }
    }

    #[test]
    fn every_reference_points_at_an_embedded_component() {
        for name in DOCUMENTS {
            let document = openapi(name).unwrap();
            let mut references = Vec::new();
            collect_references(&document, &mut references);
            assert!(!references.is_empty(), "{name}");
            for reference in references {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{name}: external $ref {reference}"));
                assert!(
                    document.pointer(pointer).is_some(),
                    "{name}: dangling $ref {reference}"
                );
            }
        }
    }

    fn collect_references(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    match (key.as_str(), member) {
                        ("$ref", Value::String(reference)) => into.push(reference.clone()),
                        ("examples", _) => {}
                        _ => collect_references(member, into),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
            _ => {}
        }
    }
}
