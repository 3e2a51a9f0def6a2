//! The OpenAPI documents pass a validator nobody here wrote: `openapi-spec-validator` (PyPI).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use schemas::openapi::{openapi, DOCUMENTS};
use serde_json::Value;

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
        let path = std::env::temp_dir().join(format!(
            "agentproof-openapi-{name}-{}.json",
            std::process::id()
        ));
        std::fs::write(&path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
        let output = Command::new(&validator)
            .args(["--schema", "3.1", "--validation-errors", "all"])
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}; {SETUP_HINT}", validator.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("OK"),
            "{name}: openapi-spec-validator rejected {}:\n{stdout}\n{stderr}",
            path.display()
        );
        std::fs::remove_file(&path).unwrap();
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
    let check_sig = &paths["/duix-openapi-v2/sdk/checkSig"]["get"];
    assert_eq!(check_sig["parameters"][0]["name"], "sig");
}

#[test]
fn the_webhook_document_answers_json_or_an_event_stream() {
    let document = openapi("duix-webhook").unwrap();
    let operation = &document["paths"][schemas::openapi::WEBHOOK_PATH]["post"];
    let content = &operation["responses"]["200"]["content"];
    assert_eq!(
        content["application/json"]["schema"]["$ref"],
        "#/components/schemas/duix.webhook.response"
    );
    assert!(content["text/event-stream"].is_object());
    assert!(document["components"]["schemas"]["duix.webhook.sse-event"].is_object());
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
