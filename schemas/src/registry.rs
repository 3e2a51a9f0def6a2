//! The embedded schema set: parsed and compiled once, looked up by name.
//!
//! [`registry()`] builds the [`Registry`] on first use from the files `build.rs` embedded. Every
//! document is registered under its `$id` in one `jsonschema` resource registry, so a `$ref` to
//! another file (`common.schema.json#/$defs/user_id`, `../common.schema.json#/...`) resolves
//! from memory: the validators are built offline and never read a file or the network.

use std::{collections::BTreeMap, sync::LazyLock};

use jsonschema::{error::ValidationErrorKind, ValidationError, Validator};
use serde_json::Value;

use crate::{suggest::suggestions, SchemaError, Violation};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Every schema's `$id` is this prefix, its name and [`SUFFIX`].
pub const ID_PREFIX: &str = "https://agentproof.dev/schemas/";
/// File name suffix of a schema; a schema's name is its path without it.
pub const SUFFIX: &str = ".schema.json";

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::build);

/// The registry of every embedded schema, compiled on first call and shared afterwards.
///
/// # Panics
///
/// On first call, if an embedded file is not valid JSON, has the wrong `$id`, or does not
/// compile. The crate's tests compile every file, so a release never panics here.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

/// The `$id` of the schema named `name`, e.g.
/// `https://agentproof.dev/schemas/aui/common.schema.json` for `aui/common`.
pub fn schema_id(name: &str) -> String {
    format!("{ID_PREFIX}{name}{SUFFIX}")
}

/// All schemas, keyed by name (`aui/getRtcAuthToken.response`, `duix/ws/start`, ...).
pub struct Registry {
    schemas: BTreeMap<&'static str, Schema>,
}

/// One compiled schema file.
pub struct Schema {
    name: &'static str,
    id: String,
    source: &'static str,
    document: Value,
    validator: Validator,
}

impl Registry {
    fn build() -> Registry {
        let parsed: Vec<(&'static str, &'static str, Value)> = embedded::FILES
            .iter()
            .map(|&(name, source)| {
                let document: Value = serde_json::from_str(source)
                    .unwrap_or_else(|e| panic!("schema {name}: not JSON: {e}"));
                let id = document.get("$id").and_then(Value::as_str);
                assert_eq!(
                    id,
                    Some(schema_id(name).as_str()),
                    "schema {name}: wrong $id"
                );
                (name, source, document)
            })
            .collect();
        let resources = jsonschema::Registry::new()
            .extend(parsed.iter().map(|(name, _, doc)| (schema_id(name), doc)))
            .and_then(|builder| builder.prepare())
            .unwrap_or_else(|e| panic!("registering the schemas: {e}"));
        let schemas = parsed
            .iter()
            .map(|(name, source, document)| {
                let validator = jsonschema::options()
                    .with_registry(&resources)
                    .offline()
                    .should_validate_formats(true)
                    .build(document)
                    .unwrap_or_else(|e| panic!("schema {name}: does not compile: {e}"));
                let schema = Schema {
                    name,
                    id: schema_id(name),
                    source,
                    document: document.clone(),
                    validator,
                };
                (*name, schema)
            })
            .collect();
        Registry { schemas }
    }

