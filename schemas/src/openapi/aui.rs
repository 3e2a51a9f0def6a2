//! The AUI app server (AUIAICall v2.2.0) as OpenAPI 3.1: the eight `/api/v2/aiagent/` routes
//! and login, bearer-token security, and every status each operation answers.

use serde_json::{json, Map, Value};

use super::{compose::Components, description, title, version, AUI_LOGIN_PATH};
use super::{error_responses, ErrorStatus, EDGE_STATUSES};
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

/// The routes answered without calling the cloud: their errors are this server's own.
const LOCAL_ROUTES: &[&str] = &["getRtcAuthToken"];

/// What every operation can answer besides 200 and the edge's statuses.
const OWN_STATUSES: &[ErrorStatus] = &[
    (
        "400",
        "Bad Request: the body is not a JSON object (error_code InvalidBody), or a field is missing or not valid (MissingParameter, InvalidParameter); for a route that calls the cloud, also the cloud's own 400 passed on with its Code and request_id.",
    ),
    (
        "403",
        "Forbidden: no valid bearer token (missing, malformed, expired, signed with another key); for login, a wrong username or password.",
    ),
];

/// What a route that calls the Alibaba OpenAPI can answer besides those.
const UPSTREAM_STATUSES: &[ErrorStatus] = &[
    (
        "404",
        "Not Found: the cloud does not know the agent or instance; its Code (e.g. NotFound) and request_id are passed on.",
    ),
    (
        "500",
        "Internal Server Error: the cloud's own failure (InternalError), passed on with its request_id.",
    ),
    (
        "502",
        "Bad Gateway: the cloud could not be reached (UpstreamUnavailable), answered something that is not an OpenAPI answer (UpstreamBadResponse), or refused this server's own AccessKey, signature or clock (its Code is kept).",
    ),
    (
        "503",
        "Service Unavailable: the cloud's own unavailability (ServiceUnavailable), passed on with its request_id.",
    ),
    (
        "504",
        "Gateway Timeout: the cloud did not answer within the configured upstream timeout (UpstreamTimeout).",
    ),
];

pub(super) fn document() -> Value {
    let mut components = Components::default();
    let mut paths = Map::new();
    for route in ROUTES {
        let calls_cloud = !LOCAL_ROUTES.contains(route);
        let operation = operation(&mut components, route, &format!("aui/{route}"), calls_cloud);
        paths.insert(
            format!("/api/v2/aiagent/{route}"),
            json!({ "post": operation }),
        );
    }
    let mut login = operation(&mut components, "login", "aui/login", false);
    login["security"] = json!([]);
    paths.insert(AUI_LOGIN_PATH.to_owned(), json!({ "post": login }));

    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "AUI Kits app server (AUIAICall v2)",
            "version": version(),
            "description": "The AI-agent app server of Alibaba Cloud's AUI Kits, as agentproof's mock serves it and checks other servers against it (PROTOCOLS.md §4). Every route is a POST of snake_case JSON. The body is the route's success response (code 200) or the error envelope (any other code). agentproof's server answers each error with the HTTP status that equals its code (400, 403, 404, 413, 414, 431, 500, 502, 503, 504, as each operation lists); the reference Java server answers HTTP 200 with the error envelope for most of them, which the 200 response allows. A fault injected through /__admin/faults answers with the status its rule names."
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

/// The POST operation of a route whose schemas are `<base>.request` and `<base>.response`;
/// `calls_cloud` adds the statuses of an upstream call.
fn operation(
    components: &mut Components,
    operation_id: &str,
    base: &str,
    calls_cloud: bool,
) -> Value {
    let request = format!("{base}.request");
    let response = format!("{base}.response");
    let error = components.schema("aui/error");
    let upstream: &[ErrorStatus] = if calls_cloud { UPSTREAM_STATUSES } else { &[] };
    let mut responses = error_responses(&error, &[OWN_STATUSES, upstream, EDGE_STATUSES]);
    responses.insert(
        "200".into(),
        json!({
            "description": "The success response (code 200), or (from the reference Java server) the error envelope with another code.",
            "content": {
                "application/json": { "schema": components.one_of(&[&response, "aui/error"]) }
            }
        }),
    );
    json!({
        "operationId": operation_id,
        "tags": ["aiagent"],
        "summary": title(&request).trim_end_matches(" request"),
        "description": description(&request),
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": components.schema(&request) } }
        },
        "responses": responses
    })
}
