//! The DUIX third-party dialogue webhook as OpenAPI 3.1: the one POST a vendor implements,
//! answered with JSON or with a text/event-stream.

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
    let operation = json!({
        "operationId": "answerQuestion",
        "tags": ["webhook"],
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
            "400": { "description": "Request body or headers are invalid." },
            "401": { "description": "Authentication information is invalid." },
            "403": { "description": "Authentication failed." },
            "500": { "description": "Server error." }
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
        "components": { "schemas": components.finish() }
    })
}