    /// Every schema name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.schemas.keys().copied()
    }

    /// Every schema, sorted by name.
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        self.schemas.values()
    }

    /// The schema named `name`, e.g. `aui/getRtcAuthToken.response`.
    pub fn get(&self, name: &str) -> Option<&Schema> {
        self.schemas.get(name)
    }

    /// The schema named `name`, or [`SchemaError::UnknownSchema`] with the closest names.
    pub fn lookup(&self, name: &str) -> Result<&Schema, SchemaError> {
        self.get(name).ok_or_else(|| {
            SchemaError::UnknownSchema(name.to_owned(), suggestions(name, self.names()))
        })
    }

    /// Checks `document` against the schema named `name`.
    ///
    /// # Errors
    ///
    /// [`SchemaError::UnknownSchema`] when no schema has that name, [`SchemaError::Invalid`]
    /// with every violation when the document breaks the schema.
    pub fn validate(&self, name: &str, document: &Value) -> Result<(), SchemaError> {
        self.lookup(name)?.validate(document)
    }

    /// The raw JSON text of the schema named `name`.
    pub fn source(&self, name: &str) -> Option<&'static str> {
        self.get(name).map(Schema::source)
    }

    /// The schema's `examples` (documents that satisfy it); empty for an unknown name and for
    /// the `common` files, which only hold `$defs`.
    pub fn examples(&self, name: &str) -> Vec<Value> {
        self.get(name)
            .map(|schema| schema.examples().to_vec())
            .unwrap_or_default()
    }

    /// How many schemas there are.
    pub fn len(&self) -> usize {
        self.schemas.len()
    }

    /// Whether there is no schema at all (never, in a correct build).
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }
}

impl Schema {
    /// The name: the path below the crate root without `.schema.json`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `$id`, `https://agentproof.dev/schemas/<name>.schema.json`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `title`.
    pub fn title(&self) -> Option<&str> {
        self.document.get("title").and_then(Value::as_str)
    }

    /// The `description`.
    pub fn description(&self) -> Option<&str> {
        self.document.get("description").and_then(Value::as_str)
    }

    /// The parsed schema document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The raw JSON text of the file.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The `examples`: documents that satisfy this schema.
    pub fn examples(&self) -> &[Value] {
        self.document
            .get("examples")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Whether `document` satisfies this schema.
    pub fn is_valid(&self, document: &Value) -> bool {
        self.validator.is_valid(document)
    }

    /// Every rule `document` breaks, in the order the validator found them; empty when valid.
    pub fn violations(&self, document: &Value) -> Vec<Violation> {
        self.validator
            .iter_errors(document)
            .flat_map(violations_of)
            .collect()
    }

    /// Checks `document` against this schema.
    ///
    /// # Errors
    ///
    /// [`SchemaError::Invalid`] with every violation when the document breaks the schema.
    pub fn validate(&self, document: &Value) -> Result<(), SchemaError> {
        if self.is_valid(document) {
            return Ok(());
        }
        Err(SchemaError::Invalid(self.violations(document)))
    }
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

/// One validator error as violations. A missing or unexpected member is reported at the
/// member's own pointer, so the path names the field.
fn violations_of(error: ValidationError<'_>) -> Vec<Violation> {
    let at = error.instance_path().as_str().to_owned();
    let member = |name: &str| format!("{at}/{}", escape_pointer(name));
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            vec![Violation {
                instance_path: member(&name),
                message: error.to_string(),
            }]
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation {
                instance_path: member(name),
                message: format!("{name:?} is not allowed here"),
            })
            .collect(),
        _ => vec![Violation {
            instance_path: at,
            message: error.to_string(),
        }],
    }
}

/// Escapes a member name as one JSON pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_segments_escape_tilde_and_slash() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn a_missing_member_is_reported_at_its_own_path() {
        let error = registry()
            .validate(
                "duix/webhook.response",
                &json!({"code": "200", "success": true, "data": {"answer": "x"}}),
            )
            .unwrap_err();
        let paths: Vec<&str> = error
            .violations()
            .iter()
            .map(|v| v.instance_path.as_str())
            .collect();
        assert_eq!(paths, ["/data/conversationId"]);
    }

    #[test]
    fn an_unexpected_member_is_reported_at_its_own_path() {
        let error = registry()
            .validate("duix/ws/stop", &json!({"type": "stop", "reason": "x"}))
            .unwrap_err();
        assert_eq!(
            error.violations(),
            [Violation {
                instance_path: "/reason".into(),
                message: "\"reason\" is not allowed here".into()
            }]
        );
    }

    #[test]
    fn schema_ids_follow_the_names() {
        assert_eq!(
            schema_id("duix/ws/start"),
            "https://agentproof.dev/schemas/duix/ws/start.schema.json"
        );
    }
}
