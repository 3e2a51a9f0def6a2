//! Embeds registry schemas into an OpenAPI document's `components/schemas`.
//!
//! A schema file becomes the component `<name with / replaced by .>` (`aui/common` →
//! `aui.common`), without its `$id` and `$schema` (the document's `jsonSchemaDialect` says
//! 2020-12, and a kept `$id` would change the base URI of the references inside it). Every
//! `$ref` is rewritten to point into the document: `common.schema.json#/$defs/user_id` in
//! `aui/...` becomes `#/components/schemas/aui.common/$defs/user_id`, `#/$defs/x` in
//! `alibaba/common` becomes `#/components/schemas/alibaba.common/$defs/x`. The files a document
//! references, and the files those reference, are all embedded: nothing is written twice.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::{registry, registry::ID_PREFIX, registry::SUFFIX};

/// Keywords whose values are data, not schemas: a `$ref` member inside them is not a reference.
const DATA_KEYWORDS: &[&str] = &["examples", "default", "const", "enum"];

/// The component key of a schema name.
pub(crate) fn component_key(name: &str) -> String {
    name.replace('/', ".")
}

/// Collects the schemas an OpenAPI document uses and renders `components/schemas`.
#[derive(Default)]
pub(crate) struct Components {
    used: BTreeSet<String>,
}

impl Components {
    /// `{"$ref": ...}` to the whole schema `name`, which is embedded.
    pub(crate) fn schema(&mut self, name: &str) -> Value {
        self.require(name);
        json!({ "$ref": format!("#/components/schemas/{}", component_key(name)) })
    }

    /// `{"oneOf": [...]}` of the given schemas: a success body or an error envelope.
    pub(crate) fn one_of(&mut self, names: &[&str]) -> Value {
        let refs: Vec<Value> = names.iter().map(|name| self.schema(name)).collect();
        json!({ "oneOf": refs })
    }

    /// Query parameters from the properties of the request schema `name` (the parameter set
    /// of a GET as a JSON object): one parameter per property, required as the schema says.
    pub(crate) fn query_parameters(&mut self, name: &str) -> Vec<Value> {
        let document = schema_document(name);
        let required: BTreeSet<&str> = document
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let properties = document
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("schema {name} has no properties"));
        properties
            .iter()
            .map(|(property, schema)| {
                let schema = self.rewrite(name, schema);
                json!({
                    "name": property,
                    "in": "query",
                    "required": required.contains(property.as_str()),
                    "schema": schema,
                })
            })
            .collect()
    }

    /// `components/schemas`: every schema used, and every schema those reference.
    pub(crate) fn finish(mut self) -> Value {
        let mut rendered = BTreeMap::new();
        while let Some(name) = self
            .used
            .iter()
            .find(|name| !rendered.contains_key(*name))
            .cloned()
        {
            let mut document = schema_document(&name).clone();
            if let Value::Object(members) = &mut document {
                members.remove("$id");
                members.remove("$schema");
            }
            let document = self.rewrite(&name, &document);
            rendered.insert(name, document);
        }
        let schemas: Map<String, Value> = rendered
            .into_iter()
            .map(|(name, document)| (component_key(&name), document))
            .collect();
        Value::Object(schemas)
    }

    fn require(&mut self, name: &str) {
        assert!(
            registry().get(name).is_some(),
            "OpenAPI document uses unknown schema {name}"
        );
        self.used.insert(name.to_owned());
    }

    /// A copy of `value` (part of schema `from`) with every `$ref` pointing into the document.
    fn rewrite(&mut self, from: &str, value: &Value) -> Value {
        match value {
            Value::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, member)| {
                        let member = match (key.as_str(), member) {
                            ("$ref", Value::String(reference)) => {
                                let (target, fragment) = resolve(from, reference);
                                self.require(&target);
                                Value::String(format!(
                                    "#/components/schemas/{}{fragment}",
                                    component_key(&target)
                                ))
                            }
                            (key, member) if DATA_KEYWORDS.contains(&key) => member.clone(),
                            (_, member) => self.rewrite(from, member),
                        };
                        (key.clone(), member)
                    })
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rewrite(from, v)).collect())
            }
            other => other.clone(),
        }
    }
}

fn schema_document(name: &str) -> &'static Value {
    registry()
        .get(name)
        .unwrap_or_else(|| panic!("OpenAPI document uses unknown schema {name}"))
        .document()
}

/// The schema name and JSON pointer fragment a `$ref` in schema `from` points at.
///
/// `#/$defs/x` stays in `from`; `common.schema.json#/$defs/x` and `../common.schema.json#...`
/// resolve against `from`'s folder; an absolute `https://agentproof.dev/schemas/...` is taken
/// as is.
pub(crate) fn resolve(from: &str, reference: &str) -> (String, String) {
    let (path, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    if path.is_empty() {
        return (from.to_owned(), fragment.to_owned());
    }
    let target = if let Some(absolute) = path.strip_prefix(ID_PREFIX) {
        absolute.to_owned()
    } else {
        let mut segments: Vec<&str> = from.split('/').collect();
        segments.pop();
        for segment in path.split('/') {
            match segment {
                "." | "" => {}
                ".." => {
                    segments.pop();
                }
                segment => segments.push(segment),
            }
        }
        segments.join("/")
    };
    let name = target
        .strip_suffix(SUFFIX)
        .unwrap_or_else(|| panic!("$ref {reference:?} in {from} does not name a schema file"));
    (name.to_owned(), fragment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_against_the_schema_folder() {
        assert_eq!(
            resolve(
                "aui/login.response",
                "common.schema.json#/$defs/success_code"
            ),
            ("aui/common".into(), "/$defs/success_code".into())
        );
        assert_eq!(
            resolve("duix/ws/answer", "../common.schema.json#/$defs/sessionId"),
            ("duix/common".into(), "/$defs/sessionId".into())
        );
        assert_eq!(
            resolve("alibaba/common", "#/$defs/RtcUserId"),
            ("alibaba/common".into(), "/$defs/RtcUserId".into())
        );
        assert_eq!(
            resolve(
                "aui/error",
                "https://agentproof.dev/schemas/duix/error.schema.json"
            ),
            ("duix/error".into(), String::new())
        );
    }

    #[test]
    fn embedded_schemas_lose_their_id_and_point_into_the_document() {
        let mut components = Components::default();
        let reference = components.schema("aui/getRtcAuthToken.request");
        assert_eq!(
            reference,
            json!({"$ref": "#/components/schemas/aui.getRtcAuthToken.request"})
        );
        let schemas = components.finish();
        let request = &schemas["aui.getRtcAuthToken.request"];
        assert!(request.get("$id").is_none() && request.get("$schema").is_none());
        assert_eq!(
            request["properties"]["user_id"]["$ref"],
            "#/components/schemas/aui.common/$defs/user_id"
        );
        assert!(
            schemas.get("aui.common").is_some(),
            "the referenced file is embedded too"
        );
    }
}
