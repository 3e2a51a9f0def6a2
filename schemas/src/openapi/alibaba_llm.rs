//! The LLM an Alibaba agent calls, as OpenAPI 3.1: the one streaming POST a vendor implements
//! ("self-developed LLM (OpenAI specification)", RTC `LLMConfig.Vendor = "thirdparty"`),
//! answered with a text/event-stream of `alibaba/llm.chunk` events or refused with an
//! `alibaba/llm.error` body. The bearer key is what the agent is configured with.

use serde_json::{json, Value};

use super::{compose::Components, description, version};
use super::{JSON_SCHEMA_DIALECT, OPENAPI_VERSION};

/// The path the platform appends to the base URL it is configured with.
pub const LLM_PATH: &str = "/chat/completions";

pub(super) fn document() -> Value {
    let mut components = Components::default();
    let request = components.schema("alibaba/llm.request");
    let chunk = components.schema("alibaba/llm.chunk");
    let error = components.schema("alibaba/llm.error");
    let examples = crate::registry().examples("alibaba/llm.error");
    let refusal = |description: &str, example: usize| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": error, "example": examples[example] } }
        })
    };
    let mut unauthorized = refusal(
        "Unauthorized: the `Authorization: Bearer <key>` is missing or wrong (OpenAI answers 401 with code invalid_api_key; 403 is accepted too).",
        1,
    );
    unauthorized["headers"] = json!({
        "WWW-Authenticate": {
            "description": "The scheme the client must use (RFC 6750 §3), e.g. `Bearer realm=\"llm\"`.",
            "schema": { "type": "string" }
        }
    });
    let operation = json!({
        "operationId": "createChatCompletion",
        "tags": ["llm"],
        "security": [{ "bearer": [] }],
        "summary": "Answer one turn of a conversation, streamed",
        "description": description("alibaba/llm.request"),
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": request } }
        },
        "responses": {
            "200": {
                "description": "The answer as server-sent events: `data:` lines each holding the JSON of alibaba/llm.chunk (choices[0].delta.content the next piece of text, a finish_reason on the last chunk), then `data: [DONE]`. A slow first token is silence on a call: agentproof llm asks 95% of first tokens under 1000 ms by default.",
                "content": {
                    "text/event-stream": {
                        "schema": {
                            "type": "string",
                            "description": "Server-sent events: `data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"...\"},\"finish_reason\":null}]}` lines separated by blank lines, then `data: [DONE]`."
                        },
                        "x-event-data-schema": chunk
                    }
                }
            },
            "400": refusal("Bad Request: the body is not a chat-completions request (e.g. messages missing or empty); param names the field.", 0),
            "401": unauthorized
        }
    });
    json!({
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Alibaba agent's third-party LLM (OpenAI specification)",
            "version": version(),
            "description": "The HTTP endpoint a vendor implements so that Alibaba Cloud AI agents (ICE/IMS real-time workflows, RTC agents) converse with the vendor's model (PROTOCOLS.md §6). The agent POSTs each turn to the configured base URL + /chat/completions, streaming only; the vendor streams the answer back. `agentproof llm --url BASE` checks an implementation against this document."
        },
        "servers": [{
            "url": "{baseUrl}",
            "description": "The base URL the agent is configured with (the OpenAI base_url).",
            "variables": { "baseUrl": { "default": "https://llm.example/v1" } }
        }],
        "tags": [{ "name": "llm", "description": "Implemented by the vendor, called by the Alibaba agent" }],
        "paths": { LLM_PATH: { "post": operation } },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The API key the agent is configured with (IMS API-KEY, RTC LLMConfig.ApiKey), sent as `Authorization: Bearer <key>`."
                }
            },
            "schemas": components.finish()
        }
    })
}
