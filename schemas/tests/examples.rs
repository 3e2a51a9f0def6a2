//! Every example validates: the schemas' own `examples`, and the seeds' examples as printed.

use base64::Engine;
use serde_json::Value;

#[test]
fn every_example_validates_against_its_own_schema() {
    let registry = schemas::registry();
    let mut count = 0;
    for name in registry.names() {
        let examples = registry.examples(name);
        assert_eq!(examples, registry.get(name).unwrap().examples(), "{name}");
        for (index, example) in examples.iter().enumerate() {
            if let Err(error) = registry.validate(name, example) {
                panic!("{name} example {index}: {error}");
            }
            count += 1;
        }
    }
    assert!(count >= 80, "only {count} examples");
}

#[test]
fn an_unknown_name_has_no_examples() {
    assert!(schemas::registry().examples("aui/nope").is_empty());
}

/// The documentation masks values with `****`; fill each mask with digits, as the schemas'
/// own examples do.
fn unmask(text: &str) -> Value {
    serde_json::from_str(&text.replace("****", "0001")).unwrap()
}

fn verbatim(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Seed 001 (AUI app server), seed 002 (RTC StartAgent) and seed 003 (DUIX) examples, copied
/// from shared/seeds. Seed 001's are masked (`****`) and checked unmasked; the rest verbatim.
fn seed_examples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "aui/getRtcAuthToken.request",
            unmask(r#"{"user_id": "usertid****", "channel_id":"channelid****"}"#),
        ),
        (
            "aui/getRtcAuthToken.response",
            unmask(
                r#"{"code": 200, "rtc_auth_token": "eyJnc2xiIjp****", "channel_id": "channelid****", "timestamp": 1700000000}"#,
            ),
        ),
        (
            "aui/generateMessageChatToken.request",
            unmask(
                r#"{"user_id": "userid****", "ai_agent_id":"19de81b3b3d94abda22******", "role":"admin", "expire":1800, "region":"cn-shanghai"}"#,
            ),
        ),
        (
            // The seed's body has a trailing comma after app_sign; removed here.
            "aui/generateMessageChatToken.response",
            unmask(
                r#"{"code": 200, "message": "success", "role": "admin", "user_id": "userid****", "app_id": "****", "nonce": "AK-****", "request_id": "7B117AF5-2A16-412C-B127-****", "token": "acet****", "timestamp": 1700000000, "app_sign": "H4sIAAAAAAAE****"}"#,
            ),
        ),
        (
            "aui/describeAIAgentInstance.request",
            unmask(
                r#"{"user_id":"userid****", "ai_agent_instance_id": "39f8e0bc005e4f309379701645f4****", "region":"cn-shanghai"}"#,
            ),
        ),
        (
            "aui/describeAIAgentInstance.response",
            verbatim(
                r#"{"code": 200, "message": "success", "request_id": "7B117AF5-2A16-412C-B127-****",
                    "agent_config": "{\"VoiceChat\": {\"AppId\": \"your_voice_chat_app_id\"}}",
                    "template_config": "{\"VoiceChat\": {\"AppId\": \"your_voice_chat_app_id\"}}",
                    "call_log_url": "https://example.com/call_logs/12345",
                    "user_data": "{\"user_id\": \"test\"}",
                    "runtime_config": "{\"VoiceChat\":{\"AgentUserId\":\"voice_agent_001\",\"ChannelId\":\"voice_channel_001\",\"AuthToken\":\"your_voice_chat_auth_token\"}}",
                    "status": "Finished"}"#,
            ),
        ),
        (
            "alibaba/StartAgent.response",
            verbatim(r#"{"RequestId": "6159ba01-6687-4fb2-a831-f0cd8d188648"}"#),
        ),
        (
            "duix/getconcurrentNumber.response",
            verbatim(
                r#"{"code": "", "data": {"cropId": "", "totalConcurrentNumber": 0, "userConcurrentNumber": 0}, "message": "", "success": true}"#,
            ),
        ),
        (
            "duix/distroyCallSessionsByAppId.response",
            verbatim(r#"{"code": "", "data": "", "message": "", "success": true}"#),
        ),
        (
            "duix/webhook.request",
            verbatim(
                r#"{"sid": "100003", "dh-code": "187265485019156480", "dh-question": "who are you?", "dh-conversation-id": "0513e935-041f-48e0-9330-652ef4194511", "dh-context": "{}"}"#,
            ),
        ),
        (
            "duix/webhook.response",
            verbatim(
                r#"{"code": "200", "msg": "处理成功", "success": true,
                    "data": {"conversationId": "0513e935-041f-48e0-9330-652ef4194511", "question": "who are you?",
                             "answer": {"answer": "Welcome to UneeQ, how can I help?",
                                        "operations": {"tipPhrases": {"phrases": ["yes", "no"]}, "canShowText": 1}},
                             "intent": "introduce", "errorMsg": "", "extra": "{}"}}"#,
            ),
        ),
    ]
}

