//! The DUIX platform's HTTP side over real sockets: checkSig, the management APIs, the envelope
//! and its statuses, the `/__duix` routes, and the reference vendor webhook.

mod duix_support;

use duix_support::*;
use mocks::duix::vendor::VendorConfig;
use mocks::duix::{DEMO_APP_ID, DEMO_APP_KEY};
use proptest::prelude::*;
use serde_json::{json, Value};

const CHECK_SIG: &str = "/duix-openapi-v2/sdk/checkSig";
const PREFIXES: [&str; 2] = ["/duix-openapi-v2/v1/", "/duix-openapi-v2/sdk/v2/"];

fn assert_failure(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (want_status, Some(want_code)),
        "{body}"
    );
    assert_eq!(body["success"], false);
    assert!(body["data"].is_null());
    assert!(!body["message"].as_str().unwrap_or("").is_empty());
}

mod check_sig {
    use super::*;

    #[tokio::test]
    async fn a_valid_token_answers_the_app_and_a_ws_url_on_this_server() {
        let platform = platform(config()).await;
        let token = platform.token();
        let (status, body) = platform
            .get(&format!("{CHECK_SIG}?sig={token}"), None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            (body["code"].as_str(), body["success"].as_bool()),
            (Some("0"), Some(true))
        );
        assert_eq!(body["data"]["appId"], DEMO_APP_ID);
        let expected = format!(
            "ws://{}/duix-openapi-v2/ws?sig={token}",
            platform.server.addr()
        );
        assert_eq!(body["data"]["wsService"], expected.as_str());
    }

    #[tokio::test]
    async fn public_ws_base_overrides_the_host() {
        let mut config = config();
        config.public_ws_base = Some("wss://duix.example.com/".into());
        let platform = platform(config).await;
        let url = platform.ws_service(&platform.token()).await;
        assert!(
            url.starts_with("wss://duix.example.com/duix-openapi-v2/ws?sig="),
            "{url}"
        );
    }

    #[tokio::test]
    async fn each_bad_token_gets_its_seed_code_and_401() {
        let platform = platform(config()).await;
        let other_key = platform.token_for(DEMO_APP_ID, "not-the-key", 60);
        let unknown_app = platform.token_for("no-such-app", DEMO_APP_KEY, 60);
        for (query, code) in [
            (String::new(), "1005"),
            ("?sig=".into(), "1005"),
            ("?sig=garbage".into(), "1006"),
            (format!("?sig={other_key}"), "40001"),
            (format!("?sig={unknown_app}"), "40001"),
        ] {
            let (status, body) = platform.get(&format!("{CHECK_SIG}{query}"), None).await;
            assert_failure(status, &body, 401, code);
        }
    }

    #[tokio::test]
    async fn a_token_expires_on_the_virtual_clock() {
        let platform = platform(config()).await;
        let token = platform.token_for(DEMO_APP_ID, DEMO_APP_KEY, 60);
        assert_eq!(
            platform
                .get(&format!("{CHECK_SIG}?sig={token}"), None)
                .await
                .0,
            200
        );
        platform.clock.advance_ms(61_000);
        let (status, body) = platform
            .get(&format!("{CHECK_SIG}?sig={token}"), None)
            .await;
        assert_failure(status, &body, 401, "1006");
    }

    #[tokio::test]
    async fn a_token_issued_in_the_future_is_1006_as_java_jwt_refuses_it() {
        let platform = platform(config()).await;
        let now = platform.clock.now_secs();
        let future = protocol::duix::sign_token(DEMO_APP_ID, DEMO_APP_KEY, now + 600, now + 1200);
        let (status, body) = platform
            .get(&format!("{CHECK_SIG}?sig={future}"), None)
            .await;
        assert_failure(status, &body, 401, "1006");
        platform.clock.advance_ms(601_000);
        let (status, _) = platform
            .get(&format!("{CHECK_SIG}?sig={future}"), None)
            .await;
        assert_eq!(status, 200, "valid once the clock reaches its iat");
    }
}

mod management {
    use super::*;

    #[tokio::test]
    async fn every_api_answers_under_both_prefixes_with_the_token_header() {
        let platform = platform(config()).await;
        let token = platform.token();
        for prefix in PREFIXES {
            let (status, body) = platform
                .get(
                    &format!("{prefix}getconcurrentNumber?appId={DEMO_APP_ID}"),
                    Some(&token),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["data"],
                json!({"cropId": "100003", "totalConcurrentNumber": 0, "userConcurrentNumber": 0})
            );
            let (status, body) = platform
                .get(
                    &format!("{prefix}getconcurrentList?appId={DEMO_APP_ID}"),
                    Some(&token),
                )
                .await;
            assert_eq!((status, &body["data"]), (200, &json!([])));
            let (status, body) = platform
                .get(
                    &format!("{prefix}distroyCallSessionsByAppId?appId={DEMO_APP_ID}"),
                    Some(&token),
                )
                .await;
            assert_eq!(
                (status, &body["data"], &body["success"]),
                (200, &json!(""), &json!(true))
            );
        }
    }

