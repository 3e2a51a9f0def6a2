//! The DUIX session WebSocket over real sockets (tokio-tungstenite): sessions, counts, quota,
//! stops, the webhook in both answer forms, its timeout, the exact body it is sent, and malformed
//! frames. The protocol is mocks/DUIX-SESSION.md.

mod duix_support;

use duix_support::*;
use futures_util::SinkExt;
use mocks::duix::DEMO_APP_ID;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer as WireMock, ResponseTemplate};

fn list_path() -> String {
    format!("/duix-openapi-v2/v1/getconcurrentList?appId={DEMO_APP_ID}")
}

mod sessions {
    use super::*;

    #[tokio::test]
    async fn a_whole_session_starts_answers_from_the_vendor_counts_and_stops() {
        let (platform, _hook) = platform_with_vendor().await;
        let (mut ws, session_id) = platform.session(Some(DH_CODE)).await;
        assert_eq!(platform.counts().await, (1, 1));
        let (_, list) = platform.get(&list_path(), Some(&platform.token())).await;
        assert_eq!(list["data"][0]["sessionId"], session_id.as_str());
        assert_eq!(
            (
                list["data"][0]["conversationId"].as_str(),
                list["data"][0]["userId"].as_str()
            ),
            (Some(DH_CODE), Some("u-1"))
        );
        assert!(list["data"][0]["startTime"].as_i64().unwrap() > 1_600_000_000_000);

        send(&mut ws, json!({"type": "question", "text": "who are you?"})).await;
        let pieces = answer_pieces(&mut ws).await;
        assert_eq!(pieces.len(), 1, "the JSON form is one answer");
        assert_eq!(pieces[0]["text"], "You asked: who are you?");
        assert_eq!(pieces[0]["sessionId"], session_id.as_str());
        assert!(pieces[0]["latencyMs"].is_u64());

        send(&mut ws, json!({"type": "stop"})).await;
        expect_bye(&mut ws, "client-stop", 1000).await;
        // The session leaves the registry before `bye` is sent.
        assert_eq!(platform.counts().await, (0, 0));
    }

    #[tokio::test]
    async fn the_sse_form_streams_one_answer_per_event() {
        let (platform, hook) = platform_with_vendor().await;
        let url = format!("{}/duix-hook", hook.url());
        let (status, _) = platform
            .post(
                "/__duix/webhooks",
                json!({"dh_code": DH_CODE, "url": url, "stream": true}),
            )
            .await;
        assert_eq!(status, 200);
        let (mut ws, _) = platform.session(Some(DH_CODE)).await;
        send(
            &mut ws,
            json!({"type": "question", "text": "who are you today?"}),
        )
        .await;
        let pieces = answer_pieces(&mut ws).await;
        assert!(pieces.len() >= 2, "{pieces:?}");
        let text: String = pieces.iter().map(|p| p["text"].as_str().unwrap()).collect();
        assert_eq!(text, "You asked: who are you today?");
        let (_, stats) = platform.get("/__duix/webhook-stats", None).await;
        assert_eq!(stats[DH_CODE]["answered"], 1);
    }

