//! Known-bad documents: each breaks one rule, fails, and the violation names the field.

use serde_json::{json, Value};

/// How a case breaks a schema's example.
enum Change {
    /// Set the value at this JSON pointer (its parent must exist).
    Set(&'static str, Value),
    /// Remove the member at this JSON pointer.
    Remove(&'static str),
}
use Change::{Remove, Set};

/// One known-bad document: example `example` of `schema`, changed by `change`, must fail with a
/// violation at `path`.
struct Case {
    schema: &'static str,
    example: usize,
    change: Change,
    path: &'static str,
}

fn case(schema: &'static str, example: usize, change: Change, path: &'static str) -> Case {
    Case {
        schema,
        example,
        change,
        path,
    }
}

fn cases() -> Vec<Case> {
    let long_user = Value::String("u".repeat(65));
    vec![
        // AUI app server.
        case(
            "aui/getRtcAuthToken.request",
            0,
            Set("/user_id", json!("a-b")),
            "/user_id",
        ),
        case(
            "aui/getRtcAuthToken.request",
            0,
            Set("/user_id", long_user),
            "/user_id",
        ),
        case(
            "aui/getRtcAuthToken.request",
            0,
            Set("/user_id", json!(42)),
            "/user_id",
        ),
        case(
            "aui/getRtcAuthToken.request",
            0,
            Remove("/user_id"),
            "/user_id",
        ),
        case(
            "aui/getRtcAuthToken.request",
            0,
            Set("/channel_id", json!("room 7")),
            "/channel_id",
        ),
        case(
            "aui/getRtcAuthToken.response",
            0,
            Set("/code", json!(201)),
            "/code",
        ),
        case(
            "aui/getRtcAuthToken.response",
            0,
            Set("/rtc_auth_token", json!("not base64!")),
            "/rtc_auth_token",
        ),
        case(
            "aui/getRtcAuthToken.response",
            0,
            Set("/timestamp", json!("1700000000")),
            "/timestamp",
        ),
        case(
            "aui/startAIAgentInstance.response",
            0,
            Set("/channel_id", json!("8F14E45FCEEA167A5A36DEDD4BEA2543")),
            "/channel_id",
        ),
        case(
            "aui/startAIAgentInstance.response",
            0,
            Set("/channel_id", json!("8f14e45f-ceea-167a-5a36-dedd4bea2543")),
            "/channel_id",
        ),
        case(
            "aui/startAIAgentInstance.request",
            0,
            Set("/workflow_type", json!("VideoChat")),
            "/workflow_type",
        ),
        case(
            "aui/startAIAgentInstance.request",
            0,
            Remove("/workflow_type"),
            "/workflow_type",
        ),
        case(
            "aui/startAIAgentInstanceWithChannel.request",
            0,
            Remove("/region"),
            "/region",
        ),
        case(
            "aui/describeAIAgentInstance.response",
            0,
            Set("/status", json!("Running")),
            "/status",
        ),
        case(
            "aui/describeAIAgentInstance.response",
            0,
            Set("/runtime_config", json!({"VoiceChat": {}})),
            "/runtime_config",
        ),
        case(
            "aui/stopAIAgentInstance.response",
            0,
            Set("/result", json!(false)),
            "/result",
        ),
        case(
            "aui/updateAIAgentInstance.request",
            0,
            Remove("/template_config"),
            "/template_config",
        ),
        case(
            "aui/generateAIAgentCall.request",
            0,
            Set("/expire", json!(604801)),
            "/expire",
        ),
        case(
            "aui/generateAIAgentCall.request",
            0,
            Set("/expire", json!(-1)),
            "/expire",
        ),
        case(
            "aui/generateMessageChatToken.request",
            0,
            Set("/region", json!("Shanghai")),
            "/region",
        ),
        case(
            "aui/generateMessageChatToken.response",
            0,
            Set("/timestamp", json!(1.5)),
            "/timestamp",
        ),
        case("aui/error", 0, Set("/code", json!(200)), "/code"),
        case("aui/error", 0, Set("/code", json!("400")), "/code"),
        case("aui/login.request", 0, Remove("/password"), "/password"),
        case(
            "aui/login.response",
            0,
            Set("/token", json!("abc")),
            "/token",
        ),
        case(
            "aui/rtc-token",
            0,
            Set(
                "/token",
                json!("3C9EE8D9F8734F0B7560ED8022A0590659113955819724FC9345AB8EEDF84F31"),
            ),
            "/token",
        ),
        case(
            "aui/rtc-token",
            0,
            Set("/timestamp", json!("1699423634")),
            "/timestamp",
        ),
        // Alibaba RTC StartAgent: every range and enum of seed 002.
        case(
            "alibaba/StartAgent.request",
            0,
            Remove("/TemplateId"),
            "/TemplateId",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Remove("/RtcConfig/UserId"),
            "/RtcConfig/UserId",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/ChannelId", json!("bad channel!")),
            "/ChannelId",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/RtcConfig/UserInactivityTimeout", json!(2)),
            "/RtcConfig/UserInactivityTimeout",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/RtcConfig/UserInactivityTimeout", json!(181)),
            "/RtcConfig/UserInactivityTimeout",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/RtcConfig/TargetUserIds", json!(["u1", "u2"])),
            "/RtcConfig/TargetUserIds",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/ChatMode", json!(3)),
            "/VoiceChatConfig/ChatMode",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/InterruptMode", json!(0)),
            "/VoiceChatConfig/InterruptMode",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/ASRConfig/MaxSentenceSilence", json!(199)),
            "/VoiceChatConfig/ASRConfig/MaxSentenceSilence",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/ASRConfig/MaxSentenceSilence", json!(6001)),
            "/VoiceChatConfig/ASRConfig/MaxSentenceSilence",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/ASRConfig/LanguageHints", json!(["fr"])),
            "/VoiceChatConfig/ASRConfig/LanguageHints/0",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set(
                "/VoiceChatConfig/ASRConfig/SemanticPunctuationEnabled",
                json!("false"),
            ),
            "/VoiceChatConfig/ASRConfig/SemanticPunctuationEnabled",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set(
                "/VoiceChatConfig/ASRConfig/VadConfig/InterruptSpeechDuration",
                json!(3001),
            ),
            "/VoiceChatConfig/ASRConfig/VadConfig/InterruptSpeechDuration",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/Vendor", json!("openai")),
            "/VoiceChatConfig/LLMConfig/Vendor",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/Model", json!("gpt-4")),
            "/VoiceChatConfig/LLMConfig/Model",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/MaxToken", json!(8193)),
            "/VoiceChatConfig/LLMConfig/MaxToken",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/Temperature", json!(2.0)),
            "/VoiceChatConfig/LLMConfig/Temperature",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/Temperature", json!(-0.1)),
            "/VoiceChatConfig/LLMConfig/Temperature",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/TopP", json!(0)),
            "/VoiceChatConfig/LLMConfig/TopP",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/LLMConfig/TopP", json!(1.01)),
            "/VoiceChatConfig/LLMConfig/TopP",
        ),
        case(
            "alibaba/StartAgent.request",
            2,
            Remove("/VoiceChatConfig/LLMConfig/Url"),
            "/VoiceChatConfig/LLMConfig/Url",
        ),
        case(
            "alibaba/StartAgent.request",
            2,
            Set("/VoiceChatConfig/LLMConfig/Url", json!("not a url")),
            "/VoiceChatConfig/LLMConfig/Url",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Voice", json!("alice")),
            "/VoiceChatConfig/TTSConfig/Voice",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Volume", json!(101)),
            "/VoiceChatConfig/TTSConfig/Volume",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Volume", json!(50.5)),
            "/VoiceChatConfig/TTSConfig/Volume",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Rate", json!(0.49)),
            "/VoiceChatConfig/TTSConfig/Rate",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Pitch", json!(2.01)),
            "/VoiceChatConfig/TTSConfig/Pitch",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/FilterBrackets", json!([1, 6])),
            "/VoiceChatConfig/TTSConfig/FilterBrackets/1",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/TTSConfig/Model", json!("cosyvoice-v9")),
            "/VoiceChatConfig/TTSConfig/Model",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/AgentSilenceConfig/AlertTimeout", json!(3)),
            "/VoiceChatConfig/AgentSilenceConfig/AlertTimeout",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set(
                "/VoiceChatConfig/AgentSilenceConfig/AlertTimeout",
                json!(601),
            ),
            "/VoiceChatConfig/AgentSilenceConfig/AlertTimeout",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set(
                "/VoiceChatConfig/AgentSilenceConfig/WebhookTriggerTimeout",
                json!(9),
            ),
            "/VoiceChatConfig/AgentSilenceConfig/WebhookTriggerTimeout",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/AgentSilenceConfig/Strategy", json!(3)),
            "/VoiceChatConfig/AgentSilenceConfig/Strategy",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/AmbientSoundConfig/Volume", json!(-1)),
            "/VoiceChatConfig/AmbientSoundConfig/Volume",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set(
                "/VoiceChatConfig/InterruptConfig/SemanticsInterrupt",
                json!("yes"),
            ),
            "/VoiceChatConfig/InterruptConfig/SemanticsInterrupt",
        ),
        case(
            "alibaba/StartAgent.request",
            0,
            Set("/VoiceChatConfig/BackChannelConfig/UserTurnEnd", json!(1)),
            "/VoiceChatConfig/BackChannelConfig/UserTurnEnd",
        ),
        case(
            "alibaba/StartAgent.request",
            2,
            Set("/SignatureMethod", json!("HMAC-SHA256")),
            "/SignatureMethod",
        ),
        case(
            "alibaba/UpdateAgent.request",
            0,
            Set("/VoiceChatConfig/InterruptMode", json!(3)),
            "/VoiceChatConfig/InterruptMode",
        ),
        case(
            "alibaba/GetAgent.response",
            0,
            Set("/StartTime", json!(1751513144838_u64)),
            "/StartTime",
        ),
        // Alibaba ICE.
        case(
            "alibaba/StartAIAgentInstance.request",
            0,
            Remove("/RuntimeConfig"),
            "/RuntimeConfig",
        ),
        case(
            "alibaba/StartAIAgentInstance.request",
            0,
            Set("/RuntimeConfig", json!({})),
            "/RuntimeConfig",
        ),
        case(
            "alibaba/GenerateAIAgentCall.request",
            0,
            Set("/Expire", json!(604801)),
            "/Expire",
        ),
        case(
            "alibaba/GenerateAIAgentCall.request",
            0,
            Set("/UserId", Value::String("u".repeat(65))),
            "/UserId",
        ),
        case(
            "alibaba/GenerateMessageChatToken.request",
            0,
            Set("/UserId", json!("a-b")),
            "/UserId",
        ),
        case(
            "alibaba/GenerateMessageChatToken.response",
            0,
            Set("/TimeStamp", json!("1700000000")),
            "/TimeStamp",
        ),
        case(
            "alibaba/DescribeAIAgentInstance.response",
            0,
            Set("/Instance/Status", json!("Running")),
            "/Instance/Status",
        ),
        case(
            "alibaba/DescribeAIAgentInstance.response",
            0,
            Set("/Instance/GmtCreate", json!("yesterday")),
            "/Instance/GmtCreate",
        ),
        case(
            "alibaba/DescribeAIAgentInstance.response",
            0,
            Remove("/Instance"),
            "/Instance",
        ),
        case(
            "alibaba/StartAIAgentInstance.response",
            0,
            Remove("/InstanceId"),
            "/InstanceId",
        ),
        case("alibaba/error", 0, Remove("/Code"), "/Code"),
        case(
            "alibaba/error",
            0,
            Set("/Recommend", json!("not a uri")),
            "/Recommend",
        ),
        case("alibaba/error", 0, Set("/Code", json!(400)), "/Code"),
        // DUIX openapi-v2.
        case(
            "duix/getconcurrentNumber.response",
            0,
            Set("/code", json!(0)),
            "/code",
        ),
        case(
            "duix/getconcurrentNumber.response",
            0,
            Set("/success", json!("true")),
            "/success",
        ),
        case(
            "duix/getconcurrentNumber.response",
            0,
            Set("/data/totalConcurrentNumber", json!(-1)),
            "/data/totalConcurrentNumber",
        ),
        case(
            "duix/getconcurrentNumber.response",
            0,
            Set("/data/userConcurrentNumber", json!(2_147_483_648_u64)),
            "/data/userConcurrentNumber",
        ),
        case(
            "duix/getconcurrentNumber.response",
            0,
            Remove("/data/cropId"),
            "/data/cropId",
        ),
        case(
            "duix/checkSig.response",
            0,
            Set("/data/wsService", json!("https://app.duix.ai/ws")),
            "/data/wsService",
        ),
        case(
            "duix/checkSig.response",
            0,
            Remove("/data/appId"),
            "/data/appId",
        ),
        case(
            "duix/checkSig.request",
            0,
            Set("/sig", json!("not-a-jwt")),
            "/sig",
        ),
        case(
            "duix/getconcurrentList.response",
            0,
            Set("/data/0/startTime", json!("1700000000000")),
            "/data/0/startTime",
        ),
        case(
            "duix/getconcurrentList.response",
            0,
            Remove("/data/0/sessionId"),
            "/data/0/sessionId",
        ),
        case(
            "duix/distroyCallSessionsByAppId.response",
            0,
            Set("/data", json!("done")),
            "/data",
        ),
        case("duix/sessionStop.request", 0, Remove("/uuid"), "/uuid"),
        case("duix/error", 0, Set("/code", json!(1005)), "/code"),
        case("duix/error", 0, Set("/code", json!("1234")), "/code"),
        case("duix/error", 0, Set("/success", json!(true)), "/success"),
        case("duix/jwt-claims", 0, Remove("/exp"), "/exp"),
        case(
            "duix/jwt-claims",
            0,
            Set("/iat", json!("1700000000")),
            "/iat",
        ),
        // DUIX webhook.
        case(
            "duix/webhook.request",
            0,
            Remove("/dh-question"),
            "/dh-question",
        ),
        case(
            "duix/webhook.request",
            0,
            Set("/sid", json!(100003)),
            "/sid",
        ),
        case(
            "duix/webhook.request",
            0,
            Set("/dh-context", json!({})),
            "/dh-context",
        ),
        case(
            "duix/webhook.response",
            0,
            Remove("/data/conversationId"),
            "/data/conversationId",
        ),
        case(
            "duix/webhook.response",
            0,
            Remove("/data/answer"),
            "/data/answer",
        ),
        case(
            "duix/webhook.response",
            0,
            Set("/data/answer", json!(42)),
            "/data/answer",
        ),
        case(
            "duix/webhook.response",
            0,
            Set("/success", json!("true")),
            "/success",
        ),
        case(
            "duix/webhook.sse-event",
            0,
            Set("/isEnd", json!("false")),
            "/isEnd",
        ),
        case("duix/webhook.sse-event", 0, Remove("/answer"), "/answer"),
        case(
            "duix/webhook.error",
            0,
            Set("/success", json!(true)),
            "/success",
        ),
        case("duix/webhook.error", 0, Set("/code", json!(400)), "/code"),
        case("duix/webhook.error", 0, Set("/field", json!(7)), "/field"),
        case("duix/webhook.error", 4, Set("/msg", json!(null)), "/msg"),
        // DUIX session WebSocket.
        case("duix/ws/start", 1, Set("/type", json!("begin")), "/type"),
        case("duix/ws/start", 1, Set("/extra", json!(true)), "/extra"),
        case("duix/ws/question", 0, Set("/text", json!("")), "/text"),
        case("duix/ws/stop", 0, Remove("/type"), "/type"),
        case(
            "duix/ws/start-complete",
            0,
            Remove("/sessionId"),
            "/sessionId",
        ),
        case(
            "duix/ws/answer",
            0,
            Set("/latencyMs", json!(-1)),
            "/latencyMs",
        ),
        case("duix/ws/answer", 0, Remove("/isEnd"), "/isEnd"),
        case("duix/ws/error", 0, Set("/code", json!(2002)), "/code"),
        case("duix/ws/error", 0, Set("/code", json!("9999")), "/code"),
        case("duix/ws/bye", 0, Remove("/reason"), "/reason"),
    ]
}

fn apply(document: &mut Value, change: &Change) {
    let (pointer, value) = match change {
        Set(pointer, value) => (*pointer, Some(value.clone())),
        Remove(pointer) => (*pointer, None),
    };
    let (parent, member) = pointer.rsplit_once('/').unwrap();
    let parent = document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no parent for {pointer}"));
    match (parent, value) {
        (Value::Object(members), Some(value)) => {
            members.insert(member.to_owned(), value);
        }
        (Value::Object(members), None) => {
            assert!(
                members.remove(member).is_some(),
                "nothing to remove at {pointer}"
            );
        }
        (Value::Array(items), Some(value)) => items[member.parse::<usize>().unwrap()] = value,
        (Value::Array(items), None) => {
            items.remove(member.parse::<usize>().unwrap());
        }
        _ => panic!("{pointer}: parent is not a container"),
    }
}

#[test]
fn every_known_bad_document_fails_at_the_field_it_breaks() {
    let registry = schemas::registry();
    let mut failures = Vec::new();
    for case in cases() {
        let mut document = registry.examples(case.schema)[case.example].clone();
        registry.validate(case.schema, &document).unwrap();
        apply(&mut document, &case.change);
        match registry.validate(case.schema, &document) {
            Ok(()) => failures.push(format!("{} {}: accepted", case.schema, case.path)),
            Err(error) => {
                let violations = error.violations();
                if !violations.iter().any(|v| v.instance_path == case.path) {
                    failures.push(format!(
                        "{} {}: violations elsewhere: {violations:?}",
                        case.schema, case.path
                    ));
                }
                assert!(violations.iter().all(|v| !v.message.is_empty()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_schema_has_a_known_bad_document_or_a_required_member() {
    let registry = schemas::registry();
    let covered: Vec<&str> = cases().iter().map(|c| c.schema).collect();
    for schema in registry
        .schemas()
        .filter(|s| !s.name().ends_with("/common"))
    {
        assert!(
            covered.contains(&schema.name()) || schema.document().get("required").is_some(),
            "{} is never shown to reject anything",
            schema.name()
        );
    }
}

#[test]
fn removing_any_required_member_of_any_example_fails_at_that_member() {
    let registry = schemas::registry();
    let mut checked = 0;
    for schema in registry.schemas() {
        let required: Vec<&str> = schema
            .document()
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for example in schema.examples() {
            for member in &required {
                let mut document = example.clone();
                document.as_object_mut().unwrap().remove(*member);
                let error = schema.validate(&document).unwrap_err();
                let path = format!("/{member}");
                assert!(
                    error.violations().iter().any(|v| v.instance_path == path),
                    "{} without {member}: {error}",
                    schema.name()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 150, "only {checked} removals");
}

#[test]
fn a_document_of_the_wrong_type_fails_at_the_root() {
    for schema in schemas::registry()
        .schemas()
        .filter(|s| !s.name().ends_with("/common"))
    {
        let error = schema.validate(&json!([1, 2])).unwrap_err();
        assert!(
            error
                .violations()
                .iter()
                .any(|v| v.instance_path.is_empty()),
            "{}: {error}",
            schema.name()
        );
    }
}

#[test]
fn an_unknown_schema_name_gets_suggestions() {
    let registry = schemas::registry();
    let document = json!({});
    match registry.validate("aui/getRtcAuthToken", &document) {
        Err(schemas::SchemaError::UnknownSchema(name, suggestions)) => {
            assert_eq!(name, "aui/getRtcAuthToken");
            assert_eq!(
                suggestions,
                [
                    "aui/getRtcAuthToken.request",
                    "aui/getRtcAuthToken.response"
                ]
            );
        }
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
    match registry.validate("duix/webhook.answer", &document) {
        Err(schemas::SchemaError::UnknownSchema(_, suggestions)) => {
            assert!(
                suggestions.contains(&"duix/webhook.request".to_owned()),
                "{suggestions:?}"
            );
        }
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
    assert!(registry.get("aui/getRtcAuthToken").is_none());
}