    #[tokio::test]
    async fn missing_expired_and_foreign_tokens_are_refused() {
        let platform = platform(config()).await;
        let path = format!("/duix-openapi-v2/v1/getconcurrentNumber?appId={DEMO_APP_ID}");
        let (status, body) = platform.get(&path, None).await;
        assert_failure(status, &body, 401, "1005");
        let other_app = platform.token_for(OTHER_APP_ID, OTHER_APP_KEY, 60);
        let (status, body) = platform.get(&path, Some(&other_app)).await;
        assert_failure(status, &body, 401, "40001");
        let expiring = platform.token_for(DEMO_APP_ID, DEMO_APP_KEY, 10);
        platform.clock.advance_ms(10_000);
        let (status, body) = platform.get(&path, Some(&expiring)).await;
        assert_failure(status, &body, 401, "1006");
    }

    #[tokio::test]
    async fn a_missing_parameter_is_a_400_and_an_unknown_session_2002() {
        let platform = platform(config()).await;
        let token = platform.token();
        let (status, body) = platform
            .get("/duix-openapi-v2/v1/getconcurrentList", Some(&token))
            .await;
        assert_failure(status, &body, 400, "-1");
        assert!(body["message"].as_str().unwrap().contains("appId"));
        let (status, body) = platform
            .get("/duix-openapi-v2/v1/sessionStop", Some(&token))
            .await;
        assert_failure(status, &body, 400, "-1");
        let (status, body) = platform
            .get(
                "/duix-openapi-v2/sdk/v2/sessionStop?uuid=nope",
                Some(&token),
            )
            .await;
        assert_failure(status, &body, 404, "2002");
    }
}

mod machinery {
    use super::*;

