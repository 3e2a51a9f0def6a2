//! The OpenAPI documents pass a validator nobody here wrote: `openapi-spec-validator` (PyPI).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use schemas::openapi::{openapi, DOCUMENTS};
use serde_json::{json, Value};

const SETUP_HINT: &str = "run .ci/setup-python (or: python3 -m venv .venv && .venv/bin/pip install openapi-spec-validator)";

/// `$AGENTPROOF_VENV/bin/openapi-spec-validator`, or `<workspace root>/.venv/bin/...`.
fn validator() -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"));
    let validator = venv.join("bin").join("openapi-spec-validator");
    assert!(
        validator.is_file(),
        "openapi-spec-validator not found at {} (set AGENTPROOF_VENV to a virtualenv that has it): {SETUP_HINT}",
        validator.display()
    );
    validator
}

fn workspace_root() -> &'static Path {
    crate::util::crate_root()
        .parent()
        .expect("the crate lives in the workspace")
}

#[test]
fn every_openapi_document_passes_openapi_spec_validator() {
    let validator = validator();
    for name in DOCUMENTS {
        let document = openapi(name).unwrap();
        let mut file = tempfile::Builder::new()
            .prefix(&format!("agentproof-openapi-{name}-"))
            .suffix(".json")
            .tempfile()
            .expect("a temporary file");
        let path = file.path().to_path_buf();
        std::fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
        let output = Command::new(&validator)
            .args(["--schema", "3.1", "--validation-errors", "all"])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}; {SETUP_HINT}", validator.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !(output.status.success() && stdout.contains("OK")) {
            // The rejected document stays for a look, as the message below says.
            file.disable_cleanup(true);
        }
        assert!(
            output.status.success() && stdout.contains("OK"),
            "{name}: openapi-spec-validator rejected {}:\n{stdout}\n{stderr}",
            path.display()
        );
    }
}

#[test]
fn the_aui_document_has_every_route_login_and_bearer_security() {
    let document = openapi("aui").unwrap();
    let paths = document["paths"].as_object().unwrap();
    for route in [
        "getRtcAuthToken",
        "generateMessageChatToken",
        "describeAIAgentInstance",
        "startAIAgentInstance",
        "startAIAgentInstanceWithChannel",
        "stopAIAgentInstance",
        "updateAIAgentInstance",
        "generateAIAgentCall",
    ] {
        let operation = &paths[&format!("/api/v2/aiagent/{route}")]["post"];
        assert_eq!(operation["operationId"], route);
        assert_eq!(
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/aui.{route}.request")
        );
    }
    let login = &paths[schemas::openapi::AUI_LOGIN_PATH]["post"];
    assert_eq!(login["security"], serde_json::json!([]));
    assert_eq!(paths.len(), 9);
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[test]
fn the_duix_document_serves_both_prefixes_and_the_token_header() {
    let document = openapi("duix").unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/duix-openapi-v2/sdk/checkSig"));
    for prefix in ["/duix-openapi-v2/v1/", "/duix-openapi-v2/sdk/v2/"] {
        for endpoint in [
            "getconcurrentNumber",
            "getconcurrentList",
            "distroyCallSessionsByAppId",
            "sessionStop",
        ] {
            let operation = &paths[&format!("{prefix}{endpoint}")]["get"];
            let parameter = &operation["parameters"][0];
            assert_eq!(parameter["in"], "query", "{prefix}{endpoint}");
            assert_eq!(parameter["required"], true, "{prefix}{endpoint}");
        }
    }
    let scheme = &document["components"]["securitySchemes"]["token"];
    assert_eq!(
        (&scheme["in"], &scheme["name"]),
        (&Value::from("header"), &Value::from("token"))
    );
    // checkSig's credential is the `sig` query: a security scheme, not a plain parameter.
    let check_sig = &paths["/duix-openapi-v2/sdk/checkSig"]["get"];
    assert_eq!(check_sig["security"], json!([{ "sig": [] }]));
    assert_eq!(check_sig["parameters"], json!([]));
    let scheme = &document["components"]["securitySchemes"]["sig"];
    assert_eq!(
        (&scheme["type"], &scheme["in"], &scheme["name"]),
        (
            &Value::from("apiKey"),
            &Value::from("query"),
            &Value::from("sig")
        )
    );
}

/// Every status an AUI or DUIX operation answers is listed, each error with the platform's
/// envelope as its JSON body (Schemathesis checks the servers against these lists).
#[test]
fn every_operation_lists_its_error_statuses_with_the_envelope() {
    let cases = [
        (
            "aui",
            "aui.error",
            vec!["200", "400", "403", "413", "414", "431"],
        ),
        (
            "duix",
            "duix.error",
            vec!["200", "400", "401", "413", "414", "431"],
        ),
    ];
    for (name, envelope, common) in cases {
        let document = openapi(name).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                for status in &common {
                    assert!(
                        responses.contains_key(*status),
                        "{name} {method} {path}: {status}"
                    );
                }
                for (status, response) in responses.iter().filter(|(s, _)| *s != "200") {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"],
                        format!("#/components/schemas/{envelope}"),
                        "{name} {method} {path} {status}"
                    );
                }
            }
        }
    }
    let aui = openapi("aui").unwrap();
    let upstream = &aui["paths"]["/api/v2/aiagent/startAIAgentInstance"]["post"]["responses"];
    for status in ["404", "500", "502", "503", "504"] {
        assert!(
            upstream.get(status).is_some(),
            "a route that calls the cloud: {status}"
        );
    }
    let local = &aui["paths"]["/api/v2/aiagent/getRtcAuthToken"]["post"]["responses"];
    assert!(local.get("502").is_none(), "getRtcAuthToken calls no one");
    let duix = openapi("duix").unwrap();
    let stop = &duix["paths"]["/duix-openapi-v2/v1/sessionStop"]["get"]["responses"];
    assert!(stop.get("404").is_some(), "sessionStop: no such session");
}