    #[tokio::test]
    async fn a_start_past_the_quota_is_1009_and_opens_nothing() {
        let platform = platform(config()).await;
        let (_a, _) = platform.session(None).await;
        let (_b, _) = platform.session(None).await;
        let mut third = platform.connect().await;
        send(&mut third, json!({"type": "start"})).await;
        let error = next_json(&mut third).await;
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some("1009"))
        );
        expect_bye(&mut third, "start-refused", 4009).await;
        assert_eq!(platform.counts().await, (2, 2));
    }

    #[tokio::test]
    async fn other_apps_sessions_count_in_the_total_only() {
        let platform = platform(config()).await;
        let (_mine, _) = platform.session(None).await;
        let token = platform.token_for(OTHER_APP_ID, OTHER_APP_KEY, 600);
        let (mut theirs, _) = connect_async(platform.ws_service(&token).await)
            .await
            .unwrap();
        send(&mut theirs, json!({"type": "start"})).await;
        assert_eq!(next_json(&mut theirs).await["type"], "start-complete");
        assert_eq!(platform.counts().await, (1, 2));
    }

    #[tokio::test]
    async fn session_stop_says_bye_and_closes_with_the_reason() {
        let platform = platform(config()).await;
        let (mut ws, session_id) = platform.session(None).await;
        let (status, body) = platform
            .get(
                &format!("/duix-openapi-v2/v1/sessionStop?uuid={session_id}"),
                Some(&platform.token()),
            )
            .await;
        assert_eq!(
            (status, body["success"].as_bool()),
            (200, Some(true)),
            "{body}"
        );
        expect_bye(&mut ws, "session-stop", 4000).await;
        assert_eq!(platform.counts().await, (0, 0));
        let (status, _) = platform
            .get(
                &format!("/duix-openapi-v2/v1/sessionStop?uuid={session_id}"),
                Some(&platform.token()),
            )
            .await;
        assert_eq!(status, 404);
    }

    #[tokio::test]
    async fn another_apps_token_cannot_stop_a_session() {
        let platform = platform(config()).await;
        let (_ws, session_id) = platform.session(None).await;
        let token = platform.token_for(OTHER_APP_ID, OTHER_APP_KEY, 600);
        let (status, body) = platform
            .get(
                &format!("/duix-openapi-v2/v1/sessionStop?uuid={session_id}"),
                Some(&token),
            )
            .await;
        assert_eq!((status, body["code"].as_str()), (404, Some("2002")));
        assert_eq!(platform.counts().await, (1, 1));
    }

    #[tokio::test]
    async fn distroy_call_sessions_closes_every_session_of_the_app() {
        let platform = platform(config()).await;
        let (mut a, _) = platform.session(None).await;
        let (mut b, _) = platform.session(None).await;
        let path =
            format!("/duix-openapi-v2/sdk/v2/distroyCallSessionsByAppId?appId={DEMO_APP_ID}");
        let (status, body) = platform.get(&path, Some(&platform.token())).await;
        assert_eq!((status, &body["data"]), (200, &json!("")));
        expect_bye(&mut a, "destroyed", 4001).await;
        expect_bye(&mut b, "destroyed", 4001).await;
        assert_eq!(platform.counts().await, (0, 0));
    }

    #[tokio::test]
    async fn admin_reset_closes_sessions() {
        let platform = platform(config()).await;
        let (mut ws, _) = platform.session(None).await;
        let reset = platform
            .http
            .post(platform.url("/__admin/reset"))
            .send()
            .await
            .unwrap();
        assert!(reset.status().is_success());
        expect_bye(&mut ws, "reset", 4002).await;
    }

    #[tokio::test]
    async fn the_session_ends_when_the_sig_expires_on_the_virtual_clock() {
        let platform = platform(config()).await;
        let (mut ws, _) = platform.session(None).await;
        platform.clock.advance_ms(1801 * 1000);
        send(&mut ws, json!({"type": "question", "text": "still there?"})).await;
        assert_eq!(next_json(&mut ws).await["code"], "1006");
        expect_bye(&mut ws, "token-expired", 4006).await;
    }
}

mod webhook {
    use super::*;

    fn seed_answer(conversation: &str, text: &str) -> Value {
        json!({"code": "200", "msg": "ok", "success": true,
               "data": {"conversationId": conversation, "answer": {"answer": text}}})
    }

    async fn platform_with(hook: &WireMock, timeout_ms: u64) -> duix_support::Platform {
        let mut config = config();
        config
            .webhooks
            .insert(DH_CODE.into(), format!("{}/hook", hook.uri()));
        config.webhook_timeout_ms = timeout_ms;
        platform(config).await
    }

    #[tokio::test]
    async fn the_platform_sends_the_seeds_exact_body() {
        let hook = WireMock::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(seed_answer("x", "I am a digital human")),
            )
            .mount(&hook)
            .await;
        let platform = platform_with(&hook, 5_000).await;
        let (mut ws, session_id) = platform.session(Some(DH_CODE)).await;
        send(&mut ws, json!({"type": "question", "text": "who are you?"})).await;
        assert_eq!(
            answer_pieces(&mut ws).await[0]["text"],
            "I am a digital human"
        );
        send(&mut ws, json!({"type": "question", "text": "and then?"})).await;
        answer_pieces(&mut ws).await;

