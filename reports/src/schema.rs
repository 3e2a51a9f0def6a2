//! The JSON Schemas (draft 2020-12) of `report.json`: [`RUN_SCHEMA`] for a check run (the
//! output of [`crate::render::json`]), [`LOAD_SCHEMA`] for a load run (the output of
//! [`crate::render::load::json`]).
//!
//! Published as `$id` [`RUN_SCHEMA_ID`] and [`LOAD_SCHEMA_ID`]; every JSON report names its
//! schema in its `$schema` field. The sources are in `schema/` beside this file. Summary numbers and the verdict
//! are described as derived: tools merging reports read only the `histogram` blobs.

/// The `$id` of [`RUN_SCHEMA`], also written as `$schema` at the top of each JSON report.
pub const RUN_SCHEMA_ID: &str = "https://agentproof.dev/schemas/report/run.schema.json";

/// The JSON Schema of the JSON report, as text.
pub const RUN_SCHEMA: &str = include_str!("schema/run.schema.json");

/// The `$id` of [`LOAD_SCHEMA`], written as `$schema` at the top of each load `report.json`.
pub const LOAD_SCHEMA_ID: &str = "https://agentproof.dev/schemas/report/load.schema.json";

/// The JSON Schema of a load run's `report.json` ([`crate::render::load::json`]), as text.
pub const LOAD_SCHEMA: &str = include_str!("schema/load.schema.json");

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> serde_json::Value {
        serde_json::from_str(RUN_SCHEMA).expect("schema is JSON")
    }

    #[test]
    fn schema_is_a_valid_2020_12_schema() {
        for text in [RUN_SCHEMA, LOAD_SCHEMA] {
            let schema: serde_json::Value = serde_json::from_str(text).expect("schema is JSON");
            assert_eq!(
                schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            jsonschema::meta::validate(&schema).expect("schema passes its meta-schema");
            jsonschema::draft202012::new(&schema).expect("schema compiles");
        }
    }

    #[test]
    fn schema_id_is_the_published_constant() {
        assert_eq!(schema()["$id"], RUN_SCHEMA_ID);
        let load: serde_json::Value = serde_json::from_str(LOAD_SCHEMA).unwrap();
        assert_eq!(load["$id"], LOAD_SCHEMA_ID);
    }
}