#[test]
fn every_seed_example_validates_against_its_schema() {
    for (name, example) in seed_examples() {
        if let Err(error) = schemas::registry().validate(name, &example) {
            panic!("{name}: {error}\n{example:#}");
        }
    }
}

/// The bodies the reference vendor webhook (mocks/src/duix/vendor.rs, `Refusal`) answers with,
/// built as it builds them: `{"code": <status>, "msg", "success": false, "field": <name or null>}`.
fn reference_webhook_refusal(status: u16, msg: &str, field: Option<&str>) -> Value {
    serde_json::json!({"code": status.to_string(), "msg": msg, "success": false, "field": field})
}

#[test]
fn the_reference_webhook_refusals_validate_as_webhook_errors() {
    let refusals = [
        reference_webhook_refusal(
            400,
            "missing required field `dh-question`",
            Some("dh-question"),
        ),
        reference_webhook_refusal(
            400,
            "field `dh-context` must be a string (stringified JSON)",
            Some("dh-context"),
        ),
        reference_webhook_refusal(
            400,
            "body is not JSON: EOF while parsing a value at line 1 column 0",
            None,
        ),
        reference_webhook_refusal(401, "Authorization: Bearer <secret> is required", None),
        reference_webhook_refusal(403, "the bearer secret is wrong", None),
        // The seed's 500 is "服务异常"; a body with only the required members.
        serde_json::json!({"code": "500", "success": false}),
        // Members the seed does not name are allowed.
        serde_json::json!({"code": "500", "msg": "服务异常", "success": false, "data": null, "traceId": "t-1"}),
    ];
    for refusal in &refusals {
        if let Err(error) = schemas::registry().validate("duix/webhook.error", refusal) {
            panic!("{refusal}: {error}");
        }
    }
    // The schema's own examples are such refusals, one per status the seed lists besides 200.
    let examples = schemas::registry().examples("duix/webhook.error");
    for status in ["400", "401", "403", "500"] {
        assert!(
            examples.iter().any(|e| e["code"] == status),
            "no {status} example"
        );
    }
    let not_a_refusal = serde_json::json!({"code": "200", "success": true});
    assert!(schemas::registry()
        .validate("duix/webhook.error", &not_a_refusal)
        .is_err());
}

#[test]
fn the_masked_seed_user_ids_would_break_the_user_id_pattern() {
    let masked = verbatim(r#"{"user_id": "usertid****", "channel_id":"channelid****"}"#);
    let error = schemas::registry()
        .validate("aui/getRtcAuthToken.request", &masked)
        .unwrap_err();
    let mut paths: Vec<&str> = error
        .violations()
        .iter()
        .map(|v| v.instance_path.as_str())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/channel_id", "/user_id"]);
}

#[test]
fn every_rtc_auth_token_example_decodes_to_a_valid_token() {
    let registry = schemas::registry();
    let mut decoded = 0;
    for schema in registry.schemas().filter(|s| s.name().starts_with("aui/")) {
        for example in schema.examples() {
            let Some(token) = example.get("rtc_auth_token").and_then(Value::as_str) else {
                continue;
            };
            let json = base64::engine::general_purpose::STANDARD
                .decode(token)
                .unwrap();
            let token: Value = serde_json::from_slice(&json).unwrap();
            registry.validate("aui/rtc-token", &token).unwrap();
            decoded += 1;
        }
    }
    assert!(decoded >= 3, "only {decoded} tokens");
}

#[test]
fn the_protocols_duix_token_carries_valid_claims() {
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDE4MDAsImlhdCI6MTcwMDAwMDAwMCwiYXBwSWQiOiIxMjM0NTY3ODkwIn0.8s3WMTmFNqmMMr6Rh14Xpm5asU1P5uj9QdYzVAvkK3w";
    let payload = token.split('.').nth(1).unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&claims).unwrap();
    schemas::registry()
        .validate("duix/jwt-claims", &claims)
        .unwrap();
    schemas::registry()
        .validate(
            "duix/checkSig.request",
            &serde_json::json!({ "sig": token }),
        )
        .unwrap();
}
