//! The Alibaba OpenAPI mock over real sockets: every action's success path (V1 and V3), every
//! gateway error with its status and code, the clock-skew and nonce windows, throttling, seed
//! 002's ranges, state lifecycles, and malformed input (never a 5xx).

#[path = "common/alibaba.rs"]
mod helper;

use helper::{pairs, Mock, ICE, KEY, RTC, SECRET};
use mocks::alibaba::AlibabaConfig;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

const MINUTE_MS: i64 = 60_000;

fn rtc_config() -> String {
    json!({"UserId": "agent1", "TargetUserIds": ["u1"], "UserInactivityTimeout": 30}).to_string()
}

/// StartAgent params for a fresh task in `channel`.
fn start_agent<'a>(channel: &'a str, task: &'a str, rtc: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AppId", "app1"),
        ("ChannelId", channel),
        ("TaskId", task),
        ("TemplateId", "tpl1"),
        ("RtcConfig", rtc),
    ]
}

async fn start_instance(mock: &Mock) -> String {
    let runtime =
        json!({"AgentUserId": "agent_1", "ChannelId": "ch1", "AuthToken": "t"}).to_string();
    let reply = mock
        .call_v3(
            "StartAIAgentInstance",
            ICE,
            &[
                ("AIAgentId", "a1"),
                ("RuntimeConfig", &runtime),
                (
                    "TemplateConfig",
                    r#"{"VoiceChat":{"Greeting":"hi","VoiceId":"v1"}}"#,
                ),
                ("UserData", "u0"),
            ],
        )
        .await;
    reply.assert_ok()["InstanceId"]
        .as_str()
        .expect("InstanceId")
        .to_string()
}

mod success {
    use super::*;

