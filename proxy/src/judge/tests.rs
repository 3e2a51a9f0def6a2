//! The rules on exchanges made by hand: each rule fails when, and only when, its own part of the
//! contract is broken.

use super::*;
use crate::exchange::{Answer, Exchange, Request};
use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::json;
use std::time::Duration;

const KEY: &str = "testid";
const SECRET: &str = "testsecret";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    map
}

fn exchange(platform: Platform, request: Request, status: u16, body: &Value) -> Exchange {
    Exchange {
        seq: 1,
        platform,
        started_at_ms: 0,
        request,
        answer: Ok(Answer {
            status,
            headers: headers(&[("content-type", "application/json")]),
            body: Bytes::from(body.to_string()),
            truncated: false,
        }),
        elapsed: Duration::from_millis(1),
    }
}

fn aui_post(route: &str, body: &Value) -> Request {
    Request {
        method: "POST".into(),
        path_and_query: format!("/api/v2/aiagent/{route}"),
        headers: headers(&[("content-type", "application/json")]),
        body: Bytes::from(body.to_string()),
    }
}

/// A V3-signed Alibaba call, as the SDKs send it, signed with `secret`.
fn alibaba_call(action: &str, params: &[(&str, &str)], secret: &str) -> Request {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signed = protocol::request::alibaba::signed(protocol::request::alibaba::Call {
        method: "POST",
        host: "127.0.0.1:18700",
        action,
        version: protocol::request::alibaba::api_version(action),
        params: &params,
        access_key_id: KEY,
        secret,
        date: "2025-07-18T06:39:08Z",
        nonce: "0123456789abcdef0123456789abcdef",
    });
    let mut map = headers(&[("host", "127.0.0.1:18700")]);
    for (name, value) in &signed.headers {
        map.append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    Request {
        method: "POST".into(),
        path_and_query: signed.path_and_query,
        headers: map,
        body: Bytes::new(),
    }
}

fn finding(verdict: &Verdict, rule: Rule) -> &Finding {
    &verdict
        .findings
        .iter()
        .find(|(r, _)| *r == rule)
        .expect("every rule has a finding")
        .1
}

fn broken(verdict: &Verdict) -> Vec<&'static str> {
    verdict.broken().map(|(rule, _, _)| rule.name()).collect()
}

const RTC_TOKEN_ANSWER: &str = "eyJhcHBpZCI6ImFiYyIsImNoYW5uZWxpZCI6ImFiY0NoYW5uZWwiLCJ1c2VyaWQiOiJhYmNVc2VyIiwibm9uY2UiOiIiLCJ0aW1lc3RhbXAiOjE2OTk0MjM2MzQsInRva2VuIjoiM2M5ZWU4ZDlmODczNGYwYjc1NjBlZDgwMjJhMDU5MDY1OTExMzk1NTgxOTcyNGZjOTM0NWFiOGVlZGY4NGYzMSJ9";

#[test]
fn a_valid_aui_exchange_keeps_every_rule_and_is_timed_under_its_route() {
    let request = aui_post(
        "getRtcAuthToken",
        &json!({"user_id": "abcUser", "channel_id": "abcChannel"}),
    );
    let answer = json!({"code": 200, "rtc_auth_token": RTC_TOKEN_ANSWER, "channel_id": "abcChannel", "timestamp": 1_699_423_634});
    let verdict = Judge::default().judge(&exchange(Platform::Aui, request, 200, &answer));
    assert_eq!(broken(&verdict), Vec::<&str>::new(), "{verdict:?}");
    assert_eq!(verdict.route, "aui POST /api/v2/aiagent/getRtcAuthToken");
    assert_eq!(
        verdict.answer_schema,
        Some(("aui/getRtcAuthToken.response".into(), true))
    );
}

#[test]
fn aui_errors_may_come_with_their_code_or_200_but_nothing_else() {
    let request = aui_post(
        "describeAIAgentInstance",
        &json!({"user_id": "u1", "ai_agent_instance_id": "i1"}),
    );
    let error = json!({"code": 404, "message": "未查询到"});
    for (status, expected) in [(404, vec![]), (200, vec![]), (500, vec!["status"])] {
        let verdict =
            Judge::default().judge(&exchange(Platform::Aui, request.clone(), status, &error));
        assert_eq!(broken(&verdict), expected, "HTTP {status}");
    }
}

#[test]
fn a_request_outside_its_schema_is_noted_when_accepted_and_broken_only_when_strict() {
    let request = aui_post("stopAIAgentInstance", &json!({"user_id": "u1"}));
    let refused = json!({"code": 400, "message": "ai_agent_instance_id is required"});
    let accepted =
        json!({"code": 200, "result": true, "request_id": "7B117AF5-2A16-412C-B127-000000000001"});
    let judge = Judge::default();
    let verdict = judge.judge(&exchange(Platform::Aui, request.clone(), 400, &refused));
    assert_eq!(finding(&verdict, Rule::RequestSchema), &Finding::Pass);
    let verdict = judge.judge(&exchange(Platform::Aui, request.clone(), 200, &accepted));
    assert!(verdict.passed(), "a lenient upstream breaks no contract");
    assert!(
        matches!(finding(&verdict, Rule::RequestSchema), Finding::Note(why) if why.contains("ai_agent_instance_id"))
    );
    let strict = Judge {
        strict_requests: true,
        ..Judge::default()
    };
    let verdict = strict.judge(&exchange(Platform::Aui, request, 400, &refused));
    assert_eq!(broken(&verdict), ["request-schema"]);
}

