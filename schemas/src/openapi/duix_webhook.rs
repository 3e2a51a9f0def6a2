//! The DUIX third-party dialogue webhook as OpenAPI 3.1: the one POST a vendor implements,
//! answered with JSON or with a text/event-stream, or refused with one of the seed's statuses
//! (400, 401, 403, 500) and a duix/webhook.error body. The bearer secret is optional.

use serde_json::{json, Value};

use super::{compose::Components, description, version};
use super::{JSON_SCHEMA_DIALECT, OPENAPI_VERSION};

/// The path of the webhook in the document. The vendor gives DUIX a full URL, so any path
/// works; this is the one of the public integration PROTOCOLS.md §5.4 cites.
pub const WEBHOOK_PATH: &str = "/conversation";

pub(super) fn document() -> Value {
    let mut components = Components::default();
    let request = components.schema("duix/webhook.request");
    let answer = components.schema("duix/webhook.response");
    let event = components.schema("duix/webhook.sse-event");
    let error = components.schema("duix/webhook.error");
    let mut unauthorized = error_response(
        &error,
        "401",
        "Unauthorized: 鉴权信息无效, the authentication information is invalid (seed 003): the vendor configured a bearer secret and the request has no `Authorization: Bearer` header.",
    );
    unauthorized["headers"] = json!({
        "WWW-Authenticate": {
            "description": "The scheme the client must use (RFC 6750 §3), e.g. `Bearer realm=\"duix-webhook\"`.",
            "required": true,
            "schema": { "type": "string" },
            "example": "Bearer realm=\"duix-webhook\""
        }
    });
    let operation = json!({
        "operationId": "answerQuestion",
        "tags": ["webhook"],
        "security": [{}, { "bearer": [] }],
        "summary": "Answer a user's question to the digital human",
        "description": description("duix/webhook.request"),
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": request } }
        },
        "responses": {
            "200": {
                "description": "The answer: a JSON body, or a stream of server-sent events whose `data:` lines each hold the JSON of duix/webhook.sse-event (the last with isEnd true). 95% of answers must come within 2000 ms; DUIX times out after 20000 ms.",
                "content": {
                    "application/json": { "schema": answer },
                    "text/event-stream": {
                        "schema": {
                            "type": "string",
                            "description": "Server-sent events: `data: {\"answer\": \"...\", \"isEnd\": false}` lines separated by blank lines."
                        },
                        "x-event-data-schema": event
                    }
                }
            },
            "400": error_response(&error, "400", "Bad Request: the request body or headers are invalid (seed 003). The reference webhook names the bad field in `field`."),
            "401": unauthorized,
            "403": error_response(&error, "403", "Forbidden: 鉴权失败, authentication failed (seed 003): the bearer secret is wrong."),
            "500": error_response(&error, "500", "Server Error: 服务异常, the service failed (seed 003).")
        }
    });
    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "DUIX third-party dialogue webhook",
            "version": version(),
            "description": "The HTTP endpoint a vendor implements so that DUIX digital humans answer with the vendor's dialogue engine (seed 003, PROTOCOLS.md §5.4). DUIX POSTs each question; the vendor answers with JSON or streams server-sent events. `agentproof webhook --url ...` checks an implementation against this document."
        },
        "servers": [{
            "url": "{webhookBase}",
            "description": "The vendor's server.",
            "variables": { "webhookBase": { "default": "https://vendor.example" } }
        }],
        "tags": [{ "name": "webhook", "description": "Implemented by the vendor, called by DUIX" }],
        "paths": { WEBHOOK_PATH: { "post": operation } },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Optional: DUIX sends `Authorization: Bearer <secret>` only when the vendor configured a secret. Then a missing bearer is 401 (with WWW-Authenticate) and a wrong one 403."
                }
            },
            "schemas": components.finish()
        }
    })
}

/// A non-200 response: `description`, a duix/webhook.error body (`error` is its `$ref`) and
/// the first example of that schema whose `code` is `status`.
fn error_response(error: &Value, status: &str, description: &str) -> Value {
    let example = crate::registry()
        .examples("duix/webhook.error")
        .into_iter()
        .find(|example| example["code"] == status)
        .unwrap_or_else(|| panic!("duix/webhook.error has no example with code {status}"));
    json!({
        "description": description,
        "content": {
            "application/json": { "schema": error, "example": example }
        }
    })
}