    #[tokio::test]
    async fn every_rtc_action_succeeds_over_v3_and_v1() {
        let mock = Mock::start().await;
        let rtc = rtc_config();
        let ids = [("AppId", "app1"), ("ChannelId", "c1"), ("TaskId", "t1")];
        mock.call_v3("StartAgent", RTC, &start_agent("c1", "t1", &rtc))
            .await
            .assert_ok();
        mock.call_v1("GetAgent", RTC, &ids).await.assert_ok();
        let update = [&ids[..], &[("VoiceChatConfig", r#"{"ChatMode":2}"#)]].concat();
        mock.call_v3("UpdateAgent", RTC, &update).await.assert_ok();
        mock.call_v1("StopAgent", RTC, &ids).await.assert_ok();
        let got = mock.call_v3("GetAgent", RTC, &ids).await.assert_ok();
        assert_eq!(got["Status"], "2");
    }

    #[tokio::test]
    async fn every_ice_action_succeeds_over_v3_and_v1() {
        let mock = Mock::start().await;
        let id = start_instance(&mock).await;
        let instance = [("InstanceId", id.as_str())];
        mock.call_v1("DescribeAIAgentInstance", ICE, &instance)
            .await
            .assert_ok();
        let update = [("InstanceId", id.as_str()), ("UserData", "u1")];
        mock.call_v1("UpdateAIAgentInstance", ICE, &update)
            .await
            .assert_ok();
        mock.call_v3("StopAIAgentInstance", ICE, &instance)
            .await
            .assert_ok();
        let call = mock
            .call_v1("GenerateAIAgentCall", ICE, &[("AIAgentId", "a1")])
            .await
            .assert_ok();
        for field in [
            "AIAgentUserId",
            "ChannelId",
            "InstanceId",
            "Token",
            "UserId",
        ] {
            assert!(
                call[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {call}"
            );
        }
        let token = mock
            .call_v3(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a1"), ("UserId", "user_1")],
            )
            .await
            .assert_ok();
        for field in [
            "AppId",
            "AppSign",
            "Nonce",
            "Role",
            "TimeStamp",
            "Token",
            "UserId",
        ] {
            assert!(!token[field].is_null(), "{field}: {token}");
        }
    }

    #[tokio::test]
    async fn v1_accepts_get_and_a_signed_form_body() {
        let mock = Mock::start().await;
        let get = Mock::v1_params(
            "GenerateMessageChatToken",
            ICE,
            &[("AIAgentId", "a1"), ("UserId", "u_1")],
        );
        mock.send_v1("GET", &get, SECRET).await.assert_ok();

        // Common params in the query, business params in the body; both are signed.
        let query = Mock::v1_params("GenerateMessageChatToken", ICE, &[]);
        let body = pairs(&[("AIAgentId", "a1"), ("UserId", "u_2")]);
        let all: Vec<_> = query.iter().chain(&body).cloned().collect();
        let signature = protocol::alibaba::v1::sign("POST", &all, SECRET);
        let mut query = query;
        query.push(("Signature".into(), signature));
        let form = protocol::alibaba::v3::canonical_query(&body);
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let reply = mock
            .raw(
                "POST",
                &protocol::alibaba::v3::canonical_query(&query),
                headers,
                form.into_bytes(),
            )
            .await;
        assert_eq!(reply.assert_ok()["UserId"], "u_2");
    }

    #[tokio::test]
    async fn v3_accepts_a_form_body_covered_by_the_content_hash() {
        let mock = Mock::start().await;
        let mut request = mock.v3("GenerateMessageChatToken", ICE, &[]);
        request.body = b"AIAgentId=a1&UserId=u_3".to_vec();
        request.content_type = Some("application/x-www-form-urlencoded".into());
        assert_eq!(mock.send_v3(&request).await.assert_ok()["UserId"], "u_3");
    }

    #[tokio::test]
    async fn format_xml_answers_success_and_errors_in_xml() {
        let mock = Mock::start().await;
        let ok = mock
            .call_v1(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a1"), ("UserId", "u_1"), ("Format", "xml")],
            )
            .await;
        assert_eq!(ok.status, 200);
        assert_eq!(ok.headers["content-type"], "text/xml;charset=utf-8");
        assert!(
            ok.body.contains("<GenerateMessageChatTokenResponse>")
                && ok.body.contains("<UserId>u_1</UserId>"),
            "{}",
            ok.body
        );

        let err = mock
            .call_v1(
                "DescribeAIAgentInstance",
                ICE,
                &[("InstanceId", "<&>"), ("Format", "XML")],
            )
            .await;
        assert_eq!(err.status, 404);
        assert_eq!(err.headers["content-type"], "text/xml;charset=utf-8");
        assert!(
            err.body.contains("<Error>") && err.body.contains("<Code>NotFound</Code>"),
            "{}",
            err.body
        );
        assert!(
            err.body.contains("&lt;&amp;&gt;") && !err.body.contains("<&>"),
            "escaped: {}",
            err.body
        );
        assert!(
            err.body.contains("<HostId>ice.aliyuncs.com</HostId>"),
            "{}",
            err.body
        );
    }

    #[tokio::test]
    async fn every_answer_carries_the_request_id_header_and_body_field() {
        let mock = Mock::start().await;
        let reply = mock
            .call_v3(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a1"), ("UserId", "u")],
            )
            .await;
        let body = reply.assert_ok();
        assert_eq!(
            reply.headers["x-acs-request-id"].to_str().unwrap(),
            body["RequestId"]
        );
        assert_eq!(
            reply.headers["content-type"],
            "application/json;charset=utf-8"
        );
    }
}

mod gateway {
    use super::*;

    #[tokio::test]
    async fn an_unknown_access_key_is_404_in_both_versions() {
        let mock = Mock::start().await;
        let mut v3 = mock.v3("GetAgent", RTC, &[]);
        v3.key = "LTAI5tUnknown".into();
        mock.send_v3(&v3)
            .await
            .assert_error(404, "InvalidAccessKeyId.NotFound");
        let mut v1 = Mock::v1_params("GetAgent", RTC, &[]);
        v1.retain(|(k, _)| k != "AccessKeyId");
        v1.push(("AccessKeyId".into(), "LTAI5tUnknown".into()));
        mock.send_v1("POST", &v1, SECRET)
            .await
            .assert_error(404, "InvalidAccessKeyId.NotFound");
        v1.retain(|(k, _)| k != "AccessKeyId");
        mock.send_v1("POST", &v1, SECRET)
            .await
            .assert_error(400, "MissingAccessKeyId");
    }

    fn with(
        mut params: Vec<(String, String)>,
        key: &str,
        value: Option<&str>,
    ) -> Vec<(String, String)> {
        params.retain(|(k, _)| k != key);
        if let Some(value) = value {
            params.push((key.into(), value.into()));
        }
        params
    }

    #[tokio::test]
    async fn v1_signature_parameters_are_checked_in_order() {
        let mock = Mock::start().await;
        let base = || {
            Mock::v1_params(
                "GetAgent",
                RTC,
                &[("AppId", "a"), ("ChannelId", "c"), ("TaskId", "t")],
            )
        };
        let cases = [
            (
                "SignatureMethod",
                Some("HMAC-SHA256"),
                400,
                "InvalidSignatureMethod",
            ),
            (
                "SignatureVersion",
                Some("2.0"),
                400,
                "InvalidSignatureMethod",
            ),
            ("SignatureMethod", None, 400, "MissingSignatureMethod"),
            ("Timestamp", None, 400, "MissingTimestamp"),
            (
                "Timestamp",
                Some("2025-07-18 06:39:08"),
                400,
                "InvalidTimeStamp.Format",
            ),
            (
                "Timestamp",
                Some("1752820748"),
                400,
                "InvalidTimeStamp.Format",
            ),
            (
                "Timestamp",
                Some("2016-02-23T12:46:24Z"),
                400,
                "InvalidTimeStamp.Expired",
            ),
            ("SignatureNonce", None, 400, "MissingSignatureNonce"),
        ];
        for (key, value, status, code) in cases {
            mock.send_v1("POST", &with(base(), key, value), SECRET)
                .await
                .assert_error(status, code);
        }
        // An unknown key wins over a broken timestamp: the key is checked first.
        let both = with(
            with(base(), "AccessKeyId", Some("nobody")),
            "Timestamp",
            Some("x"),
        );
        mock.send_v1("POST", &both, SECRET)
            .await
            .assert_error(404, "InvalidAccessKeyId.NotFound");
        // A broken timestamp wins over a wrong signature.
        let both = with(base(), "Timestamp", Some("x"));
        mock.send_v1("POST", &both, "wrong")
            .await
            .assert_error(400, "InvalidTimeStamp.Format");
    }

    #[tokio::test]
    async fn a_v1_signature_mismatch_echoes_the_server_string_to_sign() {
        let mock = Mock::start().await;
        let params = Mock::v1_params("GetAgent", RTC, &[("AppId", "a")]);
        let reply = mock.send_v1("POST", &params, "not-the-secret").await;
        reply.assert_error(400, "SignatureDoesNotMatch");
        let expected = protocol::alibaba::v1::string_to_sign("POST", &params);
        assert!(
            reply
                .message()
                .ends_with(&format!("server string to sign is:{expected}")),
            "{}",
            reply.message()
        );

        let unsigned = protocol::alibaba::v3::canonical_query(&params);
        mock.raw("POST", &unsigned, HeaderMap::new(), vec![])
            .await
            .assert_error(400, "IncompleteSignature");
    }

    #[tokio::test]
    async fn v3_authorization_problems_have_their_codes() {
        let mock = Mock::start().await;
        let request = mock.v3("GetAgent", RTC, &[("AppId", "a")]);
        let signed = mock.v3_headers(&request);
        let auth = signed.last().unwrap().1.clone();
        let replace_auth = |value: String| {
            let mut headers = signed.clone();
            headers.last_mut().unwrap().1 = value;
            headers
        };
        let cases = [
            (
                auth.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3"),
                400,
                "InvalidSignatureMethod",
            ),
            (
                auth.split(",Signature=").next().unwrap().to_string(),
                400,
                "IncompleteSignature",
            ),
            (auth.replace("x-acs-date;", ""), 400, "IncompleteSignature"),
            (auth.replace("host;", ""), 400, "IncompleteSignature"),
            (format!("{}0", auth), 400, "SignatureDoesNotMatch"),
        ];
        for (value, status, code) in cases {
            let mut fresh = request.clone();
            fresh.nonce = helper::nonce();
            mock.send_v3_headers(&fresh, replace_auth(value))
                .await
                .assert_error(status, code);
        }
        let mut wrong = mock.v3("GetAgent", RTC, &[]);
        wrong.secret = "not-the-secret".into();
        mock.send_v3(&wrong)
            .await
            .assert_error(400, "SignatureDoesNotMatch");
    }

    #[tokio::test]
    async fn v3_content_hash_must_match_the_body() {
        let mock = Mock::start().await;
        let mut request = mock.v3("GenerateMessageChatToken", ICE, &[("UserId", "u")]);
        request.body = b"AIAgentId=a".to_vec();
        request.content_type = Some("application/x-www-form-urlencoded".into());
        let mut headers = mock.v3_headers(&request);
        request.body = b"AIAgentId=b".to_vec();
        let reply = mock
            .send_v3_headers(&request, std::mem::take(&mut headers))
            .await;
        reply.assert_error(400, "SignatureDoesNotMatch");
        assert!(
            reply.message().contains("x-acs-content-sha256"),
            "{}",
            reply.message()
        );
    }

    #[tokio::test]
    async fn version_action_and_format_are_checked_after_the_signature() {
        let mock = Mock::start().await;
        mock.call_v3("GetAgent", "2099-01-01", &[])
            .await
            .assert_error(400, "InvalidVersion");
        mock.call_v3("GetAgent", ICE, &[])
            .await
            .assert_error(404, "InvalidAction.NotFound");
        mock.call_v3("DescribeAgent", RTC, &[])
            .await
            .assert_error(404, "InvalidAction.NotFound");
        mock.call_v1("", RTC, &[])
            .await
            .assert_error(400, "MissingAction");
        mock.call_v1("GetAgent", "", &[])
            .await
            .assert_error(400, "MissingVersion");
        mock.call_v1("GetAgent", RTC, &[("Format", "YAML")])
            .await
            .assert_error(400, "InvalidParameter.Format");
    }

    #[tokio::test]
    async fn other_methods_and_paths_get_the_gateway_envelope() {
        let mock = Mock::start().await;
        mock.raw("PUT", "Action=GetAgent", HeaderMap::new(), vec![])
            .await
            .assert_error(400, "UnsupportedHTTPMethod");
        let reply = mock
            .http
            .get(format!("{}/nowhere?Format=XML", mock.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404);
        let body = reply.text().await.unwrap();
        assert!(body.contains("<Code>InvalidApi.NotFound</Code>"), "{body}");
    }

    #[tokio::test]
    async fn an_injected_fault_answers_its_code_and_status_in_the_envelope() {
        let mock = Mock::start().await;
        let rule = json!({"route": "GetAgent", "error_rate": 1.0, "error": {"status": 503, "code": "ServiceUnavailable"}});
        let added = mock
            .http
            .post(format!("{}/__admin/faults", mock.url()))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
        mock.call_v3("GetAgent", RTC, &[])
            .await
            .assert_error(503, "ServiceUnavailable");
        let other = mock
            .call_v3(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a"), ("UserId", "u")],
            )
            .await;
        other.assert_ok();
    }
}

mod clock {
    use super::*;

    #[tokio::test]
    async fn timestamps_more_than_15_minutes_off_the_virtual_clock_are_expired() {
        let mock = Mock::start().await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        mock.advance_clock(14 * MINUTE_MS).await;
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_ok();
        mock.call_v1("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_ok();
        mock.advance_clock(2 * MINUTE_MS).await;
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_error(400, "InvalidTimeStamp.Expired");
        mock.call_v1("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_error(400, "InvalidTimeStamp.Expired");
        mock.advance_clock(-32 * MINUTE_MS).await;
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_error(400, "InvalidTimeStamp.Expired");
    }
}

mod nonce {
    use super::*;
    use protocol::alibaba::timestamp::format_utc;

    #[tokio::test]
    async fn a_replayed_nonce_is_refused_until_the_window_ends() {
        let mock = Mock::start().await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        let mut request = mock.v3("GenerateMessageChatToken", ICE, &params);
        mock.send_v3(&request).await.assert_ok();
        mock.send_v3(&request)
            .await
            .assert_error(400, "SignatureNonceUsed");
        let v1 = Mock::v1_params("GenerateMessageChatToken", ICE, &params);
        mock.send_v1("POST", &v1, SECRET).await.assert_ok();
        mock.send_v1("POST", &v1, SECRET)
            .await
            .assert_error(400, "SignatureNonceUsed");

        // 31 minutes on, the same nonce with a fresh timestamp is accepted again.
        mock.advance_clock(31 * MINUTE_MS + 1000).await;
        request.date = format_utc(mock.now_ms().await);
        mock.send_v3(&request).await.assert_ok();
    }

    #[tokio::test]
    async fn an_empty_nonce_is_missing_in_v3_as_in_v1() {
        let mock = Mock::start().await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        let mut request = mock.v3("GenerateMessageChatToken", ICE, &params);
        request.nonce = String::new();
        mock.send_v3(&request)
            .await
            .assert_error(400, "MissingSignatureNonce");
        let v1 = Mock::v1_params("GenerateMessageChatToken", ICE, &[("SignatureNonce", "")]);
        mock.send_v1("POST", &v1, SECRET)
            .await
            .assert_error(400, "MissingSignatureNonce");
    }

    #[tokio::test]
    async fn a_nonce_longer_than_256_bytes_is_refused_naming_it() {
        let mock = Mock::start().await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        let mut request = mock.v3("GenerateMessageChatToken", ICE, &params);
        request.nonce = "n".repeat(10_000);
        let reply = mock.send_v3(&request).await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("SignatureNonce"), "{}", reply.body);
        let long = "n".repeat(257);
        let v1 = Mock::v1_params(
            "GenerateMessageChatToken",
            ICE,
            &[("SignatureNonce", &long)],
        );
        mock.send_v1("POST", &v1, SECRET)
            .await
            .assert_error(400, "InvalidParameter");
        request.nonce = "n".repeat(256);
        mock.send_v3(&request).await.assert_ok();
    }

    #[tokio::test]
    async fn a_forged_request_does_not_burn_the_nonce() {
        let mock = Mock::start().await;
        let mut request = mock.v3(
            "GenerateMessageChatToken",
            ICE,
            &[("AIAgentId", "a"), ("UserId", "u")],
        );
        let secret = std::mem::replace(&mut request.secret, "forged".into());
        mock.send_v3(&request)
            .await
            .assert_error(400, "SignatureDoesNotMatch");
        request.secret = secret;
        mock.send_v3(&request).await.assert_ok();
    }

    #[tokio::test]
    async fn the_nonce_store_is_bounded_and_forgets_the_oldest_first() {
        let config = AlibabaConfig {
            nonce_capacity: 50,
            ..AlibabaConfig::default()
        };
        let mock = Mock::with(config).await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        let requests: Vec<_> = (0..200)
            .map(|_| mock.v3("GenerateMessageChatToken", ICE, &params))
            .collect();
        for request in &requests {
            mock.send_v3(request).await.assert_ok();
        }
        // The newest nonces are still refused; the oldest were pushed out by the cap.
        mock.send_v3(&requests[199])
            .await
            .assert_error(400, "SignatureNonceUsed");
        mock.send_v3(&requests[0]).await.assert_ok();
    }
}

mod throttle {
    use super::*;

    #[tokio::test]
    async fn past_the_rate_a_key_is_throttled_with_a_retry_after() {
        let mut config = AlibabaConfig {
            rate_limit_per_sec: Some(2),
            ..AlibabaConfig::default()
        };
        config
            .credentials
            .push(helper::credential("LTAI5tSecondKey", "second-secret"));
        let mock = Mock::with(config).await;
        let params = [("AIAgentId", "a"), ("UserId", "u")];
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_ok();
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_ok();
        let reply = mock.call_v3("GenerateMessageChatToken", ICE, &params).await;
        reply.assert_error(400, "Throttling.User");
        let wait: u64 = reply.headers["x-acs-retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait >= 1);

        let mut other = mock.v3("GenerateMessageChatToken", ICE, &params);
        other.key = "LTAI5tSecondKey".into();
        other.secret = "second-secret".into();
        mock.send_v3(&other).await.assert_ok();

        mock.advance_clock(1000).await;
        mock.call_v3("GenerateMessageChatToken", ICE, &params)
            .await
            .assert_ok();
    }
}

mod ranges {
    use super::*;

    /// (VoiceChatConfig, accepted?, the path an error names)
    fn voice_cases() -> Vec<(Value, bool, &'static str)> {
        let p = "VoiceChatConfig.";
        let _ = p;
        vec![
            (json!({"ChatMode": 1}), true, ""),
            (json!({"ChatMode": 2}), true, ""),
            (json!({"ChatMode": 3}), false, "VoiceChatConfig.ChatMode"),
            (json!({"ChatMode": 0}), false, "VoiceChatConfig.ChatMode"),
            (json!({"InterruptMode": 2}), true, ""),
            (
                json!({"InterruptMode": 3}),
                false,
                "VoiceChatConfig.InterruptMode",
            ),
            (json!({"ASRConfig": {"MaxSentenceSilence": 200}}), true, ""),
            (json!({"ASRConfig": {"MaxSentenceSilence": 6000}}), true, ""),
            (
                json!({"ASRConfig": {"MaxSentenceSilence": 199}}),
                false,
                "VoiceChatConfig.ASRConfig.MaxSentenceSilence",
            ),
            (
                json!({"ASRConfig": {"MaxSentenceSilence": 6001}}),
                false,
                "VoiceChatConfig.ASRConfig.MaxSentenceSilence",
            ),
            (
                json!({"ASRConfig": {"LanguageHints": ["zh", "yue"]}}),
                true,
                "",
            ),
            (
                json!({"ASRConfig": {"LanguageHints": ["fr"]}}),
                false,
                "VoiceChatConfig.ASRConfig.LanguageHints",
            ),
            (
                json!({"ASRConfig": {"VadConfig": {"InterruptSpeechDuration": 0}}}),
                true,
                "",
            ),
            (
                json!({"ASRConfig": {"VadConfig": {"InterruptSpeechDuration": 3000}}}),
                true,
                "",
            ),
            (
                json!({"ASRConfig": {"VadConfig": {"InterruptSpeechDuration": -1}}}),
                false,
                "VoiceChatConfig.ASRConfig.VadConfig.InterruptSpeechDuration",
            ),
            (
                json!({"ASRConfig": {"VadConfig": {"InterruptSpeechDuration": 3001}}}),
                false,
                "VoiceChatConfig.ASRConfig.VadConfig.InterruptSpeechDuration",
            ),
            (
                json!({"LLMConfig": {"Vendor": "aliyun", "Model": "qwen-plus"}}),
                true,
                "",
            ),
            (
                json!({"LLMConfig": {"Vendor": "aliyun", "Model": "deepseek-r1"}}),
                true,
                "",
            ),
            (
                json!({"LLMConfig": {"Vendor": "aliyun", "Model": "qwen-omni-turbo"}}),
                true,
                "",
            ),
            (
                json!({"LLMConfig": {"Vendor": "aliyun", "Model": "qwen-max"}}),
                false,
                "VoiceChatConfig.LLMConfig.Model",
            ),
            (
                json!({"LLMConfig": {"Vendor": "openai"}}),
                false,
                "VoiceChatConfig.LLMConfig.Vendor",
            ),
            (
                json!({"LLMConfig": {"Vendor": "thirdparty", "Url": "https://llm.example"}}),
                true,
                "",
            ),
            (
                json!({"LLMConfig": {"Vendor": "thirdparty"}}),
                false,
                "VoiceChatConfig.LLMConfig.Url",
            ),
            (json!({"LLMConfig": {"Temperature": 0}}), true, ""),
            (json!({"LLMConfig": {"Temperature": 1.99}}), true, ""),
            (
                json!({"LLMConfig": {"Temperature": 2.0}}),
                false,
                "VoiceChatConfig.LLMConfig.Temperature",
            ),
            (
                json!({"LLMConfig": {"Temperature": -0.01}}),
                false,
                "VoiceChatConfig.LLMConfig.Temperature",
            ),
            (json!({"LLMConfig": {"TopP": 1}}), true, ""),
            (json!({"LLMConfig": {"TopP": 0.01}}), true, ""),
            (
                json!({"LLMConfig": {"TopP": 0}}),
                false,
                "VoiceChatConfig.LLMConfig.TopP",
            ),
            (
                json!({"LLMConfig": {"TopP": 1.01}}),
                false,
                "VoiceChatConfig.LLMConfig.TopP",
            ),
            (json!({"TTSConfig": {"Voice": "longxiaoxia"}}), true, ""),
            (json!({"TTSConfig": {"Voice": "loongbella"}}), true, ""),
            (
                json!({"TTSConfig": {"Voice": "alloy"}}),
                false,
                "VoiceChatConfig.TTSConfig.Voice",
            ),
            (json!({"TTSConfig": {"Volume": 0}}), true, ""),
            (json!({"TTSConfig": {"Volume": 100}}), true, ""),
            (
                json!({"TTSConfig": {"Volume": 101}}),
                false,
                "VoiceChatConfig.TTSConfig.Volume",
            ),
            (
                json!({"TTSConfig": {"Volume": -1}}),
                false,
                "VoiceChatConfig.TTSConfig.Volume",
            ),
            (json!({"TTSConfig": {"Rate": 0.5, "Pitch": 2.0}}), true, ""),
            (
                json!({"TTSConfig": {"Rate": 0.49}}),
                false,
                "VoiceChatConfig.TTSConfig.Rate",
            ),
            (
                json!({"TTSConfig": {"Rate": 2.01}}),
                false,
                "VoiceChatConfig.TTSConfig.Rate",
            ),
            (
                json!({"TTSConfig": {"Pitch": 0.49}}),
                false,
                "VoiceChatConfig.TTSConfig.Pitch",
            ),
            (
                json!({"TTSConfig": {"Pitch": 2.01}}),
                false,
                "VoiceChatConfig.TTSConfig.Pitch",
            ),
            (
                json!({"TTSConfig": {"FilterBrackets": [1, 2, 3, 4, 5]}}),
                true,
                "",
            ),
            (
                json!({"TTSConfig": {"FilterBrackets": [0]}}),
                false,
                "VoiceChatConfig.TTSConfig.FilterBrackets",
            ),
            (
                json!({"TTSConfig": {"FilterBrackets": [6]}}),
                false,
                "VoiceChatConfig.TTSConfig.FilterBrackets",
            ),
            (json!({"AgentSilenceConfig": {"AlertTimeout": 0}}), true, ""),
            (json!({"AgentSilenceConfig": {"AlertTimeout": 5}}), true, ""),
            (
                json!({"AgentSilenceConfig": {"AlertTimeout": 600}}),
                true,
                "",
            ),
            (
                json!({"AgentSilenceConfig": {"AlertTimeout": 4}}),
                false,
                "VoiceChatConfig.AgentSilenceConfig.AlertTimeout",
            ),
            (
                json!({"AgentSilenceConfig": {"AlertTimeout": 601}}),
                false,
                "VoiceChatConfig.AgentSilenceConfig.AlertTimeout",
            ),
            (
                json!({"AgentSilenceConfig": {"WebhookTriggerTimeout": 0}}),
                true,
                "",
            ),
            (
                json!({"AgentSilenceConfig": {"WebhookTriggerTimeout": 10}}),
                true,
                "",
            ),
            (
                json!({"AgentSilenceConfig": {"WebhookTriggerTimeout": 600}}),
                true,
                "",
            ),
            (
                json!({"AgentSilenceConfig": {"WebhookTriggerTimeout": 9}}),
                false,
                "VoiceChatConfig.AgentSilenceConfig.WebhookTriggerTimeout",
            ),
            (
                json!({"AgentSilenceConfig": {"WebhookTriggerTimeout": 601}}),
                false,
                "VoiceChatConfig.AgentSilenceConfig.WebhookTriggerTimeout",
            ),
            (json!({"AgentSilenceConfig": {"Strategy": 2}}), true, ""),
            (
                json!({"AgentSilenceConfig": {"Strategy": 3}}),
                false,
                "VoiceChatConfig.AgentSilenceConfig.Strategy",
            ),
            (
                json!({"AmbientSoundConfig": {"SoundId": "white_noise"}}),
                true,
                "",
            ),
            (
                json!({"AmbientSoundConfig": {"SoundId": "office"}}),
                true,
                "",
            ),
            (json!({"AmbientSoundConfig": {"SoundId": ""}}), true, ""),
            (
                json!({"AmbientSoundConfig": {"SoundId": "rain"}}),
                false,
                "VoiceChatConfig.AmbientSoundConfig.SoundId",
            ),
            (json!({"AmbientSoundConfig": {"Volume": 100}}), true, ""),
            (
                json!({"AmbientSoundConfig": {"Volume": 101}}),
                false,
                "VoiceChatConfig.AmbientSoundConfig.Volume",
            ),
            (
                json!({"InterruptConfig": {"SemanticsInterrupt": "yes"}}),
                false,
                "VoiceChatConfig.InterruptConfig.SemanticsInterrupt",
            ),
            (json!({"ASRConfig": 5}), false, "VoiceChatConfig.ASRConfig"),
        ]
    }

    fn rtc_cases() -> Vec<(Value, bool, &'static str)> {
        vec![
            (json!({"UserId": "a", "UserInactivityTimeout": 5}), true, ""),
            (
                json!({"UserId": "a", "UserInactivityTimeout": 180}),
                true,
                "",
            ),
            (
                json!({"UserId": "a", "UserInactivityTimeout": 4}),
                false,
                "RtcConfig.UserInactivityTimeout",
            ),
            (
                json!({"UserId": "a", "UserInactivityTimeout": 181}),
                false,
                "RtcConfig.UserInactivityTimeout",
            ),
            (json!({"UserId": "a", "TargetUserIds": []}), true, ""),
            (
                json!({"UserId": "a", "TargetUserIds": ["u1", "u2"]}),
                false,
                "RtcConfig.TargetUserIds",
            ),
            (json!({"TargetUserIds": ["u1"]}), false, "RtcConfig.UserId"),
        ]
    }

    async fn start_with(mock: &Mock, n: usize, rtc: &str, voice: &str) -> helper::Reply {
        let task = format!("task{n}");
        let mut params = start_agent("ranges", &task, rtc);
        params.push(("VoiceChatConfig", voice));
        mock.call_v3("StartAgent", RTC, &params).await
    }

    fn assert_case(reply: &helper::Reply, config: &Value, ok: bool, path: &str) {
        if ok {
            assert_eq!(reply.status, 200, "{config} should pass: {}", reply.body);
        } else {
            assert_eq!(reply.status, 400, "{config} should fail: {}", reply.body);
            assert!(
                reply.message().contains(path),
                "{config}: message should name {path}: {}",
                reply.message()
            );
            assert!(
                reply.code().starts_with("Invalid") || reply.code().starts_with("Missing"),
                "{}",
                reply.body
            );
        }
    }

    #[tokio::test]
    async fn every_seed_002_voice_chat_range_is_enforced_at_its_edges() {
        let mock = Mock::start().await;
        let rtc = rtc_config();
        for (n, (voice, ok, path)) in voice_cases().into_iter().enumerate() {
            let reply = start_with(&mock, n, &rtc, &voice.to_string()).await;
            assert_case(&reply, &voice, ok, path);
        }
    }

    #[tokio::test]
    async fn every_seed_002_rtc_config_rule_is_enforced() {
        let mock = Mock::start().await;
        for (n, (rtc, ok, path)) in rtc_cases().into_iter().enumerate() {
            let reply = start_with(&mock, n, &rtc.to_string(), "{}").await;
            assert_case(&reply, &rtc, ok, path);
        }
    }

    #[tokio::test]
    async fn broken_nested_json_names_the_parameter() {
        let mock = Mock::start().await;
        let reply = start_with(&mock, 0, "{\"UserId\":", "{}").await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("RtcConfig"), "{}", reply.message());
        let reply = start_with(&mock, 1, &rtc_config(), "[1]").await;
        assert!(
            reply.message().contains("VoiceChatConfig"),
            "{}",
            reply.message()
        );
        let reply = start_with(&mock, 2, &rtc_config(), r#"{"ChatMode":"1"}"#).await;
        assert!(
            reply
                .message()
                .contains("VoiceChatConfig.ChatMode is not valid: must be an integer"),
            "{}",
            reply.message()
        );
    }

    #[tokio::test]
    async fn required_parameters_are_named_in_missing_codes() {
        let mock = Mock::start().await;
        let rtc = rtc_config();
        let all = start_agent("c", "t", &rtc);
        for (name, _) in &all {
            let params: Vec<_> = all.iter().filter(|(k, _)| k != name).cloned().collect();
            mock.call_v3("StartAgent", RTC, &params)
                .await
                .assert_error(400, &format!("Missing{name}"));
        }
        mock.call_v3("StartAIAgentInstance", ICE, &[("AIAgentId", "a")])
            .await
            .assert_error(400, "MissingRuntimeConfig");
        mock.call_v3("GenerateAIAgentCall", ICE, &[])
            .await
            .assert_error(400, "MissingAIAgentId");
        mock.call_v3("GenerateMessageChatToken", ICE, &[("AIAgentId", "a")])
            .await
            .assert_error(400, "MissingUserId");
    }

    #[tokio::test]
    async fn ice_expire_and_user_id_ranges_are_enforced() {
        let mock = Mock::start().await;
        let call = |expire: &'static str| [("AIAgentId", "a"), ("Expire", expire)];
        for (expire, ok) in [
            ("0", true),
            ("604800", true),
            ("604801", false),
            ("-1", false),
            ("soon", false),
        ] {
            let reply = mock
                .call_v3("GenerateAIAgentCall", ICE, &call(expire))
                .await;
            assert_eq!(reply.status == 200, ok, "Expire {expire}: {}", reply.body);
            if !ok {
                assert!(reply.message().contains("Expire"), "{}", reply.body);
            }
        }
        let long = "u".repeat(65);
        mock.call_v3(
            "GenerateAIAgentCall",
            ICE,
            &[("AIAgentId", "a"), ("UserId", &long)],
        )
        .await
        .assert_error(400, "InvalidParameter");
        let max = "u".repeat(64);
        mock.call_v3(
            "GenerateAIAgentCall",
            ICE,
            &[("AIAgentId", "a"), ("UserId", &max)],
        )
        .await
        .assert_ok();
        for (user, ok) in [
            ("Az09_", true),
            (max.as_str(), true),
            (long.as_str(), false),
            ("a-b", false),
            ("a b", false),
        ] {
            let reply = mock
                .call_v3(
                    "GenerateMessageChatToken",
                    ICE,
                    &[("AIAgentId", "a"), ("UserId", user)],
                )
                .await;
            assert_eq!(reply.status == 200, ok, "UserId {user:?}: {}", reply.body);
        }
        let bad_runtime = [("AIAgentId", "a"), ("RuntimeConfig", r#"{"ChannelId": 5}"#)];
        let reply = mock
            .call_v3("StartAIAgentInstance", ICE, &bad_runtime)
            .await;
        reply.assert_error(400, "InvalidParameter");
        assert!(
            reply.message().contains("RuntimeConfig.ChannelId"),
            "{}",
            reply.message()
        );
    }
}

mod lifecycle {
    use super::*;

    #[tokio::test]
    async fn an_agent_task_starts_runs_updates_and_stops_on_the_virtual_clock() {
        let mock = Mock::start().await;
        let rtc = rtc_config();
        let ids = [("AppId", "app1"), ("ChannelId", "c1"), ("TaskId", "t1")];
        mock.call_v3("StartAgent", RTC, &start_agent("c1", "t1", &rtc))
            .await
            .assert_ok();
        let reply = mock
            .call_v3("StartAgent", RTC, &start_agent("c1", "t1", &rtc))
            .await;
        reply.assert_error(400, "TaskAlreadyExists");
        let running = mock.call_v3("GetAgent", RTC, &ids).await.assert_ok();
        assert_eq!(
            (running["Status"].as_str(), running["Message"].as_str()),
            (Some("1"), Some("Success"))
        );
        let start: i64 = running["StartTime"].as_str().unwrap().parse().unwrap();
        assert!((start - mock.now_ms().await).abs() < 5_000);

        mock.advance_clock(5_000).await;
        mock.call_v3("StopAgent", RTC, &ids).await.assert_ok();
        mock.call_v3("StopAgent", RTC, &ids).await.assert_ok();
        let stopped = mock.call_v3("GetAgent", RTC, &ids).await.assert_ok();
        assert_eq!(stopped["Status"], "2");
        let stop: i64 = stopped["StopTime"].as_str().unwrap().parse().unwrap();
        assert!(stop - start >= 5_000, "{start} -> {stop}");
        let update = [&ids[..], &[("VoiceChatConfig", r#"{"ChatMode":2}"#)]].concat();
        mock.call_v3("UpdateAgent", RTC, &update)
            .await
            .assert_error(400, "IncorrectTaskStatus");
        // The same key starts afresh once stopped.
        mock.call_v3("StartAgent", RTC, &start_agent("c1", "t1", &rtc))
            .await
            .assert_ok();
        assert_eq!(
            mock.call_v3("GetAgent", RTC, &ids).await.assert_ok()["Status"],
            "1"
        );
    }

    #[tokio::test]
    async fn updates_cannot_grow_a_config_past_its_cap() {
        let mock = Mock::start().await;
        let id = start_instance(&mock).await;
        let rtc = rtc_config();
        mock.call_v3("StartAgent", RTC, &start_agent("c9", "t9", &rtc))
            .await
            .assert_ok();
        let task = [("AppId", "app1"), ("ChannelId", "c9"), ("TaskId", "t9")];
        // Each update adds a new 25 KB key (a query holds 32 KiB): the third would pass 64 KiB.
        let big = "x".repeat(25_000);
        for (n, status) in [(1, 200), (2, 200), (3, 400)] {
            let patch = serde_json::json!({ format!("K{n}"): big }).to_string();
            let update = [("InstanceId", id.as_str()), ("TemplateConfig", &patch)];
            let reply = mock.call_v3("UpdateAIAgentInstance", ICE, &update).await;
            let rtc_update = [&task[..], &[("VoiceChatConfig", patch.as_str())]].concat();
            let rtc_reply = mock.call_v3("UpdateAgent", RTC, &rtc_update).await;
            for (reply, param) in [(reply, "TemplateConfig"), (rtc_reply, "VoiceChatConfig")] {
                assert_eq!(reply.status, status, "{}", reply.body);
                if status == 400 {
                    reply.assert_error(400, "InvalidParameter");
                    assert!(reply.message().contains(param), "{}", reply.body);
                }
            }
        }
        let describe = [("InstanceId", id.as_str())];
        let kept = mock
            .call_v3("DescribeAIAgentInstance", ICE, &describe)
            .await;
        let template = &kept.assert_ok()["Instance"]["TemplateConfig"];
        assert!(template["K2"].is_string() && template["K3"].is_null());
        // Too big for a query: a new instance's config comes in a form body.
        let huge = serde_json::json!({ "K": "x".repeat(70_000) }).to_string();
        let mut start = mock.v3("StartAIAgentInstance", ICE, &[("AIAgentId", "a")]);
        let form = format!(
            "RuntimeConfig={}",
            protocol::alibaba::encoding::percent_encode(&huge)
        );
        start.body = form.into_bytes();
        start.content_type = Some("application/x-www-form-urlencoded".into());
        let reply = mock.send_v3(&start).await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("RuntimeConfig"), "{}", reply.body);
    }

    #[tokio::test]
    async fn an_instance_goes_from_executing_to_finished_and_updates_merge() {
        let mock = Mock::start().await;
        let id = start_instance(&mock).await;
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let by_id = [("InstanceId", id.as_str())];
        let describe = || mock.call_v3("DescribeAIAgentInstance", ICE, &by_id);
        let before = describe().await.assert_ok()["Instance"].clone();
        assert_eq!(before["Status"], "Executing");
        assert!(
            before["RuntimeConfig"].is_object()
                && before["TemplateConfig"].is_object()
                && before["AgentConfig"].is_object()
        );
        assert_eq!(before["UserData"], "u0");
        let created = before["GmtCreate"].as_str().unwrap();
        assert!(
            created.ends_with(".000+00:00")
                || created.len() == "2025-07-18T06:39:08.000+00:00".len(),
            "{created}"
        );

        mock.advance_clock(2_000).await;
        let patch = [
            ("InstanceId", id.as_str()),
            ("TemplateConfig", r#"{"VoiceChat":{"Greeting":"hello"}}"#),
            ("UserData", r#"{"VoiceId":"x"}"#),
        ];
        mock.call_v3("UpdateAIAgentInstance", ICE, &patch)
            .await
            .assert_ok();
        let after = describe().await.assert_ok()["Instance"].clone();
        assert_eq!(
            after["TemplateConfig"],
            json!({"VoiceChat": {"Greeting": "hello", "VoiceId": "v1"}})
        );
        assert_eq!(after["UserData"], r#"{"VoiceId":"x"}"#);
        assert_eq!(after["GmtCreate"], before["GmtCreate"]);
        assert!(after["GmtModified"].as_str() > before["GmtModified"].as_str());

        mock.call_v3("StopAIAgentInstance", ICE, &[("InstanceId", &id)])
            .await
            .assert_ok();
        assert_eq!(
            describe().await.assert_ok()["Instance"]["Status"],
            "Finished"
        );
        mock.call_v3("UpdateAIAgentInstance", ICE, &patch)
            .await
            .assert_error(400, "IncorrectInstanceStatus");
    }

    #[tokio::test]
    async fn a_generated_call_is_a_describable_instance_with_a_token() {
        let mock = Mock::start().await;
        let call = mock
            .call_v3(
                "GenerateAIAgentCall",
                ICE,
                &[("AIAgentId", "a"), ("Expire", "600")],
            )
            .await
            .assert_ok();
        assert!(
            call["UserId"].as_str().is_some_and(|u| !u.is_empty()),
            "auto UserId: {call}"
        );
        let claims =
            protocol::aui::decode_claims(call["Token"].as_str().unwrap()).expect("an ARTC token");
        let _ = claims;
        let id = call["InstanceId"].as_str().unwrap();
        let instance = mock
            .call_v3("DescribeAIAgentInstance", ICE, &[("InstanceId", id)])
            .await
            .assert_ok();
        assert_eq!(
            instance["Instance"]["RuntimeConfig"]["ChannelId"],
            call["ChannelId"]
        );
        assert_eq!(
            instance["Instance"]["RuntimeConfig"]["AgentUserId"],
            call["AIAgentUserId"]
        );
        let named = mock
            .call_v3(
                "GenerateAIAgentCall",
                ICE,
                &[("AIAgentId", "a"), ("UserId", "me")],
            )
            .await
            .assert_ok();
        assert_eq!(named["UserId"], "me");
    }

    #[tokio::test]
    async fn a_message_chat_token_expires_after_expire_seconds_of_virtual_time() {
        let mock = Mock::start().await;
        mock.advance_clock(3 * MINUTE_MS).await;
        let now = mock.now_ms().await / 1000;
        let token = mock
            .call_v3(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a"), ("UserId", "u_1"), ("Role", "admin")],
            )
            .await
            .assert_ok();
        let stamp = token["TimeStamp"].as_i64().unwrap();
        assert!((stamp - (now + 3600)).abs() <= 2, "{stamp} vs {now}");
        assert!(token["Nonce"].as_str().unwrap().starts_with("AK-"));
        assert!(token["Token"].as_str().unwrap().starts_with("acet"));
        assert_eq!(token["Role"], "admin");
        let short = mock
            .call_v3(
                "GenerateMessageChatToken",
                ICE,
                &[("AIAgentId", "a"), ("UserId", "u_1"), ("Expire", "60")],
            )
            .await
            .assert_ok();
        assert!((short["TimeStamp"].as_i64().unwrap() - (now + 60)).abs() <= 2);
    }

    #[tokio::test]
    async fn unknown_ids_are_404_naming_the_id() {
        let mock = Mock::start().await;
        for action in [
            "DescribeAIAgentInstance",
            "StopAIAgentInstance",
            "UpdateAIAgentInstance",
        ] {
            let reply = mock
                .call_v3(
                    action,
                    ICE,
                    &[("InstanceId", "feedfacefeedfacefeedfacefeedface")],
                )
                .await;
            reply.assert_error(404, "NotFound");
            assert!(
                reply.message().contains("feedfacefeedfacefeedfacefeedface"),
                "{}",
                reply.body
            );
        }
        for action in ["GetAgent", "StopAgent", "UpdateAgent"] {
            let reply = mock
                .call_v3(
                    action,
                    RTC,
                    &[("AppId", "a"), ("ChannelId", "c"), ("TaskId", "ghost")],
                )
                .await;
            reply.assert_error(404, "NotFound");
            assert!(reply.message().contains("ghost"), "{}", reply.body);
        }
    }

    #[tokio::test]
    async fn rtc_app_ids_restrict_the_apps_accepted() {
        let config = AlibabaConfig {
            rtc_app_ids: Some(vec!["app1".into()]),
            ..AlibabaConfig::default()
        };
        let mock = Mock::with(config).await;
        let rtc = rtc_config();
        mock.call_v3("StartAgent", RTC, &start_agent("c", "t", &rtc))
            .await
            .assert_ok();
        let mut other = start_agent("c", "t", &rtc);
        other[0] = ("AppId", "app2");
        mock.call_v3("StartAgent", RTC, &other)
            .await
            .assert_error(404, "InvalidAppId.NotFound");
    }

    #[tokio::test]
    async fn admin_reset_forgets_tasks_instances_and_nonces() {
        let mock = Mock::start().await;
        let id = start_instance(&mock).await;
        let request = mock.v3("DescribeAIAgentInstance", ICE, &[("InstanceId", &id)]);
        mock.send_v3(&request).await.assert_ok();
        let reset = mock
            .http
            .post(format!("{}/__admin/reset", mock.url()))
            .send()
            .await
            .unwrap();
        assert!(reset.status().is_success());
        // The nonce is forgotten too, so the same request now reaches the handler: 404.
        mock.send_v3(&request).await.assert_error(404, "NotFound");
    }
}

mod malformed {
    use super::*;
    use proptest::prelude::*;

    fn assert_envelope(reply: &helper::Reply) {
        assert!(
            (400..500).contains(&reply.status),
            "{}: {}",
            reply.status,
            reply.body
        );
        let json = reply.json();
        assert!(
            json["Code"].is_string() && json["RequestId"].is_string(),
            "{}",
            reply.body
        );
    }

    #[tokio::test]
    async fn broken_percent_encoding_is_a_400_envelope() {
        let mock = Mock::start().await;
        for query in ["Action=%zz", "Action=GetAgent&AppId=%FF", "A%=1", "%E9%98"] {
            let reply = mock.raw("POST", query, HeaderMap::new(), vec![]).await;
            reply.assert_error(400, "InvalidParameter");
            assert!(reply.message().contains("QueryString"), "{}", reply.body);
        }
        let xml = mock
            .raw("GET", "Format=XML&x=%zz", HeaderMap::new(), vec![])
            .await;
        assert_eq!(xml.status, 400);
        assert!(
            xml.body.contains("<Code>InvalidParameter</Code>"),
            "{}",
            xml.body
        );
    }

    /// Sends a request line by hand: reqwest refuses URIs past 64 KiB before sending them.
    async fn raw_http(mock: &Mock, target: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(mock.server.addr())
            .await
            .unwrap();
        let head = format!(
            "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn huge_queries_are_refused_with_a_4xx() {
        let mock = Mock::start().await;
        let limit = mocks::limits::DEFAULT_MAX_QUERY_BYTES;
        // Just under the edge's limit reaches the gateway: the envelope, naming what is missing.
        let query = format!("Action=GetAgent&Big={}", "a".repeat(limit - 100));
        let reply = mock.raw("POST", &query, HeaderMap::new(), vec![]).await;
        reply.assert_error(400, "MissingAccessKeyId");
        // Over it, up to what a URI may hold, the edge refuses it in the envelope.
        let query = format!(
            "Action=GetAgent&Big={}",
            "a".repeat((limit + 1000).min(60 * 1024))
        );
        mock.raw("POST", &query, HeaderMap::new(), vec![])
            .await
            .assert_error(414, "RequestTooLarge");
        // 100 KB is past what an HTTP URI may hold (64 KiB): hyper answers 414 before any
        // handler runs, so there is no envelope to give (see the report to the lead).
        let (status, body) = raw_http(
            &mock,
            &format!("/?Action=GetAgent&Big={}", "a".repeat(100 * 1024)),
        )
        .await;
        assert_eq!(status, 414, "{body}");
        if !body.is_empty() {
            assert!(body.contains("\"Code\""), "{body}");
        }
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_a_400_envelope() {
        let mock = Mock::start().await;
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let reply = mock
            .raw("POST", "", headers, vec![0xff, 0xfe, b'=', 0x80])
            .await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("Body"), "{}", reply.body);
        let reply = mock
            .raw("POST", "", HeaderMap::new(), vec![0xc3, 0x28])
            .await;
        assert_envelope(&reply);
        let mut json = HeaderMap::new();
        json.insert("content-type", HeaderValue::from_static("application/json"));
        assert_envelope(&mock.raw("POST", "", json, b"{not json".to_vec()).await);
    }

    #[tokio::test]
    async fn missing_and_duplicated_headers_are_400_envelopes() {
        let mock = Mock::start().await;
        let request = mock.v3("GetAgent", RTC, &[]);
        let signed = mock.v3_headers(&request);

        let without_date: Vec<_> = signed
            .iter()
            .filter(|(n, _)| n != "x-acs-date")
            .cloned()
            .collect();
        mock.send_v3_headers(&request, without_date)
            .await
            .assert_error(400, "IncompleteSignature");

        let mut twice = signed.clone();
        twice.push(("x-acs-date".into(), request.date.clone()));
        let reply = mock.send_v3_headers(&request, twice).await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("x-acs-date"), "{}", reply.body);

        let mut two_auth = signed.clone();
        two_auth.push(signed.last().unwrap().clone());
        mock.send_v3_headers(&request, two_auth)
            .await
            .assert_error(400, "InvalidParameter");

        let mut headers = HeaderMap::new();
        headers.insert(
            "x-acs-action",
            HeaderValue::from_bytes(b"Get\xffAgent").unwrap(),
        );
        headers.insert(
            "authorization",
            HeaderValue::from_static("ACS3-HMAC-SHA256 Credential=x"),
        );
        let reply = mock.raw("POST", "", headers, vec![]).await;
        reply.assert_error(400, "InvalidParameter");
    }

    #[tokio::test]
    async fn a_duplicated_query_key_is_invalid_naming_the_key() {
        let mock = Mock::start().await;
        let mut params = Mock::v1_params("GetAgent", RTC, &[("AppId", "a"), ("AppId", "b")]);
        params.sort();
        let reply = mock.send_v1("POST", &params, SECRET).await;
        reply.assert_error(400, "InvalidParameter");
        assert!(reply.message().contains("AppId"), "{}", reply.body);
        let _ = KEY;
    }

    fn garbage_query() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[A-Za-z0-9%=&+._~ \u{e9}\u{4e2d}-]{0,120}").unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn garbage_queries_and_bodies_never_get_a_5xx(
            query in garbage_query(),
            body in proptest::collection::vec(any::<u8>(), 0..200),
            form in any::<bool>(),
            method in prop_oneof![Just("GET"), Just("POST")],
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let mock = Mock::start().await;
                let mut headers = HeaderMap::new();
                if form {
                    headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
                }
                let reply = mock.raw(method, &query, headers, body).await;
                assert_envelope(&reply);
                mock.server.shutdown().await;
            });
        }
    }
}
