//! DUIX openapi-v2 as OpenAPI 3.1: checkSig and the management endpoints, under both the v1 and
//! the newer sdk/v2 prefix, with the JWT in the `token` header.

use serde_json::{json, Map, Value};

use super::{compose::Components, description, title, version};
use super::{JSON_SCHEMA_DIALECT, OPENAPI_VERSION};

/// The management endpoints, each with `duix/<endpoint>.request` (its query) and
/// `duix/<endpoint>.response` schemas.
pub(crate) const ENDPOINTS: &[&str] = &[
    "getconcurrentNumber",
    "getconcurrentList",
    "distroyCallSessionsByAppId",
    "sessionStop",
];

/// Path prefixes the management endpoints are served under, with an operationId prefix each.
pub(crate) const PREFIXES: &[(&str, &str)] = &[
    ("/duix-openapi-v2/v1/", "v1_"),
    ("/duix-openapi-v2/sdk/v2/", "sdkV2_"),
];

pub(super) fn document() -> Value {
    let mut components = Components::default();
    let mut paths = Map::new();
    let mut check_sig = operation(&mut components, "checkSig", "duix/checkSig");
    check_sig["security"] = json!([]);
    paths.insert(
        "/duix-openapi-v2/sdk/checkSig".to_owned(),
        json!({ "get": check_sig }),
    );
    for (prefix, id_prefix) in PREFIXES {
        for endpoint in ENDPOINTS {
            let operation_id = format!("{id_prefix}{endpoint}");
            let operation = operation(&mut components, &operation_id, &format!("duix/{endpoint}"));
            paths.insert(format!("{prefix}{endpoint}"), json!({ "get": operation }));
        }
    }

    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "DUIX openapi-v2",
            "version": version(),
            "description": "The DUIX (硅基智能) digital-human platform's HTTP API as agentproof's mock serves it (seed 003, PROTOCOLS.md §5). Every body is the envelope {code: string, message, data, success}: code \"0\" with success true, or one of the seed's error codes with success false. Management endpoints take the HS256 JWT in the `token` header; checkSig takes it as the `sig` query parameter and returns the session WebSocket URL."
        },
        "servers": [{ "url": "https://app.duix.ai", "description": "DUIX cloud" }],
        "tags": [{ "name": "duix", "description": "DUIX openapi-v2" }],
        "security": [{ "token": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "token",
                    "description": "HS256 JWT signed with the app key, claims {appId, iat, exp}."
                }
            },
            "schemas": components.finish()
        }
    })
}

/// The GET operation of an endpoint whose schemas are `<base>.request` (query parameters) and
/// `<base>.response`.
fn operation(components: &mut Components, operation_id: &str, base: &str) -> Value {
    let request = format!("{base}.request");
    let response = format!("{base}.response");
    json!({
        "operationId": operation_id,
        "tags": ["duix"],
        "summary": title(&response).trim_end_matches(" success response"),
        "description": description(&request),
        "parameters": components.query_parameters(&request),
        "responses": {
            "200": {
                "description": "The success envelope or the error envelope.",
                "content": {
                    "application/json": { "schema": components.one_of(&[&response, "duix/error"]) }
                }
            }
        }
    })
}