fn alibaba_error(code: &str) -> Value {
    json!({"RequestId": "7B117AF5-2A16-412C-B127-000000000001", "HostId": "ice.aliyuncs.com",
           "Code": code, "Message": "m", "Recommend": "https://api.aliyun.com/troubleshoot?q=x"})
}

#[test]
fn alibaba_codes_are_judged_against_the_catalogue_and_their_status() {
    let request = alibaba_call("DescribeAIAgentInstance", &[("InstanceId", "i1")], SECRET);
    let judge = Judge::default();
    for (code, status, expected) in [
        ("NotFound", 404, vec![]),
        ("NotFound", 400, vec!["status"]),
        ("MissingInstanceId", 400, vec![]),
        ("No.Such.Code", 400, vec!["code"]),
    ] {
        let e = exchange(
            Platform::Alibaba,
            request.clone(),
            status,
            &alibaba_error(code),
        );
        assert_eq!(broken(&judge.judge(&e)), expected, "{code} with {status}");
    }
}

#[test]
fn with_the_key_wrong_signatures_must_be_refused_and_right_ones_accepted() {
    let judge = Judge {
        alibaba_key: Some((KEY.into(), SECRET.into())),
        ..Judge::default()
    };
    let right = alibaba_call("DescribeAIAgentInstance", &[("InstanceId", "i1")], SECRET);
    let wrong = alibaba_call(
        "DescribeAIAgentInstance",
        &[("InstanceId", "i1")],
        "not-the-secret",
    );
    let refusal = alibaba_error("SignatureDoesNotMatch");
    let not_found = alibaba_error("NotFound");
    let cases = [
        (&wrong, 400, &refusal, Finding::Pass),
        (&right, 404, &not_found, Finding::Pass),
        (&wrong, 404, &not_found, Finding::Pass),
        (&right, 400, &refusal, fail("", "")),
    ];
    for (request, status, body, expected) in cases {
        let verdict = judge.judge(&exchange(Platform::Alibaba, request.clone(), status, body));
        let got = finding(&verdict, Rule::Signature);
        assert_eq!(
            std::mem::discriminant(got),
            std::mem::discriminant(&expected),
            "{got:?}"
        );
    }
    let verdict = Judge::default().judge(&exchange(Platform::Alibaba, wrong, 400, &refusal));
    assert_eq!(
        finding(&verdict, Rule::Signature),
        &Finding::Skip,
        "no key, no verdict"
    );
}

#[test]
fn alibaba_parameters_take_their_schema_types() {
    let request = alibaba_call(
        "GenerateAIAgentCall",
        &[
            ("AIAgentId", "a1"),
            ("Expire", "600"),
            ("AgentConfig", r#"{"a":1}"#),
        ],
        SECRET,
    );
    let operation =
        Judge::default().operation(&exchange(Platform::Alibaba, request, 200, &json!({})));
    let (schema, document) = operation.request.unwrap();
    assert_eq!(schema, "alibaba/GenerateAIAgentCall.request");
    let document = document.unwrap();
    assert_eq!(document["Expire"], json!(600));
    assert_eq!(document["AgentConfig"], json!({"a": 1}));
    assert_eq!(document["AIAgentId"], json!("a1"));
}

#[test]
fn unknown_routes_are_one_route_per_platform_and_method() {
    let request = Request {
        method: "GET".into(),
        path_and_query: "/api/v2/aiagent/whatever?x=1".into(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    };
    let e = exchange(
        Platform::Aui,
        request,
        404,
        &json!({"code": 404, "message": "No such route"}),
    );
    let verdict = Judge::default().judge(&e);
    assert_eq!(verdict.route, "aui GET unknown");
    assert!(verdict.passed(), "{verdict:?}");
}

#[test]
fn no_answer_breaks_answered_and_nothing_else_is_judged() {
    let mut e = exchange(Platform::Duix, aui_post("x", &json!({})), 200, &json!({}));
    e.answer = Err("the duix upstream did not answer: connection refused".into());
    let verdict = Judge::default().judge(&e);
    assert_eq!(broken(&verdict), ["answered"]);
    assert_eq!(verdict.findings.len(), 1);
}

#[test]
fn duix_codes_come_with_their_status_or_200() {
    let request = Request {
        method: "GET".into(),
        path_and_query: "/duix-openapi-v2/v1/getconcurrentNumber?appId=1234567890".into(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    };
    let error = json!({"code": "1006", "message": "token失效", "data": null, "success": false});
    for (status, expected) in [(401, vec![]), (200, vec![]), (404, vec!["status"])] {
        let verdict =
            Judge::default().judge(&exchange(Platform::Duix, request.clone(), status, &error));
        assert_eq!(broken(&verdict), expected, "HTTP {status}");
    }
}
