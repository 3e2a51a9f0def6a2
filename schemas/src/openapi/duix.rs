//! DUIX openapi-v2 as OpenAPI 3.1: checkSig and the management endpoints, under both the v1 and
//! the newer sdk/v2 prefix, with the JWT in the `token` header (checkSig: the `sig` query), and
//! every status each operation answers.

use serde_json::{json, Map, Value};

use super::{compose::Components, description, title, version};
use super::{error_responses, ErrorStatus, EDGE_STATUSES};
use super::{JSON_SCHEMA_DIALECT, OPENAPI_VERSION};

/// What every operation can answer besides 200 and the edge's statuses (the table of the mock's
/// `duix` module).
const OWN_STATUSES: &[ErrorStatus] = &[
    (
        "400",
        "Bad Request: code -1, a required parameter is missing or the query cannot be read.",
    ),
    (
        "401",
        "Unauthorized: code 1005 (no token), 1006 (token malformed, expired, not yet valid or not HS256) or 40001 (unknown appId, a token signed with another key, or an appId that is not the token's).",
    ),
];

/// What sessionStop answers besides those.
const SESSION_STATUSES: &[ErrorStatus] = &[(
    "404",
    "Not Found: code 2002, the token's app has no such session.",
)];

/// The endpoints that name one session.
const SESSION_ENDPOINTS: &[&str] = &["sessionStop"];

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
    let mut check_sig = operation(&mut components, "checkSig", "duix/checkSig", &[]);
    check_sig["security"] = json!([{ "sig": [] }]);
    paths.insert(
        "/duix-openapi-v2/sdk/checkSig".to_owned(),
        json!({ "get": check_sig }),
    );
    for (prefix, id_prefix) in PREFIXES {
        for endpoint in ENDPOINTS {
            let operation_id = format!("{id_prefix}{endpoint}");
            let more: &[ErrorStatus] = if SESSION_ENDPOINTS.contains(endpoint) {
                SESSION_STATUSES
            } else {
                &[]
            };
            let base = format!("duix/{endpoint}");
            let operation = operation(&mut components, &operation_id, &base, more);
            paths.insert(format!("{prefix}{endpoint}"), json!({ "get": operation }));
        }
    }

    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "DUIX openapi-v2",
            "version": version(),
            "description": "The DUIX (硅基智能) digital-human platform's HTTP API as agentproof's mock serves it (seed 003, PROTOCOLS.md §5). Every body is the envelope {code: string, message, data, success}: code \"0\" with success true, or one of the seed's error codes with success false. Management endpoints take the HS256 JWT in the `token` header; checkSig takes it as the `sig` query parameter and returns the session WebSocket URL. agentproof's mock answers each error code with the HTTP status that says the same thing (400, 401, 404, 413, 414, 431, as each operation lists; the platform's own statuses are not documented); a fault injected through /__admin/faults answers with the status its rule names."
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
                },
                "sig": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "sig",
                    "description": "checkSig only: the same JWT as the `token` header, as the `sig` query parameter."
                }
            },
            "schemas": components.finish()
        }
    })
}

/// The GET operation of an endpoint whose schemas are `<base>.request` (query parameters) and
/// `<base>.response`; `more` are the statuses it answers besides the common ones. The `sig`
/// parameter is left to its security scheme.
fn operation(
    components: &mut Components,
    operation_id: &str,
    base: &str,
    more: &[ErrorStatus],
) -> Value {
    let request = format!("{base}.request");
    let response = format!("{base}.response");
    let error = components.schema("duix/error");
    let mut responses = error_responses(&error, &[OWN_STATUSES, more, EDGE_STATUSES]);
    responses.insert(
        "200".into(),
        json!({
            "description": "The success envelope (code \"0\", success true); or, from a server that answers errors with HTTP 200, the error envelope.",
            "content": {
                "application/json": { "schema": components.one_of(&[&response, "duix/error"]) }
            }
        }),
    );
    let parameters: Vec<Value> = components
        .query_parameters(&request)
        .into_iter()
        .filter(|parameter| parameter["name"] != "sig")
        .collect();
    json!({
        "operationId": operation_id,
        "tags": ["duix"],
        "summary": title(&response).trim_end_matches(" success response"),
        "description": description(&request),
        "parameters": parameters,
        "responses": responses
    })
}