#[test]
fn the_webhook_document_answers_json_or_an_event_stream() {
    let document = openapi("duix-webhook").unwrap();
    let operation = &document["paths"][schemas::openapi::WEBHOOK_PATH]["post"];
    let content = operation["responses"]["200"]["content"]
        .as_object()
        .unwrap();
    let media_types: Vec<&str> = content.keys().map(String::as_str).collect();
    assert_eq!(media_types, ["application/json", "text/event-stream"]);
    assert_eq!(
        content["application/json"]["schema"]["$ref"],
        "#/components/schemas/duix.webhook.response"
    );
    let stream = &content["text/event-stream"];
    assert_eq!(stream["schema"]["type"], "string");
    assert_eq!(
        stream["x-event-data-schema"]["$ref"],
        "#/components/schemas/duix.webhook.sse-event"
    );
    assert!(document["components"]["schemas"]["duix.webhook.sse-event"].is_object());
}

/// Seed 003's table of the webhook's valid statuses.
const WEBHOOK_STATUSES: &[&str] = &["200", "400", "401", "403", "500"];

#[test]
fn the_webhook_document_lists_exactly_the_seed_statuses_each_with_a_body() {
    let document = openapi("duix-webhook").unwrap();
    let responses = document["paths"][schemas::openapi::WEBHOOK_PATH]["post"]["responses"]
        .as_object()
        .unwrap();
    let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
    assert_eq!(statuses, WEBHOOK_STATUSES);
    for (status, response) in responses {
        assert!(
            response["description"]
                .as_str()
                .is_some_and(|d| d.len() > 20),
            "{status}: description"
        );
        let content = response["content"].as_object().unwrap();
        assert!(!content.is_empty(), "{status}: no content");
        for (media_type, body) in content {
            assert!(body["schema"].is_object(), "{status} {media_type}: schema");
        }
        if status == "200" {
            continue;
        }
        let body = &content["application/json"];
        assert_eq!(
            body["schema"]["$ref"], "#/components/schemas/duix.webhook.error",
            "{status}"
        );
        // The example shown is one of the schema's and carries the status as its code.
        assert_eq!(body["example"]["code"], status.as_str());
        schemas::registry()
            .validate("duix/webhook.error", &body["example"])
            .unwrap();
    }
}

