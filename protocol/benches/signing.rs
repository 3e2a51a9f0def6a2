//! Per-request signing and token costs, measured on realistic inputs.
//!
//! Every request the Alibaba mock receives is parsed ([`encoding::parse_query`]) and verified
//! ([`v1::verify`], or [`v3::canonical_request`] then [`v3::verify`]) before a handler runs, every
//! DUIX management call verifies its `token` header ([`duix::verify_token`]), and the AUI app
//! server mints an ARTC token per `getRtcAuthToken` ([`aui::rtc_token`]) that the Alibaba mock
//! checks again ([`aui::verify_rtc_token`]). These functions sit on the request path of the
//! mocks and of `agentproof check`, so they are benched one by one here.
//!
//! The request is StartAgent as the Python SDK sends it (PROTOCOLS.md §1.3): RtcConfig and
//! VoiceChatConfig as JSON strings in the query; for V3 the nine headers the SDK signs.
//!
//! ```sh
//! cargo bench -p protocol --bench signing -- --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use protocol::{
    alibaba::{encoding, v1, v3},
    aui, duix,
};

const ACCESS_KEY_ID: &str = "testid";
const SECRET: &str = "testsecret";

/// The captured StartAgent params of PROTOCOLS.md §1.3, unencoded.
fn start_agent_params() -> Vec<(String, String)> {
    [
        ("AppId", "app1"),
        ("ChannelId", "ch1"),
        ("RtcConfig", r#"{"TargetUserIds":["u1"],"UserId":"agent1"}"#),
        ("TaskId", "t1"),
        ("VoiceChatConfig", r#"{"Greeting":"hi"}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The same request in the RPC (V1) form: common params merged into the signed set.
fn v1_params() -> Vec<(String, String)> {
    let mut params = start_agent_params();
    params.extend(
        [
            ("AccessKeyId", ACCESS_KEY_ID),
            ("Action", "StartAgent"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", v1::SIGNATURE_METHOD),
            ("SignatureNonce", "3156853299f313e23d1673dc12e1703d"),
            ("SignatureVersion", v1::SIGNATURE_VERSION),
            ("Timestamp", "2025-07-18T06:39:08Z"),
            ("Version", "2018-01-11"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    params
}

/// The request headers the V3 SDK sends, all signed (PROTOCOLS.md §1.3), `authorization` aside.
fn v3_headers() -> Vec<(String, String)> {
    [
        ("host", "rtc.aliyuncs.com"),
        ("accept", "application/json"),
        (
            "user-agent",
            "AlibabaCloud (Linux; x86_64) Python/3.11.2 Core/0.3.3 TeaDSL/1",
        ),
        ("x-acs-action", "StartAgent"),
        ("x-acs-version", "2018-01-11"),
        ("x-acs-date", "2025-07-18T06:39:08Z"),
        ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("x-acs-content-sha256", v3::EMPTY_PAYLOAD_SHA256),
        ("x-acs-credentials-provider", "static_ak"),
        ("content-length", "0"),
        ("connection", "keep-alive"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `SignedHeaders` of the captured `Authorization` header.
fn v3_signed_headers() -> Vec<String> {
    "accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version"
        .split(';')
        .map(str::to_string)
        .collect()
}

fn alibaba(c: &mut Criterion) {
    let params = v1_params();
    let signature = v1::sign("POST", &params, SECRET);
    assert!(v1::verify("POST", &params, SECRET, &signature).is_ok());
    c.bench_function("alibaba/v1/verify StartAgent", |b| {
        b.iter(|| v1::verify("POST", black_box(&params), SECRET, black_box(&signature)))
    });

    let params = start_agent_params();
    let headers = v3_headers();
    let signed_headers = v3_signed_headers();
    let build = |params: &[(String, String)]| {
        v3::canonical_request(
            "POST",
            "/",
            params,
            &headers,
            &signed_headers,
            v3::EMPTY_PAYLOAD_SHA256,
        )
        .expect("every signed header is present")
    };
    let canonical = build(&params);
    let signature = v3::sign(&canonical, SECRET);
    assert!(v3::verify(&canonical, SECRET, &signature).is_ok());
    c.bench_function("alibaba/v3/canonical_request StartAgent", |b| {
        b.iter(|| build(black_box(&params)))
    });
    c.bench_function("alibaba/v3/verify StartAgent", |b| {
        b.iter(|| v3::verify(black_box(&canonical), SECRET, black_box(&signature)))
    });

    // The raw query as the SDK puts it on the wire.
    let query = v3::canonical_query(&params);
    assert_eq!(
        query,
        "AppId=app1&ChannelId=ch1&RtcConfig=%7B%22TargetUserIds%22%3A%5B%22u1%22%5D%2C%22UserId%22%3A%22agent1%22%7D&TaskId=t1&VoiceChatConfig=%7B%22Greeting%22%3A%22hi%22%7D"
    );
    assert_eq!(encoding::parse_query(&query).as_deref(), Ok(&params[..]));
    c.bench_function("alibaba/encoding/parse_query StartAgent", |b| {
        b.iter(|| encoding::parse_query(black_box(&query)))
    });
}

fn duix(c: &mut Criterion) {
    // PROTOCOLS.md §5.1's locally computed example; verified half-way through its life.
    let token = duix::sign_token("1234567890", "test-app-key", 1_700_000_000, 1_700_001_800);
    let now = 1_700_000_900;
    assert!(duix::verify_token(&token, "test-app-key", now).is_ok());
    c.bench_function("duix/verify_token", |b| {
        b.iter(|| duix::verify_token(black_box(&token), "test-app-key", now))
    });
}

fn aui(c: &mut Criterion) {
    // PROTOCOLS.md §4.1's official vector, with a 32-char generated channel id.
    let (app_id, app_key, channel, user) = (
        "abc",
        "abckey",
        "8f14e45fceea167a5a36dedd4bea2543",
        "abcUser",
    );
    let expiry = 1_699_423_634;
    c.bench_function("aui/rtc_token", |b| {
        b.iter(|| {
            aui::rtc_token(
                black_box(app_id),
                app_key,
                black_box(channel),
                black_box(user),
                expiry,
            )
        })
    });

    let token = aui::rtc_token(app_id, app_key, channel, user, expiry);
    let now = expiry - aui::CLIENT_TOKEN_TTL_SECS / 2;
    assert!(aui::verify_rtc_token(&token, Some(app_id), app_key, now).is_ok());
    c.bench_function("aui/verify_rtc_token", |b| {
        b.iter(|| aui::verify_rtc_token(black_box(&token), Some(app_id), app_key, now))
    });
}

criterion_group!(benches, alibaba, duix, aui);
criterion_main!(benches);