        let received = hook.received_requests().await.unwrap();
        let first: Value = serde_json::from_slice(&received[0].body).unwrap();
        assert_eq!(
            first,
            json!({"sid": "100003", "dh-code": DH_CODE, "dh-question": "who are you?",
                                 "dh-conversation-id": session_id, "dh-context": "{}"})
        );
        assert_eq!(received[0].headers["content-type"], "application/json");
        let second: Value = serde_json::from_slice(&received[1].body).unwrap();
        let context: Value = serde_json::from_str(second["dh-context"].as_str().unwrap()).unwrap();
        assert_eq!(
            context,
            json!({"turns": [{"question": "who are you?", "answer": "I am a digital human"}]})
        );
    }

    #[tokio::test]
    async fn a_stringified_answer_is_read_too() {
        let hook = WireMock::start().await;
        let body = json!({"code": "200", "success": true, "data": {"conversationId": "x", "answer": "{\"answer\":\"plain\"}"}});
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&hook)
            .await;
        let platform = platform_with(&hook, 5_000).await;
        let (mut ws, _) = platform.session(Some(DH_CODE)).await;
        send(&mut ws, json!({"type": "question", "text": "q"})).await;
        assert_eq!(answer_pieces(&mut ws).await[0]["text"], "plain");
    }

    #[tokio::test]
    async fn a_timeout_is_40002_and_the_session_goes_on() {
        let hook = WireMock::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(seed_answer("x", "late"))
                    .set_delay(Duration::from_millis(1500)),
            )
            .mount(&hook)
            .await;
        let platform = platform_with(&hook, 200).await;
        let (mut ws, _) = platform.session(Some(DH_CODE)).await;
        send(&mut ws, json!({"type": "question", "text": "slow?"})).await;
        let error = next_json(&mut ws).await;
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some("40002")),
            "{error}"
        );
        assert!(
            error["message"].as_str().unwrap().contains("200 ms"),
            "{error}"
        );

        hook.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(seed_answer("x", "fast")))
            .mount(&hook)
            .await;
        send(&mut ws, json!({"type": "question", "text": "fast?"})).await;
        assert_eq!(answer_pieces(&mut ws).await[0]["text"], "fast");
        let (_, stats) = platform.get("/__duix/webhook-stats", None).await;
        assert_eq!(
            (
                stats[DH_CODE]["timed_out"].as_u64(),
                stats[DH_CODE]["answered"].as_u64()
            ),
            (Some(1), Some(1))
        );
    }

    #[tokio::test]
    async fn a_failing_webhook_is_40002_naming_the_status() {
        let hook = WireMock::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&hook)
            .await;
        let platform = platform_with(&hook, 5_000).await;
        let (mut ws, _) = platform.session(Some(DH_CODE)).await;
        send(&mut ws, json!({"type": "question", "text": "q"})).await;
        let error = next_json(&mut ws).await;
        assert_eq!(error["code"], "40002");
        assert!(
            error["message"].as_str().unwrap().contains("503"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_bearer_registered_for_a_dh_code_passes_the_vendors_auth() {
        let hook = vendor(mocks::duix::vendor::VendorConfig {
            shared_secret: Some("s3cret".into()),
            answer_delay_ms: 0,
        })
        .await;
        let platform = platform(config()).await;
        let (mut ws, _) = {
            let register = json!({"dh_code": "secured", "url": hook.url(), "bearer": "s3cret"});
            assert_eq!(platform.post("/__duix/webhooks", register).await.0, 200);
            platform.session(Some("secured")).await
        };
        send(&mut ws, json!({"type": "question", "text": "q"})).await;
        assert_eq!(answer_pieces(&mut ws).await[0]["text"], "You asked: q");
        let (_, listed) = platform.get("/__duix/webhooks", None).await;
        assert!(
            !listed.to_string().contains("s3cret"),
            "the bearer is never shown back"
        );
    }

    #[tokio::test]
    async fn dialogues_without_a_webhook_are_1007() {
        let platform = platform(config()).await;
        let (mut ws, _) = platform.session(None).await;
        send(&mut ws, json!({"type": "question", "text": "q"})).await;
        assert_eq!(next_json(&mut ws).await["code"], "1007");
        send(
            &mut ws,
            json!({"type": "question", "text": "q", "conversationId": "unknown"}),
        )
        .await;
        assert_eq!(next_json(&mut ws).await["code"], "1007");
        let mut other = platform.connect().await;
        send(
            &mut other,
            json!({"type": "start", "conversationId": "unknown"}),
        )
        .await;
        assert_eq!(next_json(&mut other).await["code"], "1007");
        expect_bye(&mut other, "start-refused", 4009).await;
    }
}

mod malformed {
    use super::*;

    #[tokio::test]
    async fn bad_frames_get_an_error_and_the_session_stays_usable() {
        let (platform, _hook) = platform_with_vendor().await;
        let mut ws = platform.connect().await;
        send(&mut ws, json!({"type": "question", "text": "too early"})).await;
        assert_eq!(next_json(&mut ws).await["code"], "2002");
        for frame in [
            Message::text("not json"),
            Message::text(r#"{"type":"dance"}"#),
            Message::text(r#"{"type":"start","extra":1}"#),
            Message::text(r#"{"type":"question"}"#),
            Message::text("[]"),
            Message::text("x".repeat(20_000)),
            Message::binary(vec![0u8, 1, 2]),
        ] {
            ws.send(frame).await.unwrap();
            let error = next_json(&mut ws).await;
            assert_eq!(
                (error["type"].as_str(), error["code"].as_str()),
                (Some("error"), Some("-1")),
                "{error}"
            );
        }
        send(&mut ws, json!({"type": "start", "conversationId": DH_CODE})).await;
        assert_eq!(next_json(&mut ws).await["type"], "start-complete");
        send(&mut ws, json!({"type": "start"})).await;
        assert_eq!(next_json(&mut ws).await["code"], "-1");
        send(&mut ws, json!({"type": "question", "text": ""})).await;
        assert_eq!(next_json(&mut ws).await["code"], "-1");
        send(&mut ws, json!({"type": "question", "text": "still fine?"})).await;
        assert_eq!(
            answer_pieces(&mut ws).await[0]["text"],
            "You asked: still fine?"
        );
    }

    #[tokio::test]
    async fn a_refused_sig_is_told_then_closed() {
        let platform = platform(config()).await;
        let base = platform
            .url("/duix-openapi-v2/ws")
            .replace("http://", "ws://");
        for (query, code) in [("", "1005"), ("?sig=garbage", "1006")] {
            let (mut ws, _) = connect_async(format!("{base}{query}")).await.unwrap();
            let error = next_json(&mut ws).await;
            assert_eq!(error["code"], code, "{error}");
            expect_bye(&mut ws, "token-invalid", 4005).await;
        }
        let other_key = platform.token_for(DEMO_APP_ID, "wrong", 60);
        let (mut ws, _) = connect_async(format!("{base}?sig={other_key}"))
            .await
            .unwrap();
        assert_eq!(next_json(&mut ws).await["code"], "40001");
    }

    #[tokio::test]
    async fn a_plain_get_on_the_socket_route_is_a_400_envelope() {
        let platform = platform(config()).await;
        let (status, body) = platform
            .get(
                &format!("/duix-openapi-v2/ws?sig={}", platform.token()),
                None,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str(), body["success"].as_bool()),
            (400, Some("-1"), Some(false))
        );
    }

    #[tokio::test]
    async fn text_that_is_not_utf8_gets_an_error_and_a_1007_close_not_a_silent_drop() {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        let platform = platform(config()).await;
        let (mut ws, _) = platform.session(None).await;
        let invalid = Frame::message(&b"{\"type\":\"\xff\"}"[..], OpCode::Data(Data::Text), true);
        ws.send(Message::Frame(invalid)).await.unwrap();
        let error = next_json(&mut ws).await;
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some("-1"))
        );
        expect_bye(&mut ws, "bad-frame", 1007).await;
        assert_eq!(platform.counts().await, (0, 0));
    }

    #[tokio::test]
    async fn a_client_close_frame_gets_the_closing_handshake_reply() {
        let platform = platform(config()).await;
        for started in [false, true] {
            let mut ws = if started {
                platform.session(None).await.0
            } else {
                platform.connect().await
            };
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "done".into(),
            };
            ws.send(Message::Close(Some(frame))).await.unwrap();
            match next_event(&mut ws).await {
                Event::Close(Some((code, _))) => assert_eq!(code, 1000),
                other => panic!("expected the server's close frame, got {other:?}"),
            }
        }
        assert_eq!(platform.counts().await, (0, 0));
    }

    #[tokio::test]
    async fn closing_the_socket_frees_the_session() {
        let platform = platform(config()).await;
        let (mut ws, _) = platform.session(None).await;
        ws.close(None).await.unwrap();
        for _ in 0..100 {
            if platform.counts().await == (0, 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the session was not freed");
    }
}