#[test]
fn every_webhook_response_schema_resolves_to_an_embedded_component() {
    let document = openapi("duix-webhook").unwrap();
    let responses = &document["paths"][schemas::openapi::WEBHOOK_PATH]["post"]["responses"];
    let mut references = Vec::new();
    collect_references(responses, &mut references);
    references.sort();
    references.dedup();
    assert_eq!(
        references,
        [
            "#/components/schemas/duix.webhook.error",
            "#/components/schemas/duix.webhook.response",
            "#/components/schemas/duix.webhook.sse-event",
        ]
    );
    collect_references(&document, &mut references);
    for reference in references {
        let component = document
            .pointer(reference.strip_prefix('#').unwrap())
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
        assert!(component.is_object(), "{reference}");
    }
    // Each component is the registry's file, without $id.
    let error = &document["components"]["schemas"]["duix.webhook.error"];
    let file = schemas::registry().get("duix/webhook.error").unwrap();
    assert_eq!(error["examples"], file.document()["examples"]);
    assert!(error.get("$id").is_none());
}

#[test]
fn the_webhook_bearer_is_optional_and_a_401_names_its_scheme() {
    let document = openapi("duix-webhook").unwrap();
    let operation = &document["paths"][schemas::openapi::WEBHOOK_PATH]["post"];
    assert_eq!(operation["security"], json!([{}, { "bearer": [] }]));
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "description": document["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    assert!(
        document.get("security").is_none(),
        "no document-wide requirement"
    );
    let header = &operation["responses"]["401"]["headers"]["WWW-Authenticate"];
    assert_eq!(header["schema"]["type"], "string");
    assert!(header["example"].as_str().unwrap().starts_with("Bearer"));
    for status in ["200", "400", "403", "500"] {
        assert!(
            operation["responses"][status].get("headers").is_none(),
            "{status}"
        );
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    ("examples" | "example", _) => {}
                    _ => collect_references(member, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
        _ => {}
    }
}

#[test]
fn components_are_the_registry_files_not_copies() {
    // Each embedded component equals its file, apart from $id, $schema and rewritten $refs.
    let document = openapi("duix").unwrap();
    let component = &document["components"]["schemas"]["duix.getconcurrentNumber.response"];
    let file = schemas::registry()
        .get("duix/getconcurrentNumber.response")
        .unwrap()
        .document();
    assert_eq!(component["examples"], file["examples"]);
    assert_eq!(component["required"], file["required"]);
    assert_eq!(
        component["properties"]["data"]["properties"]["totalConcurrentNumber"]["$ref"],
        "#/components/schemas/duix.common/$defs/count"
    );
}

#[test]
fn the_alibaba_llm_document_streams_chunks_behind_a_bearer_key() {
    let document = openapi("alibaba-llm").unwrap();
    let operation = &document["paths"][schemas::openapi::LLM_PATH]["post"];
    assert_eq!(operation["security"], json!([{ "bearer": [] }]));
    assert_eq!(
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/alibaba.llm.request"
    );
    let stream = &operation["responses"]["200"]["content"]["text/event-stream"];
    assert_eq!(
        stream["x-event-data-schema"]["$ref"],
        "#/components/schemas/alibaba.llm.chunk"
    );
    for status in ["400", "401"] {
        let body = &operation["responses"][status]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"],
            "#/components/schemas/alibaba.llm.error"
        );
        let example = &body["example"];
        assert!(
            schemas::registry()
                .validate("alibaba/llm.error", example)
                .is_ok(),
            "{status}: {example}"
        );
    }
}
