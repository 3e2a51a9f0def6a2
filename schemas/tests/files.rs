//! The files on disk, their registration and their metadata.

use serde_json::Value;

use crate::util::schema_names_on_disk;

/// Every message the issue asks a schema for.
const EXPECTED: &[&str] = &[
    "alibaba/common",
    "alibaba/error",
    "alibaba/StartAgent.request",
    "alibaba/StartAgent.response",
    "alibaba/StopAgent.request",
    "alibaba/StopAgent.response",
    "alibaba/UpdateAgent.request",
    "alibaba/UpdateAgent.response",
    "alibaba/GetAgent.request",
    "alibaba/GetAgent.response",
    "alibaba/StartAIAgentInstance.request",
    "alibaba/StartAIAgentInstance.response",
    "alibaba/StopAIAgentInstance.request",
    "alibaba/StopAIAgentInstance.response",
    "alibaba/UpdateAIAgentInstance.request",
    "alibaba/UpdateAIAgentInstance.response",
    "alibaba/DescribeAIAgentInstance.request",
    "alibaba/DescribeAIAgentInstance.response",
    "alibaba/GenerateAIAgentCall.request",
    "alibaba/GenerateAIAgentCall.response",
    "alibaba/GenerateMessageChatToken.request",
    "alibaba/GenerateMessageChatToken.response",
    "alibaba/llm.request",
    "alibaba/llm.chunk",
    "alibaba/llm.error",
    "aui/common",
    "aui/error",
    "aui/login.request",
    "aui/login.response",
    "aui/rtc-token",
    "aui/getRtcAuthToken.request",
    "aui/getRtcAuthToken.response",
    "aui/generateMessageChatToken.request",
    "aui/generateMessageChatToken.response",
    "aui/describeAIAgentInstance.request",
    "aui/describeAIAgentInstance.response",
    "aui/startAIAgentInstance.request",
    "aui/startAIAgentInstance.response",
    "aui/startAIAgentInstanceWithChannel.request",
    "aui/startAIAgentInstanceWithChannel.response",
    "aui/stopAIAgentInstance.request",
    "aui/stopAIAgentInstance.response",
    "aui/updateAIAgentInstance.request",
    "aui/updateAIAgentInstance.response",
    "aui/generateAIAgentCall.request",
    "aui/generateAIAgentCall.response",
    "duix/common",
    "duix/error",
    "duix/jwt-claims",
    "duix/checkSig.request",
    "duix/checkSig.response",
    "duix/getconcurrentNumber.request",
    "duix/getconcurrentNumber.response",
    "duix/getconcurrentList.request",
    "duix/getconcurrentList.response",
    "duix/distroyCallSessionsByAppId.request",
    "duix/distroyCallSessionsByAppId.response",
    "duix/sessionStop.request",
    "duix/sessionStop.response",
    "duix/webhook.request",
    "duix/webhook.response",
    "duix/webhook.sse-event",
    "duix/webhook.error",
    "duix/ws/start",
    "duix/ws/question",
    "duix/ws/stop",
    "duix/ws/start-complete",
    "duix/ws/answer",
    "duix/ws/error",
    "duix/ws/bye",
];

#[test]
fn every_file_on_disk_is_registered_and_nothing_else() {
    let registered: Vec<&str> = schemas::registry().names().collect();
    assert_eq!(registered, schema_names_on_disk());
}

#[test]
fn every_message_of_the_issue_has_a_schema() {
    let registry = schemas::registry();
    let missing: Vec<&&str> = EXPECTED
        .iter()
        .filter(|n| registry.get(n).is_none())
        .collect();
    assert!(missing.is_empty(), "no schema for {missing:?}");
    assert_eq!(
        registry.len(),
        EXPECTED.len(),
        "a schema the list does not know"
    );
}

#[test]
fn every_schema_declares_2020_12_its_id_a_title_and_a_description() {
    for schema in schemas::registry().schemas() {
        let document = schema.document();
        let name = schema.name();
        assert_eq!(
            document["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(document["$id"], schemas::schema_id(name), "{name}");
        assert_eq!(schema.id(), schemas::schema_id(name), "{name}");
        assert!(
            schema.title().is_some_and(|t| !t.is_empty()),
            "{name}: title"
        );
        assert!(
            schema.description().is_some_and(|d| d.len() > 20),
            "{name}: description"
        );
    }
}

#[test]
fn every_message_schema_carries_examples_and_common_files_only_definitions() {
    for schema in schemas::registry().schemas() {
        let name = schema.name();
        if name.ends_with("/common") {
            assert!(schema.document().get("$defs").is_some(), "{name}");
            assert!(schema.document().get("type").is_none(), "{name}");
        } else {
            assert!(!schema.examples().is_empty(), "{name} has no examples");
        }
    }
}

#[test]
fn source_is_the_file_text() {
    let registry = schemas::registry();
    for name in registry.names() {
        let on_disk = std::fs::read_to_string(
            crate::util::crate_root().join(format!("{name}{}", schemas::SUFFIX)),
        )
        .unwrap();
        assert_eq!(registry.source(name), Some(on_disk.as_str()), "{name}");
        let parsed: Value = serde_json::from_str(&on_disk).unwrap();
        assert_eq!(&parsed, registry.get(name).unwrap().document(), "{name}");
    }
    assert_eq!(registry.source("aui/nope"), None);
}

#[test]
fn every_reference_stays_inside_the_embedded_set() {
    for schema in schemas::registry().schemas() {
        let mut references = Vec::new();
        collect_references(schema.document(), &mut references);
        for reference in references {
            assert!(
                !reference.starts_with("http") || reference.starts_with(schemas::ID_PREFIX),
                "{}: external $ref {reference}",
                schema.name()
            );
        }
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    ("examples", _) => {}
                    _ => collect_references(member, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, into)),
        _ => {}
    }
}