    #[tokio::test]
    async fn unknown_routes_and_methods_get_the_envelope_and_a_request_id() {
        let platform = platform(config()).await;
        let response = platform
            .http
            .get(platform.url("/duix-openapi-v2/v1/nope"))
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("x-request-id"));
        let status = response.status().as_u16();
        assert_failure(status, &response.json().await.unwrap(), 404, "-1");
        let response = platform
            .http
            .post(platform.url(CHECK_SIG))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_failure(status, &response.json().await.unwrap(), 405, "-1");
    }

    #[tokio::test]
    async fn injected_faults_answer_their_code_under_the_route_key() {
        let platform = platform(config()).await;
        let rule = json!({"route": CHECK_SIG, "error_rate": 1.0, "error": {"status": 500, "code": "40002"}});
        let added = platform
            .http
            .post(platform.url("/__admin/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap();
        assert!(added.status().is_success());
        let (status, body) = platform
            .get(&format!("{CHECK_SIG}?sig={}", platform.token()), None)
            .await;
        assert_failure(status, &body, 500, "40002");
    }

    #[tokio::test]
    async fn webhooks_are_registered_listed_and_validated() {
        let platform = platform(config()).await;
        let (status, body) = platform
            .post(
                "/__duix/webhooks",
                json!({"dh_code": "d1", "url": "http://127.0.0.1:9/hook", "stream": true}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["webhooks"]["d1"],
            json!({"url": "http://127.0.0.1:9/hook", "stream": true})
        );
        let (status, body) = platform
            .post(
                "/__duix/webhooks",
                json!({"dh_code": "d1", "url": "ftp://x"}),
            )
            .await;
        assert_failure(status, &body, 400, "-1");
        let (status, body) = platform
            .post("/__duix/webhooks", json!({"url": "http://x"}))
            .await;
        assert_failure(status, &body, 400, "-1");
        let (status, body) = platform.get("/__duix/webhook-stats", None).await;
        assert_eq!((status, body), (200, json!({})));
    }
}

mod vendor_webhook {
    use super::*;

    fn request() -> Value {
        json!({"sid": "100003", "dh-code": "187265485019156480", "dh-question": "who are you?",
               "dh-conversation-id": "0513e935-041f-48e0-9330-652ef4194511", "dh-context": "{}"})
    }

    #[tokio::test]
    async fn it_answers_the_seeds_json_form_echoing_the_conversation() {
        let hook = vendor(VendorConfig::default()).await;
        let response = reqwest::Client::new()
            .post(format!("{}/duix-hook", hook.url()))
            .json(&request())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["code"].as_str(), body["success"].as_bool()),
            (Some("200"), Some(true))
        );
        assert_eq!(
            body["data"]["conversationId"],
            "0513e935-041f-48e0-9330-652ef4194511"
        );
        assert_eq!(body["data"]["question"], "who are you?");
        assert_eq!(body["data"]["answer"]["answer"], "You asked: who are you?");
        assert!(body["data"]["answer"]["operations"].is_object());
    }

    #[tokio::test]
    async fn it_streams_when_asked_for_event_stream() {
        let hook = vendor(VendorConfig::default()).await;
        let response = reqwest::Client::new()
            .post(hook.url())
            .header("accept", "text/event-stream")
            .json(&request())
            .send()
            .await
            .unwrap();
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let text = response.text().await.unwrap();
        let events: Vec<Value> = text
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        assert!(events.len() >= 2, "{text}");
        let joined: String = events
            .iter()
            .map(|e| e["answer"].as_str().unwrap())
            .collect();
        assert_eq!(joined, "You asked: who are you?");
        assert_eq!(events.last().unwrap()["isEnd"], true);
        assert!(events[..events.len() - 1]
            .iter()
            .all(|e| e["isEnd"] == false));
    }

    #[tokio::test]
    async fn malformed_bodies_get_400_naming_the_field() {
        let hook = vendor(VendorConfig::default()).await;
        let client = reqwest::Client::new();
        let mut missing = request();
        missing.as_object_mut().unwrap().remove("dh-question");
        let mut wrong_type = request();
        wrong_type["sid"] = json!(100003);
        for (body, field) in [(missing, json!("dh-question")), (wrong_type, json!("sid"))] {
            let response = client.post(hook.url()).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>().await.unwrap()["field"], field);
        }
        let response = client
            .post(hook.url())
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }

    #[tokio::test]
    async fn an_oversized_body_or_another_method_gets_the_vendors_json_not_a_bare_status() {
        let hook = vendor(VendorConfig::default()).await;
        let client = reqwest::Client::new();
        let mut huge = request();
        huge["dh-question"] = json!("x".repeat(3 * 1024 * 1024));
        let response = client.post(hook.url()).json(&huge).send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("a JSON refusal");
        assert_eq!(
            (body["code"].as_str(), body["success"].as_bool()),
            (Some("400"), Some(false))
        );
        let mut big = request();
        big["dh-question"] = json!("y".repeat(1024 * 1024));
        let response = client.post(hook.url()).json(&big).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let response = client.get(hook.url()).send().await.unwrap();
        assert_eq!(response.status(), 405);
        let body: Value = response.json().await.expect("a JSON refusal");
        assert_eq!(body["code"], "405");
    }

    #[tokio::test]
    async fn the_bearer_scheme_is_case_insensitive() {
        let hook = vendor(VendorConfig {
            shared_secret: Some("s3cret".into()),
            answer_delay_ms: 0,
        })
        .await;
        let client = reqwest::Client::new();
        for (authorization, want) in [
            ("bearer s3cret", 200),
            ("BEARER  s3cret", 200),
            ("bearer nope", 403),
        ] {
            let response = client
                .post(hook.url())
                .header("authorization", authorization)
                .json(&request())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), want, "{authorization}");
        }
    }

    #[tokio::test]
    async fn a_shared_secret_makes_missing_auth_401_and_wrong_auth_403() {
        let hook = vendor(VendorConfig {
            shared_secret: Some("s3cret".into()),
            answer_delay_ms: 0,
        })
        .await;
        let client = reqwest::Client::new();
        let status = |r: reqwest::Response| r.status().as_u16();
        let missing = client
            .post(hook.url())
            .json(&request())
            .send()
            .await
            .unwrap();
        assert_eq!(
            missing.headers()["www-authenticate"],
            "Bearer realm=\"duix-webhook\"",
            "a 401 names its scheme (RFC 6750)"
        );
        assert_eq!(status(missing), 401);
        assert_eq!(
            status(
                client
                    .post(hook.url())
                    .bearer_auth("nope")
                    .json(&request())
                    .send()
                    .await
                    .unwrap()
            ),
            403
        );
        assert_eq!(
            status(
                client
                    .post(hook.url())
                    .bearer_auth("s3cret")
                    .json(&request())
                    .send()
                    .await
                    .unwrap()
            ),
            200
        );
    }
}

mod properties {
    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the token, the answer is the envelope with 1005, 1006 or 40001, never a 5xx.
        #[test]
        fn random_tokens_get_a_token_error_never_a_5xx(token in any::<String>(), dotted in "[A-Za-z0-9_-]{0,20}\\.[A-Za-z0-9_=-]{0,40}\\.[A-Za-z0-9_-]{0,10}") {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let platform = platform(config()).await;
                for token in [token.as_str(), dotted.as_str()] {
                    let path = format!("/duix-openapi-v2/v1/getconcurrentNumber?appId={DEMO_APP_ID}");
                    let mut request = platform.http.get(platform.url(&path));
                    if let Ok(value) = reqwest::header::HeaderValue::from_str(token) {
                        request = request.header("token", value);
                    }
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(status, 401, "{body}");
                    assert!(["1005", "1006", "40001"].contains(&body["code"].as_str().unwrap()), "{body}");
                    let sig = url_encode(token);
                    let (status, body) = platform.get(&format!("{CHECK_SIG}?sig={sig}"), None).await;
                    assert_eq!(status, 401, "{body}");
                }
            });
        }
    }

    fn url_encode(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }
}
