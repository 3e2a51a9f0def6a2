//! The JSON Schema (draft 2020-12) of `report.json`, the output of [`crate::render::json`].
//!
//! Published as `$id` [`RUN_SCHEMA_ID`]; every JSON report names it in its `$schema` field.
//! The source is `schema/run.schema.json` beside this file. Summary numbers and the verdict
//! are described as derived: tools merging reports read only the `histogram` blobs.

/// The `$id` of [`RUN_SCHEMA`], also written as `$schema` at the top of each JSON report.
pub const RUN_SCHEMA_ID: &str = "https://agentproof.dev/schemas/report/run.schema.json";

/// The JSON Schema of the JSON report, as text.
pub const RUN_SCHEMA: &str = include_str!("schema/run.schema.json");

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> serde_json::Value {
        serde_json::from_str(RUN_SCHEMA).expect("schema is JSON")
    }

    #[test]
    fn schema_is_a_valid_2020_12_schema() {
        let schema = schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::meta::validate(&schema).expect("schema passes its meta-schema");
        jsonschema::draft202012::new(&schema).expect("schema compiles");
    }

    #[test]
    fn schema_id_is_the_published_constant() {
        assert_eq!(schema()["$id"], RUN_SCHEMA_ID);
    }
}
