//! The AUI app server (AUIAICall v2.2.0) as OpenAPI 3.1: the eight `/api/v2/aiagent/` routes
//! and login, bearer-token security.

use serde_json::{json, Map, Value};

use super::{compose::Components, description, title, version, AUI_LOGIN_PATH};
use super::{JSON_SCHEMA_DIALECT, OPENAPI_VERSION};

/// The v2.2.0 routes of PROTOCOLS.md §4.3 this project reproduces, each with
/// `aui/<route>.request` and `aui/<route>.response` schemas.
pub(crate) const ROUTES: &[&str] = &[
    "getRtcAuthToken",
    "generateMessageChatToken",
    "describeAIAgentInstance",
    "startAIAgentInstance",
    "startAIAgentInstanceWithChannel",
    "stopAIAgentInstance",
    "updateAIAgentInstance",
    "generateAIAgentCall",
];

pub(super) fn document() -> Value {
    let mut components = Components::default();
    let mut paths = Map::new();
    for route in ROUTES {
        let operation = operation(&mut components, route, &format!("aui/{route}"));
        paths.insert(
            format!("/api/v2/aiagent/{route}"),
            json!({ "post": operation }),
        );
    }
    let mut login = operation(&mut components, "login", "aui/login");
    login["security"] = json!([]);
    paths.insert(AUI_LOGIN_PATH.to_owned(), json!({ "post": login }));

    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "AUI Kits app server (AUIAICall v2)",
            "version": version(),
            "description": "The AI-agent app server of Alibaba Cloud's AUI Kits, as agentproof's mock serves it and checks other servers against it (PROTOCOLS.md §4). Every route is a POST of snake_case JSON. The HTTP status is 200 for every business outcome: the body is the route's success response (code 200) or the error envelope (any other code). Only a missing or invalid bearer token gets HTTP 403."
        },
        "tags": [{ "name": "aiagent", "description": "AI agent routes under /api/v2/aiagent" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": format!("The token of POST {AUI_LOGIN_PATH}.")
                }
            },
            "schemas": components.finish()
        }
    })
}

/// The POST operation of a route whose schemas are `<base>.request` and `<base>.response`.
fn operation(components: &mut Components, operation_id: &str, base: &str) -> Value {
    let request = format!("{base}.request");
    let response = format!("{base}.response");
    json!({
        "operationId": operation_id,
        "tags": ["aiagent"],
        "summary": title(&request).trim_end_matches(" request"),
        "description": description(&request),
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": components.schema(&request) } }
        },
        "responses": {
            "200": {
                "description": "The success response (code 200) or the error envelope (another code).",
                "content": {
                    "application/json": { "schema": components.one_of(&[&response, "aui/error"]) }
                }
            },
            "403": { "description": "No valid bearer token: rejected by the security filter." }
        }
    })
}
